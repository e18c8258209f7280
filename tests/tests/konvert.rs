#![cfg(feature = "konvert")]
//! Konvert end to end against the in-process sandbox: both authentication modes, token and
//! JWT reuse, refused credentials, GraphQL errors vs partial data vs HTTP errors, mutations
//! and pagination.

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use konvert_sdk::oauth_flow::{Clock as _, ErrorCode, ManualClock};
use konvert_sdk::operations::{
    AddNote, CreateContact, GetContact, GetViewer, ListContacts, ListEnrichments, SearchContacts,
    add_note, create_contact, get_contact, get_viewer, list_contacts, list_enrichments,
    search_contacts,
};
use konvert_sdk::{Auth, Environment, Error, KonvertClient, PathSegment, SecretString};
use sandbox::{Fault, Provider, Sandbox};

const TOKEN_ROUTE: &str = "/konvert/oauth/token";
const API_ROUTE: &str = "/konvert/api";

fn cc_client(sb: &Sandbox) -> KonvertClient {
    let creds = &sb.credentials().konvert;
    KonvertClient::builder(Auth::client_credentials(
        creds.api_key.clone(),
        SecretString::from(creds.api_secret.clone()),
    ))
    .base_url(sb.url(Provider::Konvert))
    .build()
    .unwrap()
}

fn jwt_client_with(sb: &Sandbox, secret: &str, lifetime: Duration) -> KonvertClient {
    KonvertClient::builder(Auth::jwt(
        sb.credentials().konvert.api_key.clone(),
        SecretString::from(secret.to_owned()),
        lifetime,
    ))
    .base_url(sb.url(Provider::Konvert))
    .build()
    .unwrap()
}

fn jwt_client(sb: &Sandbox) -> KonvertClient {
    jwt_client_with(
        sb,
        &sb.credentials().konvert.api_secret,
        Duration::from_secs(3600),
    )
}

fn contact(id: &str) -> get_contact::Variables {
    get_contact::Variables { id: id.to_owned() }
}

fn page(first: i64, after: Option<String>) -> list_contacts::Variables {
    list_contacts::Variables {
        first: Some(first),
        after,
        filter: None,
    }
}

/// S14 as document 003 has it (issue 18 part 4): a sandbox whose API secret holds each of
/// `+ / = % :` and a space (the sandbox decodes Basic raw, as documented) issues a token to
/// the SDK, which sends the raw pair; the same secret signs the self-signed JWT mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s14_client_credentials_with_awkward_secrets() {
    for c in ["+", "/", "=", "%", ":", " "] {
        let mut creds = sandbox::Credentials::fixed();
        creds.konvert.api_secret = format!("konvert{c}secret{c}%2B{c}");
        let sb = Sandbox::start_with(0, creds).await.unwrap();
        let viewer = cc_client(&sb)
            .query::<GetViewer>(get_viewer::Variables)
            .await
            .unwrap_or_else(|e| panic!("client credentials with {c:?}: {e}"))
            .viewer;
        assert_eq!(viewer.auth_method, "CLIENT_CREDENTIALS");
        assert_eq!(sb.calls(TOKEN_ROUTE), 1);
        let viewer = jwt_client(&sb)
            .query::<GetViewer>(get_viewer::Variables)
            .await
            .unwrap()
            .viewer;
        assert_eq!(viewer.auth_method, "SELF_SIGNED_JWT");
    }
}

/// Client credentials: one token request, reused by many queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_token_is_reused_across_many_queries() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    let viewer = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap()
        .viewer;
    assert_eq!(viewer.auth_method, "CLIENT_CREDENTIALS");
    assert_eq!(viewer.api_key, sb.credentials().konvert.api_key);
    for i in 1..=25 {
        let data = client
            .query::<GetContact>(contact(&format!("contact-{i}")))
            .await
            .unwrap();
        assert_eq!(data.contact.unwrap().id, format!("contact-{i}"));
    }
    assert_eq!(sb.calls(TOKEN_ROUTE), 1);
    assert_eq!(sb.calls(API_ROUTE), 26);
    assert_eq!(sb.konvert_distinct_jwts(), 0);
}

/// S16: many concurrent first calls share one token request (single-flight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_concurrent_first_calls_request_one_token() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.query::<GetViewer>(get_viewer::Variables).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(sb.calls(TOKEN_ROUTE), 1);
    assert_eq!(sb.calls(API_ROUTE), 20);
}

