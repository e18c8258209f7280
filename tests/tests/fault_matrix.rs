//! The fault matrix: every sandbox fault × every provider × {token exchange, refresh, API call}
//! (SECURITY S9, S10, S13, S16).
//!
//! Each cell starts its own sandbox, signs in where the operation needs it, injects the fault
//! once on the operation's route and runs the operation through the provider SDK's public API
//! (in a spawned task, so a panic is caught and reported as the cell's outcome). It checks:
//! - the outcome is the documented one: a typed error of the expected kind, or a success after
//!   the retries the policy allows (429/503 on idempotent API calls);
//! - when the fault hit a refresh, the refresh token in the store is still the one it was;
//! - once the fault is cleared, the same operation succeeds.
//!
//! The transport has a short timeout (the delay fault exceeds it) and the retry policy a short
//! default wait, so the whole matrix runs in a few seconds. `--nocapture` prints it as one table
//! per provider.
// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Without any provider feature there is nothing to run.
#![cfg(any(
    feature = "konpro",
    feature = "askara",
    feature = "kustomer",
    feature = "konvert"
))]

use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oauth_flow::{ExposeSecret, MemoryStore, ReqwestTransport, RetryPolicy, TokenStore, Transport};
use sandbox::{Fault, Sandbox};
use tokio::sync::Semaphore;

/// The client's whole-request timeout in the matrix: short, yet far above a loopback call on a
/// loaded machine.
const TIMEOUT: Duration = Duration::from_millis(1000);
/// The delay fault: past the client's timeout.
const DELAY: Duration = Duration::from_millis(1500);
/// Cells run at once (each has its own sandbox).
const PARALLEL_CELLS: usize = 8;

/// The faults of the matrix, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    S500,
    S502,
    S503,
    S503RetryAfter,
    S429RetryAfter,
    Delay,
    MalformedJson,
    HtmlPage,
    Oversized,
    Redirect,
    ResetMidBody,
    TruncatedBody,
    EmptyOk,
}

const FAULTS: [FaultKind; 13] = [
    FaultKind::S500,
    FaultKind::S502,
    FaultKind::S503,
    FaultKind::S503RetryAfter,
    FaultKind::S429RetryAfter,
    FaultKind::Delay,
    FaultKind::MalformedJson,
    FaultKind::HtmlPage,
    FaultKind::Oversized,
    FaultKind::Redirect,
    FaultKind::ResetMidBody,
    FaultKind::TruncatedBody,
    FaultKind::EmptyOk,
];

