//! The self-signed JWT mode: header, claims, lifetime cap, one signature per lifetime. Claims
//! are checked by decoding and verifying with `jsonwebtoken` (which also guards against the
//! runtime panic of a missing or doubled crypto backend).

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use konvert_sdk::oauth_flow::{ConfigError, ExposeSecret as _, ManualClock};
use konvert_sdk::{Auth, Error, KonvertClient, MAX_JWT_LIFETIME, SecretString};
use serde_json::Value;

const KEY: &str = "konvert-test-key";
const SECRET: &str = "konvert_test_secret_0123456789abcdef0123";
const NOW: u64 = 1_800_000_000;

fn client(lifetime: Duration) -> (KonvertClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(NOW)));
    let client = KonvertClient::builder(Auth::jwt(
        KEY,
        SecretString::from(SECRET.to_owned()),
        lifetime,
    ))
    .clock(clock.clone())
    .build()
    .unwrap();
    (client, clock)
}

fn verify(jwt: &str, key: &[u8]) -> Result<Value, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false; // the test clock is in the future
    validation.required_spec_claims.clear();
    decode::<Value>(jwt, &DecodingKey::from_secret(key), &validation).map(|d| d.claims)
}

/// The backend is usable: sign and verify round-trip (no runtime panic).
#[test]
fn jsonwebtoken_backend_signs_and_verifies() {
    let token = encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"sub": "x"}),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    assert_eq!(verify(&token, b"k").unwrap()["sub"], "x");
}

/// S22/S24: header `{"alg":"HS256","typ":"JWT"}`; `sub` = API key; `iat` = now;
/// `exp - iat` = the configured lifetime; signed with the API secret.
#[tokio::test]
async fn s22_s24_header_and_claims() {
    let (client, _) = client(Duration::from_secs(3600));
    let token = client.access_token().await.unwrap();
    let jwt = token.secret().expose_secret();

    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));

    let claims = verify(jwt, SECRET.as_bytes()).unwrap();
    assert_eq!(claims["sub"], KEY);
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 3600);
    assert!(verify(jwt, b"another secret").is_err());
}

#[tokio::test]
async fn the_maximum_lifetime_is_accepted() {
    let (client, _) = client(MAX_JWT_LIFETIME);
    let token = client.access_token().await.unwrap();
    let claims = verify(token.secret().expose_secret(), SECRET.as_bytes()).unwrap();
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        21_600
    );
}

/// S24: a lifetime over six hours is a typed error, before anything is signed.
#[test]
fn s24_lifetime_over_the_cap_is_a_typed_error() {
    let err = KonvertClient::builder(Auth::jwt(
        KEY,
        SecretString::from(SECRET.to_owned()),
        Duration::from_secs(21_601),
    ))
    .build()
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config(ConfigError::LifetimeOverCap {
                requested: 21_601,
                cap: 21_600
            })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "JWT lifetime of 21601 s exceeds the cap of 21600 s"
    );
}

/// S23: an empty secret is refused.
#[test]
fn s23_empty_secret_is_refused() {
    let err = KonvertClient::builder(Auth::jwt(
        KEY,
        SecretString::from(String::new()),
        Duration::from_secs(60),
    ))
    .build()
    .unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::EmptyKey)),
        "{err:?}"
    );
}

/// Signed once per lifetime, not per call: the same JWT until shortly before `exp`, then a
/// new one.
#[tokio::test]
async fn s24_one_signature_per_lifetime() {
    let (client, clock) = client(Duration::from_secs(3600));
    let first = client.access_token().await.unwrap();
    for _ in 0..20 {
        assert!(client.access_token().await.unwrap().same_as(&first));
    }
    clock.advance(Duration::from_secs(3000));
    assert!(client.access_token().await.unwrap().same_as(&first));
    clock.advance(Duration::from_secs(570)); // exp - 30 s: within the re-mint margin
    let second = client.access_token().await.unwrap();
    assert!(!second.same_as(&first));
    let claims = verify(second.secret().expose_secret(), SECRET.as_bytes()).unwrap();
    assert_eq!(claims["iat"], NOW + 3570);
}

/// Issue 20: `forget` drops the JWT and its expiry; the next call signs a new one (here a
/// second later, so its `iat` differs).
#[tokio::test]
async fn forget_drops_the_jwt() {
    let (client, clock) = client(Duration::from_secs(3600));
    let first = client.access_token().await.unwrap();
    let exp = UNIX_EPOCH + Duration::from_secs(NOW + 3600);
    assert_eq!(client.expires_at().await.unwrap(), Some(exp));
    client.forget().await.unwrap();
    assert_eq!(client.expires_at().await.unwrap(), None);
    clock.advance(Duration::from_secs(1));
    let second = client.access_token().await.unwrap();
    assert!(!second.same_as(&first));
    let claims = verify(second.secret().expose_secret(), SECRET.as_bytes()).unwrap();
    assert_eq!(claims["iat"], NOW + 1);
    assert_eq!(
        client.expires_at().await.unwrap(),
        Some(exp + Duration::from_secs(1))
    );
}

/// S25: neither the client's nor the auth's `Debug` shows the secret or the JWT.
#[tokio::test]
async fn s25_debug_output_has_no_secret() {
    let (client, _) = client(Duration::from_secs(60));
    let jwt = client.access_token().await.unwrap();
    let dbg = format!("{client:?} {jwt:?}");
    assert!(!dbg.contains(SECRET));
    assert!(!dbg.contains(jwt.secret().expose_secret()));
}
