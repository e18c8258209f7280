//! Private-app registration and client-secret generation, with an org API key.
//!
//! 1. [`AppsClient::register`] posts a minimal app definition to `POST /v1/apps/available`.
//!    Kustomer namespaces a private app's name with the org id: `myoauthapp` becomes
//!    `myoauthapp_<orgId>` ([`RegisteredApp::name`], a [`NamespacedAppName`]).
//! 2. The app is installed from the org's App Directory (until then the token endpoint answers
//!    400 "Invalid Client", see [`crate::Error::AppNotInstalled`]).
//! 3. [`AppsClient::generate_secret`] posts `{}` to `POST /v1/apps/available/{name}/secret` and
//!    returns the client id and a new client secret; calling it again rotates the secret.
//!
//! The secret call needs the **namespaced** name (`attributes.name`), not the bare `app` and
//! not `data.id` (`<name>-<version>`): it takes a [`NamespacedAppName`], which only a
//! registration response or a validated constructor produces.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use oauth_flow::http::Method;
use oauth_flow::{
    AccessToken, ApiClient, ApiKey, Authorization, Endpoint, HttpRequest, HttpResponse,
    SecretString,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::encode_segment;
use crate::config::Kustomer;
use crate::error::{Error, Result};
use crate::response;

/// A minimal private-app definition, as the seed's example:
/// `{"app": "myoauthapp", "version": "0.0.1", "title": "My OAuth App", "visibility": "private"}`.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct AppDefinition {
    app: String,
    version: String,
    title: String,
    redirect_uris: Vec<String>,
    extra: Map<String, Value>,
}

impl AppDefinition {
    /// A private app (`"visibility": "private"`): installable only in your organization.
    /// `title` is shown on Kustomer's authorization screen.
    pub fn private(
        app: impl Into<String>,
        version: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        Self {
            app: app.into(),
            version: version.into(),
            title: title.into(),
            redirect_uris: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Adds a redirect URI to register (`redirectUris`); none are sent by default.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Any other member of an app definition (e.g. `description`), sent as is. The members the
    /// SDK sets (`app`, `version`, `title`, `visibility`, `redirectUris`) cannot be replaced.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The bare app name (before namespacing).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Checks the definition and builds the JSON body.
    pub fn to_body(&self) -> Result<Value> {
        check_app_name(&self.app)?;
        if self.version.trim().is_empty() {
            return Err(Error::invalid("app version", "must not be empty"));
        }
        if self.title.trim().is_empty() {
            return Err(Error::invalid("app title", "must not be empty"));
        }
        let mut body = self.extra.clone();
        body.insert("app".into(), Value::from(self.app.as_str()));
        body.insert("version".into(), Value::from(self.version.as_str()));
        body.insert("title".into(), Value::from(self.title.as_str()));
        body.insert("visibility".into(), Value::from("private"));
        if self.redirect_uris.is_empty() {
            body.remove("redirectUris");
        } else {
            body.insert(
                "redirectUris".into(),
                Value::from(self.redirect_uris.clone()),
            );
        }
        Ok(Value::Object(body))
    }
}

/// `app` must be usable in a URL path once namespaced: ASCII letters, digits, `-`, `_`, `.`.
fn check_app_name(app: &str) -> Result<()> {
    if app.is_empty() {
        return Err(Error::invalid("app name", "must not be empty"));
    }
    if app.len() > 128 {
        return Err(Error::invalid("app name", "is longer than 128 bytes"));
    }
    if !app
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Error::invalid(
            "app name",
            "may hold only ASCII letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(())
}

/// A private app's namespaced name, `<app>_<orgId>` (e.g. `myoauthapp_5f1d3c2b4a6978e0d1c2b3a4`):
/// what [`AppsClient::generate_secret`] needs.
///
/// Obtained from a registration response ([`RegisteredApp::name`]) or built explicitly with
/// [`new`](Self::new) or [`parse`](Self::parse), which refuse a bare app name and a `data.id`
/// (`<name>-<version>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamespacedAppName {
    name: String,
    /// Byte offset of the `_` that separates the app from the org id.
    split: usize,
}

impl NamespacedAppName {
    /// `<app>_<orgId>` from the bare app name and your organization id.
    pub fn new(app: &str, org_id: &str) -> Result<Self> {
        check_app_name(app)?;
        check_org_id(org_id)?;
        Ok(Self {
            name: format!("{app}_{org_id}"),
            split: app.len(),
        })
    }

    /// Parses `<app>_<orgId>`. The org id is the part after the last `_` and must be ASCII
    /// letters and digits only, so a bare name (`myoauthapp`) and a `data.id`
    /// (`myoauthapp_<orgId>-0.0.1`) are refused.
    pub fn parse(name: &str) -> Result<Self> {
        let Some((app, org)) = name.rsplit_once('_') else {
            return Err(Error::invalid(
                "namespaced app name",
                "expected `<app>_<orgId>` (the `attributes.name` of the registration response)",
            ));
        };
        if org.contains(['-', '.']) {
            return Err(Error::invalid(
                "namespaced app name",
                "looks like `data.id` (`<name>-<version>`); use `attributes.name`",
            ));
        }
        Self::new(app, org)
    }

    /// The name as Kustomer returned it: the server is the authority, so only path safety and
    /// the `<app>_<org>` shape are checked.
    fn from_response(name: &str) -> Result<Self> {
        let bad = || Error::Decode {
            what: "app registration response".into(),
            source: oauth_flow::JsonError::shape(
                "`data.attributes.name` is not a namespaced app name",
            ),
        };
        let (app, org) = name.rsplit_once('_').ok_or_else(bad)?;
        let safe = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !safe(app) || !safe(org) {
            return Err(bad());
        }
        Ok(Self {
            name: name.to_owned(),
            split: app.len(),
        })
    }

    /// The full name, `<app>_<orgId>`.
    pub fn as_str(&self) -> &str {
        &self.name
    }
    /// The bare app name.
    pub fn app(&self) -> &str {
        &self.name[..self.split]
    }
    /// The organization id.
    pub fn org_id(&self) -> &str {
        &self.name[self.split + 1..]
    }
}

impl fmt::Display for NamespacedAppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn check_org_id(org: &str) -> Result<()> {
    if org.is_empty() || org.len() > 64 || !org.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "organization id",
            "must be 1 to 64 ASCII letters and digits",
        ));
    }
    Ok(())
}

