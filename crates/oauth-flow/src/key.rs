//! The name of one grant: [`GrantKey`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Names one grant: the provider, the client, and a user or account key chosen by the app, so
/// one process can hold tokens for many users.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GrantKey {
    provider: String,
    client_id: String,
    subject: String,
}

impl GrantKey {
    /// A key for `subject`'s grant to `client_id` at `provider`.
    pub fn new(
        provider: impl Into<String>,
        client_id: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            client_id: client_id.into(),
            subject: subject.into(),
        }
    }
    /// The provider.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The user or account key.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for GrantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.provider, self.client_id, self.subject)
    }
}
