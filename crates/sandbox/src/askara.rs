//! Askara: Authorization Code with a client secret, scopes `profile organization`, JSON-only
//! token endpoint `/oauth2/token` (exchange and rotating refresh), HS256 JWT access tokens,
//! `GET /v1/profile` and `GET /v1/organization`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::consent::{self, ClientInfo, Extra};
use crate::jwt::{sign_hs256, verify_hs256};
use crate::oauth::{
    Grant, OAuthError, bearer, bearer_challenge, ct_eq, json as json_response, media_type,
    no_store_json, random_token,
};
use crate::provider::Provider;
use crate::state::{AppState, lock};

const P: Provider = Provider::Askara;
const SUBJECT: &str = "camille.martin@example.fr";
const USER_ID: &str = "usr_8f2b1c9d";
const SCOPES: [(&str, &str); 2] = [
    ("profile", "Read your profile (name, e-mail, locale)"),
    (
        "organization",
        "Read your organization (name, address, members)",
    ),
];

/// Askara's routes, with their full paths.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/askara/authorize", get(authorize))
        .route(
            "/askara/_sandbox/consent",
            post(|s, b| consent::submit(P, s, b)),
        )
        .route("/askara/oauth2/token", post(token))
        .route("/askara/v1/profile", get(profile))
        .route("/askara/v1/organization", get(organization))
}

async fn authorize(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let client_id = st.creds.askara.client_id.clone();
    let mut redirects = vec![st.creds.redirect_uri.clone()];
    redirects.extend(lock(&st.askara_redirects).iter().cloned());
    consent::authorize(
        &st,
        P,
        q.as_deref(),
        SUBJECT,
        |id| {
            (id == client_id).then(|| ClientInfo {
                name: "Sandbox Demo App".to_owned(),
                redirect_uris: redirects,
                loopback_any_port: false,
            })
        },
        |params| {
            let scope = params.get("scope").map(String::as_str).unwrap_or_default();
            let requested: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            if requested.is_empty() {
                return Err((
                    "invalid_scope",
                    "scope is required (profile organization)".to_owned(),
                ));
            }
            if let Some(bad) = requested
                .iter()
                .find(|s| !SCOPES.iter().any(|(k, _)| k == *s))
            {
                return Err(("invalid_scope", format!("unknown scope {bad}")));
            }
            let lines = SCOPES
                .iter()
                .filter(|(k, _)| requested.contains(k))
                .map(|(k, d)| ((*k).to_owned(), (*d).to_owned()))
                .collect::<Vec<_>>();
            Ok(Extra {
                scope: lines
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                scope_lines: lines,
                code_challenge: consent::pkce(params, false)?,
            })
        },
    )
}

async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_inner(&st, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(OAuthError::invalid_request(format!(
            "{name} must be a string"
        ))),
    }
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, OAuthError> {
    field(body, name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

fn token_inner(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    if media_type(headers) != "application/json" {
        return Err(OAuthError::invalid_request(
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err(OAuthError::invalid_request(
            "the body must be a JSON object",
        ));
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(OAuthError::invalid_request(
            "send client_id and client_secret in the JSON body only",
        ));
    }
    let (Some(client_id), Some(secret)) =
        (field(&body, "client_id")?, field(&body, "client_secret")?)
    else {
        return Err(OAuthError::invalid_client(
            "client_id and client_secret are required",
        ));
    };
    if !(ct_eq(client_id, &st.creds.askara.client_id)
        && ct_eq(secret, &st.creds.askara.client_secret))
    {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    let grant = match field(&body, "grant_type")? {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {
            let code = required(&body, "code")?;
            let auth = consent::redeem(
                st,
                P,
                code,
                client_id,
                field(&body, "redirect_uri")?,
                field(&body, "code_verifier")?,
            )?;
            Grant {
                provider: P,
                client_id: client_id.to_owned(),
                subject: USER_ID.to_owned(),
                scope: auth.scope,
                from_code: Some(code.to_owned()),
                generation: 0,
            }
        }
        Some("refresh_token") => {
            let old = required(&body, "refresh_token")?;
            let detect = st.reuse_detection(P);
            let mut tokens = lock(&st.tokens);
            let Some(grant) = tokens.refresh_grant(P, old) else {
                let why = if tokens.spent_again(P, old, detect) {
                    "the refresh token was already used (rotated)"
                } else {
                    "the refresh token is invalid"
                };
                return Err(OAuthError::invalid_grant(why));
            };
            if grant.client_id != client_id {
                return Err(OAuthError::invalid_grant(
                    "the refresh token was issued to another client",
                ));
            }
            tokens.rotate_out(old);
            grant.rotated()
        }
        Some(_) => {
            return Err(OAuthError::unsupported_grant_type(
                "grant_type must be authorization_code or refresh_token",
            ));
        }
    };
    let now = st.now();
    let lifetime = st.lifetime(P);
    let exp = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
    let claims = json!({
        "iss": st.provider_url(P),
        "sub": grant.subject,
        "aud": grant.client_id,
        "iat": now,
        "exp": exp,
        "scope": grant.scope,
        "jti": random_token(""),
    });
    let access = sign_hs256(&claims, &st.signing_key);
    let refresh = random_token("ask_rt_");
    {
        let mut tokens = lock(&st.tokens);
        tokens.issue_access(&access, grant.clone(), exp);
        tokens.issue_refresh(&refresh, grant);
    }
    let mut out =
        json!({ "token_type": "Bearer", "access_token": access, "refresh_token": refresh });
    if !st.omit_expires_in(P) {
        out["expires_in"] = json!(lifetime);
    }
    Ok(no_store_json(StatusCode::OK, &out))
}

fn api_error(status: StatusCode, error: &str, description: &str) -> Response {
    bearer_challenge(
        status,
        "askara",
        Some(error),
        description,
        &json!({ "error": error, "error_description": description }),
    )
}

/// The grant of a valid, unexpired access token with `scope`, or the error response.
fn authorize_api(st: &AppState, headers: &HeaderMap, scope: &str) -> Result<Grant, Response> {
    let Some(token) = bearer(headers) else {
        return Err(bearer_challenge(
            StatusCode::UNAUTHORIZED,
            "askara",
            None,
            "",
            &json!({ "error": "invalid_request", "error_description": "a bearer token is required" }),
        ));
    };
    if let Err(e) = verify_hs256(token, &st.signing_key) {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            &e.describe(),
        ));
    }
    let grant = lock(&st.tokens)
        .check_access(P, token, st.now())
        .map_err(|p| api_error(StatusCode::UNAUTHORIZED, "invalid_token", p.describe()))?;
    if !grant.has_scope(scope) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            &format!("the token lacks the {scope} scope"),
        ));
    }
    Ok(grant)
}