/// A registered app, from `POST /v1/apps/available` (or the secret call).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegisteredApp {
    /// `data.type` (`available_app`).
    pub kind: String,
    /// `data.id`: `<name>-<version>`. Not the name the secret call needs: see [`name`](Self::name).
    pub id: String,
    /// `data.attributes.name`: `<app>_<orgId>`.
    pub name: NamespacedAppName,
    /// `data.attributes.clientId`: the OAuth client id.
    pub client_id: String,
    /// `data.attributes.version`.
    pub version: Option<String>,
    /// `data.attributes.visibility` (`private`).
    pub visibility: Option<String>,
    /// `data.attributes.title`.
    pub title: Option<String>,
    /// `data.attributes.redirectUris`.
    pub redirect_uris: Vec<String>,
    /// Every other attribute, as sent (e.g. `auth`, `createdAt`).
    pub attributes: Map<String, Value>,
    /// Every other member of `data` (e.g. `relationships`, `links`).
    pub extra: Map<String, Value>,
}

/// A client secret generated for an app, with its client id. `Debug` hides the secret.
#[derive(Clone)]
pub struct GeneratedSecret {
    app: RegisteredApp,
    client_secret: SecretString,
}

impl GeneratedSecret {
    /// The OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.app.client_id
    }
    /// The new client secret. Any previously generated secret no longer works.
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }
    /// The app as returned with the secret.
    pub fn app(&self) -> &RegisteredApp {
        &self.app
    }
}

impl fmt::Debug for GeneratedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedSecret")
            .field("name", &self.app.name.as_str())
            .field("client_id", &self.app.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

#[derive(Deserialize)]
struct AppDocWire {
    data: AppWire,
}

#[derive(Deserialize)]
struct AppWire {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    attributes: AppAttrsWire,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AppAttrsWire {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    /// Parsed straight into a secret so it never lands in `extra`.
    #[serde(default)]
    client_secret: Option<SecretString>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

const REGISTRATION: &str = "app registration response";
const SECRET: &str = "client secret response";

/// Parses an app document; returns the app and the client secret if one was sent.
fn parse_app(
    resp: &HttpResponse,
    what: &'static str,
) -> Result<(RegisteredApp, Option<SecretString>)> {
    let doc: AppDocWire = response::decode(resp, what)?;
    let AppWire {
        kind,
        id,
        attributes: a,
        extra,
    } = doc.data;
    let name = a.name.ok_or(Error::MissingField {
        what,
        field: "data.attributes.name",
    })?;
    let client_id = a
        .client_id
        .filter(|c| !c.is_empty())
        .ok_or(Error::MissingField {
            what,
            field: "data.attributes.clientId",
        })?;
    let app = RegisteredApp {
        kind,
        id,
        name: NamespacedAppName::from_response(&name)?,
        client_id,
        version: a.version,
        visibility: a.visibility,
        title: a.title,
        redirect_uris: a.redirect_uris.unwrap_or_default(),
        attributes: a.extra,
        extra,
    };
    Ok((app, a.client_secret))
}

/// `POST v1/apps/available`.
struct RegisterApp {
    body: Value,
}

impl Endpoint for RegisterApp {
    type Output = Value;
    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed("v1/apps/available")
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(Some(self.body.clone()))
    }
}

/// `POST v1/apps/available/{name}/secret` with `{}`.
struct GenerateSecret<'a> {
    name: &'a NamespacedAppName,
}

impl Endpoint for GenerateSecret<'_> {
    type Output = Value;
    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Owned(format!(
            "v1/apps/available/{}/secret",
            encode_segment(self.name.as_str())
        ))
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(Some(Value::Object(Map::new())))
    }
}

