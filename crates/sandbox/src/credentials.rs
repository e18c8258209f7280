//! The fixed test credentials every sandbox accepts.
//!
//! These are **test values**, published in this file on purpose: they open nothing but a sandbox
//! on `127.0.0.1`. Plain `String`s keep tests short; production code must never hold real
//! secrets this way.

use serde::Serialize;

/// The redirect URI registered for every OAuth client of the sandbox (never followed).
pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// KonPro: public OAuth client (PKCE S256, no secret) and an API key for `X-API-KEY`.
pub const KONPRO_CLIENT_ID: &str = "konpro-sandbox-client";
/// KonPro API key, accepted by `GET /v1/pacific/account.get` as `X-API-KEY`.
pub const KONPRO_API_KEY: &str = "kp_test_0f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// Askara confidential client id.
pub const ASKARA_CLIENT_ID: &str = "askara-sandbox-client";
/// Askara client secret (sent in the JSON body of `POST /oauth2/token`).
pub const ASKARA_CLIENT_SECRET: &str = "askara_test_secret_7c0f4e1a9b2d48e6a3f5c7d9e1b3a5c7";
/// Kustomer org API key (bearer); holds every role, including `org.admin.apps`.
pub const KUSTOMER_API_KEY: &str = "kustomer_test_api_key_5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
/// Kustomer organization id (private app names are namespaced `<app>_<org_id>`).
pub const KUSTOMER_ORG_ID: &str = "5f1d3c2b4a6978e0d1c2b3a4";
/// Konvert API key: the HTTP Basic user name (client id) and the `sub` of a self-signed JWT.
pub const KONVERT_API_KEY: &str = "konvert-sandbox-key";
/// Konvert API secret: the HTTP Basic password and the HS256 key of a self-signed JWT.
pub const KONVERT_API_SECRET: &str = "konvert_test_secret_3b9e1f7a5c2d48b6a0e9f1d3c5b7a9e1";

/// Every credential of the sandbox. All values are fixed test values (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credentials {
    /// The redirect URI registered for every OAuth client: `http://127.0.0.1/callback`.
    pub redirect_uri: String,
    /// KonPro.
    pub konpro: KonProCredentials,
    /// Askara.
    pub askara: AskaraCredentials,
    /// Kustomer.
    pub kustomer: KustomerCredentials,
    /// Konvert.
    pub konvert: KonvertCredentials,
}

/// KonPro credentials: a public client (no secret) and an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KonProCredentials {
    /// OAuth client id (public client, PKCE S256 required).
    pub client_id: String,
    /// API key for the `X-API-KEY` header.
    pub api_key: String,
}

/// Askara credentials: a confidential client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AskaraCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
}

/// Kustomer credentials: an org API key. OAuth client ids and secrets are created at run time
/// through `POST /v1/apps/available` and `POST /v1/apps/available/{app}/secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KustomerCredentials {
    /// Org API key, sent as `Authorization: Bearer <api_key>`.
    pub api_key: String,
    /// Organization id, the suffix of private app names.
    pub org_id: String,
}

/// Konvert credentials: an API key and secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KonvertCredentials {
    /// API key; also the OAuth `client_id` (HTTP Basic user) and the JWT `sub`.
    pub api_key: String,
    /// API secret; also the OAuth `client_secret` (HTTP Basic password) and the HS256 JWT key.
    pub api_secret: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self::fixed()
    }
}

impl Credentials {
    /// The fixed test credentials (the same for every sandbox instance).
    pub fn fixed() -> Self {
        Self {
            redirect_uri: REDIRECT_URI.to_owned(),
            konpro: KonProCredentials {
                client_id: KONPRO_CLIENT_ID.to_owned(),
                api_key: KONPRO_API_KEY.to_owned(),
            },
            askara: AskaraCredentials {
                client_id: ASKARA_CLIENT_ID.to_owned(),
                client_secret: ASKARA_CLIENT_SECRET.to_owned(),
            },
            kustomer: KustomerCredentials {
                api_key: KUSTOMER_API_KEY.to_owned(),
                org_id: KUSTOMER_ORG_ID.to_owned(),
            },
            konvert: KonvertCredentials {
                api_key: KONVERT_API_KEY.to_owned(),
                api_secret: KONVERT_API_SECRET.to_owned(),
            },
        }
    }
}
