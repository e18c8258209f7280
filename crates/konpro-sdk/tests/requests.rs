//! Snapshots of every request shape the KonPro SDK builds (sans-IO, no server): the authorize
//! URL, the code exchange, the refresh, account.get in both authentication modes and a generic
//! endpoint. Secrets are canaries, redacted in the snapshots (the core's shared redaction set,
//! SECURITY S25) and checked absent from them. Also the builder's base URLs and what a client
//! without a grant (API-key mode) answers.

// A test binary: helpers outside `#[test]` functions panic on unexpected values on purpose.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use insta::assert_json_snapshot;
use konpro_sdk::{
    AccountGet, ApiRequest, Error, ExposeSecret, KonPro, KonProClient, Method,
    PendingAuthorization, SecretString, Token,
};
use oauth_flow::PkceVerifier;
use oauth_flow::test_util::redaction_settings;
use serde_json::{Map, Value, json};

const CLIENT_ID: &str = "konpro-demo-client";
const REDIRECT_URI: &str = "https://example.com/oauth/callback";
const CODE: &str = "CANARY-code-kp-31xQ";
const ACCESS_TOKEN: &str = "CANARY-at-kp-7hQz";
const REFRESH_TOKEN: &str = "CANARY-rt-kp-2mVw";
const API_KEY: &str = "CANARY-apikey-kp-9Lx";

fn konpro() -> KonPro {
    KonPro::builder(CLIENT_ID, REDIRECT_URI).build().unwrap()
}

/// `{ url, query }` of a URL, for a snapshot.
fn url_snapshot(url: &konpro_sdk::Url) -> Value {
    let mut base = url.clone();
    base.set_query(None);
    let query: Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    json!({ "url": base.as_str(), "raw_query_keys": url.query_pairs().map(|(k, _)| k.into_owned()).collect::<Vec<_>>(), "query": query })
}

fn login() -> (konpro_sdk::Url, PendingAuthorization) {
    konpro().authorize_url().unwrap()
}