impl FaultKind {
    fn name(self) -> &'static str {
        match self {
            Self::S500 => "500",
            Self::S502 => "502",
            Self::S503 => "503",
            Self::S503RetryAfter => "503 + Retry-After: 1",
            Self::S429RetryAfter => "429 + Retry-After: 1",
            Self::Delay => "delay past the timeout",
            Self::MalformedJson => "malformed JSON",
            Self::HtmlPage => "HTML 502 page",
            Self::Oversized => "oversized body (2 MiB)",
            Self::Redirect => "307 redirect",
            Self::ResetMidBody => "reset mid-body",
            Self::TruncatedBody => "truncated body",
            Self::EmptyOk => "empty 200",
        }
    }

    fn fault(self, sb: &Sandbox) -> Fault {
        let retry_after = |status| Fault::RetryAfter {
            status,
            value: "1".into(),
        };
        match self {
            Self::S500 => Fault::Status(500),
            Self::S502 => Fault::Status(502),
            Self::S503 => Fault::Status(503),
            Self::S503RetryAfter => retry_after(503),
            Self::S429RetryAfter => retry_after(429),
            Self::Delay => Fault::Delay(DELAY),
            Self::MalformedJson => Fault::MalformedJson,
            Self::HtmlPage => Fault::HtmlError(502),
            Self::Oversized => Fault::Oversized(2 * 1024 * 1024),
            Self::Redirect => Fault::Redirect {
                status: 307,
                location: format!("{}/elsewhere", sb.base_url()),
            },
            Self::ResetMidBody => Fault::ResetMidBody,
            Self::TruncatedBody => Fault::TruncatedBody,
            Self::EmptyOk => Fault::EmptyOk,
        }
    }

    /// The outcomes documented for this fault on `op`: the labels of [`label_core`] and the
    /// providers' `label`s. Token endpoint answers are never retried (a code is sent once,
    /// S13); throttled idempotent API calls are retried once the fault is gone.
    fn expected(self, op: Op) -> &'static [&'static str] {
        let token = matches!(op, Op::Exchange | Op::Refresh);
        match self {
            Self::S500 if token => &["oauth server_error (500)"],
            Self::S502 if token => &["oauth server_error (502)"],
            Self::S503 | Self::S503RetryAfter if token => &["oauth temporarily_unavailable (503)"],
            Self::S429RetryAfter if token => &["oauth rate_limited (429)"],
            // Askara and KonPro report every API error status as `Api` (typing their JSON
            // error bodies), Kustomer and Konvert keep the status of a body they do not type.
            Self::S500 => &["api 500", "http 500"],
            Self::S502 => &["api 502", "http 502"],
            Self::S503 | Self::S503RetryAfter | Self::S429RetryAfter => &["ok after 1 retry"],
            Self::Delay => &["timeout"],
            Self::MalformedJson | Self::EmptyOk => &["decode"],
            Self::HtmlPage => &["http 502", "api 502"],
            Self::Oversized => &["too large"],
            Self::Redirect => &["http 307", "api 307"],
            Self::ResetMidBody | Self::TruncatedBody => &["transport"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exchange,
    Refresh,
    Api,
}

const OPS: [Op; 3] = [Op::Exchange, Op::Refresh, Op::Api];

/// One cell's result.
#[derive(Debug, Clone)]
struct Cell {
    provider: &'static str,
    fault: FaultKind,
    op: Op,
    outcome: String,
    /// The same operation once the fault is cleared: `None` if it succeeded.
    after_clear: Option<String>,
    problems: Vec<String>,
}

/// One transport for every cell: building a TLS-capable client costs tens of milliseconds,
/// and connections are per sandbox port anyway.
fn transport() -> Arc<dyn Transport> {
    static TRANSPORT: OnceLock<Arc<dyn Transport>> = OnceLock::new();
    TRANSPORT
        .get_or_init(|| {
            Arc::new(
                ReqwestTransport::builder()
                    .timeout(TIMEOUT)
                    .build()
                    .unwrap(),
            )
        })
        .clone()
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        max_total_wait: Duration::from_secs(5),
        default_wait: Duration::from_millis(50),
    }
}

/// A short, stable name for a core error.
fn label_core(e: &oauth_flow::Error) -> String {
    use oauth_flow::Error as E;
    match e {
        E::OAuth(o) => match o.status {
            Some(s) => format!("oauth {} ({s})", o.code),
            None => format!("oauth {}", o.code),
        },
        E::HttpStatus { status, .. } => format!("http {status}"),
        E::Timeout => "timeout".into(),
        E::Transport { .. } => "transport".into(),
        E::BodyTooLarge { .. } => "too large".into(),
        E::Decode { .. } => "decode".into(),
        E::MissingField(_) => "missing field".into(),
        E::ReauthorizationRequired { .. } => "reauth".into(),
        E::Store { .. } => "store".into(),
        E::Unauthorized { .. } => "unauthorized".into(),
        E::Forbidden { .. } => "forbidden".into(),
        E::RateLimited { status, .. } => format!("rate limited {status}"),
        other => format!("other core error: {other}"),
    }
}

/// What the matrix needs of a provider SDK.
trait Harness: Sized + Send + Sync + 'static {
    /// A signed-in user (or, for Konvert, a client holding a token).
    type Session: Send + Sync;
    const NAME: &'static str;
    const TOKEN_ROUTE: &'static str;
    const REFRESH_ROUTE: &'static str;
    const API_ROUTE: &'static str;

    fn start() -> impl Future<Output = Self> + Send;
    fn sandbox(&self) -> &Sandbox;
    /// Authorize, approve and exchange the code (Konvert: the client credentials request).
    fn sign_in(&self, subject: &str) -> impl Future<Output = Result<Self::Session, String>> + Send;
    fn refresh(&self, session: &Self::Session) -> impl Future<Output = Result<(), String>> + Send;
    fn api_call(&self, session: &Self::Session) -> impl Future<Output = Result<(), String>> + Send;
    /// The refresh token in the store, if the provider issues one.
    fn stored_refresh_token(
        &self,
        session: &Self::Session,
    ) -> impl Future<Output = Option<String>> + Send;
}

async fn stored_refresh(store: &dyn TokenStore, key: &oauth_flow::GrantKey) -> Option<String> {
    let token = store.load(key).await.unwrap()?;
    token.refresh_token.map(|r| r.expose_secret().to_owned())
}

