//! `cargo xtask introspect`: the standard introspection query, posted to a GraphQL endpoint,
//! written as `schema.json` (`{"data":{"__schema":…}}`, pretty-printed, one trailing newline)
//! so that introspecting an unchanged server produces no diff.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde_json::{Value, json};

/// The standard introspection query of the GraphQL reference implementation
/// (`getIntrospectionQuery()` with its default options).
pub const INTROSPECTION_QUERY: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      ...FullType
    }
    directives {
      name
      description
      locations
      args {
        ...InputValue
      }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args {
      ...InputValue
    }
    type {
      ...TypeRef
    }
    isDeprecated
    deprecationReason
  }
  inputFields {
    ...InputValue
  }
  interfaces {
    ...TypeRef
  }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes {
    ...TypeRef
  }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
              }
            }
          }
        }
      }
    }
  }
}
"#;

/// Largest introspection response accepted.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Why introspection failed. Messages never contain the bearer token.
#[derive(Debug)]
pub enum IntrospectError {
    /// The endpoint is not a URL, or is plain http on a host that is not loopback.
    Endpoint(String),
    /// The request failed before a response arrived.
    Transport(reqwest::Error),
    /// The server answered with a non-2xx status.
    Status {
        /// The status code.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// The body is not a GraphQL response holding `data.__schema`, or it carries `errors`.
    Response(String),
}

impl fmt::Display for IntrospectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Endpoint(why) => write!(f, "bad endpoint: {why}"),
            Self::Transport(_) => f.write_str("the introspection request failed"),
            Self::Status { status, excerpt } => {
                write!(f, "the endpoint answered HTTP {status}: {excerpt}")
            }
            Self::Response(why) => write!(f, "unexpected introspection response: {why}"),
        }
    }
}

impl std::error::Error for IntrospectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Endpoint(_) | Self::Status { .. } | Self::Response(_) => None,
        }
    }
}

/// https anywhere, plain http only on loopback IP literals (not `localhost`).
fn check_endpoint(endpoint: &str) -> Result<Url, IntrospectError> {
    let url = Url::parse(endpoint)
        .map_err(|_| IntrospectError::Endpoint(format!("`{endpoint}` is not a URL")))?;
    oauth_flow::__private::require_secure(&url).map_err(|_| {
        IntrospectError::Endpoint("use https (plain http only for loopback IP literals)".to_owned())
    })?;
    Ok(url)
}

/// Runs the introspection query against `endpoint` (with `Authorization: Bearer <bearer>` if
/// given) and returns the schema file's contents.
pub async fn introspect(endpoint: &str, bearer: Option<&str>) -> Result<String, IntrospectError> {
    let url = check_endpoint(endpoint)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(IntrospectError::Transport)?;
    let body = json!({
        "query": INTROSPECTION_QUERY,
        "operationName": "IntrospectionQuery",
        "variables": {},
    });
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body.to_string());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.map_err(IntrospectError::Transport)?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(IntrospectError::Transport)? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(IntrospectError::Response(format!(
                "the body exceeds {MAX_BODY} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        return Err(IntrospectError::Status {
            status: status.as_u16(),
            excerpt: text.chars().take(300).collect(),
        });
    }
    schema_file(&bytes)
}

/// Turns an introspection response body into the schema file's contents.
pub fn schema_file(body: &[u8]) -> Result<String, IntrospectError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| IntrospectError::Response("the body is not JSON".to_owned()))?;
    if let Some(errors) = value.get("errors").and_then(Value::as_array)
        && let Some(first) = errors.first()
    {
        let message = first
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("(no message)");
        return Err(IntrospectError::Response(format!(
            "{} GraphQL error(s), the first: {message}",
            errors.len()
        )));
    }
    let Some(schema) = value.get("data").and_then(|d| d.get("__schema")) else {
        return Err(IntrospectError::Response(
            "no `data.__schema` in the response".to_owned(),
        ));
    };
    let file = json!({ "data": { "__schema": schema } });
    let mut text = serde_json::to_string_pretty(&file)
        .map_err(|_| IntrospectError::Response("could not format the schema".to_owned()))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbox::{Provider, Sandbox};

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        assert!(check_endpoint("https://api.konvertapp.com/api").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9/konvert/api").is_ok());
        assert!(check_endpoint("http://[::1]:9/api").is_ok());
        assert!(matches!(
            check_endpoint("http://api.konvertapp.com/api"),
            Err(IntrospectError::Endpoint(_))
        ));
        assert!(matches!(
            check_endpoint("not a url"),
            Err(IntrospectError::Endpoint(_))
        ));
    }

    #[test]
    fn graphql_errors_and_missing_schema_are_refused() {
        let err = schema_file(br#"{"data":null,"errors":[{"message":"introspection is off"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("introspection is off"), "{err}");
        assert!(matches!(
            schema_file(br#"{"data":{}}"#),
            Err(IntrospectError::Response(_))
        ));
        assert!(matches!(
            schema_file(b"<html>"),
            Err(IntrospectError::Response(_))
        ));
    }

    /// Obtains a bearer from the sandbox's Konvert token endpoint (client credentials, Basic).
    async fn sandbox_token(sb: &Sandbox) -> String {
        let creds = &sb.credentials().konvert;
        let resp = reqwest::Client::new()
            .post(format!("{}/oauth/token", sb.url(Provider::Konvert)))
            .basic_auth(&creds.api_key, Some(&creds.api_secret))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "token: {}", resp.status());
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Introspecting the running sandbox (in-process, loopback only) must reproduce the
    /// checked-in schema.json byte for byte: the schema the SDK is generated from is the one
    /// the sandbox serves.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sandbox_introspection_matches_checked_in_schema() {
        let sb = Sandbox::start().await.unwrap();
        let token = sandbox_token(&sb).await;
        let endpoint = format!("{}/api", sb.url(Provider::Konvert));
        let fresh = introspect(&endpoint, Some(&token)).await.unwrap();
        let path = crate::codegen::schema_path();
        let checked_in = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\r\n", "\n");
        assert!(
            fresh == checked_in,
            "{} differs from the sandbox's schema; run the sandbox and \
             `cargo xtask introspect --endpoint http://127.0.0.1:PORT/konvert/api --bearer VAR`, \
             then `cargo xtask codegen`",
            path.display()
        );
        sb.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn introspection_without_bearer_is_a_status_error() {
        let sb = Sandbox::start().await.unwrap();
        let endpoint = format!("{}/api", sb.url(Provider::Konvert));
        let err = introspect(&endpoint, None).await.unwrap_err();
        assert!(
            matches!(err, IntrospectError::Status { status: 401, .. }),
            "{err}"
        );
        sb.shutdown().await;
    }
}
