//! Snapshots of every request the SDK builds (SECURITY S15, S19, S25: one client
//! authentication method, bearer only in the header, secrets redacted), against the production
//! URLs. Nothing is sent.
// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kustomer_sdk::{
    AppDefinition, ConversationId, ConversationStatus, Criterion, CustomerFields, CustomerId,
    CustomerSearch, EmailAddress, Kustomer, KustomerClient, KustomerOAuth, ListRequest,
    NamespacedAppName, NewConversation, PageParams, PhoneNumber, ResourceRequest, SecretString,
    scopes,
};
use oauth_flow::test_util::redaction_settings;
use oauth_flow::{AccessToken, Authorization, HttpRequest};
use serde_json::{Value, json};

const API_KEY: &str = "CANARY-kus-api-key-Zx81";
const CLIENT_ID: &str = "5f8a0c1d2e3f405162738495";
const CLIENT_SECRET: &str = "CANARY-kus-client-secret-Qw27";
const CODE: &str = "CANARY-kus-code-Lm44";
const ACCESS_TOKEN: &str = "CANARY-kus-access-token-Rt90";
const REFRESH_TOKEN: &str = "CANARY-kus-refresh-token-Hb55";
const REDIRECT_URI: &str = "https://example.com/kustomer/callback";
const ORG_ID: &str = "5f1d3c2b4a6978e0d1c2b3a4";
const CUSTOMER: &str = "6650c0ffee00000000000001";
const CONVERSATION: &str = "6650c0ffee0000000000001f";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn kustomer() -> Kustomer {
    Kustomer::new().unwrap()
}

fn oauth() -> KustomerOAuth {
    kustomer()
        .oauth(CLIENT_ID, secret(CLIENT_SECRET), REDIRECT_URI)
        .build()
        .unwrap()
}

fn api_client() -> KustomerClient {
    kustomer().api_key_client(secret(API_KEY)).unwrap()
}

fn bearer() -> Authorization {
    Authorization::bearer(AccessToken::new(secret(ACCESS_TOKEN))).unwrap()
}

/// The core's shared redaction set, except that these snapshots hide the whole
/// `Authorization` header, scheme included (a later redaction of the same path wins).
fn snapshot(name: &str, req: &HttpRequest) {
    let mut settings = redaction_settings();
    settings.add_redaction(".headers.authorization", "[redacted]");
    settings.bind(|| insta::assert_json_snapshot!(name, req.to_snapshot()));
}

/// Asserts the header holds exactly `Bearer <token>` before the snapshot redacts it.
fn assert_bearer(req: &HttpRequest, token: &str) {
    let value = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap();
    assert_eq!(value, format!("Bearer {token}"));
    assert!(req.headers.get("authorization").unwrap().is_sensitive());
    // SECURITY S19: never in the query.
    assert!(!req.url.as_str().contains(token));
}

#[test]
fn app_registration_request() {
    let apps = kustomer().apps(secret(API_KEY)).unwrap();
    let req = apps
        .register_request(&AppDefinition::private(
            "myoauthapp",
            "0.0.1",
            "My OAuth App",
        ))
        .unwrap();
    assert_bearer(&req, API_KEY);
    assert_eq!(
        req.url.as_str(),
        "https://api.kustomerapp.com/v1/apps/available"
    );
    // The seed's body, exactly.
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({"app": "myoauthapp", "version": "0.0.1", "title": "My OAuth App", "visibility": "private"})
    );
    snapshot("app_registration_request", &req);
}

#[test]
fn app_registration_request_with_redirect_uri() {
    let apps = kustomer().apps(secret(API_KEY)).unwrap();
    let req = apps
        .register_request(
            &AppDefinition::private("myoauthapp", "0.0.2", "My OAuth App")
                .redirect_uri(REDIRECT_URI),
        )
        .unwrap();
    snapshot("app_registration_request_with_redirect_uri", &req);
}

#[test]
fn secret_generation_request() {
    let apps = kustomer().apps(secret(API_KEY)).unwrap();
    let name = NamespacedAppName::new("myoauthapp", ORG_ID).unwrap();
    let req = apps.generate_secret_request(&name).unwrap();
    assert_bearer(&req, API_KEY);
    assert_eq!(
        req.url.as_str(),
        format!("https://api.kustomerapp.com/v1/apps/available/myoauthapp_{ORG_ID}/secret")
    );
    assert_eq!(req.body, b"{}");
    snapshot("secret_generation_request", &req);
}

