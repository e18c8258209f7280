//! GraphQL wire types: the request body, the error model, and how a response is classified
//! into data, partial data, GraphQL errors or HTTP errors.

use std::borrow::Cow;

use graphql_client::GraphQLQuery;
use oauth_flow::__private::{excerpt, truncate};
use oauth_flow::http::Method;
use oauth_flow::{Endpoint, HttpResponse, JsonError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::environment::API_PATH;
use crate::error::{Error, Result};
use crate::graphql_errors::{GraphQlError, PartialData};

impl PartialData {
    /// Decodes the data as an operation's `ResponseData` (null fields become `None`).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        decode_data(self.data.clone())
    }
}

/// One GraphQL operation as an [`Endpoint`]: `POST {base}/api` with `{query, variables,
/// operationName}` as JSON.
#[derive(Debug, Clone)]
pub(crate) struct GraphQlCall {
    body: Value,
    /// A query (replayable on 429/503) rather than a mutation.
    read_only: bool,
}

impl GraphQlCall {
    /// The request body of `Q` with `variables` (`Q::build_query(variables)`, as JSON).
    pub(crate) fn new<Q: GraphQLQuery>(variables: Q::Variables) -> Result<Self> {
        let mut body =
            serde_json::to_value(Q::build_query(variables)).map_err(|e| Error::Encode {
                what: "GraphQL variables",
                source: oauth_flow::__private::json_error(&e),
            })?;
        // Operations without variables serialize them as `null`; send `{}` instead.
        if let Some(vars) = body.get_mut("variables")
            && vars.is_null()
        {
            *vars = Value::Object(Map::new());
        }
        let read_only = is_query(body.get("query").and_then(Value::as_str).unwrap_or(""));
        Ok(Self { body, read_only })
    }

    /// A body from a document and its variables, for operations without a generated type.
    /// `operationName` is left out, so the document should hold one operation. Whether it may
    /// be replayed is decided as for a generated operation ([`is_query`]).
    pub(crate) fn raw(query: &str, variables: Value) -> Result<Self> {
        let variables = match variables {
            Value::Null => Value::Object(Map::new()),
            Value::Object(vars) => Value::Object(vars),
            _ => {
                return Err(Error::Encode {
                    what: "GraphQL variables",
                    source: JsonError::shape("not a JSON object (or null)"),
                });
            }
        };
        let mut body = Map::new();
        body.insert("query".to_owned(), Value::String(query.to_owned()));
        body.insert("variables".to_owned(), variables);
        Ok(Self {
            body: Value::Object(body),
            read_only: is_query(query),
        })
    }
}

impl Endpoint for GraphQlCall {
    type Output = Value;

    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(API_PATH)
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(Some(self.body.clone()))
    }
    /// A query only reads, so a 429/503 may be retried; a mutation is never replayed.
    fn idempotent(&self) -> bool {
        self.read_only
    }
}

/// Whether a GraphQL document only reads: its first definition is a query (`query …` or the
/// `{ … }` shorthand) and no definition is a mutation or a subscription (graphql_client sends
/// the whole `.graphql` file, which may hold several operations). Anything else (a leading
/// fragment among it) is treated as not safe to replay.
fn is_query(document: &str) -> bool {
    let first = document
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let first_is_query = first.starts_with('{')
        || first.strip_prefix("query").is_some_and(|rest| {
            rest.is_empty() || !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_')
        });
    first_is_query && !top_level_words(document).any(|w| w == "mutation" || w == "subscription")
}

/// The words of `document` outside any `{ … }` or `( … )`, comments and strings: the keywords
/// and names of its definitions. Lazy, so a search stops at the first match.
fn top_level_words(document: &str) -> impl Iterator<Item = &str> {
    let bytes = document.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    std::iter::from_fn(move || {
        while i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'{' | b'(' => depth += 1,
                b'}' | b')' => depth = depth.saturating_sub(1),
                c if depth == 0 && (c.is_ascii_alphabetic() || c == b'_') => {
                    let start = i;
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
                    {
                        i += 1;
                    }
                    return Some(&document[start..i]);
                }
                _ => {}
            }
            i += 1;
        }
        None
    })
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default, deserialize_with = "crate::graphql_errors::null_as_default")]
    errors: Vec<GraphQlError>,
}

/// Classifies a response from the GraphQL endpoint:
///
/// - 401 → [`Error::Unauthorized`]; any other non-2xx → [`Error::Api`] (GraphQL errors of the
///   body kept in both);
/// - 200 with `errors` and null or absent `data` → [`Error::GraphQl`];
/// - 200 with `data` → the data and the errors that came with it (partial when not empty);
/// - anything else → [`Error::Decode`].
pub(crate) fn classify(resp: &HttpResponse) -> Result<(Value, Vec<GraphQlError>)> {
    let status = resp.status.as_u16();
    if !resp.status.is_success() {
        let errors = serde_json::from_slice::<RawResponse>(&resp.body)
            .map(|r| r.errors)
            .unwrap_or_default();
        let excerpt = excerpt(&resp.body);
        return Err(if status == 401 {
            Error::Unauthorized { errors, excerpt }
        } else {
            Error::Api {
                status,
                errors,
                excerpt,
            }
        });
    }
    let raw: RawResponse = serde_json::from_slice(&resp.body).map_err(|e| Error::Decode {
        what: "GraphQL response".to_owned(),
        source: oauth_flow::__private::json_error(&e),
    })?;
    match raw.data {
        Some(Value::Null) | None if !raw.errors.is_empty() => {
            Err(Error::GraphQl { errors: raw.errors })
        }
        Some(Value::Null) | None => Err(Error::Decode {
            what: "GraphQL response".to_owned(),
            source: JsonError::shape("neither `data` nor `errors`"),
        }),
        Some(data) => Ok((data, raw.errors)),
    }
}

