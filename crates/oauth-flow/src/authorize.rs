//! The authorization request (authorize URL, `state`, PKCE) and the callback that completes it.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use url::Url;

use crate::client::OAuthClient;
use crate::error::{CallbackError, ConfigError, OAuthError, Result};
use crate::pkce::{PkceVerifier, random_token};
use crate::profile::{Pkce, SpaceEncoding};

/// How long a pending authorization stays valid by default (SECURITY S1: state expires).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(15 * 60);

/// Parameters the core sets itself; extra parameters may not override them.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// Builds an authorize URL; obtained from [`OAuthClient::authorize`].
#[derive(Debug)]
#[must_use]
pub struct AuthorizationRequest<'a> {
    client: &'a OAuthClient,
    scopes: Vec<String>,
    params: Vec<(String, String)>,
    space: SpaceEncoding,
    max_age: Duration,
}

impl OAuthClient {
    /// Starts an authorization request for this client.
    pub fn authorize(&self) -> AuthorizationRequest<'_> {
        AuthorizationRequest {
            client: self,
            scopes: Vec::new(),
            params: Vec::new(),
            space: self.profile.space_encoding,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

impl<'a> AuthorizationRequest<'a> {
    /// Adds one scope (duplicates are dropped).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        let s = scope.into();
        if !self.scopes.contains(&s) {
            self.scopes.push(s);
        }
        self
    }
    /// Adds several scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for s in scopes {
            self = self.scope(s);
        }
        self
    }
    /// Adds a provider-specific parameter (e.g. `prompt=consent`). Reserved names are refused
    /// at [`build`](Self::build).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
    /// How spaces are encoded in the query (default: the profile's).
    pub fn space_encoding(mut self, space: SpaceEncoding) -> Self {
        self.space = space;
        self
    }
    /// How long the pending authorization may wait for its callback (default 15 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Builds the URL to send the user to, and the [`PendingAuthorization`] to keep until the
    /// callback arrives. Each call draws a fresh `state` and PKCE verifier.
    pub fn build(self) -> Result<(Url, PendingAuthorization)> {
        let client = self.client;
        let profile = &client.profile;
        let mut url = profile
            .authorize_url
            .clone()
            .ok_or(ConfigError::MissingAuthorizeUrl)?;
        let redirect = client
            .redirect_uri
            .as_ref()
            .ok_or(ConfigError::MissingRedirectUri)?;
        for (name, _) in &self.params {
            if RESERVED.contains(&name.as_str()) {
                return Err(ConfigError::ReservedParameter(name.clone()).into());
            }
        }
        // SECURITY S1: 128 bits from the OS CSPRNG.
        let state = SecretString::from(random_token(16)?);
        let verifier = match profile.pkce {
            Pkce::S256 => Some(PkceVerifier::generate()?),
            Pkce::Disabled => None,
        };

        let mut pairs: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", client.client_id.clone()),
            ("redirect_uri", redirect.raw.clone()),
        ];
        if !self.scopes.is_empty() {
            pairs.push(("scope", self.scopes.join(&profile.scope_separator)));
        }
        pairs.push(("state", state.expose_secret().to_owned()));
        if let Some(v) = &verifier {
            pairs.push(("code_challenge", v.challenge()));
            // SECURITY S3: S256 only; there is no `plain` in this API.
            pairs.push(("code_challenge_method", "S256".into()));
        }
        for (k, v) in &self.params {
            pairs.push((k.as_str(), v.clone()));
        }
        let mut query = url.query().map(str::to_owned).unwrap_or_default();
        for (k, v) in pairs {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&encode(k, self.space));
            query.push('=');
            query.push_str(&encode(&v, self.space));
        }
        url.set_query(Some(&query));

        let pending = PendingAuthorization {
            provider: profile.name.clone(),
            client_id: client.client_id.clone(),
            state,
            code_verifier: verifier
                .map(|v| SecretString::from(v.secret().expose_secret().to_owned())),
            redirect_uri: Some(redirect.raw.clone()),
            token_url: profile.token_url.to_string(),
            issuer: profile.issuer.clone(),
            issuer_required: profile.issuer_required,
            created_at: unix_now(SystemTime::now()),
            max_age_secs: self.max_age.as_secs(),
        };
        Ok((url, pending))
    }
}

fn encode(value: &str, space: SpaceEncoding) -> String {
    let plus: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    match space {
        SpaceEncoding::Plus => plus,
        // byte_serialize writes a literal '+' as %2B, so every '+' left is a space.
        SpaceEncoding::Percent20 => plus.replace('+', "%20"),
    }
}

