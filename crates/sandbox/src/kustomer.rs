//! Kustomer: private-app registration and client-secret rotation with the org API key, an
//! install step, Authorization Code with role scopes + `offline_access`, form token exchange
//! and rotating refresh, and JSON:API customers and conversations.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::consent::{self, ClientInfo, Extra};
use crate::oauth::{
    Grant, OAuthError, bearer, bearer_challenge, ct_eq, json as json_response, no_store_json,
    parse_form, random_bytes, random_token,
};
use crate::provider::Provider;
use crate::state::{AppState, lock};

const P: Provider = Provider::Kustomer;
const SUBJECT: &str = "alex.chen@sandbox-org.example";
const USER_ID: &str = "5f1d3c2b4a6978e0d1c20001";
/// Scope needed for customer routes.
const CUSTOMER_SCOPE: &str = "org.permission.customer";
/// Scope needed for conversation routes.
const CONVERSATION_SCOPE: &str = "org.permission.conversation";
/// Seed data timestamps start here (2024-01-15T09:00:00Z).
const SEED_EPOCH: i64 = 1_705_309_200;

/// A registered private app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    app: String,
    name: String,
    version: String,
    title: String,
    redirect_uris: Vec<String>,
    client_id: String,
    client_secret: Option<String>,
    installed: bool,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Clone)]
struct Record {
    id: String,
    attrs: Map<String, Value>,
    /// For conversations: the customer id.
    customer: Option<String>,
}

/// The org's apps, customers and conversations.
#[derive(Debug)]
pub(crate) struct KustomerData {
    org_id: String,
    apps: BTreeMap<String, App>,
    customers: Vec<Record>,
    conversations: Vec<Record>,
    next_id: u64,
}

const FIRST: [&str; 10] = [
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Sofia", "Lucas", "Chloe", "Omar",
];
const LAST: [&str; 6] = ["Nguyen", "Garcia", "Okafor", "Schmidt", "Tanaka", "Rossi"];
const SUBJECTS: [&str; 6] = [
    "Order arrived damaged",
    "Question about my invoice",
    "Cannot log in",
    "Change shipping address",
    "Refund request",
    "Product recommendation",
];

