//! Consent pages, the consent form post, and authorization codes.
//!
//! Each provider's authorize handler validates its own parameters, then calls [`show`]. The
//! page posts `request_id` (hidden) and `decision` (`approve`/`deny`) to
//! `{prefix}/_sandbox/consent`. Approval mints a code: single-use, valid 60 s (sandbox clock),
//! bound to the client, the redirect URI (byte-identical) and the PKCE challenge.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::oauth::{OAuthError, ct_eq, random_token, s256, valid_verifier};
use crate::provider::Provider;
use crate::state::{AppState, lock};

/// Lifetime of an authorization code, seconds (sandbox clock).
pub(crate) const CODE_LIFETIME: i64 = 60;
/// Lifetime of a consent page (its `request_id`), seconds.
const PENDING_LIFETIME: i64 = 600;

/// A validated authorization request waiting for the user's decision.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) client_name: String,
    pub(crate) redirect_uri: String,
    /// Granted scope (space-separated), empty if the provider has none.
    pub(crate) scope: String,
    /// `(scope, description)` lines for the page.
    pub(crate) scope_lines: Vec<(String, String)>,
    pub(crate) state: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) subject: String,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) expires_at: i64,
}

/// Pending consent requests, live codes, and spent codes.
#[derive(Debug, Default)]
pub(crate) struct ConsentStore {
    pending: HashMap<String, (Pending, i64)>,
    codes: HashMap<String, AuthCode>,
    spent: HashSet<String>,
}

/// Escapes text for HTML content and double-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// Readable from a 375 px phone to a 1280 px desktop: one centred column, no fixed widths, long
// URIs wrap, buttons stack full width on narrow screens. Nothing is loaded from elsewhere.
const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',\
Roboto,sans-serif;background:#eef0f4;color:#1d2330;margin:0;line-height:1.45;font-size:1rem}\
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:10px;padding:1.75rem 2rem;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}.brand{font-weight:700;letter-spacing:.02em;color:#2d6cdf;\
margin:0 0 1rem;font-size:1.1rem}h1{font-size:1.35rem;margin:0 0 .75rem}h2{font-size:1rem;\
margin:1.25rem 0 .5rem}ul{padding-left:1.2rem;margin:.25rem 0}li{margin:.35rem 0}\
code{background:#eef1fb;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere;\
font-size:.9em}dl{margin:1rem 0;display:grid;grid-template-columns:max-content 1fr;\
gap:.35rem 1rem}dt{color:#555}dd{margin:0;overflow-wrap:anywhere}.actions{display:flex;\
gap:1rem;margin-top:1.5rem}button{flex:1;padding:.7rem 1.25rem;font-size:1rem;\
border-radius:6px;border:1px solid #888;background:#fff;color:#1d2330;cursor:pointer}\
button:focus-visible{outline:3px solid #9bbcf5;outline-offset:2px}\
button[value=approve]{background:#2d6cdf;color:#fff;border-color:#2d6cdf}\
.note{color:#555;font-size:.85rem}@media(max-width:30rem){main{margin:0;border-radius:0;\
padding:1.25rem 1rem;min-height:100vh}dl{grid-template-columns:1fr}dt{margin-top:.4rem}\
.actions{flex-direction:column}}";

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        esc(title)
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        page,
    )
        .into_response()
}

/// The HTML error page (400) for an invalid client or redirect URI: never redirects.
pub(crate) fn error_page(provider: Provider, message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        &format!("{} — authorization error", provider.name()),
        &format!(
            "<h1>Authorization error</h1><p id=\"error\">{}</p>\
             <p class=\"note\">{} sandbox. The application cannot be sent back to.</p>",
            esc(message),
            provider.name()
        ),
    )
}

/// `redirect_uri` with `params` appended to its query.
fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let extra = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let base = redirect_uri.split('#').next().unwrap_or(redirect_uri);
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{sep}{extra}")
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect").into_response(),
    }
}

/// A 302 to the (validated) redirect URI with an RFC 6749 §4.1.2.1 error.
pub(crate) fn redirect_error(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    found(&with_query(redirect_uri, &params))
}