/// Decodes `data` as `T`.
pub(crate) fn decode_data<T: DeserializeOwned>(data: Value) -> Result<T> {
    serde_json::from_value(data).map_err(|e| {
        // "missing field `x`" names only the schema; other serde messages can quote portal
        // data, which stays out of error text.
        let msg = e.to_string();
        let source = if msg.starts_with("missing field") {
            JsonError::shape(truncate(&msg, 200))
        } else {
            oauth_flow::__private::json_error(&e)
        };
        Error::Decode {
            what: "the operation's `data`".to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql_errors::PathSegment;
    use oauth_flow::EXCERPT_LIMIT;
    use oauth_flow::http::StatusCode;

    #[test]
    fn queries_are_replayable_mutations_are_not() {
        assert!(is_query(
            "query ListContacts($first: Int) { contacts { totalCount } }"
        ));
        assert!(is_query("# comment\n  query{ viewer { apiKey } }"));
        assert!(is_query("{ viewer { apiKey } }"));
        assert!(!is_query("mutation CreateContact { createContact { id } }"));
        assert!(!is_query("queryish"));
        assert!(!is_query(
            "fragment F on Contact { id } query Q { contact { ...F } }"
        ));
        assert!(!is_query(""));
        // A file with several operations: one mutation among them makes it unsafe to replay.
        assert!(!is_query("query A { a }\nmutation B { b(x: \"{\") }"));
        assert!(is_query("query A { mutation }  # mutation\nquery B { b }"));
    }

    #[test]
    fn raw_calls_replay_only_queries_and_take_object_variables() {
        let q = GraphQlCall::raw("{ viewer { apiKey } }", Value::Null).unwrap();
        assert!(q.idempotent());
        assert_eq!(
            q.body,
            serde_json::json!({"query": "{ viewer { apiKey } }", "variables": {}})
        );
        let m = GraphQlCall::raw(
            "mutation M($b: String!) { addNote(input: {body: $b}) { id } }",
            serde_json::json!({"b": "x"}),
        )
        .unwrap();
        assert!(!m.idempotent());
        assert_eq!(m.body["variables"]["b"], "x");
        assert!(matches!(
            GraphQlCall::raw("{ a }", serde_json::json!([1])),
            Err(Error::Encode { .. })
        ));
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }

    #[test]
    fn data_without_errors() {
        let (data, errors) = classify(&resp(200, r#"{"data":{"a":1}}"#)).unwrap();
        assert_eq!(data["a"], 1);
        assert!(errors.is_empty());
    }

    #[test]
    fn errors_without_data_are_graphql_errors() {
        let err = classify(&resp(
            200,
            r#"{"data":null,"errors":[{"message":"no such company","path":["createContact"],
                "locations":[{"line":2,"column":3}],"extensions":{"code":"NOT_FOUND"}}]}"#,
        ))
        .unwrap_err();
        let Error::GraphQl { errors } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(errors[0].code(), Some("NOT_FOUND"));
        assert_eq!(
            errors[0].path,
            vec![PathSegment::Key("createContact".into())]
        );
        assert_eq!(errors[0].locations[0].line, 2);
        assert_eq!(
            err.to_string(),
            "the GraphQL operation failed: no such company (NOT_FOUND)"
        );
        // Absent `data` is the same as null.
        assert!(matches!(
            classify(&resp(200, r#"{"errors":[{"message":"x"}]}"#)),
            Err(Error::GraphQl { .. })
        ));
    }

    #[test]
    fn data_with_errors_is_partial() {
        let (data, errors) = classify(&resp(
            200,
            r#"{"data":{"c":{"e":null}},"errors":[{"message":"m","path":["c",0,"e"],"locations":null,"extensions":null}]}"#,
        ))
        .unwrap();
        assert!(data["c"]["e"].is_null());
        assert_eq!(
            errors[0].path,
            vec![
                PathSegment::Key("c".into()),
                PathSegment::Index(0),
                PathSegment::Key("e".into())
            ]
        );
        assert_eq!(errors[0].to_string(), "c.0.e: m");
    }

    #[test]
    fn http_errors_keep_status_errors_and_a_bounded_excerpt() {
        let err = classify(&resp(
            401,
            r#"{"errors":[{"message":"the JWT expired","extensions":{"code":"UNAUTHENTICATED"}}]}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(&err, Error::Unauthorized { errors, .. } if errors[0].code() == Some("UNAUTHENTICATED"))
        );
        assert_eq!(err.status(), Some(401));

        let html = format!("<html>{}</html>", "x".repeat(5000));
        let err = classify(&resp(502, &html)).unwrap_err();
        let Error::Api {
            status,
            errors,
            excerpt,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*status, 502);
        assert!(errors.is_empty());
        assert!(excerpt.len() <= EXCERPT_LIMIT);
    }

    #[test]
    fn malformed_bodies_are_decode_errors() {
        assert!(matches!(
            classify(&resp(200, "{not json")),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            classify(&resp(200, "{}")),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            decode_data::<Vec<u8>>(serde_json::json!({"a": 1})),
            Err(Error::Decode { .. })
        ));
    }
}

#[cfg(test)]
mod props;