impl KustomerData {
    /// 30 customers; conversations for some of them (the first has 12, for paging).
    pub(crate) fn seeded(org_id: &str) -> Self {
        let mut d = Self {
            org_id: org_id.to_owned(),
            apps: BTreeMap::new(),
            customers: Vec::new(),
            conversations: Vec::new(),
            next_id: 1,
        };
        for i in 0..30usize {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / 2 + i) % LAST.len()];
            let name = format!("{first} {last}");
            let at = rfc3339(SEED_EPOCH + i64::try_from(i).unwrap_or(0) * 86_400);
            let attrs = json!({
                "name": name,
                "displayName": name,
                "emails": [{ "type": "home", "email": format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i + 1) }],
                "phones": [{ "type": "mobile", "phone": format!("+1555010{:04}", i + 1) }],
                "externalId": format!("crm-{}", 1001 + i),
                "locale": if i % 3 == 0 { "fr-FR" } else { "en-US" },
                "timeZone": if i % 3 == 0 { "Europe/Paris" } else { "America/Chicago" },
                "tags": if i % 4 == 0 { json!(["vip"]) } else { json!([]) },
                "createdAt": at,
                "updatedAt": at,
                "modifiedAt": at,
            });
            let id = d.new_id();
            if let Value::Object(attrs) = attrs {
                d.customers.push(Record {
                    id,
                    attrs,
                    customer: None,
                });
            }
        }
        let owners: Vec<(String, usize)> = d
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.id.clone(),
                    if i == 0 { 12 } else { usize::from(i % 2 == 0) },
                )
            })
            .collect();
        let mut n = 0usize;
        for (cust, count) in owners {
            for _ in 0..count {
                let at = rfc3339(SEED_EPOCH + 3600 + i64::try_from(n).unwrap_or(0) * 7200);
                let status = ["open", "done", "snoozed"][n % 3];
                let attrs = json!({
                    "name": SUBJECTS[n % SUBJECTS.len()],
                    "channels": ["email"],
                    "status": status,
                    "priority": 1 + n % 5,
                    "direction": "in",
                    "preview": format!("Hello, {}", SUBJECTS[n % SUBJECTS.len()].to_lowercase()),
                    "messageCount": 1 + n % 4,
                    "tags": [],
                    "createdAt": at,
                    "updatedAt": at,
                });
                let id = d.new_id();
                if let Value::Object(attrs) = attrs {
                    d.conversations.push(Record {
                        id,
                        attrs,
                        customer: Some(cust.clone()),
                    });
                }
                n += 1;
            }
        }
        d
    }

    fn new_id(&mut self) -> String {
        let id = format!("6650c0ffee{:014x}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Marks an app installed; `name` is plain (`myapp`) or namespaced (`myapp_<orgId>`).
    pub(crate) fn install(&mut self, name: &str) -> Option<String> {
        let key = if self.apps.contains_key(name) {
            name.to_owned()
        } else {
            format!("{name}_{}", self.org_id)
        };
        let app = self.apps.get_mut(&key)?;
        app.installed = true;
        Some(key)
    }

    fn app_by_client(&self, client_id: &str) -> Option<&App> {
        self.apps.values().find(|a| a.client_id == client_id)
    }
}

/// Kustomer's routes, with their full paths.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/kustomer/v1/apps/available", post(create_app))
        .route("/kustomer/v1/apps/available/{app}/secret", post(app_secret))
        .route(
            "/kustomer/v1/apps/available/{app}/secret/",
            post(app_secret),
        )
        .route("/kustomer/oauth/authorize", get(authorize))
        .route(
            "/kustomer/_sandbox/consent",
            post(|s, b| consent::submit(P, s, b)),
        )
        .route("/kustomer/oauth/token", post(token))
        .route(
            "/kustomer/v1/customers",
            get(list_customers).post(create_customer),
        )
        .route("/kustomer/v1/customers/search", post(search_customers))
        .route(
            "/kustomer/v1/customers/{id}",
            get(get_customer).put(update_customer),
        )
        .route(
            "/kustomer/v1/customers/{id}/conversations",
            get(customer_conversations),
        )
        .route("/kustomer/v1/conversations", post(create_conversation))
        .route("/kustomer/v1/conversations/{id}", get(get_conversation))
}

/// `POST /kustomer/_sandbox/apps/{name}/install` (a control route, not counted).
pub(crate) async fn install_route(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    match lock(&st.kustomer).install(&name) {
        Some(n) => json_response(StatusCode::OK, &json!({ "name": n, "installed": true })),
        None => api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no app named {name}"),
        ),
    }
}

/// A JSON:API error document.
fn api_error(status: StatusCode, title: &str, detail: &str) -> Response {
    json_response(
        status,
        &json!({ "errors": [{
            "status": status.as_u16().to_string(),
            "code": title.to_lowercase().replace(' ', "_"),
            "title": title,
            "detail": detail,
        }]}),
    )
}

fn bad_request(detail: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "Bad Request", detail)
}

fn unauthorized(token_sent: bool, detail: &str) -> Response {
    bearer_challenge(
        StatusCode::UNAUTHORIZED,
        "kustomer",
        token_sent.then_some("invalid_token"),
        detail,
        &json!({ "errors": [{ "status": "401", "code": "unauthorized", "title": "Unauthorized", "detail": detail }] }),
    )
}

/// Who called: the org API key (every role) or an OAuth access token (its scopes).
enum Caller {
    ApiKey,
    OAuth(Grant),
}

fn caller(st: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            false,
            "Authorization: Bearer <API key or access token> is required",
        ));
    };
    if ct_eq(token, &st.creds.kustomer.api_key) {
        return Ok(Caller::ApiKey);
    }
    lock(&st.tokens)
        .check_access(P, token, st.now())
        .map(Caller::OAuth)
        .map_err(|p| unauthorized(true, p.describe()))
}

