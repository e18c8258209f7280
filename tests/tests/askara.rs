//! End-to-end tests of `askara-sdk` against the in-process sandbox: the authorization code flow,
//! rotating refresh tokens (SECURITY S16, S17), a refresh storm, the consent page's "Deny" (S6),
//! a FileStore-backed client across a restart, JWT `exp` as the expiry, scopes (S20), 401
//! recovery, a token endpoint outage and a proxy's error page on the API.
//!
//! Time: the SDK gets a `ManualClock` and every jump forward moves it and the sandbox clock
//! together, so "a day later" needs no sleeping.
// The docs above come first so the test crate stays documented when the feature is off.
#![cfg(feature = "askara")]
// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use askara_sdk::{Askara, AskaraClient, Error, ExposeSecret, FileStore, MemoryStore, TokenStore};
use oauth_flow::{HttpRequest, HttpResponse, ManualClock, ReqwestTransport, Transport};
use sandbox::{Fault, Provider, Sandbox};

const TOKEN_ROUTE: &str = "/askara/oauth2/token";
const PROFILE_ROUTE: &str = "/askara/v1/profile";
const ORG_ROUTE: &str = "/askara/v1/organization";
/// The sandbox's access token lifetime for Askara (the guide's `expires_in: 86400`).
const DAY: Duration = Duration::from_secs(86_400);
/// Far enough into a token's life that the SDK (60 s margin) refreshes, while the sandbox
/// still accepts the old token for 30 s.
const ALMOST_A_DAY: Duration = Duration::from_secs(86_400 - 30);

struct Env {
    sb: Sandbox,
    clock: Arc<ManualClock>,
}

impl Env {
    async fn start() -> Self {
        Self {
            sb: Sandbox::start().await.unwrap(),
            clock: Arc::new(ManualClock::new(SystemTime::now())),
        }
    }

    fn builder(&self) -> askara_sdk::AskaraBuilder {
        let creds = &self.sb.credentials().askara;
        Askara::builder(
            creds.client_id.as_str(),
            creds.client_secret.as_str(),
            self.sb.credentials().redirect_uri.as_str(),
        )
        .base_url(self.sb.url(Provider::Askara))
        .clock(self.clock.clone())
    }

    fn askara(&self, store: Arc<dyn TokenStore>) -> Askara {
        self.builder().store(store).build().unwrap()
    }

    /// Authorize URL → consent page (Approve) → callback → code exchange.
    async fn sign_in(&self, askara: &Askara, subject: &str) -> AskaraClient {
        let (url, pending) = askara.authorize_url().unwrap();
        let callback = self.sb.approve(url.as_str()).await.unwrap();
        askara.complete(subject, pending, &callback).await.unwrap()
    }

    /// Moves the SDK's and the sandbox's clocks forward together.
    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sb.advance_clock(by);
    }

    fn token_calls(&self) -> u64 {
        self.sb.calls(TOKEN_ROUTE)
    }
}

async fn stored_refresh_token(store: &dyn TokenStore, client: &AskaraClient) -> String {
    let token = store.load(client.key()).await.unwrap().unwrap();
    token.refresh_token.unwrap().expose_secret().to_owned()
}

async fn stored_access_token(store: &dyn TokenStore, client: &AskaraClient) -> String {
    let token = store.load(client.key()).await.unwrap().unwrap();
    token.access_token.expose_secret().to_owned()
}

