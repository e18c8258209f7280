//! The crate's one error type.
//!
//! The events every SDK of this workspace shares have the same variants in each crate's
//! `Error`: [`Error::Callback`] (a denied consent included, see [`Error::is_access_denied`]),
//! [`Error::ReauthorizationRequired`], [`Error::Unauthorized`], [`Error::RateLimited`],
//! [`Error::Api`], [`Error::Transport`], [`Error::Decode`], [`Error::Store`], [`Error::Config`];
//! the rest of the core's errors are [`Error::OAuth`]. Kustomer's own cases get their own
//! variant: the app is not installed (Kustomer's 400 "Invalid Client"), the client secret was
//! rejected (e.g. after a rotation), a role is missing, an OAuth-only operation on an API-key
//! client ([`Error::ApiKeyMode`]). No message ever contains an API key, a
//! token, a code or a client secret.

use std::time::Duration;

use std::fmt;

use oauth_flow::__private::excerpt;
use oauth_flow::{CallbackError, ConfigError, ErrorCode};
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

    /// The token endpoint answered 400 with an "Invalid Client" message (in `error`,
    /// `error_description` or `message`, any case, possibly followed by more text): Kustomer
    /// does this while the private app is not installed in the organization. Install it from
    /// the org's App Directory, then run the authorization again.
    // The provider's text is left to `source` (and `description`): printing it here too would
    // show it twice to reporters that walk the chain.
    #[error(
        "Kustomer answered 400 \"Invalid Client\": the app is not installed in your \
         organization; install it from the App Directory (Settings > Apps) and authorize again \
         (if it is installed, check the client id)"
    )]
    AppNotInstalled {
        /// The provider's message, bounded (e.g. "Invalid Client: app … is not installed").
        description: Option<String>,
        /// The core's error, for its details.
        #[source]
        source: Box<oauth_flow::Error>,
    },

    /// The token endpoint rejected the client credentials (`invalid_client` other than the
    /// not-installed case), e.g. a client secret replaced by a newer one: each
    /// `generate_secret` call invalidates the previous secret.
    #[error(
        "Kustomer rejected the client credentials (HTTP {status}): use the client id and the \
         most recently generated client secret"
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

    /// The authorization callback was rejected before any token request was sent: wrong or
    /// missing `state`, another redirect URI, expired, or the user clicked "Deny" on Kustomer's
    /// authorization screen ([`CallbackError::Provider`] with code `access_denied`, see
    /// [`Error::is_access_denied`]).
    #[error(transparent)]
    Callback(CallbackError),

    /// The grant is gone or its refresh token was rejected: run the authorization again.
    #[error("grant `{subject}` must authorize Kustomer again: {reason}")]
    ReauthorizationRequired {
        /// The subject (grant key) whose grant failed.
        subject: String,
        /// Why, without any secret.
        reason: String,
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

    /// The API answered an error status other than 401/403 (and other than a 429/503 past
    /// the retry budget, [`Error::RateLimited`]): `errors` holds the JSON:API error objects when
    /// the body was such a document, else `excerpt` a bounded excerpt (e.g. a proxy's HTML
    /// page).
    #[error("Kustomer API error (HTTP {status}){}", api_suffix(.errors, .excerpt))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error objects, as sent (strings bounded); empty without a JSON:API body.
        errors: Vec<ApiErrorObject>,
        /// A bounded, whitespace-collapsed excerpt of the body (empty for a JSON:API body).
        excerpt: String,
    },

    /// 429 or 503 persisted past the retry budget.
    #[error("Kustomer is rate limiting or unavailable (HTTP {status}) after {attempts} attempts")]
    RateLimited {
        /// The last status (429 or 503).
        status: u16,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last `Retry-After` Kustomer sent, if any.
        retry_after: Option<Duration>,
    },

    /// No response: the request could not be sent, timed out, or its body exceeded the cap.
    /// The core's [`Transport`](oauth_flow::Error::Transport),
    /// [`Timeout`](oauth_flow::Error::Timeout) or
    /// [`BodyTooLarge`](oauth_flow::Error::BodyTooLarge).
    #[error(transparent)]
    Transport(oauth_flow::Error),

    /// The token store failed, or another process held the grant's refresh lease too long:
    /// the core's [`Store`](oauth_flow::Error::Store) or
    /// [`LeaseTimeout`](oauth_flow::Error::LeaseTimeout).
    #[error(transparent)]
    Store(oauth_flow::Error),

    /// The configuration is invalid; nothing was sent.
    #[error(transparent)]
    Config(ConfigError),

    /// A request body could not be encoded; nothing was sent.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why, without echoing the values.
        #[source]
        source: oauth_flow::JsonError,
    },

    /// A successful response could not be decoded.
    #[error("could not decode {what}")]
    Decode {
        /// What was decoded (e.g. "app", "token response").
        what: String,
        /// Where and why, without echoing values from the body.
        #[source]
        source: oauth_flow::JsonError,
    },

    /// The operation needs a user's OAuth grant, and this client authenticates with an org API
    /// key: there is no access token to refresh, read or forget (e.g.
    /// [`KustomerClient::refresh`](crate::KustomerClient::refresh)); nothing was sent.
    #[error("`{operation}` needs an OAuth grant; this Kustomer client uses an API key")]
    ApiKeyMode {
        /// The method called, e.g. `refresh`.
        operation: &'static str,
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

    /// Any other failure of the OAuth core: a token endpoint error (e.g. `invalid_grant` on a
    /// code exchange), an unexpected status of the token endpoint, a loopback login failure.
    #[error(transparent)]
    OAuth(oauth_flow::Error),
}

