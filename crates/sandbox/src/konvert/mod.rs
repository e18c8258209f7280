//! Konvert: client-credentials token endpoint (HTTP Basic only) and a GraphQL API at `/api`
//! that accepts an issued token or a self-signed HS256 JWT.
//!
//! [`schema_sdl`] prints the schema the SDK's code generation uses.

mod schema;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::jwt::{decode_unverified, sign_hs256, verify_hs256};
use crate::oauth::{
    Grant, OAuthError, bearer_challenge, ct_eq, json as json_response, media_type, no_store_json,
    parse_form, random_token,
};
use crate::provider::Provider;
use crate::state::{AppState, lock};

const P: Provider = Provider::Konvert;
/// Longest lifetime (`exp - iat`) of a self-signed JWT, seconds.
pub(crate) const MAX_JWT_LIFETIME: i64 = 21_600;
/// Clock leeway for `exp` and `iat` of a self-signed JWT, seconds.
pub(crate) const JWT_LEEWAY: i64 = 60;

/// The GraphQL schema of the sandbox's Konvert API, in SDL.
pub fn schema_sdl() -> String {
    schema::build(None).sdl()
}

/// The sandbox time, handed to resolvers.
pub(crate) struct Now(pub(crate) i64);

/// Konvert's state: the schema (with its data) and the self-signed JWTs seen.
pub(crate) struct KonvertState {
    schema: schema::PortalSchema,
    distinct_jwts: Mutex<HashSet<String>>,
}

impl KonvertState {
    pub(crate) fn new() -> Self {
        let data = Arc::new(Mutex::new(schema::Portal::seeded()));
        Self {
            schema: schema::build(Some(data)),
            distinct_jwts: Mutex::new(HashSet::new()),
        }
    }

    /// How many distinct self-signed JWTs `/api` accepted.
    pub(crate) fn distinct_jwts(&self) -> u64 {
        u64::try_from(lock(&self.distinct_jwts).len()).unwrap_or(u64::MAX)
    }
}

/// Konvert's routes, with their full paths.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/konvert/oauth/token", post(token))
        .route("/konvert/api", post(api))
}

async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_inner(&st, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

/// `(client_id, client_secret)` from `Authorization: Basic`, decoded as document 003 writes
/// it: "a base64-encoded string client_id:client_secret", the parts as they are (no
/// form-decoding as in RFC 6749 §2.3.1), split at the first colon (RFC 7617 §2).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn token_inner(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form = parse_form(headers, body)?;
    if form.contains_key("client_id") || form.contains_key("client_secret") {
        return Err(OAuthError::invalid_client(
            "client credentials are accepted only in the Authorization: Basic header",
        )
        .with_basic_realm("konvert"));
    }
    let Some((id, secret)) = basic(headers) else {
        return Err(
            OAuthError::invalid_client("HTTP Basic client authentication is required")
                .with_basic_realm("konvert"),
        );
    };
    if !(ct_eq(&id, &st.creds.konvert.api_key) && ct_eq(&secret, &st.creds.konvert.api_secret)) {
        return Err(
            OAuthError::invalid_client("client authentication failed").with_basic_realm("konvert")
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(OAuthError::unsupported_grant_type(
            "only grant_type=client_credentials is supported",
        ));
    }
    let now = st.now();
    let lifetime = st.lifetime(P);
    let exp = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
    let claims = json!({ "iss": st.provider_url(P), "sub": id, "iat": now, "exp": exp, "jti": random_token("") });
    let access = sign_hs256(&claims, &st.signing_key);
    lock(&st.tokens).issue_access(
        &access,
        Grant {
            provider: P,
            client_id: id.clone(),
            subject: id,
            scope: String::new(),
            from_code: None,
            generation: 0,
        },
        exp,
    );
    let mut out = json!({ "access_token": access, "token_type": "Bearer" });
    if !st.omit_expires_in(P) {
        out["expires_in"] = json!(lifetime);
    }
    Ok(no_store_json(StatusCode::OK, &out))
}

fn gql_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    if status == StatusCode::UNAUTHORIZED {
        bearer_challenge(status, "konvert", Some("invalid_token"), message, &body)
    } else {
        json_response(status, &body)
    }
}

fn int_claim(claims: &Map<String, Value>, name: &str) -> Result<i64, String> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("the JWT needs an integer {name} claim"))
}

/// Checks the bearer: an issued token, or a self-signed JWT. Returns the auth method.
fn authenticate(st: &AppState, token: &str) -> Result<&'static str, String> {
    let (_, claims) = decode_unverified(token).map_err(|e| e.describe())?;
    let now = st.now();
    let issuer = st.provider_url(P);
    if claims.get("iss").and_then(Value::as_str) == Some(issuer.as_str()) {
        verify_hs256(token, &st.signing_key).map_err(|e| e.describe())?;
        lock(&st.tokens)
            .check_access(P, token, now)
            .map_err(|p| p.describe().to_owned())?;
        return Ok("CLIENT_CREDENTIALS");
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ct_eq(sub, &st.creds.konvert.api_key) {
        return Err("the JWT sub is not a known API key".to_owned());
    }
    let claims =
        verify_hs256(token, st.creds.konvert.api_secret.as_bytes()).map_err(|e| e.describe())?;
    let iat = int_claim(&claims, "iat")?;
    let exp = int_claim(&claims, "exp")?;
    if exp <= iat {
        return Err("the JWT exp must be after iat".to_owned());
    }
    if exp - iat > MAX_JWT_LIFETIME {
        return Err(format!(
            "the JWT lifetime exceeds {MAX_JWT_LIFETIME} seconds"
        ));
    }
    if now > exp + JWT_LEEWAY {
        return Err("the JWT expired".to_owned());
    }
    if iat > now + JWT_LEEWAY {
        return Err("the JWT iat is in the future".to_owned());
    }
    lock(&st.konvert.distinct_jwts).insert(token.to_owned());
    Ok("SELF_SIGNED_JWT")
}

async fn api(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = crate::oauth::bearer(&headers) else {
        return gql_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Authorization: Bearer <token> is required",
        );
    };
    let method = match authenticate(&st, token) {
        Ok(m) => m,
        Err(e) => return gql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &e),
    };
    if media_type(&headers) != "application/json" {
        return gql_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "Content-Type must be application/json",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return gql_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body must be a JSON object with a query string",
            );
        }
    };
    let viewer = schema::Viewer {
        api_key: st.creds.konvert.api_key.clone(),
        mode: "SERVICE".to_owned(),
        auth_method: method.to_owned(),
    };
    let response = st
        .konvert
        .schema
        .execute(request.data(viewer).data(Now(st.now())))
        .await;
    match serde_json::to_value(&response) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(_) => gql_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "response serialization failed",
        ),
    }
}