#[tokio::test]
async fn authorization_code_flow_reaches_profile_and_organization() {
    let env = Env::start().await;
    let askara = env.askara(Arc::new(MemoryStore::new()));
    let client = env.sign_in(&askara, "user-1").await;
    assert_eq!(env.token_calls(), 1, "one code exchange");

    let profile = client.profile().await.unwrap();
    assert_eq!(profile.id.as_deref(), Some("usr_8f2b1c9d"));
    assert_eq!(profile.email.as_deref(), Some("camille.martin@example.fr"));
    assert_eq!(profile.display_name().as_deref(), Some("Camille Martin"));

    let org = client.organization().await.unwrap();
    assert_eq!(org.id.as_deref(), Some("org_51c7a2e4"));
    assert_eq!(org.name.as_deref(), Some("Martin & Fils"));
    assert_eq!(
        org.address.as_ref().and_then(|a| a.city.as_deref()),
        Some("Paris")
    );
    assert_eq!(org.members_count, Some(18));

    // The access token is a JWT: its claims are readable (unverified, informational).
    let claims = client.claims().await.unwrap();
    assert_eq!(claims.subject.as_deref(), Some("usr_8f2b1c9d"));
    assert!(claims.has_scope("profile") && claims.has_scope("organization"));
    assert_eq!(
        claims.audience,
        vec![env.sb.credentials().askara.client_id.clone()]
    );
    let token = client.token().await.unwrap().unwrap();
    assert_eq!(client.expires_at().await.unwrap(), token.expires_at);
    let (from_response, from_jwt) = (token.expires_at.unwrap(), claims.expires_at.unwrap());
    let skew = from_response
        .duration_since(from_jwt)
        .unwrap_or_else(|e| e.duration());
    assert!(skew <= Duration::from_secs(5), "expires_in and exp agree");

    // Generic typed call on the same API.
    let raw: serde_json::Value = client.get("v1/profile").await.unwrap();
    assert_eq!(raw["locale"], "fr-FR");
    assert_eq!(env.token_calls(), 1, "no refresh needed yet");
    assert_eq!(env.sb.calls(PROFILE_ROUTE), 2);
    assert_eq!(env.sb.calls(ORG_ROUTE), 1);
}

/// A transport that, before every API call, checks that the bearer token being used is the
/// one saved in the store: proof that a rotated token set is persisted before its access token
/// is used (SECURITY S16).
struct PersistedBeforeUse {
    inner: ReqwestTransport,
    store: Arc<MemoryStore>,
    key: std::sync::Mutex<Option<oauth_flow::GrantKey>>,
    checked: AtomicU64,
    violations: AtomicU64,
}

impl Transport for PersistedBeforeUse {
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = oauth_flow::Result<HttpResponse>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let key = self.key.lock().unwrap().clone();
            let bearer = request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned);
            if let (Some(key), Some(bearer)) = (key, bearer) {
                let stored = self.store.load(&key).await?.map(|t| t.access_token);
                self.checked.fetch_add(1, Ordering::SeqCst);
                if stored.as_ref().map(|s| s.expose_secret()) != Some(bearer.as_str()) {
                    self.violations.fetch_add(1, Ordering::SeqCst);
                }
            }
            self.inner.send(request).await
        })
    }
}