/// Runs one cell (see the module docs).
async fn cell<H: Harness>(fault: FaultKind, op: Op) -> Cell {
    let h = H::start().await;
    let sb = h.sandbox();
    let mut problems = Vec::new();
    let route = match op {
        Op::Exchange => H::TOKEN_ROUTE,
        Op::Refresh => H::REFRESH_ROUTE,
        Op::Api => H::API_ROUTE,
    };
    let session = match op {
        Op::Exchange => None,
        Op::Refresh | Op::Api => Some(h.sign_in("matrix-user").await.unwrap()),
    };
    let before_refresh = match &session {
        Some(s) => h.stored_refresh_token(s).await,
        None => None,
    };
    let calls_before = sb.calls(route);
    sb.inject(route, fault.fault(sb), 1);
    let result = match (&session, op) {
        (None, _) => h.sign_in("matrix-user").await.map(drop),
        (Some(s), Op::Refresh) => h.refresh(s).await,
        (Some(s), _) => h.api_call(s).await,
    };
    let calls = sb.calls(route) - calls_before;
    let outcome = match result {
        Ok(()) if calls > 1 => format!("ok after {} retr{}", calls - 1, plural(calls - 1)),
        Ok(()) => "ok".to_owned(),
        Err(label) => label,
    };
    if !fault.expected(op).contains(&outcome.as_str()) {
        problems.push(format!(
            "outcome `{outcome}`, expected one of {:?}",
            fault.expected(op)
        ));
    }
    if op == Op::Refresh {
        let after = h.stored_refresh_token(session.as_ref().unwrap()).await;
        if before_refresh.is_some() && after != before_refresh {
            problems.push("the refresh token in the store changed or was lost".into());
        }
    }
    // A delayed request is still being handled: let it finish before the next call, so the
    // two do not race.
    if fault == FaultKind::Delay {
        tokio::time::sleep(DELAY.saturating_sub(TIMEOUT) + Duration::from_millis(150)).await;
    }
    sb.clear_faults();
    let again = match (&session, op) {
        (None, _) => h.sign_in("matrix-user-2").await.map(drop),
        (Some(s), Op::Refresh) => h.refresh(s).await,
        (Some(s), _) => h.api_call(s).await,
    };
    let after_clear = again.err();
    if let Some(e) = &after_clear {
        problems.push(format!("after the fault was cleared: `{e}`"));
    }
    Cell {
        provider: H::NAME,
        fault,
        op,
        outcome,
        after_clear,
        problems,
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

/// Every cell of one provider, each in its own task (so a panic becomes the cell's outcome)
/// with its own sandbox, [`PARALLEL_CELLS`] at a time across the matrix.
async fn provider_cells<H: Harness>(permits: Arc<Semaphore>) -> Vec<Cell> {
    let mut tasks = Vec::new();
    for fault in FAULTS {
        for op in OPS {
            let permits = permits.clone();
            let task = tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.unwrap();
                cell::<H>(fault, op).await
            });
            tasks.push((fault, op, task));
        }
    }
    let mut cells = Vec::new();
    for (fault, op, task) in tasks {
        cells.push(match task.await {
            Ok(cell) => cell,
            Err(e) => Cell {
                provider: H::NAME,
                fault,
                op,
                outcome: "PANIC".into(),
                after_clear: None,
                problems: vec![format!("the cell panicked: {e}")],
            },
        });
    }
    cells
}

