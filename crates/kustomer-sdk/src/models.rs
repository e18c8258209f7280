//! Kustomer's JSON:API-style resources (customers, conversations) and the inputs to create,
//! update and search them.
//!
//! Responses are `{"data": {"type", "id", "attributes", "relationships", "links"}}`. Every model
//! tolerates absent optional members (and `null` lists) and keeps unknown attributes in an
//! `extra` map, so a new field on Kustomer's side never breaks decoding.

use std::fmt;
use std::str::FromStr;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// A `null` list (or object) decodes as empty instead of failing.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

macro_rules! resource_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Deserialization goes through [`new`](Self::new) too: an id a server sends is later
        /// put into a URL path, so `..` from a response is refused like `..` from a caller.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(id: String) -> Result<Self, Error> {
                Self::new(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            /// Checks and wraps an id: not empty, at most 256 bytes, no whitespace or control
            /// characters, not `.` or `..`. Ids are percent-encoded when they go into a URL
            /// path.
            pub fn new(id: impl Into<String>) -> Result<Self, Error> {
                let id = id.into();
                if id.is_empty() {
                    return Err(Error::invalid($what, "must not be empty"));
                }
                if id.len() > 256 {
                    return Err(Error::invalid($what, "is longer than 256 bytes"));
                }
                if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(Error::invalid($what, "contains whitespace or control characters"));
                }
                if id == "." || id == ".." {
                    return Err(Error::invalid($what, "must not be a dot segment"));
                }
                Ok(Self(id))
            }
            /// The id as sent by Kustomer.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

resource_id!(
    /// A customer id (e.g. `6650c0ffee00000000000001`).
    CustomerId,
    "customer id"
);
resource_id!(
    /// A conversation id.
    ConversationId,
    "conversation id"
);

/// `{"data": T}`: one resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
#[non_exhaustive]
pub struct Document<T> {
    /// The resource.
    pub data: T,
}

/// An email address of a customer: `{"type": "home", "email": "…"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailAddress {
    /// The kind (`home`, `work`, `other`), if given.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The address.
    #[serde(default)]
    pub email: String,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmailAddress {
    /// An address without a kind.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            kind: None,
            email: email.into(),
            extra: Map::new(),
        }
    }
    /// Sets the kind (`home`, `work`, `other`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// A phone number of a customer: `{"type": "mobile", "phone": "+1…"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The kind (`mobile`, `work`, `home`, `other`), if given.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The number.
    #[serde(default)]
    pub phone: String,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PhoneNumber {
    /// A number without a kind.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            kind: None,
            phone: phone.into(),
            extra: Map::new(),
        }
    }
    /// Sets the kind (`mobile`, `work`, `home`, `other`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// How many conversations a customer has, by status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct ConversationCounts {
    /// All conversations.
    #[serde(default)]
    pub all: u64,
    /// Open ones.
    #[serde(default)]
    pub open: u64,
    /// Done ones.
    #[serde(default)]
    pub done: u64,
    /// Snoozed ones.
    #[serde(default)]
    pub snoozed: u64,
    /// Other counters, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A customer's attributes. Timestamps are RFC 3339 strings as sent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CustomerAttributes {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The id in your own system.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Email addresses.
    #[serde(default, deserialize_with = "null_as_default")]
    pub emails: Vec<EmailAddress>,
    /// Phone numbers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub phones: Vec<PhoneNumber>,
    /// Locale (e.g. `en-US`).
    #[serde(default)]
    pub locale: Option<String>,
    /// Time zone (e.g. `America/Chicago`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Conversation counters, if sent.
    #[serde(default)]
    pub conversation_counts: Option<ConversationCounts>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Last modification time.
    #[serde(default)]
    pub modified_at: Option<String>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A customer resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// The resource type (`customer`).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The id.
    pub id: CustomerId,
    /// The attributes.
    #[serde(default)]
    pub attributes: CustomerAttributes,
    /// JSON:API relationships, as sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub relationships: Map<String, Value>,
    /// JSON:API links, as sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub links: Map<String, Value>,
}

impl Customer {
    /// The name, or the display name, or the first email address.
    pub fn best_name(&self) -> Option<&str> {
        let a = &self.attributes;
        a.name
            .as_deref()
            .or(a.display_name.as_deref())
            .or(a.emails.first().map(|e| e.email.as_str()))
    }
}

/// A conversation's status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ConversationStatus {
    /// `open`
    Open,
    /// `done`
    Done,
    /// `snoozed`
    Snoozed,
    /// Any other status, as sent.
    Other(String),
}

impl ConversationStatus {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "open",
            Self::Done => "done",
            Self::Snoozed => "snoozed",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for ConversationStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "open" => Self::Open,
            "done" => Self::Done,
            "snoozed" => Self::Snoozed,
            _ => Self::Other(s),
        }
    }
}

impl From<ConversationStatus> for String {
    fn from(s: ConversationStatus) -> Self {
        s.as_str().to_owned()
    }
}