/// Asserts `snap` against the snapshot `name` with the core's shared redaction set, plus the
/// API-key header, and the whole `Authorization` header, scheme included, as these snapshots
/// were recorded (a later redaction of the same path wins).
fn assert_snapshot(name: &str, snap: &Value) {
    let mut settings = redaction_settings();
    settings.add_redaction(".headers.authorization", "[redacted]");
    settings.add_redaction(r#".headers["x-api-key"]"#, "[redacted]");
    settings.bind(|| assert_json_snapshot!(name, snap));
}

fn state_of(url: &konpro_sdk::Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn assert_no_canary(value: &Value) {
    let text = value.to_string();
    for canary in [CODE, ACCESS_TOKEN, REFRESH_TOKEN, API_KEY] {
        assert!(
            !text.contains(canary),
            "a secret leaked into a snapshot: {text}"
        );
    }
}

#[test]
fn authorize_url_s3_s256_and_documented_parameters() {
    let (url, _pending) = login();
    let snap = url_snapshot(&url);
    let q = &snap["query"];
    // SECURITY S1/S2/S3: a fresh state of >= 128 bits, an S256 challenge, no verifier.
    assert!(q["state"].as_str().unwrap().len() >= 22);
    assert_eq!(q["code_challenge"].as_str().unwrap().len(), 43);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.get("code_verifier").is_none());
    // SECURITY S15: a public client: no secret anywhere.
    assert!(!url.as_str().contains("secret"));
    assert_snapshot("authorize_url", &snap);
}

#[test]
fn each_login_draws_a_fresh_state_and_verifier_s1_s2() {
    let (a, _) = login();
    let (b, _) = login();
    assert_ne!(state_of(&a), state_of(&b));
    let challenge = |u: &konpro_sdk::Url| {
        u.query_pairs()
            .find(|(k, _)| k == "code_challenge")
            .map(|(_, v)| v.into_owned())
    };
    assert_ne!(challenge(&a), challenge(&b));
}

#[test]
fn exchange_request_s4_s15_form_with_verifier_and_no_secret() {
    let konpro = konpro();
    let (url, pending) = konpro.authorize_url().unwrap();
    let state = state_of(&url);
    let challenge = url
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    let req = konpro.exchange_code_request(&code).unwrap();
    let snap = req.to_snapshot();

    assert_eq!(snap["body"]["code"], CODE);
    // SECURITY S2/S3: the verifier sent is the one the challenge was computed from.
    let verifier = snap["body"]["code_verifier"].as_str().unwrap().to_owned();
    assert_eq!(
        PkceVerifier::parse(verifier).unwrap().challenge(),
        challenge
    );
    // SECURITY S4: the redirect URI byte-identical to the one in the authorize URL.
    assert_eq!(snap["body"]["redirect_uri"], REDIRECT_URI);
    // SECURITY S15: no client secret, no Authorization header, nothing in the query.
    assert!(snap["body"].get("client_secret").is_none());
    assert!(snap["headers"].get("authorization").is_none());
    assert_eq!(snap["query"], json!({}));

    assert_snapshot("exchange_code_request", &snap);
}

#[test]
fn refresh_request_goes_to_the_separate_refresh_endpoint() {
    let req = konpro()
        .refresh_request(&SecretString::from(REFRESH_TOKEN.to_owned()))
        .unwrap();
    let snap = req.to_snapshot();
    assert_eq!(snap["url"], "https://api.konpro.ai/v1/oauth/refresh_token");
    assert_eq!(snap["body"]["refresh_token"], REFRESH_TOKEN);
    assert!(snap["body"].get("client_secret").is_none());
    assert_snapshot("refresh_request", &snap);
}

fn token(expires_in: u64) -> Token {
    Token {
        access_token: SecretString::from(ACCESS_TOKEN.to_owned()),
        token_type: "Bearer".into(),
        expires_at: Some(SystemTime::now() + Duration::from_secs(expires_in)),
        issued_at: None,
        refresh_token: Some(SecretString::from(REFRESH_TOKEN.to_owned())),
        scope: None,
        extra: Map::new(),
    }
}

#[tokio::test]
async fn account_get_oauth_mode_s19_bearer_header_only() {
    let konpro = konpro();
    konpro
        .token_manager()
        .insert("user-42", token(3600))
        .await
        .unwrap();
    let client = konpro.client("user-42").unwrap();
    let req = client.request(&AccountGet).await.unwrap();
    let snap = req.to_snapshot();
    assert_eq!(
        snap["headers"]["authorization"],
        format!("Bearer {ACCESS_TOKEN}")
    );
    assert!(snap["headers"].get("x-api-key").is_none());
    assert!(!req.url.as_str().contains(ACCESS_TOKEN));
    assert!(req.headers["authorization"].is_sensitive());
    assert_snapshot("account_get_oauth", &snap);
}

#[tokio::test]
async fn account_get_api_key_mode_sends_x_api_key_only() {
    let client = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .build()
        .unwrap();
    let req = client.request(&AccountGet).await.unwrap();
    let snap = req.to_snapshot();
    assert_eq!(snap["headers"]["x-api-key"], API_KEY);
    assert!(snap["headers"].get("authorization").is_none());
    assert!(req.headers["x-api-key"].is_sensitive());
    assert_snapshot("account_get_api_key", &snap);
}

#[tokio::test]
async fn any_endpoint_with_the_same_authentication() {
    let client = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .build()
        .unwrap();
    let endpoint = ApiRequest::<Value>::new(Method::POST, "v1/some-endpoint")
        .query("limit", "10")
        .json(json!({ "title": "Quarterly update", "dimension": { "width": 1280 } }));
    let req = client.request(&endpoint).await.unwrap();
    let snap = req.to_snapshot();
    assert_eq!(snap["url"], "https://api.konpro.ai/v1/some-endpoint");
    assert_snapshot("generic_endpoint_api_key", &snap);
}

#[tokio::test]
async fn s19_a_path_on_another_origin_is_refused() {
    let client = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .api_base_url("https://api.konpro.ai/prefix")
        .build()
        .unwrap();
    for path in [
        "https://evil.example/v1/x",
        "http://api.konpro.ai/v1/x",
        "../v1/x",
    ] {
        let err = client
            .request(&ApiRequest::<Value>::get(path))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not on the configured API origin"),
            "{path}: {err}"
        );
    }
    // A leading slash stays below the base (it is relative to the API base URL).
    let req = client
        .request(&ApiRequest::<Value>::get("/v1/x"))
        .await
        .unwrap();
    assert_eq!(req.url.as_str(), "https://api.konpro.ai/prefix/v1/x");
}

