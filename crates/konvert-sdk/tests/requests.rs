//! Snapshots of every request shape konvert-sdk builds (token request, GraphQL query and
//! mutation), secrets redacted, plus exact checks of the parts the snapshots redact.

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use konvert_sdk::oauth_flow::test_util::redaction_settings;
use konvert_sdk::oauth_flow::{ExposeSecret as _, ManualClock};
use konvert_sdk::operations::{
    CreateContact, GetViewer, ListContacts, create_contact, get_viewer, list_contacts,
};
use konvert_sdk::{
    Auth, Environment, KonvertClient, KonvertClientBuilder, PRODUCTION_BASE_URL, SecretString, Url,
};

/// The credentials of Konvert's own documentation example.
const DOC_KEY: &str = "yourApiKey";
const DOC_SECRET: &str = "yourApiSecret1234567890";
/// The `Authorization` value of the documentation's token request example.
const DOC_BASIC: &str = "Basic eW91ckFwaUtleTp5b3VyQXBpU2VjcmV0MTIzNDU2Nzg5MA==";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// The shared redaction set (S25), with each `Authorization` value redacted whole, scheme
/// included, as these snapshots always had it.
fn redactions() -> insta::Settings {
    let mut settings = redaction_settings();
    for selector in [".headers.authorization", ".*.headers.authorization"] {
        settings.add_redaction(selector, "[redacted]");
    }
    settings
}

/// A client-credentials builder with API key `key` and the documentation's secret.
fn cc_builder(key: &str) -> KonvertClientBuilder {
    KonvertClient::builder(Auth::client_credentials(key, secret(DOC_SECRET)))
}

/// A JWT builder whose clock stands still.
fn jwt_builder() -> KonvertClientBuilder {
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_746_818_722),
    ));
    KonvertClient::builder(Auth::jwt(
        DOC_KEY,
        secret(DOC_SECRET),
        Duration::from_secs(3600),
    ))
    .clock(clock)
}

fn jwt_client() -> KonvertClient {
    jwt_builder().build().unwrap()
}

/// S14/S15: the token request is exactly the documented one: Basic in the header, only
/// `grant_type=client_credentials` in the form body, nothing in the URL.
#[test]
fn s14_s15_token_request_matches_the_documented_example() {
    let client = cc_builder(DOC_KEY).build().unwrap();
    let req = client.token_request().unwrap().unwrap();
    assert_eq!(
        req.headers.get("authorization").unwrap().to_str().unwrap(),
        DOC_BASIC
    );
    assert!(req.headers.get("authorization").unwrap().is_sensitive());
    assert_eq!(req.body, b"grant_type=client_credentials");
    assert_eq!(req.url.query(), None);
    redactions().bind(|| insta::assert_json_snapshot!("token_request", req.to_snapshot()));
}

/// Characters RFC 6749 §2.3.1 form-encoding would rewrite (`:` too).
const AWKWARD: [(&str, &str); 6] = [
    ("plus", "+"),
    ("slash", "/"),
    ("equals", "="),
    ("percent", "%"),
    ("colon", ":"),
    ("space", " "),
];

/// S14 as document 003 has it (issue 18 part 4): Basic carries `base64(key:secret)` with key
/// and secret as they are, so a secret holding any awkward character reaches Konvert unchanged
/// (form-encoding it first would send `%2B` for `+`, and Konvert would refuse the secret).
#[test]
fn s14_basic_credentials_are_the_raw_key_and_secret() {
    let mut view = serde_json::Map::new();
    for (name, c) in AWKWARD {
        let api_secret = format!("konvert{c}secret{c}{c}");
        let client = KonvertClient::builder(Auth::client_credentials(DOC_KEY, secret(&api_secret)))
            .build()
            .unwrap();
        let req = client.token_request().unwrap().unwrap();
        let header = req.headers.get("authorization").unwrap();
        assert!(header.is_sensitive());
        let b64 = header.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
        assert_eq!(decoded, format!("{DOC_KEY}:{api_secret}"), "{name}");
        assert_eq!(req.body, b"grant_type=client_credentials");
        view.insert(name.to_owned(), req.to_snapshot());
    }
    redactions().bind(|| {
        insta::assert_json_snapshot!(
            "token_request_awkward_secrets",
            serde_json::Value::Object(view)
        );
    });
}

