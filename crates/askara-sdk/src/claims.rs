//! The claims of Askara's access tokens, which are JWTs, read **without verifying the
//! signature**.
//!
//! Askara's guide points to jwt.io to "analyze the access token content": the token is a JWT
//! signed by Askara with a key the client does not have. This module decodes its payload for
//! information only (who the token is for, when it expires, which scopes it carries). The
//! values are not authenticated: never base an authorization decision on them. The SDK itself
//! uses only `exp`, and only to schedule a refresh when a token response has no `expires_in`
//! (an early or late refresh is harmless: Askara's API is the judge of the token).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

/// The claims of an access token, decoded without verifying its signature: informational only.
/// The token is a JWT signed by Askara with a key the client does not have, so the values are
/// not authenticated; never base an authorization decision on them.
///
/// Tolerant: every claim is optional, strings may also be numbers, `aud` may be a string or a
/// list, scopes are read from `scope` (space-separated string or list), `scp` or `scopes`.
/// Claims not modelled here are kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// `sub`: whom the token was issued for (an Askara user id).
    pub subject: Option<String>,
    /// `iss`: who issued the token.
    pub issuer: Option<String>,
    /// `aud`: the intended audience (usually the client id).
    pub audience: Vec<String>,
    /// `iat`: when the token was issued.
    #[serde(serialize_with = "unix_opt")]
    pub issued_at: Option<SystemTime>,
    /// `exp`: when the token expires.
    #[serde(serialize_with = "unix_opt")]
    pub expires_at: Option<SystemTime>,
    /// The scopes, if the token lists any.
    pub scopes: Vec<String>,
    /// `jti`: the token's unique id.
    pub token_id: Option<String>,
    /// Every other claim, as sent.
    pub extra: Map<String, Value>,
}

impl AccessTokenClaims {
    /// Decodes the payload of `jwt` without verifying it. `None` if `jwt` is not a JWT whose
    /// payload is a base64url JSON object.
    pub fn from_jwt(jwt: &str) -> Option<Self> {
        oauth_flow::__private::jwt_claims_unverified(jwt).map(Self::from_map)
    }

    /// Builds the claims from a decoded payload.
    pub fn from_map(mut map: Map<String, Value>) -> Self {
        let subject = map.remove("sub").and_then(string);
        let issuer = map.remove("iss").and_then(string);
        let audience = map.remove("aud").map(strings).unwrap_or_default();
        let issued_at = map.remove("iat").and_then(|v| time(&v));
        let expires_at = map.remove("exp").and_then(|v| time(&v));
        let token_id = map.remove("jti").and_then(string);
        let mut scopes = Vec::new();
        for name in ["scope", "scp", "scopes"] {
            if let Some(v) = map.remove(name) {
                for s in strings(v) {
                    for part in s.split(' ').filter(|p| !p.is_empty()) {
                        if !scopes.iter().any(|x| x == part) {
                            scopes.push(part.to_owned());
                        }
                    }
                }
            }
        }
        Self {
            subject,
            issuer,
            audience,
            issued_at,
            expires_at,
            scopes,
            token_id,
            extra: map,
        }
    }

    /// Whether the token lists `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// How long until `exp`, seen from `now` (zero once expired; `None` without `exp`).
    pub fn expires_in(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }
}

fn string(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.into_iter().filter_map(string).collect(),
        other => string(other).into_iter().collect(),
    }
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional; negative or
/// absurd values are ignored.
fn time(v: &Value) -> Option<SystemTime> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !secs.is_finite() || !(0.0..=1e12).contains(&secs) {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(secs))
}

fn unix_opt<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(v: &Value) -> String {
        // A tiny base64url encoder keeps this test free of extra dependencies.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = serde_json::to_vec(v).unwrap();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn jwt(payload: Value) -> String {
        format!(
            "{}.{}.c2ln",
            b64(&json!({"alg":"HS256","typ":"JWT"})),
            b64(&payload)
        )
    }

    #[test]
    fn reads_the_sandbox_shape() {
        let token = jwt(json!({
            "iss": "http://127.0.0.1:1/askara",
            "sub": "usr_8f2b1c9d",
            "aud": "askara-sandbox-client",
            "iat": 1_700_000_000,
            "exp": 1_700_086_400,
            "scope": "profile organization",
            "jti": "abc",
            "org": "org_1"
        }));
        let c = AccessTokenClaims::from_jwt(&token).unwrap();
        assert_eq!(c.subject.as_deref(), Some("usr_8f2b1c9d"));
        assert_eq!(c.audience, vec!["askara-sandbox-client"]);
        assert_eq!(
            c.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_700_086_400))
        );
        assert_eq!(
            c.issued_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(c.scopes, vec!["profile", "organization"]);
        assert!(c.has_scope("organization") && !c.has_scope("admin"));
        assert_eq!(c.token_id.as_deref(), Some("abc"));
        assert_eq!(c.extra.get("org"), Some(&json!("org_1")));
        assert_eq!(
            c.expires_in(UNIX_EPOCH + Duration::from_secs(1_700_086_000)),
            Some(Duration::from_secs(400))
        );
        assert_eq!(
            c.expires_in(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn tolerates_other_shapes() {
        let c = AccessTokenClaims::from_jwt(&jwt(json!({
            "sub": 42,
            "aud": ["a", "b"],
            "exp": "1700000000",
            "scp": ["profile", "profile", "organization"]
        })))
        .unwrap();
        assert_eq!(c.subject.as_deref(), Some("42"));
        assert_eq!(c.audience, vec!["a", "b"]);
        assert_eq!(
            c.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(c.scopes, vec!["profile", "organization"]);

        let empty = AccessTokenClaims::from_jwt(&jwt(json!({"exp": -5, "iat": "soon"}))).unwrap();
        assert_eq!(empty.expires_at, None);
        assert_eq!(empty.issued_at, None);
        assert!(empty.scopes.is_empty() && empty.subject.is_none());
    }

    #[test]
    fn opaque_tokens_are_not_jwts() {
        assert!(AccessTokenClaims::from_jwt("ask_at_opaque").is_none());
        assert!(AccessTokenClaims::from_jwt("a.b").is_none());
        assert!(AccessTokenClaims::from_jwt("a.!!!.c").is_none());
        assert!(AccessTokenClaims::from_jwt(&format!("x.{}.y", b64(&json!([1, 2])))).is_none());
    }
}
