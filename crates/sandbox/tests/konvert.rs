//! Konvert: client credentials (Basic only), self-signed JWTs (S22, S28), GraphQL.
// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use sandbox::{Credentials, Provider, Sandbox};
use serde_json::{Value, json};

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

async fn cc_token(sb: &Sandbox) -> String {
    let c = &sb.credentials().konvert;
    let r = client()
        .post(format!("{}/oauth/token", sb.url(Provider::Konvert)))
        .basic_auth(&c.api_key, Some(&c.api_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = json(r).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 21600);
    body["access_token"].as_str().unwrap().to_owned()
}

async fn gql(sb: &Sandbox, token: &str, query: &str, variables: Value) -> reqwest::Response {
    client()
        .post(format!("{}/api", sb.url(Provider::Konvert)))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
}

fn self_signed(sb: &Sandbox, header: &str, iat: i64, exp: i64) -> String {
    let c = &sb.credentials().konvert;
    jwt(
        header,
        &json!({ "sub": c.api_key, "iat": iat, "exp": exp }),
        c.api_secret.as_bytes(),
    )
}

const VIEWER: &str = "{ viewer { apiKey mode authMethod } }";

#[tokio::test]
async fn konvert_client_credentials_token_is_hs256_jwt_and_opens_api() {
    let sb = Sandbox::start().await.unwrap();
    let token = cc_token(&sb).await;
    let claims = jwt_claims(&token);
    assert_eq!(claims["sub"], sb.credentials().konvert.api_key.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        21600
    );
    let r = gql(&sb, &token, VIEWER, json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        json(r).await["data"]["viewer"]["authMethod"],
        "CLIENT_CREDENTIALS"
    );
}

#[tokio::test]
async fn s14_konvert_token_endpoint_is_basic_only() {
    let sb = Sandbox::start().await.unwrap();
    let c = &sb.credentials().konvert;
    let url = format!("{}/oauth/token", sb.url(Provider::Konvert));
    // Credentials in the body → 401 invalid_client.
    let r = client()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.api_key.as_str()),
            ("client_secret", c.api_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(json(r).await["error"], "invalid_client");
    // Basic with a wrong secret.
    let r = client()
        .post(&url)
        .basic_auth(&c.api_key, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Missing or other grant types.
    for body in ["", "grant_type=authorization_code"] {
        let r = client()
            .post(&url)
            .basic_auth(&c.api_key, Some(&c.api_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(json(r).await["error"], "unsupported_grant_type");
    }
}

/// Posts Konvert's token request with `Authorization: Basic base64(pair)`.
async fn token_with_basic(sb: &Sandbox, pair: &str) -> reqwest::Response {
    client()
        .post(format!("{}/oauth/token", sb.url(Provider::Konvert)))
        .header("authorization", format!("Basic {}", STANDARD.encode(pair)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// S14 as document 003 has it (issue 18 part 4): the Basic value is "a base64-encoded string
/// client_id:client_secret", decoded without form-decoding. With a secret holding each of
/// `+ / = % :` and a space, the raw pair is accepted and the RFC 6749 §2.3.1 form-encoded pair
/// is refused, so an SDK that form-encodes can no longer pass against the sandbox.
#[tokio::test]
async fn s14_konvert_basic_is_decoded_raw_as_documented() {
    for c in ["+", "/", "=", "%", ":", " "] {
        let mut creds = Credentials::fixed();
        creds.konvert.api_secret = format!("konvert{c}secret{c}2B");
        let sb = Sandbox::start_with(0, creds).await.unwrap();
        let k = sb.credentials().konvert.clone();
        let raw = format!("{}:{}", k.api_key, k.api_secret);
        let r = token_with_basic(&sb, &raw).await;
        assert_eq!(r.status(), 200, "raw pair refused for {c:?}");
        let form = format!("{}:{}", enc(&k.api_key), enc(&k.api_secret));
        assert_ne!(form, raw);
        let r = token_with_basic(&sb, &form).await;
        assert_eq!(r.status(), 401, "form-encoded pair accepted for {c:?}");
        assert_eq!(json(r).await["error"], "invalid_client");
        // The issued token works at the API; the same secret signs self-signed JWTs.
        let r = token_with_basic(&sb, &raw).await;
        let token = json(r).await["access_token"].as_str().unwrap().to_owned();
        assert_eq!(gql(&sb, &token, VIEWER, json!({})).await.status(), 200);
    }
}

#[tokio::test]
async fn s22_self_signed_hs256_jwt_is_accepted_and_counted() {
    let sb = Sandbox::start().await.unwrap();
    let now = sb.now();
    let t = self_signed(&sb, HS256, now, now + 3600);
    for _ in 0..3 {
        let r = gql(&sb, &t, VIEWER, json!({})).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            json(r).await["data"]["viewer"]["authMethod"],
            "SELF_SIGNED_JWT"
        );
    }
    assert_eq!(sb.konvert_distinct_jwts(), 1);
    let t2 = self_signed(&sb, HS256, now + 1, now + 3601);
    assert_eq!(gql(&sb, &t2, VIEWER, json!({})).await.status(), 200);
    assert_eq!(sb.konvert_distinct_jwts(), 2);
}

#[tokio::test]
async fn s22_jwt_alg_none_hs384_rs256_are_rejected() {
    let sb = Sandbox::start().await.unwrap();
    let now = sb.now();
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"HS384","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"hs256"}"#,
    ] {
        let t = self_signed(&sb, header, now, now + 600);
        let r = gql(&sb, &t, VIEWER, json!({})).await;
        assert_eq!(r.status(), 401, "{header}");
        assert_eq!(
            json(r).await["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED"
        );
    }
    // Unsigned `none` token with an empty signature.
    let t = self_signed(&sb, r#"{"alg":"none"}"#, now, now + 600);
    let unsigned = format!("{}.", t.rsplit_once('.').unwrap().0);
    assert_eq!(gql(&sb, &unsigned, VIEWER, json!({})).await.status(), 401);
    assert_eq!(sb.konvert_distinct_jwts(), 0);
}

#[tokio::test]
async fn s28_jwt_lifetime_over_21600_is_rejected() {
    let sb = Sandbox::start().await.unwrap();
    let now = sb.now();
    assert_eq!(
        gql(
            &sb,
            &self_signed(&sb, HS256, now, now + 21600),
            VIEWER,
            json!({})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        gql(
            &sb,
            &self_signed(&sb, HS256, now, now + 21601),
            VIEWER,
            json!({})
        )
        .await
        .status(),
        401
    );
    // Wrong key, unknown sub.
    let c = &sb.credentials().konvert;
    let wrong_key = jwt(
        HS256,
        &json!({ "sub": c.api_key, "iat": now, "exp": now + 60 }),
        b"not-the-secret",
    );
    assert_eq!(gql(&sb, &wrong_key, VIEWER, json!({})).await.status(), 401);
    let wrong_sub = jwt(
        HS256,
        &json!({ "sub": "someone", "iat": now, "exp": now + 60 }),
        c.api_secret.as_bytes(),
    );
    assert_eq!(gql(&sb, &wrong_sub, VIEWER, json!({})).await.status(), 401);
}

#[tokio::test]
async fn s28_expired_jwt_is_rejected_after_advance_clock_with_60s_leeway() {
    let sb = Sandbox::start().await.unwrap();
    let now = sb.now();
    let t = self_signed(&sb, HS256, now, now + 600);
    sb.advance_clock(Duration::from_secs(650)); // 50 s past exp: within leeway
    assert_eq!(gql(&sb, &t, VIEWER, json!({})).await.status(), 200);
    sb.advance_clock(Duration::from_secs(20)); // 70 s past exp
    let r = gql(&sb, &t, VIEWER, json!({})).await;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // Issued tokens expire too.
    let issued = cc_token(&sb).await;
    sb.advance_clock(Duration::from_secs(21600));
    assert_eq!(gql(&sb, &issued, VIEWER, json!({})).await.status(), 401);
}

#[tokio::test]
async fn konvert_api_without_bearer_is_401_json() {
    let sb = Sandbox::start().await.unwrap();
    let r = client()
        .post(format!("{}/api", sb.url(Provider::Konvert)))
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(json(r).await["errors"].is_array());
}

const CONTACTS: &str = "query Contacts($first: Int, $after: String) {
  contacts(first: $first, after: $after) {
    totalCount
    edges { cursor node { id fullName email company { name } } }
    pageInfo { hasNextPage endCursor }
  }
}";

#[tokio::test]
async fn graphql_cursor_pagination_walks_all_contacts() {
    let sb = Sandbox::start().await.unwrap();
    let token = cc_token(&sb).await;
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let body = json(
            gql(
                &sb,
                &token,
                CONTACTS,
                json!({ "first": 10, "after": after }),
            )
            .await,
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
        let conn = &body["data"]["contacts"];
        assert_eq!(conn["totalCount"], 25);
        for e in conn["edges"].as_array().unwrap() {
            ids.push(e["node"]["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 25);
    assert_eq!(ids[0], "contact-1");
    assert_eq!(ids[24], "contact-25");
    // A filter and a lookup.
    let body = json(
        gql(&sb, &token, "{ contacts(filter: {search: \"ada\"}) { totalCount edges { node { firstName } } } deal(id: \"deal-1\") { name stage company { id } } }", json!({})).await,
    )
    .await;
    assert_eq!(body["data"]["contacts"]["totalCount"], 1);
    assert_eq!(body["data"]["deal"]["company"]["id"], "company-1");
}

#[tokio::test]
async fn graphql_partial_data_with_errors_from_enrichment() {
    let sb = Sandbox::start().await.unwrap();
    let token = cc_token(&sb).await;
    let body = json(
        gql(
            &sb,
            &token,
            "{ contacts(first: 10) { edges { node { id enrichment { score } } } } }",
            json!({}),
        )
        .await,
    )
    .await;
    let edges = body["data"]["contacts"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(edges.len(), 10);
    assert!(edges[0]["node"]["enrichment"]["score"].is_number());
    assert!(edges[4]["node"]["enrichment"].is_null());
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["extensions"]["code"], "ENRICHMENT_UNAVAILABLE");
    assert_eq!(
        errors[0]["path"],
        json!(["contacts", "edges", 4, "node", "enrichment"])
    );
}

#[tokio::test]
async fn graphql_mutations_and_validation_errors() {
    let sb = Sandbox::start().await.unwrap();
    let token = cc_token(&sb).await;
    let create = "mutation Create($input: CreateContactInput!) { createContact(input: $input) { id email lifecycleStage company { id } } }";
    let body = json(
        gql(&sb, &token, create, json!({ "input": { "firstName": "New", "lastName": "Person", "email": "new@person.example", "companyId": "company-2" } })).await,
    )
    .await;
    assert_eq!(body["data"]["createContact"]["id"], "contact-26");
    assert_eq!(body["data"]["createContact"]["lifecycleStage"], "LEAD");
    let bad = json(
        gql(
            &sb,
            &token,
            create,
            json!({ "input": { "firstName": "A", "lastName": "B", "email": "not-an-email" } }),
        )
        .await,
    )
    .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(bad["data"].is_null());

    let note = json(
        gql(&sb, &token, "mutation { addNote(input: {body: \"hello\", dealId: \"deal-2\"}) { id body deal { id } } }", json!({})).await,
    )
    .await;
    assert_eq!(note["data"]["addNote"]["deal"]["id"], "deal-2");
    let stage = json(
        gql(
            &sb,
            &token,
            "mutation { updateDealStage(id: \"deal-1\", stage: PROPOSAL) { id stage } }",
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(stage["data"]["updateDealStage"]["stage"], "PROPOSAL");
    let missing = json(
        gql(
            &sb,
            &token,
            "mutation { updateDealStage(id: \"deal-99\", stage: PROPOSAL) { id } }",
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(missing["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let too_many = json(
        gql(
            &sb,
            &token,
            "{ contacts(first: 51) { totalCount } }",
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        too_many["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn graphql_introspection_is_on_and_sdl_is_exported() {
    let sb = Sandbox::start().await.unwrap();
    let token = cc_token(&sb).await;
    let body = json(
        gql(
            &sb,
            &token,
            "{ __schema { queryType { name } mutationType { name } types { name } } }",
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    assert_eq!(body["data"]["__schema"]["mutationType"]["name"], "Mutation");
    let names: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "Contact",
        "Company",
        "Deal",
        "Note",
        "ContactConnection",
        "PageInfo",
    ] {
        assert!(names.contains(&t), "{t}");
    }
    let sdl = sandbox::konvert::schema_sdl();
    assert!(sdl.contains("type ContactConnection"));
    assert!(sdl.contains("createContact(input: CreateContactInput!): Contact!"));
}
