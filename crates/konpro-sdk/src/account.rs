//! `GET /v1/pacific/account.get`: the user's experiments, features, space, profile and plan.
//!
//! KonPro documents the sections of this response but not their fields, so every model here is
//! lenient: every field is optional or defaults to empty, a field of an unexpected type reads as
//! absent, and every field this crate does not know is kept in the model's `extra` map (so a
//! field KonPro adds tomorrow is readable today). A response wrapped in a `{"code": …,
//! "data": {…}}` envelope is unwrapped.

use std::borrow::Cow;
use std::collections::BTreeMap;

use oauth_flow::Endpoint;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::de::{bool_of, i64_of, opt_bool, opt_i64, opt_string, string_list, string_of};

/// The path of account.get, relative to the API base URL.
pub const ACCOUNT_GET_PATH: &str = "v1/pacific/account.get";

/// The account.get endpoint, for [`KonProClient::send`](crate::KonProClient::send) and
/// [`KonProClient::request`](crate::KonProClient::request);
/// [`KonProClient::account_get`](crate::KonProClient::account_get) is the shortcut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountGet;

impl Endpoint for AccountGet {
    type Output = Account;

    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(ACCOUNT_GET_PATH)
    }
}

/// The response of account.get.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Account {
    /// Feature experiments and their status for the user.
    pub experiments: Vec<Experiment>,
    /// Features enabled for the user's account.
    pub features: Vec<Feature>,
    /// The user's workspace: permissions and roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_info: Option<SpaceInfo>,
    /// Basic user information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The subscription plan: quotas, tier, expiration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_plan: Option<UserPlan>,
    /// Every other top-level field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Account {
    /// Whether the feature `name` is listed and not explicitly disabled.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features
            .iter()
            .any(|f| f.name == name && f.enabled != Some(false))
    }

    /// The experiment called `name`, if listed.
    pub fn experiment(&self, name: &str) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.name == name)
    }

    /// The user's email address, if KonPro sent one.
    pub fn email(&self) -> Option<&str> {
        self.user.as_ref()?.email.as_deref()
    }
}

/// The fields of [`Account`] as sent (without the envelope handling).
#[derive(Deserialize)]
struct AccountRepr {
    #[serde(default, deserialize_with = "experiments")]
    experiments: Vec<Experiment>,
    #[serde(default, deserialize_with = "features")]
    features: Vec<Feature>,
    #[serde(default, deserialize_with = "lenient_object")]
    space_info: Option<SpaceInfo>,
    #[serde(default, deserialize_with = "lenient_object")]
    user: Option<User>,
    #[serde(default, deserialize_with = "lenient_object")]
    user_plan: Option<UserPlan>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

const SECTIONS: [&str; 5] = ["experiments", "features", "space_info", "user", "user_plan"];

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut outer = Map::<String, Value>::deserialize(d)?;
        // `{"code": 100, "data": {...}, "message": null}`: unwrap, keeping the siblings.
        let enveloped = !SECTIONS.iter().any(|k| outer.contains_key(*k))
            && matches!(outer.get("data"), Some(Value::Object(_)));
        let (body, siblings) = match outer.remove("data") {
            Some(Value::Object(inner)) if enveloped => (inner, outer),
            Some(other) => {
                outer.insert("data".into(), other);
                (outer, Map::new())
            }
            None => (outer, Map::new()),
        };
        let repr =
            AccountRepr::deserialize(Value::Object(body)).map_err(serde::de::Error::custom)?;
        let mut extra = repr.extra;
        for (k, v) in siblings {
            extra.entry(k).or_insert(v);
        }
        Ok(Account {
            experiments: repr.experiments,
            features: repr.features,
            space_info: repr.space_info,
            user: repr.user,
            user_plan: repr.user_plan,
            extra,
        })
    }
}

/// An object section; `null` or a value of another type reads as absent.
fn lenient_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

/// A feature experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Experiment {
    /// The experiment's name.
    #[serde(default, deserialize_with = "name")]
    pub name: String,
    /// Whether it is on for the user.
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    /// Its status (e.g. `active`, `paused`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// The user's variant (e.g. `control`, `treatment`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub variant: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Experiment {
    /// Whether the experiment is on: `enabled`, or else a status of `active`/`enabled`/`on`.
    pub fn is_on(&self) -> bool {
        match (self.enabled, self.status.as_deref()) {
            (Some(e), _) => e,
            (None, Some(s)) => {
                matches!(s.to_ascii_lowercase().as_str(), "active" | "enabled" | "on")
            }
            (None, None) => false,
        }
    }
}

