//! Token responses (RFC 6749 §5.1) and error responses (§5.2).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, OAuthError, Result, excerpt};
use crate::json_error::JsonError;
use crate::request::HttpResponse;

/// The longest lifetime believed from `expires_in`; larger values are clamped (SECURITY S12).
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A token set issued by the provider. Secrets are [`SecretString`]s; `Debug` hides them.
#[derive(Clone, Serialize, Deserialize)]
pub struct Token {
    /// The access token.
    #[serde(serialize_with = "ser_secret")]
    pub access_token: SecretString,
    /// The token type as sent (always `Bearer`, compared case-insensitively).
    pub token_type: String,
    /// When the access token expires, if known (from `expires_in`, or the JWT `exp` claim).
    #[serde(default, with = "unix_opt")]
    pub expires_at: Option<SystemTime>,
    /// When the token request was sent, if known: with `expires_at` it gives the token's
    /// lifetime, which bounds the refresh margin (a 60 s token is not "due" on arrival).
    #[serde(default, with = "unix_opt", skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<SystemTime>,
    /// The refresh token, if one was issued.
    #[serde(default, serialize_with = "ser_secret_opt")]
    pub refresh_token: Option<SecretString>,
    /// The granted scope as sent (space-separated), if the provider said.
    #[serde(default)]
    pub scope: Option<String>,
    /// Every other field of the response, kept as sent (may include secrets such as an
    /// `id_token`: treat with care; `Debug` prints only the names).
    #[serde(default)]
    pub extra: Map<String, Value>,
}

impl Token {
    /// The granted scopes, split on spaces.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .as_deref()
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Whether the access token is expired or expires within `margin` of `now`. A token with
    /// no known expiry is considered valid (it is refreshed on a 401).
    pub fn expires_within(&self, margin: Duration, now: SystemTime) -> bool {
        match self.expires_at {
            Some(at) => now + margin >= at,
            None => false,
        }
    }

    /// When this token should be refreshed given the `margin`: `expires_at - margin`, with the
    /// margin capped at half the token's lifetime when the lifetime is known, so that a token
    /// living no longer than the margin is not due the moment it arrives. `None`: no known
    /// expiry (refreshed on a 401 only).
    pub fn refresh_due(&self, margin: Duration) -> Option<SystemTime> {
        let at = self.expires_at?;
        let margin = match self.issued_at.and_then(|i| at.duration_since(i).ok()) {
            Some(lifetime) => margin.min(lifetime / 2),
            None => margin,
        };
        Some(at.checked_sub(margin).unwrap_or(at))
    }

    /// Whether the token is due for a refresh at `now` (see [`refresh_due`](Self::refresh_due)).
    pub fn is_due(&self, margin: Duration, now: SystemTime) -> bool {
        self.refresh_due(margin).is_some_and(|due| now >= due)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn ser_secret<S: serde::Serializer>(s: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

fn ser_secret_opt<S: serde::Serializer>(
    s: &Option<SecretString>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(s.expose_secret()),
        None => ser.serialize_none(),
    }
}

mod unix_opt {
    use super::*;
    pub fn serialize<S: serde::Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        let secs: Option<u64> = Option::deserialize(d)?;
        // `checked_add`: a stored value past what `SystemTime` holds (u64::MAX seconds) is a
        // decode error, not an overflow panic.
        secs.map(|s| {
            UNIX_EPOCH
                .checked_add(Duration::from_secs(s))
                .ok_or_else(|| serde::de::Error::custom("`expires_at` is out of range"))
        })
        .transpose()
    }
}

/// Parses a token endpoint response. `sent_at` is when the request was sent: `expires_at` is
/// `sent_at + expires_in` so network latency shortens, never lengthens, the believed lifetime.
pub fn parse_token_response(resp: &HttpResponse, sent_at: SystemTime) -> Result<Token> {
    let status = resp.status.as_u16();
    if !resp.status.is_success() {
        return Err(error_from_response(resp));
    }
    let body: Value =
        serde_json::from_slice(&resp.body).map_err(|e| Error::decode("token response", &e))?;
    let Value::Object(mut map) = body else {
        return Err(Error::Decode {
            what: "token response",
            source: JsonError::shape("not a JSON object"),
        });
    };
    // SECURITY S11: an `error` in a 200 is still an error.
    if let Some(Value::String(code)) = map.get("error") {
        return Err(OAuthError::new(
            Some(status),
            code,
            map.get("error_description").and_then(Value::as_str),
            map.get("error_uri").and_then(Value::as_str),
        )
        .into());
    }
    let access_token = match map.remove("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(Error::MissingField("access_token"));
        }
        Some(_) => {
            return Err(Error::Decode {
                what: "token response",
                source: JsonError::shape("`access_token` is not a string"),
            });
        }
    };
    if !header_safe(&access_token) {
        return Err(Error::InvalidTokenCharacters);
    }
    let token_type = match map.remove("token_type") {
        Some(Value::String(s)) => s,
        _ => return Err(Error::MissingField("token_type")),
    };
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(Error::UnsupportedTokenType(crate::error::truncate(
            &token_type,
            32,
        )));
    }
    let refresh_token = match map.remove("refresh_token") {
        Some(Value::String(s)) if !s.is_empty() => Some(SecretString::from(s)),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(_) => {
            return Err(Error::Decode {
                what: "token response",
                source: JsonError::shape("`refresh_token` is not a string"),
            });
        }
    };
    let expires_in = match map.remove("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_expires_in(&v)?),
    };
    let expires_at = match expires_in {
        Some(d) => Some(sent_at.checked_add(d).unwrap_or(sent_at + MAX_LIFETIME)),
        // Access tokens that are JWTs carry their own expiry: see `jwt_expiry`.
        None => jwt_expiry(&access_token),
    };
    let scope = match map.remove("scope") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    };
    Ok(Token {
        access_token: SecretString::from(access_token),
        token_type,
        expires_at,
        issued_at: Some(sent_at),
        refresh_token,
        scope,
        extra: map,
    })
}

