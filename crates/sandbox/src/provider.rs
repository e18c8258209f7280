//! The four emulated providers and their path prefixes.

use serde::{Deserialize, Serialize};

/// One emulated provider. Every production host of a provider maps to one path prefix of the
/// sandbox (see [`Provider::prefix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// KonPro (`app.konpro.ai`, `api.konpro.ai`) → `/konpro`.
    KonPro,
    /// Askara (`app.askara.loc`, `api.askara.ai`) → `/askara`.
    Askara,
    /// Kustomer (`api.kustomerapp.com`, `api.apps.kustomerapp.com`) → `/kustomer`.
    Kustomer,
    /// Konvert (`api.konvertapp.com` and staging) → `/konvert`.
    Konvert,
}

impl Provider {
    /// All providers.
    pub const ALL: [Provider; 4] = [
        Provider::KonPro,
        Provider::Askara,
        Provider::Kustomer,
        Provider::Konvert,
    ];

    /// The path prefix, e.g. `"/konpro"`.
    pub fn prefix(self) -> &'static str {
        match self {
            Provider::KonPro => "/konpro",
            Provider::Askara => "/askara",
            Provider::Kustomer => "/kustomer",
            Provider::Konvert => "/konvert",
        }
    }

    /// The display name, e.g. `"KonPro"`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::KonPro => "KonPro",
            Provider::Askara => "Askara",
            Provider::Kustomer => "Kustomer",
            Provider::Konvert => "Konvert",
        }
    }

    /// The default access-token lifetime in seconds (`expires_in`) of the provider's documents.
    pub fn default_access_token_lifetime(self) -> u64 {
        match self {
            Provider::KonPro => 3600,
            Provider::Askara | Provider::Kustomer => 86_400,
            Provider::Konvert => 21_600,
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