/// An enabled feature. Sent as a plain name (`"api_access"`) or an object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feature {
    /// The feature's name.
    #[serde(default, deserialize_with = "name")]
    pub name: String,
    /// Whether it is enabled, when KonPro says (a listed name alone means enabled).
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Feature {
    /// A feature known only by name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// The user's workspace ("space").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpaceInfo {
    /// The space id.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The space name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// The user's role in the space (e.g. `owner`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub role: Option<String>,
    /// The roles of the space (or the user's roles in it).
    #[serde(default, deserialize_with = "string_list")]
    pub roles: Vec<String>,
    /// The user's permissions in the space (e.g. `space.write`).
    #[serde(default, deserialize_with = "string_list")]
    pub permissions: Vec<String>,
    /// How many members the space has.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub member_count: Option<i64>,
    /// When the space was created (as sent, usually RFC 3339).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SpaceInfo {
    /// Whether the user holds `permission` in the space.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// Basic information about the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user id.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The email address.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// The display name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// The first name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_name: Option<String>,
    /// When the user registered (as sent, usually RFC 3339).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub registered_at: Option<String>,
    /// The subscription status (e.g. `active`, `trialing`, `canceled`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_status: Option<String>,
    /// Whether the email address is verified.
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_verified: Option<bool>,
    /// The user's locale (e.g. `en-US`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub locale: Option<String>,
    /// The user's time zone (e.g. `America/New_York`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub timezone: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The user's subscription plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserPlan {
    /// The tier (e.g. `free`, `pro`, `enterprise`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub tier: Option<String>,
    /// The plan's display name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// The billing period (e.g. `monthly`, `annual`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_period: Option<String>,
    /// When the plan expires (as sent, usually RFC 3339).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<String>,
    /// Whether the plan renews itself.
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_renew: Option<bool>,
    /// Quotas by name (e.g. `api_calls`, `video_minutes`).
    #[serde(default, deserialize_with = "quotas")]
    pub quotas: BTreeMap<String, Quota>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One quota of a plan. Sent as `{"used": …, "limit": …}` or as a bare limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Quota {
    /// How much is used.
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub used: Option<i64>,
    /// The limit (a negative value or absence may mean unlimited, as KonPro decides).
    #[serde(
        default,
        deserialize_with = "opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<i64>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Quota {
    /// `limit - used` (never below zero), when both are known and the limit is not negative.
    pub fn remaining(&self) -> Option<i64> {
        match (self.used, self.limit) {
            (Some(used), Some(limit)) if limit >= 0 => Some(limit.saturating_sub(used).max(0)),
            _ => None,
        }
    }
}

fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// Experiments as a list of objects or names, or a map of name to object / variant / flag.
fn experiments<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Experiment>, D::Error> {
    let items = named_items(Option::<Value>::deserialize(d)?);
    Ok(items
        .into_iter()
        .map(|(name, value)| {
            let mut e = match value {
                Value::Object(_) => serde_json::from_value(value).unwrap_or_default(),
                Value::Bool(b) => Experiment {
                    enabled: Some(b),
                    ..Experiment::default()
                },
                other => Experiment {
                    variant: string_of(&other),
                    ..Experiment::default()
                },
            };
            if e.name.is_empty() {
                e.name = name;
            }
            e
        })
        .filter(|e| !e.name.is_empty())
        .collect())
}

/// Features as a list of names or objects, or a map of name to flag / object.
fn features<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Feature>, D::Error> {
    let items = named_items(Option::<Value>::deserialize(d)?);
    Ok(items
        .into_iter()
        .map(|(name, value)| {
            let mut f = match value {
                Value::Object(_) => serde_json::from_value(value).unwrap_or_default(),
                other => Feature {
                    enabled: bool_of(&other),
                    ..Feature::default()
                },
            };
            if f.name.is_empty() {
                f.name = name;
            }
            f
        })
        .filter(|f| !f.name.is_empty())
        .collect())
}

/// `(name, value)` pairs from a list (a string item is a name with no value) or a map.
fn named_items(v: Option<Value>) -> Vec<(String, Value)> {
    match v {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(_) => (String::new(), item),
                other => (string_of(&other).unwrap_or_default(), Value::Null),
            })
            .collect(),
        Some(Value::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    }
}

