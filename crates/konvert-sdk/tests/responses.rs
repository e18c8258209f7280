//! Offline behaviour through a scripted transport: token caching and single-flight, the
//! 401 renew-and-retry, and how each kind of response maps to a typed result.

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use konvert_sdk::oauth_flow::http::StatusCode;
use konvert_sdk::oauth_flow::{self, ErrorCode, HttpRequest, HttpResponse, Transport};
use konvert_sdk::operations::{GetContact, ListEnrichments, get_contact, list_enrichments};
use konvert_sdk::{Auth, Environment, Error, KonvertClient, SecretString};

const SECRET: &str = "scripted-secret-value-0123456789";

/// Answers token requests with fresh tokens and API requests from a script (default: a
/// `GetContact` success), counting both.
#[derive(Default)]
struct Scripted {
    token_calls: AtomicUsize,
    api_calls: AtomicUsize,
    api_script: Mutex<VecDeque<(u16, String)>>,
    token_script: Mutex<VecDeque<(u16, String)>>,
    bearers: Mutex<Vec<String>>,
}

const CONTACT: &str = r#"{"data":{"contact":{"id":"contact-1","fullName":"Ada Lovelace",
  "email":"ada@example.com","phone":null,"jobTitle":"CTO","lifecycleStage":"LEAD",
  "createdAt":"2024-01-01T00:00:00Z","company":null,"notes":[],"deals":[],"newField":1}}}"#;

fn response(status: u16, body: &str) -> HttpResponse {
    let mut resp = HttpResponse::new(StatusCode::from_u16(status).unwrap(), body);
    resp.headers
        .insert("content-type", "application/json".parse().unwrap());
    resp
}

#[async_trait]
impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> oauth_flow::Result<HttpResponse> {
        // Let concurrent callers pile up.
        tokio::task::yield_now().await;
        if request.url.path().ends_with("/oauth/token") {
            let n = self.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((status, body)) = self.token_script.lock().unwrap().pop_front() {
                return Ok(response(status, &body));
            }
            return Ok(response(
                200,
                &format!(
                    r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":21600}}"#
                ),
            ));
        }
        self.api_calls.fetch_add(1, Ordering::SeqCst);
        let bearer = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        self.bearers.lock().unwrap().push(bearer);
        let (status, body) = self
            .api_script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((200, CONTACT.to_owned()));
        Ok(response(status, &body))
    }
}

fn setup(mode: &str) -> (KonvertClient, Arc<Scripted>) {
    let transport = Arc::new(Scripted::default());
    let secret = SecretString::from(SECRET.to_owned());
    let auth = match mode {
        "cc" => Auth::client_credentials("key", secret),
        _ => Auth::jwt("key", secret, std::time::Duration::from_secs(600)),
    };
    let client = KonvertClient::builder(Environment::Production, auth)
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
    assert_eq!(transport.token_calls.load(Ordering::SeqCst), 1);
    assert_eq!(transport.api_calls.load(Ordering::SeqCst), 26);
    assert!(
        transport
            .bearers
            .lock()
            .unwrap()
            .iter()
            .all(|b| b == "Bearer token-1")
    );
}

/// S20: a 401 renews the token once and retries once.
#[tokio::test]
async fn s20_unauthorized_renews_once_and_retries() {
    let (client, transport) = setup("cc");
    transport.api_script.lock().unwrap().push_back((
        401,
        r#"{"errors":[{"message":"the token expired","extensions":{"code":"UNAUTHENTICATED"}}]}"#
            .to_owned(),
    ));
    client.query::<GetContact>(vars()).await.unwrap();
    assert_eq!(transport.token_calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        *transport.bearers.lock().unwrap(),
        vec!["Bearer token-1", "Bearer token-2"]
    );
}

/// Two 401s: one renewal, then a typed `Unauthorized` carrying the server's GraphQL error.
#[tokio::test]
async fn s20_persistent_unauthorized_is_typed() {
    let (client, transport) = setup("jwt");
    for _ in 0..2 {
        transport.api_script.lock().unwrap().push_back((
            401,
            r#"{"errors":[{"message":"the JWT signature does not verify","extensions":{"code":"UNAUTHENTICATED"}}]}"#
                .to_owned(),
        ));
    }
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    let Error::Unauthorized { errors, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors[0].code(), Some("UNAUTHENTICATED"));
    assert_eq!(transport.api_calls.load(Ordering::SeqCst), 2);
    assert_eq!(transport.token_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn graphql_errors_without_data() {
    let (client, transport) = setup("cc");
    transport.api_script.lock().unwrap().push_back((
        200,
        r#"{"data":null,"errors":[{"message":"Unknown argument","locations":[{"line":2,"column":11}]}]}"#.to_owned(),
    ));
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
    transport
        .api_script
        .lock()
        .unwrap()
        .extend([(200, PARTIAL.to_owned()), (200, PARTIAL.to_owned())]);

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
    transport.api_script.lock().unwrap().extend([
        (502, "<html><body>Bad gateway</body></html>".to_owned()),
        (403, r#"{"errors":[{"message":"forbidden"}]}"#.to_owned()),
    ]);
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
    transport
        .api_script
        .lock()
        .unwrap()
        .push_back((200, r#"{"data":{"contact":{"id":7}}}"#.to_owned()));
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

/// S13/S25: a refused client is an OAuth error from the token endpoint; no message shows the
/// secret.
#[tokio::test]
async fn s13_s25_token_endpoint_errors_are_typed_and_secret_free() {
    let (client, transport) = setup("cc");
    transport.token_script.lock().unwrap().push_back((
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
            .to_owned(),
    ));
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert_eq!(
        match &err {
            Error::OAuth(e) => e.oauth_code().cloned(),
            _ => None,
        },
        Some(ErrorCode::InvalidClient),
        "{err:?}"
    );
    assert_eq!(transport.api_calls.load(Ordering::SeqCst), 0);
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET));
}
