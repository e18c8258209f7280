//! Kustomer end to end against the in-process sandbox: app registration, secret generation
//! and rotation, the "Invalid Client" answer before installation, the authorization code flow,
//! refresh with rotation, API-key mode, pagination and a missing role.
// The docs come first so the test crate stays documented when the feature is off.
#![cfg(feature = "kustomer")]
// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kustomer_sdk::{
    ApiRequest, AppDefinition, AppsClient, ConversationStatus, Criterion, Customer, CustomerFields,
    CustomerId, CustomerSearch, Document, EmailAddress, Error, ExposeSecret, GeneratedSecret,
    Kustomer, KustomerClient, KustomerOAuth, ListRequest, NewConversation, PageParams,
    RegisteredApp, SearchOp, SecretString, scopes,
};
use oauth_flow::{ManualClock, MemoryStore, ReqwestTransport, TokenStore, Transport};
use sandbox::{Fault, Provider, Sandbox};

const TOKEN: &str = "/kustomer/oauth/token";
const CUSTOMERS: &str = "/kustomer/v1/customers";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

async fn start() -> (Sandbox, Kustomer) {
    let sb = Sandbox::start().await.unwrap();
    let k = Kustomer::builder()
        .base_url(sb.url(Provider::Kustomer))
        .build()
        .unwrap();
    (sb, k)
}

fn apps(sb: &Sandbox, k: &Kustomer) -> AppsClient {
    k.apps(secret(&sb.credentials().kustomer.api_key)).unwrap()
}

/// Registers `app`, generates its secret and, if `install`, installs it.
async fn app_with_secret(
    sb: &Sandbox,
    k: &Kustomer,
    app: &str,
    install: bool,
) -> (RegisteredApp, GeneratedSecret) {
    let apps = apps(sb, k);
    let registered = apps
        .register(&AppDefinition::private(app, "0.0.1", "My OAuth App"))
        .await
        .unwrap();
    if install {
        sb.install_kustomer_app(registered.name.as_str()).unwrap();
    }
    let secret = apps.generate_secret(&registered.name).await.unwrap();
    (registered, secret)
}

fn oauth(sb: &Sandbox, k: &Kustomer, s: &GeneratedSecret) -> KustomerOAuth {
    k.oauth(
        s.client_id(),
        s.client_secret().clone(),
        &sb.credentials().redirect_uri,
    )
    .build()
    .unwrap()
}

/// Authorize (approved in the sandbox's consent page), exchange the code: the user's client.
async fn authorize(
    sb: &Sandbox,
    oauth: &KustomerOAuth,
    roles: &[&str],
    subject: &str,
) -> Result<KustomerClient, Error> {
    let (url, pending) = oauth.authorize_url(roles.iter().copied())?;
    let callback = sb.approve(url.as_str()).await.unwrap();
    oauth.complete(subject, pending, &callback).await
}

#[tokio::test]
async fn register_secret_not_installed_then_installed_then_list_all_customers() {
    let (sb, k) = start().await;
    let org = sb.credentials().kustomer.org_id.clone();
    let (app, generated) = app_with_secret(&sb, &k, "myoauthapp", false).await;
    assert_eq!(app.kind, "available_app");
    assert_eq!(app.name.as_str(), format!("myoauthapp_{org}"));
    assert_eq!(app.name.org_id(), org);
    assert_eq!(app.id, format!("myoauthapp_{org}-0.0.1"));
    assert_eq!(generated.client_id(), app.client_id);
    assert!(!generated.client_secret().expose_secret().is_empty());

    let oauth = oauth(&sb, &k, &generated);
    let roles = [scopes::CUSTOMER, scopes::CONVERSATION];

    // Before installation: Kustomer's 400 "Invalid Client", typed, with the fix in the message.
    let err = authorize(&sb, &oauth, &roles, "alex").await.unwrap_err();
    assert!(matches!(err, Error::AppNotInstalled { .. }), "{err:?}");
    assert_eq!(err.status(), Some(400));
    let msg = err.to_string();
    assert!(
        msg.contains("Invalid Client") && msg.contains("install"),
        "{msg}"
    );
    assert!(!msg.contains(generated.client_secret().expose_secret()));
    assert_eq!(sb.calls(TOKEN), 1);

    // Install, authorize again: tokens, with the granted roles kept.
    sb.install_kustomer_app(app.name.as_str()).unwrap();
    let client = authorize(&sb, &oauth, &roles, "alex").await.unwrap();
    assert_eq!(
        client.granted_scopes().await.unwrap(),
        vec![
            scopes::CUSTOMER,
            scopes::CONVERSATION,
            scopes::OFFLINE_ACCESS
        ]
    );
    let token = client.token().await.unwrap().unwrap();
    assert!(
        token.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    let lifetime = token
        .expires_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(lifetime > Duration::from_secs(86_000) && lifetime <= Duration::from_secs(86_400));
    assert_eq!(client.expires_at().await.unwrap(), token.expires_at);

    let first = client.list_customers(PageParams::new()).await.unwrap();
    assert_eq!(first.items().len(), 10);
    assert_eq!(first.meta().total, Some(30));
    assert!(first.has_next());

    // Every page, in pages of 7: 5 calls, 30 distinct customers.
    sb.reset_calls();
    let all = client.all_customers(7).await.unwrap();
    assert_eq!(all.len(), 30);
    let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30);
    assert_eq!(sb.calls(CUSTOMERS), 5);
    assert_eq!(sb.calls(TOKEN), 0, "the fresh token was reused");
}

