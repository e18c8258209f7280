//! The SDK's calls against a scripted transport: what is sent, in which order, and how each
//! answer is decoded or mapped to a typed error. No network.
// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use kustomer_sdk::{
    ApiRequest, AppDefinition, ConfigError, Criterion, Customer, CustomerFields, CustomerSearch,
    Document, Error, ExposeSecret, Kustomer, KustomerBuilder, KustomerClient, KustomerOAuth,
    ListRequest, PageParams, SecretString, scopes,
};
use oauth_flow::http::{HeaderMap, HeaderValue, StatusCode, header};
use oauth_flow::test_util::ScriptedTransport;
use oauth_flow::{HttpRequest, HttpResponse, ManualClock, MemoryStore, TokenStore};
use serde_json::{Value, json};

const API_KEY: &str = "CANARY-kus-api-key-Zx81";
const CLIENT_ID: &str = "5f8a0c1d2e3f405162738495";
const CLIENT_SECRET: &str = "CANARY-kus-client-secret-Qw27";
const REDIRECT_URI: &str = "https://example.com/kustomer/callback";
const ORG_ID: &str = "5f1d3c2b4a6978e0d1c2b3a4";

fn reply(status: u16, body: Value) -> HttpResponse {
    reply_with(status, body, HeaderMap::new())
}