#[tokio::test]
async fn s16_rotation_persists_each_refresh_token_and_s17_reuse_needs_reauthorization() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let witness = Arc::new(PersistedBeforeUse {
        inner: ReqwestTransport::new().unwrap(),
        store: store.clone(),
        key: std::sync::Mutex::new(None),
        checked: AtomicU64::new(0),
        violations: AtomicU64::new(0),
    });
    let askara = env
        .builder()
        .store(store.clone())
        .transport(witness.clone())
        .build()
        .unwrap();
    let client = env.sign_in(&askara, "user-rot").await;
    *witness.key.lock().unwrap() = Some(client.key().clone());
    let rt0 = stored_refresh_token(&*store, &client).await;
    let at0 = stored_access_token(&*store, &client).await;
    client.profile().await.unwrap();

    // First refresh: a day later.
    env.advance(ALMOST_A_DAY);
    client.profile().await.unwrap();
    assert_eq!(env.token_calls(), 2, "exchange + one refresh");
    let rt1 = stored_refresh_token(&*store, &client).await;
    let at1 = stored_access_token(&*store, &client).await;
    assert_ne!(
        rt1, rt0,
        "the refresh token rotated and the new one is stored"
    );
    assert_ne!(at1, at0);
    let stored_before_second = store.load(client.key()).await.unwrap().unwrap();

    // Second refresh: another day later.
    env.advance(DAY);
    client.organization().await.unwrap();
    assert_eq!(env.token_calls(), 3, "exchange + two refreshes");
    let rt2 = stored_refresh_token(&*store, &client).await;
    assert_ne!(rt2, rt1);
    assert_ne!(rt2, rt0);
    assert_eq!(
        client
            .access_token()
            .await
            .unwrap()
            .secret()
            .expose_secret(),
        stored_access_token(&*store, &client).await
    );
    assert_eq!(witness.violations.load(Ordering::SeqCst), 0);
    assert!(witness.checked.load(Ordering::SeqCst) >= 3);

    // Reuse of a rotated refresh token: another replica restored a stale copy of the store.
    let stale = Arc::new(MemoryStore::new());
    stale
        .save(client.key(), &stored_before_second)
        .await
        .unwrap();
    let replica = env.askara(stale.clone());
    let old = replica.client("user-rot").unwrap();
    env.advance(DAY);
    let before = env.token_calls();
    let err = old.profile().await.unwrap_err();
    assert!(
        matches!(&err, Error::ReauthorizationRequired { subject, .. } if subject == "user-rot"),
        "{err:?}"
    );
    assert!(err.needs_authorization());
    assert_eq!(
        env.token_calls(),
        before + 1,
        "one refresh attempt, no retry"
    );
    assert!(
        stale.load(client.key()).await.unwrap().is_none(),
        "S17: the dead grant is removed from the store that held it"
    );
    let shown = err.to_string();
    assert!(!shown.contains(&rt1) && !shown.contains(&env.sb.credentials().askara.client_secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s16_refresh_storm_makes_exactly_one_refresh() {
    const TASKS: usize = 500;
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let askara = env.askara(store.clone());
    let client = env.sign_in(&askara, "user-storm").await;
    let rt0 = stored_refresh_token(&*store, &client).await;
    env.advance(ALMOST_A_DAY);
    env.sb.reset_calls();

    let mut tasks = Vec::with_capacity(TASKS);
    for _ in 0..TASKS {
        let s = client.clone();
        tasks.push(tokio::spawn(async move {
            let token = s.access_token().await?;
            s.profile().await?;
            Ok::<_, Error>(token.secret().expose_secret().to_owned())
        }));
    }
    let mut tokens = Vec::with_capacity(TASKS);
    for t in tasks {
        // Every task succeeds: no invalid_grant from a second use of the old refresh token.
        tokens.push(t.await.unwrap().unwrap());
    }
    assert_eq!(
        env.token_calls(),
        1,
        "exactly one refresh for {TASKS} tasks"
    );
    assert_eq!(env.sb.calls(PROFILE_ROUTE), TASKS as u64, "no 401 retries");
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every task got the same new token");
    assert_eq!(tokens[0], stored_access_token(&*store, &client).await);
    assert_ne!(stored_refresh_token(&*store, &client).await, rt0);
}

#[tokio::test]
async fn s6_denied_consent_is_a_typed_error_and_sends_nothing() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let askara = env.askara(store.clone());
    let (url, pending) = askara.authorize_url().unwrap();
    let callback = env.sb.deny(url.as_str()).await.unwrap();
    assert!(callback.contains("error=access_denied"));
    let err = askara
        .complete("user-deny", pending, &callback)
        .await
        .unwrap_err();
    assert!(err.is_access_denied(), "{err:?}");
    assert!(err.needs_authorization());
    assert_eq!(env.token_calls(), 0);
    assert!(askara.restore("user-deny").await.unwrap().is_none());

    // S1: a callback whose state belongs to another authorization is refused before any call.
    let (_, pending) = askara.authorize_url().unwrap();
    let (other_url, _) = askara.authorize_url().unwrap();
    let other_callback = env.sb.approve(other_url.as_str()).await.unwrap();
    let err = askara
        .complete("user-deny", pending, &other_callback)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Callback(oauth_flow::CallbackError::StateMismatch)
        ),
        "{err:?}"
    );
    assert_eq!(env.token_calls(), 0);
}

