//! The `web_login` example's router, served on 127.0.0.1 and driven like a browser against the
//! in-process sandbox (consent through `Sandbox::approve`, no browser): `/login` → Askara →
//! `/callback` → `/me` → `/logout`. Keeps the example from rotting.
// Test code: unwraps are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/web_login/app.rs"]
mod app;

use std::sync::Arc;

use askara_sdk::{Askara, FileStore};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sandbox::{Provider, Sandbox};

/// The user the sandbox's consent page acts for.
const SANDBOX_USER: &str = "usr_8f2b1c9d";
const TOKEN_ROUTE: &str = "/askara/oauth2/token";

struct Harness {
    sb: Sandbox,
    askara: Askara,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Harness {
    let sb = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // As the example does: the app's own callback, registered with the sandbox.
    let redirect_uri = format!("{base}/callback");
    sb.register_askara_redirect_uri(&redirect_uri).unwrap();
    let creds = &sb.credentials().askara;
    let askara = Askara::builder(
        creds.client_id.as_str(),
        creds.client_secret.clone(),
        redirect_uri.as_str(),
    )
    .base_url(sb.url(Provider::Askara))
    .store(Arc::new(FileStore::new(dir.path().join("tokens"))))
    .build()
    .unwrap();
    let router = app::app(app::AppState::new(askara.clone(), false));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Harness {
        sb,
        askara,
        base,
        http,
        _dir: dir,
    }
}

impl Harness {
    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// `/login`: the redirect to Askara and the session cookie (`sid=…`).
    async fn login(&self) -> (String, String) {
        let resp = self.get("/login", None).await;
        assert_eq!(resp.status(), StatusCode::FOUND);
        let set_cookie = header(&resp, SET_COOKIE);
        let location = header(&resp, LOCATION);
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        (location, cookie)
    }
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    resp.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn query_of(url: &str) -> &str {
    url.split_once('?').map(|(_, q)| q).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_callback_me_then_logout_makes_me_401() {
    let h = start().await;
    assert_eq!(h.get("/me", None).await.status(), StatusCode::UNAUTHORIZED);

    let resp = h.get("/login", None).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let set_cookie = header(&resp, SET_COOKIE);
    // The session id travels only in a cookie scripts cannot read, sent on the top-level
    // navigation back from Askara (Lax), not Secure on plain-http loopback.
    assert!(set_cookie.starts_with("sid="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(cookie.len(), "sid=".len() + 64, "256-bit hex session id");
    let location = header(&resp, LOCATION);
    assert!(
        location.starts_with(&format!("{}/authorize?", h.sb.url(Provider::Askara))),
        "{location}"
    );

    let callback = h.sb.approve(&location).await.unwrap();
    // The browser would now be sent to the app's own callback route.
    assert!(
        callback.starts_with(&format!("{}/callback?code=", h.base)),
        "{callback}"
    );
    let resp = h
        .get(&format!("/callback?{}", query_of(&callback)), Some(&cookie))
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&resp, LOCATION), "/me");
    assert_eq!(h.sb.calls(TOKEN_ROUTE), 1);

    let resp = h.get("/me", Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let profile: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(profile["id"], SANDBOX_USER);
    assert!(profile["email"].as_str().unwrap().contains('@'));

    // The grant is kept under the user's Askara id, the login's own key is gone.
    assert!(h.askara.restore(SANDBOX_USER).await.unwrap().is_some());
    let login_key = format!("login-{}", &cookie["sid=".len()..]);
    assert!(h.askara.restore(&login_key).await.unwrap().is_none());

    // The same callback again: the pending authorization was spent (S1), nothing is sent.
    let resp = h
        .get(&format!("/callback?{}", query_of(&callback)), Some(&cookie))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.sb.calls(TOKEN_ROUTE), 1);

    let resp = h
        .http
        .post(format!("{}/logout", h.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(header(&resp, SET_COOKIE).contains("Max-Age=0"));
    assert_eq!(
        h.get("/me", Some(&cookie)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(h.askara.restore(SANDBOX_USER).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn s1_a_callback_needs_its_own_session_and_a_denial_is_403() {
    let h = start().await;
    let (location, cookie) = h.login().await;
    let callback = h.sb.approve(&location).await.unwrap();
    let path = format!("/callback?{}", query_of(&callback));

    // Without the session cookie, or with another browser's session, the callback is refused
    // before any token request.
    assert_eq!(h.get(&path, None).await.status(), StatusCode::BAD_REQUEST);
    let (_, other_cookie) = h.login().await;
    let resp = h.get(&path, Some(&other_cookie)).await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert!(resp.text().await.unwrap().contains("state"));
    assert_eq!(h.sb.calls(TOKEN_ROUTE), 0);
    assert_eq!(
        h.get("/me", Some(&other_cookie)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The first session still completes with its own callback.
    let resp = h.get(&path, Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(h.get("/me", Some(&cookie)).await.status(), StatusCode::OK);

    // Deny on the consent page: 403, no token request, not logged in.
    let (location, cookie) = h.login().await;
    let denied = h.sb.deny(&location).await.unwrap();
    let resp = h
        .get(&format!("/callback?{}", query_of(&denied)), Some(&cookie))
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("denied"));
    assert_eq!(h.sb.calls(TOKEN_ROUTE), 1);
    assert_eq!(
        h.get("/me", Some(&cookie)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