fn reply_with(status: u16, body: Value, headers: HeaderMap) -> HttpResponse {
    HttpResponse {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// The pairs of a form-encoded request body.
fn form(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn setup() -> (Kustomer, Arc<ScriptedTransport>) {
    setup_with(|b| b)
}

/// A `Kustomer` on a scripted transport, with more settings from `more`.
fn setup_with(
    more: impl FnOnce(KustomerBuilder) -> KustomerBuilder,
) -> (Kustomer, Arc<ScriptedTransport>) {
    let transport = Arc::new(ScriptedTransport::new());
    let k = more(Kustomer::builder().transport(transport.clone()))
        .build()
        .unwrap();
    (k, transport)
}

/// An API-key client on a scripted transport.
fn key_client() -> (KustomerClient, Arc<ScriptedTransport>) {
    let (k, t) = setup();
    (k.api_key_client(secret(API_KEY)).unwrap(), t)
}

/// The client's current access token, in clear.
async fn access_token_of(client: &KustomerClient) -> String {
    let token = client.access_token().await.unwrap();
    token.secret().expose_secret().to_owned()
}

fn oauth(k: &Kustomer) -> KustomerOAuth {
    k.oauth(CLIENT_ID, secret(CLIENT_SECRET), REDIRECT_URI)
        .build()
        .unwrap()
}

/// Signs `subject` in with a scripted token response `n`.
async fn sign_in(
    oauth: &KustomerOAuth,
    t: &ScriptedTransport,
    subject: &str,
    n: u32,
) -> KustomerClient {
    t.push(reply(200, token_doc(n)));
    let (pending, callback) = authorize(oauth, &format!("code-{n}"));
    oauth.complete(subject, pending, &callback).await.unwrap()
}

/// After one exchange (token response 1) for "u1" on `t`, `flow` (another flow than the one
/// that logged in) restores "u1" and calls the API with that token: no second login, no refresh.
async fn finds_the_login_of_u1(flow: &KustomerOAuth, t: &ScriptedTransport) {
    let restored = flow.restore("u1").await.unwrap().unwrap();
    assert_eq!(restored.subject(), Some("u1"));
    assert_eq!(access_token_of(&restored).await, "CANARY-AT-1");
    t.push(reply(200, customers_page(&["c1"], None)));
    let page = flow
        .client("u1")
        .unwrap()
        .list_customers(PageParams::new())
        .await
        .unwrap();
    assert_eq!(page.items().len(), 1);
    let reqs = t.requests();
    assert_eq!(
        reqs.len(),
        2,
        "one exchange, one API call, no second login, no refresh"
    );
    assert_eq!(
        reqs[1].headers.get("authorization").unwrap(),
        "Bearer CANARY-AT-1"
    );
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn app_doc(with_secret: Option<&str>) -> Value {
    let mut attrs = json!({
        "name": format!("myoauthapp_{ORG_ID}"), "auth": {}, "version": "0.0.1",
        "visibility": "private", "redirectUris": [], "clientId": CLIENT_ID,
    });
    if let Some(s) = with_secret {
        attrs["clientSecret"] = json!(s);
    }
    json!({"data": {"type": "available_app", "id": format!("myoauthapp_{ORG_ID}-0.0.1"), "attributes": attrs}})
}

fn token_doc(n: u32) -> Value {
    json!({
        "scope": "org.permission.customer org.permission.conversation offline_access",
        "token_type": "bearer",
        "access_token": format!("CANARY-AT-{n}"),
        "expires_in": 86400,
        "refresh_token": format!("CANARY-RT-{n}"),
    })
}

fn customers_page(ids: &[&str], next: Option<&str>) -> Value {
    json!({
        "data": ids.iter().map(|id| json!({"type": "customer", "id": id, "attributes": {"name": format!("n{id}")}})).collect::<Vec<_>>(),
        "links": {"next": next},
    })
}

/// Runs the authorize step and a callback with `code`; returns what `complete` needs.
fn authorize(oauth: &KustomerOAuth, code: &str) -> (kustomer_sdk::PendingAuthorization, String) {
    let (url, pending) = oauth.authorize_url([scopes::CUSTOMER]).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (pending, format!("{REDIRECT_URI}?code={code}&state={state}"))
}

#[tokio::test]
async fn register_then_generate_secret_uses_the_namespaced_name() {
    let (k, t) = setup();
    t.push(reply(200, app_doc(None)));
    t.push(reply(200, app_doc(Some(CLIENT_SECRET))));
    let apps = k.apps(secret(API_KEY)).unwrap();
    let app = apps
        .register(&AppDefinition::private(
            "myoauthapp",
            "0.0.1",
            "My OAuth App",
        ))
        .await
        .unwrap();
    assert_eq!(app.client_id, CLIENT_ID);
    let generated = apps.generate_secret(&app.name).await.unwrap();
    assert_eq!(generated.client_id(), CLIENT_ID);
    assert_eq!(generated.client_secret().expose_secret(), CLIENT_SECRET);
    let reqs = t.requests();
    assert_eq!(reqs.len(), 2);
    // attributes.name, not data.id (`…-0.0.1`) nor the bare `myoauthapp`.
    assert_eq!(
        reqs[1].url.path(),
        format!("/v1/apps/available/myoauthapp_{ORG_ID}/secret")
    );
}

#[tokio::test]
async fn secret_response_without_secret_is_a_typed_error() {
    let (k, t) = setup();
    t.push(reply(200, app_doc(None)));
    let apps = k.apps(secret(API_KEY)).unwrap();
    let name = kustomer_sdk::NamespacedAppName::new("myoauthapp", ORG_ID).unwrap();
    let err = apps.generate_secret(&name).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingField {
                field: "data.attributes.clientSecret",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn registration_is_not_retried_and_errors_are_typed() {
    let (k, t) = setup();
    let apps = k.apps(secret(API_KEY)).unwrap();
    let def = AppDefinition::private("myoauthapp", "0.0.1", "My OAuth App");
    t.push(reply(
        401,
        json!({"errors": [{"status": "401", "title": "Unauthorized", "detail": "invalid API key"}]}),
    ));
    let err = apps.register(&def).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid API key"));
    assert!(!err.to_string().contains(API_KEY));
    t.push(reply(
        409,
        json!({"errors": [{"status": "409", "title": "Conflict", "detail": "version exists"}]}),
    ));
    let err = apps.register(&def).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 409, .. }), "{err:?}");
    // A 503 on a POST with side effects is not retried.
    t.push(reply(
        503,
        json!({"errors": [{"title": "Service Unavailable"}]}),
    ));
    let err = apps.register(&def).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(t.requests().len(), 3);
}

#[tokio::test]
async fn not_installed_then_installed() {
    let (k, t) = setup();
    let oauth = k
        .oauth(CLIENT_ID, secret(CLIENT_SECRET), REDIRECT_URI)
        .build()
        .unwrap();
    t.push(reply(
        400,
        json!({"error": "invalid_client", "error_description": "Invalid Client"}),
    ));
    let (pending, callback) = authorize(&oauth, "code-1");
    let err = oauth.complete("u1", pending, &callback).await.unwrap_err();
    assert!(matches!(err, Error::AppNotInstalled { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("install it from the App Directory")
    );

    t.push(reply(200, token_doc(1)));
    let (pending, callback) = authorize(&oauth, "code-2");
    let client = oauth.complete("u1", pending, &callback).await.unwrap();
    assert_eq!(client.subject(), Some("u1"));
    assert_eq!(
        client.granted_scopes().await.unwrap(),
        vec![
            "org.permission.customer",
            "org.permission.conversation",
            "offline_access"
        ]
    );
    assert_eq!(access_token_of(&client).await, "CANARY-AT-1");
    let reqs = t.requests();
    assert_eq!(reqs.len(), 2, "one exchange per code");
    let form = form(&reqs[1]);
    assert!(form.contains(&("grant_type".into(), "authorization_code".into())));
    assert!(form.contains(&("client_secret".into(), CLIENT_SECRET.into())));
}

#[tokio::test]
async fn s6_denied_consent_sends_nothing() {
    let (k, t) = setup();
    let oauth = k
        .oauth(CLIENT_ID, secret(CLIENT_SECRET), REDIRECT_URI)
        .build()
        .unwrap();
    let (url, pending) = oauth.authorize_url([scopes::CUSTOMER]).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let callback = format!("{REDIRECT_URI}?error=access_denied&state={state}");
    let err = oauth.complete("u1", pending, &callback).await.unwrap_err();
    assert!(err.is_access_denied(), "{err:?}");
    assert!(t.requests().is_empty());
}

#[tokio::test]
async fn s16_refresh_rotates_and_persists_before_use() {
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let store = Arc::new(MemoryStore::new());
    // The store and clock are `Kustomer`'s settings; the OAuth flow inherits them.
    let (k, t) = setup_with(|b| b.store(store.clone()).clock(clock.clone()));
    let oauth = oauth(&k);
    let grant = sign_in(&oauth, &t, "u1", 1).await;
    let token = grant.token().await.unwrap().unwrap();
    let expiry = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 86_400);
    assert_eq!(token.expires_at, Some(expiry));
    assert_eq!(grant.expires_at().await.unwrap(), Some(expiry));

    // 59 s before expiry (inside the 60 s margin): refreshed first.
    clock.advance(Duration::from_secs(86_400 - 59));
    t.push(reply(200, token_doc(2)));
    assert_eq!(access_token_of(&grant).await, "CANARY-AT-2");
    let reqs = t.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].url.as_str(),
        "https://api.apps.kustomerapp.com/oauth/token"
    );
    let form = form(&reqs[1]);
    assert!(form.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(form.contains(&("refresh_token".into(), "CANARY-RT-1".into())));
    assert!(form.contains(&("client_id".into(), CLIENT_ID.into())));
    assert!(form.contains(&("client_secret".into(), CLIENT_SECRET.into())));
    let stored = store
        .load(grant.grant().unwrap().key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "CANARY-RT-2");
    // Still fresh: no further call.
    grant.access_token().await.unwrap();
    assert_eq!(t.requests().len(), 2);
}

#[tokio::test]
async fn all_walks_every_page_and_keeps_requests_on_the_api_origin() {
    let (client, t) = key_client();
    t.push(reply(
        200,
        customers_page(&["c1", "c2"], Some("/v1/customers?page=2&pageSize=2")),
    ));
    // An absolute link to another host: only its query is used (SECURITY S19).
    t.push(reply(
        200,
        customers_page(
            &["c3", "c4"],
            Some("https://evil.example/steal?page=3&pageSize=2"),
        ),
    ));
    t.push(reply(200, customers_page(&["c5"], None)));
    let all = client.all_customers(2).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4", "c5"]);
    let reqs = t.requests();
    let urls: Vec<&str> = reqs.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://api.kustomerapp.com/v1/customers?pageSize=2",
            "https://api.kustomerapp.com/v1/customers?page=2&pageSize=2",
            "https://api.kustomerapp.com/v1/customers?page=3&pageSize=2",
        ]
    );
}

#[tokio::test]
async fn search_pages_repeat_the_post_body() {
    let (client, t) = key_client();
    let search = CustomerSearch::new().and(Criterion::has_tag("vip"));
    t.push(reply(
        200,
        customers_page(&["c1"], Some("/v1/customers/search?page=2&pageSize=1")),
    ));
    t.push(reply(200, customers_page(&["c2"], None)));
    let mut pager = client.pages(ListRequest::search_customers(
        &search,
        PageParams::new().page_size(1),
    ));
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        assert_eq!(page.items().len(), 1);
        pages += 1;
    }
    assert_eq!(pages, 2);
    let reqs = t.requests();
    assert_eq!(reqs[0].body, reqs[1].body);
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(reqs[1].url.query(), Some("page=2&pageSize=1"));
}