fn quotas<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Quota>, D::Error> {
    let Some(Value::Object(map)) = Option::<Value>::deserialize(d)? else {
        return Ok(BTreeMap::new());
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let q = match v {
                Value::Object(_) => serde_json::from_value(v).unwrap_or_default(),
                other => Quota {
                    limit: i64_of(&other),
                    ..Quota::default()
                },
            };
            (k, q)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sandbox_like() -> Value {
        json!({
            "experiments": [
                { "name": "new_editor", "enabled": true, "status": "active", "variant": "treatment" },
                { "name": "ai_summaries", "enabled": false, "status": "paused", "variant": "control" }
            ],
            "features": ["api_access", "team_spaces"],
            "space_info": {
                "id": "spc_1", "name": "Studio", "role": "owner",
                "roles": ["owner", "viewer"], "permissions": ["space.read", "space.write"],
                "member_count": 4, "created_at": "2023-02-14T09:30:00Z"
            },
            "user": {
                "id": "usr_1", "email": "jamie@example.com", "registered_at": "2023-02-14T09:21:37Z",
                "subscription_status": "active", "email_verified": true, "favourite_colour": "teal"
            },
            "user_plan": {
                "tier": "pro", "expires_at": "2030-02-14T09:21:37Z", "auto_renew": true,
                "quotas": { "api_calls": { "used": 1284, "limit": 10000 }, "seats": 5 }
            },
            "brand_new_section": { "x": 1 }
        })
    }

    #[test]
    fn decodes_every_section_and_keeps_unknown_fields() {
        let a: Account = serde_json::from_value(sandbox_like()).unwrap();
        assert_eq!(a.experiments.len(), 2);
        assert!(a.experiment("new_editor").unwrap().is_on());
        assert!(!a.experiment("ai_summaries").unwrap().is_on());
        assert!(a.has_feature("api_access"));
        assert!(!a.has_feature("export_4k"));
        let space = a.space_info.as_ref().unwrap();
        assert!(space.has_permission("space.write"));
        assert_eq!(space.roles, ["owner", "viewer"]);
        assert_eq!(space.member_count, Some(4));
        let user = a.user.as_ref().unwrap();
        assert_eq!(a.email(), Some("jamie@example.com"));
        assert_eq!(user.registered_at.as_deref(), Some("2023-02-14T09:21:37Z"));
        assert_eq!(user.subscription_status.as_deref(), Some("active"));
        assert_eq!(user.extra["favourite_colour"], "teal");
        let plan = a.user_plan.as_ref().unwrap();
        assert_eq!(plan.tier.as_deref(), Some("pro"));
        assert_eq!(plan.quotas["api_calls"].remaining(), Some(8716));
        assert_eq!(plan.quotas["seats"].limit, Some(5));
        assert_eq!(a.extra["brand_new_section"], json!({ "x": 1 }));
    }

    #[test]
    fn empty_and_null_sections_are_absent() {
        let a: Account = serde_json::from_value(json!({})).unwrap();
        assert_eq!(a, Account::default());
        let a: Account = serde_json::from_value(json!({
            "experiments": null, "features": null, "space_info": null, "user": "?", "user_plan": []
        }))
        .unwrap();
        assert!(a.experiments.is_empty() && a.features.is_empty());
        assert!(a.space_info.is_none() && a.user.is_none() && a.user_plan.is_none());
    }

    #[test]
    fn odd_types_read_as_absent_instead_of_failing() {
        let a: Account = serde_json::from_value(json!({
            "user": { "email": ["not", "a", "string"], "email_verified": "yes", "registered_at": 1676366497 },
            "user_plan": { "quotas": { "minutes": { "used": "12", "limit": 120.0 } }, "tier": null },
            "space_info": { "permissions": "space.read", "member_count": "many" }
        }))
        .unwrap();
        let user = a.user.unwrap();
        assert_eq!(user.email, None);
        assert_eq!(user.email_verified, Some(true));
        assert_eq!(user.registered_at.as_deref(), Some("1676366497"));
        let plan = a.user_plan.unwrap();
        assert_eq!(plan.tier, None);
        assert_eq!(plan.quotas["minutes"].used, Some(12));
        assert_eq!(plan.quotas["minutes"].limit, Some(120));
        let space = a.space_info.unwrap();
        assert_eq!(space.permissions, ["space.read"]);
        assert_eq!(space.member_count, None);
    }

    #[test]
    fn features_and_experiments_in_other_shapes() {
        let a: Account = serde_json::from_value(json!({
            "features": [{ "name": "api_access", "enabled": true, "since": "2024" }, { "name": "beta", "enabled": false }],
            "experiments": { "new_editor": "treatment", "old_flag": false, "rich": { "status": "active" } }
        }))
        .unwrap();
        assert!(a.has_feature("api_access"));
        assert!(!a.has_feature("beta"));
        assert_eq!(a.features[0].extra["since"], "2024");
        assert_eq!(
            a.experiment("new_editor").unwrap().variant.as_deref(),
            Some("treatment")
        );
        assert_eq!(a.experiment("old_flag").unwrap().enabled, Some(false));
        assert!(a.experiment("rich").unwrap().is_on());

        let a: Account =
            serde_json::from_value(json!({ "features": { "export_4k": true, "off": false } }))
                .unwrap();
        assert!(a.has_feature("export_4k"));
        assert!(!a.has_feature("off"));
    }

    #[test]
    fn an_envelope_is_unwrapped_and_its_siblings_kept() {
        let a: Account = serde_json::from_value(json!({
            "code": 100, "message": null, "data": sandbox_like()
        }))
        .unwrap();
        assert_eq!(a.email(), Some("jamie@example.com"));
        assert_eq!(a.extra["code"], 100);
        // A `data` field next to real sections is just another field.
        let a: Account =
            serde_json::from_value(json!({ "user": {}, "data": { "user": { "email": "x" } } }))
                .unwrap();
        assert_eq!(a.email(), None);
        assert!(a.extra.contains_key("data"));
    }

    #[test]
    fn round_trips_through_serialize() {
        let a: Account = serde_json::from_value(sandbox_like()).unwrap();
        let back: Account = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(a, back);
    }

    #[test]
    fn a_non_object_body_is_a_decode_error() {
        assert!(serde_json::from_value::<Account>(json!([1, 2])).is_err());
    }
}