fn require_scope(st: &AppState, headers: &HeaderMap, scope: &str) -> Result<(), Response> {
    match caller(st, headers)? {
        Caller::ApiKey => Ok(()),
        Caller::OAuth(g) if g.has_scope(scope) => Ok(()),
        Caller::OAuth(_) => Err(bearer_challenge(
            StatusCode::FORBIDDEN,
            "kustomer",
            Some("insufficient_scope"),
            &format!("the token lacks the {scope} role"),
            &json!({ "errors": [{ "status": "403", "code": "forbidden", "title": "Forbidden",
                "detail": format!("the access token lacks the {scope} role") }] }),
        )),
    }
}

fn require_api_key(st: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    match caller(st, headers)? {
        Caller::ApiKey => Ok(()),
        Caller::OAuth(_) => Err(api_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "apps are managed with an API key holding org.admin.apps",
        )),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_request("the body must be a JSON object")),
    }
}

fn app_json(app: &App, org_id: &str, with_secret: bool) -> Value {
    let mut attrs = json!({
        "name": app.name,
        "app": app.app,
        "auth": {},
        "version": app.version,
        "title": app.title,
        "description": null,
        "visibility": "private",
        "redirectUris": app.redirect_uris,
        "clientId": app.client_id,
        "createdAt": rfc3339(app.created_at),
        "updatedAt": rfc3339(app.updated_at),
    });
    if with_secret {
        attrs["clientSecret"] = json!(app.client_secret);
    }
    json!({ "data": {
        "type": "available_app",
        "id": format!("{}-{}", app.name, app.version),
        "attributes": attrs,
        "relationships": { "org": { "data": { "type": "org", "id": org_id } } },
        "links": { "self": format!("/v1/apps/available/{}", app.name) },
    }})
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn create_app(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = require_api_key(&st, &headers) {
        return r;
    }
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let Some(app) = text("app") else {
        return bad_request("app is required");
    };
    if !app
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return bad_request("app may hold only lowercase letters, digits and '-'");
    }
    let Some(version) = text("version") else {
        return bad_request("version is required");
    };
    if text("visibility") != Some("private") {
        return bad_request("visibility must be \"private\" (public apps are not supported here)");
    }
    let redirect_uris = match body.get("redirectUris") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let uris: Vec<String> = a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            if uris.len() != a.len() || uris.iter().any(|u| url::Url::parse(u).is_err()) {
                return bad_request("redirectUris must be absolute URLs");
            }
            uris
        }
        Some(_) => return bad_request("redirectUris must be an array"),
    };
    let title = text("title").unwrap_or(app).to_owned();
    let now = st.now();
    let mut data = lock(&st.kustomer);
    let org = data.org_id.clone();
    let name = format!("{app}_{org}");
    let status = if let Some(existing) = data.apps.get_mut(&name) {
        if existing.version == version {
            return api_error(
                StatusCode::CONFLICT,
                "Conflict",
                &format!("app {name} version {version} already exists"),
            );
        }
        existing.version = version.to_owned();
        existing.title = title;
        existing.redirect_uris = redirect_uris;
        existing.updated_at = now;
        StatusCode::OK
    } else {
        data.apps.insert(
            name.clone(),
            App {
                app: app.to_owned(),
                name: name.clone(),
                version: version.to_owned(),
                title,
                redirect_uris,
                client_id: hex(&random_bytes(12)),
                client_secret: None,
                installed: false,
                created_at: now,
                updated_at: now,
            },
        );
        StatusCode::OK
    };
    match data.apps.get(&name) {
        Some(a) => json_response(status, &app_json(a, &org, false)),
        None => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "app vanished",
        ),
    }
}

async fn app_secret(
    State(st): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = require_api_key(&st, &headers) {
        return r;
    }
    if let Err(r) = json_object(&body) {
        return r;
    }
    let mut data = lock(&st.kustomer);
    let org = data.org_id.clone();
    let Some(a) = data.apps.get_mut(&app) else {
        let hint = if data.apps.contains_key(&format!("{app}_{org}")) {
            format!("no app named {app}: use the namespaced name {app}_{org}")
        } else {
            format!("no app named {app}")
        };
        return api_error(StatusCode::NOT_FOUND, "Not Found", &hint);
    };
    a.client_secret = Some(random_token(""));
    a.updated_at = st.now();
    json_response(StatusCode::OK, &app_json(a, &org, true))
}

