//! The crate's one error type, with variants named for the phase that failed.
//!
//! Messages never contain the API secret, a token or a JWT: they carry status codes, GraphQL
//! error messages and codes, and bounded excerpts of response bodies.

use std::time::Duration;

use oauth_flow::ConfigError;

use crate::graphql_errors::{GraphQlError, PartialData};

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a Konvert call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The variables could not be serialized into the request body; nothing was sent.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded (e.g. "GraphQL variables").
        what: &'static str,
        /// Why, without the variables' values.
        #[source]
        source: oauth_flow::JsonError,
    },

    /// The GraphQL endpoint answered 401 even after one renewed credential: the token or JWT
    /// was refused (wrong secret, expired, unknown key).
    #[error("the Konvert API refused the credentials (HTTP 401){}", first_message(.errors))]
    Unauthorized {
        /// GraphQL errors of the body, if it had any.
        errors: Vec<GraphQlError>,
        /// A bounded excerpt of the body.
        excerpt: String,
    },

    /// 429 or 503 persisted past the retry budget.
    #[error("Konvert is rate limiting or unavailable (HTTP {status}) after {attempts} attempts")]
    RateLimited {
        /// The last status (429 or 503).
        status: u16,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last `Retry-After` Konvert sent, if any.
        retry_after: Option<Duration>,
    },

    /// The GraphQL endpoint answered with a non-2xx status other than 401 and other than a
    /// 429/503 past the retry budget ([`Error::RateLimited`]).
    #[error("the Konvert API answered HTTP {status}{}", first_message(.errors))]
    Api {
        /// The status code.
        status: u16,
        /// GraphQL errors of the body, if it had any.
        errors: Vec<GraphQlError>,
        /// A bounded excerpt of the body.
        excerpt: String,
    },

    /// A 200 response with `errors` and no `data`: the operation failed as a whole.
    #[error("the GraphQL operation failed{}", first_message(.errors))]
    GraphQl {
        /// The errors, as sent (at least one).
        errors: Vec<GraphQlError>,
    },

    /// A 200 response with `data` *and* `errors`: some fields failed and are null. The data is
    /// kept; decode it with [`PartialData::decode`], or call
    /// [`KonvertClient::query_partial`](crate::KonvertClient::query_partial) to accept it.
    #[error("the GraphQL response holds partial data{}", first_message(&.0.errors))]
    PartialData(PartialData),

    /// The response is not a GraphQL response, or its `data` does not match the operation's
    /// types.
    #[error("could not decode {what}")]
    Decode {
        /// What was decoded (e.g. "GraphQL response", "token response").
        what: String,
        /// Where and why, without values from the body.
        #[source]
        source: oauth_flow::JsonError,
    },

    /// [`KonvertClient::list_all_contacts`](crate::KonvertClient::list_all_contacts) reached a
    /// bound of the client's [`PageLimits`](oauth_flow::PageLimits) while `hasNextPage` was
    /// still true; nothing is returned as if it were everything.
    #[error(transparent)]
    PageLimitExceeded(#[from] oauth_flow::PageLimitExceeded),

    /// No response: the request could not be sent, timed out, or its body exceeded the cap.
    /// The core's [`Transport`](oauth_flow::Error::Transport),
    /// [`Timeout`](oauth_flow::Error::Timeout) or
    /// [`BodyTooLarge`](oauth_flow::Error::BodyTooLarge).
    #[error(transparent)]
    Transport(oauth_flow::Error),

    /// The token store failed (the core's [`Store`](oauth_flow::Error::Store) or
    /// [`LeaseTimeout`](oauth_flow::Error::LeaseTimeout)).
    #[error(transparent)]
    Store(oauth_flow::Error),

    /// The configuration is invalid (the base URL, the API key); nothing was sent.
    #[error(transparent)]
    Config(ConfigError),

    /// Any other failure of the OAuth core, e.g. the token endpoint's answer to the client
    /// credentials grant (`invalid_client`).
    #[error(transparent)]
    OAuth(oauth_flow::Error),
}

