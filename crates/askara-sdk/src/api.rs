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

/// Decodes a 2xx JSON body as `T`; maps an error status with Askara's JSON error body to
/// [`Error::Unauthorized`] (401), [`Error::InsufficientScope`] or [`Error::Api`], and anything
/// else (an HTML error page, an empty body) to the core's status errors with a bounded excerpt.
pub(crate) fn decode_response<T: DeserializeOwned>(resp: &HttpResponse) -> Result<T> {
    if !resp.status.is_success()
        && let Ok(body) = serde_json::from_slice::<ErrorBody>(&resp.body)
    {
        return Err(Error::api(
            resp.status.as_u16(),
            &body.error,
            body.error_description.as_deref(),
        ));
    }
    oauth_flow::__private::decode_success(resp).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::http::StatusCode;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }

    #[test]
    fn success_decodes() {
        let p: Profile = decode_response(&resp(200, r#"{"id":"u1"}"#)).unwrap();
        assert_eq!(p.id.as_deref(), Some("u1"));
    }

    #[test]
    fn s20_error_bodies_are_typed() {
        let e = decode_response::<Organization>(&resp(
            403,
            r#"{"error":"insufficient_scope","error_description":"the token lacks the organization scope"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(e, Error::InsufficientScope { description: Some(ref d) } if d.contains("organization"))
        );
        let e = decode_response::<Profile>(&resp(404, r#"{"error":"not_found"}"#)).unwrap_err();
        assert!(matches!(e, Error::Api { status: 404, ref code, .. } if code == "not_found"));
    }

    #[test]
    fn s13_html_and_malformed_bodies_are_core_errors() {
        let e = decode_response::<Profile>(&resp(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert!(matches!(
            e,
            Error::OAuth(oauth_flow::Error::HttpStatus { status: 502, .. })
        ));
        let e = decode_response::<Profile>(&resp(200, r#"{"id":"u1""#)).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
    }
}