fn valid_role_scope(s: &str) -> bool {
    s == "offline_access"
        || (s.starts_with("org.")
            && s.len() > 4
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'_'))
}

async fn authorize(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let apps: HashMap<String, ClientInfo> = lock(&st.kustomer)
        .apps
        .values()
        .map(|a| {
            (
                a.client_id.clone(),
                ClientInfo {
                    name: a.title.clone(),
                    redirect_uris: a.redirect_uris.clone(),
                    loopback_any_port: false,
                },
            )
        })
        .collect();
    let mut apps = apps;
    consent::authorize(
        &st,
        P,
        q.as_deref(),
        SUBJECT,
        |id| apps.remove(id),
        |params| {
            let scope = params.get("scope").map(String::as_str).unwrap_or_default();
            let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            if scopes.is_empty() {
                return Err((
                    "invalid_scope",
                    "scope is required (roles + offline_access)".to_owned(),
                ));
            }
            if let Some(bad) = scopes.iter().find(|s| !valid_role_scope(s)) {
                return Err(("invalid_scope", format!("unknown scope {bad}")));
            }
            let lines = scopes
                .iter()
                .map(|s| {
                    let d = if *s == "offline_access" {
                        "Stay connected (refresh tokens)".to_owned()
                    } else {
                        let role = s.trim_start_matches("org.").replace(['.', '_'], " ");
                        format!("Act with your organization's \u{201c}{role}\u{201d} permission")
                    };
                    ((*s).to_owned(), d)
                })
                .collect();
            Ok(Extra {
                scope: scopes.join(" "),
                scope_lines: lines,
                code_challenge: consent::pkce(params, false)?,
            })
        },
    )
}

async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_inner(&st, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn invalid_client_400() -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client", "Invalid Client")
}

fn token_inner(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form = parse_form(headers, body)?;
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(OAuthError::invalid_request(
            "send client_id and client_secret in the form body only",
        ));
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
    {
        let data = lock(&st.kustomer);
        let app = data
            .app_by_client(client_id)
            .ok_or_else(invalid_client_400)?;
        if !app.installed {
            return Err(invalid_client_400());
        }
        let ok = match (form.get("client_secret"), app.client_secret.as_deref()) {
            (Some(sent), Some(real)) => ct_eq(sent, real),
            _ => false,
        };
        if !ok {
            return Err(OAuthError::invalid_client("client authentication failed"));
        }
    }
    let grant = match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {
            let code = form
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            let auth = consent::redeem(
                st,
                P,
                code,
                client_id,
                form.get("redirect_uri").map(String::as_str),
                form.get("code_verifier").map(String::as_str),
            )?;
            Grant {
                provider: P,
                client_id: client_id.clone(),
                subject: USER_ID.to_owned(),
                scope: auth.scope,
                from_code: Some(code.clone()),
                generation: 0,
            }
        }
        Some("refresh_token") => {
            let old = form
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
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
            if grant.client_id != *client_id {
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
    let lifetime = st.lifetime(P);
    let exp = st
        .now()
        .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
    let access = random_token("kus_at_");
    let refresh = grant
        .has_scope("offline_access")
        .then(|| random_token("kus_rt_"));
    let scope = grant.scope.clone();
    {
        let mut tokens = lock(&st.tokens);
        if let Some(r) = &refresh {
            tokens.issue_refresh(r, grant.clone());
        }
        tokens.issue_access(&access, grant, exp);
    }
    let mut out = json!({ "scope": scope, "token_type": "bearer", "access_token": access });
    if !st.omit_expires_in(P) {
        out["expires_in"] = json!(lifetime);
    }
    if let Some(r) = refresh {
        out["refresh_token"] = json!(r);
    }
    Ok(no_store_json(StatusCode::OK, &out))
}

// ---- customers and conversations ----

fn customer_json(c: &Record, data: &KustomerData) -> Value {
    let mut attrs = c.attrs.clone();
    let convs: Vec<&Record> = data
        .conversations
        .iter()
        .filter(|v| v.customer.as_deref() == Some(&c.id))
        .collect();
    let count = |s: &str| {
        convs
            .iter()
            .filter(|v| v.attrs.get("status").and_then(Value::as_str) == Some(s))
            .count()
    };
    attrs.insert(
        "conversationCounts".to_owned(),
        json!({ "all": convs.len(), "open": count("open"), "done": count("done"), "snoozed": count("snoozed") }),
    );
    json!({
        "type": "customer",
        "id": c.id,
        "attributes": attrs,
        "relationships": {
            "org": { "data": { "type": "org", "id": data.org_id } },
            "conversations": { "links": { "self": format!("/v1/customers/{}/conversations", c.id) } },
        },
        "links": { "self": format!("/v1/customers/{}", c.id) },
    })
}

fn conversation_json(v: &Record, org: &str) -> Value {
    let cust = v.customer.clone().unwrap_or_default();
    json!({
        "type": "conversation",
        "id": v.id,
        "attributes": v.attrs,
        "relationships": {
            "customer": { "data": { "type": "customer", "id": cust }, "links": { "self": format!("/v1/customers/{cust}") } },
            "org": { "data": { "type": "org", "id": org } },
        },
        "links": { "self": format!("/v1/conversations/{}", v.id) },
    })
}

/// `page` (≥ 1, default 1) and `pageSize` (1–100, default 10).
fn paging(q: Option<&str>) -> Result<(usize, usize), Response> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or_default())
        .map_err(|_| bad_request("malformed query"))?;
    let mut page = 1usize;
    let mut size = 10usize;
    for (k, v) in pairs {
        match k.as_str() {
            "page" => {
                page = v
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| bad_request("page must be an integer ≥ 1"))?;
            }
            "pageSize" => {
                size = v
                    .parse()
                    .ok()
                    .filter(|p| (1..=100).contains(p))
                    .ok_or_else(|| bad_request("pageSize must be an integer from 1 to 100"))?;
            }
            _ => {}
        }
    }
    Ok((page, size))
}