/// Stores the request and serves the consent page.
pub(crate) fn show(st: &AppState, pending: Pending) -> Response {
    let id = random_token("");
    let now = st.now();
    let provider = pending.provider;
    let title = format!(
        "Allow {} to use your {} account?",
        pending.client_name,
        provider.name()
    );
    // Each scope in words first; the wire name, where there is one, after it.
    let scopes = pending
        .scope_lines
        .iter()
        .map(|(s, d)| {
            if s.is_empty() {
                format!("<li>{}</li>", esc(d))
            } else {
                format!("<li>{} <code>{}</code></li>", esc(d), esc(s))
            }
        })
        .collect::<String>();
    let scopes = if scopes.is_empty() {
        "<li>See your account information</li>".to_owned()
    } else {
        scopes
    };
    let destination = if is_loopback_uri(&pending.redirect_uri) {
        "an application on this computer"
    } else {
        "the application's website"
    };
    let body = format!(
        "<p class=\"brand\" id=\"provider\">{prov}</p>\
         <h1>Allow <span id=\"client-name\">{app}</span> to use your {prov} account?</h1>\
         <p>You are signed in to {prov} as <strong id=\"user\">{user}</strong>.</p>\
         <h2>{app} will be able to:</h2><ul id=\"scopes\">{scopes}</ul>\
         <dl><dt>Application</dt><dd>{app} <code id=\"client-id\">{client}</code></dd>\
         <dt>Afterwards you go to</dt><dd>{destination}: <code id=\"redirect\">{redirect}</code>\
         </dd></dl>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>\
         </div></form>\
         <p class=\"note\">Approve only if you started this sign-in in {app}. Deny sends \
         nothing to the application but the refusal.</p>\
         <p class=\"note\">{prov} sandbox: test data only.</p>",
        app = esc(&pending.client_name),
        prov = provider.name(),
        user = esc(&pending.subject),
        client = esc(&pending.client_id),
        redirect = esc(&pending.redirect_uri),
        action = esc(&format!("{}/_sandbox/consent", provider.prefix())),
        id = esc(&id),
    );
    {
        let mut store = lock(&st.consent);
        store.pending.retain(|_, (_, exp)| *exp > now);
        store.pending.insert(id, (pending, now + PENDING_LIFETIME));
    }
    html(StatusCode::OK, &title, &body)
}

/// The consent form fields.
#[derive(Debug, Deserialize)]
pub(crate) struct ConsentForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    decision: String,
}

/// `POST {prefix}/_sandbox/consent`.
pub(crate) async fn submit(
    provider: Provider,
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<ConsentForm>(&body) else {
        return error_page(provider, "The consent form was malformed.");
    };
    let now = st.now();
    let pending = {
        let mut store = lock(&st.consent);
        match store.pending.remove(&form.request_id) {
            Some((p, exp)) if exp > now && p.provider == provider => Some(p),
            _ => None,
        }
    };
    let Some(p) = pending else {
        return error_page(
            provider,
            "This consent request is unknown, already answered or expired.",
        );
    };
    match form.decision.as_str() {
        "approve" => {
            let code = random_token("");
            let auth = AuthCode {
                provider,
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                scope: p.scope.clone(),
                code_challenge: p.code_challenge.clone(),
                expires_at: now + CODE_LIFETIME,
            };
            lock(&st.consent).codes.insert(code.clone(), auth);
            let mut params = vec![("code", code.as_str())];
            if let Some(s) = p.state.as_deref() {
                params.push(("state", s));
            }
            found(&with_query(&p.redirect_uri, &params))
        }
        "deny" => redirect_error(
            &p.redirect_uri,
            "access_denied",
            "The user denied the authorization request",
            p.state.as_deref(),
        ),
        _ => error_page(provider, "The consent form carried no valid decision."),
    }
}