#[tokio::test]
async fn staging_base_urls_move_every_endpoint() {
    let konpro = KonPro::builder(CLIENT_ID, REDIRECT_URI)
        .app_base_url("https://app.staging.konpro.ai")
        .api_base_url("https://api.staging.konpro.ai/")
        .build()
        .unwrap();
    let (url, _) = konpro.authorize_url().unwrap();
    assert!(
        url.as_str()
            .starts_with("https://app.staging.konpro.ai/oauth/authorize?")
    );
    let refresh = konpro
        .refresh_request(&SecretString::from(REFRESH_TOKEN.to_owned()))
        .unwrap();
    assert_eq!(
        refresh.url.as_str(),
        "https://api.staging.konpro.ai/v1/oauth/refresh_token"
    );
    let key_client = konpro
        .api_key_client(SecretString::from(API_KEY.to_owned()))
        .unwrap();
    assert_eq!(
        account_get_url(&key_client).await,
        "https://api.staging.konpro.ai/v1/pacific/account.get"
    );
}

/// Where `client` sends account.get.
async fn account_get_url(client: &KonProClient) -> String {
    client.request(&AccountGet).await.unwrap().url.into()
}

#[test]
fn s8_insecure_base_urls_are_refused() {
    let err = KonPro::builder(CLIENT_ID, REDIRECT_URI)
        .app_base_url("http://app.konpro.ai")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("must use https"), "{err}");
    for bad in [
        "http://konpro.example",
        "https://api.konpro.ai/?x=1",
        "not a url",
    ] {
        // Checked at build(), whichever setter took it: a typed configuration error.
        let err = KonPro::builder(CLIENT_ID, REDIRECT_URI)
            .base_url(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config(konpro_sdk::ConfigError::InvalidBaseUrl { .. })
            ),
            "{bad}: {err:?}"
        );
        let err = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
            .api_base_url(bad)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn s25_debug_output_never_shows_a_secret() {
    let konpro = konpro();
    konpro
        .token_manager()
        .insert("user-42", token(3600))
        .await
        .unwrap();
    let (url, pending) = konpro.authorize_url().unwrap();
    let state = state_of(&url);
    let oauth_client = konpro.client("user-42").unwrap();
    let key_client = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .build()
        .unwrap();
    let req = oauth_client.request(&AccountGet).await.unwrap();
    let key_req = key_client.request(&AccountGet).await.unwrap();
    let token = oauth_client
        .grant()
        .unwrap()
        .token()
        .await
        .unwrap()
        .unwrap();
    let dbg = format!(
        "{konpro:?} {pending:?} {oauth_client:?} {key_client:?} {req:?} {key_req:?} {token:?} {:?}",
        KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
    );
    for secret in [ACCESS_TOKEN, REFRESH_TOKEN, API_KEY, state.as_str()] {
        assert!(!dbg.contains(secret), "secret in Debug output: {dbg}");
    }
    // And nothing secret survives the redactions of the snapshots above.
    let mut snap = req.to_snapshot();
    snap["headers"]["authorization"] = json!("[redacted]");
    assert_no_canary(&snap);
}

#[tokio::test]
async fn a_client_for_an_unknown_user_needs_a_login() {
    let err = konpro()
        .client("nobody")
        .unwrap()
        .request(&AccountGet)
        .await
        .unwrap_err();
    assert!(err.is_reauthorization_required(), "{err}");
    assert!(konpro().client("").is_err());
}