impl fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conversation's attributes.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConversationAttributes {
    /// The subject.
    #[serde(default)]
    pub name: Option<String>,
    /// The status.
    #[serde(default)]
    pub status: Option<ConversationStatus>,
    /// Priority, 1 (lowest) to 5.
    #[serde(default)]
    pub priority: Option<u8>,
    /// `in` or `out`.
    #[serde(default)]
    pub direction: Option<String>,
    /// A preview of the last message.
    #[serde(default)]
    pub preview: Option<String>,
    /// Channels (e.g. `email`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub channels: Vec<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Number of messages.
    #[serde(default)]
    pub message_count: Option<u64>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A conversation resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The resource type (`conversation`).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The id.
    pub id: ConversationId,
    /// The attributes.
    #[serde(default)]
    pub attributes: ConversationAttributes,
    /// JSON:API relationships, as sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub relationships: Map<String, Value>,
    /// JSON:API links, as sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub links: Map<String, Value>,
}

impl Conversation {
    /// The customer this conversation belongs to (`relationships.customer.data.id`).
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.relationships
            .get("customer")?
            .pointer("/data/id")?
            .as_str()
            .and_then(|id| CustomerId::new(id).ok())
    }
}

/// The attributes to set when creating or updating a customer. Only the fields set are sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct CustomerFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    emails: Option<Vec<EmailAddress>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phones: Option<Vec<PhoneNumber>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl CustomerFields {
    /// No fields yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Full name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
    /// The id in your own system.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }
    /// Adds an email address (the list sent replaces the customer's list).
    pub fn email(mut self, email: EmailAddress) -> Self {
        self.emails.get_or_insert_with(Vec::new).push(email);
        self
    }
    /// Adds a phone number (the list sent replaces the customer's list).
    pub fn phone(mut self, phone: PhoneNumber) -> Self {
        self.phones.get_or_insert_with(Vec::new).push(phone);
        self
    }
    /// Locale (e.g. `en-US`).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }
    /// Time zone (e.g. `Europe/Paris`).
    pub fn time_zone(mut self, tz: impl Into<String>) -> Self {
        self.time_zone = Some(tz.into());
        self
    }
    /// Adds a tag (the list sent replaces the customer's tags).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.get_or_insert_with(Vec::new).push(tag.into());
        self
    }
    /// Any other attribute Kustomer accepts (e.g. a custom attribute), sent as is.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A conversation to create for a customer. Only the fields set are sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[must_use]
pub struct NewConversation {
    customer: CustomerId,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ConversationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl NewConversation {
    /// A conversation for `customer`.
    pub fn new(customer: CustomerId) -> Self {
        Self {
            customer,
            name: None,
            status: None,
            priority: None,
            direction: None,
            preview: None,
            channels: None,
            tags: None,
            extra: Map::new(),
        }
    }
    /// The subject.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The status (default `open`).
    pub fn status(mut self, status: ConversationStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// Priority, 1 (lowest) to 5; checked when the request is built.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }
    /// `in` (from the customer) or `out`.
    pub fn direction(mut self, direction: impl Into<String>) -> Self {
        self.direction = Some(direction.into());
        self
    }
    /// A preview text.
    pub fn preview(mut self, preview: impl Into<String>) -> Self {
        self.preview = Some(preview.into());
        self
    }
    /// Adds a channel (e.g. `email`).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channels
            .get_or_insert_with(Vec::new)
            .push(channel.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.get_or_insert_with(Vec::new).push(tag.into());
        self
    }
    /// Any other attribute Kustomer accepts, sent as is.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.priority {
            Some(p) if !(1..=5).contains(&p) => Err(Error::invalid(
                "conversation priority",
                "must be from 1 to 5",
            )),
            _ => Ok(()),
        }
    }
}

/// A comparison in a customer search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `contains`
    Contains,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
}

impl SearchOp {
    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Contains => "contains",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
        }
    }
}

/// One search criterion: `{"<field>": {"<op>": <value>}}`, e.g.
/// `{"customer_email": {"eq": "ava@example.com"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    field: String,
    op: SearchOp,
    value: Value,
}

impl Criterion {
    /// Any field and operator Kustomer's search supports.
    pub fn new(field: impl Into<String>, op: SearchOp, value: impl Into<Value>) -> Self {
        Self {
            field: field.into(),
            op,
            value: value.into(),
        }
    }
    /// `customer_name contains <text>` (case-insensitive).
    pub fn name_contains(text: impl Into<String>) -> Self {
        Self::new("customer_name", SearchOp::Contains, text.into())
    }
    /// `customer_email eq <address>`.
    pub fn email_is(address: impl Into<String>) -> Self {
        Self::new("customer_email", SearchOp::Eq, address.into())
    }
    /// `customer_external_id eq <id>`.
    pub fn external_id_is(id: impl Into<String>) -> Self {
        Self::new("customer_external_id", SearchOp::Eq, id.into())
    }
    /// `customer_tags eq <tag>`.
    pub fn has_tag(tag: impl Into<String>) -> Self {
        Self::new("customer_tags", SearchOp::Eq, tag.into())
    }
    fn to_value(&self) -> Value {
        let mut cond = Map::new();
        cond.insert(self.op.as_str().to_owned(), self.value.clone());
        let mut crit = Map::new();
        crit.insert(self.field.clone(), Value::Object(cond));
        Value::Object(crit)
    }
}