#[test]
fn authorize_url() {
    let (url, _pending) = oauth()
        .authorize_url([scopes::CUSTOMER, scopes::CONVERSATION])
        .unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(state.len() >= 22, "S1: at least 128 bits of state");
    let raw_query = url.query().unwrap().replace(&state, "[state]");
    // The seed's URL: scopes joined with `+`, offline_access last.
    assert_eq!(
        raw_query,
        "response_type=code&client_id=5f8a0c1d2e3f405162738495\
         &redirect_uri=https%3A%2F%2Fexample.com%2Fkustomer%2Fcallback\
         &scope=org.permission.customer+org.permission.conversation+offline_access&state=[state]"
    );
    let mut base = url.clone();
    base.set_query(None);
    insta::assert_json_snapshot!("authorize_url", json!({
        "url": base.as_str(),
        "raw_query": raw_query,
        "query": url.query_pairs().map(|(k, v)| (k.into_owned(), Value::from(v.into_owned()))).collect::<serde_json::Map<_, _>>(),
    }), { ".query.state" => "[state]" });
}

#[test]
fn authorize_url_always_adds_offline_access_once() {
    let o = oauth();
    let scope = |url: &oauth_flow::Url| {
        url.query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (url, _) = o.authorize_url([scopes::CUSTOMER]).unwrap();
    assert_eq!(scope(&url), "org.permission.customer offline_access");
    let (url, _) = o
        .authorize_url([scopes::OFFLINE_ACCESS, scopes::CUSTOMER])
        .unwrap();
    assert_eq!(scope(&url), "org.permission.customer offline_access");
    let (url, _) = o.authorize_url(Vec::<String>::new()).unwrap();
    assert_eq!(scope(&url), "offline_access");
    assert!(o.authorize_url(["bad role"]).is_err());
    // Two authorizations never share a state (S1).
    let (a, _) = o.authorize_url([scopes::CUSTOMER]).unwrap();
    let (b, _) = o.authorize_url([scopes::CUSTOMER]).unwrap();
    assert_ne!(a, b);
}

#[test]
fn code_exchange_request() {
    let o = oauth();
    let (url, pending) = o.authorize_url([scopes::CUSTOMER]).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    let req = o.exchange_code_request(&code).unwrap();
    assert_eq!(
        req.url.as_str(),
        "https://api.apps.kustomerapp.com/oauth/token"
    );
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(body.contains(&format!("client_secret={CLIENT_SECRET}")));
    assert!(body.contains(&format!("code={CODE}")));
    // S15: one client authentication method (the body), nothing in a header or the query.
    assert!(req.headers.get("authorization").is_none());
    assert!(req.url.query().is_none());
    snapshot("code_exchange_request", &req);
}

#[test]
fn refresh_request() {
    let req = oauth().refresh_request(&secret(REFRESH_TOKEN)).unwrap();
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(body.contains(&format!("refresh_token={REFRESH_TOKEN}")));
    assert!(req.headers.get("authorization").is_none());
    snapshot("refresh_request", &req);
}

#[test]
fn sandbox_base_url_maps_both_hosts() {
    let k = Kustomer::builder()
        .base_url("http://127.0.0.1:4000/kustomer")
        .build()
        .unwrap();
    let o = k
        .oauth(
            CLIENT_ID,
            secret(CLIENT_SECRET),
            "http://127.0.0.1/callback",
        )
        .build()
        .unwrap();
    let (url, _) = o.authorize_url([scopes::CUSTOMER]).unwrap();
    assert!(
        url.as_str()
            .starts_with("http://127.0.0.1:4000/kustomer/oauth/authorize?")
    );
    let req = o.refresh_request(&secret(REFRESH_TOKEN)).unwrap();
    assert_eq!(
        req.url.as_str(),
        "http://127.0.0.1:4000/kustomer/oauth/token"
    );
    let apps = k.apps(secret(API_KEY)).unwrap();
    let req = apps
        .register_request(&AppDefinition::private("a", "1", "A"))
        .unwrap();
    assert_eq!(
        req.url.as_str(),
        "http://127.0.0.1:4000/kustomer/v1/apps/available"
    );
    // S8: plain http only on loopback.
    assert!(
        Kustomer::builder()
            .api_base_url("http://api.kustomerapp.com")
            .build()
            .is_err()
    );
}

#[test]
fn customer_requests() {
    let c = api_client();
    let auth = bearer();
    let id = CustomerId::new(CUSTOMER).unwrap();

    let req = c
        .request(&ResourceRequest::get_customer(&id), Some(&auth))
        .unwrap();
    assert_bearer(&req, ACCESS_TOKEN);
    snapshot("get_customer_request", &req);

    let req = c
        .request(
            &ListRequest::customers(PageParams::new().page(2).page_size(25)),
            Some(&auth),
        )
        .unwrap();
    snapshot("list_customers_request", &req);

    let search = CustomerSearch::new()
        .and(Criterion::name_contains("ava"))
        .or(Criterion::email_is("ava.nguyen1@example.com"))
        .or(Criterion::external_id_is("crm-1001"));
    let req = c
        .request(
            &ListRequest::search_customers(&search, PageParams::new().page_size(50)),
            Some(&auth),
        )
        .unwrap();
    snapshot("search_customers_request", &req);

    let fields = CustomerFields::new()
        .name("Jo Doe")
        .email(EmailAddress::new("jo@example.com").kind("work"))
        .phone(PhoneNumber::new("+15550100").kind("mobile"))
        .external_id("crm-9000")
        .locale("en-US")
        .tag("trial");
    let req = c
        .request(
            &ResourceRequest::create_customer(&fields).unwrap(),
            Some(&auth),
        )
        .unwrap();
    snapshot("create_customer_request", &req);

    let req = c
        .request(
            &ResourceRequest::update_customer(&id, &CustomerFields::new().display_name("Jo"))
                .unwrap(),
            Some(&auth),
        )
        .unwrap();
    snapshot("update_customer_request", &req);
    assert!(ResourceRequest::update_customer(&id, &CustomerFields::new()).is_err());
}

#[test]
fn conversation_requests() {
    let c = api_client();
    let auth = bearer();
    let customer = CustomerId::new(CUSTOMER).unwrap();

    let req = c
        .request(
            &ListRequest::customer_conversations(&customer, PageParams::new().page_size(5)),
            Some(&auth),
        )
        .unwrap();
    snapshot("customer_conversations_request", &req);

    let req = c
        .request(
            &ResourceRequest::get_conversation(&ConversationId::new(CONVERSATION).unwrap()),
            Some(&auth),
        )
        .unwrap();
    snapshot("get_conversation_request", &req);

    let new = NewConversation::new(customer)
        .name("Order arrived damaged")
        .status(ConversationStatus::Open)
        .priority(2)
        .channel("email")
        .tag("damaged");
    let req = c
        .request(
            &ResourceRequest::create_conversation(&new).unwrap(),
            Some(&auth),
        )
        .unwrap();
    snapshot("create_conversation_request", &req);
}

#[test]
fn next_page_request_repeats_the_search_with_the_links_query() {
    let c = api_client();
    let search = CustomerSearch::new().and(Criterion::has_tag("vip"));
    let first = ListRequest::search_customers(&search, PageParams::new().page_size(2));
    let next = first
        .following("/v1/customers/search?page=2&pageSize=2")
        .unwrap();
    let req = c.request(&next, Some(&bearer())).unwrap();
    snapshot("search_customers_next_page_request", &req);
}

#[test]
fn ids_are_percent_encoded_in_paths() {
    let c = api_client();
    let id = CustomerId::new("a/../b?x").unwrap();
    let req = c
        .request(&ResourceRequest::get_customer(&id), Some(&bearer()))
        .unwrap();
    assert_eq!(
        req.url.as_str(),
        "https://api.kustomerapp.com/v1/customers/a%2F..%2Fb%3Fx"
    );
}

/// SECURITY S25: the committed snapshots hold no canary secret.
#[test]
fn s25_snapshots_hold_no_secret() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for canary in [API_KEY, CLIENT_SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN] {
            assert!(!text.contains(canary), "{} holds {canary}", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 14, "expected the request snapshots, found {seen}");
}