#[tokio::test]
async fn a_next_link_looping_back_is_an_error_not_an_endless_walk() {
    let (client, t) = key_client();
    t.push(reply(
        200,
        customers_page(&["c1"], Some("/v1/customers?page=2&pageSize=1")),
    ));
    t.push(reply(
        200,
        customers_page(&["c2"], Some("/v1/customers?page=1&pageSize=1")),
    ));
    let err = client
        .all(ListRequest::customers(
            PageParams::new().page(1).page_size(1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Decode { what, .. } if what == "page links"
        ),
        "{err:?}"
    );
    assert_eq!(t.requests().len(), 2);
}

#[tokio::test]
async fn s20_forbidden_and_unauthorized_are_typed_and_not_retried_with_an_api_key() {
    let (client, t) = key_client();
    let mut h = HeaderMap::new();
    h.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="kustomer", error="insufficient_scope""#),
    );
    t.push(reply_with(
        403,
        json!({"errors": [{"status": "403", "title": "Forbidden", "detail": "the access token lacks the org.permission.customer role"}]}),
        h,
    ));
    let err = client.list_customers(PageParams::new()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Forbidden {
                insufficient_scope: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("org.permission.customer"));

    t.push(reply(401, json!({"errors": [{"title": "Unauthorized"}]})));
    let err = client.list_customers(PageParams::new()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(
        t.requests().len(),
        2,
        "an API key is not renewed after a 401"
    );
}

#[tokio::test]
async fn customer_decoding_keeps_unknown_attributes() {
    let (client, t) = key_client();
    t.push(reply(
        200,
        json!({"data": {"type": "customer", "id": "c1", "attributes": {"name": "Ava", "shoeSize": 42}}}),
    ));
    let c = client
        .get_customer(&kustomer_sdk::CustomerId::new("c1").unwrap())
        .await
        .unwrap();
    assert_eq!(c.attributes.extra.get("shoeSize"), Some(&json!(42)));
    t.push(reply(200, json!({"data": "not an object"})));
    let err = client
        .get_customer(&kustomer_sdk::CustomerId::new("c1").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

/// The refresh margin set on `Kustomer::builder()` holds for its OAuth flows: 100 s before
/// expiry is inside a 120 s margin (and outside the default 60 s one).
#[tokio::test]
async fn the_refresh_margin_is_inherited_from_the_kustomer_builder() {
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let (k, t) = setup_with(|b| {
        b.clock(clock.clone())
            .refresh_margin(Duration::from_secs(120))
    });
    let client = sign_in(&oauth(&k), &t, "u1", 1).await;
    clock.advance(Duration::from_secs(86_400 - 100));
    t.push(reply(200, token_doc(2)));
    assert_eq!(access_token_of(&client).await, "CANARY-AT-2");
    assert_eq!(t.requests().len(), 2);
}

/// With no store set, every flow made from one `Kustomer` (or a clone of it) shares one
/// in-memory store: a login completed in one flow is found by another, as it is for an app
/// that builds `oauth(..)` per request.
#[tokio::test]
async fn flows_of_one_kustomer_share_the_default_store() {
    let (k, t) = setup();
    let first = oauth(&k);
    let signed_in = sign_in(&first, &t, "u1", 1).await;

    let second = oauth(&k.clone());
    finds_the_login_of_u1(&second, &t).await;

    // A logout in one flow reaches the shared store: a flow built afterwards finds nothing.
    signed_in.forget().await.unwrap();
    assert!(oauth(&k).restore("u1").await.unwrap().is_none());

    // Another `Kustomer` has its own store.
    let (other, _) = setup();
    sign_in(&first, &t, "u2", 2).await;
    assert!(oauth(&other).restore("u2").await.unwrap().is_none());
}

/// SECURITY S21: the token settings are checked when the `Kustomer` is built, not at the first
/// `oauth(..).build()`.
#[test]
fn s21_bad_token_settings_fail_at_the_kustomer_builder() {
    let err = Kustomer::builder()
        .refresh_margin(Duration::from_secs(301))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config(ConfigError::RefreshMarginTooLarge { max })
                if max == Duration::from_secs(300)
        ),
        "{err:?}"
    );
    let err = Kustomer::builder()
        .lease_ttl(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::ZeroLeaseTtl)),
        "{err:?}"
    );
    assert!(
        Kustomer::builder()
            .refresh_margin(Duration::from_secs(300))
            .build()
            .is_ok()
    );
}