/// Self-signed JWT: no token endpoint, one signature for many queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s24_jwt_is_signed_once_per_lifetime() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client(&sb);
    let viewer = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap()
        .viewer;
    assert_eq!(viewer.auth_method, "SELF_SIGNED_JWT");
    for _ in 0..30 {
        client.query::<ListContacts>(page(5, None)).await.unwrap();
    }
    assert_eq!(sb.konvert_distinct_jwts(), 1);
    assert_eq!(sb.calls(TOKEN_ROUTE), 0);
    assert_eq!(sb.calls(API_ROUTE), 31);
}

/// The maximum lifetime (6 h) is accepted by the sandbox; one over it is refused before
/// anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s24_lifetime_cap() {
    let sb = Sandbox::start().await.unwrap();
    let secret = sb.credentials().konvert.api_secret.clone();
    let max = jwt_client_with(&sb, &secret, Duration::from_secs(21_600));
    max.query::<GetViewer>(get_viewer::Variables).await.unwrap();

    let err = KonvertClient::builder(Auth::jwt(
        "konvert-sandbox-key",
        SecretString::from(secret),
        Duration::from_secs(24 * 3600),
    ))
    .base_url(sb.url(Provider::Konvert))
    .build()
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config(konvert_sdk::oauth_flow::ConfigError::LifetimeOverCap {
                requested: 86_400,
                cap: 21_600
            })
        ),
        "{err:?}"
    );
    assert_eq!(sb.calls(API_ROUTE), 1);
}

/// A JWT signed with the wrong secret: the sandbox answers 401, the SDK re-signs once, then
/// reports a typed `Unauthorized` without the secret in its text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s25_jwt_with_wrong_secret_is_unauthorized() {
    let sb = Sandbox::start().await.unwrap();
    let wrong = "not-the-konvert-secret-0123456789abcdef";
    let client = jwt_client_with(&sb, wrong, Duration::from_secs(600));
    let err = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap_err();
    let Error::Unauthorized { errors, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors[0].code(), Some("UNAUTHENTICATED"));
    assert_eq!(err.status(), Some(401));
    assert_eq!(sb.calls(API_ROUTE), 2, "one retry after renewing");
    assert_eq!(sb.konvert_distinct_jwts(), 0);
    let text = format!("{err} {err:?}");
    assert!(!text.contains(wrong));
}

/// An expired JWT (the sandbox's clock moved past `exp` + leeway): re-signing at the same
/// instant cannot help, so the call fails as `Unauthorized`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_jwt_is_unauthorized() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client_with(
        &sb,
        &sb.credentials().konvert.api_secret,
        Duration::from_secs(600),
    );
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    sb.advance_clock(Duration::from_secs(2 * 3600));
    let err = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap_err();
    let Error::Unauthorized { errors, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(errors[0].message.contains("expired"), "{err}");
}

/// Wrong client secret: the token endpoint refuses with `invalid_client`; nothing reaches
/// the API and no message contains the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s25_wrong_client_secret_is_invalid_client() {
    let sb = Sandbox::start().await.unwrap();
    let wrong = "wrong-client-secret-0123456789";
    let client = KonvertClient::builder(Auth::client_credentials(
        "konvert-sandbox-key",
        SecretString::from(wrong.to_owned()),
    ))
    .base_url(sb.url(Provider::Konvert))
    .build()
    .unwrap();
    let err = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap_err();
    let Error::OAuth(core) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(core.oauth_code(), Some(&ErrorCode::InvalidClient));
    assert_eq!(sb.calls(API_ROUTE), 0);
    assert!(!format!("{err} {err:?}").contains(wrong));
}

/// S20: a token the sandbox considers expired (its clock moved 7 h) is answered 401; the SDK
/// requests a new token once and the retry succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s20_expired_token_is_renewed_after_401() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    sb.advance_clock(Duration::from_secs(7 * 3600));
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    assert_eq!(sb.calls(TOKEN_ROUTE), 2);
    assert_eq!(sb.calls(API_ROUTE), 3);
}

