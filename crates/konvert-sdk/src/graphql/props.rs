//! Property tests of the GraphQL response parser: arbitrary and structured-but-wrong bodies
//! give data or a typed error, never a panic; the error kind follows the status and the
//! presence of `data` and `errors`. 1,000 cases per property (`PROPTEST_CASES=N` for more).

#[path = "../../../oauth-flow/tests/support/proptest_support.rs"]
mod support;

use oauth_flow::HttpResponse;
use oauth_flow::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Map, Value};
use support::{config, json_value};

use super::{classify, decode_data};
use crate::error::Error;
use crate::operations::{get_contact, get_viewer, list_contacts};

/// GraphQL response members and Konvert's field names.
const KEYS: &[&str] = &[
    "data",
    "errors",
    "extensions",
    "message",
    "locations",
    "path",
    "line",
    "column",
    "code",
    "viewer",
    "apiKey",
    "authMethod",
    "contact",
    "contacts",
    "id",
    "email",
    "fullName",
    "edges",
    "node",
    "pageInfo",
    "hasNextPage",
    "endCursor",
    "totalCount",
];

fn response(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
}

/// `{"data": …, "errors": …}` with each member absent, null, or of any shape.
fn graphql_body() -> impl Strategy<Value = Vec<u8>> {
    let member = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        json_value(KEYS).prop_map(Some),
    ];
    let errors = prop_oneof![
        Just(None),
        prop::collection::vec(json_value(KEYS), 0..3).prop_map(|e| Some(Value::Array(e))),
        json_value(KEYS).prop_map(Some),
    ];
    (member, errors).prop_map(|(data, errors)| {
        let mut map = Map::new();
        if let Some(d) = data {
            map.insert("data".into(), d);
        }
        if let Some(e) = errors {
            map.insert("errors".into(), e);
        }
        serde_json::to_vec(&Value::Object(map)).unwrap()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any status, any body.
    #[test]
    fn classify_never_panics(
        status in 100u16..600,
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), graphql_body()],
    ) {
        let resp = response(status, body);
        match (status, classify(&resp)) {
            (200..=299, Ok((data, _))) => prop_assert!(!data.is_null()),
            (200..=299, Err(Error::GraphQl { errors })) => prop_assert!(!errors.is_empty()),
            (200..=299, Err(Error::Decode { .. })) => {}
            (401, Err(Error::Unauthorized { .. })) => {}
            (s, Err(Error::Api { status, .. })) => prop_assert_eq!(s, status),
            (s, other) => prop_assert!(false, "status {} gave {:?}", s, other),
        }
    }

    /// `data` of any shape against the generated operations' types: decoded or a decode
    /// error, never a panic.
    #[test]
    fn decode_data_never_panics(data in json_value(KEYS)) {
        for e in [
            decode_data::<get_viewer::ResponseData>(data.clone()).err(),
            decode_data::<get_contact::ResponseData>(data.clone()).err(),
            decode_data::<list_contacts::ResponseData>(data).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(matches!(e, Error::Decode { .. }), "{:?}", e);
        }
    }
}
