//! The crate's one error type.
//!
//! The cases an application usually handles get their own variant: the app is not installed
//! (Kustomer's 400 "Invalid Client"), the client secret was rejected (e.g. after a rotation), the
//! user denied consent, the credentials or a role are missing, the API answered with a JSON:API
//! error document. Everything else is the core's [`oauth_flow::Error`], kept whole in
//! [`Error::Flow`]. No message ever contains an API key, a token, a code or a client secret.

use std::fmt;

use oauth_flow::error::excerpt;
use oauth_flow::{CallbackError, ErrorCode};
use serde_json::Value;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Kustomer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or setting is invalid; nothing was sent.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was invalid (e.g. "app name").
        what: &'static str,
        /// Why.
        reason: String,
    },

    /// The token endpoint answered 400 "Invalid Client": Kustomer does this while the private
    /// app is not installed in the organization. Install it from the org's App Directory, then
    /// run the authorization again.
    #[error(
        "Kustomer answered 400 \"Invalid Client\"{}: the app is not installed in your \
         organization; install it from the App Directory (Settings > Apps) and authorize again \
         (if it is installed, check the client id)",
        suffix(&other_than_invalid_client(.description))
    )]
    AppNotInstalled {
        /// The provider's description, bounded (e.g. "Invalid Client").
        description: Option<String>,
        /// The core's error, for its details.
        #[source]
        source: Box<oauth_flow::Error>,
    },

    /// The token endpoint rejected the client credentials (`invalid_client` other than the
    /// not-installed case), e.g. a client secret replaced by a newer one: each
    /// `generate_secret` call invalidates the previous secret.
    #[error(
        "Kustomer rejected the client credentials (HTTP {status}){}: use the client id and the \
         most recently generated client secret",
        suffix(.description)
    )]
    ClientRejected {
        /// The HTTP status (usually 401).
        status: u16,
        /// The provider's description, bounded.
        description: Option<String>,
        /// The core's error, for its details.
        #[source]
        source: Box<oauth_flow::Error>,
    },

    /// The user clicked "Deny" on Kustomer's authorization screen (`error=access_denied` in the
    /// callback). Nothing was sent to the token endpoint.
    #[error("the user denied the authorization request{}", suffix(.description))]
    AccessDenied {
        /// The provider's `error_description`, if any (bounded).
        description: Option<String>,
    },

    /// The API answered 401: the API key or access token was rejected (after one refresh and
    /// retry, for OAuth grants).
    #[error("Kustomer rejected the API key or access token (HTTP 401){}", suffix(.message))]
    Unauthorized {
        /// The provider's message (JSON:API `detail`/`title`, or a bounded body excerpt).
        message: Option<String>,
    },

    /// The API answered 403: the access token lacks a role (scope) this call needs, or an API
    /// key lacks the role. Refreshing does not help: authorize with the role.
    #[error("Kustomer refused the call (HTTP 403){}", suffix(.message))]
    Forbidden {
        /// The provider's message (bounded).
        message: Option<String>,
        /// Whether the `WWW-Authenticate` challenge says `insufficient_scope`.
        insufficient_scope: bool,
    },

    /// The API answered an error status with a JSON:API `errors` document.
    #[error("Kustomer API error (HTTP {status}){}", suffix(&first_message(.errors)))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error objects, as sent (strings bounded).
        errors: Vec<ApiErrorObject>,
    },

    /// The API answered an error status without a JSON:API body (e.g. a proxy's HTML page).
    #[error("unexpected HTTP status {status} from Kustomer{}", suffix(&non_empty(.excerpt)))]
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// A bounded, whitespace-collapsed excerpt of the body.
        excerpt: String,
    },

    /// A successful response could not be decoded.
    #[error("could not decode {what}: {detail}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Where and why, without echoing values from the body.
        detail: String,
    },

    /// A successful response lacks a field this SDK needs.
    #[error("{what} is missing `{field}`")]
    MissingField {
        /// The response.
        what: &'static str,
        /// The field.
        field: &'static str,
    },

    /// A page walk reached a bound of its [`PageLimits`](oauth_flow::PageLimits) while the
    /// server still offered more; nothing is returned as if it were everything.
    #[error(transparent)]
    PageLimitExceeded(#[from] oauth_flow::PageLimitExceeded),

    /// Any other failure of the OAuth core: configuration, callback checks, token endpoint
    /// errors (e.g. `invalid_grant` → re-authorization required), transport, timeouts, rate
    /// limits, the token store.
    #[error(transparent)]
    Flow(oauth_flow::Error),
}

