//! Turning API responses into values or typed errors.

use oauth_flow::__private::excerpt;
use oauth_flow::HttpResponse;
use oauth_flow::http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiErrorObject, Error, Result};

/// Decodes a 2xx JSON body as `T`, or maps the answer to an error (see [`error_from_response`]).
pub(crate) fn decode<T: DeserializeOwned>(resp: &HttpResponse, what: &'static str) -> Result<T> {
    if !resp.status.is_success() {
        return Err(error_from_response(resp));
    }
    let body: &[u8] = if resp.body.is_empty() {
        b"null"
    } else {
        &resp.body
    };
    serde_json::from_slice(body).map_err(|e| Error::decode(what, &e))
}

/// Maps a non-2xx answer: 401 → [`Error::Unauthorized`], 403 → [`Error::Forbidden`], a JSON:API
/// `errors` document → [`Error::Api`] with its objects, anything else (an HTML page, a
/// redirect) → [`Error::Api`] with a bounded excerpt.
pub(crate) fn error_from_response(resp: &HttpResponse) -> Error {
    let status = resp.status.as_u16();
    let errors = jsonapi_errors(&resp.body);
    let message = || {
        errors
            .first()
            .and_then(ApiErrorObject::message)
            .or_else(|| (!resp.body.is_empty()).then(|| excerpt(&resp.body)))
    };
    match status {
        401 => Error::Unauthorized { message: message() },
        403 => Error::Forbidden {
            message: message(),
            insufficient_scope: insufficient_scope(resp),
        },
        _ if !errors.is_empty() => Error::Api {
            status,
            errors,
            excerpt: String::new(),
        },
        _ => Error::Api {
            status,
            errors: Vec::new(),
            excerpt: excerpt(&resp.body),
        },
    }
}

/// The objects of a JSON:API `{"errors": [...]}` body; empty if the body is anything else.
fn jsonapi_errors(body: &[u8]) -> Vec<ApiErrorObject> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => match map.get("errors") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(ApiErrorObject::from_value)
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Whether a `WWW-Authenticate` challenge carries `error="insufficient_scope"` (RFC 6750 §3.1).
fn insufficient_scope(resp: &HttpResponse) -> bool {
    resp.headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("insufficient_scope"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::http::{HeaderValue, StatusCode};

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }

    #[test]
    fn unauthorized_carries_the_providers_detail() {
        let e = error_from_response(&resp(
            401,
            r#"{"errors":[{"status":"401","code":"unauthorized","title":"Unauthorized","detail":"invalid API key"}]}"#,
        ));
        match &e {
            Error::Unauthorized { message } => {
                assert_eq!(message.as_deref(), Some("Unauthorized: invalid API key"));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("invalid API key"));
    }

    #[test]
    fn s20_forbidden_reads_insufficient_scope_from_the_challenge() {
        let mut r = resp(
            403,
            r#"{"errors":[{"status":"403","title":"Forbidden","detail":"the access token lacks the org.permission.conversation role"}]}"#,
        );
        r.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="kustomer", error="insufficient_scope""#),
        );
        match error_from_response(&r) {
            Error::Forbidden {
                message,
                insufficient_scope,
            } => {
                assert!(insufficient_scope);
                assert!(message.unwrap().contains("org.permission.conversation"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jsonapi_errors_become_api_errors() {
        let e = error_from_response(&resp(
            409,
            r#"{"errors":[{"status":"409","title":"Conflict","detail":"app myapp_1 version 0.0.1 already exists"}]}"#,
        ));
        match e {
            Error::Api { status, errors, .. } => {
                assert_eq!(status, 409);
                assert_eq!(errors[0].title.as_deref(), Some("Conflict"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn s13_html_pages_become_bounded_http_status() {
        let html = format!(
            "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
            "x".repeat(5000)
        );
        match error_from_response(&resp(502, &html)) {
            Error::Api {
                status,
                errors,
                excerpt,
            } => {
                assert_eq!(status, 502);
                assert!(errors.is_empty());
                assert!(excerpt.starts_with("<html><body><h1>502 Bad Gateway"));
                assert!(excerpt.len() <= 512);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decode_errors_do_not_echo_the_body() {
        let r = resp(200, r#"{"data": {"id": 12345678}}"#);
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            data: Inner,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            id: String,
        }
        let e = decode::<Doc>(&r, "test response").unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
        assert!(!e.to_string().contains("12345678"), "{e}");
    }
}

#[cfg(test)]
mod props;
