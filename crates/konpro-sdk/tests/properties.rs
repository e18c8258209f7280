//! Property tests of KonPro's account.get decoding: KonPro publishes no schema, so the models
//! are lenient. Any JSON decodes without a panic (an `Account`, or a typed error for a body
//! that is not an object), and decoding is stable: an account encoded and decoded again is the
//! same account. 1,000 cases per property (`PROPTEST_CASES=N` for more).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../oauth-flow/tests/support/proptest_support.rs"]
mod support;

use konpro_sdk::Account;
use proptest::prelude::*;
use serde_json::Value;
use support::{config, json_value};

/// The field names of account.get and its sections, so generated documents hit them with
/// every type.
const ACCOUNT_KEYS: &[&str] = &[
    "code",
    "data",
    "experiments",
    "features",
    "space_info",
    "user",
    "user_plan",
    "name",
    "enabled",
    "status",
    "variant",
    "permissions",
    "roles",
    "email",
    "id",
    "quotas",
    "limit",
    "used",
    "tier",
    "expires_at",
    "registered_at",
    "subscription_status",
];

proptest! {
    #![proptest_config(config())]

    /// Any JSON value: an `Account` or an error, never a panic; a decoded account survives
    /// encode → decode unchanged.
    #[test]
    fn any_json_decodes_stably(v in json_value(ACCOUNT_KEYS)) {
        if let Ok(account) = serde_json::from_value::<Account>(v) {
            let again: Account = serde_json::from_value(serde_json::to_value(&account).unwrap())
                .unwrap();
            prop_assert_eq!(again, account);
        }
    }

    /// Arbitrary bytes as a response body: decoded or refused, never a panic.
    #[test]
    fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<Account>(&body);
    }

    /// Every section as an object of any shape decodes (the lenient contract).
    #[test]
    fn objects_always_decode(sections in prop::collection::vec(
        (prop::sample::select(ACCOUNT_KEYS), json_value(ACCOUNT_KEYS)), 0..8,
    )) {
        let body = Value::Object(sections.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let decoded = serde_json::from_value::<Account>(body.clone());
        prop_assert!(decoded.is_ok(), "{:?} refused: {:?}", body, decoded.err());
    }
}
