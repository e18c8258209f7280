//! `cargo xtask introspect`: the standard introspection query, posted to a GraphQL endpoint,
//! written as `schema.json` (`{"data":{"__schema":…}}`, pretty-printed, one trailing newline)
//! so that introspecting an unchanged server produces no diff.
//!
//! The request authenticates with a bearer read from an environment variable, or with the
//! Konvert API key and secret read from environment variables and turned into a bearer by
//! konvert-sdk itself (client credentials or a self-signed JWT). Secrets never come from argv.

use std::fmt;
use std::time::Duration;

use konvert_sdk::{Auth, DEFAULT_JWT_LIFETIME, ExposeSecret, KonvertClient};
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
    /// An environment variable that should hold a credential is not set (or not UTF-8).
    MissingEnv(String),
    /// konvert-sdk could not obtain a bearer from the API key and secret.
    Auth(konvert_sdk::Error),
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
            Self::MissingEnv(var) => write!(f, "the environment variable `{var}` is not set"),
            Self::Auth(_) => f.write_str("could not authenticate with the API key and secret"),
        }
    }
}

impl std::error::Error for IntrospectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Auth(e) => Some(e),
            Self::Endpoint(_) | Self::Status { .. } | Self::Response(_) | Self::MissingEnv(_) => {
                None
            }
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

/// How the introspection request authenticates. Only names of environment variables are held:
/// the values are read when the request is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <value of the variable>`.
    Bearer {
        /// The variable holding the token.
        var: String,
    },
    /// A bearer obtained by konvert-sdk from the API key and secret.
    ApiKey {
        /// Client credentials or a self-signed JWT.
        mode: KeyAuth,
        /// The variable holding the API key.
        key_var: String,
        /// The variable holding the API secret.
        secret_var: String,
    },
}

/// Which of Konvert's two authentications turns the API key and secret into a bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAuth {
    /// OAuth 2.0 client credentials at `{base}/oauth/token`.
    ClientCredentials,
    /// A self-signed HS256 JWT (`sub` = the key), valid for an hour.
    Jwt,
}