impl Error {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::AppNotInstalled { .. } => Some(400),
            Error::ClientRejected { status, .. }
            | Error::Api { status, .. }
            | Error::HttpStatus { status, .. } => Some(*status),
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::Flow(e) => e.status(),
            Error::InvalidInput { .. }
            | Error::AccessDenied { .. }
            | Error::Decode { .. }
            | Error::MissingField { .. }
            | Error::PageLimitExceeded(_) => None,
        }
    }

    /// Whether the user must go through the authorization again (the refresh token was
    /// rejected, or nothing is stored for the grant).
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(
            self,
            Error::Flow(oauth_flow::Error::ReauthorizationRequired { .. })
        )
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            reason: reason.into(),
        }
    }

    /// A decode error without echoing body content: serde_json's messages can quote values,
    /// and a value may be a secret or personal data.
    pub(crate) fn decode(what: &'static str, err: &serde_json::Error) -> Self {
        Error::Decode {
            what,
            detail: oauth_flow::error::json_error_detail(err),
        }
    }
}

impl From<oauth_flow::Error> for Error {
    /// Lifts the core's errors, recognising Kustomer's own cases: 400 "Invalid Client" (app
    /// not installed), other `invalid_client` answers, and a denied consent.
    fn from(e: oauth_flow::Error) -> Self {
        match &e {
            oauth_flow::Error::OAuth(o) if o.code == ErrorCode::InvalidClient => {
                let description = o.description.clone();
                let says_invalid_client = description
                    .as_deref()
                    .is_none_or(|d| d.trim().eq_ignore_ascii_case("invalid client"));
                if o.status == Some(400) && says_invalid_client {
                    Error::AppNotInstalled {
                        description,
                        source: Box::new(e),
                    }
                } else {
                    Error::ClientRejected {
                        status: o.status.unwrap_or(401),
                        description,
                        source: Box::new(e),
                    }
                }
            }
            // The same answer as a non-RFC body (e.g. `{"errors":[{"title":"Invalid Client"}]}`).
            oauth_flow::Error::HttpStatus {
                status: 400,
                excerpt,
            } if excerpt.to_ascii_lowercase().contains("invalid client") => {
                Error::AppNotInstalled {
                    description: Some("Invalid Client".into()),
                    source: Box::new(e),
                }
            }
            oauth_flow::Error::Callback(CallbackError::Provider(o))
                if o.code == ErrorCode::AccessDenied =>
            {
                Error::AccessDenied {
                    description: o.description.clone(),
                }
            }
            _ => Error::Flow(e),
        }
    }
}

/// One error object of a JSON:API `errors` array. Strings are bounded; unknown members are
/// kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ApiErrorObject {
    /// `status`, as sent (a string or a number, kept as text).
    pub status: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
    /// Every other member (e.g. `source`, `meta`).
    pub extra: serde_json::Map<String, Value>,
}

impl ApiErrorObject {
    /// Parses one error object, bounding its strings.
    pub(crate) fn from_value(v: &Value) -> Option<Self> {
        let Value::Object(map) = v else {
            return None;
        };
        let text = |k: &str| match map.get(k) {
            Some(Value::String(s)) => Some(bound(s)),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let mut extra = map.clone();
        for k in ["status", "code", "title", "detail"] {
            extra.remove(k);
        }
        Some(Self {
            status: text("status"),
            code: text("code"),
            title: text("title"),
            detail: text("detail"),
            extra,
        })
    }

    /// `title: detail`, or whichever of the two is present.
    pub fn message(&self) -> Option<String> {
        match (&self.title, &self.detail) {
            (Some(t), Some(d)) => Some(format!("{t}: {d}")),
            (Some(t), None) => Some(t.clone()),
            (None, Some(d)) => Some(d.clone()),
            (None, None) => self.code.clone(),
        }
    }
}

impl fmt::Display for ApiErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message().as_deref().unwrap_or("(no message)"))
    }
}

