//! The server: the router ([`app`]), the sandbox controls under `/_sandbox`, and the
//! [`Sandbox`] handle.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::credentials::Credentials;
use crate::error::SandboxError;
use crate::faults::{Fault, FaultRequest, track};
use crate::oauth::json as json_response;
use crate::provider::Provider;
use crate::state::{AppState, lock};
use crate::{askara, browser, konpro, konvert, kustomer};

/// The whole router: provider routes (counted, faultable) plus the controls.
pub(crate) fn app(state: AppState) -> Router {
    let providers = Router::new()
        .merge(konpro::routes())
        .merge(askara::routes())
        .merge(kustomer::routes())
        .merge(konvert::routes())
        .route_layer(from_fn_with_state(state.clone(), track));
    let controls = Router::new()
        .route("/_sandbox/credentials", get(credentials))
        .route("/_sandbox/calls", get(calls).delete(reset_calls))
        .route("/_sandbox/faults", post(add_fault).delete(clear_faults))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route("/_sandbox/settings", post(settings))
        .route("/_sandbox/konvert/distinct_jwts", get(distinct_jwts))
        .route("/_sandbox/reuse_detections", get(reuse_detections))
        .route(
            "/kustomer/_sandbox/apps/{name}/install",
            post(kustomer::install_route),
        )
        .route(
            "/askara/_sandbox/redirect_uris",
            post(askara::register_redirect_route),
        );
    providers
        .merge(controls)
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": "not_found", "error_description": "no such route in the sandbox" }),
    )
}

fn bad(msg: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": "invalid_request", "error_description": msg }),
    )
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("invalid JSON body: {e}")))
}

async fn credentials(State(st): State<AppState>) -> Response {
    json_response(StatusCode::OK, &json!(st.creds))
}

async fn calls(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let route: Option<String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or_default())
            .ok()
            .and_then(|v| v.into_iter().find(|(k, _)| k == "route").map(|(_, v)| v));
    let tracker = lock(&st.tracker);
    match route {
        Some(r) => json_response(
            StatusCode::OK,
            &json!({ "route": r, "count": tracker.calls(&r) }),
        ),
        None => json_response(StatusCode::OK, &json!({ "calls": tracker.all_calls() })),
    }
}

async fn reset_calls(State(st): State<AppState>) -> Response {
    lock(&st.tracker).reset_calls();
    json_response(StatusCode::OK, &json!({ "reset": true }))
}

async fn add_fault(State(st): State<AppState>, body: Bytes) -> Response {
    let req: FaultRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    lock(&st.tracker).inject(&req.route, req.fault.into(), req.times);
    json_response(
        StatusCode::OK,
        &json!({ "route": req.route, "times": req.times }),
    )
}

async fn clear_faults(State(st): State<AppState>) -> Response {
    lock(&st.tracker).clear_faults();
    json_response(StatusCode::OK, &json!({ "cleared": true }))
}

async fn clock(State(st): State<AppState>) -> Response {
    json_response(StatusCode::OK, &json!({ "now": st.now() }))
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance(State(st): State<AppState>, body: Bytes) -> Response {
    let a: Advance = match parse(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    st.clock.advance(Duration::from_secs(a.seconds));
    json_response(StatusCode::OK, &json!({ "now": st.now() }))
}

#[derive(Deserialize)]
struct Settings {
    provider: Provider,
    access_token_lifetime: Option<u64>,
    omit_expires_in: Option<bool>,
    reuse_detection: Option<bool>,
}

async fn settings(State(st): State<AppState>, body: Bytes) -> Response {
    let s: Settings = match parse(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    st.update_settings(s.provider, |p| {
        if let Some(l) = s.access_token_lifetime {
            p.access_token_lifetime = Some(l);
        }
        if let Some(o) = s.omit_expires_in {
            p.omit_expires_in = o;
        }
        if let Some(d) = s.reuse_detection {
            p.lenient_reuse = !d;
        }
    });
    json_response(
        StatusCode::OK,
        &json!({
            "provider": s.provider.name(),
            "access_token_lifetime": st.lifetime(s.provider),
            "omit_expires_in": st.omit_expires_in(s.provider),
            "reuse_detection": st.reuse_detection(s.provider),
        }),
    )
}

async fn distinct_jwts(State(st): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "count": st.konvert.distinct_jwts() }),
    )
}

async fn reuse_detections(State(st): State<AppState>) -> Response {
    let count = lock(&st.tokens).reuse_detections();
    json_response(StatusCode::OK, &json!({ "count": count }))
}

