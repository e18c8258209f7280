//! The crate's one error type.
//!
//! The cases an application usually handles get their own variant (the user denied consent, the
//! grant must be authorized again, a scope is missing, the API refused a call); everything else
//! is the core's [`oauth_flow::Error`], kept whole in [`Error::OAuth`]. No message ever contains
//! a token, a code or the client secret.

use std::time::Duration;

use oauth_flow::__private::truncate;
use oauth_flow::{CallbackError, ConfigError, ErrorCode, JsonError};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest error code kept from an API error body, in bytes.
const CODE_LIMIT: usize = 64;
/// Longest message kept from an API error body, in bytes (SECURITY S10).
pub(crate) const MESSAGE_LIMIT: usize = 512;
/// Longest endpoint path named by a decode error, in bytes.
const PATH_LIMIT: usize = 120;

/// Everything that can go wrong talking to Askara.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The callback was rejected before any token request was sent: wrong or missing `state`,
    /// already used, or the user clicked "Deny" ([`CallbackError::Provider`] with code
    /// `access_denied`; see [`Error::is_access_denied`]).
    #[error(transparent)]
    Callback(CallbackError),

    /// The grant of `subject` cannot be refreshed any more (its refresh token was rejected with
    /// `invalid_grant`, e.g. because it was already rotated, or nothing is stored for it): send
    /// the user through [`Askara::authorize_url`](crate::Askara::authorize_url) again.
    #[error("re-authorization required for `{subject}`: {reason}")]
    ReauthorizationRequired {
        /// The application's key of the user whose grant failed.
        subject: String,
        /// Why.
        reason: String,
    },

    /// The API answered 403 `insufficient_scope`: the user did not grant the scope this call
    /// needs (e.g. `organization`). Refreshing does not help; authorize with the scope.
    #[error("the access token lacks a required scope{}", suffix(.description))]
    InsufficientScope {
        /// Askara's `error_description` (bounded).
        description: Option<String>,
    },

    /// The API refused the access token (HTTP 401) even after one refresh and one retry.
    #[error("Askara refused the access token (HTTP 401){}", suffix(.message))]
    Unauthorized {
        /// Askara's `error_description` (or its `error` code, or a bounded excerpt of the
        /// body), if any.
        message: Option<String>,
    },

    /// The API answered with a non-success status other than 401, 403 `insufficient_scope`
    /// and a 429/503 retried to the end, whatever the body: Askara's `{"error": …}` JSON, an
    /// HTML error page, an empty body, another proxy's answer.
    #[error("Askara API error (HTTP {status}){}{}", code_suffix(.code), suffix(.message))]
    Api {
        /// The HTTP status.
        status: u16,
        /// Askara's `error` code (at most 64 bytes), e.g. `not_found`, if the body had one.
        code: Option<String>,
        /// Askara's `error_description`, or a bounded excerpt of a body that is not Askara's
        /// JSON error (an HTML page, other JSON); at most 512 bytes.
        message: Option<String>,
    },

    /// The access token is not a JWT, so its claims cannot be read.
    #[error("the access token is not a JWT; its claims cannot be read")]
    NotAJwt,

    /// 429 or 503 persisted past the retry budget.
    #[error("Askara is rate limiting or unavailable (HTTP {status}) after {attempts} attempts")]
    RateLimited {
        /// The last status (429 or 503).
        status: u16,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last `Retry-After` Askara sent, if any.
        retry_after: Option<Duration>,
    },

    /// No response: the request could not be sent, timed out, or its body exceeded the cap.
    /// The core's [`Transport`](oauth_flow::Error::Transport),
    /// [`Timeout`](oauth_flow::Error::Timeout) or
    /// [`BodyTooLarge`](oauth_flow::Error::BodyTooLarge).
    #[error(transparent)]
    Transport(oauth_flow::Error),

    /// A request body could not be encoded; nothing was sent.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded (e.g. "request body").
        what: &'static str,
        /// Why, without echoing the values.
        #[source]
        source: JsonError,
    },

    /// A response could not be decoded.
    #[error("could not decode {what}")]
    Decode {
        /// What was decoded: the endpoint path (without its query string), or e.g.
        /// "token response".
        what: String,
        /// Where and why, without echoing values from the body.
        #[source]
        source: JsonError,
    },

    /// The token store failed (the core's [`Store`](oauth_flow::Error::Store) or
    /// [`LeaseTimeout`](oauth_flow::Error::LeaseTimeout)).
    #[error(transparent)]
    Store(oauth_flow::Error),

    /// The configuration is invalid (a base URL, the client id, secret or redirect URI);
    /// nothing was sent.
    #[error(transparent)]
    Config(ConfigError),

    /// Any other failure of the OAuth core: a token endpoint error (an OAuth error body, or
    /// an unexpected status with a bounded excerpt, e.g. an HTML 502 from the token host).
    #[error(transparent)]
    OAuth(oauth_flow::Error),
}