fn paginate(items: Vec<Value>, page: usize, size: usize, path: &str) -> Value {
    let total = items.len();
    let pages = total.div_ceil(size).max(1);
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    let link = |p: usize| json!(format!("{path}?page={p}&pageSize={size}"));
    json!({
        "data": data,
        "links": {
            "self": link(page),
            "first": link(1),
            "last": link(pages),
            "prev": if page > 1 { link(page - 1) } else { Value::Null },
            "next": if page < pages { link(page + 1) } else { Value::Null },
        },
        "meta": { "page": page, "pageSize": size, "total": total, "totalPages": pages },
    })
}

async fn list_customers(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CUSTOMER_SCOPE) {
        return r;
    }
    let (page, size) = match paging(q.as_deref()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let data = lock(&st.kustomer);
    let items = data
        .customers
        .iter()
        .map(|c| customer_json(c, &data))
        .collect();
    json_response(
        StatusCode::OK,
        &paginate(items, page, size, "/v1/customers"),
    )
}

async fn get_customer(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CUSTOMER_SCOPE) {
        return r;
    }
    let data = lock(&st.kustomer);
    match data.customers.iter().find(|c| c.id == id) {
        Some(c) => json_response(StatusCode::OK, &json!({ "data": customer_json(c, &data) })),
        None => api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no customer {id}"),
        ),
    }
}

/// The attributes of a create/update body: JSON:API `{"data":{"attributes":{…}}}` or flat.
fn attributes(body: &[u8], kind: &str) -> Result<Map<String, Value>, Response> {
    let mut obj = json_object(body)?;
    if let Some(Value::Object(mut data)) = obj.remove("data") {
        if let Some(t) = data.get("type").and_then(Value::as_str)
            && t != kind
        {
            return Err(api_error(
                StatusCode::CONFLICT,
                "Conflict",
                &format!("type must be {kind}"),
            ));
        }
        let mut attrs = match data.remove("attributes") {
            Some(Value::Object(a)) => a,
            None => Map::new(),
            Some(_) => return Err(bad_request("data.attributes must be an object")),
        };
        if let Some(Value::Object(rel)) = data.remove("relationships") {
            for (k, v) in rel {
                if let Some(id) = v.pointer("/data/id").and_then(Value::as_str) {
                    attrs.insert(k, json!(id));
                }
            }
        }
        return Ok(attrs);
    }
    Ok(obj)
}

