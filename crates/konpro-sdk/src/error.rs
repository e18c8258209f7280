//! The crate's one error type.
//!
//! The events every SDK of this workspace shares have the same variants in each crate's
//! `Error`: [`Error::Callback`], [`Error::ReauthorizationRequired`], [`Error::Unauthorized`],
//! [`Error::RateLimited`], [`Error::Api`], [`Error::Transport`], [`Error::Decode`],
//! [`Error::Store`], [`Error::Config`]; token endpoint errors and the rest of the core's are
//! [`Error::OAuth`]. [`Error::ApiKeyMode`] is KonPro's own: an OAuth-only operation on a
//! client in API-key mode. No message ever contains a token, code, verifier or API key.

use std::time::Duration;

use oauth_flow::{CallbackError, ConfigError, ErrorCode};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Largest KonPro error message kept in an error, in bytes.
pub(crate) const MESSAGE_LIMIT: usize = 512;

/// Everything that can go wrong when talking to KonPro.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The login callback was rejected before any token request was sent: wrong or missing
    /// `state`, another redirect URI, expired, or the user denied access
    /// ([`CallbackError::Provider`] with code `access_denied`).
    #[error(transparent)]
    Callback(CallbackError),

    /// The user's grant is gone or its refresh token was rejected: send the user through
    /// [`KonPro::authorize_url`](crate::KonPro::authorize_url) again.
    #[error("user `{subject}` must log in to KonPro again: {reason}")]
    ReauthorizationRequired {
        /// The subject (user key) whose grant failed.
        subject: String,
        /// Why, without any secret.
        reason: String,
    },

    /// The KonPro API refused the credentials (HTTP 401): an invalid API key, or an access
    /// token still refused after one refresh and one retry.
    #[error("KonPro refused the credentials (HTTP 401){}", suffix(.message))]
    Unauthorized {
        /// KonPro's message, bounded to 512 bytes.
        message: Option<String>,
    },

    /// The KonPro API answered with a non-success status other than 401.
    #[error("KonPro API error (HTTP {status}){}{}", code_suffix(.code), suffix(.message))]
    Api {
        /// The HTTP status.
        status: u16,
        /// KonPro's error code (`error` or `code` in the body), if any.
        code: Option<String>,
        /// KonPro's message (or a bounded excerpt of a non-JSON body), at most
        /// 512 bytes.
        message: Option<String>,
    },

    /// 429 or 503 persisted past the retry budget.
    #[error("KonPro is rate limiting or unavailable (HTTP {status}) after {attempts} attempts")]
    RateLimited {
        /// The last status (429 or 503).
        status: u16,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last `Retry-After` KonPro sent, if any.
        retry_after: Option<Duration>,
    },

    /// No response: the request could not be sent, timed out, or its body exceeded the cap.
    /// The core's [`Transport`](oauth_flow::Error::Transport),
    /// [`Timeout`](oauth_flow::Error::Timeout) or
    /// [`BodyTooLarge`](oauth_flow::Error::BodyTooLarge).
    #[error(transparent)]
    Transport(oauth_flow::Error),

    /// A response could not be decoded into the expected type.
    #[error("could not decode {what}")]
    Decode {
        /// What was decoded (the endpoint path, or e.g. "token response").
        what: String,
        /// Category and position of the problem (never values from the body).
        #[source]
        source: oauth_flow::JsonError,
    },

    /// A request body could not be serialized to JSON; nothing was sent.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded (e.g. "request body").
        what: &'static str,
        /// Why, without echoing the values.
        #[source]
        source: oauth_flow::JsonError,
    },

    /// The token store failed, or another process held the grant's refresh lease too long:
    /// the core's [`Store`](oauth_flow::Error::Store) or
    /// [`LeaseTimeout`](oauth_flow::Error::LeaseTimeout).
    #[error(transparent)]
    Store(oauth_flow::Error),

    /// The configuration is invalid (a base URL, the client id, the redirect URI); nothing was
    /// sent.
    #[error(transparent)]
    Config(ConfigError),

    /// The operation needs a user's OAuth grant, and this client authenticates with an API
    /// key: there is no access token to refresh, read or forget.
    #[error("`{operation}` needs an OAuth grant; this KonPro client uses an API key")]
    ApiKeyMode {
        /// The method called, e.g. `refresh`.
        operation: &'static str,
    },

    /// Any other failure of the OAuth core: a token endpoint error (e.g. `invalid_grant` on a
    /// code exchange), an unexpected status, a loopback login failure.
    #[error(transparent)]
    OAuth(oauth_flow::Error),
}

impl From<oauth_flow::Error> for Error {
    fn from(e: oauth_flow::Error) -> Self {
        oauth_flow::lift_shared_error!(e, Error, other => Error::OAuth(other))
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl Error {
    /// The HTTP status, when the failure came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Api { status, .. } | Error::RateLimited { status, .. } => Some(*status),
            Error::OAuth(e) => e.status(),
            _ => None,
        }
    }