impl Error {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::RateLimited { status, .. } => Some(*status),
            Error::Unauthorized { .. } => Some(401),
            Error::InsufficientScope { .. } => Some(403),
            Error::OAuth(e) => e.status(),
            _ => None,
        }
    }

    /// Whether the user refused the authorization on Askara's consent page.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self,
            Error::Callback(CallbackError::Provider(e)) if e.code == ErrorCode::AccessDenied
        )
    }

    /// Whether the user must authorize again (the refresh token was rejected, or nothing is
    /// stored for the grant).
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(self, Error::ReauthorizationRequired { .. })
    }

    /// How long Askara asked to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the user must go through the authorization flow again to fix this.
    pub fn needs_authorization(&self) -> bool {
        self.is_reauthorization_required()
            || self.is_access_denied()
            || matches!(self, Error::InsufficientScope { .. })
    }

    /// The error for a non-success API answer: `code` and `message` from Askara's error
    /// body, or `message` alone as an excerpt of another body; both are bounded here.
    pub(crate) fn api(status: u16, code: Option<&str>, message: Option<&str>) -> Self {
        let code = code
            .filter(|c| !c.is_empty())
            .map(|c| truncate(c, CODE_LIMIT));
        let message = message
            .filter(|m| !m.is_empty())
            .map(|m| truncate(m, MESSAGE_LIMIT));
        match (status, code.as_deref()) {
            (401, _) => Error::Unauthorized {
                message: message.or(code),
            },
            (403, Some("insufficient_scope")) => Error::InsufficientScope {
                description: message,
            },
            _ => Error::Api {
                status,
                code,
                message,
            },
        }
    }

    /// The decode failure of a success body from `path`, named without its query string (which
    /// could carry anything).
    pub(crate) fn decode(path: &str, source: JsonError) -> Self {
        let path = path.split('?').next().unwrap_or(path);
        Error::Decode {
            what: truncate(path, PATH_LIMIT),
            source,
        }
    }
}

