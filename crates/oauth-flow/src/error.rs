//! The crate's one error type, with variants named for the phase that failed.
//!
//! No variant ever holds a secret: messages carry error codes, status codes, field names and
//! bounded excerpts of response bodies, never tokens, codes, verifiers or client secrets.

use std::time::Duration;

use crate::json_error::JsonError;
use crate::key::GrantKey;

/// Largest excerpt of a response body kept in an error, in bytes (SECURITY S10).
pub const EXCERPT_LIMIT: usize = 512;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the OAuth core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // The wrappers below are transparent: their inner messages say what failed, and a
    // prefix plus `{0}` would print that text twice for reporters that walk `source()`.
    /// The configuration is invalid; nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The authorization callback was rejected; nothing was sent.
    #[error(transparent)]
    Callback(#[from] CallbackError),

    /// The loopback receiver of a native-app login failed or gave up (RFC 8252; SECURITY S5).
    #[error(transparent)]
    Loopback(#[from] LoopbackError),

    /// The token endpoint answered with an RFC 6749 §5.2 error body.
    #[error(transparent)]
    OAuth(#[from] OAuthError),

    /// The server answered with an unexpected HTTP status (redirects included: they are never
    /// followed). `excerpt` holds at most [`EXCERPT_LIMIT`] bytes of the body.
    #[error("unexpected HTTP status {status}{}", excerpt_suffix(.excerpt))]
    HttpStatus {
        /// The status code.
        status: u16,
        /// A bounded, lossy UTF-8 excerpt of the body.
        excerpt: String,
    },

    /// The request did not complete in time.
    #[error("request timed out")]
    Timeout,

    /// The request could not be sent or the response could not be read.
    #[error("transport failure: {message}")]
    Transport {
        /// What failed, without URLs' query strings or any header value.
        message: String,
    },

    /// The response body exceeded the configured cap.
    #[error("response body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },

    /// A request body could not be encoded; nothing was sent.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded (e.g. "request body").
        what: &'static str,
        /// Why, without echoing the values.
        #[source]
        source: JsonError,
    },

    /// A response body could not be decoded.
    #[error("could not decode {what}")]
    Decode {
        /// What was being decoded (e.g. "token response").
        what: &'static str,
        /// Where and why, without echoing values from the body.
        #[source]
        source: JsonError,
    },

    /// The token response lacks a required field or has an empty one.
    #[error("token response is missing `{0}`")]
    MissingField(&'static str),

    /// The token response names a token type other than `Bearer`.
    #[error("unsupported token type `{0}` (only Bearer is supported)")]
    UnsupportedTokenType(String),

    /// An authorization code is being exchanged by another client or for another provider than
    /// the one whose authorization produced it; nothing was sent.
    #[error("this authorization was started by another provider or client")]
    AuthorizationMismatch,

    /// The operating system's random generator failed (state, PKCE verifier).
    #[error("the operating system's random generator failed")]
    Random,

    /// The token contains characters that cannot go in an HTTP header.
    #[error("the access token contains characters not allowed in an HTTP header")]
    InvalidTokenCharacters,

    /// The grant can no longer be refreshed: the user must authorize the app again.
    #[error("re-authorization required for {key}: {reason}")]
    ReauthorizationRequired {
        /// The grant that failed.
        key: GrantKey,
        /// Why (e.g. "the refresh token was rejected (invalid_grant)").
        reason: String,
    },

    /// The token store failed.
    #[error("token store failure for {key}: {message}")]
    Store {
        /// The grant being loaded or saved.
        key: GrantKey,
        /// What failed.
        message: String,
        /// The underlying I/O or encoding error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// Another holder kept the grant's refresh lease longer than the configured wait.
    #[error("timed out after {waited:?} waiting for the refresh lease of {key}")]
    LeaseTimeout {
        /// The grant whose lease was busy.
        key: GrantKey,
        /// How long this caller waited.
        waited: Duration,
    },

    /// The API answered 401 even after one refresh and one retry.
    #[error("unauthorized{}", excerpt_suffix(.excerpt))]
    Unauthorized {
        /// A bounded excerpt of the last response body.
        excerpt: String,
    },

    /// The API answered 403 (for example `insufficient_scope`); no refresh is attempted.
    #[error("forbidden{}", excerpt_suffix(.excerpt))]
    Forbidden {
        /// A bounded excerpt of the response body.
        excerpt: String,
    },

    /// 429 or 503 persisted past the retry budget.
    #[error("rate limited or unavailable (HTTP {status}) after {attempts} attempts")]
    RateLimited {
        /// The last status (429 or 503).
        status: u16,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last `Retry-After` the server sent, if any.
        retry_after: Option<Duration>,
    },

    /// A JWT could not be built or signed.
    #[error("could not sign JWT: {0}")]
    Jwt(String),
}

fn url_suffix(url: &Option<String>) -> String {
    url.as_ref().map(|u| format!(" `{u}`")).unwrap_or_default()
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// A configuration problem found before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A URL does not parse.
    #[error("`{name}` is not a valid URL")]
    InvalidUrl {
        /// Which setting.
        name: &'static str,
    },
    /// A URL uses plain HTTP on a host that is not loopback (SECURITY S8).
    #[error("`{url}` must use https (plain http is allowed only for loopback IP literals)")]
    InsecureUrl {
        /// Scheme, host and path of the refused URL (no query).
        url: String,
    },
    /// A base URL is not usable (see [`BaseUrl`](crate::BaseUrl)).
    #[error("invalid base URL{}: {problem}", url_suffix(.url))]
    InvalidBaseUrl {
        /// Scheme, host and path of the refused URL (no query, fragment or userinfo), when it
        /// parsed at all.
        url: Option<String>,
        /// What is wrong with it.
        problem: BaseUrlError,
    },
    /// A required setting is empty.
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    /// The client authentication method needs a client secret and none was given.
    #[error("this provider authenticates clients with a secret, and none was configured")]
    MissingClientSecret,
    /// A redirect URI is required by this flow and none was configured.
    #[error("a redirect URI is required for the authorization code flow")]
    MissingRedirectUri,
    /// A JWT signing key is empty (SECURITY S23).
    #[error("the JWT signing key is empty")]
    EmptyKey,
    /// A JWT lifetime exceeds the provider's cap (SECURITY S24).
    #[error("JWT lifetime of {requested} s exceeds the cap of {cap} s")]
    LifetimeOverCap {
        /// Requested lifetime in seconds.
        requested: u64,
        /// The provider's cap in seconds.
        cap: u64,
    },
    /// A PKCE verifier does not satisfy RFC 7636 §4.1.
    #[error("PKCE verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    InvalidVerifier,
    /// A path given to the API client points to another origin (SECURITY S19).
    #[error("`{0}` is not on the configured API origin")]
    ForeignOrigin(String),
    /// A value cannot be used in an HTTP header.
    #[error("`{0}` cannot be used in an HTTP header")]
    InvalidHeader(&'static str),
    /// Raw HTTP Basic credentials ([`BasicEncoding::Raw`](crate::BasicEncoding::Raw)) cannot
    /// carry a client id containing `:`: the server would split it at the wrong colon.
    #[error("the client id contains `:`, which raw HTTP Basic credentials cannot carry")]
    ColonInClientId,
    /// The API key cannot go in an HTTP header (control characters, non-ASCII).
    #[error("the API key contains characters not allowed in an HTTP header")]
    InvalidApiKey,
    /// The refresh margin is above [`MAX_REFRESH_MARGIN`](crate::MAX_REFRESH_MARGIN).
    #[error("the refresh margin must be at most {max:?}")]
    RefreshMarginTooLarge {
        /// The largest margin accepted.
        max: Duration,
    },
    /// The refresh lease's time-to-live is zero.
    #[error("the lease time-to-live must not be zero")]
    ZeroLeaseTtl,
    /// A JWT lifetime is under one second.
    #[error("the JWT lifetime must be at least one second")]
    ZeroJwtLifetime,
    /// The provider profile has no authorize URL, so no authorization can be started.
    #[error("this provider has no authorize URL")]
    MissingAuthorizeUrl,
    /// An extra authorize parameter would override one the SDK sets (`state`, `redirect_uri`…).
    #[error("authorize parameter `{0}` is set by the SDK and cannot be overridden")]
    ReservedParameter(String),
    /// `require_issuer` was set without the issuer identifier to compare `iss` with.
    #[error("require_issuer needs the issuer identifier to compare `iss` with")]
    MissingIssuer,
    /// The client credentials grant was asked of a public client (RFC 6749 §4.4).
    #[error("the client credentials grant needs a confidential client (RFC 6749 §4.4)")]
    ConfidentialClientRequired,
    /// The redirect URI carries a fragment (RFC 6749 §3.1.2).
    #[error("redirect_uri must not contain a fragment (RFC 6749 §3.1.2)")]
    RedirectUriFragment,
    /// The loopback receiver was asked to listen on an address that is not loopback.
    #[error("the login receiver listens on a loopback address only (127.0.0.1 or ::1), not {0}")]
    NotLoopback(std::net::IpAddr),
    /// The loopback receiver's callback path is not a plain absolute path.
    #[error("the callback path must start with `/` and hold no query, fragment or space")]
    InvalidCallbackPath,
    /// A loopback redirect URI names a host name instead of an IP literal (RFC 8252 §8.3).
    #[error(
        "a loopback redirect URI must name the IP literal 127.0.0.1 or [::1], not a host name \
         (RFC 8252 §8.3)"
    )]
    LoopbackHostName,
    /// A loopback redirect URI is not of the form `http://127.0.0.1[:port]/path` (RFC 8252 §7.3).
    #[error("a loopback redirect URI looks like http://127.0.0.1/callback (RFC 8252 §7.3)")]
    InvalidLoopbackRedirect,
    /// The authorization was started with another redirect URI than the loopback receiver's.
    #[error("the authorization was started with another redirect URI than this receiver's")]
    ReceiverMismatch,
}

/// Why a string is not a usable base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// It does not parse as an absolute URL with a host.
    #[error("not an absolute http(s) URL")]
    NotAUrl,
    /// Plain `http` on a host other than a loopback IP literal, or another scheme (S8).
    #[error("must use https (plain http only on a loopback IP literal)")]
    Insecure,
    /// It carries a query string.
    #[error("must not carry a query string")]
    Query,
    /// It carries a fragment.
    #[error("must not carry a fragment")]
    Fragment,
    /// It carries a user name or password.
    #[error("must not carry a user name or password")]
    Userinfo,
}

/// Why an authorization callback was rejected (SECURITY S1, S4, S6, S7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The callback carries no `state`.
    #[error("the callback has no `state` parameter")]
    MissingState,
    /// The callback's `state` differs from the one sent.
    #[error("the callback's `state` does not match the pending authorization")]
    StateMismatch,
    /// The pending authorization was already completed once.
    #[error("this authorization was already completed")]
    AlreadyUsed,
    /// The pending authorization is older than its allowed age.
    #[error("the pending authorization has expired; start again")]
    Expired,
    /// The callback carries neither `code` nor `error`.
    #[error("the callback has no `code` parameter")]
    MissingCode,
    /// A parameter appears more than once.
    #[error("the callback repeats the `{0}` parameter")]
    DuplicateParameter(String),
    /// Both `code` and `error` are present.
    #[error("the callback carries both `code` and `error`")]
    CodeAndError,
    /// The callback URL is not on the registered redirect URI (scheme, host, port or path).
    #[error("the callback did not arrive on the registered redirect URI")]
    RedirectMismatch,
    /// The callback's `iss` differs from the provider's issuer (RFC 9207).
    #[error("the callback's `iss` does not match the provider's issuer")]
    IssuerMismatch,
    /// The profile requires `iss` (RFC 9207) and the callback carries none.
    #[error("the callback has no `iss` parameter, which this provider's profile requires")]
    MissingIssuer,
    /// The callback is not a URL or query string that can be parsed.
    #[error("the callback is not a valid URL or query string")]
    Malformed,
    /// The provider reported an error (e.g. `access_denied`).
    #[error("the provider refused the authorization: {0}")]
    Provider(OAuthError),
}