/// A per-host base URL wins over `base_url` whichever setter comes last, for the API host
/// (where API calls go) and the OAuth host (authorize URL and token requests).
#[tokio::test]
async fn per_host_base_urls_win_over_base_url_in_either_order() {
    const BASE: &str = "http://127.0.0.1:4000/both/";
    const API: &str = "http://127.0.0.1:4001/api/";
    const OAUTH: &str = "http://127.0.0.1:4002/oauth/";
    type Order = fn(KustomerBuilder) -> KustomerBuilder;
    let orders: [(&str, Order); 4] = [
        ("api then base", |b| b.api_base_url(API).base_url(BASE)),
        ("base then api", |b| b.base_url(BASE).api_base_url(API)),
        ("oauth then base", |b| {
            b.oauth_base_url(OAUTH).base_url(BASE)
        }),
        ("base then oauth", |b| {
            b.base_url(BASE).oauth_base_url(OAUTH)
        }),
    ];
    for (i, (order, configure)) in orders.into_iter().enumerate() {
        let (api, oauth_host) = if i < 2 { (API, BASE) } else { (BASE, OAUTH) };
        let (k, t) = setup_with(configure);
        assert_eq!(k.api_base_url().as_str(), api, "{order}");
        assert_eq!(k.oauth_base_url().as_str(), oauth_host, "{order}");

        t.push(reply(200, customers_page(&["c1"], None)));
        let client = k.api_key_client(secret(API_KEY)).unwrap();
        client.list_customers(PageParams::new()).await.unwrap();
        let sent = t.requests();
        assert_eq!(sent.len(), 1);
        assert!(
            sent[0].url.as_str().starts_with(api),
            "{order}: {}",
            sent[0].url
        );

        let flow = oauth(&k);
        let (url, _) = flow.authorize_url([scopes::CUSTOMER]).unwrap();
        assert!(
            url.as_str()
                .starts_with(&format!("{oauth_host}oauth/authorize?")),
            "{order}: {url}"
        );
        sign_in(&flow, &t, "u1", 1).await;
        let sent = t.requests();
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[1].url.as_str(),
            format!("{oauth_host}oauth/token"),
            "{order}"
        );
    }
}