/// `expires_in` as a number or a numeric string; negative is an error, huge is clamped
/// (SECURITY S12).
fn parse_expires_in(v: &Value) -> Result<Duration> {
    let bad = |detail: &str| Error::Decode {
        what: "token response",
        source: JsonError::shape(format!("`expires_in` {detail}")),
    };
    let secs: f64 = match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad("is not a number"))?,
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| bad("is not a numeric string"))?,
        _ => return Err(bad("is not a number")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad("is negative or not finite"));
    }
    Ok(Duration::from_secs_f64(
        secs.min(MAX_LIFETIME.as_secs_f64()),
    ))
}

fn header_safe(token: &str) -> bool {
    token.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Maps a non-success token endpoint response to an error: an RFC 6749 §5.2 body becomes
/// [`Error::OAuth`], anything else (an HTML 502 page, a redirect) [`Error::HttpStatus`] with a
/// bounded excerpt.
pub fn error_from_response(resp: &HttpResponse) -> Error {
    let status = resp.status.as_u16();
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&resp.body)
        && let Some(Value::String(code)) = map.get("error")
    {
        return OAuthError::new(
            Some(status),
            code,
            map.get("error_description").and_then(Value::as_str),
            map.get("error_uri").and_then(Value::as_str),
        )
        .into();
    }
    Error::HttpStatus {
        status,
        excerpt: excerpt(&resp.body),
    }
}

