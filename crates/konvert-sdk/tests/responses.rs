//! Offline behaviour through a scripted transport: token caching and single-flight, the
//! 401 renew-and-retry, and how each kind of response maps to a typed result.

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use konvert_sdk::oauth_flow::http::StatusCode;
use konvert_sdk::oauth_flow::test_util::ScriptedTransport;
use konvert_sdk::oauth_flow::{ErrorCode, HttpRequest, HttpResponse};
use konvert_sdk::operations::{GetContact, ListEnrichments, get_contact, list_enrichments};
use konvert_sdk::{Auth, Error, KonvertClient, SecretString};

const SECRET: &str = "scripted-secret-value-0123456789";

const CONTACT: &str = r#"{"data":{"contact":{"id":"contact-1","fullName":"Ada Lovelace",
  "email":"ada@example.com","phone":null,"jobTitle":"CTO","lifecycleStage":"LEAD",
  "createdAt":"2024-01-01T00:00:00Z","company":null,"notes":[],"deals":[],"newField":1}}}"#;

fn response(status: u16, body: &str) -> HttpResponse {
    let mut resp = HttpResponse::new(StatusCode::from_u16(status).unwrap(), body);
    resp.headers
        .insert("content-type", "application/json".parse().unwrap());
    resp
}

fn is_token(request: &HttpRequest) -> bool {
    request.url.path().ends_with("/oauth/token")
}

/// Answers token requests with fresh tokens (`token-1`, `token-2`, ...) and API requests with
/// a `GetContact` success, unless a scripted response applies first.
fn scripted() -> ScriptedTransport {
    let tokens = AtomicUsize::new(0);
    ScriptedTransport::with_fallback(move |request| {
        if is_token(request) {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            response(
                200,
                &format!(
                    r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":21600}}"#
                ),
            )
        } else {
            response(200, CONTACT)
        }
    })
}

/// Queues an answer for the next API (not token) request.
fn script_api(transport: &ScriptedTransport, status: u16, body: &str) {
    transport.push_when(|r| !is_token(r), response(status, body));
}

fn token_calls(transport: &ScriptedTransport) -> usize {
    transport.count(is_token)
}

fn api_calls(transport: &ScriptedTransport) -> usize {
    transport.count(|r| !is_token(r))
}

/// The `Authorization` header of each API request, in order.
fn bearers(transport: &ScriptedTransport) -> Vec<String> {
    transport
        .requests()
        .iter()
        .filter(|r| !is_token(r))
        .map(|r| {
            r.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        })
        .collect()
}

fn setup(mode: &str) -> (KonvertClient, Arc<ScriptedTransport>) {
    let transport = Arc::new(scripted());
    let secret = SecretString::from(SECRET.to_owned());
    let auth = match mode {
        "cc" => Auth::client_credentials("key", secret),
        _ => Auth::jwt("key", secret, std::time::Duration::from_secs(600)),
    };
    let client = KonvertClient::builder(auth)
        .transport(transport.clone())
        .build()
        .unwrap();
    (client, transport)
}

fn vars() -> get_contact::Variables {
    get_contact::Variables {
        id: "contact-1".to_owned(),
    }
}

#[tokio::test]
async fn typed_data_tolerates_unknown_fields() {
    let (client, _) = setup("cc");
    let data = client.query::<GetContact>(vars()).await.unwrap();
    let contact = data.contact.unwrap();
    assert_eq!(contact.full_name, "Ada Lovelace");
    assert_eq!(contact.phone, None);
}

/// One token for many calls, and one token request for many concurrent first calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_client_credentials_token_is_cached_and_single_flight() {
    let (client, transport) = setup("cc");
    let calls = (0..16).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.query::<GetContact>(vars()).await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    for _ in 0..10 {
        client.query::<GetContact>(vars()).await.unwrap();
    }
    assert_eq!(token_calls(&transport), 1);
    assert_eq!(api_calls(&transport), 26);
    assert!(bearers(&transport).iter().all(|b| b == "Bearer token-1"));
}

