//! Helpers shared by the sandbox's own tests (raw HTTP over loopback).
#![allow(dead_code)]
// Test helpers panic on purpose: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sandbox::{Provider, Sandbox};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://127.0.0.1/callback";

/// A client that never follows redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `(verifier, S256 challenge)`; `seed` makes distinct verifiers.
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed:-<43}").replace(' ', "-");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn konpro_authorize_url(sb: &Sandbox, challenge: &str, state: &str) -> String {
    format!(
        "{}/oauth/authorize?client_id={}&state={state}&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&response_type=code",
        sb.url(Provider::KonPro),
        sb.credentials().konpro.client_id,
        enc(REDIRECT)
    )
}

/// Runs KonPro's consent and returns `(code, verifier)`.
pub async fn konpro_code(sb: &Sandbox) -> (String, String) {
    let (verifier, challenge) = pkce("konpro-verifier");
    let cb = sb
        .approve(konpro_authorize_url(sb, &challenge, "st4te"))
        .await
        .unwrap();
    assert_eq!(param(&cb, "state").as_deref(), Some("st4te"));
    (param(&cb, "code").unwrap(), verifier)
}

pub async fn konpro_exchange(sb: &Sandbox, code: &str, verifier: &str) -> reqwest::Response {
    client()
        .post(format!("{}/v1/oauth/token", sb.url(Provider::KonPro)))
        .form(&[
            ("code", code),
            ("client_id", sb.credentials().konpro.client_id.as_str()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

pub fn askara_authorize_url(sb: &Sandbox, extra: &str) -> String {
    format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=profile%20organization&state=abc{extra}",
        sb.url(Provider::Askara),
        sb.credentials().askara.client_id,
        enc(REDIRECT)
    )
}

pub async fn askara_code(sb: &Sandbox, extra: &str) -> String {
    let cb = sb.approve(askara_authorize_url(sb, extra)).await.unwrap();
    param(&cb, "code").unwrap()
}

pub async fn askara_token(sb: &Sandbox, body: Value) -> reqwest::Response {
    let mut body = body;
    body["client_id"] = sb.credentials().askara.client_id.clone().into();
    body["client_secret"] = sb.credentials().askara.client_secret.clone().into();
    client()
        .post(format!("{}/oauth2/token", sb.url(Provider::Askara)))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// HMAC-SHA-256 (RFC 2104), for self-signed JWTs.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A JWT with this raw header JSON and claims, HMAC-SHA-256 signed with `key`.
pub fn jwt(header: &str, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = URL_SAFE_NO_PAD.encode(hmac_sha256(key, input.as_bytes()));
    format!("{input}.{sig}")
}

pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A registered Kustomer app with its client secret.
pub struct KApp {
    pub name: String,
    pub client_id: String,
    pub secret: String,
}

pub async fn kustomer_register(sb: &Sandbox, app: &str) -> KApp {
    let base = sb.url(Provider::Kustomer);
    let key = sb.credentials().kustomer.api_key.clone();
    let r = client()
        .post(format!("{base}/v1/apps/available"))
        .bearer_auth(&key)
        .json(&json!({ "app": app, "version": "0.0.1", "title": "My OAuth App", "visibility": "private" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let body = json(r).await;
    let org = &sb.credentials().kustomer.org_id;
    assert_eq!(body["data"]["type"], "available_app");
    assert_eq!(body["data"]["id"], format!("{app}_{org}-0.0.1"));
    let attrs = &body["data"]["attributes"];
    assert_eq!(attrs["name"], format!("{app}_{org}"));
    assert_eq!(attrs["visibility"], "private");
    assert_eq!(attrs["redirectUris"], json!([]));
    let name = attrs["name"].as_str().unwrap().to_owned();
    let client_id = attrs["clientId"].as_str().unwrap().to_owned();
    let s = client()
        .post(format!("{base}/v1/apps/available/{name}/secret/"))
        .bearer_auth(&key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(s.status(), 200);
    let s = json(s).await;
    assert_eq!(s["data"]["attributes"]["clientId"], client_id.as_str());
    let secret = s["data"]["attributes"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    KApp {
        name,
        client_id,
        secret,
    }
}

pub fn kustomer_authorize_url(sb: &Sandbox, app: &KApp, scope: &str) -> String {
    format!(
        "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope={scope}&state=k1",
        sb.url(Provider::Kustomer),
        app.client_id,
        enc(REDIRECT)
    )
}

pub async fn kustomer_token(
    sb: &Sandbox,
    app: &KApp,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", &app.client_id),
        ("client_secret", &app.secret),
    ];
    form.extend_from_slice(fields);
    client()
        .post(format!("{}/oauth/token", sb.url(Provider::Kustomer)))
        .form(&form)
        .send()
        .await
        .unwrap()
}