fn check_customer_attrs(attrs: &Map<String, Value>) -> Result<(), Response> {
    for (k, v) in attrs {
        let ok = match k.as_str() {
            "name" | "displayName" | "externalId" | "locale" | "timeZone" => {
                v.is_string() || v.is_null()
            }
            "tags" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "emails" => v.as_array().is_some_and(|a| {
                a.iter().all(|e| {
                    e.get("email")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.contains('@'))
                })
            }),
            "phones" => v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|e| e.get("phone").and_then(Value::as_str).is_some())
            }),
            _ => return Err(bad_request(&format!("unknown customer attribute {k}"))),
        };
        if !ok {
            return Err(bad_request(&format!("invalid value for {k}")));
        }
    }
    Ok(())
}

async fn create_customer(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = require_scope(&st, &headers, CUSTOMER_SCOPE) {
        return r;
    }
    let mut attrs =
        match attributes(&body, "customer").and_then(|a| check_customer_attrs(&a).map(|()| a)) {
            Ok(a) => a,
            Err(r) => return r,
        };
    let now = rfc3339(st.now());
    if !attrs.contains_key("displayName")
        && let Some(n) = attrs.get("name").cloned()
    {
        attrs.insert("displayName".to_owned(), n);
    }
    for k in ["emails", "phones", "tags"] {
        attrs.entry(k).or_insert_with(|| json!([]));
    }
    for k in ["createdAt", "updatedAt", "modifiedAt"] {
        attrs.insert(k.to_owned(), json!(now));
    }
    let mut data = lock(&st.kustomer);
    let id = data.new_id();
    let rec = Record {
        id,
        attrs,
        customer: None,
    };
    let out = customer_json(&rec, &data);
    data.customers.push(rec);
    json_response(StatusCode::CREATED, &json!({ "data": out }))
}

async fn update_customer(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CUSTOMER_SCOPE) {
        return r;
    }
    let attrs =
        match attributes(&body, "customer").and_then(|a| check_customer_attrs(&a).map(|()| a)) {
            Ok(a) => a,
            Err(r) => return r,
        };
    let now = rfc3339(st.now());
    let mut data = lock(&st.kustomer);
    let Some(pos) = data.customers.iter().position(|c| c.id == id) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no customer {id}"),
        );
    };
    let rec = &mut data.customers[pos];
    for (k, v) in attrs {
        rec.attrs.insert(k, v);
    }
    rec.attrs.insert("updatedAt".to_owned(), json!(now));
    rec.attrs.insert("modifiedAt".to_owned(), json!(now));
    let rec = rec.clone();
    json_response(
        StatusCode::OK,
        &json!({ "data": customer_json(&rec, &data) }),
    )
}

/// One search criterion: `{"customer_name": {"contains": "ann"}}`.
fn matches(c: &Record, crit: &Value) -> Result<bool, String> {
    let Some((field, cond)) = crit.as_object().and_then(|o| o.iter().next()) else {
        return Err("each criterion must be {field: {operator: value}}".to_owned());
    };
    let values: Vec<String> = match field.as_str() {
        "customer_name" => c
            .attrs
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        "customer_email" => c
            .attrs
            .get("emails")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("email").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        "customer_external_id" => c
            .attrs
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        "customer_locale" => c
            .attrs
            .get("locale")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        "customer_tags" => c
            .attrs
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        "customer_created_at" => c
            .attrs
            .get("createdAt")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        other => return Err(format!("unsupported search field {other}")),
    };
    let Some((op, arg)) = cond.as_object().and_then(|o| o.iter().next()) else {
        return Err(format!("{field} needs {{operator: value}}"));
    };
    let Some(arg) = arg.as_str() else {
        return Err(format!("{field}.{op} needs a string value"));
    };
    let arg_l = arg.to_lowercase();
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
    Ok(match op.as_str() {
        "eq" => any(&|v| v.eq_ignore_ascii_case(arg)),
        "ne" => !any(&|v| v.eq_ignore_ascii_case(arg)),
        "contains" => any(&|v| v.to_lowercase().contains(&arg_l)),
        "gt" => any(&|v| v > arg),
        "gte" => any(&|v| v >= arg),
        "lt" => any(&|v| v < arg),
        "lte" => any(&|v| v <= arg),
        other => return Err(format!("unsupported operator {other}")),
    })
}