/// Registers private apps and generates their client secrets with an org API key (roles
/// `org.admin.apps` and `org.permission.apps`), sent as `Authorization: Bearer <key>`.
///
impl Kustomer {
    /// The app-management client, authenticated with an org API key holding the roles
    /// `org.admin.apps` and `org.permission.apps` (sent as `Authorization: Bearer <key>`).
    pub fn apps(&self, api_key: SecretString) -> Result<AppsClient> {
        AppsClient::new(self, api_key)
    }
}

/// Obtained from [`Kustomer::apps`]. Neither call is retried: each has a side effect.
#[derive(Clone)]
pub struct AppsClient {
    api: ApiClient,
    auth: Authorization,
}

impl fmt::Debug for AppsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppsClient")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl AppsClient {
    pub(crate) fn new(kustomer: &Kustomer, api_key: SecretString) -> Result<Self> {
        let source = ApiKey::bearer(&api_key)?;
        let auth = Authorization::bearer(AccessToken::new(api_key))?;
        Ok(Self {
            api: kustomer.api_client(Arc::new(source))?,
            auth,
        })
    }

    /// The registration request, built but not sent (for inspection and snapshots).
    pub fn register_request(&self, definition: &AppDefinition) -> Result<HttpRequest> {
        let endpoint = RegisterApp {
            body: definition.to_body()?,
        };
        Ok(self.api.request(&endpoint, Some(&self.auth))?)
    }

    /// Registers a private app: `POST /v1/apps/available`. Install it in the org before the
    /// OAuth flow (see the module docs).
    ///
    /// Errors: [`Error::Unauthorized`] for a rejected API key, [`Error::Api`] for a JSON:API
    /// error document (e.g. 409 when this version exists) and for anything
    /// else.
    pub async fn register(&self, definition: &AppDefinition) -> Result<RegisteredApp> {
        let endpoint = RegisterApp {
            body: definition.to_body()?,
        };
        let resp = self.api.execute(&endpoint).await?;
        let (app, _secret) = parse_app(&resp, REGISTRATION)?;
        Ok(app)
    }

    /// The secret request, built but not sent.
    pub fn generate_secret_request(&self, app: &NamespacedAppName) -> Result<HttpRequest> {
        Ok(self
            .api
            .request(&GenerateSecret { name: app }, Some(&self.auth))?)
    }

    /// Generates a new client secret: `POST /v1/apps/available/{app}/secret` with `{}`. Each
    /// call replaces the previous secret, which stops working at the token endpoint.
    pub async fn generate_secret(&self, app: &NamespacedAppName) -> Result<GeneratedSecret> {
        let resp = self.api.execute(&GenerateSecret { name: app }).await?;
        let (app, secret) = parse_app(&resp, SECRET)?;
        let client_secret = secret
            .filter(|s| !oauth_flow::ExposeSecret::expose_secret(s).is_empty())
            .ok_or(Error::MissingField {
                what: SECRET,
                field: "data.attributes.clientSecret",
            })?;
        Ok(GeneratedSecret { app, client_secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::ExposeSecret;
    use oauth_flow::http::StatusCode;

    const ORG: &str = "5f1d3c2b4a6978e0d1c2b3a4";

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }

    fn seed_response(secret: Option<&str>) -> String {
        let mut attrs = serde_json::json!({
            "name": format!("myoauthapp_{ORG}"),
            "auth": {},
            "version": "0.0.1",
            "visibility": "private",
            "iconUrl": "https://example.invalid/icon.png",
            "redirectUris": [],
            "clientId": "5f8a0c1d2e3f405162738495"
        });
        if let Some(s) = secret {
            attrs["clientSecret"] = Value::from(s);
        }
        serde_json::json!({"data": {
            "type": "available_app",
            "id": format!("myoauthapp_{ORG}-0.0.1"),
            "attributes": attrs,
            "relationships": {"org": {"data": {"type": "org", "id": ORG}}}
        }})
        .to_string()
    }

    #[test]
    fn seed_registration_response_parses_and_keeps_unknown_attributes() {
        let (app, secret) = parse_app(&resp(200, &seed_response(None)), REGISTRATION).unwrap();
        assert!(secret.is_none());
        assert_eq!(app.kind, "available_app");
        assert_eq!(app.id, format!("myoauthapp_{ORG}-0.0.1"));
        assert_eq!(app.name.as_str(), format!("myoauthapp_{ORG}"));
        assert_eq!(app.name.app(), "myoauthapp");
        assert_eq!(app.name.org_id(), ORG);
        assert_eq!(app.client_id, "5f8a0c1d2e3f405162738495");
        assert!(app.redirect_uris.is_empty());
        assert!(app.attributes.contains_key("iconUrl"));
        assert!(app.attributes.contains_key("auth"));
        assert!(app.extra.contains_key("relationships"));
    }

    #[test]
    fn s25_secret_response_keeps_the_secret_out_of_attributes_and_debug() {
        let canary = "CANARY-kus-client-secret-7Yq";
        let (app, secret) = parse_app(&resp(200, &seed_response(Some(canary))), SECRET).unwrap();
        assert_eq!(secret.as_ref().unwrap().expose_secret(), canary);
        assert!(!app.attributes.contains_key("clientSecret"));
        let generated = GeneratedSecret {
            app,
            client_secret: secret.unwrap(),
        };
        let dbg = format!("{generated:?}");
        assert!(!dbg.contains(canary), "{dbg}");
        assert!(dbg.contains("[redacted]"));
    }

    #[test]
    fn missing_name_or_client_id_is_typed() {
        let body = r#"{"data":{"type":"available_app","id":"x-1","attributes":{"clientId":"c"}}}"#;
        assert!(matches!(
            parse_app(&resp(200, body), REGISTRATION),
            Err(Error::MissingField {
                field: "data.attributes.name",
                ..
            })
        ));
        let body = format!(r#"{{"data":{{"attributes":{{"name":"a_{ORG}"}}}}}}"#);
        assert!(matches!(
            parse_app(&resp(200, &body), REGISTRATION),
            Err(Error::MissingField {
                field: "data.attributes.clientId",
                ..
            })
        ));
    }

    #[test]
    fn registration_errors_carry_the_providers_message() {
        let e = parse_app(
            &resp(
                401,
                r#"{"errors":[{"status":401,"title":"Unauthorized","detail":"bad API key"}]}"#,
            ),
            REGISTRATION,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Unauthorized { .. }));
        assert!(e.to_string().contains("bad API key"));
        let e = parse_app(
            &resp(500, "<html><body>Internal Server Error</body></html>"),
            REGISTRATION,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Api { status: 500, .. }));
        assert!(e.to_string().contains("Internal Server Error"));
    }

    #[test]
    fn namespaced_names_refuse_bare_names_and_data_ids() {
        let n = NamespacedAppName::parse(&format!("myoauthapp_{ORG}")).unwrap();
        assert_eq!(n, NamespacedAppName::new("myoauthapp", ORG).unwrap());
        assert!(NamespacedAppName::parse("myoauthapp").is_err());
        let err = NamespacedAppName::parse(&format!("myoauthapp_{ORG}-0.0.1")).unwrap_err();
        assert!(err.to_string().contains("data.id"), "{err}");
        assert!(NamespacedAppName::parse("_abc").is_err());
        assert!(NamespacedAppName::new("my app", ORG).is_err());
        assert!(NamespacedAppName::new("myapp", "").is_err());
        assert!(NamespacedAppName::new("myapp", "../x").is_err());
        // An underscore in the app name is fine: the org id is after the last one.
        let n = NamespacedAppName::parse(&format!("my_app_{ORG}")).unwrap();
        assert_eq!((n.app(), n.org_id()), ("my_app", ORG));
    }

    #[test]
    fn definition_body_is_the_seeds_and_checked() {
        let body = AppDefinition::private("myoauthapp", "0.0.1", "My OAuth App")
            .to_body()
            .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"app": "myoauthapp", "version": "0.0.1", "title": "My OAuth App", "visibility": "private"})
        );
        let forced = AppDefinition::private("a", "1", "A")
            .field("visibility", "public")
            .field("description", "d")
            .to_body()
            .unwrap();
        assert_eq!(forced["visibility"], "private");
        assert_eq!(forced["description"], "d");
        assert!(AppDefinition::private("", "1", "t").to_body().is_err());
        assert!(AppDefinition::private("a/b", "1", "t").to_body().is_err());
        assert!(AppDefinition::private("a", " ", "t").to_body().is_err());
    }
}