/// A 200 with `errors` and no data is `Error::GraphQl` with the server's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_errors_are_typed() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client(&sb);
    let err = client
        .query::<CreateContact>(create_contact::Variables {
            input: create_contact::CreateContactInput {
                first_name: "No".to_owned(),
                last_name: "Email".to_owned(),
                email: "not-an-address".to_owned(),
                phone: None,
                job_title: None,
                company_id: None,
                lifecycle_stage: None,
            },
        })
        .await
        .unwrap_err();
    let Error::GraphQl { errors } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors[0].code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        errors[0].path,
        vec![PathSegment::Key("createContact".into())]
    );

    let err = client
        .query::<AddNote>(add_note::Variables {
            input: add_note::AddNoteInput {
                body: "hello".to_owned(),
                contact_id: Some("contact-999".to_owned()),
                deal_id: None,
            },
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::GraphQl { errors } if errors[0].code() == Some("NOT_FOUND")),
        "{err:?}"
    );
}

/// `enrichment` fails for every fifth contact: data plus errors is `Error::PartialData`, and
/// `query_partial` returns the data with those fields empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_data_is_distinct_from_errors() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    let vars = || list_enrichments::Variables {
        first: Some(10),
        after: None,
    };
    let err = client.query::<ListEnrichments>(vars()).await.unwrap_err();
    let Error::PartialData(partial) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(partial.errors.len(), 2);
    assert!(
        partial
            .errors
            .iter()
            .all(|e| e.code() == Some("ENRICHMENT_UNAVAILABLE")
                && e.path.last() == Some(&PathSegment::Key("enrichment".into())))
    );

    let ok = client
        .query_partial::<ListEnrichments>(vars())
        .await
        .unwrap();
    assert!(ok.is_partial());
    let missing: Vec<&str> = ok
        .data
        .contacts
        .edges
        .iter()
        .filter(|e| e.node.enrichment.is_none())
        .map(|e| e.node.id.as_str())
        .collect();
    assert_eq!(missing, ["contact-5", "contact-10"]);
}

/// HTTP failures of the GraphQL endpoint, injected by the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_are_typed() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client(&sb);
    let vars = || contact("contact-1");

    sb.inject(API_ROUTE, Fault::HtmlError(502), 1);
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 502, errors, .. } if errors.is_empty()),
        "{err:?}"
    );

    sb.inject(API_ROUTE, Fault::Status(500), 1);
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");

    sb.inject(API_ROUTE, Fault::MalformedJson, 1);
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    // A query is read-only: one 429 with `Retry-After: 1` is waited out and retried.
    sb.reset_calls();
    sb.inject(
        API_ROUTE,
        Fault::RetryAfter {
            status: 429,
            value: "1".to_owned(),
        },
        1,
    );
    client.query::<GetContact>(vars()).await.unwrap();
    assert_eq!(sb.calls(API_ROUTE), 2, "one retry after Retry-After");

    // Past the retry budget the 429 surfaces, typed.
    sb.inject(
        API_ROUTE,
        Fault::RetryAfter {
            status: 429,
            value: "1".to_owned(),
        },
        5,
    );
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    sb.clear_faults();
    assert!(
        matches!(err, Error::RateLimited { status: 429, .. }),
        "{err:?}"
    );

    // S9: a redirect is not followed.
    sb.inject(
        API_ROUTE,
        Fault::Redirect {
            status: 307,
            location: format!("{}/elsewhere", sb.base_url()),
        },
        1,
    );
    let err = client.query::<GetContact>(vars()).await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err:?}");

    // And the next call is fine again.
    assert!(client.query::<GetContact>(vars()).await.is_ok());
}

/// Pagination through all contacts, by hand and with the helper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_through_all_contacts() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);

    let mut ids = Vec::new();
    let mut after = None;
    let mut pages = 0;
    let total = loop {
        let contacts = client
            .query::<ListContacts>(page(7, after.clone()))
            .await
            .unwrap()
            .contacts;
        pages += 1;
        ids.extend(contacts.edges.iter().map(|e| e.node.id.clone()));
        if !contacts.page_info.has_next_page {
            break contacts.total_count;
        }
        after = contacts.page_info.end_cursor;
    };
    assert_eq!(pages, 4);
    assert_eq!(total, 25);
    let expected: Vec<String> = (1..=25).map(|i| format!("contact-{i}")).collect();
    assert_eq!(ids, expected);

    let all = client.list_all_contacts(10, None).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        expected
    );
    let customers = client
        .list_all_contacts(
            3,
            Some(list_contacts::ContactFilter {
                search: None,
                company_id: None,
                lifecycle_stage: Some(list_contacts::LifecycleStage::CUSTOMER),
            }),
        )
        .await
        .unwrap();
    assert!(!customers.is_empty());
    assert!(
        customers
            .iter()
            .all(|c| c.lifecycle_stage == list_contacts::LifecycleStage::CUSTOMER)
    );
}