fn unix_now(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn expose<S: serde::Serializer>(s: &SecretString, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

fn expose_opt<S: serde::Serializer>(
    s: &Option<SecretString>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(s.expose_secret()),
        None => ser.serialize_none(),
    }
}

/// The states of completed authorizations, so a restored copy of a pending authorization
/// cannot be completed twice in this process. Entries are hashed (no state is kept in clear)
/// and dropped once their pending authorization would have expired anyway, so the set holds at
/// most the authorizations completed within one maximum age. Apps running several processes
/// should also delete the pending authorization from their shared session store on use.
mod used_states {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};

    use sha2::{Digest, Sha256};

    static USED: LazyLock<Mutex<HashMap<[u8; 32], u64>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));

    /// The fingerprint under which `state` of `provider` is recorded, here and in shared
    /// stores (`TokenStore::claim_once`): no state is kept in clear.
    pub(super) fn fingerprint(provider: &str, state: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(provider.as_bytes());
        h.update([0]);
        h.update(state);
        h.finalize().into()
    }

    /// Records the state of fingerprint `key` as used until `expires` (unix seconds); false if
    /// it already was.
    pub(super) fn mark(key: [u8; 32], expires: u64, now: u64) -> bool {
        let mut used = USED.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, until| *until >= now);
        used.insert(key, expires).is_none()
    }
}

/// What the app keeps between sending the user to the provider and receiving the callback.
///
/// Serializable so a web app can park it in its session store; the serialized form holds the
/// `state` and PKCE verifier in clear, so keep it server-side (an encrypted session at least).
/// `Debug` is redacted. Completing it consumes it: each authorization is used once (S1).
#[derive(Serialize, Deserialize)]
pub struct PendingAuthorization {
    provider: String,
    client_id: String,
    #[serde(serialize_with = "expose")]
    state: SecretString,
    #[serde(serialize_with = "expose_opt", default)]
    code_verifier: Option<SecretString>,
    redirect_uri: Option<String>,
    token_url: String,
    #[serde(default)]
    issuer: Option<String>,
    /// Pinned here, not read from the profile at completion, so a pending value parked in a
    /// session keeps the rule it was started under; absent in values serialized before the
    /// setting existed, which then keep the old "checked when present" rule.
    #[serde(default)]
    issuer_required: bool,
    created_at: u64,
    max_age_secs: u64,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("state", &"[redacted]")
            .field("pkce", &self.code_verifier.is_some())
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A code returned by a completed authorization, with what the token request needs.
pub struct AuthorizedCode {
    pub(crate) code: SecretString,
    pub(crate) verifier: Option<PkceVerifier>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) provider: String,
    pub(crate) client_id: String,
    pub(crate) token_url: String,
    /// The fingerprint of the authorization's `state`, claimed in the store before the code
    /// is sent (one use across processes).
    pub(crate) state_id: [u8; 32],
    /// How long the claim must be remembered: until the authorization would have expired.
    pub(crate) state_ttl: Duration,
}

impl AuthorizedCode {
    /// The store's single-use id of this code's authorization (hex fingerprint of its state)
    /// and how long it must be remembered.
    pub(crate) fn single_use_id(&self) -> (String, Duration) {
        let hex = self.state_id.iter().map(|b| format!("{b:02x}")).collect();
        (hex, self.state_ttl)
    }
    /// The authorization code (single use, short-lived).
    pub fn code(&self) -> &SecretString {
        &self.code
    }
    /// The provider this code belongs to.
    pub fn provider(&self) -> &str {
        &self.provider
    }
}

