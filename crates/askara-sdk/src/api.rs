//! Askara API operations as values ([`Endpoint`]s): the typed [`GetProfile`] and
//! [`GetOrganization`], and [`ApiRequest`] for any other endpoint.
//!
//! Paths are relative to the API base URL (default [`DEFAULT_API_BASE_URL`]). Askara's guide
//! names no API endpoint; `v1/profile` and `v1/organization` are the resources the scopes
//! `profile` and `organization` give access to, as the sandbox serves them.
//!
//! [`DEFAULT_API_BASE_URL`]: crate::DEFAULT_API_BASE_URL

use std::borrow::Cow;

use oauth_flow::{Endpoint, HttpResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::models::{Organization, Profile};

/// `GET v1/profile`: the user's profile (scope `profile`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GetProfile;

impl Endpoint for GetProfile {
    type Output = Profile;
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed("v1/profile")
    }
}

/// `GET v1/organization`: the user's organization (scope `organization`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GetOrganization;

impl Endpoint for GetOrganization {
    type Output = Organization;
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed("v1/organization")
    }
}

/// Askara's API error body, `{"error": "...", "error_description": "..."}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Decodes the 2xx JSON body of `path` as `T` (an empty body as `null`); any other status is
/// an error: [`Error::Unauthorized`] (401), [`Error::InsufficientScope`] (403
/// `insufficient_scope`) or [`Error::Api`], with a bounded excerpt as the message when the body
/// is not Askara's JSON error (an HTML page, an empty body, other JSON).
pub(crate) fn decode_response<T: DeserializeOwned>(path: &str, resp: &HttpResponse) -> Result<T> {
    if resp.status.is_success() {
        let body: &[u8] = if resp.body.is_empty() {
            b"null"
        } else {
            &resp.body
        };
        return serde_json::from_slice(body)
            .map_err(|e| Error::decode(path, oauth_flow::__private::json_error(&e)));
    }
    let status = resp.status.as_u16();
    match serde_json::from_slice::<ErrorBody>(&resp.body) {
        Ok(body) => Err(Error::api(
            status,
            Some(&body.error),
            body.error_description.as_deref(),
        )),
        Err(_) => Err(Error::api(
            status,
            None,
            Some(&oauth_flow::__private::excerpt(&resp.body)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::http::StatusCode;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body.to_owned())
    }

    fn error(status: u16, body: &str) -> Error {
        decode_response::<Profile>("v1/profile", &resp(status, body)).unwrap_err()
    }

    #[test]
    fn success_decodes() {
        let p: Profile = decode_response("v1/profile", &resp(200, r#"{"id":"u1"}"#)).unwrap();
        assert_eq!(p.id.as_deref(), Some("u1"));
    }

    #[test]
    fn s20_error_bodies_are_typed() {
        let e = decode_response::<Organization>(
            "v1/organization",
            &resp(
                403,
                r#"{"error":"insufficient_scope","error_description":"the token lacks the organization scope"}"#,
            ),
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::InsufficientScope { description: Some(ref d) } if d.contains("organization"))
        );
        let e = error(404, r#"{"error":"not_found"}"#);
        assert!(
            matches!(&e, Error::Api { status: 404, code: Some(c), message: None } if c == "not_found"),
            "{e:?}"
        );
        let e = error(
            409,
            r#"{"error":"conflict","error_description":"already there"}"#,
        );
        assert!(
            matches!(&e, Error::Api { status: 409, code: Some(c), message: Some(m) } if c == "conflict" && m == "already there"),
            "{e:?}"
        );
    }

    /// Every non-success status is `Api` whatever the body, with a bounded excerpt of a body
    /// that is not Askara's JSON error as the message (SECURITY S10, S13).
    #[test]
    fn s13_any_other_body_is_api_with_a_bounded_excerpt() {
        let e = error(502, "<html>\n  <h1>502 Bad Gateway</h1>\n</html>");
        assert!(
            matches!(&e, Error::Api { status: 502, code: None, message: Some(m) } if m == "<html> <h1>502 Bad Gateway</h1> </html>"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "Askara API error (HTTP 502): <html> <h1>502 Bad Gateway</h1> </html>"
        );
        let e = error(404, "");
        assert!(
            matches!(
                e,
                Error::Api {
                    status: 404,
                    code: None,
                    message: None
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "Askara API error (HTTP 404)");
        let e = error(500, r#"{"message":"internal failure","trace":"x1"}"#);
        assert!(
            matches!(&e, Error::Api { status: 500, code: None, message: Some(m) } if m.contains("internal failure")),
            "{e:?}"
        );
        // A proxy's 403 is not Askara's `insufficient_scope`: authorizing again would not help.
        let e = error(403, "Forbidden by the corporate proxy");
        assert!(
            matches!(&e, Error::Api { status: 403, code: None, message: Some(m) } if m == "Forbidden by the corporate proxy"),
            "{e:?}"
        );
        assert!(!e.needs_authorization());
        let huge = format!("<html>{}</html>", "é".repeat(10_000));
        match error(502, &huge) {
            Error::Api {
                message: Some(m), ..
            } => assert!(m.len() <= crate::error::MESSAGE_LIMIT, "{}", m.len()),
            other => panic!("unexpected {other:?}"),
        }
        // A 401 without Askara's body keeps the excerpt as its message.
        let e = error(401, "<html>denied</html>");
        assert!(
            matches!(&e, Error::Unauthorized { message: Some(m) } if m == "<html>denied</html>"),
            "{e:?}"
        );
    }

    #[test]
    fn s13_an_undecodable_success_body_names_the_endpoint_path() {
        let e = decode_response::<Profile>("v1/profile?token=s3cr3t", &resp(200, r#"{"id":"u1""#))
            .unwrap_err();
        assert!(
            matches!(&e, Error::Decode { what, .. } if what == "v1/profile"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "could not decode v1/profile");
        let e = decode_response::<Profile>("v1/profile", &resp(200, "[1, 2]")).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    }
}