/// Mutations: create a contact, note on it, read both back and find it by search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_contact_add_note_and_search() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client(&sb);
    let created = client
        .query::<CreateContact>(create_contact::Variables {
            input: create_contact::CreateContactInput {
                first_name: "Katherine".to_owned(),
                last_name: "Johnson".to_owned(),
                email: "katherine.johnson@example.com".to_owned(),
                phone: None,
                job_title: Some("Mathematician".to_owned()),
                company_id: Some("company-2".to_owned()),
                lifecycle_stage: Some(create_contact::LifecycleStage::PROSPECT),
            },
        })
        .await
        .unwrap()
        .create_contact;
    assert_eq!(created.id, "contact-26");
    assert_eq!(
        created.lifecycle_stage,
        create_contact::LifecycleStage::PROSPECT
    );
    assert_eq!(created.company.map(|c| c.id).as_deref(), Some("company-2"));

    let note = client
        .query::<AddNote>(add_note::Variables {
            input: add_note::AddNoteInput {
                body: "Orbital mechanics review".to_owned(),
                contact_id: Some(created.id.clone()),
                deal_id: None,
            },
        })
        .await
        .unwrap()
        .add_note;
    assert_eq!(note.contact.map(|c| c.id), Some(created.id.clone()));

    let read = client
        .query::<GetContact>(contact(&created.id))
        .await
        .unwrap()
        .contact
        .unwrap();
    assert_eq!(read.full_name, "Katherine Johnson");
    assert_eq!(read.notes.len(), 1);
    assert_eq!(read.notes[0].body, "Orbital mechanics review");

    let found = client
        .query::<SearchContacts>(search_contacts::Variables {
            search: "katherine".to_owned(),
            first: Some(5),
        })
        .await
        .unwrap()
        .contacts;
    assert_eq!(found.total_count, 1);
    assert_eq!(found.edges[0].node.email, "katherine.johnson@example.com");

    // An unknown id is null, not an error.
    let none = client
        .query::<GetContact>(contact("contact-999"))
        .await
        .unwrap();
    assert!(none.contact.is_none());
}

/// Issue 20: `query_raw` sends a document with no generated type through the same credential
/// and returns `data` as JSON; GraphQL errors and partial data are the typed query's errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_raw_has_the_typed_querys_auth_and_errors() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    let data = client
        .query_raw(
            "query($id: ID!) { viewer { apiKey authMethod } contact(id: $id) { id email } }",
            serde_json::json!({ "id": "contact-3" }),
        )
        .await
        .unwrap();
    assert_eq!(data["viewer"]["authMethod"], "CLIENT_CREDENTIALS");
    assert_eq!(
        data["viewer"]["apiKey"],
        sb.credentials().konvert.api_key.as_str()
    );
    assert_eq!(data["contact"]["id"], "contact-3");
    assert_eq!(sb.calls(TOKEN_ROUTE), 1);

    // 200 with `errors` and no data.
    let err = client
        .query_raw(
            "mutation($b: String!) { addNote(input: { body: $b, contactId: \"contact-999\" }) { id } }",
            serde_json::json!({ "b": "hello" }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::GraphQl { errors } if errors[0].code() == Some("NOT_FOUND")),
        "{err:?}"
    );

    // Data with errors.
    let err = client
        .query_raw(
            "{ contacts(first: 10) { edges { node { id enrichment { score } } } } }",
            serde_json::Value::Null,
        )
        .await
        .unwrap_err();
    let Error::PartialData(partial) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(partial.errors.len(), 2);
    assert!(partial.data["contacts"]["edges"][4]["node"]["enrichment"].is_null());

    // A document the server cannot validate.
    let err = client
        .query_raw("{ noSuchField }", serde_json::Value::Null)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GraphQl { .. }), "{err:?}");
    assert_eq!(sb.calls(TOKEN_ROUTE), 1, "one token for every call");
}