/// Raw Basic credentials split at the first colon: an API key holding one is refused when the
/// client is built, before anything is sent.
#[test]
fn s14_an_api_key_with_a_colon_is_refused() {
    let err = cc_builder("key:part").build().unwrap_err();
    assert!(
        matches!(
            err,
            konvert_sdk::Error::Config(konvert_sdk::oauth_flow::ConfigError::ColonInClientId)
        ),
        "{err:?}"
    );
}

#[test]
fn staging_token_request_goes_to_the_staging_host() {
    let client = cc_builder(DOC_KEY)
        .environment(Environment::Staging)
        .build()
        .unwrap();
    assert_eq!(client.environment(), Environment::Staging);
    let req = client.token_request().unwrap().unwrap();
    assert_eq!(
        req.url.as_str(),
        "https://api.staging.konvertapp.com/oauth/token"
    );
}

#[test]
fn jwt_mode_has_no_token_request() {
    assert!(jwt_client().token_request().unwrap().is_none());
}

/// The request carries the client's current JWT as a sensitive `Authorization: Bearer`;
/// returns that JWT.
async fn assert_bearer_is_the_current_jwt(
    client: &KonvertClient,
    req: &konvert_sdk::HttpRequest,
) -> konvert_sdk::AccessToken {
    let auth = req.headers.get("authorization").unwrap();
    assert!(auth.is_sensitive());
    let jwt = client.access_token().await.unwrap();
    assert_eq!(
        auth.to_str().unwrap(),
        format!("Bearer {}", jwt.secret().expose_secret())
    );
    jwt
}

/// S19: the GraphQL request is a JSON POST to `/api` with `query`, `variables` and
/// `operationName`, and the bearer only in the `Authorization` header.
#[tokio::test]
async fn s19_query_request_shape() {
    let client = jwt_client();
    let req = client
        .request::<ListContacts>(list_contacts::Variables {
            first: Some(2),
            after: Some("Y3Vyc29yOjE=".to_owned()),
            filter: Some(list_contacts::ContactFilter {
                search: Some("ada".to_owned()),
                company_id: None,
                lifecycle_stage: Some(list_contacts::LifecycleStage::CUSTOMER),
            }),
        })
        .await
        .unwrap();
    let jwt = assert_bearer_is_the_current_jwt(&client, &req).await;
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(!body.contains(jwt.secret().expose_secret()));
    assert_eq!(req.url.as_str(), "https://api.konvertapp.com/api");
    redactions().bind(|| insta::assert_json_snapshot!("graphql_query_request", req.to_snapshot()));
}

#[tokio::test]
async fn mutation_request_shape() {
    let client = jwt_builder()
        .base_url("http://127.0.0.1:9/konvert")
        .build()
        .unwrap();
    let req = client
        .request::<CreateContact>(create_contact::Variables {
            input: create_contact::CreateContactInput {
                first_name: "Grace".to_owned(),
                last_name: "Hopper".to_owned(),
                email: "grace@example.com".to_owned(),
                phone: None,
                job_title: Some("Rear Admiral".to_owned()),
                company_id: Some("company-1".to_owned()),
                lifecycle_stage: None,
            },
        })
        .await
        .unwrap();
    assert_eq!(req.url.as_str(), "http://127.0.0.1:9/konvert/api");
    redactions()
        .bind(|| insta::assert_json_snapshot!("graphql_mutation_request", req.to_snapshot()));
}

/// An operation without variables sends `"variables": {}` rather than null.
#[tokio::test]
async fn operation_without_variables_sends_an_empty_object() {
    let req = jwt_client()
        .request::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["variables"], serde_json::json!({}));
    assert_eq!(body["operationName"], "GetViewer");
}