#[tokio::test]
async fn rotating_the_secret_disables_the_old_one() {
    let (sb, k) = start().await;
    let (app, old) = app_with_secret(&sb, &k, "rotator", true).await;
    let new = apps(&sb, &k).generate_secret(&app.name).await.unwrap();
    assert_eq!(new.client_id(), old.client_id());
    assert_ne!(
        new.client_secret().expose_secret(),
        old.client_secret().expose_secret()
    );

    let err = authorize(&sb, &oauth(&sb, &k, &old), &[scopes::CUSTOMER], "u")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ClientRejected { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("most recently generated client secret")
    );
    assert!(
        !err.to_string()
            .contains(old.client_secret().expose_secret())
    );

    let client = authorize(&sb, &oauth(&sb, &k, &new), &[scopes::CUSTOMER], "u")
        .await
        .unwrap();
    client.access_token().await.unwrap();
}

#[tokio::test]
async fn s16_s17_refresh_rotates_persists_and_the_old_refresh_token_is_dead() {
    let (sb, k) = start().await;
    // This test spends the rotated-out refresh token on purpose and then refreshes again:
    // reuse detection (RFC 9700 §4.14.2) would revoke the grant in between.
    sb.set_reuse_detection(Provider::Kustomer, false);
    let (_app, generated) = app_with_secret(&sb, &k, "refresher", true).await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let store = Arc::new(MemoryStore::new());
    // The store and clock are `Kustomer`'s settings; its OAuth flows inherit them.
    let k = Kustomer::builder()
        .base_url(sb.url(Provider::Kustomer))
        .store(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let oauth = oauth(&sb, &k, &generated);
    let client = authorize(&sb, &oauth, &[scopes::CUSTOMER], "u")
        .await
        .unwrap();
    let before = client.token().await.unwrap().unwrap();
    let old_rt = before.refresh_token.clone().unwrap();

    // A day later (for the SDK's clock): the next call refreshes first, once.
    clock.advance(Duration::from_secs(86_400));
    sb.reset_calls();
    let at = client.access_token().await.unwrap();
    assert_eq!(sb.calls(TOKEN), 1);
    assert!(!at.same_as(&oauth_flow::AccessToken::new(before.access_token.clone())));
    let key = client.grant().unwrap().key().clone();
    let stored = store.load(&key).await.unwrap().unwrap();
    let new_rt = stored.refresh_token.unwrap();
    assert_ne!(new_rt.expose_secret(), old_rt.expose_secret());
    assert_eq!(
        stored.scope.as_deref(),
        Some("org.permission.customer offline_access")
    );
    // The new access token works.
    client.list_customers(PageParams::new()).await.unwrap();

    // The rotated-out refresh token is refused (invalid_grant).
    let transport = ReqwestTransport::new().unwrap();
    let resp = transport
        .send(oauth.refresh_request(&old_rt).unwrap())
        .await
        .unwrap();
    let err = oauth_flow::__private::parse_token_response(&resp, SystemTime::now()).unwrap_err();
    assert_eq!(err.oauth_code(), Some(&oauth_flow::ErrorCode::InvalidGrant));

    // Forced refresh: another rotation.
    client.refresh().await.unwrap();
    let again = store.load(&key).await.unwrap().unwrap();
    assert_ne!(
        again.refresh_token.unwrap().expose_secret(),
        new_rt.expose_secret()
    );
}

#[tokio::test]
async fn s20_an_access_token_expired_at_the_server_is_refreshed_once_and_retried() {
    let (sb, k) = start().await;
    let (_app, generated) = app_with_secret(&sb, &k, "expiry", true).await;
    let oauth = oauth(&sb, &k, &generated);
    let client = authorize(&sb, &oauth, &[scopes::CUSTOMER], "u")
        .await
        .unwrap();
    sb.advance_clock(Duration::from_secs(86_401));
    sb.reset_calls();
    let page = client.list_customers(PageParams::new()).await.unwrap();
    assert_eq!(page.items().len(), 10);
    assert_eq!(sb.calls(TOKEN), 1, "one refresh");
    assert_eq!(sb.calls(CUSTOMERS), 2, "the 401, then the retry");
}

#[tokio::test]
async fn s20_a_missing_role_is_a_403_without_refresh() {
    let (sb, k) = start().await;
    let (_app, generated) = app_with_secret(&sb, &k, "narrow", true).await;
    let client = authorize(&sb, &oauth(&sb, &k, &generated), &[scopes::CUSTOMER], "u")
        .await
        .unwrap();
    let first = client.list_customers(PageParams::new()).await.unwrap();
    let customer = first.items()[0].id.clone();
    sb.reset_calls();
    let err = client
        .customer_conversations(&customer, PageParams::new())
        .await
        .unwrap_err();
    match &err {
        Error::Forbidden {
            insufficient_scope,
            message,
        } => {
            assert!(insufficient_scope);
            assert!(message.as_deref().unwrap().contains(scopes::CONVERSATION));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.calls(TOKEN), 0);
}

#[tokio::test]
async fn api_key_mode_customers_and_conversations() {
    let (sb, k) = start().await;
    let client = k
        .api_key_client(secret(&sb.credentials().kustomer.api_key))
        .unwrap();

    // Customers: get, search, create, update.
    let first = client
        .list_customers(PageParams::new().page_size(1))
        .await
        .unwrap();
    let ava = &first.items()[0];
    let fetched = client.get_customer(&ava.id).await.unwrap();
    assert_eq!(fetched, *ava);
    let email = fetched.attributes.emails[0].email.clone();
    let hits = client
        .search_customers(
            &CustomerSearch::new().and(Criterion::email_is(&email)),
            PageParams::new(),
        )
        .await
        .unwrap();
    assert_eq!(hits.items().len(), 1);
    assert_eq!(hits.items()[0].id, ava.id);

    let created = client
        .create_customer(
            &CustomerFields::new()
                .name("Jo Doe")
                .email(EmailAddress::new("jo@example.com").kind("work"))
                .external_id("crm-9000")
                .tag("trial"),
        )
        .await
        .unwrap();
    assert_eq!(created.attributes.name.as_deref(), Some("Jo Doe"));
    assert_eq!(created.attributes.tags, vec!["trial"]);
    let updated = client
        .update_customer(&created.id, &CustomerFields::new().locale("de-DE"))
        .await
        .unwrap();
    assert_eq!(updated.attributes.locale.as_deref(), Some("de-DE"));
    assert_eq!(updated.attributes.name.as_deref(), Some("Jo Doe"));
    assert_eq!(
        client
            .get_customer(&created.id)
            .await
            .unwrap()
            .attributes
            .locale
            .as_deref(),
        Some("de-DE")
    );

    // Conversations: the first customer has 12, in pages of 5.
    sb.reset_calls();
    let convs = client
        .all(ListRequest::customer_conversations(
            &ava.id,
            PageParams::new().page_size(5),
        ))
        .await
        .unwrap();
    assert_eq!(convs.len(), 12);
    assert_eq!(sb.calls("/kustomer/v1/customers/{id}/conversations"), 3);
    assert!(
        convs
            .iter()
            .all(|c| c.customer_id().as_ref() == Some(&ava.id))
    );

    let new = client
        .create_conversation(
            &NewConversation::new(created.id.clone())
                .name("Welcome")
                .priority(2)
                .status(ConversationStatus::Snoozed),
        )
        .await
        .unwrap();
    let got = client.get_conversation(&new.id).await.unwrap();
    assert_eq!(got.attributes.name.as_deref(), Some("Welcome"));
    assert_eq!(got.attributes.priority, Some(2));
    assert_eq!(got.attributes.status, Some(ConversationStatus::Snoozed));
    assert_eq!(got.customer_id(), Some(created.id.clone()));

    // Unknown ids: the provider's JSON:API 404.
    let err = client
        .get_customer(&CustomerId::new("does-not-exist").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn search_walks_all_pages_repeating_the_body() {
    let (sb, k) = start().await;
    let client = k
        .api_key_client(secret(&sb.credentials().kustomer.api_key))
        .unwrap();
    let search =
        CustomerSearch::new().and(Criterion::new("customer_locale", SearchOp::Eq, "fr-FR"));
    let everyone = client
        .all(ListRequest::search_customers(
            &search,
            PageParams::new().page_size(100),
        ))
        .await
        .unwrap();
    sb.reset_calls();
    let paged = client
        .all(ListRequest::search_customers(
            &search,
            PageParams::new().page_size(3),
        ))
        .await
        .unwrap();
    assert!(!everyone.is_empty());
    assert!(
        everyone
            .iter()
            .all(|c| c.attributes.locale.as_deref() == Some("fr-FR"))
    );
    assert_eq!(paged, everyone);
    assert_eq!(
        sb.calls("/kustomer/v1/customers/search"),
        everyone.len().div_ceil(3) as u64
    );
}

#[tokio::test]
async fn registration_failures_are_typed_with_the_providers_message() {
    let (sb, k) = start().await;
    let def = AppDefinition::private("dupe", "0.0.1", "Dupe");

    let bad = k.apps(secret("not-the-key")).unwrap();
    let err = bad.register(&def).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-key"));

    let good = apps(&sb, &k);
    let app = good.register(&def).await.unwrap();
    let err = good.register(&def).await.unwrap_err();
    match &err {
        Error::Api { status, errors, .. } => {
            assert_eq!(*status, 409);
            assert!(
                errors[0]
                    .detail
                    .as_deref()
                    .unwrap()
                    .contains("already exists")
            );
        }
        other => panic!("{other:?}"),
    }

    sb.inject("/kustomer/v1/apps/available", Fault::HtmlError(502), 1);
    let err = good
        .register(&AppDefinition::private("other", "0.0.1", "Other"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 502, errors, excerpt } if errors.is_empty() && !excerpt.is_empty()),
        "{err:?}"
    );

    // A namespaced name with another org id: the provider's 404.
    let wrong =
        kustomer_sdk::NamespacedAppName::new(app.name.app(), "000000000000000000000000").unwrap();
    let err = good.generate_secret(&wrong).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");

    // An OAuth access token cannot manage apps.
    sb.install_kustomer_app(app.name.as_str()).unwrap();
    let generated = good.generate_secret(&app.name).await.unwrap();
    let client = authorize(&sb, &oauth(&sb, &k, &generated), &[scopes::CUSTOMER], "u")
        .await
        .unwrap();
    let with_token = k
        .apps(client.access_token().await.unwrap().secret().clone())
        .unwrap();
    let err = with_token.generate_secret(&app.name).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
}

#[tokio::test]
async fn s6_denied_consent_is_typed_and_sends_no_token_request() {
    let (sb, k) = start().await;
    let (_app, generated) = app_with_secret(&sb, &k, "denied", true).await;
    let oauth = oauth(&sb, &k, &generated);
    let (url, pending) = oauth.authorize_url([scopes::CUSTOMER]).unwrap();
    let callback = sb.deny(url.as_str()).await.unwrap();
    let err = oauth.complete("u", pending, &callback).await.unwrap_err();
    assert!(err.is_access_denied(), "{err:?}");
    assert!(matches!(err, Error::Callback(_)), "{err:?}");
    assert_eq!(sb.calls(TOKEN), 0);
}

#[tokio::test]
async fn s13_token_endpoint_html_error_is_typed() {
    let (sb, k) = start().await;
    let (_app, generated) = app_with_secret(&sb, &k, "flaky", true).await;
    let oauth = oauth(&sb, &k, &generated);
    sb.inject(TOKEN, Fault::HtmlError(502), 1);
    let err = authorize(&sb, &oauth, &[scopes::CUSTOMER], "u")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(matches!(
        err,
        Error::OAuth(oauth_flow::Error::HttpStatus { status: 502, .. })
    ));
    assert_eq!(sb.calls(TOKEN), 1, "a code is never retried");
}

/// A restart finds the user's tokens in the store (`restore`), an untyped call reaches the API
/// with them, and `forget` logs the user out: the next start-up finds nothing.
#[tokio::test]
async fn restore_untyped_calls_and_forget() {
    let (sb, k) = start().await;
    let (_app, generated) = app_with_secret(&sb, &k, "restarts", true).await;
    let store = Arc::new(MemoryStore::new());
    // One "process" per `Kustomer`, sharing the store.
    let process = || {
        let k = Kustomer::builder()
            .base_url(sb.url(Provider::Kustomer))
            .store(store.clone())
            .build()
            .unwrap();
        oauth(&sb, &k, &generated)
    };
    let first = process();
    assert!(first.restore("alex").await.unwrap().is_none());
    authorize(&sb, &first, &[scopes::CUSTOMER], "alex")
        .await
        .unwrap();

    let second = process();
    sb.reset_calls();
    let client = second.restore("alex").await.unwrap().unwrap();
    let page = client.list_customers(PageParams::new()).await.unwrap();
    let id = page.items()[0].id.clone();
    let one: Document<Customer> = client
        .get(&format!("v1/customers/{}", id.as_str()))
        .await
        .unwrap();
    assert_eq!(one.data.id, id);
    let raw: serde_json::Value = client
        .send(&ApiRequest::get("v1/customers").query("pageSize", "2"))
        .await
        .unwrap();
    assert_eq!(raw["data"].as_array().unwrap().len(), 2);
    assert_eq!(sb.calls(TOKEN), 0, "the stored token was used as is");

    client.forget().await.unwrap();
    assert!(process().restore("alex").await.unwrap().is_none());
}