/// Cuts a provider string to `EXCERPT_LIMIT` (512) bytes, whitespace collapsed.
pub(crate) fn bound(s: &str) -> String {
    excerpt(s.as_bytes())
}

fn first_message(errors: &[ApiErrorObject]) -> Option<String> {
    let first = errors.first()?.message()?;
    Some(if errors.len() > 1 {
        format!("{first} (and {} more)", errors.len() - 1)
    } else {
        first
    })
}

/// The description unless it only repeats "Invalid Client".
fn other_than_invalid_client(d: &Option<String>) -> Option<String> {
    d.clone()
        .filter(|d| !d.trim().eq_ignore_ascii_case("invalid client"))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn suffix(s: &Option<String>) -> String {
    match s {
        Some(s) if !s.is_empty() => format!(": {s}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::OAuthError;

    #[test]
    fn invalid_client_400_is_app_not_installed_with_install_hint() {
        let core: oauth_flow::Error =
            OAuthError::new(Some(400), "invalid_client", Some("Invalid Client"), None).into();
        let e = Error::from(core);
        assert!(matches!(e, Error::AppNotInstalled { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("Invalid Client"), "{msg}");
        assert!(msg.contains("install"), "{msg}");
        assert_eq!(msg.matches("Invalid Client").count(), 1, "{msg}");
        assert_eq!(e.status(), Some(400));
    }

    #[test]
    fn invalid_client_as_html_or_jsonapi_body_is_app_not_installed() {
        let core = oauth_flow::Error::HttpStatus {
            status: 400,
            excerpt: r#"{"errors":[{"status":400,"title":"Invalid Client"}]}"#.into(),
        };
        assert!(matches!(Error::from(core), Error::AppNotInstalled { .. }));
    }

    #[test]
    fn wrong_secret_is_client_rejected() {
        let core: oauth_flow::Error = OAuthError::new(
            Some(401),
            "invalid_client",
            Some("client authentication failed"),
            None,
        )
        .into();
        let e = Error::from(core);
        match &e {
            Error::ClientRejected { status, .. } => assert_eq!(*status, 401),
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string()
                .contains("most recently generated client secret")
        );
    }

    #[test]
    fn access_denied_callback_is_typed() {
        let core: oauth_flow::Error = CallbackError::Provider(OAuthError::new(
            None,
            "access_denied",
            Some("the user said no"),
            None,
        ))
        .into();
        assert!(matches!(
            Error::from(core),
            Error::AccessDenied { description: Some(d) } if d == "the user said no"
        ));
    }

    #[test]
    fn other_core_errors_pass_through() {
        let e = Error::from(oauth_flow::Error::Timeout);
        assert!(matches!(e, Error::Flow(oauth_flow::Error::Timeout)));
        assert_eq!(e.to_string(), "request timed out");
    }

    #[test]
    fn api_error_objects_keep_status_numbers_and_extra_members() {
        let v: Value = serde_json::json!({
            "status": 409, "code": "conflict", "title": "Conflict",
            "detail": "app exists", "source": {"pointer": "/app"}
        });
        let o = ApiErrorObject::from_value(&v).unwrap();
        assert_eq!(o.status.as_deref(), Some("409"));
        assert_eq!(o.message().as_deref(), Some("Conflict: app exists"));
        assert!(o.extra.contains_key("source"));
        let e = Error::Api {
            status: 409,
            errors: vec![o.clone(), o],
        };
        assert_eq!(
            e.to_string(),
            "Kustomer API error (HTTP 409): Conflict: app exists (and 1 more)"
        );
    }
}