impl From<oauth_flow::Error> for Error {
    // Konvert has no user login: no callback and no re-authorization, so those stay `OAuth`.
    fn from(e: oauth_flow::Error) -> Self {
        match e {
            oauth_flow::Error::Config(c) => Error::Config(c),
            oauth_flow::Error::RateLimited {
                status,
                attempts,
                retry_after,
            } => Error::RateLimited {
                status,
                attempts,
                retry_after,
            },
            e @ (oauth_flow::Error::Transport { .. }
            | oauth_flow::Error::Timeout
            | oauth_flow::Error::BodyTooLarge { .. }) => Error::Transport(e),
            e @ (oauth_flow::Error::Store { .. } | oauth_flow::Error::LeaseTimeout { .. }) => {
                Error::Store(e)
            }
            oauth_flow::Error::Decode { what, source } => Error::Decode {
                what: what.to_owned(),
                source,
            },
            oauth_flow::Error::Encode { what, source } => Error::Encode { what, source },
            other => Error::OAuth(other),
        }
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
            Self::Unauthorized { .. } => Some(401),
            Self::Api { status, .. } | Self::RateLimited { status, .. } => Some(*status),
            Self::OAuth(e) => e.status(),
            Self::Encode { .. }
            | Self::GraphQl { .. }
            | Self::PartialData(_)
            | Self::Decode { .. }
            | Self::PageLimitExceeded(_)
            | Self::Transport(_)
            | Self::Store(_)
            | Self::Config(_) => None,
        }
    }

    /// How long Konvert asked to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether a user must go through an authorization flow again. Always `false` for
    /// Konvert: there is no user grant, only the API key and secret, from which the SDK
    /// obtains a new token (or signs a new JWT) by itself whenever one is due or refused once.
    /// Credentials Konvert keeps refusing are [`Error::Unauthorized`] (the API) or an
    /// `invalid_client` [`Error::OAuth`] (the token endpoint), fixed by a correct key and
    /// secret, not by authorizing again. Present so code written against every SDK of this
    /// workspace reads the same.
    pub fn is_reauthorization_required(&self) -> bool {
        false
    }

    /// Whether a user refused the authorization on the provider's consent page. Always
    /// `false` for Konvert: its API key and secret authenticate a service connection, with no
    /// consent page and no callback that could carry `access_denied`. Present so code written
    /// against every SDK of this workspace reads the same.
    pub fn is_access_denied(&self) -> bool {
        false
    }

    /// The GraphQL errors carried by this error, if any.
    pub fn graphql_errors(&self) -> &[GraphQlError] {
        match self {
            Self::Unauthorized { errors, .. }
            | Self::Api { errors, .. }
            | Self::GraphQl { errors } => errors,
            Self::PartialData(p) => &p.errors,
            Self::Encode { .. }
            | Self::Decode { .. }
            | Self::PageLimitExceeded(_)
            | Self::RateLimited { .. }
            | Self::Transport(_)
            | Self::Store(_)
            | Self::Config(_)
            | Self::OAuth(_) => &[],
        }
    }
}

/// `: <first message> (<code>)`, plus how many more, bounded.
fn first_message(errors: &[GraphQlError]) -> String {
    let Some(first) = errors.first() else {
        return String::new();
    };
    let mut out = format!(": {}", oauth_flow::__private::truncate(&first.message, 200));
    if let Some(code) = first.code() {
        out.push_str(&format!(" ({})", oauth_flow::__private::truncate(code, 64)));
    }
    if errors.len() > 1 {
        out.push_str(&format!(" and {} more", errors.len() - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn graphql_error(message: &str) -> GraphQlError {
        GraphQlError {
            message: message.into(),
            locations: Vec::new(),
            path: Vec::new(),
            extensions: Map::from_iter([("code".to_owned(), json!("FORBIDDEN"))]),
        }
    }

    /// Issue 20: the helpers every SDK's error has, as Konvert fills them.
    #[test]
    fn shared_helpers() {
        let limited = Error::from(oauth_flow::Error::RateLimited {
            status: 429,
            attempts: 3,
            retry_after: Some(Duration::from_secs(7)),
        });
        assert_eq!(limited.status(), Some(429));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        let refused = Error::Unauthorized {
            errors: vec![graphql_error("token expired")],
            excerpt: "{}".into(),
        };
        assert_eq!(refused.status(), Some(401));
        assert_eq!(refused.retry_after(), None);
        let invalid_client = Error::from(oauth_flow::Error::from(oauth_flow::OAuthError::new(
            Some(401),
            "invalid_client",
            None,
            None,
        )));
        assert_eq!(invalid_client.status(), Some(401));
        for e in [&limited, &refused, &invalid_client] {
            assert!(!e.is_reauthorization_required(), "{e:?}");
            assert!(!e.is_access_denied(), "{e:?}");
        }
    }

    /// Issue 18 part 3: formatted with its source chain (anyhow's `{:#}`), no error repeats a
    /// message of the chain inside another.
    #[test]
    fn no_message_repeats_in_any_source_chain() {
        let errors: Vec<Error> = vec![
            Error::Encode {
                what: "GraphQL variables",
                source: oauth_flow::JsonError::shape("not an object"),
            },
            Error::Unauthorized {
                errors: vec![graphql_error("token expired")],
                excerpt: "{}".into(),
            },
            Error::Api {
                status: 500,
                errors: vec![graphql_error("boom"), graphql_error("again")],
                excerpt: "{}".into(),
            },
            Error::GraphQl {
                errors: vec![graphql_error("no such contact")],
            },
            Error::PartialData(PartialData {
                data: Value::Null,
                errors: vec![graphql_error("enrichment failed")],
            }),
            Error::Decode {
                what: "GraphQL response".into(),
                source: oauth_flow::JsonError::shape("neither `data` nor `errors`"),
            },
            Error::from(oauth_flow::PageLimits::new().check_pages(100).unwrap_err()),
            oauth_flow::Error::from(oauth_flow::OAuthError::new(
                Some(401),
                "invalid_client",
                Some("client authentication failed"),
                None,
            ))
            .into(),
            oauth_flow::Error::from(oauth_flow::ConfigError::EmptyKey).into(),
            oauth_flow::Error::Store {
                key: oauth_flow::GrantKey::new("konvert", "client", "app"),
                message: "could not load the token".into(),
                source: Some(Box::new(std::io::Error::other("disk gone"))),
            }
            .into(),
        ];
        for e in &errors {
            let chain = oauth_flow::test_util::source_chain(e).join(": ");
            assert_eq!(oauth_flow::test_util::repeated_in_chain(e), None, "{chain}");
        }
    }
}