impl From<oauth_flow::Error> for Error {
    fn from(e: oauth_flow::Error) -> Self {
        oauth_flow::lift_shared_error!(e, Error, other => match other {
            oauth_flow::Error::Unauthorized { excerpt } => Error::Unauthorized {
                message: (!excerpt.is_empty()).then_some(excerpt),
            },
            other => Error::OAuth(other),
        })
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

fn suffix(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .filter(|c| !c.is_empty())
        .map_or_else(String::new, |c| format!(" `{c}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::{GrantKey, OAuthError};

    #[test]
    fn s17_reauthorization_is_typed_and_names_the_subject() {
        let core = oauth_flow::Error::ReauthorizationRequired {
            key: GrantKey::new("askara", "client", "user-42"),
            reason: "the refresh token was rejected (invalid_grant)".into(),
        };
        let e = Error::from(core);
        assert!(matches!(
            &e,
            Error::ReauthorizationRequired { subject, .. } if subject == "user-42"
        ));
        assert!(e.needs_authorization());
        assert_eq!(
            e.to_string(),
            "re-authorization required for `user-42`: the refresh token was rejected (invalid_grant)"
        );
    }

    #[test]
    fn s6_access_denied_callback_is_typed() {
        let core = oauth_flow::Error::Callback(CallbackError::Provider(OAuthError::new(
            None,
            "access_denied",
            Some("The user denied access"),
            None,
        )));
        let e = Error::from(core);
        assert!(e.is_access_denied(), "{e:?}");
        assert!(matches!(
            &e,
            Error::Callback(CallbackError::Provider(p)) if p.description.as_deref() == Some("The user denied access")
        ));
        let other = Error::from(oauth_flow::Error::Callback(CallbackError::Provider(
            OAuthError::new(None, "invalid_scope", None, None),
        )));
        assert!(matches!(other, Error::Callback(_)) && !other.is_access_denied());
    }

    /// Issue 18 part 3: formatted with its source chain (anyhow's `{:#}`), no error repeats a
    /// message of the chain inside another.
    #[test]
    fn no_message_repeats_in_any_source_chain() {
        let key = GrantKey::new("askara", "client", "user-42");
        let errors: Vec<Error> = vec![
            oauth_flow::Error::from(CallbackError::Provider(OAuthError::new(
                None,
                "access_denied",
                Some("The user denied access"),
                None,
            )))
            .into(),
            oauth_flow::Error::from(CallbackError::IssuerMismatch).into(),
            oauth_flow::Error::ReauthorizationRequired {
                key: key.clone(),
                reason: "the refresh token was rejected (invalid_grant)".into(),
            }
            .into(),
            Error::api(403, Some("insufficient_scope"), Some("needs organization")),
            Error::api(500, Some("server_error"), Some("try later")),
            Error::api(502, None, Some("<html> <h1>502 Bad Gateway</h1> </html>")),
            Error::api(404, None, None),
            Error::api(403, None, Some("Forbidden by the corporate proxy")),
            Error::NotAJwt,
            Error::api(401, Some("invalid_token"), Some("the token expired")),
            Error::decode("v1/profile", JsonError::shape("`id` is not a string")),
            oauth_flow::Error::Unauthorized {
                excerpt: "<html>denied</html>".into(),
            }
            .into(),
            oauth_flow::Error::Encode {
                what: "request body",
                source: JsonError::shape("a map key is not a string"),
            }
            .into(),
            oauth_flow::Error::from(OAuthError::new(
                Some(401),
                "invalid_client",
                Some("client authentication failed"),
                None,
            ))
            .into(),
            oauth_flow::ConfigError::MissingClientSecret.into(),
            oauth_flow::Error::Store {
                key,
                message: "could not save the rotated refresh token".into(),
                source: Some(Box::new(std::io::Error::other("disk full"))),
            }
            .into(),
        ];
        for e in &errors {
            let chain = oauth_flow::test_util::source_chain(e).join(": ");
            assert_eq!(oauth_flow::test_util::repeated_in_chain(e), None, "{chain}");
        }
    }

    #[test]
    fn s20_insufficient_scope_is_its_own_variant() {
        let e = Error::api(
            403,
            Some("insufficient_scope"),
            Some("the token lacks the organization scope"),
        );
        assert!(matches!(e, Error::InsufficientScope { .. }));
        assert_eq!(e.status(), Some(403));
        let e = Error::api(404, Some("not_found"), None);
        assert!(matches!(&e, Error::Api { status: 404, code: Some(c), .. } if c == "not_found"));
        assert_eq!(e.to_string(), "Askara API error (HTTP 404) `not_found`");
        assert_eq!(e.status(), Some(404));
        let e = Error::api(403, Some("forbidden"), Some("not for this organization"));
        assert!(matches!(e, Error::Api { status: 403, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "Askara API error (HTTP 403) `forbidden`: not for this organization"
        );
    }

    /// A 401 left after the refresh-and-retry is the shared `Unauthorized`, whether Askara
    /// sent its JSON error body or the core saw another body.
    #[test]
    fn s20_a_final_401_is_unauthorized() {
        let e = Error::api(401, Some("invalid_token"), Some("the token expired"));
        assert!(matches!(&e, Error::Unauthorized { message: Some(m) } if m == "the token expired"));
        assert_eq!(e.status(), Some(401));
        let e = Error::api(401, Some("invalid_token"), None);
        assert_eq!(
            e.to_string(),
            "Askara refused the access token (HTTP 401): invalid_token"
        );
        let e = Error::from(oauth_flow::Error::Unauthorized {
            excerpt: String::new(),
        });
        assert!(matches!(e, Error::Unauthorized { message: None }), "{e:?}");
        assert!(!e.needs_authorization());
    }

    #[test]
    fn encoding_failures_are_encode_and_quote_no_value() {
        use std::collections::BTreeMap;
        // JSON object keys must be strings: serde_json refuses a map keyed by tuples.
        let body: BTreeMap<(u8, u8), &str> = [((1, 2), "s3cr3t-value")].into();
        let e = Error::from(
            oauth_flow::ApiRequest::<serde_json::Value>::post("v1/x")
                .json_from(&body)
                .unwrap_err(),
        );
        assert!(
            matches!(
                e,
                Error::Encode {
                    what: "request body",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.to_string().contains("s3cr3t-value"));
        assert!(!format!("{e:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn s10_api_error_fields_are_bounded() {
        let long = "é".repeat(2000);
        match Error::api(500, Some(&long), Some(&long)) {
            Error::Api { code, message, .. } => {
                assert!(code.is_some_and(|c| c.len() <= CODE_LIMIT));
                assert!(message.is_some_and(|m| m.len() <= MESSAGE_LIMIT));
            }
            other => panic!("unexpected {other:?}"),
        }
        let path = format!("v1/{}?api_key=s3cr3t", "p".repeat(500));
        let e = Error::decode(&path, JsonError::shape("not an object"));
        assert!(
            matches!(&e, Error::Decode { what, .. } if what.len() <= PATH_LIMIT && !what.contains("s3cr3t")),
            "{e:?}"
        );
    }
}
