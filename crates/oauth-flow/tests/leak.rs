//! S25: canary secrets run through a full flow and its faults (authorize → callback → code
//! exchange → API call → 401 → refresh → `invalid_grant` → store failure → transport and
//! decode errors) with a TRACE subscriber capturing everything. No canary (client secret,
//! access/refresh tokens, code, PKCE verifier, state, API key, JWT key) nor base64 of
//! `id:secret` may appear in the log, in any error's `Display` or `Debug`, or in the `Debug`
//! of any value the flow produced.
//!
//! This file holds a single test because it installs a global subscriber (so spans on worker
//! threads and blocking threads are captured too).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{
    CLIENT_ID, CLIENT_SECRET, CODE, Capture, REDIRECT_URI, Resp, TestServer, access_token,
    capturing_dispatch, oauth_error, query_param, refresh_token, secret, temp_path_for, token_body,
};
use oauth_flow::http::Method;
use oauth_flow::{
    ApiClient, ApiKey, BodyEncoding, ClientAuth, CredentialSource, Error, FileStore, HttpRequest,
    ManualClock, MemoryStore, OAuthClient, Pkce, ProviderProfile, ReqwestTransport, TokenManager,
    TokenStore, Transport, Url,
};
use serde_json::{Value, json};

const API_KEY: &str = "CANARY-api-key-Hh2";
const JWT_KEY: &str = "CANARY-jwt-key-0123456789abcdef0123";

/// Everything the flow produced, as text.
#[derive(Default)]
struct Exhibits(Vec<(String, String)>);

