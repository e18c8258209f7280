//! Property tests of the response parsers: JSON:API documents, error bodies and paging links.
//! Arbitrary and structured-but-wrong bodies give a value or a typed error, never a panic;
//! paging links round-trip. 1,000 cases per property (`PROPTEST_CASES=N` for more).

#[path = "../../../oauth-flow/tests/support/proptest_support.rs"]
mod support;

use oauth_flow::HttpResponse;
use oauth_flow::http::{HeaderValue, StatusCode, header};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{config, json_value};

use super::{decode, error_from_response};
use crate::api::{ListDocument, ListRequest, PageParams};
use crate::error::Error;
use crate::models::{Conversation, Customer};

/// JSON:API members and Kustomer attribute names, so generated documents hit them with every
/// type.
const KEYS: &[&str] = &[
    "data",
    "errors",
    "links",
    "meta",
    "included",
    "id",
    "type",
    "attributes",
    "relationships",
    "self",
    "next",
    "prev",
    "first",
    "last",
    "page",
    "pageSize",
    "total",
    "totalPages",
    "name",
    "displayName",
    "emails",
    "email",
    "phones",
    "status",
    "code",
    "title",
    "detail",
    "customer",
    "createdAt",
    "updatedAt",
    "tags",
];

fn response(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value(KEYS).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        json_value(KEYS).prop_map(|v| serde_json::to_vec(&json!({ "data": v })).unwrap()),
        prop::collection::vec(json_value(KEYS), 0..4)
            .prop_map(|e| serde_json::to_vec(&json!({ "errors": e })).unwrap()),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any status and body through the decoders of every document type: a value for a 2xx that
    /// fits, else a typed error whose kind follows the status.
    #[test]
    fn documents_and_errors(status in 100u16..600, body in body(), scope in any::<bool>()) {
        let mut resp = response(status, body);
        if scope {
            resp.headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="insufficient_scope""#),
            );
        }
        let results = [
            decode::<ListDocument<Customer>>(&resp, "customers").err(),
            decode::<ListDocument<Conversation>>(&resp, "conversations").err(),
            decode::<crate::models::Document<Customer>>(&resp, "customer").err(),
            decode::<Value>(&resp, "value").err(),
        ];
        for err in results.into_iter().flatten() {
            match (status, &err) {
                (200..=299, Error::Decode { .. }) => {}
                (401, Error::Unauthorized { .. }) => {}
                (403, Error::Forbidden { insufficient_scope, .. }) => {
                    prop_assert_eq!(*insufficient_scope, scope);
                }
                (_, Error::Api { status: s, errors, excerpt }) => {
                    prop_assert_eq!(*s, status);
                    // Either the JSON:API objects or an excerpt of some other body.
                    prop_assert!(errors.is_empty() || excerpt.is_empty());
                }
                _ => prop_assert!(false, "status {} gave {:?}", status, err),
            }
            let _ = err.to_string();
        }
        if !(200..=299).contains(&status) {
            let _ = error_from_response(&resp).to_string();
        }
    }

    /// Arbitrary `links.next` values: a following request or a typed paging error.
    #[test]
    fn next_links_never_panic(link in any::<String>()) {
        match ListRequest::customers(PageParams::new()).following(&link) {
            Ok(next) => prop_assert!(!next.query().is_empty()),
            Err(Error::Decode { what, .. }) => prop_assert_eq!(what, "page links"),
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }

    /// Round trip: a next link written from page parameters (relative or absolute, with a
    /// fragment or not) gives a request with exactly those parameters.
    #[test]
    fn next_links_round_trip(
        page in 2u32..10_000,
        size in 1u32..=100,
        absolute in any::<bool>(),
        fragment in any::<bool>(),
        extra in proptest::option::of(("[a-z]{1,8}", "[ -~]{0,12}")),
    ) {
        let mut pairs = vec![("page".to_owned(), page.to_string()), ("pageSize".to_owned(), size.to_string())];
        if let Some((k, v)) = extra {
            pairs.push((k, v));
        }
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let mut link = format!("/v1/customers?{query}");
        if absolute {
            link = format!("https://api.kustomerapp.com{link}");
        }
        if fragment {
            link.push_str("#top");
        }
        let next = ListRequest::customers(PageParams::new().page(1).page_size(size))
            .following(&link)
            .unwrap();
        prop_assert_eq!(next.query(), &pairs[..]);
    }
}