/// A running sandbox on `127.0.0.1`. Dropping it stops the server.
pub struct Sandbox {
    state: AppState,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1` with an ephemeral port. Needs a Tokio runtime.
    pub async fn start() -> Result<Self, SandboxError> {
        Self::start_on_port(0).await
    }

    /// Starts a sandbox on `127.0.0.1:port` (`0` = ephemeral).
    pub async fn start_on_port(port: u16) -> Result<Self, SandboxError> {
        Self::start_with(port, Credentials::fixed()).await
    }

    /// Starts a sandbox on `127.0.0.1:port` (`0` = ephemeral) that accepts `credentials`
    /// instead of the fixed ones, e.g. a Konvert API secret holding `+ / = % :` or a space:
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), sandbox::SandboxError> {
    /// let mut creds = sandbox::Credentials::fixed();
    /// creds.konvert.api_secret = "se+cr/et=%: x".to_owned();
    /// let sb = sandbox::Sandbox::start_with(0, creds).await?;
    /// # let _ = sb;
    /// # Ok(()) }
    /// ```
    pub async fn start_with(port: u16, credentials: Credentials) -> Result<Self, SandboxError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| SandboxError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { port, source })?;
        let state = AppState::new(format!("http://{addr}"), credentials);
        let router = app(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            state,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The socket address (always `127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The base URL of a provider, e.g. `http://127.0.0.1:PORT/konpro`: it replaces every
    /// production host of that provider.
    pub fn url(&self, provider: Provider) -> String {
        self.state.provider_url(provider)
    }

    /// The test credentials: the fixed ones, or those given to [`start_with`](Self::start_with).
    pub fn credentials(&self) -> &Credentials {
        &self.state.creds
    }

    /// Stops the server and waits (up to 5 s) for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Acts like a browser that approves: GETs the authorize URL, reads the consent form,
    /// posts it with `decision=approve`, and returns the `Location` of the 302 (the callback
    /// URL with `code` and `state`) without following it. If the authorize endpoint itself
    /// redirects (an error such as `invalid_request`), that `Location` is returned.
    pub async fn approve(&self, authorize_url: impl AsRef<str>) -> Result<String, SandboxError> {
        browser::decide(authorize_url.as_ref(), "approve").await
    }

    /// Like [`Sandbox::approve`] but denies: the callback carries `error=access_denied`.
    pub async fn deny(&self, authorize_url: impl AsRef<str>) -> Result<String, SandboxError> {
        browser::decide(authorize_url.as_ref(), "deny").await
    }

    /// Installs a registered Kustomer app (`name` plain, e.g. `myoauthapp`, or namespaced,
    /// `myoauthapp_<orgId>`). Until then its token endpoint answers 400 `invalid_client`.
    pub fn install_kustomer_app(&self, name: &str) -> Result<(), SandboxError> {
        lock(&self.state.kustomer)
            .install(name)
            .map(|_| ())
            .ok_or_else(|| SandboxError::UnknownKustomerApp(name.to_owned()))
    }

    /// Registers another redirect URI for the Askara client (exact match, like the fixed
    /// `http://127.0.0.1/callback`), as Askara's team does for an app's URL: e.g. a web app's
    /// `http://127.0.0.1:PORT/callback`. `SandboxError::InvalidUrl` unless it is `https` or
    /// `http` on a loopback IP literal.
    pub fn register_askara_redirect_uri(&self, uri: &str) -> Result<(), SandboxError> {
        askara::register_redirect(&self.state, uri).map_err(SandboxError::InvalidUrl)
    }

    /// Every issued access and refresh token (with its grant and expiry) as JSON, for
    /// [`import_tokens`](Self::import_tokens) in a later sandbox: a command-line example that
    /// starts its sandbox in-process can meet "the same provider" on its next run. Test tokens
    /// only; treat the text as you would a token file.
    pub fn export_tokens(&self) -> String {
        serde_json::to_string(&*lock(&self.state.tokens)).unwrap_or_default()
    }

    /// Replaces the issued tokens with an [`export_tokens`](Self::export_tokens) text. Expiry
    /// is in Unix seconds, so exported access tokens expire on time in the new sandbox.
    pub fn import_tokens(&self, exported: &str) -> Result<(), SandboxError> {
        let tokens = serde_json::from_str(exported).map_err(SandboxError::TokenImport)?;
        *lock(&self.state.tokens) = tokens;
        Ok(())
    }

    /// Moves the sandbox clock forward (token, code and JWT expiry use it).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// The sandbox clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.state.now()
    }

    /// Sets the lifetime (and `expires_in`) of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, provider: Provider, secs: u64) {
        self.state
            .update_settings(provider, |s| s.access_token_lifetime = Some(secs));
    }

    /// Leaves `expires_in` out of token responses (the token still expires).
    pub fn set_omit_expires_in(&self, provider: Provider, omit: bool) {
        self.state
            .update_settings(provider, |s| s.omit_expires_in = omit);
    }

    /// Whether a rotated refresh token of `provider` sent again also revokes every token its
    /// grant issued after it (RFC 9700 §4.14.2). On by default: a double spend in a test then
    /// shows as a failure. Off, the reuse is only refused with `invalid_grant`.
    pub fn set_reuse_detection(&self, provider: Provider, on: bool) {
        self.state
            .update_settings(provider, |s| s.lenient_reuse = !on);
    }

    /// How many times a rotated refresh token was sent again with reuse detection on (every
    /// provider), since start.
    pub fn reuse_detections(&self) -> u64 {
        lock(&self.state.tokens).reuse_detections()
    }

    /// Calls of `route` (provider prefix + route pattern, e.g. `"/konpro/v1/oauth/token"`,
    /// `"/kustomer/v1/customers/{id}"`), faulted ones included, since start or reset.
    pub fn calls(&self, route: &str) -> u64 {
        lock(&self.state.tracker).calls(route)
    }

    /// Every route called so far, with its count.
    pub fn all_calls(&self) -> std::collections::BTreeMap<String, u64> {
        lock(&self.state.tracker).all_calls()
    }

    /// Sets every call counter to zero.
    pub fn reset_calls(&self) {
        lock(&self.state.tracker).reset_calls();
    }

    /// The next `times` calls of `route` answer with `fault` (faults queue per route).
    pub fn inject(&self, route: &str, fault: Fault, times: u32) {
        lock(&self.state.tracker).inject(route, fault, times);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.state.tracker).clear_faults();
    }

    /// How many distinct self-signed JWTs Konvert's `/api` has accepted.
    pub fn konvert_distinct_jwts(&self) -> u64 {
        self.state.konvert.distinct_jwts()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_loopback_only() {
        let sb = Sandbox::start().await.unwrap();
        assert!(sb.addr().ip().is_loopback());
        assert!(sb.base_url().starts_with("http://127.0.0.1:"));
        assert_eq!(
            sb.url(Provider::Askara),
            format!("{}/askara", sb.base_url())
        );
        sb.shutdown().await;
    }
}