impl Exhibits {
    fn debug(&mut self, what: &str, v: &dyn std::fmt::Debug) {
        self.0.push((what.to_owned(), format!("{v:?}")));
        self.0
            .push((format!("{what} (alternate)"), format!("{v:#?}")));
    }
    fn error(&mut self, what: &str, e: &Error) {
        self.0.push((format!("{what} Display"), e.to_string()));
        self.debug(what, e);
        // The whole source chain.
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            self.0
                .push((format!("{what} source"), format!("{s} / {s:?}")));
            source = s.source();
        }
    }
    fn err<T: std::fmt::Debug>(&mut self, what: &str, r: Result<T, Error>) {
        match r {
            Err(e) => self.error(what, &e),
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s25_no_secret_in_logs_errors_or_debug() {
    let capture = Capture::default();
    tracing::dispatcher::set_global_default(capturing_dispatch(&capture)).unwrap();
    let mut ex = Exhibits::default();

    // --- The provider: token endpoint (records what it received) and a protected API. ----
    let issued = Arc::new(AtomicUsize::new(0));
    let refuse_refresh = Arc::new(AtomicUsize::new(0));
    let token_server = {
        let (issued, refuse) = (issued.clone(), refuse_refresh.clone());
        TestServer::start(move |req| {
            let p = req.params();
            if p.get("grant_type").map(String::as_str) == Some("refresh_token")
                && refuse.load(Ordering::SeqCst) == 1
            {
                return oauth_error(400, "invalid_grant");
            }
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            Resp::json(
                200,
                &token_body(&access_token(n), Some(&refresh_token(n)), Some(3600)),
            )
        })
        .await
    };
    let accepted = Arc::new(std::sync::Mutex::new(access_token(1)));
    let api = {
        let accepted = accepted.clone();
        TestServer::start(move |req| match req.path.as_str() {
            "/api/me" if req.bearer() == Some(accepted.lock().unwrap().as_str()) => {
                Resp::json(200, &json!({"user": "ada"}))
            }
            "/api/me" => Resp::json(401, &json!({"message": "bad token"}))
                .header("www-authenticate", r#"Bearer error="invalid_token""#),
            "/api/html" => Resp::new(502, "text/html", "<html><h1>Bad Gateway</h1></html>"),
            "/api/huge" => Resp::text(200, &"x".repeat(70_000)).chunked(),
            "/api/slow" => Resp::text(200, "late").delay(Duration::from_secs(30)),
            "/api/throttled" => Resp::text(429, "slow down").header("retry-after", "3600"),
            _ => Resp::json(200, &json!(null)),
        })
        .await
    };

    // --- Client: Basic authentication and PKCE, so every kind of secret is on the wire. ---
    let profile = ProviderProfile::builder("leakprov", token_server.url("/token"))
        .authorize_url(token_server.url("/authorize"))
        .encoding(BodyEncoding::Form)
        .client_auth(ClientAuth::SecretBasic)
        .pkce(Pkce::S256)
        .issuer("https://issuer.example")
        .build()
        .unwrap();
    ex.debug("profile", &profile);
    let client = OAuthClient::builder(profile, CLIENT_ID)
        .client_secret(secret(CLIENT_SECRET))
        .redirect_uri(REDIRECT_URI)
        .build()
        .unwrap();
    ex.debug("client", &client);

    // --- Authorize and complete. ----------------------------------------------------------
    let (url, pending) = client.authorize().scope("read").build().unwrap();
    let state = query_param(&url, "state");
    ex.debug("pending", &pending);
    ex.debug("authorization request", &client.authorize().scope("x"));
    let callback_errors = [
        format!("{REDIRECT_URI}?code={CODE}&state={state}x"),
        format!("{REDIRECT_URI}?code={CODE}"),
        format!("{REDIRECT_URI}?code={CODE}&state={state}&iss=https%3A%2F%2Fevil.example"),
        format!("{REDIRECT_URI}?code={CODE}&error=access_denied&state={state}"),
        format!("{REDIRECT_URI}?error=access_denied&error_description=no&state={state}"),
        format!("{REDIRECT_URI}?code={CODE}&code={CODE}&state={state}"),
        format!("http://127.0.0.1:9/elsewhere?code={CODE}&state={state}"),
        format!("{CODE}://{state}"),
    ];
    let parked = serde_json::to_string(&pending).unwrap();
    for cb in &callback_errors {
        let p: oauth_flow::PendingAuthorization = serde_json::from_str(&parked).unwrap();
        ex.err("callback", p.complete(cb));
    }
    let p: oauth_flow::PendingAuthorization = serde_json::from_str(&parked).unwrap();
    ex.err(
        "expired callback",
        p.complete_at(
            &format!("{REDIRECT_URI}?code={CODE}&state={state}"),
            SystemTime::now() + Duration::from_secs(3600),
        ),
    );
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    ex.debug("authorized code", &code);
    let exchange_request = client.exchange_code_request(&code).unwrap();
    ex.debug("exchange request", &exchange_request);
    ex.debug(
        "refresh request",
        &client.refresh_request(&secret(&refresh_token(1))).unwrap(),
    );
    ex.debug(
        "cc request",
        &client.client_credentials_request(&["a"]).unwrap(),
    );

    // --- Exchange, API calls, 401 → refresh, invalid_grant. --------------------------------
    let dir = common::private_tempdir();
    let store = Arc::new(FileStore::new(dir.path()));
    ex.debug("file store", &store);
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let transport = Arc::new(
        ReqwestTransport::builder()
            .timeout(Duration::from_millis(500))
            .max_body_bytes(64 * 1024)
            .build()
            .unwrap(),
    );
    ex.debug("transport", &transport);
    let manager = TokenManager::builder(client.clone(), transport.clone())
        .store(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    ex.debug("manager", &manager);
    let grant = manager.exchange_code("user-1", code).await.unwrap();
    ex.debug("grant", &grant);
    ex.debug("token", &grant.token().await.unwrap());
    ex.debug("access token", &grant.access_token().await.unwrap());
    ex.debug("authorization", &grant.authorization().await.unwrap());

    let api_client =
        ApiClient::builder(api.url("/api"), transport.clone(), Arc::new(grant.clone()))
            .build()
            .unwrap();
    ex.debug("api client", &api_client);
    let me: Value = api_client.get("me").await.unwrap();
    assert_eq!(me["user"], "ada");
    // The API now wants a newer token: 401 → refresh → retry.
    *accepted.lock().unwrap() = access_token(2);
    let _: Value = api_client.get("me").await.unwrap();
    // Then rejects everything: 401, refresh, 401 → Unauthorized.
    *accepted.lock().unwrap() = "nothing".into();
    ex.err("unauthorized", api_client.get::<Value>("me").await);
    ex.err("html", api_client.get::<Value>("html").await);
    ex.err("huge", api_client.get::<Value>("huge").await);
    ex.err("slow", api_client.get::<Value>("slow").await);
    ex.err("throttled", api_client.get::<Value>("throttled").await);
    ex.err(
        "foreign origin",
        api_client.get::<Value>("https://evil.example/x").await,
    );
    ex.debug(
        "request value",
        &api_client
            .request(&Raw, Some(&grant.authorization().await.unwrap()))
            .unwrap(),
    );

    // invalid_grant on the next refresh.
    refuse_refresh.store(1, Ordering::SeqCst);
    clock.advance(Duration::from_secs(3600));
    ex.err("invalid_grant", grant.access_token().await);
    ex.err("no grant", grant.access_token().await);

    // --- Store failures. --------------------------------------------------------------------
    let key2 = manager.key("user-2");
    let file = store.path_for(&key2);
    let tmp = temp_path_for(&store, &key2);
    std::fs::create_dir(&tmp).unwrap();
    let t = common::token(&access_token(99), Some(&refresh_token(99)), None);
    ex.err("store save", manager.insert("user-2", t.clone()).await);
    std::fs::remove_dir(&tmp).unwrap();
    std::fs::write(&file, format!("{{\"token\": \"{}\"", refresh_token(99))).unwrap();
    ex.err("store load", store.load(&key2).await);
    ex.err(
        "manager on corrupt store",
        manager.grant("user-2").access_token().await,
    );
    let memory = MemoryStore::new();
    memory.save(&key2, &t).await.unwrap();
    ex.debug("memory store", &memory);

    // --- Transport and token-response faults. -----------------------------------------------
    let insecure = HttpRequest::new(
        Method::POST,
        Url::parse(&format!("http://api.example.com/token?code={CODE}")).unwrap(),
    );
    ex.err("insecure", transport.send(insecure).await);
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = HttpRequest::new(
        Method::GET,
        Url::parse(&format!(
            "http://127.0.0.1:{closed_port}/x?access_token={}",
            access_token(1)
        ))
        .unwrap(),
    );
    ex.err("connection refused", transport.send(refused).await);
    let resp = transport
        .send(HttpRequest::new(
            Method::GET,
            Url::parse(&api.url("/api/other")).unwrap(),
        ))
        .await
        .unwrap();
    ex.debug("response", &resp);
    for body in [
        format!(
            "{{\"access_token\": 1, \"refresh_token\": \"{}\"}}",
            refresh_token(7)
        ),
        format!(
            "{{\"access_token\": \"{}\\r\\n\", \"token_type\": \"bearer\"}}",
            access_token(7)
        ),
        format!(
            "{{\"access_token\": \"{}\", \"token_type\": \"mac\"}}",
            access_token(7)
        ),
        format!(
            "{{\"access_token\": \"{}\", \"token_type\": \"bearer\", \"expires_in\": -1}}",
            access_token(7)
        ),
        format!(
            "{{\"access_token\": \"{}\", \"token_type\": \"bearer\", \"refresh_token\": [\"{}\"]}}",
            access_token(7),
            refresh_token(7)
        ),
        format!("not json {}", access_token(7)),
    ] {
        let r = oauth_flow::HttpResponse::new(oauth_flow::http::StatusCode::OK, body);
        ex.err(
            "token response",
            oauth_flow::__private::parse_token_response(&r, SystemTime::now()),
        );
    }

    // --- Other credentials. -----------------------------------------------------------------
    let key = ApiKey::header("X-API-KEY", &secret(API_KEY)).unwrap();
    ex.debug("api key", &key);
    ex.debug("api key authorization", &key.authorization().await.unwrap());
    ex.debug("bearer api key", &ApiKey::bearer(&secret(API_KEY)).unwrap());
    ex.err(
        "bad api key",
        ApiKey::bearer(&secret("CANARY-bad\nkey")).map(|_| ()),
    );
    #[cfg(feature = "jwt")]
    {
        let signer = oauth_flow::JwtSigner::new(
            "sub",
            &secret(JWT_KEY),
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
        .unwrap();
        ex.debug("jwt signer", &signer);
        ex.debug("jwt", &signer.token().unwrap());
        ex.err(
            "jwt lifetime",
            oauth_flow::JwtSigner::new(
                "sub",
                &secret(JWT_KEY),
                Duration::from_secs(6000),
                Duration::from_secs(600),
            )
            .map(|_| ()),
        );
    }

    // --- The canaries really flowed (so their absence below means something). --------------
    let token_requests = token_server.requests();
    let verifier = token_requests
        .iter()
        .find_map(|r| r.param("code_verifier"))
        .expect("the verifier was sent");
    assert_eq!(verifier.len(), 43);
    let basic = token_requests[0]
        .header("authorization")
        .unwrap()
        .strip_prefix("Basic ")
        .unwrap()
        .to_owned();
    assert_eq!(
        STANDARD.decode(&basic).unwrap(),
        format!("{CLIENT_ID}:{CLIENT_SECRET}").as_bytes()
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.bearer() == Some(access_token(2).as_str()))
    );
    let challenge = query_param(&url, "code_challenge");
    assert_eq!(challenge.len(), 43);
    assert!(issued.load(Ordering::SeqCst) >= 3);

    let mut canaries: Vec<String> = vec![
        CLIENT_SECRET.into(),
        CODE.into(),
        API_KEY.into(),
        JWT_KEY.into(),
        state.clone(),
        verifier.clone(),
        basic,
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")),
        URL_SAFE_NO_PAD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")),
        "CANARY".into(),
    ];
    for n in 0..=100 {
        canaries.push(access_token(n));
        canaries.push(refresh_token(n));
    }

    let log = capture.text();
    assert!(
        log.contains("oauth_flow.token_request"),
        "the log captured the flow"
    );
    assert!(log.contains("oauth_flow.api_call"));
    // The API span carries what the issue asks for: method, host, path, status, latency, retries.
    let api_close = log
        .lines()
        .find(|l| l.contains("oauth_flow.api_call") && l.contains("close"))
        .expect("an API call span closed");
    for field in [
        "method=",
        "host=",
        "path=",
        "status=",
        "latency_ms=",
        "retries=",
    ] {
        assert!(
            api_close.contains(field),
            "{field} missing from {api_close}"
        );
    }
    assert!(log.contains("refresh_token"), "grant types are logged");
    for c in &canaries {
        assert!(!log.contains(c.as_str()), "the log contains canary {c:?}");
        for (what, text) in &ex.0 {
            assert!(
                !text.contains(c.as_str()),
                "{what} contains canary {c:?}: {text}"
            );
        }
    }
    assert!(ex.0.len() > 60, "{} exhibits", ex.0.len());
}

/// A trivial endpoint for [`ApiClient::request`].
struct Raw;
impl oauth_flow::Endpoint for Raw {
    type Output = Value;
    fn path(&self) -> std::borrow::Cow<'_, str> {
        "me".into()
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(Some(json!({"q": 1})))
    }
}
