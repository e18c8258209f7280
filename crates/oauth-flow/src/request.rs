//! Requests and responses as plain values (sans-IO).
//!
//! Every request the core or a provider crate makes is first an [`HttpRequest`]: method, URL,
//! headers and body bytes. Tests inspect it (see [`HttpRequest::to_snapshot`]); one
//! [`Transport`](crate::Transport) sends it.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

use crate::error::{ConfigError, Error, Result};

/// A request, built but not sent.
///
/// `Debug` shows the method, the URL without its query string, header names and the body
/// length: header values and bodies may hold secrets.
#[derive(Clone)]
pub struct HttpRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// The headers. Credentials are marked sensitive.
    pub headers: HeaderMap,
    /// The body bytes (empty for none).
    pub body: Vec<u8>,
    /// The largest response body this request accepts, if lower than the transport's cap.
    max_response_bytes: Option<usize>,
}

impl HttpRequest {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: Vec::new(),
            max_response_bytes: None,
        }
    }

    /// Caps the response body of this request at `limit` bytes, below the transport's own cap
    /// when that is higher: token requests accept 64 KiB where API calls accept 1 MiB
    /// (SECURITY S10). Transports report a body over it as
    /// [`Error::BodyTooLarge`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// The response cap set by [`max_response_bytes`](Self::max_response_bytes), if any.
    pub fn response_limit(&self) -> Option<usize> {
        self.max_response_bytes
    }

    /// Sets a header from a non-secret value.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<Self> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| ConfigError::InvalidHeader(static_name(&name)))?;
        self.headers.insert(name, v);
        Ok(self)
    }

    /// Sets a header from a secret; the value is marked sensitive. This is the one line where a
    /// credential leaves its `SecretString` for a header.
    pub fn secret_header(
        mut self,
        name: HeaderName,
        prefix: &str,
        secret: &SecretString,
    ) -> Result<Self> {
        let mut v = HeaderValue::from_str(&format!("{prefix}{}", secret.expose_secret()))
            .map_err(|_| ConfigError::InvalidHeader(static_name(&name)))?;
        v.set_sensitive(true);
        self.headers.insert(name, v);
        Ok(self)
    }

    /// Sets a JSON body and its content type.
    pub fn json_body(mut self, body: &Value) -> Result<Self> {
        self.body = serde_json::to_vec(body).map_err(|e| Error::encode("request body", &e))?;
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(self)
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form_body(mut self, pairs: &[(&str, &str)]) -> Self {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k, v);
        }
        self.body = ser.finish().into_bytes();
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self
    }

    /// A JSON view of the request for snapshot tests: method, URL, query parameters, headers
    /// (lower-case names, sorted) and the body decoded as JSON or form fields.
    ///
    /// Secrets appear in clear here: tests redact them by selector (e.g.
    /// `.headers.authorization`, `.body.client_secret`).
    pub fn to_snapshot(&self) -> Value {
        let mut headers = Map::new();
        let mut names: Vec<&HeaderName> = self.headers.keys().collect();
        names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        for name in names {
            let values: Vec<Value> = self
                .headers
                .get_all(name)
                .iter()
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let v = if values.len() == 1 {
                values.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(values)
            };
            headers.insert(name.as_str().to_owned(), v);
        }
        let mut query = Map::new();
        for (k, v) in self.url.query_pairs() {
            query.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        let mut url = self.url.clone();
        url.set_query(None);
        json!({
            "method": self.method.as_str(),
            "url": url.as_str(),
            "query": query,
            "headers": headers,
            "body": decode_body(&self.headers, &self.body),
        })
    }
}

fn decode_body(headers: &HeaderMap, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/x-www-form-urlencoded") {
        let mut m = Map::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            m.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        return Value::Object(m);
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn static_name(name: &HeaderName) -> &'static str {
    match name.as_str() {
        "authorization" => "authorization",
        "content-type" => "content-type",
        "accept" => "accept",
        "user-agent" => "user-agent",
        _ => "header",
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.url.clone();
        url.set_query(None);
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &url.as_str())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// A response as received: status, headers and the (capped) body.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes, at most the transport's cap.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status`, no headers and `body`: for test doubles of
    /// [`Transport`](crate::Transport) and for feeding the decoders.
    pub fn new(status: StatusCode, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Scheme, host, port and path of a URL: what may be shown in logs and errors.
pub(crate) fn redacted_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

/// Whether `url`'s host is a loopback IP literal (`127.0.0.0/8` or `[::1]`).
///
/// The name `localhost` is not: what it resolves to is up to the resolver, the hosts file
/// and the network (SECURITY S8; RFC 8252 §8.3).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(_)) | None => false,
    }
}

/// Refuses a URL that is neither `https` nor `http` on a loopback IP literal (SECURITY S8).
pub fn require_secure(url: &Url) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(ConfigError::InsecureUrl {
            url: redacted_url(url),
        }),
    }
}

/// Parses a URL setting and checks it is secure.
pub fn parse_secure_url(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|_| ConfigError::InvalidUrl { name })?;
    require_secure(&url)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s8_plain_http_only_on_loopback() {
        assert!(parse_secure_url("u", "https://api.example.com/x").is_ok());
        assert!(parse_secure_url("u", "http://127.0.0.1:8080/x").is_ok());
        assert!(parse_secure_url("u", "http://[::1]:8080/x").is_ok());
        assert_eq!(
            parse_secure_url("u", "http://api.example.com/x?secret=1"),
            Err(ConfigError::InsecureUrl {
                url: "http://api.example.com/x".into()
            })
        );
        assert!(parse_secure_url("u", "ftp://127.0.0.1/").is_err());
        assert!(parse_secure_url("u", "not a url").is_err());
    }

    /// S8: plain http only for loopback IP literals; the name `localhost`, which the resolver
    /// may point anywhere, and names that merely start like a loopback address are refused.
    #[test]
    fn s8_http_only_for_loopback_ip_literals_not_localhost() {
        for ok in [
            "http://127.0.0.1:8080/cb",
            "http://127.0.0.5/x",
            "http://127.255.255.254/x",
            "http://[::1]:1/x",
        ] {
            assert!(parse_secure_url("u", ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://localhost:8080/cb",
            "http://LOCALHOST/x",
            "http://localhost./x",
            "http://127.0.0.1.evil.com/x",
            "http://127.0.0.1.nip.io/x",
            "http://[::ffff:7f00:1]/x",
            "http://0.0.0.0/x",
        ] {
            assert!(
                matches!(
                    parse_secure_url("u", refused),
                    Err(ConfigError::InsecureUrl { .. })
                ),
                "{refused}"
            );
        }
    }

    #[test]
    fn debug_hides_headers_and_body() {
        let req = HttpRequest::new(
            Method::POST,
            Url::parse("https://a.example/t?code=abc").unwrap(),
        )
        .secret_header(
            header::AUTHORIZATION,
            "Bearer ",
            &SecretString::from("tok-123".to_owned()),
        )
        .unwrap()
        .form_body(&[("client_secret", "s3cr3t")]);
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("tok-123"));
        assert!(!dbg.contains("s3cr3t"));
        assert!(!dbg.contains("abc"));
    }
}
