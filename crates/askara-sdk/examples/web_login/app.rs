//! The web application of the `web_login` example: its router and handlers, apart from `main`
//! so the integration test (`tests/web_login.rs`) drives the same code.
//!
//! - `GET /login` starts an authorization: a fresh session (random id in an `HttpOnly`,
//!   `SameSite=Lax` cookie, `Secure` over https) keeps the `PendingAuthorization` on the server,
//!   and the browser goes to Askara.
//! - `GET /callback` completes it (state checked against the session's pending authorization,
//!   code exchanged once) and keeps the grant under the user's Askara id.
//! - `GET /me` calls Askara's API for the logged-in user (tokens refresh themselves).
//! - `POST /logout` forgets the grant and the session.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use askara_sdk::{Askara, Error, PendingAuthorization};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};

/// The session cookie's name.
pub const COOKIE: &str = "sid";
/// How long a session may wait between `/login` and `/callback`.
const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// What every handler shares: one Askara client (one token manager, one connection pool, one
/// refresh in flight per user) and the server-side sessions.
pub struct AppState {
    askara: Askara,
    sessions: Mutex<HashMap<String, Session>>,
    secure_cookies: bool,
}

/// One browser's session. The pending authorization holds the `state` (and would hold a PKCE
/// verifier): it stays on the server, the browser only gets the random session id.
struct Session {
    pending: Option<PendingAuthorization>,
    user: Option<String>,
    started: Instant,
}

impl AppState {
    /// The state of an app served at an `https` address when `secure_cookies` is true (the
    /// cookie then carries `Secure`).
    pub fn new(askara: Askara, secure_cookies: bool) -> Arc<Self> {
        Arc::new(Self {
            askara,
            sessions: Mutex::new(HashMap::new()),
            secure_cookies,
        })
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic elsewhere while holding the lock leaves the map usable.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn user_of(&self, headers: &HeaderMap) -> Option<String> {
        let sid = session_id(headers)?;
        self.sessions().get(&sid)?.user.clone()
    }

    fn cookie(&self, value: &str, max_age: Option<u32>) -> HeaderValue {
        // Lax, not Strict: the callback is a top-level navigation coming from Askara's site,
        // and a Strict cookie would not be sent with it.
        let mut cookie = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax");
        if self.secure_cookies {
            cookie.push_str("; Secure");
        }
        if let Some(age) = max_age {
            let _ = write!(cookie, "; Max-Age={age}");
        }
        // Hex ids and fixed attributes only: always a valid header value.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The application's routes over `state`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .with_state(state)
}

async fn index(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Html<String> {
    let who = match st.user_of(&headers) {
        Some(user) => format!("Logged in as Askara user <code>{}</code>.", escape(&user)),
        None => "Not logged in.".to_owned(),
    };
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Askara web login</title>\
         <p>{who}</p><p><a href=\"/login\">Log in with Askara</a> · <a href=\"/me\">/me</a></p>\
         <form method=post action=\"/logout\"><button>Log out</button></form>"
    ))
}

async fn login(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (url, pending) = match st.askara.authorize_url() {
        Ok(pair) => pair,
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    // A new id for every login: an id planted in the browser before (session fixation) never
    // becomes a logged-in session.
    let sid = new_session_id();
    {
        let mut sessions = st.sessions();
        if let Some(old) = session_id(&headers) {
            sessions.remove(&old);
        }
        sessions.retain(|_, s| s.user.is_some() || s.started.elapsed() < LOGIN_TTL);
        sessions.insert(
            sid.clone(),
            Session {
                pending: Some(pending),
                user: None,
                started: Instant::now(),
            },
        );
    }
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, url.as_str())]).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, st.cookie(&sid, None));
    resp
}

async fn callback(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(sid) = session_id(&headers) else {
        return text(StatusCode::BAD_REQUEST, "no session: start at /login");
    };
    // Taken out: a pending authorization completes once, whatever the outcome.
    let pending = st.sessions().get_mut(&sid).and_then(|s| s.pending.take());
    let Some(pending) = pending else {
        return text(
            StatusCode::BAD_REQUEST,
            "no login in progress: start at /login",
        );
    };
    match finish_login(&st.askara, &sid, pending, query.as_deref().unwrap_or("")).await {
        Ok(user) => {
            if let Some(session) = st.sessions().get_mut(&sid) {
                session.user = Some(user);
            }
            (StatusCode::SEE_OTHER, [(header::LOCATION, "/me")]).into_response()
        }
        Err(e) if e.is_access_denied() => failure(StatusCode::FORBIDDEN, &e),
        Err(e) => failure(StatusCode::BAD_GATEWAY, &e),
    }
}

/// Checks the callback, exchanges the code and keeps the tokens under the user's Askara id.
async fn finish_login(
    askara: &Askara,
    sid: &str,
    pending: PendingAuthorization,
    query: &str,
) -> Result<String, Error> {
    // Who the user is, Askara says only after the exchange: the tokens land under a key of
    // this login first, then move to the user's own key, so two browsers of one user share
    // one grant (and one refresh-token rotation).
    let login_key = format!("login-{sid}");
    let client = askara.complete(&login_key, pending, query).await?;
    let user = match client.profile().await?.id {
        Some(id) => id,
        None => client.claims().await?.subject.ok_or(Error::NotAJwt)?,
    };
    if let Some(token) = client.token().await? {
        askara.token_manager().insert(&user, token).await?;
    }
    client.forget().await?;
    Ok(user)
}

async fn me(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(user) = st.user_of(&headers) else {
        return text(StatusCode::UNAUTHORIZED, "not logged in: start at /login");
    };
    let profile = match st.askara.client(&user) {
        Ok(client) => client.profile().await,
        Err(e) => Err(e),
    };
    match profile {
        Ok(profile) => Json(profile).into_response(),
        // Consent withdrawn, refresh token dead, or logged out in another browser.
        Err(e) if e.needs_authorization() => failure(StatusCode::UNAUTHORIZED, &e),
        Err(e) => failure(StatusCode::BAD_GATEWAY, &e),
    }
}

async fn logout(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let removed = session_id(&headers).and_then(|sid| st.sessions().remove(&sid));
    if let Some(user) = removed.and_then(|s| s.user) {
        let forgotten = match st.askara.client(&user) {
            Ok(client) => client.forget().await,
            Err(e) => Err(e),
        };
        if let Err(e) = forgotten {
            return failure(StatusCode::INTERNAL_SERVER_ERROR, &e);
        }
    }
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, st.cookie("", Some(0)));
    resp
}

/// The session id from the `Cookie` header(s), if any.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// 256 bits from a CSPRNG (the thread RNG, seeded by the OS), as hex.
fn new_session_id() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn text(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// The SDK's errors never hold a token, code or secret, so their text can be shown.
fn failure(status: StatusCode, e: &Error) -> Response {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    text(status, &message)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