#[tokio::test]
async fn file_store_session_survives_a_restart() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    // FileStore refuses a directory other users may enter; tempfile's follows the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let rt_before = {
        let askara = env.askara(Arc::new(FileStore::new(dir.path())));
        let client = env.sign_in(&askara, "alice").await;
        client.profile().await.unwrap();
        client
            .token()
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose_secret()
            .to_owned()
    }; // the first "process" ends here

    env.sb.reset_calls();
    let askara = env.askara(Arc::new(FileStore::new(dir.path())));
    assert!(askara.restore("bob").await.unwrap().is_none());
    let client = askara
        .restore("alice")
        .await
        .unwrap()
        .expect("alice's grant is on disk");
    let profile = client.profile().await.unwrap();
    assert_eq!(profile.id.as_deref(), Some("usr_8f2b1c9d"));
    assert_eq!(
        env.token_calls(),
        0,
        "the stored access token is reused as is"
    );

    // The restored grant refreshes, and the rotated refresh token lands on disk.
    env.advance(ALMOST_A_DAY);
    client.organization().await.unwrap();
    assert_eq!(env.token_calls(), 1);
    let reread = FileStore::new(dir.path());
    let on_disk = stored_refresh_token(&reread, &client).await;
    assert_ne!(on_disk, rt_before);

    // A third "process" picks up the rotated token without refreshing.
    let third = env.askara(Arc::new(FileStore::new(dir.path())));
    third
        .restore("alice")
        .await
        .unwrap()
        .unwrap()
        .profile()
        .await
        .unwrap();
    assert_eq!(env.token_calls(), 1);
}

#[tokio::test]
async fn jwt_exp_sets_the_expiry_when_expires_in_is_absent() {
    let env = Env::start().await;
    env.sb.set_omit_expires_in(Provider::Askara, true);
    let askara = env.askara(Arc::new(MemoryStore::new()));
    let client = env.sign_in(&askara, "user-exp").await;

    let token = client.token().await.unwrap().unwrap();
    let claims = client.claims().await.unwrap();
    assert!(
        token.expires_at.is_some(),
        "expiry known without expires_in"
    );
    assert_eq!(
        token.expires_at, claims.expires_at,
        "taken from the JWT's exp"
    );
    let lifetime = claims.expires_in(env.clock_now()).expect("exp is present");
    // The SDK's clock stands still at the test's start while the sandbox's runs on, so on a
    // loaded machine `exp` can lie a few seconds past a day from the SDK's "now".
    assert!(
        lifetime > DAY - Duration::from_secs(10) && lifetime <= DAY + Duration::from_secs(20),
        "{lifetime:?}"
    );

    // Proactive refresh driven by `exp`: no 401 first (one profile call), one token call.
    env.advance(ALMOST_A_DAY);
    env.sb.reset_calls();
    client.profile().await.unwrap();
    assert_eq!(env.token_calls(), 1);
    assert_eq!(env.sb.calls(PROFILE_ROUTE), 1);
    let renewed = client.token().await.unwrap().unwrap();
    assert!(renewed.expires_at > token.expires_at);
}

impl Env {
    fn clock_now(&self) -> SystemTime {
        use oauth_flow::Clock as _;
        self.clock.now()
    }
}

#[tokio::test]
async fn s20_missing_scope_is_typed_and_refreshing_does_not_help() {
    let env = Env::start().await;
    let askara = env
        .builder()
        .scopes([askara_sdk::SCOPE_PROFILE])
        .build()
        .unwrap();
    let client = env.sign_in(&askara, "user-scope").await;
    assert_eq!(client.claims().await.unwrap().scopes, vec!["profile"]);
    client.profile().await.unwrap();
    let err = client.organization().await.unwrap_err();
    assert!(matches!(err, Error::InsufficientScope { .. }), "{err:?}");
    assert_eq!(err.status(), Some(403));
    assert_eq!(env.token_calls(), 1, "403 causes no refresh");
}