async fn search_customers(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CUSTOMER_SCOPE) {
        return r;
    }
    let (page, size) = match paging(q.as_deref()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let filter = match json_object(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let list = |k: &str| -> Result<Vec<Value>, Response> {
        match filter.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(bad_request(&format!("{k} must be an array"))),
        }
    };
    let (and, or) = match (list("and"), list("or")) {
        (Ok(a), Ok(o)) => (a, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let data = lock(&st.kustomer);
    let mut hits = Vec::new();
    for c in &data.customers {
        let mut ok = true;
        for crit in &and {
            match matches(c, crit) {
                Ok(m) => ok &= m,
                Err(e) => return bad_request(&e),
            }
        }
        if !or.is_empty() {
            let mut any = false;
            for crit in &or {
                match matches(c, crit) {
                    Ok(m) => any |= m,
                    Err(e) => return bad_request(&e),
                }
            }
            ok &= any;
        }
        if ok {
            hits.push(customer_json(c, &data));
        }
    }
    json_response(
        StatusCode::OK,
        &paginate(hits, page, size, "/v1/customers/search"),
    )
}

async fn customer_conversations(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CONVERSATION_SCOPE) {
        return r;
    }
    let (page, size) = match paging(q.as_deref()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let data = lock(&st.kustomer);
    if !data.customers.iter().any(|c| c.id == id) {
        return api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no customer {id}"),
        );
    }
    let items = data
        .conversations
        .iter()
        .filter(|v| v.customer.as_deref() == Some(id.as_str()))
        .map(|v| conversation_json(v, &data.org_id))
        .collect();
    json_response(
        StatusCode::OK,
        &paginate(
            items,
            page,
            size,
            &format!("/v1/customers/{id}/conversations"),
        ),
    )
}

async fn get_conversation(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CONVERSATION_SCOPE) {
        return r;
    }
    let data = lock(&st.kustomer);
    match data.conversations.iter().find(|v| v.id == id) {
        Some(v) => json_response(
            StatusCode::OK,
            &json!({ "data": conversation_json(v, &data.org_id) }),
        ),
        None => api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no conversation {id}"),
        ),
    }
}

async fn create_conversation(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = require_scope(&st, &headers, CONVERSATION_SCOPE) {
        return r;
    }
    let mut attrs = match attributes(&body, "conversation") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(customer) = attrs
        .remove("customer")
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return bad_request("customer (id) is required");
    };
    for (k, v) in &attrs {
        let ok = match k.as_str() {
            "name" | "preview" | "direction" => v.is_string(),
            "status" => matches!(v.as_str(), Some("open" | "done" | "snoozed")),
            "priority" => v.as_u64().is_some_and(|p| (1..=5).contains(&p)),
            "tags" | "channels" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            _ => return bad_request(&format!("unknown conversation attribute {k}")),
        };
        if !ok {
            return bad_request(&format!("invalid value for {k}"));
        }
    }
    let now = rfc3339(st.now());
    for (k, v) in [
        ("status", json!("open")),
        ("priority", json!(3)),
        ("direction", json!("in")),
        ("channels", json!(["email"])),
        ("tags", json!([])),
        ("messageCount", json!(0)),
        ("name", json!("")),
        ("preview", json!("")),
    ] {
        attrs.entry(k).or_insert(v);
    }
    attrs.insert("createdAt".to_owned(), json!(now));
    attrs.insert("updatedAt".to_owned(), json!(now));
    let mut data = lock(&st.kustomer);
    if !data.customers.iter().any(|c| c.id == customer) {
        return bad_request(&format!("no customer {customer}"));
    }
    let id = data.new_id();
    let rec = Record {
        id,
        attrs,
        customer: Some(customer),
    };
    let out = conversation_json(&rec, &data.org_id);
    data.conversations.push(rec);
    json_response(StatusCode::CREATED, &json!({ "data": out }))
}
