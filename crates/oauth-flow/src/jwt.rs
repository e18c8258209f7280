//! Self-signed HS256 JWT bearer credentials (feature `jwt`), e.g. Konvert's API key + secret.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::credentials::{AccessToken, Authorization, CredentialSource};
use crate::error::{ConfigError, Error, Result};

/// Default margin before `exp` at which a new JWT is minted.
pub const DEFAULT_REMINT_MARGIN: Duration = Duration::from_secs(60);

/// Mints HS256 JWTs with `sub` = the API key, `iat` = now, `exp` = `iat` + lifetime, and
/// reuses each one until it nears expiry (signed once per lifetime, not per call).
///
/// The header is always `{"alg":"HS256","typ":"JWT"}`: the algorithm is not configurable
/// (SECURITY S22).
pub struct JwtSigner {
    subject: String,
    key: EncodingKey,
    lifetime: Duration,
    margin: Duration,
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<Minted>>,
}

/// A signed JWT with its `Authorization` header, built once per JWT rather than per call.
struct Minted {
    token: AccessToken,
    header: Authorization,
    exp: SystemTime,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
}

impl JwtSigner {
    /// A signer for `api_key` with `secret`, each token valid for `lifetime`, which must not
    /// exceed `cap` (Konvert: 21600 s).
    ///
    /// The provider issues the secret, so its length is not refused; an empty secret is
    /// (SECURITY S23), and one under 256 bits is logged once as a warning (no key material).
    pub fn new(
        api_key: impl Into<String>,
        secret: &SecretString,
        lifetime: Duration,
        cap: Duration,
    ) -> Result<Self> {
        let subject = api_key.into();
        if subject.is_empty() {
            return Err(ConfigError::Empty("API key").into());
        }
        let bytes = secret.expose_secret().as_bytes();
        if bytes.is_empty() {
            return Err(ConfigError::EmptyKey.into());
        }
        if bytes.len() < 32 {
            tracing::warn!(
                key_bits = bytes.len() * 8,
                "the JWT signing key is shorter than 256 bits"
            );
        }
        if lifetime > cap {
            return Err(ConfigError::LifetimeOverCap {
                requested: lifetime.as_secs(),
                cap: cap.as_secs(),
            }
            .into());
        }
        if lifetime.as_secs() == 0 {
            return Err(ConfigError::ZeroJwtLifetime.into());
        }
        Ok(Self {
            subject,
            key: EncodingKey::from_secret(bytes),
            lifetime,
            // A margin larger than a short lifetime would mint on every call.
            margin: DEFAULT_REMINT_MARGIN.min(lifetime / 4),
            clock: Arc::new(SystemClock),
            cached: Mutex::new(None),
        })
    }

    /// Uses `clock` instead of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configured lifetime.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A valid JWT: the cached one while it is more than the margin away from `exp`, otherwise
    /// a freshly signed one.
    pub fn token(&self) -> Result<AccessToken> {
        self.with_current(|m| m.token.clone())
    }

    /// Signs a new JWT now, whatever the cached one's expiry, and caches it for the calls that
    /// follow. `iat` and `exp` have second precision, so a JWT signed within the same second
    /// as the previous one is identical to it.
    pub fn remint(&self) -> Result<AccessToken> {
        let minted = self.minted(self.clock.now())?;
        let token = minted.token.clone();
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(minted);
        Ok(token)
    }

    /// Drops the cached JWT: the next call signs a new one (identical to the old one within
    /// the same second, as for [`remint`](Self::remint)).
    pub fn forget(&self) {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The cached JWT's `exp`, or `None` before the first one is signed or after
    /// [`forget`](Self::forget).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|m| m.exp)
    }

    /// `pick` applied to the cached JWT, signed anew first when it nears expiry.
    /// The current JWT's header, at hand without waiting (see `hooks.rs`): signing is
    /// synchronous; on an error `authorization` reports it.
    pub(crate) fn cached_authorization(&self) -> Option<Authorization> {
        self.with_current(|m| m.header.clone()).ok()
    }

    fn with_current<T>(&self, pick: impl FnOnce(&Minted) -> T) -> Result<T> {
        let now = self.clock.now();
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = cached.as_ref()
            && now + self.margin < m.exp
        {
            return Ok(pick(m));
        }
        let m = self.minted(now)?;
        let out = pick(&m);
        *cached = Some(m);
        Ok(out)
    }

    fn minted(&self, now: SystemTime) -> Result<Minted> {
        let (token, exp) = self.mint(now)?;
        Ok(Minted {
            header: Authorization::bearer(token.clone())?,
            token,
            exp,
        })
    }