    /// The OAuth error code, when KonPro reported one (token endpoint or callback).
    pub fn oauth_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Callback(CallbackError::Provider(e)) => Some(&e.code),
            Error::OAuth(e) => e.oauth_code(),
            _ => None,
        }
    }

    /// Whether the user must log in again (their grant is missing or was revoked).
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(self, Error::ReauthorizationRequired { .. })
    }

    /// What failed in a loopback (browser) login, when that is the failure: no callback in
    /// time, cancelled, the port could not be opened, the "open this URL" step failed.
    pub fn loopback(&self) -> Option<&oauth_flow::LoopbackError> {
        match self {
            Error::OAuth(oauth_flow::Error::Loopback(e)) => Some(e),
            _ => None,
        }
    }

    /// How long KonPro asked to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the user refused the authorization on KonPro's consent page.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self,
            Error::Callback(CallbackError::Provider(e)) if e.code == ErrorCode::AccessDenied
        )
    }
}

fn suffix(message: &Option<String>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

fn code_suffix(code: &Option<String>) -> String {
    match code {
        Some(c) if !c.is_empty() => format!(" `{c}`"),
        _ => String::new(),
    }
}

/// Cuts `s` to at most [`MESSAGE_LIMIT`] bytes on a character boundary.
pub(crate) fn bounded(s: &str) -> String {
    oauth_flow::__private::truncate(s, MESSAGE_LIMIT)
}

/// A decode error that never echoes body content (serde_json messages may quote values).
pub(crate) fn decode_error(endpoint: &str, err: &serde_json::Error) -> Error {
    Error::Decode {
        what: bounded_path(endpoint),
        source: oauth_flow::__private::json_error(err),
    }
}

/// The path of an endpoint without its query string (which could carry anything).
pub(crate) fn bounded_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut out: String = path.chars().take(120).collect();
    if out.len() < path.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::{GrantKey, OAuthError};

    #[test]
    fn lifts_callback_and_reauthorization_errors() {
        let e: Error = oauth_flow::Error::Callback(CallbackError::StateMismatch).into();
        assert!(matches!(e, Error::Callback(CallbackError::StateMismatch)));

        let e: Error = oauth_flow::Error::ReauthorizationRequired {
            key: GrantKey::new("konpro", "client", "user-1"),
            reason: "the refresh token was rejected (invalid_grant)".into(),
        }
        .into();
        assert!(e.is_reauthorization_required());
        assert_eq!(
            e.to_string(),
            "user `user-1` must log in to KonPro again: the refresh token was rejected (invalid_grant)"
        );

        let denied: Error = oauth_flow::Error::Callback(CallbackError::Provider(OAuthError::new(
            None,
            "access_denied",
            Some("the user said no"),
            None,
        )))
        .into();
        assert!(denied.is_access_denied());
        assert_eq!(denied.oauth_code(), Some(&ErrorCode::AccessDenied));
    }

    #[test]
    fn api_error_display_and_status() {
        let e = Error::Api {
            status: 404,
            code: Some("not_found".into()),
            message: Some("no such video".into()),
        };
        assert_eq!(
            e.to_string(),
            "KonPro API error (HTTP 404) `not_found`: no such video"
        );
        assert_eq!(e.status(), Some(404));
        let e = Error::Unauthorized { message: None };
        assert_eq!(e.to_string(), "KonPro refused the credentials (HTTP 401)");
        assert_eq!(e.status(), Some(401));
    }

    /// Issue 18 part 3: formatted with its source chain (anyhow's `{:#}`), no error repeats a
    /// message of the chain inside another.
    #[test]
    fn no_message_repeats_in_any_source_chain() {
        let key = GrantKey::new("konpro", "client", "user-1");
        let errors: Vec<Error> = vec![
            oauth_flow::Error::from(CallbackError::StateMismatch).into(),
            oauth_flow::Error::from(CallbackError::Provider(OAuthError::new(
                None,
                "access_denied",
                Some("the user said no"),
                None,
            )))
            .into(),
            oauth_flow::Error::ReauthorizationRequired {
                key: key.clone(),
                reason: "the refresh token was rejected (invalid_grant)".into(),
            }
            .into(),
            Error::Unauthorized {
                message: Some("bad key".into()),
            },
            Error::Api {
                status: 404,
                code: Some("not_found".into()),
                message: Some("no such video".into()),
            },
            Error::Decode {
                what: "v1/pacific/account.get".into(),
                source: oauth_flow::JsonError::shape("`user` is not an object"),
            },
            Error::Encode {
                what: "request body",
                source: oauth_flow::JsonError::shape("a map key is not a string"),
            },
            Error::ApiKeyMode {
                operation: "refresh",
            },
            oauth_flow::Error::from(OAuthError::new(Some(400), "invalid_grant", Some("x"), None))
                .into(),
            oauth_flow::ConfigError::MissingRedirectUri.into(),
            oauth_flow::Error::Store {
                key,
                message: "could not read the token file".into(),
                source: Some(Box::new(std::io::Error::other("disk gone"))),
            }
            .into(),
        ];
        for e in &errors {
            let chain = oauth_flow::test_util::source_chain(e).join(": ");
            assert_eq!(oauth_flow::test_util::repeated_in_chain(e), None, "{chain}");
        }
    }

    #[test]
    fn bounded_messages() {
        let long = "é".repeat(600);
        let b = bounded(&long);
        assert!(b.len() <= MESSAGE_LIMIT);
        assert!(b.ends_with('…'));
        assert_eq!(bounded_path("v1/x?api_key=secret"), "v1/x");
    }
}