/// `restore` finds a stored grant without a request; `client` of an unknown subject fails
/// at its first call with `ReauthorizationRequired`; `forget` removes the tokens for good.
#[tokio::test]
async fn restore_client_and_forget() {
    let store = Arc::new(MemoryStore::new());
    let (k, t) = setup_with(|b| b.store(store.clone()));
    let flow = oauth(&k);
    assert!(flow.restore("u1").await.unwrap().is_none());
    let err = flow
        .client("u1")
        .unwrap()
        .list_customers(PageParams::new())
        .await
        .unwrap_err();
    assert!(err.is_reauthorization_required(), "{err:?}");
    assert!(t.requests().is_empty(), "nothing stored: nothing sent");

    let signed_in = sign_in(&flow, &t, "u1", 1).await;
    // Another process (here: another flow on the same store) finds the user's tokens.
    finds_the_login_of_u1(&oauth(&k), &t).await;

    signed_in.forget().await.unwrap();
    assert!(signed_in.token().await.unwrap().is_none());
    assert!(oauth(&k).restore("u1").await.unwrap().is_none());
    let key = flow.token_manager().key("u1");
    assert!(store.load(&key).await.unwrap().is_none());
}

/// An API-key client has no user: the token methods say so with a typed error or `None`,
/// never a panic, and send nothing.
#[tokio::test]
async fn api_key_mode_has_no_grant() {
    let (client, t) = key_client();
    assert_eq!(client.subject(), None);
    assert!(client.grant().is_none());
    let err = client.refresh().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ApiKeyMode {
                operation: "refresh"
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(API_KEY));
    assert!(matches!(
        client.access_token().await.unwrap_err(),
        Error::ApiKeyMode {
            operation: "access_token"
        }
    ));
    assert!(client.token().await.unwrap().is_none());
    assert_eq!(client.expires_at().await.unwrap(), None);
    assert!(client.granted_scopes().await.unwrap().is_empty());
    assert!(matches!(
        client.forget().await.unwrap_err(),
        Error::ApiKeyMode {
            operation: "forget"
        }
    ));
    assert!(t.requests().is_empty());
}