impl Error {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::AppNotInstalled { .. } => Some(400),
            Error::ClientRejected { status, .. }
            | Error::Api { status, .. }
            | Error::RateLimited { status, .. } => Some(*status),
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::OAuth(e) => e.status(),
            Error::InvalidInput { .. }
            | Error::Callback(_)
            | Error::ReauthorizationRequired { .. }
            | Error::Transport(_)
            | Error::Store(_)
            | Error::Config(_)
            | Error::Encode { .. }
            | Error::Decode { .. }
            | Error::MissingField { .. }
            | Error::ApiKeyMode { .. }
            | Error::PageLimitExceeded(_) => None,
        }
    }

    /// Whether the user must go through the authorization again (the refresh token was
    /// rejected, or nothing is stored for the grant).
    pub fn is_reauthorization_required(&self) -> bool {
        matches!(self, Error::ReauthorizationRequired { .. })
    }

    /// Whether the user clicked "Deny" on Kustomer's authorization screen.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self,
            Error::Callback(CallbackError::Provider(e)) if e.code == ErrorCode::AccessDenied
        )
    }

    /// How long Kustomer asked to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
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
            what: what.to_owned(),
            source: oauth_flow::__private::json_error(err),
        }
    }
}

impl From<oauth_flow::Error> for Error {
    /// Lifts the core's errors, recognising Kustomer's own cases: 400 "Invalid Client" (app
    /// not installed) and other `invalid_client` answers; the rest as every SDK of the
    /// workspace does.
    fn from(e: oauth_flow::Error) -> Self {
        if let Some(description) = not_installed(&e) {
            return Error::AppNotInstalled {
                description,
                source: Box::new(e),
            };
        }
        match &e {
            // The bad-secret case (usually 401), and `invalid_client` at 400 with some other
            // description.
            oauth_flow::Error::OAuth(o) if o.code == ErrorCode::InvalidClient => {
                Error::ClientRejected {
                    status: o.status.unwrap_or(401),
                    description: o.description.clone(),
                    source: Box::new(e),
                }
            }
            _ => oauth_flow::lift_shared_error!(e, Error, other => Error::OAuth(other)),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
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

/// Kustomer's documented answer for an app that is not installed (document 002: "a 400
/// "Invalid Client" error"): HTTP 400 with a message starting "Invalid Client" in any case, in
/// `error`, `error_description` or `message` (or a JSON:API error's `title`/`detail`); also the
/// bare RFC 6749 form, `invalid_client` at 400 with no description. Gives the message seen.
fn not_installed(e: &oauth_flow::Error) -> Option<Option<String>> {
    match e {
        oauth_flow::Error::OAuth(o) if o.status == Some(400) => {
            let description = o.description.as_deref();
            if says_invalid_client(o.code.as_str()) {
                Some(Some(
                    description.map_or_else(|| bound(o.code.as_str()), bound),
                ))
            } else if let Some(d) = description.filter(|d| says_invalid_client(d)) {
                Some(Some(bound(d)))
            } else if o.code == ErrorCode::InvalidClient && description.is_none() {
                Some(None)
            } else {
                None
            }
        }
        // A body without an RFC 6749 `error` (e.g. `{"message":"Invalid Client"}`): the core
        // keeps a bounded excerpt, which still parses unless it was cut.
        oauth_flow::Error::HttpStatus {
            status: 400,
            excerpt,
        } => match serde_json::from_str::<Value>(excerpt) {
            Ok(v) => message_fields(&v)
                .into_iter()
                .find(|m| says_invalid_client(m))
                .map(|m| Some(bound(m))),
            Err(_) => says_invalid_client(excerpt).then(|| Some(excerpt.clone())),
        },
        _ => None,
    }
}

/// The strings of a JSON error body that may carry Kustomer's message.
fn message_fields(v: &Value) -> Vec<&str> {
    fn strings<'a>(v: &'a Value, keys: &'static [&'static str]) -> impl Iterator<Item = &'a str> {
        keys.iter().filter_map(|k| v.get(k).and_then(Value::as_str))
    }
    let mut out: Vec<&str> = strings(v, &["error", "error_description", "message"]).collect();
    if let Some(Value::Array(errors)) = v.get("errors") {
        for e in errors {
            out.extend(strings(e, &["title", "detail", "message"]));
        }
    }
    out
}

