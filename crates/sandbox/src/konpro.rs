//! KonPro: Authorization Code + PKCE (S256 required), public client, form token exchange at
//! `/v1/oauth/token`, refresh only at `/v1/oauth/refresh_token` (no new refresh token), and
//! `GET /v1/pacific/account.get` with a bearer token or `X-API-KEY`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::consent::{self, ClientInfo, Extra};
use crate::oauth::{
    Grant, OAuthError, bearer, bearer_challenge, ct_eq, json as json_response, no_store_json,
    parse_form, random_token,
};
use crate::provider::Provider;
use crate::state::{AppState, lock};

const P: Provider = Provider::KonPro;
/// The user who approves on the consent page.
const SUBJECT: &str = "jamie.rivera@example.com";
const USER_ID: &str = "usr_7d1a0c2e";
/// What a KonPro grant allows, in words, for the consent page.
const ACCESS: [&str; 3] = [
    "See your account: your name and e-mail, your plan and its quotas, your space, \
     features and experiments",
    "Use the KonPro API as you, with your permissions",
    "Stay signed in until you log out of the application (it may renew its access)",
];

/// KonPro's routes, with their full paths.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/konpro/oauth/authorize", get(authorize))
        .route(
            "/konpro/_sandbox/consent",
            post(|s, b| consent::submit(P, s, b)),
        )
        .route("/konpro/v1/oauth/token", post(token))
        .route("/konpro/v1/oauth/refresh_token", post(refresh))
        .route("/konpro/v1/pacific/account.get", get(account))
}

async fn authorize(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let creds = st.creds.konpro.clone();
    let redirect = st.creds.redirect_uri.clone();
    consent::authorize(
        &st,
        P,
        q.as_deref(),
        SUBJECT,
        |id| {
            // KonPro's client is public with PKCE, the shape of a desktop or command-line app;
            // its document only asks for "your approved redirect URI", so a loopback
            // registration follows RFC 8252 §7.3: any port at request time.
            (id == creds.client_id).then(|| ClientInfo {
                name: "Sandbox Demo App".to_owned(),
                redirect_uris: vec![redirect],
                loopback_any_port: true,
            })
        },
        |params| {
            Ok(Extra {
                scope: String::new(),
                // KonPro documents no scopes: a grant reaches every endpoint the user can.
                scope_lines: ACCESS
                    .iter()
                    .map(|d| (String::new(), (*d).to_owned()))
                    .collect(),
                code_challenge: consent::pkce(params, true)?,
            })
        },
    )
}