impl fmt::Debug for AuthorizedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedCode")
            .field("provider", &self.provider)
            .field("code", &"[redacted]")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    /// The provider name this authorization belongs to.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Checks the callback (full redirect URL, or just its query string) and returns the code.
    ///
    /// Order of checks (SECURITY S1, S4, S6, S7): the callback must arrive on the registered
    /// redirect URI, carry each parameter once, carry the expected `state` (compared in constant
    /// time), carry a matching `iss` when present (or always, if the profile
    /// [requires it](crate::ProfileBuilder::require_issuer)), then either an `error` or a `code`.
    pub fn complete(self, callback: &str) -> Result<AuthorizedCode> {
        self.complete_at(callback, SystemTime::now())
    }

    /// [`complete`](Self::complete) with an explicit current time (for tests).
    pub fn complete_at(self, callback: &str, now: SystemTime) -> Result<AuthorizedCode> {
        let params = self.parse_callback(callback)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };

        self.check_state_param(get("state"))?;
        let expected = self.state.expose_secret().as_bytes();
        let state_id = used_states::fingerprint(&self.provider, expected);
        let expires = self.created_at.saturating_add(self.max_age_secs);
        let now = unix_now(now);
        if now > expires {
            return Err(CallbackError::Expired.into());
        }
        // SECURITY S7 (RFC 9207 §2.4): an error response is checked too, since a mix-up
        // attacker can forge one as easily as a code.
        match (get("iss"), self.issuer.as_deref()) {
            (None, _) if self.issuer_required => return Err(CallbackError::MissingIssuer.into()),
            (Some(iss), Some(issuer)) if iss != issuer => {
                return Err(CallbackError::IssuerMismatch.into());
            }
            // Required with nothing pinned to compare with: only an edited pending value.
            (Some(_), None) if self.issuer_required => {
                return Err(CallbackError::IssuerMismatch.into());
            }
            _ => {}
        }
        match (get("code"), get("error")) {
            (Some(_), Some(_)) => Err(CallbackError::CodeAndError.into()),
            (None, Some(error)) => Err(CallbackError::Provider(OAuthError::new(
                None,
                error,
                get("error_description"),
                get("error_uri"),
            ))
            .into()),
            (None, None) => Err(CallbackError::MissingCode.into()),
            (Some(""), None) => Err(CallbackError::MissingCode.into()),
            // SECURITY S1: a state yields at most one code, even if the app restored two
            // copies of this pending authorization from its session store.
            (Some(_), None) if !used_states::mark(state_id, expires, now) => {
                Err(CallbackError::AlreadyUsed.into())
            }
            (Some(code), None) => Ok(AuthorizedCode {
                state_id,
                state_ttl: Duration::from_secs(expires.saturating_sub(now).max(1)),
                code: SecretString::from(code.to_owned()),
                verifier: self
                    .code_verifier
                    .map(|v| PkceVerifier::parse(v.expose_secret().to_owned()))
                    .transpose()?,
                redirect_uri: self.redirect_uri,
                provider: self.provider,
                client_id: self.client_id,
                token_url: self.token_url,
            }),
        }
    }

    /// Checks only that `callback` carries this authorization's `state` (constant time), on
    /// the registered redirect URI and without repeated parameters, leaving the authorization
    /// usable: a receiver that sees stray requests (a loopback listener, SECURITY S5) can refuse
    /// them and keep waiting for the real callback, then [`complete`](Self::complete) it.
    pub fn check_state(&self, callback: &str) -> Result<(), CallbackError> {
        let params = self.parse_callback(callback)?;
        let state = params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.as_str());
        self.check_state_param(state)
    }

    /// The redirect URI this authorization was started with; the token request sends it again
    /// byte-identical (SECURITY S4).
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    fn check_state_param(&self, state: Option<&str>) -> Result<(), CallbackError> {
        let state = state.ok_or(CallbackError::MissingState)?;
        let expected = self.state.expose_secret().as_bytes();
        if !bool::from(state.as_bytes().ct_eq(expected)) {
            return Err(CallbackError::StateMismatch);
        }
        Ok(())
    }

    fn parse_callback(&self, callback: &str) -> Result<Vec<(String, String)>, CallbackError> {
        let callback = callback.trim();
        let query = if callback.contains("://") {
            let url = Url::parse(callback).map_err(|_| CallbackError::Malformed)?;
            if let Some(registered) = &self.redirect_uri {
                let registered = Url::parse(registered).map_err(|_| CallbackError::Malformed)?;
                let same = url.scheme() == registered.scheme()
                    && url.host() == registered.host()
                    && url.port_or_known_default() == registered.port_or_known_default()
                    && url.path() == registered.path();
                if !same {
                    return Err(CallbackError::RedirectMismatch);
                }
            }
            url.query().unwrap_or("").to_owned()
        } else {
            callback.strip_prefix('?').unwrap_or(callback).to_owned()
        };
        let mut seen = HashSet::new();
        let mut params = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if !seen.insert(k.clone().into_owned()) {
                return Err(CallbackError::DuplicateParameter(crate::error::truncate(
                    &k, 64,
                )));
            }
            params.push((k.into_owned(), v.into_owned()));
        }
        Ok(params)
    }
}