/// Why a native app's loopback receiver (RFC 8252 §7.3) returned without a callback.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// The listener could not be opened on the loopback address.
    #[error("could not listen on {addr} for the login callback")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The listener failed while waiting for connections.
    #[error("the login callback listener failed")]
    Accept(#[source] std::io::Error),
    /// No callback with the right `state` arrived in time.
    #[error("no login callback arrived within {waited:?}")]
    Timeout {
        /// How long the receiver waited.
        waited: Duration,
    },
    /// The wait was cancelled by the application.
    #[error("the login was cancelled")]
    Cancelled,
    /// The application's "open this URL" step failed, so no browser will come back.
    #[error("could not open the authorization URL")]
    Open(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An RFC 6749 error code (§4.1.2.1 and §5.2); unknown codes are kept as strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// Any other code, as sent.
    Other(String),
}

impl ErrorCode {
    /// Parses a wire code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(truncate(other, 64)),
        }
    }

    /// The wire form of the code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(s) => s,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error reported by the provider, from a token response body (RFC 6749 §5.2) or an
/// authorization callback (§4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}{}", describe(.status, .description))]
#[non_exhaustive]
pub struct OAuthError {
    /// HTTP status of the response (absent for callback errors).
    pub status: Option<u16>,
    /// The error code.
    pub code: ErrorCode,
    /// `error_description`, capped at [`EXCERPT_LIMIT`] bytes.
    pub description: Option<String>,
    /// `error_uri`, if given.
    pub uri: Option<String>,
}