/// Issue 20: `forget` drops the cached token and its expiry without sending anything; the
/// next call requests a new one, which later calls reuse.
#[tokio::test]
async fn forget_drops_the_client_credentials_token() {
    let (client, transport) = setup("cc");
    client.query::<GetContact>(vars()).await.unwrap();
    assert!(client.expires_at().await.unwrap().is_some());
    client.forget().await.unwrap();
    assert_eq!(client.expires_at().await.unwrap(), None);
    assert_eq!(transport.requests().len(), 2, "forgetting sends nothing");
    client.query::<GetContact>(vars()).await.unwrap();
    client.query::<GetContact>(vars()).await.unwrap();
    assert_eq!(token_calls(&transport), 2);
    assert_eq!(
        bearers(&transport),
        vec!["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    );
}

/// S20: a 401 renews the token once and retries once.
#[tokio::test]
async fn s20_unauthorized_renews_once_and_retries() {
    let (client, transport) = setup("cc");
    script_api(
        &transport,
        401,
        r#"{"errors":[{"message":"the token expired","extensions":{"code":"UNAUTHENTICATED"}}]}"#,
    );
    client.query::<GetContact>(vars()).await.unwrap();
    assert_eq!(token_calls(&transport), 2);
    assert_eq!(
        bearers(&transport),
        vec!["Bearer token-1", "Bearer token-2"]
    );
}

/// Two 401s: one renewal, then a typed `Unauthorized` carrying the server's GraphQL error.
#[tokio::test]
async fn s20_persistent_unauthorized_is_typed() {
    let (client, transport) = setup("jwt");
    for _ in 0..2 {
        script_api(
            &transport,
            401,
            r#"{"errors":[{"message":"the JWT signature does not verify","extensions":{"code":"UNAUTHENTICATED"}}]}"#,
        );
    }
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    let Error::Unauthorized { errors, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors[0].code(), Some("UNAUTHENTICATED"));
    assert_eq!(api_calls(&transport), 2);
    assert_eq!(token_calls(&transport), 0);
}

#[tokio::test]
async fn graphql_errors_without_data() {
    let (client, transport) = setup("cc");
    script_api(
        &transport,
        200,
        r#"{"data":null,"errors":[{"message":"Unknown argument","locations":[{"line":2,"column":11}]}]}"#,
    );
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(
        matches!(&err, Error::GraphQl { errors } if errors.len() == 1),
        "{err:?}"
    );
    assert_eq!(err.status(), None);
}

const PARTIAL: &str = r#"{"data":{"contacts":{"pageInfo":{"hasNextPage":false,"endCursor":"Y"},
  "edges":[{"node":{"id":"contact-4","enrichment":{"linkedinUrl":"u","seniority":"SENIOR","score":1}}},
           {"node":{"id":"contact-5","enrichment":null}}]}},
  "errors":[{"message":"enrichment provider unavailable for contact-5",
             "path":["contacts","edges",1,"node","enrichment"],
             "extensions":{"code":"ENRICHMENT_UNAVAILABLE"}}]}"#;

#[tokio::test]
async fn partial_data_is_its_own_error_and_can_be_accepted() {
    let (client, transport) = setup("cc");
    let vars = || list_enrichments::Variables {
        first: Some(2),
        after: Some("X".to_owned()),
    };
    script_api(&transport, 200, PARTIAL);
    script_api(&transport, 200, PARTIAL);

    let err = client.query::<ListEnrichments>(vars()).await.unwrap_err();
    let Error::PartialData(partial) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(partial.errors[0].code(), Some("ENRICHMENT_UNAVAILABLE"));
    let data: list_enrichments::ResponseData = partial.decode().unwrap();
    assert!(data.contacts.edges[1].node.enrichment.is_none());

    let ok = client
        .query_partial::<ListEnrichments>(vars())
        .await
        .unwrap();
    assert!(ok.is_partial());
    assert!(ok.data.contacts.edges[0].node.enrichment.is_some());
    assert!(ok.data.contacts.edges[1].node.enrichment.is_none());
}

#[tokio::test]
async fn http_errors_are_typed() {
    let (client, transport) = setup("cc");
    script_api(&transport, 502, "<html><body>Bad gateway</body></html>");
    script_api(&transport, 403, r#"{"errors":[{"message":"forbidden"}]}"#);
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 502, excerpt, .. } if excerpt.contains("Bad gateway")),
        "{err:?}"
    );
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 403, errors, .. } if errors[0].message == "forbidden")
    );
}

#[tokio::test]
async fn data_of_the_wrong_shape_is_a_decode_error() {
    let (client, transport) = setup("cc");
    script_api(&transport, 200, r#"{"data":{"contact":{"id":7}}}"#);
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

/// S13/S25: a refused client is an OAuth error from the token endpoint; no message shows the
/// secret.
#[tokio::test]
async fn s13_s25_token_endpoint_errors_are_typed_and_secret_free() {
    let (client, transport) = setup("cc");
    transport.push_when(
        is_token,
        response(
            401,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        ),
    );
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert_eq!(
        match &err {
            Error::OAuth(e) => e.oauth_code().cloned(),
            _ => None,
        },
        Some(ErrorCode::InvalidClient),
        "{err:?}"
    );
    assert_eq!(api_calls(&transport), 0);
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET));
}