/// One table per provider: a row per fault, a column per operation; `✓` marks a successful
/// call once the fault was cleared.
fn render(cells: &[Cell]) -> String {
    let mut out = String::new();
    let mut providers: Vec<&str> = cells.iter().map(|c| c.provider).collect();
    providers.dedup();
    for provider in providers {
        writeln!(out, "\n{provider}").unwrap();
        writeln!(
            out,
            "  {:<24} {:<40} {:<40} {:<22}",
            "fault", "token exchange", "refresh", "API call"
        )
        .unwrap();
        for fault in FAULTS {
            let mut row = format!("  {:<24}", fault.name());
            for op in OPS {
                let c = cells
                    .iter()
                    .find(|c| c.provider == provider && c.fault == fault && c.op == op)
                    .unwrap();
                let mark = match (&c.after_clear, c.problems.is_empty()) {
                    (None, true) => " ✓".to_owned(),
                    (None, false) => " ✓ ✗".to_owned(),
                    (Some(e), _) => format!(" ✗ then {e}"),
                };
                let width = if op == Op::Api { 22 } else { 40 };
                write!(row, " {:<width$}", format!("{}{mark}", c.outcome)).unwrap();
            }
            writeln!(out, "{}", row.trim_end()).unwrap();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// The pushes are cfg-gated per provider feature: no `vec![]` literal can hold them.
#[allow(clippy::vec_init_then_push)]
async fn every_fault_on_every_provider_and_operation() {
    let permits = Arc::new(Semaphore::new(PARALLEL_CELLS));
    let mut runs = Vec::new();
    #[cfg(feature = "konpro")]
    runs.push(tokio::spawn(provider_cells::<konpro::H>(permits.clone())));
    #[cfg(feature = "askara")]
    runs.push(tokio::spawn(provider_cells::<askara::H>(permits.clone())));
    #[cfg(feature = "kustomer")]
    runs.push(tokio::spawn(provider_cells::<kustomer::H>(permits.clone())));
    #[cfg(feature = "konvert")]
    runs.push(tokio::spawn(provider_cells::<konvert::H>(permits.clone())));
    let mut cells = Vec::new();
    for run in runs {
        cells.extend(run.await.unwrap());
    }
    println!("{}", render(&cells));
    let ok = cells.iter().filter(|c| c.outcome.starts_with("ok")).count();
    println!(
        "{} cells: {} typed errors, {} successes after retries, {} with problems",
        cells.len(),
        cells.len() - ok,
        ok,
        cells.iter().filter(|c| !c.problems.is_empty()).count()
    );
    let problems: Vec<String> = cells
        .iter()
        .flat_map(|c| {
            c.problems
                .iter()
                .map(move |p| format!("{} / {} / {:?}: {p}", c.provider, c.fault.name(), c.op))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(cells.len() % (FAULTS.len() * OPS.len()), 0);
}

#[cfg(feature = "konpro")]
mod konpro {
    use super::*;
    use konpro_sdk::{Error, KonPro, KonProClient};

    pub struct H {
        sb: Sandbox,
        store: Arc<MemoryStore>,
        konpro: KonPro,
    }

    fn label(e: &Error) -> String {
        match e {
            Error::OAuth(e) | Error::Transport(e) | Error::Store(e) => label_core(e),
            Error::RateLimited { status, .. } => format!("rate limited {status}"),
            Error::Api { status, .. } => format!("api {status}"),
            Error::Decode { .. } => "decode".into(),
            Error::Unauthorized { .. } => "unauthorized".into(),
            Error::ReauthorizationRequired { .. } => "reauth".into(),
            other => format!("other: {other}"),
        }
    }

    impl Harness for H {
        type Session = KonProClient;
        const NAME: &'static str = "KonPro";
        const TOKEN_ROUTE: &'static str = "/konpro/v1/oauth/token";
        const REFRESH_ROUTE: &'static str = "/konpro/v1/oauth/refresh_token";
        const API_ROUTE: &'static str = "/konpro/v1/pacific/account.get";

        async fn start() -> Self {
            let sb = Sandbox::start().await.unwrap();
            let store = Arc::new(MemoryStore::new());
            let creds = sb.credentials();
            let konpro = KonPro::builder(&creds.konpro.client_id, &creds.redirect_uri)
                .base_url(sb.url(sandbox::Provider::KonPro))
                .store(store.clone())
                .transport(transport())
                .retry(retry())
                .build()
                .unwrap();
            Self { sb, store, konpro }
        }
        fn sandbox(&self) -> &Sandbox {
            &self.sb
        }
        async fn sign_in(&self, subject: &str) -> Result<KonProClient, String> {
            let (url, pending) = self.konpro.authorize_url().unwrap();
            let callback = self.sb.approve(url.as_str()).await.unwrap();
            self.konpro
                .complete(subject, pending, &callback)
                .await
                .map_err(|e| label(&e))
        }
        async fn refresh(&self, client: &KonProClient) -> Result<(), String> {
            let grant = client.grant().unwrap();
            grant
                .force_refresh()
                .await
                .map(drop)
                .map_err(|e| label_core(&e))
        }
        async fn api_call(&self, client: &KonProClient) -> Result<(), String> {
            client.account_get().await.map(drop).map_err(|e| label(&e))
        }
        async fn stored_refresh_token(&self, client: &KonProClient) -> Option<String> {
            stored_refresh(&*self.store, client.grant().unwrap().key()).await
        }
    }
}

#[cfg(feature = "askara")]
mod askara {
    use super::*;
    use askara_sdk::{Askara, AskaraClient, Error};

    pub struct H {
        sb: Sandbox,
        store: Arc<MemoryStore>,
        askara: Askara,
    }

    fn label(e: &Error) -> String {
        match e {
            Error::OAuth(e) | Error::Transport(e) | Error::Store(e) => label_core(e),
            Error::RateLimited { status, .. } => format!("rate limited {status}"),
            Error::Api { status, .. } => format!("api {status}"),
            Error::Decode { .. } => "decode".into(),
            Error::Unauthorized { .. } => "unauthorized".into(),
            Error::ReauthorizationRequired { .. } => "reauth".into(),
            other => format!("other: {other}"),
        }
    }

    impl Harness for H {
        type Session = AskaraClient;
        const NAME: &'static str = "Askara";
        const TOKEN_ROUTE: &'static str = "/askara/oauth2/token";
        const REFRESH_ROUTE: &'static str = "/askara/oauth2/token";
        const API_ROUTE: &'static str = "/askara/v1/profile";

        async fn start() -> Self {
            let sb = Sandbox::start().await.unwrap();
            let store = Arc::new(MemoryStore::new());
            let creds = &sb.credentials().askara;
            let askara = Askara::builder(
                creds.client_id.as_str(),
                creds.client_secret.as_str(),
                sb.credentials().redirect_uri.as_str(),
            )
            .base_url(sb.url(sandbox::Provider::Askara))
            .store(store.clone())
            .transport(transport())
            .retry(retry())
            .build()
            .unwrap();
            Self { sb, store, askara }
        }
        fn sandbox(&self) -> &Sandbox {
            &self.sb
        }
        async fn sign_in(&self, subject: &str) -> Result<AskaraClient, String> {
            let (url, pending) = self.askara.authorize_url().unwrap();
            let callback = self.sb.approve(url.as_str()).await.unwrap();
            self.askara
                .complete(subject, pending, &callback)
                .await
                .map_err(|e| label(&e))
        }
        async fn refresh(&self, session: &AskaraClient) -> Result<(), String> {
            session.refresh().await.map(drop).map_err(|e| label(&e))
        }
        async fn api_call(&self, session: &AskaraClient) -> Result<(), String> {
            session.profile().await.map(drop).map_err(|e| label(&e))
        }
        async fn stored_refresh_token(&self, session: &AskaraClient) -> Option<String> {
            stored_refresh(&*self.store, session.key()).await
        }
    }
}

#[cfg(feature = "kustomer")]
mod kustomer {
    use super::*;
    use kustomer_sdk::{
        AppDefinition, Error, Kustomer, KustomerClient, KustomerOAuth, PageParams, SecretString,
        scopes,
    };

    pub struct H {
        sb: Sandbox,
        store: Arc<MemoryStore>,
        oauth: KustomerOAuth,
    }

    fn label(e: &Error) -> String {
        match e {
            Error::OAuth(e) | Error::Transport(e) | Error::Store(e) => label_core(e),
            Error::RateLimited { status, .. } => format!("rate limited {status}"),
            // A body that is not a JSON:API error document (e.g. a proxy's HTML page).
            Error::Api { status, errors, .. } if errors.is_empty() => format!("http {status}"),
            Error::Api { status, .. } => format!("api {status}"),
            Error::Decode { .. } => "decode".into(),
            Error::Unauthorized { .. } => "unauthorized".into(),
            Error::ReauthorizationRequired { .. } => "reauth".into(),
            other => format!("other: {other}"),
        }
    }

    impl Harness for H {
        type Session = KustomerClient;
        const NAME: &'static str = "Kustomer";
        const TOKEN_ROUTE: &'static str = "/kustomer/oauth/token";
        const REFRESH_ROUTE: &'static str = "/kustomer/oauth/token";
        const API_ROUTE: &'static str = "/kustomer/v1/customers";

        async fn start() -> Self {
            let sb = Sandbox::start().await.unwrap();
            let store = Arc::new(MemoryStore::new());
            let kustomer = Kustomer::builder()
                .base_url(sb.url(sandbox::Provider::Kustomer))
                .transport(transport())
                .retry(retry())
                .store(store.clone())
                .build()
                .unwrap();
            let apps = kustomer
                .apps(SecretString::from(
                    sb.credentials().kustomer.api_key.clone(),
                ))
                .unwrap();
            let app = apps
                .register(&AppDefinition::private("matrixapp", "0.0.1", "Matrix"))
                .await
                .unwrap();
            sb.install_kustomer_app(app.name.as_str()).unwrap();
            let secret = apps.generate_secret(&app.name).await.unwrap();
            let oauth = kustomer
                .oauth(
                    secret.client_id(),
                    secret.client_secret().clone(),
                    &sb.credentials().redirect_uri,
                )
                .build()
                .unwrap();
            Self { sb, store, oauth }
        }
        fn sandbox(&self) -> &Sandbox {
            &self.sb
        }
        async fn sign_in(&self, subject: &str) -> Result<KustomerClient, String> {
            let (url, pending) = self.oauth.authorize_url([scopes::CUSTOMER]).unwrap();
            let callback = self.sb.approve(url.as_str()).await.unwrap();
            self.oauth
                .complete(subject, pending, &callback)
                .await
                .map_err(|e| label(&e))
        }
        async fn refresh(&self, client: &KustomerClient) -> Result<(), String> {
            client.refresh().await.map(drop).map_err(|e| label(&e))
        }
        async fn api_call(&self, client: &KustomerClient) -> Result<(), String> {
            client
                .list_customers(PageParams::new())
                .await
                .map(drop)
                .map_err(|e| label(&e))
        }
        async fn stored_refresh_token(&self, client: &KustomerClient) -> Option<String> {
            stored_refresh(&*self.store, client.grant()?.key()).await
        }
    }
}

#[cfg(feature = "konvert")]
mod konvert {
    use super::*;
    use konvert_sdk::operations::{GetViewer, get_viewer};
    use konvert_sdk::{Auth, Error, KonvertClient, SecretString};
    use oauth_flow::ManualClock;

    pub struct H {
        sb: Sandbox,
        clock: Arc<ManualClock>,
    }

    fn label(e: &Error) -> String {
        match e {
            Error::OAuth(e) | Error::Transport(e) | Error::Store(e) => label_core(e),
            Error::RateLimited { status, .. } => format!("rate limited {status}"),
            Error::Api { status, .. } => format!("http {status}"),
            Error::Decode { .. } => "decode".into(),
            Error::Unauthorized { .. } => "unauthorized".into(),
            other => format!("other: {other}"),
        }
    }

    impl Harness for H {
        /// Konvert's client credentials grant has no user: the session is a client holding
        /// a token, and a "refresh" is the new token request once the clock passed expiry.
        type Session = KonvertClient;
        const NAME: &'static str = "Konvert";
        const TOKEN_ROUTE: &'static str = "/konvert/oauth/token";
        const REFRESH_ROUTE: &'static str = "/konvert/oauth/token";
        const API_ROUTE: &'static str = "/konvert/api";

        async fn start() -> Self {
            Self {
                sb: Sandbox::start().await.unwrap(),
                clock: Arc::new(ManualClock::new(std::time::SystemTime::now())),
            }
        }
        fn sandbox(&self) -> &Sandbox {
            &self.sb
        }
        async fn sign_in(&self, _subject: &str) -> Result<KonvertClient, String> {
            let creds = &self.sb.credentials().konvert;
            let client = KonvertClient::builder(Auth::client_credentials(
                creds.api_key.clone(),
                SecretString::from(creds.api_secret.clone()),
            ))
            .base_url(self.sb.url(sandbox::Provider::Konvert))
            .transport(transport())
            .clock(self.clock.clone())
            .retry(retry())
            .build()
            .unwrap();
            client.access_token().await.map_err(|e| label(&e))?;
            Ok(client)
        }
        async fn refresh(&self, client: &KonvertClient) -> Result<(), String> {
            // Past the token's 6 h lifetime on the SDK's clock: the next use asks anew.
            self.clock.advance(Duration::from_secs(7 * 3600));
            client.access_token().await.map(drop).map_err(|e| label(&e))
        }
        async fn api_call(&self, client: &KonvertClient) -> Result<(), String> {
            client
                .query::<GetViewer>(get_viewer::Variables)
                .await
                .map(drop)
                .map_err(|e| label(&e))
        }
        async fn stored_refresh_token(&self, _client: &KonvertClient) -> Option<String> {
            None
        }
    }
}