/// S8: a base URL must be https, or http on loopback only.
#[test]
fn s8_plain_http_base_url_is_refused() {
    let err = cc_builder(DOC_KEY)
        .base_url("http://api.konvertapp.com")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            konvert_sdk::Error::Config(konvert_sdk::oauth_flow::ConfigError::InvalidBaseUrl {
                problem: konvert_sdk::oauth_flow::BaseUrlError::Insecure,
                ..
            })
        ),
        "{err:?}"
    );
}

/// S25: no committed snapshot holds the secret, the Basic credentials or a JWT.
#[test]
fn s25_snapshots_hold_no_secret() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        seen += 1;
        assert!(!text.contains(DOC_SECRET));
        assert!(!text.contains("secret"), "an API secret in a snapshot");
        assert!(!text.contains(DOC_BASIC.trim_start_matches("Basic ")));
        assert!(!text.contains("eyJ"), "a JWT in a snapshot");
    }
    assert!(seen >= 3);
}

/// Issue 20: `query_raw`'s request is the typed query's shape (JSON POST to `/api`, the
/// bearer only in the header) with `query` and `variables` and no `operationName`.
#[tokio::test]
async fn raw_query_request_shape() {
    let client = jwt_client();
    let req = client
        .request_raw(
            "query($id: ID!) { contact(id: $id) { id email } }",
            serde_json::json!({ "id": "contact-1" }),
        )
        .await
        .unwrap();
    assert_bearer_is_the_current_jwt(&client, &req).await;
    assert_eq!(req.url.as_str(), "https://api.konvertapp.com/api");
    redactions()
        .bind(|| insta::assert_json_snapshot!("graphql_raw_query_request", req.to_snapshot()));

    let req = client
        .request_raw("{ viewer { apiKey } }", serde_json::Value::Null)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["variables"], serde_json::json!({}));
    let err = client
        .request_raw("{ viewer { apiKey } }", serde_json::json!("not an object"))
        .await
        .unwrap_err();
    assert!(matches!(err, konvert_sdk::Error::Encode { .. }), "{err:?}");
}

/// Issue 20: production unless told otherwise; `base_url` moves whichever environment was
/// chosen (token and GraphQL endpoints) to another host, the client still reporting that
/// environment; the URL is held to S8 like any base URL.
#[tokio::test]
async fn base_url_overrides_the_chosen_environment() {
    let client = cc_builder(DOC_KEY).build().unwrap();
    assert_eq!(client.environment(), Environment::Production);
    assert_eq!(client.base_url(), PRODUCTION_BASE_URL);

    for env in [Environment::Production, Environment::Staging] {
        let client = cc_builder(DOC_KEY)
            .base_url("https://konvert-proxy.example.test/")
            .environment(env)
            .build()
            .unwrap();
        assert_eq!(client.environment(), env);
        assert_eq!(client.base_url(), "https://konvert-proxy.example.test");
        let token = client.token_request().unwrap().unwrap();
        assert_eq!(
            token.url.as_str(),
            "https://konvert-proxy.example.test/oauth/token"
        );
    }

    let jwt = jwt_builder()
        .environment(Environment::Staging)
        .base_url(Url::parse("http://127.0.0.1:9/konvert").unwrap())
        .build()
        .unwrap();
    assert_eq!(jwt.environment(), Environment::Staging);
    let req = jwt
        .request::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    assert_eq!(req.url.as_str(), "http://127.0.0.1:9/konvert/api");

    for (url, problem) in [
        (
            "http://staging.example.test",
            konvert_sdk::BaseUrlError::Insecure,
        ),
        (
            "https://staging.example.test/?tenant=1",
            konvert_sdk::BaseUrlError::Query,
        ),
    ] {
        let err = cc_builder(DOC_KEY)
            .environment(Environment::Staging)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                &err,
                konvert_sdk::Error::Config(konvert_sdk::ConfigError::InvalidBaseUrl { problem: p, .. })
                    if *p == problem
            ),
            "{url}: {err:?}"
        );
    }
}