/// The claims of a JWT, decoded **without verifying its signature**.
///
/// For information only (display, scheduling a refresh). Never base an authorization decision
/// on them: anyone can forge an unsigned payload. Returns `None` if `token` is not a JWT.
pub fn jwt_claims_unverified(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// The `exp` claim of a JWT access token, read without verification.
///
/// This is safe here because the value only schedules a refresh: the token came straight from
/// the token endpoint over TLS, and the resource server stays the authority on its validity. A
/// wrong `exp` can only make the client refresh early, or late, in which case the API's 401
/// triggers the refresh anyway.
pub fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let exp = jwt_claims_unverified(token)?.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp < 0.0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs_f64(exp.min(4_102_444_800.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use http::StatusCode;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }
    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }
    fn parse(status: u16, body: &str) -> Result<Token> {
        parse_token_response(&resp(status, body), t0())
    }

    #[test]
    fn askara_seed_response() {
        let t = parse(
            200,
            r#"{"token_type":"Bearer","expires_in":86400,"access_token":"ACCESS_TOKEN","refresh_token":"REFRESH_TOKEN"}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.expose_secret(), "ACCESS_TOKEN");
        assert_eq!(t.refresh_token.unwrap().expose_secret(), "REFRESH_TOKEN");
        assert_eq!(t.expires_at, Some(t0() + Duration::from_secs(86400)));
    }

    #[test]
    fn kustomer_seed_response_lowercase_bearer_and_scope() {
        let t = parse(
            200,
            r#"{"scope":"org.permission.customer org.permission.conversation offline_access","token_type":"bearer","access_token":"A","expires_in":86400,"refresh_token":"R"}"#,
        )
        .unwrap();
        assert_eq!(
            t.scopes(),
            vec![
                "org.permission.customer",
                "org.permission.conversation",
                "offline_access"
            ]
        );
        assert_eq!(t.token_type, "bearer");
    }

    #[test]
    fn konvert_seed_response_jwt_without_refresh() {
        let t = parse(
            200,
            r#"{ "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ5b3VyQXBpS2V5IiwiaWF0IjoxNzQ2ODE4NzIyLCJleHAiOjE3NDY4MjA1MjJ9.TH_eykUrFVHxKCmjzu-KUviJLcwnIKxd5bWA86d6Y7g", "token_type": "Bearer", "expires_in": 21600 }"#,
        )
        .unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.expires_at, Some(t0() + Duration::from_secs(21600)));
    }

    #[test]
    fn konpro_style_response_with_extra_fields_kept() {
        let t = parse(
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","user_id":42}"#,
        )
        .unwrap();
        assert_eq!(t.extra.get("user_id"), Some(&Value::from(42)));
    }

    #[test]
    fn jwt_exp_is_used_when_expires_in_is_absent() {
        // payload {"sub":"yourApiKey","iat":1746818722,"exp":1746820522}
        let t = parse(
            200,
            r#"{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ5b3VyQXBpS2V5IiwiaWF0IjoxNzQ2ODE4NzIyLCJleHAiOjE3NDY4MjA1MjJ9.x","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(
            t.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_746_820_522))
        );
        let opaque = parse(200, r#"{"access_token":"opaque","token_type":"Bearer"}"#).unwrap();
        assert_eq!(opaque.expires_at, None);
    }

    #[test]
    fn s12_expires_in_forms() {
        let s = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"3600"}"#,
        )
        .unwrap();
        let n = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(s.expires_at, n.expires_at);
        let huge = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(huge.expires_at, Some(t0() + MAX_LIFETIME));
        let neg = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":-5}"#,
        );
        assert!(matches!(neg, Err(Error::Decode { .. })));
        let word = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"soon"}"#,
        );
        assert!(matches!(word, Err(Error::Decode { .. })));
    }

    #[test]
    fn s11_token_type_and_access_token_checks() {
        assert!(parse(200, r#"{"access_token":"a","token_type":"BEARER"}"#).is_ok());
        assert!(matches!(
            parse(200, r#"{"access_token":"a","token_type":"mac"}"#),
            Err(Error::UnsupportedTokenType(t)) if t == "mac"
        ));
        assert!(matches!(
            parse(200, r#"{"token_type":"bearer"}"#),
            Err(Error::MissingField("access_token"))
        ));
        assert!(matches!(
            parse(200, r#"{"access_token":"","token_type":"bearer"}"#),
            Err(Error::MissingField("access_token"))
        ));
        assert!(matches!(
            parse(
                200,
                "{\"access_token\":\"a\\r\\nX-Evil: 1\",\"token_type\":\"bearer\"}"
            ),
            Err(Error::InvalidTokenCharacters)
        ));
        assert!(matches!(
            parse(200, r#"{"error":"invalid_grant"}"#),
            Err(Error::OAuth(e)) if e.code == ErrorCode::InvalidGrant
        ));
    }

    #[test]
    fn malformed_bodies_are_decode_errors_without_echo() {
        for body in [
            "",
            "not json",
            "[1,2]",
            "{\"access_token\": 12345, \"token_type\":\"bearer\"}",
        ] {
            let err = parse(200, body).unwrap_err();
            assert!(matches!(err, Error::Decode { .. }), "{body}: {err}");
            assert!(!err.to_string().contains("12345"));
        }
    }

    #[test]
    fn s13_error_bodies() {
        let e = parse(
            400,
            r#"{"error":"invalid_grant","error_description":"The refresh token is invalid","error_uri":"https://docs.example/e"}"#,
        )
        .unwrap_err();
        match e {
            Error::OAuth(e) => {
                assert_eq!(e.code, ErrorCode::InvalidGrant);
                assert_eq!(e.status, Some(400));
                assert_eq!(e.uri.as_deref(), Some("https://docs.example/e"));
            }
            other => panic!("{other:?}"),
        }
        let e = parse(400, r#"{"error":"slow_down"}"#).unwrap_err();
        assert_eq!(e.oauth_code(), Some(&ErrorCode::Other("slow_down".into())));
        let html = format!(
            "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
            "x".repeat(4000)
        );
        match parse(502, &html).unwrap_err() {
            Error::HttpStatus { status, excerpt } => {
                assert_eq!(status, 502);
                assert!(excerpt.starts_with("<html><body><h1>502 Bad Gateway"));
                assert!(excerpt.len() <= crate::error::EXCERPT_LIMIT + 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn token_debug_is_redacted_and_store_form_round_trips() {
        let t = parse(
            200,
            r#"{"access_token":"AT-SECRET","token_type":"Bearer","expires_in":60,"refresh_token":"RT-SECRET"}"#,
        )
        .unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("AT-SECRET") && !dbg.contains("RT-SECRET"));
        let json = serde_json::to_string(&t).unwrap();
        let back: Token = serde_json::from_str(&json).unwrap();
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "RT-SECRET");
        assert_eq!(back.expires_at, t.expires_at);
    }
}