    fn mint(&self, now: SystemTime) -> Result<(AccessToken, SystemTime)> {
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Jwt("the clock is before 1970".into()))?
            .as_secs();
        let exp = iat + self.lifetime.as_secs();
        let claims = Claims {
            sub: &self.subject,
            iat,
            exp,
        };
        let jwt = encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(|e| Error::Jwt(format!("{:?}", e.kind())))?;
        tracing::debug!(
            lifetime_s = self.lifetime.as_secs(),
            "minted a self-signed JWT"
        );
        Ok((
            AccessToken::new(SecretString::from(jwt)),
            UNIX_EPOCH + Duration::from_secs(exp),
        ))
    }
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("subject", &self.subject)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl CredentialSource for JwtSigner {
    async fn authorization(&self) -> Result<Authorization> {
        self.with_current(|m| m.header.clone())
    }

    async fn renew_after_unauthorized(
        &self,
        used: &Authorization,
    ) -> Result<Option<Authorization>> {
        // Mint anew only if the rejected JWT is still the cached one.
        let now = self.clock.now();
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let still_current = match (cached.as_ref(), used.token.as_ref()) {
            (Some(m), Some(u)) => m.token.same_as(u),
            _ => true,
        };
        if still_current {
            *cached = Some(self.minted(now)?);
        }
        cached
            .as_ref()
            .map(|m| Some(m.header.clone()))
            .ok_or_else(|| Error::Jwt("no token".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    const CAP: Duration = Duration::from_secs(21600);

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// A one-hour signer for `sub` with `key`, on a manual clock at 1_800_000_000.
    fn signer(sub: &str, key: &str) -> (JwtSigner, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        let s = JwtSigner::new(sub, &secret(key), Duration::from_secs(3600), CAP)
            .unwrap()
            .with_clock(clock.clone());
        (s, clock)
    }

    #[test]
    fn s22_s24_header_and_claims() {
        let (s, _clock) = signer("key-1", "a-secret-of-32-bytes-or-more!!!!");
        let t = s.token().unwrap();
        let jwt = t.secret().expose_secret().to_owned();
        let header = URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            r#"{"typ":"JWT","alg":"HS256"}"#
        );
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = decode::<serde_json::Value>(
            &jwt,
            &DecodingKey::from_secret(b"a-secret-of-32-bytes-or-more!!!!"),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "key-1");
        assert_eq!(data.claims["iat"], 1_800_000_000u64);
        assert_eq!(data.claims["exp"], 1_800_003_600u64);
    }

    #[test]
    fn s24_reused_until_margin_then_reminted() {
        let (s, clock) = signer("k", "0123456789abcdef0123456789abcdef");
        let a = s.token().unwrap();
        clock.advance(Duration::from_secs(3600 - 61));
        assert!(s.token().unwrap().same_as(&a));
        clock.advance(Duration::from_secs(31)); // exp - 30 s
        assert!(!s.token().unwrap().same_as(&a));
    }

    #[test]
    fn remint_signs_anew_and_expires_at_follows() {
        let (s, clock) = signer("k", "0123456789abcdef0123456789abcdef");
        assert_eq!(s.expires_at(), None);
        let a = s.token().unwrap();
        assert_eq!(
            s.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_800_003_600))
        );
        clock.advance(Duration::from_secs(10));
        let b = s.remint().unwrap();
        assert!(!b.same_as(&a));
        assert!(s.token().unwrap().same_as(&b));
        assert_eq!(
            s.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_800_003_610))
        );
    }

    #[test]
    fn forget_drops_the_cached_jwt() {
        let (s, clock) = signer("k", "0123456789abcdef0123456789abcdef");
        let a = s.token().unwrap();
        s.forget();
        assert_eq!(s.expires_at(), None);
        clock.advance(Duration::from_secs(1));
        assert!(!s.token().unwrap().same_as(&a));
        assert_eq!(
            s.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_800_003_601))
        );
    }

    #[test]
    fn s23_s24_config_errors() {
        assert!(matches!(
            JwtSigner::new("k", &secret(""), Duration::from_secs(60), CAP),
            Err(Error::Config(ConfigError::EmptyKey))
        ));
        assert!(matches!(
            JwtSigner::new("k", &secret("s"), Duration::from_secs(24 * 3600), CAP),
            Err(Error::Config(ConfigError::LifetimeOverCap {
                requested: 86400,
                cap: 21600
            }))
        ));
        // A short (23-byte) provider-issued key still signs.
        let s = JwtSigner::new(
            "k",
            &secret("23-bytes-provider-key!!"),
            Duration::from_secs(60),
            CAP,
        )
        .unwrap();
        assert!(s.token().is_ok());
    }
}