async fn profile(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize_api(&st, &headers, "profile") {
        return r;
    }
    json_response(
        StatusCode::OK,
        &json!({
            "id": USER_ID,
            "email": SUBJECT,
            "first_name": "Camille",
            "last_name": "Martin",
            "locale": "fr-FR",
            "timezone": "Europe/Paris",
            "job_title": "Head of Operations",
            "phone": "+33 1 84 88 00 00",
            "email_verified": true,
            "organization_id": "org_51c7a2e4",
            "created_at": "2022-09-01T08:00:00Z",
            "updated_at": "2024-11-20T16:42:10Z"
        }),
    )
}

async fn organization(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize_api(&st, &headers, "organization") {
        return r;
    }
    json_response(
        StatusCode::OK,
        &json!({
            "id": "org_51c7a2e4",
            "name": "Martin & Fils",
            "legal_name": "Martin & Fils SARL",
            "address": {
                "line1": "12 rue de la Paix",
                "line2": null,
                "postal_code": "75002",
                "city": "Paris",
                "country": "FR"
            },
            "members_count": 18,
            "plan": "business",
            "website": "https://martin-fils.example",
            "vat_number": "FR12345678901",
            "created_at": "2019-03-11T10:15:00Z"
        }),
    )
}

/// Registers another redirect URI for the Askara client, as Askara's team does when an app
/// gives them its URL (an `https` URI or `http` on a loopback IP literal, exact match). `Err`
/// with the URI when it is neither.
pub(crate) fn register_redirect(st: &AppState, uri: &str) -> Result<(), String> {
    if !consent::redirect_allowed(&[], uri, false) {
        return Err(uri.to_owned());
    }
    let mut extra = lock(&st.askara_redirects);
    if !extra.iter().any(|r| r == uri) {
        extra.push(uri.to_owned());
    }
    Ok(())
}

/// `POST /askara/_sandbox/redirect_uris` with `{"redirect_uri": "…"}` (a control route, not
/// counted).
pub(crate) async fn register_redirect_route(State(st): State<AppState>, body: Bytes) -> Response {
    let uri = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("redirect_uri")?.as_str().map(str::to_owned));
    let Some(uri) = uri else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "invalid_request", "error_description": "send {\"redirect_uri\": \"...\"}" }),
        );
    };
    match register_redirect(&st, &uri) {
        Ok(()) => {
            let mut all = vec![st.creds.redirect_uri.clone()];
            all.extend(lock(&st.askara_redirects).iter().cloned());
            json_response(StatusCode::OK, &json!({ "redirect_uris": all }))
        }
        Err(_) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "error": "invalid_request",
                "error_description": "a redirect URI is https, or http on 127.0.0.1 or [::1], without a fragment"
            }),
        ),
    }
}
