//! Token requests for each grant, built as values for any body encoding × client
//! authentication.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

use crate::authorize::AuthorizedCode;
use crate::client::OAuthClient;
use crate::error::{ConfigError, Error, Result};
use crate::profile::{BasicEncoding, BodyEncoding, ClientAuth};
use crate::request::HttpRequest;
use crate::transport::TOKEN_RESPONSE_MAX_BODY;

/// One body field: plain, or a secret exposed only when the body is written.
enum Field<'a> {
    Plain(&'a str),
    Secret(&'a SecretString),
}

impl OAuthClient {
    /// The authorization code exchange (RFC 6749 §4.1.3), with `code_verifier` when PKCE is on.
    ///
    /// Refuses a code obtained through another provider or client (SECURITY S7: mix-up).
    pub fn exchange_code_request(&self, code: &AuthorizedCode) -> Result<HttpRequest> {
        if code.provider != self.profile.name
            || code.client_id != self.client_id
            || code.token_url != self.profile.token_url.as_str()
        {
            return Err(Error::AuthorizationMismatch);
        }
        let mut fields = vec![
            ("grant_type", Field::Plain("authorization_code")),
            ("code", Field::Secret(&code.code)),
        ];
        if let Some(uri) = &code.redirect_uri {
            fields.push(("redirect_uri", Field::Plain(uri)));
        }
        if let Some(v) = &code.verifier {
            fields.push(("code_verifier", Field::Secret(v.secret())));
        }
        self.token_request(self.profile.token_url.clone(), fields)
    }

    /// A refresh request (RFC 6749 §6), sent to the profile's refresh URL.
    pub fn refresh_request(&self, refresh_token: &SecretString) -> Result<HttpRequest> {
        let fields = vec![
            ("grant_type", Field::Plain("refresh_token")),
            ("refresh_token", Field::Secret(refresh_token)),
        ];
        self.token_request(self.profile.refresh_url().clone(), fields)
    }

    /// A client credentials request (RFC 6749 §4.4), optionally with scopes.
    /// The grant is for confidential clients only (RFC 6749 §4.4): a public client is refused.
    pub fn client_credentials_request(&self, scopes: &[&str]) -> Result<HttpRequest> {
        if self.profile.client_auth == ClientAuth::None {
            return Err(ConfigError::ConfidentialClientRequired.into());
        }
        let scope = scopes.join(&self.profile.scope_separator);
        let mut fields = vec![("grant_type", Field::Plain("client_credentials"))];
        if !scope.is_empty() {
            fields.push(("scope", Field::Plain(&scope)));
        }
        self.token_request(self.profile.token_url.clone(), fields)
    }

    fn token_request<'a>(
        &'a self,
        url: Url,
        mut fields: Vec<(&'a str, Field<'a>)>,
    ) -> Result<HttpRequest> {
        // SECURITY S10: token responses are capped apart from (and below) API bodies.
        let mut req = HttpRequest::new(Method::POST, url)
            .header(header::ACCEPT, "application/json")?
            .max_response_bytes(TOKEN_RESPONSE_MAX_BODY);
        // SECURITY S15: exactly one client authentication method per request.
        match self.profile.client_auth {
            ClientAuth::None => fields.push(("client_id", Field::Plain(&self.client_id))),
            ClientAuth::SecretPost => {
                let secret = self
                    .client_secret
                    .as_ref()
                    .ok_or(ConfigError::MissingClientSecret)?;
                fields.push(("client_id", Field::Plain(&self.client_id)));
                fields.push(("client_secret", Field::Secret(secret)));
            }
            ClientAuth::SecretBasic => {
                let secret = self
                    .client_secret
                    .as_ref()
                    .ok_or(ConfigError::MissingClientSecret)?;
                let basic = encode_basic(self.profile.basic_encoding, &self.client_id, secret)?;
                req = req.secret_header(header::AUTHORIZATION, "Basic ", &basic)?;
            }
        }
        Ok(match self.profile.encoding {
            BodyEncoding::Form => {
                let pairs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, f)| match f {
                        Field::Plain(v) => (*k, *v),
                        Field::Secret(s) => (*k, s.expose_secret()),
                    })
                    .collect();
                req.form_body(&pairs)
            }
            BodyEncoding::Json => {
                let mut map = Map::new();
                for (k, f) in fields {
                    let v = match f {
                        Field::Plain(v) => v.to_owned(),
                        Field::Secret(s) => s.expose_secret().to_owned(),
                    };
                    map.insert(k.to_owned(), Value::String(v));
                }
                req.json_body(&Value::Object(map))?
            }
        })
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))` per RFC 6749 §2.3.1 (SECURITY S14).
pub fn basic_credentials(client_id: &str, secret: &SecretString) -> SecretString {
    let enc = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let joined = format!("{}:{}", enc(client_id), enc(secret.expose_secret()));
    SecretString::from(STANDARD.encode(joined))
}

/// The base64 part of `Authorization: Basic` for `encoding`: [`basic_credentials`] for
/// [`BasicEncoding::FormUrlEncoded`], `base64(id ":" secret)` for [`BasicEncoding::Raw`].
///
/// Raw refuses a client id containing `:` ([`ConfigError::ColonInClientId`]); a secret may
/// hold any character, since the server splits at the first colon (RFC 7617 §2).
pub fn encode_basic(
    encoding: BasicEncoding,
    client_id: &str,
    secret: &SecretString,
) -> Result<SecretString> {
    match encoding {
        BasicEncoding::FormUrlEncoded => Ok(basic_credentials(client_id, secret)),
        BasicEncoding::Raw => {
            if client_id.contains(':') {
                return Err(ConfigError::ColonInClientId.into());
            }
            let joined = SecretString::from(format!("{client_id}:{}", secret.expose_secret()));
            Ok(SecretString::from(STANDARD.encode(joined.expose_secret())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s14_basic_auth_form_encodes_before_base64() {
        let b = basic_credentials("my app", &SecretString::from("p:ss%+".to_owned()));
        assert_eq!(b.expose_secret(), "bXkrYXBwOnAlM0FzcyUyNSUyQg==");
    }

    #[test]
    fn raw_basic_encodes_id_and_secret_as_given() {
        let s = SecretString::from("p:ss%+ /=".to_owned());
        let b = encode_basic(BasicEncoding::Raw, "my app", &s).unwrap();
        let decoded = STANDARD.decode(b.expose_secret()).unwrap();
        assert_eq!(decoded, b"my app:p:ss%+ /=");
    }

    #[test]
    fn raw_basic_refuses_a_colon_in_the_client_id() {
        let err = encode_basic(
            BasicEncoding::Raw,
            "a:b",
            &SecretString::from("s".to_owned()),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            crate::Error::Config(ConfigError::ColonInClientId)
        ));
    }
}
