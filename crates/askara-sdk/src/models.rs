//! Response models of Askara's API.
//!
//! Askara's OAuth guide documents the authorization flow only, not the API's resources: these
//! models follow what the scopes `profile` and `organization` give access to, as the sandbox
//! serves them at `GET /v1/profile` and `GET /v1/organization`. They are deliberately tolerant:
//! every field is optional, identifiers may be strings or numbers, and fields not modelled
//! here are kept in `extra`, so a change on Askara's side does not break decoding.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The user's profile (scope `profile`), from `GET /v1/profile`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// The user id.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the e-mail address was verified.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Locale, e.g. `fr-FR`.
    #[serde(default)]
    pub locale: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// The id of the user's organization.
    #[serde(default, deserialize_with = "id")]
    pub organization_id: Option<String>,
    /// Creation time (RFC 3339), as sent.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339), as sent.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Profile {
    /// "First Last", from whichever parts are present.
    pub fn display_name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The user's organization (scope `organization`), from `GET /v1/organization`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id.
    #[serde(default, deserialize_with = "id")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Registered legal name.
    #[serde(default)]
    pub legal_name: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Number of members.
    #[serde(default)]
    pub members_count: Option<u64>,
    /// Subscription plan, e.g. `business`.
    #[serde(default)]
    pub plan: Option<String>,
    /// Web site.
    #[serde(default)]
    pub website: Option<String>,
    /// VAT number.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// Creation time (RFC 3339), as sent.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// First line.
    #[serde(default)]
    pub line1: Option<String>,
    /// Second line.
    #[serde(default)]
    pub line2: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Country (ISO 3166-1 alpha-2, e.g. `FR`).
    #[serde(default)]
    pub country: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An identifier sent as a string or a number.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profile_decodes_the_sandbox_body_and_keeps_unknown_fields() {
        let p: Profile = serde_json::from_value(json!({
            "id": "usr_8f2b1c9d",
            "email": "camille.martin@example.fr",
            "first_name": "Camille",
            "last_name": "Martin",
            "locale": "fr-FR",
            "email_verified": true,
            "organization_id": "org_51c7a2e4",
            "avatar_url": "https://cdn.example/a.png"
        }))
        .unwrap();
        assert_eq!(p.id.as_deref(), Some("usr_8f2b1c9d"));
        assert_eq!(p.display_name().as_deref(), Some("Camille Martin"));
        assert_eq!(p.email_verified, Some(true));
        assert_eq!(
            p.extra.get("avatar_url"),
            Some(&json!("https://cdn.example/a.png"))
        );
    }

    #[test]
    fn models_tolerate_absent_fields_nulls_and_numeric_ids() {
        let p: Profile = serde_json::from_value(json!({"id": 42, "email": null})).unwrap();
        assert_eq!(p.id.as_deref(), Some("42"));
        assert_eq!(p.email, None);
        assert_eq!(p.display_name(), None);
        let o: Organization = serde_json::from_value(json!({})).unwrap();
        assert_eq!(o, Organization::default());
        let o: Organization = serde_json::from_value(json!({
            "id": "org_1", "name": "Martin & Fils",
            "address": {"city": "Paris", "line2": null, "region": "IDF"},
            "members_count": 18
        }))
        .unwrap();
        let address = o.address.unwrap();
        assert_eq!(address.city.as_deref(), Some("Paris"));
        assert_eq!(address.extra.get("region"), Some(&json!("IDF")));
        assert_eq!(o.members_count, Some(18));
    }
}