/// Whether `s` starts with "Invalid Client", in any case.
fn says_invalid_client(s: &str) -> bool {
    const PREFIX: &str = "invalid client";
    s.trim_start()
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

fn api_suffix(errors: &[ApiErrorObject], excerpt: &str) -> String {
    suffix(&first_message(errors).or_else(|| (!excerpt.is_empty()).then(|| excerpt.to_owned())))
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

    /// The token endpoint's answer, parsed by the core as a token request's would be.
    fn from_token_endpoint(status: u16, body: &str) -> Error {
        let resp = oauth_flow::HttpResponse::new(
            oauth_flow::http::StatusCode::from_u16(status).unwrap(),
            body,
        );
        Error::from(oauth_flow::__private::error_from_response(&resp))
    }

    /// Issue 18 part 5: status 400 plus an "Invalid Client" message, in `error`,
    /// `error_description` or `message`, any case, as a prefix, is the not-installed case.
    #[test]
    fn every_400_invalid_client_shape_is_app_not_installed() {
        for (body, seen) in [
            (
                r#"{"error":"invalid_client","error_description":"Invalid Client"}"#,
                Some("Invalid Client"),
            ),
            (
                r#"{"error":"invalid_client","error_description":"Invalid Client: app myoauthapp_1 is not installed"}"#,
                Some("Invalid Client: app myoauthapp_1 is not installed"),
            ),
            (r#"{"message":"Invalid Client"}"#, Some("Invalid Client")),
            (
                r#"{"message":"invalid client: not installed","status":400}"#,
                Some("invalid client: not installed"),
            ),
            (
                r#"{"error":"invalid_client","error_description":"INVALID CLIENT"}"#,
                Some("INVALID CLIENT"),
            ),
            (r#"{"error":"Invalid Client"}"#, Some("Invalid Client")),
            (
                r#"{"error":"invalid_request","error_description":"invalid client"}"#,
                Some("invalid client"),
            ),
            (
                r#"{"errors":[{"status":400,"title":"Invalid Client"}]}"#,
                Some("Invalid Client"),
            ),
            ("Invalid Client", Some("Invalid Client")),
            (r#"{"error":"invalid_client"}"#, None),
        ] {
            match from_token_endpoint(400, body) {
                Error::AppNotInstalled { description, .. } => {
                    assert_eq!(description.as_deref(), seen, "{body}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    /// 401 `invalid_client` stays the bad-secret case, whatever its description; a 400
    /// without an "Invalid Client" message is not the not-installed case.
    #[test]
    fn other_answers_are_not_app_not_installed() {
        for body in [
            r#"{"error":"invalid_client","error_description":"Invalid Client"}"#,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
            r#"{"message":"Invalid Client"}"#,
        ] {
            let e = from_token_endpoint(401, body);
            match &e {
                Error::ClientRejected { status: 401, .. } => {}
                Error::OAuth(oauth_flow::Error::HttpStatus { status: 401, .. }) => {}
                other => panic!("401 {body}: {other:?}"),
            }
        }
        assert!(matches!(
            from_token_endpoint(
                400,
                r#"{"error":"invalid_client","error_description":"bad secret"}"#
            ),
            Error::ClientRejected { status: 400, .. }
        ));
        for body in [
            r#"{"error":"invalid_grant","error_description":"code expired"}"#,
            r#"{"error":"invalid_request","error_description":"the client id is an Invalid Client"}"#,
            r#"{"message":"Invalid scope"}"#,
            "<html><title>Invalid Client</title></html>",
            "",
        ] {
            let e = from_token_endpoint(400, body);
            assert!(matches!(e, Error::OAuth(_)), "400 {body}: {e:?}");
        }
    }

    /// Issue 18 part 3: each error, formatted with its source chain as anyhow's `{:#}` would,
    /// repeats no message of the chain inside another (AppNotInstalled and ClientRejected
    /// once printed the description their source prints too).
    #[test]
    fn no_message_repeats_in_any_source_chain() {
        let core = |status, description: &str| -> oauth_flow::Error {
            OAuthError::new(Some(status), "invalid_client", Some(description), None).into()
        };
        let store = oauth_flow::Error::Store {
            key: oauth_flow::GrantKey::new("kustomer", "client", "user"),
            message: "could not write the token file".into(),
            source: Some(Box::new(std::io::Error::other("disk full"))),
        };
        let errors = [
            Error::invalid("app name", "must not be empty"),
            Error::from(core(400, "Invalid Client")),
            Error::from(core(
                400,
                "Invalid Client: app myoauthapp_1 is not installed",
            )),
            Error::from(core(401, "client authentication failed")),
            Error::from(core(400, "bad secret")),
            Error::from(oauth_flow::Error::HttpStatus {
                status: 400,
                excerpt: r#"{"message":"Invalid Client"}"#.into(),
            }),
            Error::from(oauth_flow::Error::from(CallbackError::Provider(
                OAuthError::new(None, "access_denied", Some("the user said no"), None),
            ))),
            Error::from(oauth_flow::Error::ReauthorizationRequired {
                key: oauth_flow::GrantKey::new("kustomer", "client", "user-1"),
                reason: "the refresh token was rejected (invalid_grant)".into(),
            }),
            Error::from(oauth_flow::Error::RateLimited {
                status: 429,
                attempts: 3,
                retry_after: Some(std::time::Duration::from_secs(2)),
            }),
            Error::from(oauth_flow::Error::Timeout),
            Error::Unauthorized {
                message: Some("bad key".into()),
            },
            Error::Forbidden {
                message: Some("missing role".into()),
                insufficient_scope: true,
            },
            Error::Api {
                status: 409,
                errors: vec![ApiErrorObject {
                    title: Some("Conflict".into()),
                    ..ApiErrorObject::default()
                }],
                excerpt: String::new(),
            },
            Error::Api {
                status: 502,
                errors: Vec::new(),
                excerpt: "bad gateway".into(),
            },
            Error::Encode {
                what: "customer search",
                source: oauth_flow::JsonError::shape("a map key is not a string"),
            },
            Error::Decode {
                what: "app".into(),
                source: oauth_flow::JsonError::shape("`data` is not an object"),
            },
            Error::MissingField {
                what: "app",
                field: "id",
            },
            Error::ApiKeyMode {
                operation: "refresh",
            },
            Error::from(
                oauth_flow::PageLimits::new()
                    .check_items(10_001)
                    .unwrap_err(),
            ),
            Error::from(store),
            Error::from(oauth_flow::Error::from(CallbackError::StateMismatch)),
            Error::from(oauth_flow::Error::from(oauth_flow::ConfigError::EmptyKey)),
            Error::from(core(403, "Invalid Client")),
        ];
        for e in &errors {
            let chain = oauth_flow::test_util::source_chain(e).join(": ");
            assert_eq!(oauth_flow::test_util::repeated_in_chain(e), None, "{chain}");
        }
        // The provider's text is still in the chain, once.
        let e = Error::from(core(
            400,
            "Invalid Client: app myoauthapp_1 is not installed",
        ));
        let report = oauth_flow::test_util::source_chain(&e).join(": ");
        assert_eq!(report.matches("myoauthapp_1").count(), 1, "{report}");
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
        let e = Error::from(core);
        assert!(e.is_access_denied(), "{e:?}");
        assert!(matches!(
            &e,
            Error::Callback(CallbackError::Provider(o))
                if o.description.as_deref() == Some("the user said no")
        ));
    }

    #[test]
    fn shared_core_errors_are_lifted() {
        let e = Error::from(oauth_flow::Error::Timeout);
        assert!(matches!(e, Error::Transport(oauth_flow::Error::Timeout)));
        assert_eq!(e.to_string(), "request timed out");

        let e = Error::from(oauth_flow::Error::RateLimited {
            status: 429,
            attempts: 3,
            retry_after: Some(std::time::Duration::from_secs(7)),
        });
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(7)));
        assert_eq!(e.status(), Some(429));

        let e = Error::from(oauth_flow::Error::ReauthorizationRequired {
            key: oauth_flow::GrantKey::new("kustomer", "client", "user-1"),
            reason: "nothing is stored".into(),
        });
        assert!(e.is_reauthorization_required());
        assert!(!e.is_access_denied());

        let e = Error::from(oauth_flow::ConfigError::EmptyKey);
        assert!(matches!(e, Error::Config(_)));
    }

    #[test]
    fn api_error_without_jsonapi_body_shows_the_excerpt() {
        let e = Error::Api {
            status: 502,
            errors: Vec::new(),
            excerpt: "bad gateway".into(),
        };
        assert_eq!(e.to_string(), "Kustomer API error (HTTP 502): bad gateway");
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
            excerpt: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "Kustomer API error (HTTP 409): Conflict: app exists (and 1 more)"
        );
    }
}