/// `query_raw` retries a query after a 429 (it only reads) and never replays a mutation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_raw_retries_queries_not_mutations() {
    let sb = Sandbox::start().await.unwrap();
    let client = jwt_client(&sb);
    let throttle = |n| {
        sb.inject(
            API_ROUTE,
            Fault::RetryAfter {
                status: 429,
                value: "1".to_owned(),
            },
            n,
        )
    };
    throttle(1);
    let data = client
        .query_raw("{ viewer { authMethod } }", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(data["viewer"]["authMethod"], "SELF_SIGNED_JWT");
    assert_eq!(sb.calls(API_ROUTE), 2, "one retry after Retry-After");

    sb.reset_calls();
    throttle(1);
    let err = client
        .query_raw(
            "mutation { addNote(input: { body: \"x\", contactId: \"contact-1\" }) { id } }",
            serde_json::Value::Null,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                status: 429,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(sb.calls(API_ROUTE), 1, "a mutation is not replayed");
}

/// Issue 20: `refresh()` fetches a new client-credentials token now, and
/// `expires_at()` follows the token in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_fetches_a_new_client_credentials_token() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    assert_eq!(client.expires_at().await.unwrap(), None);
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    let first = client.access_token().await.unwrap();
    let first_expiry = client.expires_at().await.unwrap().unwrap();
    // The sandbox issues 21600 s tokens; its clock and ours may differ slightly.
    let left = first_expiry
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(21_000) && left <= Duration::from_secs(21_600),
        "{left:?}"
    );

    let renewed = client.refresh().await.unwrap();
    assert!(!renewed.same_as(&first));
    assert_eq!(sb.calls(TOKEN_ROUTE), 2);
    assert!(client.access_token().await.unwrap().same_as(&renewed));
    assert!(client.expires_at().await.unwrap().unwrap() >= first_expiry);
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    assert_eq!(sb.calls(TOKEN_ROUTE), 2, "the renewed token is reused");
}

/// Issue 20: `refresh()` signs a new JWT now; `expires_at()` is its `exp`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_signs_a_new_jwt() {
    let sb = Sandbox::start().await.unwrap();
    let clock = Arc::new(ManualClock::new(std::time::SystemTime::now()));
    let client = KonvertClient::builder(Auth::jwt(
        sb.credentials().konvert.api_key.clone(),
        SecretString::from(sb.credentials().konvert.api_secret.clone()),
        Duration::from_secs(3600),
    ))
    .base_url(sb.url(Provider::Konvert))
    .clock(clock.clone())
    .build()
    .unwrap();
    assert_eq!(client.expires_at().await.unwrap(), None);
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    let first = client.expires_at().await.unwrap().unwrap();
    let left = first.duration_since(clock.now()).unwrap();
    assert!(left > Duration::from_secs(3599) && left <= Duration::from_secs(3600));

    clock.advance(Duration::from_secs(2));
    client.refresh().await.unwrap();
    assert!(client.expires_at().await.unwrap().unwrap() > first);
    client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap();
    assert_eq!(sb.konvert_distinct_jwts(), 2);
    assert_eq!(sb.calls(TOKEN_ROUTE), 0);
}

/// Issue 20: `Environment::Staging` moved to another host with `base_url` (here the sandbox,
/// standing in for a staging emulator) sends both the token request and GraphQL there, and
/// the client still reports staging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_can_point_at_an_emulator() {
    let sb = Sandbox::start().await.unwrap();
    let creds = &sb.credentials().konvert;
    let client = KonvertClient::builder(Auth::client_credentials(
        creds.api_key.clone(),
        SecretString::from(creds.api_secret.clone()),
    ))
    .environment(Environment::Staging)
    .base_url(sb.url(Provider::Konvert))
    .build()
    .unwrap();
    assert_eq!(client.environment(), Environment::Staging);
    let viewer = client
        .query::<GetViewer>(get_viewer::Variables)
        .await
        .unwrap()
        .viewer;
    assert_eq!(viewer.api_key, creds.api_key);
    assert_eq!(sb.calls(TOKEN_ROUTE), 1);
    assert_eq!(sb.calls(API_ROUTE), 1);
}

/// Issue 20: `forget()` drops the client-credentials token; the next call requests a new one
/// from the token endpoint, which later calls reuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_makes_the_next_call_request_a_new_token() {
    let sb = Sandbox::start().await.unwrap();
    let client = cc_client(&sb);
    let first = client.access_token().await.unwrap();
    assert!(client.expires_at().await.unwrap().is_some());
    client.forget().await.unwrap();
    assert_eq!(client.expires_at().await.unwrap(), None);
    assert_eq!(sb.calls(TOKEN_ROUTE), 1, "forgetting sends nothing");
    for _ in 0..3 {
        client
            .query::<GetViewer>(get_viewer::Variables)
            .await
            .unwrap();
    }
    assert_eq!(sb.calls(TOKEN_ROUTE), 2);
    assert!(!client.access_token().await.unwrap().same_as(&first));
    assert!(client.expires_at().await.unwrap().is_some());
}