fn check_public_client(
    st: &AppState,
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
) -> Result<String, OAuthError> {
    if headers.contains_key(header::AUTHORIZATION) || form.contains_key("client_secret") {
        return Err(OAuthError::invalid_client(
            "KonPro clients are public: send client_id only, no client_secret or Authorization",
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    if !ct_eq(client_id, &st.creds.konpro.client_id) {
        return Err(OAuthError::invalid_client("unknown client_id"));
    }
    Ok(client_id.clone())
}

fn token_body(st: &AppState, access: &str, refresh: Option<&str>) -> Value {
    let mut body = json!({ "access_token": access, "token_type": "Bearer" });
    if !st.omit_expires_in(P) {
        body["expires_in"] = json!(st.lifetime(P));
    }
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    body
}

fn issue_access(st: &AppState, grant: Grant) -> String {
    let access = random_token("kp_at_");
    let exp = st
        .now()
        .saturating_add(i64::try_from(st.lifetime(P)).unwrap_or(i64::MAX));
    lock(&st.tokens).issue_access(&access, grant, exp);
    access
}

async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_inner(&st, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn token_inner(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form = parse_form(headers, body)?;
    match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {}
        Some("refresh_token") => {
            return Err(OAuthError::unsupported_grant_type(
                "refresh tokens are exchanged at /v1/oauth/refresh_token",
            ));
        }
        Some(_) => {
            return Err(OAuthError::unsupported_grant_type(
                "only authorization_code is supported here",
            ));
        }
    }
    let client_id = check_public_client(st, headers, &form)?;
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let auth = consent::redeem(
        st,
        P,
        code,
        &client_id,
        form.get("redirect_uri").map(String::as_str),
        form.get("code_verifier").map(String::as_str),
    )?;
    let grant = Grant {
        provider: P,
        client_id,
        subject: USER_ID.to_owned(),
        scope: auth.scope,
        from_code: Some(code.clone()),
        generation: 0,
    };
    let refresh = random_token("kp_rt_");
    lock(&st.tokens).issue_refresh(&refresh, grant.clone());
    let access = issue_access(st, grant);
    Ok(no_store_json(
        StatusCode::OK,
        &token_body(st, &access, Some(&refresh)),
    ))
}

async fn refresh(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    refresh_inner(&st, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn refresh_inner(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form = parse_form(headers, body)?;
    match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some("refresh_token") => {}
        Some(_) => {
            return Err(OAuthError::unsupported_grant_type(
                "only grant_type=refresh_token is supported here",
            ));
        }
    }
    let client_id = check_public_client(st, headers, &form)?;
    let token = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let grant = lock(&st.tokens)
        .refresh_grant(P, token)
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    if grant.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    let access = issue_access(st, grant);
    Ok(no_store_json(
        StatusCode::OK,
        &token_body(st, &access, None),
    ))
}

fn unauthorized(token_sent: bool, message: &str) -> Response {
    bearer_challenge(
        StatusCode::UNAUTHORIZED,
        "konpro",
        token_sent.then_some("invalid_token"),
        message,
        &json!({ "error": "unauthorized", "message": message }),
    )
}

async fn account(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = bearer(&headers) {
        if let Err(p) = lock(&st.tokens).check_access(P, token, st.now()) {
            return unauthorized(true, p.describe());
        }
    } else if let Some(key) = headers.get("x-api-key") {
        let ok = key
            .to_str()
            .is_ok_and(|k| ct_eq(k, &st.creds.konpro.api_key));
        if !ok {
            return unauthorized(false, "the API key is invalid");
        }
    } else {
        return unauthorized(
            false,
            "authentication required: Authorization: Bearer <token> or X-API-KEY",
        );
    }
    json_response(StatusCode::OK, &account_json())
}

/// The fixed account of the sandbox user.
fn account_json() -> Value {
    json!({
        "experiments": [
            { "name": "new_editor", "enabled": true, "status": "active", "variant": "treatment" },
            { "name": "ai_summaries", "enabled": false, "status": "paused", "variant": "control" },
            { "name": "pricing_page_v3", "enabled": true, "status": "active", "variant": "b" }
        ],
        "features": ["api_access", "custom_avatars", "team_spaces", "export_4k"],
        "space_info": {
            "id": "spc_3f9a2c71",
            "name": "Rivera Studio",
            "role": "owner",
            "roles": ["owner", "admin", "editor", "viewer"],
            "permissions": ["space.read", "space.write", "members.manage", "billing.read"],
            "member_count": 4,
            "created_at": "2023-02-14T09:30:00Z"
        },
        "user": {
            "id": USER_ID,
            "email": SUBJECT,
            "name": "Jamie Rivera",
            "first_name": "Jamie",
            "last_name": "Rivera",
            "registered_at": "2023-02-14T09:21:37Z",
            "subscription_status": "active",
            "email_verified": true,
            "locale": "en-US",
            "timezone": "America/New_York"
        },
        "user_plan": {
            "tier": "pro",
            "name": "Pro (annual)",
            "billing_period": "annual",
            "expires_at": "2030-02-14T09:21:37Z",
            "auto_renew": true,
            "quotas": {
                "api_calls": { "used": 1284, "limit": 10000 },
                "video_minutes": { "used": 37, "limit": 120 },
                "storage_mb": { "used": 2048, "limit": 51200 },
                "seats": { "used": 4, "limit": 5 }
            }
        }
    })
}
