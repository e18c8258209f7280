//! HS256 JSON Web Tokens, implemented here (HMAC-SHA-256 over SHA-256) so the sandbox checks
//! the SDKs' tokens with code independent of theirs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url segments of JSON objects.
    Malformed,
    /// The header `alg` is not exactly `HS256` (or `typ` is present and not `JWT`).
    Algorithm(String),
    /// The signature does not verify.
    Signature,
}

impl JwtError {
    pub(crate) fn describe(&self) -> String {
        match self {
            JwtError::Malformed => "the token is not a well-formed JWT".to_owned(),
            JwtError::Algorithm(a) => format!("JWT alg {a:?} is not accepted; only HS256"),
            JwtError::Signature => "the JWT signature does not verify".to_owned(),
        }
    }
}

/// HMAC-SHA-256 (RFC 2104).
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Signs `claims` with header `{"alg":"HS256","typ":"JWT"}`.
pub(crate) fn sign_hs256(claims: &Value, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(hmac_sha256(key, input.as_bytes()));
    format!("{input}.{sig}")
}

/// A decoded JWT header and claims.
pub(crate) type HeaderClaims = (Map<String, Value>, Map<String, Value>);

/// Splits and decodes a JWT without verifying it.
pub(crate) fn decode_unverified(token: &str) -> Result<HeaderClaims, JwtError> {
    let (h, c, _, _) = split(token)?;
    Ok((h, c))
}

type Parts<'a> = (Map<String, Value>, Map<String, Value>, &'a str, Vec<u8>);

fn split(token: &str) -> Result<Parts<'_>, JwtError> {
    let mut it = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(JwtError::Malformed);
    };
    let obj = |seg: &str| -> Result<Map<String, Value>, JwtError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(seg)
            .map_err(|_| JwtError::Malformed)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(JwtError::Malformed),
        }
    };
    let header = obj(h)?;
    let claims = obj(c)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
    let input_len = h.len() + 1 + c.len();
    Ok((header, claims, &token[..input_len], sig))
}

/// Verifies an HS256 JWT: header `alg` exactly `HS256` (`none`, HS384, RS256… refused), `typ`
/// absent or `JWT`, signature compared in constant time. Returns the claims; time claims are
/// the caller's business.
pub(crate) fn verify_hs256(token: &str, key: &[u8]) -> Result<Map<String, Value>, JwtError> {
    let (header, claims, input, sig) = split(token)?;
    match header.get("alg") {
        Some(Value::String(a)) if a == "HS256" => {}
        Some(Value::String(a)) => return Err(JwtError::Algorithm(a.clone())),
        _ => return Err(JwtError::Algorithm(String::new())),
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(t)) if t == "JWT" => {}
        Some(_) => return Err(JwtError::Malformed),
    }
    let expected = hmac_sha256(key, input.as_bytes());
    if sig.len() != expected.len() || !bool::from(expected.ct_eq(sig.as_slice())) {
        return Err(JwtError::Signature);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_long_key() {
        // RFC 4231 test case 6: 131-byte key.
        let key = [0xaau8; 131];
        assert_eq!(
            hex(&hmac_sha256(
                &key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn sign_verify_roundtrip_and_alg_pinning() {
        let t = sign_hs256(&serde_json::json!({"sub":"k"}), b"secret");
        assert_eq!(
            verify_hs256(&t, b"secret")
                .ok()
                .and_then(|c| c.get("sub").cloned()),
            Some("k".into())
        );
        assert_eq!(verify_hs256(&t, b"other"), Err(JwtError::Signature));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"sub":"k"}"#)
        );
        assert_eq!(
            verify_hs256(&none, b"secret"),
            Err(JwtError::Algorithm("none".into()))
        );
    }
}