impl OAuthError {
    /// Builds an error from wire fields, capping the description.
    pub fn new(
        status: Option<u16>,
        code: &str,
        description: Option<&str>,
        uri: Option<&str>,
    ) -> Self {
        Self {
            status,
            code: ErrorCode::parse(code),
            description: description.map(|d| truncate(d, EXCERPT_LIMIT)),
            uri: uri.map(|u| truncate(u, EXCERPT_LIMIT)),
        }
    }
}

fn describe(status: &Option<u16>, description: &Option<String>) -> String {
    let mut out = String::new();
    if let Some(d) = description {
        out.push_str(": ");
        out.push_str(d);
    }
    if let Some(s) = status {
        out.push_str(&format!(" (HTTP {s})"));
    }
    out
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking a cut with `…`: for
/// provider messages and codes that go into error text.
pub fn truncate(s: &str, max: usize) -> String {
    const MARK: &str = "…";
    if s.len() <= max {
        return s.to_owned();
    }
    // The mark counts toward `max` (S10: excerpts of at most 512 bytes); below its own size
    // there is room for text only.
    let (mut end, mark) = match max.checked_sub(MARK.len()) {
        Some(room) => (room, MARK),
        None => (max, ""),
    };
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{mark}", &s[..end])
}

/// A bounded, lossy UTF-8 excerpt of a response body, whitespace collapsed.
pub fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_LIMIT * 2)];
    let text = String::from_utf8_lossy(head);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = truncate(&collapsed, EXCERPT_LIMIT);
    if body.len() > head.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