/// A customer search (`POST /v1/customers/search`): all `and` criteria must hold, and at
/// least one `or` criterion if any is given.
#[derive(Debug, Clone, PartialEq, Default)]
#[must_use]
pub struct CustomerSearch {
    and: Vec<Criterion>,
    or: Vec<Criterion>,
    extra: Map<String, Value>,
}

impl CustomerSearch {
    /// An empty search (matches every customer).
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a criterion that must hold.
    pub fn and(mut self, c: Criterion) -> Self {
        self.and.push(c);
        self
    }
    /// Adds an alternative criterion.
    pub fn or(mut self, c: Criterion) -> Self {
        self.or.push(c);
        self
    }
    /// Another top-level member of the search body (e.g. `sort`), sent as is.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
    /// The JSON body: `{"and": [...], "or": [...], "queryContext": "customer", ...}`.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        if !self.and.is_empty() {
            body.insert(
                "and".into(),
                Value::Array(self.and.iter().map(Criterion::to_value).collect()),
            );
        }
        if !self.or.is_empty() {
            body.insert(
                "or".into(),
                Value::Array(self.or.iter().map(Criterion::to_value).collect()),
            );
        }
        body.insert("queryContext".into(), Value::from("customer"));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn customer_decodes_with_unknown_and_null_members() {
        let c: Customer = serde_json::from_value(json!({
            "type": "customer",
            "id": "6650c0ffee00000000000001",
            "attributes": {
                "name": "Ava Nguyen",
                "emails": [{"type": "home", "email": "ava@example.com", "verified": true}],
                "phones": null,
                "tags": ["vip"],
                "conversationCounts": {"all": 12, "open": 4, "done": 4, "snoozed": 4},
                "sentiment": {"polarity": 1},
                "createdAt": "2024-01-15T09:00:00Z"
            },
            "relationships": {"org": {"data": {"type": "org", "id": "o1"}}},
            "links": {"self": "/v1/customers/6650c0ffee00000000000001"},
            "meta": {"ignored": true}
        }))
        .unwrap();
        assert_eq!(c.id.as_str(), "6650c0ffee00000000000001");
        assert_eq!(c.best_name(), Some("Ava Nguyen"));
        assert!(c.attributes.phones.is_empty());
        assert_eq!(
            c.attributes.emails[0].extra.get("verified"),
            Some(&json!(true))
        );
        assert_eq!(c.attributes.conversation_counts.as_ref().unwrap().all, 12);
        assert!(c.attributes.extra.contains_key("sentiment"));
    }

    #[test]
    fn minimal_resources_decode() {
        let c: Customer = serde_json::from_value(json!({"id": "c1"})).unwrap();
        assert_eq!(c.best_name(), None);
        let v: Conversation = serde_json::from_value(json!({
            "id": "v1",
            "attributes": {"status": "waiting", "priority": 2},
            "relationships": {"customer": {"data": {"type": "customer", "id": "c1"}}}
        }))
        .unwrap();
        assert_eq!(
            v.attributes.status,
            Some(ConversationStatus::Other("waiting".into()))
        );
        assert_eq!(v.customer_id().unwrap().as_str(), "c1");
    }

    #[test]
    fn ids_are_checked() {
        assert!(CustomerId::new("").is_err());
        assert!(CustomerId::new("a b").is_err());
        assert!(CustomerId::new("x".repeat(300)).is_err());
        assert!(ConversationId::new("..").is_err());
        assert!("6650c0ffee00000000000001".parse::<CustomerId>().is_ok());
    }

    #[test]
    fn inputs_serialize_only_what_was_set() {
        let f = CustomerFields::new()
            .name("Jo Doe")
            .email(EmailAddress::new("jo@example.com").kind("work"))
            .tag("trial");
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"name": "Jo Doe", "emails": [{"type": "work", "email": "jo@example.com"}], "tags": ["trial"]})
        );
        assert!(CustomerFields::new().is_empty());
        let c = NewConversation::new(CustomerId::new("c1").unwrap())
            .name("Hello")
            .status(ConversationStatus::Open)
            .priority(6);
        assert!(c.check().is_err());
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"customer": "c1", "name": "Hello", "status": "open", "priority": 6})
        );
    }

    #[test]
    fn search_body_shape() {
        let s = CustomerSearch::new()
            .and(Criterion::name_contains("ava"))
            .or(Criterion::email_is("a@example.com"))
            .or(Criterion::has_tag("vip"));
        assert_eq!(
            s.to_body(),
            json!({
                "and": [{"customer_name": {"contains": "ava"}}],
                "or": [{"customer_email": {"eq": "a@example.com"}}, {"customer_tags": {"eq": "vip"}}],
                "queryContext": "customer"
            })
        );
    }
}