/// Redeems a code at a token endpoint (after client authentication). The code is spent by
/// this call whatever the outcome; replaying a spent code revokes the tokens issued from it.
pub(crate) fn redeem(
    st: &AppState,
    provider: Provider,
    code: &str,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<AuthCode, OAuthError> {
    let now = st.now();
    let taken = {
        let mut store = lock(&st.consent);
        let taken = store.codes.remove(code);
        if taken.is_none() && store.spent.contains(code) {
            drop(store);
            lock(&st.tokens).revoke_code_family(code);
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        if taken.is_some() {
            store.spent.insert(code.to_owned());
        }
        taken
    };
    let Some(auth) = taken else {
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid",
        ));
    };
    if auth.provider != provider || !ct_eq(&auth.client_id, client_id) {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if now >= auth.expires_at {
        return Err(OAuthError::invalid_grant("the authorization code expired"));
    }
    match redirect_uri {
        Some(r) if r == auth.redirect_uri => {}
        Some(_) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        None => return Err(OAuthError::invalid_request("redirect_uri is required")),
    }
    match (auth.code_challenge.as_deref(), verifier) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (Some(challenge), Some(v)) => {
            if !valid_verifier(v) || !ct_eq(&s256(v), challenge) {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
    }
    Ok(auth)
}

/// Checks a redirect URI against the registered ones (exact match). With none registered,
/// any `http://127.0.0.1…`, `http://[::1]…` or `https://` URI is accepted. With
/// `loopback_any_port`, a registered loopback IP redirect URI matches the same URI on any port
/// (RFC 8252 §7.3: a native app picks its port when it starts listening).
pub(crate) fn redirect_allowed(registered: &[String], uri: &str, loopback_any_port: bool) -> bool {
    if registered.is_empty() {
        let ok_prefix = uri.starts_with("https://")
            || uri.starts_with("http://127.0.0.1:")
            || uri.starts_with("http://127.0.0.1/")
            || uri.starts_with("http://[::1]:")
            || uri.starts_with("http://[::1]/");
        return ok_prefix && !uri.contains('#') && url::Url::parse(uri).is_ok();
    }
    registered
        .iter()
        .any(|r| r == uri || (loopback_any_port && same_loopback_but_port(r, uri)))
}

/// Whether `uri` is `registered` (an `http` loopback IP literal) with another port. `uri` must
/// be in normal form, since the code is later bound to it byte for byte.
fn same_loopback_but_port(registered: &str, uri: &str) -> bool {
    let (Ok(r), Ok(u)) = (url::Url::parse(registered), url::Url::parse(uri)) else {
        return false;
    };
    is_loopback_uri(registered)
        && u.scheme() == "http"
        && u.as_str() == uri
        && u.host() == r.host()
        && u.path() == r.path()
        && u.query() == r.query()
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
}

/// Whether `uri` is `http` on a loopback IP literal (not a name such as `localhost`).
fn is_loopback_uri(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    u.scheme() == "http"
        && match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        }
}

/// A registered OAuth client as the authorize endpoint sees it.
pub(crate) struct ClientInfo {
    pub(crate) name: String,
    pub(crate) redirect_uris: Vec<String>,
    /// RFC 8252 §7.3: registered loopback redirect URIs match on any port.
    pub(crate) loopback_any_port: bool,
}

/// What a provider adds to a validated request: scope and PKCE challenge.
pub(crate) struct Extra {
    pub(crate) scope: String,
    pub(crate) scope_lines: Vec<(String, String)>,
    pub(crate) code_challenge: Option<String>,
}

/// An authorize-time error sent back to the client by redirect (RFC 6749 §4.1.2.1).
pub(crate) type RedirectErr = (&'static str, String);

/// The common authorize flow. Errors about the client or redirect URI get the HTML error
/// page; every other error redirects with `error` + `state`.
pub(crate) fn authorize(
    st: &AppState,
    provider: Provider,
    raw_query: Option<&str>,
    subject: &str,
    lookup: impl FnOnce(&str) -> Option<ClientInfo>,
    extra: impl FnOnce(&HashMap<String, String>) -> Result<Extra, RedirectErr>,
) -> Response {
    let pairs: Vec<(String, String)> =
        match serde_urlencoded::from_str(raw_query.unwrap_or_default()) {
            Ok(p) => p,
            Err(_) => return error_page(provider, "The authorization request is malformed."),
        };
    let mut params = HashMap::new();
    let mut repeated = None;
    for (k, v) in pairs {
        match params.entry(k) {
            std::collections::hash_map::Entry::Occupied(e) => repeated = Some(e.key().clone()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }
    if let Some(k) = repeated.as_deref()
        && (k == "client_id" || k == "redirect_uri")
    {
        return error_page(provider, &format!("The parameter {k} is repeated."));
    }
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return error_page(provider, "The request has no client_id.");
    };
    let Some(client) = lookup(client_id) else {
        return error_page(
            provider,
            "Unknown client_id: this application is not registered.",
        );
    };
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return error_page(provider, "The request has no redirect_uri.");
    };
    if !redirect_allowed(
        &client.redirect_uris,
        redirect_uri,
        client.loopback_any_port,
    ) {
        return error_page(
            provider,
            "The redirect_uri does not match the one registered for this application.",
        );
    }
    let state = params.get("state").cloned();
    let fail = |e: &str, d: &str| redirect_error(redirect_uri, e, d, state.as_deref());
    if let Some(k) = repeated {
        return fail("invalid_request", &format!("parameter {k} is repeated"));
    }
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        None => return fail("invalid_request", "response_type is required"),
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    let extra = match extra(&params) {
        Ok(x) => x,
        Err((e, d)) => return fail(e, &d),
    };
    show(
        st,
        Pending {
            provider,
            client_id: client_id.clone(),
            client_name: client.name,
            redirect_uri: redirect_uri.clone(),
            scope: extra.scope,
            scope_lines: extra.scope_lines,
            state,
            code_challenge: extra.code_challenge,
            subject: subject.to_owned(),
        },
    )
}

/// PKCE parameters: S256 only. `required` makes a missing challenge an error.
pub(crate) fn pkce(
    params: &HashMap<String, String>,
    required: bool,
) -> Result<Option<String>, RedirectErr> {
    let challenge = params.get("code_challenge").filter(|c| !c.is_empty());
    let method = params.get("code_challenge_method").map(String::as_str);
    match (challenge, method) {
        (None, None) if required => Err((
            "invalid_request",
            "code_challenge is required (PKCE S256)".to_owned(),
        )),
        (None, None) => Ok(None),
        (None, Some(_)) => Err((
            "invalid_request",
            "code_challenge_method without code_challenge".to_owned(),
        )),
        (Some(_), m) if m != Some("S256") => Err((
            "invalid_request",
            "code_challenge_method must be S256".to_owned(),
        )),
        (Some(c), _) if !crate::oauth::valid_challenge(c) => Err((
            "invalid_request",
            "code_challenge must be 43 base64url characters".to_owned(),
        )),
        (Some(c), _) => Ok(Some(c.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_appending() {
        assert_eq!(
            with_query("http://127.0.0.1/cb", &[("code", "a b"), ("state", "x&y")]),
            "http://127.0.0.1/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://e.x/cb?t=1", &[("code", "c")]),
            "https://e.x/cb?t=1&code=c"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }

    #[test]
    fn redirect_rules() {
        assert!(redirect_allowed(&[], "http://127.0.0.1:8080/cb", false));
        assert!(redirect_allowed(&[], "https://app.example/cb", false));
        assert!(!redirect_allowed(&[], "http://localhost/cb", false));
        assert!(!redirect_allowed(
            &[],
            "http://127.0.0.1.evil.com/cb",
            false
        ));
        let reg = vec!["http://127.0.0.1/callback".to_owned()];
        assert!(redirect_allowed(&reg, "http://127.0.0.1/callback", false));
        assert!(!redirect_allowed(&reg, "http://127.0.0.1/callback/", false));
        assert!(!redirect_allowed(
            &reg,
            "http://127.0.0.1:5000/callback",
            false
        ));
    }

    #[test]
    fn rfc8252_loopback_redirects_match_on_any_port_only_when_allowed() {
        let reg = vec!["http://127.0.0.1/callback".to_owned()];
        for ok in [
            "http://127.0.0.1/callback",
            "http://127.0.0.1:5000/callback",
            "http://127.0.0.1:65535/callback",
        ] {
            assert!(redirect_allowed(&reg, ok, true), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:5000/callback/",
            "http://127.0.0.1:5000/other",
            "http://127.0.0.1:5000/callback?x=1",
            "http://127.0.0.1:5000/callback#f",
            "http://127.0.0.2:5000/callback",
            "http://[::1]:5000/callback",
            "http://localhost:5000/callback",
            "https://127.0.0.1:5000/callback",
            "http://u@127.0.0.1:5000/callback",
            "http://127.0.0.1:5000/./callback",
            "http://127.0.0.1:05000/callback",
        ] {
            assert!(!redirect_allowed(&reg, bad, true), "{bad}");
        }
        // Only a loopback registration opens the port: an https one still matches exactly.
        let web = vec!["https://app.example/cb".to_owned()];
        assert!(!redirect_allowed(&web, "https://app.example:8443/cb", true));
    }
}