/// The bearer `credentials` call for, reading variables through `env` (the process
/// environment in the binary, a map in tests). With an API key, the token endpoint is the
/// endpoint's sibling: `endpoint` must end in `/api`.
pub async fn bearer(
    endpoint: &str,
    credentials: &Credentials,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<konvert_sdk::SecretString>, IntrospectError> {
    let read = |var: &str| env(var).ok_or_else(|| IntrospectError::MissingEnv(var.to_owned()));
    let (mode, key_var, secret_var) = match credentials {
        Credentials::None => return Ok(None),
        Credentials::Bearer { var } => return Ok(Some(read(var)?.into())),
        Credentials::ApiKey {
            mode,
            key_var,
            secret_var,
        } => (mode, key_var, secret_var),
    };
    let base = check_endpoint(endpoint)?
        .as_str()
        .trim_end_matches('/')
        .strip_suffix("/api")
        .map(str::to_owned)
        .ok_or_else(|| {
            IntrospectError::Endpoint(
                "with an API key the endpoint must end in `/api` (tokens come from its sibling                  `/oauth/token`)"
                    .to_owned(),
            )
        })?;
    let (key, secret) = (read(key_var)?, read(secret_var)?.into());
    let auth = match mode {
        KeyAuth::ClientCredentials => Auth::client_credentials(key, secret),
        KeyAuth::Jwt => Auth::jwt(key, secret, DEFAULT_JWT_LIFETIME),
    };
    let client = KonvertClient::builder(auth)
        .base_url(base)
        .build()
        .map_err(IntrospectError::Auth)?;
    let token = client.access_token().await.map_err(IntrospectError::Auth)?;
    Ok(Some(token.secret().clone()))
}

/// [`introspect`] with the bearer `credentials` call for (see [`bearer`]).
pub async fn introspect_with(
    endpoint: &str,
    credentials: &Credentials,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, IntrospectError> {
    let token = bearer(endpoint, credentials, env).await?;
    introspect(endpoint, token.as_ref().map(|t| t.expose_secret())).await
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
             `cargo xtask introspect --endpoint http://127.0.0.1:PORT/konvert/api --auth jwt`, \
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

    /// The variables a test sets, without touching the process environment.
    fn env_of(vars: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn api_key(mode: KeyAuth) -> Credentials {
        Credentials::ApiKey {
            mode,
            key_var: "KONVERT_API_KEY".to_owned(),
            secret_var: "KONVERT_API_SECRET".to_owned(),
        }
    }

    /// Issue 20: with the API key and secret in environment variables, introspection
    /// authenticates itself through konvert-sdk, in both modes, and reproduces the schema.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn introspection_authenticates_with_key_and_secret_from_the_environment() {
        let sb = Sandbox::start().await.unwrap();
        let creds = &sb.credentials().konvert;
        let env = env_of(vec![
            ("KONVERT_API_KEY", creds.api_key.clone()),
            ("KONVERT_API_SECRET", creds.api_secret.clone()),
        ]);
        let endpoint = format!("{}/api", sb.url(Provider::Konvert));
        let checked_in = std::fs::read_to_string(crate::codegen::schema_path())
            .unwrap()
            .replace("\r\n", "\n");

        let schema = introspect_with(&endpoint, &api_key(KeyAuth::ClientCredentials), &env)
            .await
            .unwrap();
        assert!(schema == checked_in, "client credentials: schema differs");
        assert_eq!(sb.calls("/konvert/oauth/token"), 1);

        let schema = introspect_with(&endpoint, &api_key(KeyAuth::Jwt), &env)
            .await
            .unwrap();
        assert!(schema == checked_in, "jwt: schema differs");
        assert_eq!(
            sb.calls("/konvert/oauth/token"),
            1,
            "a JWT needs no token request"
        );
        assert_eq!(sb.konvert_distinct_jwts(), 1);

        // Other variable names, as `--key-env` / `--secret-env` give them.
        let renamed = env_of(vec![
            ("STAGING_KEY", creds.api_key.clone()),
            ("STAGING_SECRET", creds.api_secret.clone()),
        ]);
        let credentials = Credentials::ApiKey {
            mode: KeyAuth::ClientCredentials,
            key_var: "STAGING_KEY".to_owned(),
            secret_var: "STAGING_SECRET".to_owned(),
        };
        assert!(
            introspect_with(&endpoint, &credentials, &renamed)
                .await
                .is_ok()
        );
        sb.shutdown().await;
    }

    /// A missing variable names the variable; a wrong secret is an authentication error whose
    /// text holds no secret; an endpoint not ending in `/api` has no token endpoint beside it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn key_and_secret_failures_are_reported_without_secrets() {
        let sb = Sandbox::start().await.unwrap();
        let endpoint = format!("{}/api", sb.url(Provider::Konvert));
        let key = sb.credentials().konvert.api_key.clone();

        let only_key = env_of(vec![("KONVERT_API_KEY", key.clone())]);
        let err = introspect_with(&endpoint, &api_key(KeyAuth::Jwt), &only_key)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, IntrospectError::MissingEnv(v) if v == "KONVERT_API_SECRET"),
            "{err}"
        );

        let wrong = "wrong-secret-0123456789abcdefghij";
        let bad = env_of(vec![
            ("KONVERT_API_KEY", key.clone()),
            ("KONVERT_API_SECRET", wrong.to_owned()),
        ]);
        let err = introspect_with(&endpoint, &api_key(KeyAuth::ClientCredentials), &bad)
            .await
            .unwrap_err();
        assert!(matches!(err, IntrospectError::Auth(_)), "{err}");
        let chain = oauth_flow::test_util::source_chain(&err).join(": ");
        assert!(!chain.contains(wrong), "{chain}");

        let err = introspect_with(
            &format!("{}/graphql", sb.url(Provider::Konvert)),
            &api_key(KeyAuth::ClientCredentials),
            &bad,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, IntrospectError::Endpoint(_)), "{err}");

        // `--bearer` keeps working, read from the (test's) environment too.
        let token = sandbox_token(&sb).await;
        let env = env_of(vec![("INTROSPECT_TOKEN", token)]);
        let bearer = Credentials::Bearer {
            var: "INTROSPECT_TOKEN".to_owned(),
        };
        assert!(introspect_with(&endpoint, &bearer, &env).await.is_ok());
        sb.shutdown().await;
    }
}