#[tokio::test]
async fn one_base_url_serves_both_hosts_and_a_per_host_url_overrides_it() {
    let sandbox = "http://127.0.0.1:4010/konpro";
    let refresh = |konpro: &KonPro| {
        konpro
            .refresh_request(&SecretString::from(REFRESH_TOKEN.to_owned()))
            .unwrap()
            .url
    };

    let konpro = KonPro::builder(CLIENT_ID, REDIRECT_URI)
        .base_url(sandbox)
        .build()
        .unwrap();
    let (url, _) = konpro.authorize_url().unwrap();
    assert!(
        url.as_str()
            .starts_with("http://127.0.0.1:4010/konpro/oauth/authorize?")
    );
    assert_eq!(
        refresh(&konpro).as_str(),
        "http://127.0.0.1:4010/konpro/v1/oauth/refresh_token"
    );
    assert_eq!(konpro.base_urls().app(), konpro.base_urls().api());

    // The per-host setting wins whichever comes first.
    for konpro in [
        KonPro::builder(CLIENT_ID, REDIRECT_URI)
            .base_url(sandbox)
            .api_base_url("https://api.staging.konpro.ai"),
        KonPro::builder(CLIENT_ID, REDIRECT_URI)
            .api_base_url("https://api.staging.konpro.ai")
            .base_url(sandbox),
    ] {
        let konpro = konpro.build().unwrap();
        let (url, _) = konpro.authorize_url().unwrap();
        assert!(url.as_str().starts_with("http://127.0.0.1:4010/konpro/"));
        assert_eq!(
            refresh(&konpro).as_str(),
            "https://api.staging.konpro.ai/v1/oauth/refresh_token"
        );
    }

    // The API-key builder takes the same root for the API.
    let keyed = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .base_url(konpro_sdk::BaseUrl::parse(sandbox).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        account_get_url(&keyed).await,
        "http://127.0.0.1:4010/konpro/v1/pacific/account.get"
    );
}

#[tokio::test]
async fn api_key_mode_has_no_grant_to_refresh_read_or_forget() {
    let client = KonProClient::api_key(SecretString::from(API_KEY.to_owned()))
        .build()
        .unwrap();
    let operation = |e: Error| match e {
        Error::ApiKeyMode { operation } => operation,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(operation(client.refresh().await.unwrap_err()), "refresh");
    assert_eq!(
        operation(client.access_token().await.unwrap_err()),
        "access_token"
    );
    assert_eq!(operation(client.forget().await.unwrap_err()), "forget");
    assert!(client.token().await.unwrap().is_none());
    assert_eq!(client.expires_at().await.unwrap(), None);
    // The key never shows in the error.
    let err = client.refresh().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(API_KEY));
}

#[tokio::test]
async fn restore_finds_a_stored_grant_and_forget_removes_it() {
    let konpro = konpro();
    assert!(konpro.restore("user-42").await.unwrap().is_none());
    assert!(konpro.restore("").await.is_err());

    let stored = token(3600);
    let expiry = stored.expires_at;
    konpro
        .token_manager()
        .insert("user-42", stored)
        .await
        .unwrap();
    let client = konpro.restore("user-42").await.unwrap().unwrap();
    assert_eq!(client.subject(), Some("user-42"));
    assert_eq!(client.expires_at().await.unwrap(), expiry);
    let token = client.token().await.unwrap().unwrap();
    assert_eq!(token.refresh_token.unwrap().expose_secret(), REFRESH_TOKEN);
    // A fresh token is served as it is: no request (this KonPro has no server to answer).
    let access = client.access_token().await.unwrap();
    assert_eq!(access.secret().expose_secret(), ACCESS_TOKEN);

    client.forget().await.unwrap();
    assert!(konpro.restore("user-42").await.unwrap().is_none());
    assert!(client.token().await.unwrap().is_none());
    assert_eq!(client.expires_at().await.unwrap(), None);
}
