//! Property tests of Askara's access-token claims, read from the JWT without verification:
//! arbitrary tokens and payloads never panic, and generated claims round-trip. 1,000 cases per
//! property (`PROPTEST_CASES=N` for more).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../oauth-flow/tests/support/proptest_support.rs"]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use askara_sdk::AccessTokenClaims;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{config, json_object};

const CLAIM_KEYS: &[&str] = &[
    "sub", "iss", "aud", "iat", "exp", "jti", "scope", "scp", "scopes",
];

fn jwt(payload: &[u8]) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary text is a JWT or not; never a panic.
    #[test]
    fn arbitrary_tokens(token in any::<String>(), payload in prop::collection::vec(any::<u8>(), 0..128)) {
        let _ = AccessTokenClaims::from_jwt(&token);
        let _ = AccessTokenClaims::from_jwt(&jwt(&payload));
    }

    /// Structured but wrong: every claim with any type. Times are kept only when they are
    /// sane NumericDates; nothing panics; `expires_in` never panics either.
    #[test]
    fn claims_of_any_type(map in json_object(CLAIM_KEYS)) {
        let token = jwt(&serde_json::to_vec(&Value::Object(map.clone())).unwrap());
        let claims = AccessTokenClaims::from_jwt(&token).unwrap();
        prop_assert_eq!(&claims, &AccessTokenClaims::from_map(map));
        for t in [claims.issued_at, claims.expires_at].into_iter().flatten() {
            prop_assert!(t <= UNIX_EPOCH + Duration::from_secs(1_000_000_000_000));
        }
        let _ = claims.expires_in(SystemTime::now());
        let _ = claims.expires_in(UNIX_EPOCH);
    }

    /// Round trip: generated claims written into a JWT read back as written.
    #[test]
    fn claims_round_trip(
        sub in "[a-z0-9_]{1,20}",
        aud in prop::collection::vec("[a-z0-9-]{1,12}", 0..3),
        iat in 0u64..4_000_000_000,
        life in 0u64..1_000_000,
        scopes in prop::collection::btree_set("[a-z.:]{1,12}", 0..4),
        as_string in any::<bool>(),
    ) {
        let scopes: Vec<String> = scopes.into_iter().collect();
        let scope = if as_string { json!(scopes.join(" ")) } else { json!(scopes) };
        let payload = json!({
            "sub": sub, "aud": aud, "iat": iat, "exp": iat + life, "scope": scope, "jti": "j1",
            "tenant": "t",
        });
        let claims = AccessTokenClaims::from_jwt(&jwt(payload.to_string().as_bytes())).unwrap();
        prop_assert_eq!(claims.subject.as_deref(), Some(sub.as_str()));
        prop_assert_eq!(&claims.audience, &aud);
        prop_assert_eq!(claims.issued_at, Some(UNIX_EPOCH + Duration::from_secs(iat)));
        prop_assert_eq!(claims.expires_at, Some(UNIX_EPOCH + Duration::from_secs(iat + life)));
        prop_assert_eq!(&claims.scopes, &scopes);
        prop_assert_eq!(claims.token_id.as_deref(), Some("j1"));
        prop_assert_eq!(claims.extra.get("tenant"), Some(&json!("t")));
        prop_assert_eq!(
            claims.expires_in(UNIX_EPOCH + Duration::from_secs(iat)),
            Some(Duration::from_secs(life))
        );
    }
}
