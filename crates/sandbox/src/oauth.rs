//! OAuth building blocks shared by the providers: random tokens, PKCE, constant-time compare,
//! RFC 6749 §5.2 error responses, `no-store` JSON, request-body parsing and the token store.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::provider::Provider;

/// `n` bytes from a CSPRNG (the thread RNG, seeded from the OS).
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    b
}

/// `prefix` + 43 base64url characters (256 random bits).
pub(crate) fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes(32)))
}

/// Constant-time string equality (the length is not secret).
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// PKCE S256: base64url(SHA-256(verifier)).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
pub(crate) fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge: 43 base64url characters.
pub(crate) fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// An RFC 6749 §5.2 error: `{"error": ..., "error_description": ...}` with `no-store`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) description: String,
    /// When set, a 401 carries `WWW-Authenticate: Basic realm="..."`.
    pub(crate) basic_realm: Option<&'static str>,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            basic_realm: None,
        }
    }
    pub(crate) fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    pub(crate) fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    pub(crate) fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    pub(crate) fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }
    pub(crate) fn with_basic_realm(mut self, realm: &'static str) -> Self {
        self.basic_realm = Some(realm);
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut resp = no_store_json(self.status, &body);
        if let (Some(realm), StatusCode::UNAUTHORIZED) = (self.basic_realm, self.status)
            && let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// A JSON response with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub(crate) fn no_store_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
        .into_response()
}

/// A plain JSON response.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// A 401 for an API call: the body given, plus
/// `WWW-Authenticate: Bearer realm="...", error="invalid_token", error_description="..."`.
pub(crate) fn bearer_challenge(
    status: StatusCode,
    realm: &str,
    error: Option<&str>,
    description: &str,
    body: &Value,
) -> Response {
    let mut resp = json(status, body);
    let mut challenge = format!("Bearer realm=\"{realm}\"");
    if let Some(e) = error {
        challenge.push_str(&format!(
            ", error=\"{e}\", error_description=\"{}\"",
            description.replace(['"', '\\'], "'")
        ));
    }
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The media type of `Content-Type`, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Parses a `application/x-www-form-urlencoded` token request. A parameter sent twice is an
/// `invalid_request` (RFC 6749 §3.2); empty values count as absent.
pub(crate) fn parse_form(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, OAuthError> {
    if media_type(headers) != "application/x-www-form-urlencoded" {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("malformed form body"))?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.contains_key(&k) {
            return Err(OAuthError::invalid_request(format!(
                "parameter {k} is repeated"
            )));
        }
        if !v.is_empty() {
            map.insert(k, v);
        }
    }
    Ok(map)
}

/// The authorization grant behind a token.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Grant {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) subject: String,
    pub(crate) scope: String,
    /// The authorization code the grant came from (revoked if that code is replayed). It also
    /// names the grant's rotation family: every token refreshed from it carries the same code.
    pub(crate) from_code: Option<String>,
    /// How many refreshes lie between the code exchange (0) and this token.
    pub(crate) generation: u32,
}

impl Grant {
    pub(crate) fn has_scope(&self, s: &str) -> bool {
        self.scope.split(' ').any(|x| x == s)
    }

    /// The grant of the tokens that replace this one at a rotation.
    pub(crate) fn rotated(mut self) -> Self {
        self.generation += 1;
        self
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct AccessRecord {
    grant: Grant,
    expires_at: i64,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
}

impl TokenProblem {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            TokenProblem::Unknown => "the access token is invalid or revoked",
            TokenProblem::Expired => "the access token expired",
        }
    }
}

/// Issued access and refresh tokens of every provider (serializable, so a sandbox's tokens can
/// outlive its process: `Sandbox::export_tokens`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TokenStore {
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, Grant>,
    /// Refresh tokens that were rotated away (reuse → `invalid_grant`), with their grant.
    rotated: HashMap<String, Grant>,
    /// Rotated refresh tokens sent again while reuse detection was on.
    reuse_detections: u64,
}

impl TokenStore {
    pub(crate) fn issue_access(&mut self, token: &str, grant: Grant, expires_at: i64) {
        self.access
            .insert(token.to_owned(), AccessRecord { grant, expires_at });
    }

    pub(crate) fn issue_refresh(&mut self, token: &str, grant: Grant) {
        self.refresh.insert(token.to_owned(), grant);
    }

    /// The grant of a live access token of `provider`.
    pub(crate) fn check_access(
        &self,
        provider: Provider,
        token: &str,
        now: i64,
    ) -> Result<Grant, TokenProblem> {
        let rec = self.access.get(token).ok_or(TokenProblem::Unknown)?;
        if rec.grant.provider != provider {
            return Err(TokenProblem::Unknown);
        }
        if now >= rec.expires_at {
            return Err(TokenProblem::Expired);
        }
        Ok(rec.grant.clone())
    }

    /// The grant of a refresh token of `provider`, left in place (no rotation).
    pub(crate) fn refresh_grant(&self, provider: Provider, token: &str) -> Option<Grant> {
        self.refresh
            .get(token)
            .filter(|g| g.provider == provider)
            .cloned()
    }

    /// Removes a refresh token (rotation); it stays known as rotated.
    pub(crate) fn rotate_out(&mut self, token: &str) {
        if let Some(grant) = self.refresh.remove(token) {
            self.rotated.insert(token.to_owned(), grant);
        }
    }

    /// Whether `token` is a refresh token of `provider` that was rotated away. With `detect`,
    /// its reuse also revokes every token its family issued after it, access and refresh
    /// (RFC 9700 §4.14.2: the server cannot tell the thief from the client), and is counted.
    pub(crate) fn spent_again(&mut self, provider: Provider, token: &str, detect: bool) -> bool {
        let Some(grant) = self.rotated.get(token).filter(|g| g.provider == provider) else {
            return false;
        };
        if detect {
            let (family, generation) = (grant.from_code.clone(), grant.generation);
            let later = |g: &Grant| {
                g.provider == provider && g.from_code == family && g.generation > generation
            };
            self.access.retain(|_, r| !later(&r.grant));
            self.refresh.retain(|_, g| !later(g));
            self.reuse_detections += 1;
        }
        true
    }

    /// Rotated refresh tokens sent again while reuse detection was on, since start.
    pub(crate) fn reuse_detections(&self) -> u64 {
        self.reuse_detections
    }

    /// Revokes every token issued from an authorization code (RFC 6749 §4.1.2, code replay).
    pub(crate) fn revoke_code_family(&mut self, code: &str) {
        let from = |g: &Grant| g.from_code.as_deref() == Some(code);
        self.access.retain(|_, r| !from(&r.grant));
        self.refresh.retain(|_, g| !from(g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_rules() {
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }
}