impl Error {
    /// The OAuth error code, when the provider reported one.
    pub fn oauth_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::OAuth(e) => Some(&e.code),
            Error::Callback(CallbackError::Provider(e)) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status, when the failure came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::OAuth(e) => e.status,
            Error::HttpStatus { status, .. } | Error::RateLimited { status, .. } => Some(*status),
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// A decode error keeping only the category and position of serde_json's error (its
    /// message can quote values, and a value in a token response may be a secret).
    pub(crate) fn decode(what: &'static str, err: &serde_json::Error) -> Self {
        Error::Decode {
            what,
            source: JsonError::from_serde(err),
        }
    }

    /// An encode error, likewise without serde_json's message.
    pub(crate) fn encode(what: &'static str, err: &serde_json::Error) -> Self {
        Error::Encode {
            what,
            source: JsonError::from_serde(err),
        }
    }
}

/// serde_json's error as the [`JsonError`] every crate's `Decode` and `Encode` carry.
pub fn json_error(err: &serde_json::Error) -> JsonError {
    JsonError::from_serde(err)
}

/// Lifts a core [`Error`] into a provider SDK's error enum, which has the shared variants
/// `Config`, `Callback`, `ReauthorizationRequired { subject, reason }`,
/// `RateLimited { status, attempts, retry_after }`, `Decode { what: String, source }`,
/// `Encode { what, source }`,
/// `Transport(oauth_flow::Error)` and `Store(oauth_flow::Error)`; `$other => $rest` handles the
/// rest. Written once so the four SDKs report the shared events alike (issue 20).
#[doc(hidden)]
#[macro_export]
macro_rules! lift_shared_error {
    ($e:expr, $Error:ident, $other:ident => $rest:expr) => {
        match $e {
            $crate::Error::Config(c) => $Error::Config(c),
            $crate::Error::Callback(c) => $Error::Callback(c),
            $crate::Error::ReauthorizationRequired { key, reason } => {
                $Error::ReauthorizationRequired {
                    subject: key.subject().to_owned(),
                    reason,
                }
            }
            $crate::Error::RateLimited {
                status,
                attempts,
                retry_after,
            } => $Error::RateLimited {
                status,
                attempts,
                retry_after,
            },
            $crate::Error::Decode { what, source } => $Error::Decode {
                what: what.to_owned(),
                source,
            },
            $crate::Error::Encode { what, source } => $Error::Encode { what, source },
            e @ ($crate::Error::Transport { .. }
            | $crate::Error::Timeout
            | $crate::Error::BodyTooLarge { .. }) => $Error::Transport(e),
            e @ ($crate::Error::Store { .. } | $crate::Error::LeaseTimeout { .. }) => {
                $Error::Store(e)
            }
            $other => $rest,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{repeated_in_chain, source_chain};

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("héllo world", 6), "hé…");
        assert_eq!(truncate("héllo world", 5), "h…");
        for max in 0..20 {
            assert!(
                truncate("héllo wörld, grüß dich", max).len() <= max,
                "{max}"
            );
        }
    }

    #[test]
    fn excerpt_is_bounded_and_collapsed() {
        let body = format!("<html>\n  <body>{}</body></html>", "x".repeat(5000));
        let e = excerpt(body.as_bytes());
        assert!(e.len() <= EXCERPT_LIMIT, "{}", e.len());
        assert!(e.starts_with("<html> <body>"));
        assert!(e.ends_with('…'));
    }

    #[test]
    fn unknown_codes_are_kept() {
        assert_eq!(ErrorCode::parse("invalid_grant"), ErrorCode::InvalidGrant);
        assert_eq!(
            ErrorCode::parse("consent_required"),
            ErrorCode::Other("consent_required".into())
        );
    }

    /// Every variant, formatted with its source chain as a reporter walking `source()` would
    /// (anyhow's `{:#}`), repeats no message of the chain inside another.
    #[test]
    fn no_message_repeats_in_any_source_chain() {
        let key = || GrantKey::new("p", "c", "user");
        let oauth = || OAuthError::new(Some(401), "invalid_client", Some("bad secret"), None);
        let mut errors: Vec<Error> = vec![
            Error::OAuth(oauth()),
            Error::HttpStatus {
                status: 502,
                excerpt: "<html>bad gateway</html>".into(),
            },
            Error::Timeout,
            Error::Transport {
                message: "connection failed".into(),
            },
            Error::BodyTooLarge { limit: 65536 },
            Error::Decode {
                what: "token response",
                source: JsonError::shape("`expires_in` is not a number"),
            },
            Error::Encode {
                what: "request body",
                source: JsonError::shape("a map key is not a string"),
            },
            Error::AuthorizationMismatch,
            Error::Random,
            Error::MissingField("access_token"),
            Error::UnsupportedTokenType("mac".into()),
            Error::InvalidTokenCharacters,
            Error::ReauthorizationRequired {
                key: key(),
                reason: "the refresh token was rejected (invalid_grant)".into(),
            },
            Error::Store {
                key: key(),
                message: "could not write the token file".into(),
                source: Some(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "permission denied",
                ))),
            },
            Error::LeaseTimeout {
                key: key(),
                waited: Duration::from_secs(5),
            },
            Error::Unauthorized {
                excerpt: "invalid_token".into(),
            },
            Error::Forbidden {
                excerpt: "insufficient_scope".into(),
            },
            Error::RateLimited {
                status: 429,
                attempts: 3,
                retry_after: None,
            },
            Error::Jwt("bad key".into()),
        ];
        errors.extend(
            [
                ConfigError::InvalidUrl { name: "token_url" },
                ConfigError::InsecureUrl {
                    url: "http://a.example/".into(),
                },
                ConfigError::Empty("client_id"),
                ConfigError::MissingClientSecret,
                ConfigError::MissingRedirectUri,
                ConfigError::EmptyKey,
                ConfigError::LifetimeOverCap {
                    requested: 86400,
                    cap: 21600,
                },
                ConfigError::InvalidVerifier,
                ConfigError::ForeignOrigin("https://b.example/".into()),
                ConfigError::InvalidHeader("authorization"),
                ConfigError::InvalidApiKey,
                ConfigError::RefreshMarginTooLarge {
                    max: Duration::from_secs(300),
                },
                ConfigError::ZeroLeaseTtl,
                ConfigError::ZeroJwtLifetime,
                ConfigError::MissingAuthorizeUrl,
                ConfigError::ReservedParameter("state".into()),
                ConfigError::MissingIssuer,
                ConfigError::ConfidentialClientRequired,
                ConfigError::RedirectUriFragment,
                ConfigError::NotLoopback(std::net::IpAddr::from([10, 0, 0, 1])),
                ConfigError::InvalidCallbackPath,
                ConfigError::LoopbackHostName,
                ConfigError::InvalidLoopbackRedirect,
                ConfigError::ReceiverMismatch,
            ]
            .map(Error::from),
        );
        errors.extend(
            [
                CallbackError::MissingState,
                CallbackError::StateMismatch,
                CallbackError::AlreadyUsed,
                CallbackError::Expired,
                CallbackError::MissingCode,
                CallbackError::DuplicateParameter("code".into()),
                CallbackError::CodeAndError,
                CallbackError::RedirectMismatch,
                CallbackError::IssuerMismatch,
                CallbackError::MissingIssuer,
                CallbackError::Malformed,
                CallbackError::Provider(OAuthError::new(None, "access_denied", None, None)),
            ]
            .map(Error::from),
        );
        errors.extend(
            [
                LoopbackError::Bind {
                    addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
                    source: std::io::Error::other("address in use"),
                },
                LoopbackError::Accept(std::io::Error::other("too many open files")),
                LoopbackError::Timeout {
                    waited: Duration::from_secs(300),
                },
                LoopbackError::Cancelled,
                LoopbackError::Open("no browser".into()),
            ]
            .map(Error::from),
        );
        for e in &errors {
            assert!(!e.to_string().is_empty(), "{e:?}");
            assert_eq!(repeated_in_chain(e), None, "{}", source_chain(e).join(": "));
        }
        // The check itself sees a wrapper that prints its source.
        #[derive(Debug, thiserror::Error)]
        #[error("wrapped: {0}")]
        struct Repeats(#[source] OAuthError);
        assert!(repeated_in_chain(&Repeats(oauth())).is_some());
        // The transparent wrappers print their inner message once, whole.
        let e = Error::from(oauth());
        assert_eq!(
            source_chain(&e).join(": "),
            "invalid_client: bad secret (HTTP 401)"
        );
        let e = Error::from(CallbackError::StateMismatch);
        assert_eq!(source_chain(&e), [CallbackError::StateMismatch.to_string()]);
    }

    #[test]
    fn oauth_error_display() {
        let e = OAuthError::new(Some(400), "invalid_grant", Some("code expired"), None);
        assert_eq!(e.to_string(), "invalid_grant: code expired (HTTP 400)");
    }
}