/// `get`, `post` and `send` reach endpoints without a typed method, with the same bearer,
/// base URL and error mapping as the typed calls.
#[tokio::test]
async fn untyped_calls_use_the_client_credentials_and_error_mapping() {
    let (client, t) = key_client();

    t.push(reply(
        200,
        json!({"data": {"type": "customer", "id": "c1", "attributes": {"name": "Ava"}}}),
    ));
    let one: Document<Customer> = client.get("v1/customers/c1").await.unwrap();
    assert_eq!(one.data.id.as_str(), "c1");

    t.push(reply(
        201,
        json!({"data": {"type": "customer", "id": "c2", "attributes": {"name": "Bo"}}}),
    ));
    let created: Document<Customer> = client
        .post("v1/customers", &CustomerFields::new().name("Bo"))
        .await
        .unwrap();
    assert_eq!(created.data.attributes.name.as_deref(), Some("Bo"));

    t.push(reply(200, json!({"data": [{"id": "n1"}]})));
    let notes: Value = client
        .send(&ApiRequest::get("v1/customers/c1/notes").query("pageSize", "5"))
        .await
        .unwrap();
    assert_eq!(notes["data"][0]["id"], "n1");

    // A typed request value goes through `send` too, as its document.
    t.push(reply(
        200,
        json!({"data": {"type": "customer", "id": "c1", "attributes": {}}}),
    ));
    let doc = client
        .send(&kustomer_sdk::ResourceRequest::get_customer(
            &kustomer_sdk::CustomerId::new("c1").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(doc.data.id.as_str(), "c1");

    t.push(reply(
        404,
        json!({"errors": [{"status": "404", "title": "Not Found"}]}),
    ));
    let err = client
        .get::<Value>("v1/customers/c9/notes")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");

    let reqs = t.requests();
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.to_string(), r.url.to_string()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "https://api.kustomerapp.com/v1/customers/c1"),
            ("POST", "https://api.kustomerapp.com/v1/customers"),
            (
                "GET",
                "https://api.kustomerapp.com/v1/customers/c1/notes?pageSize=5"
            ),
            ("GET", "https://api.kustomerapp.com/v1/customers/c1"),
            ("GET", "https://api.kustomerapp.com/v1/customers/c9/notes"),
        ]
        .map(|(m, u)| (m.to_owned(), u.to_owned()))
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&reqs[1].body).unwrap(),
        json!({"name": "Bo"})
    );
    assert!(
        reqs.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {API_KEY}"))
    );
    // A path that leaves the API base is refused before anything is sent.
    let err = client
        .get::<Value>("https://evil.example/v1/customers")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(t.requests().len(), 5);
}
