//! PKCE (RFC 7636) with the S256 method only, and the random values of the authorization flow.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::{ConfigError, Error, Result};

/// `n` bytes from the operating system's CSPRNG, base64url without padding.
pub(crate) fn random_token(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| Error::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(&bytes))
}

/// A PKCE code verifier. Not `Clone` and redacted in `Debug` (SECURITY S2).
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A fresh verifier: 32 bytes from the OS CSPRNG, 43 base64url characters.
    pub fn generate() -> Result<Self> {
        Ok(Self(SecretString::from(random_token(32)?)))
    }

    /// Accepts a verifier of 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
    pub fn parse(value: impl Into<String>) -> Result<Self, ConfigError> {
        let value = value.into();
        let ok = (43..=128).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if ok {
            Ok(Self(SecretString::from(value)))
        } else {
            Err(ConfigError::InvalidVerifier)
        }
    }

    /// The S256 challenge: `BASE64URL(SHA256(verifier))`.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.expose_secret().as_bytes()))
    }

    /// The verifier as a secret, for the token request.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s2_rfc7636_appendix_b_vector() {
        let v = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(v.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn s2_generated_verifier_is_43_unreserved_chars_and_fresh() {
        let a = PkceVerifier::generate().unwrap();
        let b = PkceVerifier::generate().unwrap();
        assert_eq!(a.secret().expose_secret().len(), 43);
        assert!(PkceVerifier::parse(a.secret().expose_secret().to_owned()).is_ok());
        assert_ne!(a.secret().expose_secret(), b.secret().expose_secret());
    }

    #[test]
    fn s2_bad_verifiers_are_refused() {
        assert_eq!(
            PkceVerifier::parse("a".repeat(42)).err(),
            Some(ConfigError::InvalidVerifier)
        );
        assert!(PkceVerifier::parse("a".repeat(129)).is_err());
        assert!(PkceVerifier::parse(format!("{}+", "a".repeat(43))).is_err());
        assert!(PkceVerifier::parse("a".repeat(128)).is_ok());
    }

    #[test]
    fn s25_debug_is_redacted() {
        let v = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(format!("{v:?}"), "PkceVerifier([redacted])");
    }
}