#[tokio::test]
async fn s20_a_401_causes_one_refresh_and_one_retry() {
    let env = Env::start().await;
    let askara = env.askara(Arc::new(MemoryStore::new()));
    let client = env.sign_in(&askara, "user-401").await;
    // Only the sandbox's clock moves: the SDK believes its token valid, Askara does not.
    env.sb.advance_clock(DAY + Duration::from_secs(60));
    env.sb.reset_calls();
    let org = client.organization().await.unwrap();
    assert_eq!(org.name.as_deref(), Some("Martin & Fils"));
    assert_eq!(env.token_calls(), 1);
    assert_eq!(env.sb.calls(ORG_ROUTE), 2, "the 401, then the retry");
}

/// A 401 that outlives the refresh and the retry is the shared `Unauthorized` variant.
#[tokio::test]
async fn s20_a_second_401_is_unauthorized() {
    let env = Env::start().await;
    let askara = env.askara(Arc::new(MemoryStore::new()));
    let client = env.sign_in(&askara, "user-401-twice").await;
    env.sb.reset_calls();
    env.sb.inject(PROFILE_ROUTE, Fault::Status(401), 2);
    let err = client.profile().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(env.token_calls(), 1, "one refresh");
    assert_eq!(env.sb.calls(PROFILE_ROUTE), 2, "the 401, then one retry");
}

#[tokio::test]
async fn s13_token_endpoint_outage_keeps_the_grant() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let askara = env.askara(store.clone());
    let client = env.sign_in(&askara, "user-outage").await;
    let rt0 = stored_refresh_token(&*store, &client).await;
    env.advance(ALMOST_A_DAY);
    env.sb.inject(TOKEN_ROUTE, Fault::HtmlError(502), 1);
    let err = client.profile().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::OAuth(oauth_flow::Error::HttpStatus { status: 502, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        stored_refresh_token(&*store, &client).await,
        rt0,
        "nothing lost"
    );
    // Next call: the refresh goes through with the same (unused) refresh token.
    client.profile().await.unwrap();
    assert_ne!(stored_refresh_token(&*store, &client).await, rt0);
}

/// A proxy's HTML error page or an empty redirect on the API is `Error::Api` with its status
/// (not a core error), the page as a bounded excerpt (SECURITY S10, S13); the token endpoint is
/// not called, and the next call goes through.
#[tokio::test]
async fn s13_an_html_error_page_on_the_api_is_an_api_error() {
    let env = Env::start().await;
    let askara = env.askara(Arc::new(MemoryStore::new()));
    let client = env.sign_in(&askara, "user-html").await;
    env.sb.inject(PROFILE_ROUTE, Fault::HtmlError(502), 1);
    let err = client.profile().await.unwrap_err();
    match &err {
        Error::Api {
            status: 502,
            code: None,
            message: Some(m),
        } => assert!(m.starts_with('<') && m.len() <= 512 + '…'.len_utf8(), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), Some(502));
    env.sb.inject(
        PROFILE_ROUTE,
        Fault::Redirect {
            status: 307,
            location: format!("{}/elsewhere", env.sb.base_url()),
        },
        1,
    );
    let err = client.profile().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Api {
                status: 307,
                code: None,
                message: None
            }
        ),
        "{err:?}"
    );
    assert_eq!(env.token_calls(), 1, "only the code exchange");
    client.profile().await.unwrap();
}

#[tokio::test]
async fn forget_removes_the_grant() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let askara = env.askara(store.clone());
    let client = env.sign_in(&askara, "user-bye").await;
    client.forget().await.unwrap();
    assert!(store.load(client.key()).await.unwrap().is_none());
    let err = client.profile().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(askara.restore("user-bye").await.unwrap().is_none());
    assert_eq!(client.expires_at().await.unwrap(), None, "nothing stored");
}
