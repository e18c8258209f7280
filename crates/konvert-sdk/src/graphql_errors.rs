//! What a GraphQL response's `errors` hold, and data that came with errors: plain values the
//! error type carries, kept apart from the decoding in `graphql.rs` so neither module needs
//! the other's imports.

use std::fmt;

use oauth_flow::__private::truncate;
use oauth_flow::EXCERPT_LIMIT;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// One entry of a GraphQL response's `errors` (GraphQL spec §7.1.2). Unknown members are kept
/// in [`extensions`](Self::extensions) only if the server put them there; others are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct GraphQlError {
    /// The message, as sent.
    pub message: String,
    /// Where in the operation document the error applies.
    #[serde(default, deserialize_with = "null_as_default")]
    pub locations: Vec<Location>,
    /// Which response field failed, e.g. `["contacts", "edges", 4, "node", "enrichment"]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: Vec<PathSegment>,
    /// Server-defined details; Konvert puts a machine-readable `code` here.
    #[serde(default, deserialize_with = "null_as_default")]
    pub extensions: Map<String, Value>,
}

impl GraphQlError {
    /// `extensions.code` (e.g. `BAD_USER_INPUT`, `NOT_FOUND`, `UNAUTHENTICATED`), if present.
    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(Value::as_str)
    }
}

impl fmt::Display for GraphQlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            let path: Vec<String> = self.path.iter().map(ToString::to_string).collect();
            write!(f, "{}: ", path.join("."))?;
        }
        f.write_str(&truncate(&self.message, EXCERPT_LIMIT))?;
        if let Some(code) = self.code() {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

/// A position in the operation document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// One step of an error's `path`: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A field name (or alias).
    Key(String),
    /// A list index.
    Index(u64),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(k) => f.write_str(k),
            Self::Index(i) => write!(f, "{i}"),
        }
    }
}

pub(crate) fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Data that came with errors: the fields that failed are null. Returned inside
/// [`Error::PartialData`](crate::Error::PartialData).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PartialData {
    /// The `data` member as sent.
    pub data: Value,
    /// The `errors` member (at least one).
    pub errors: Vec<GraphQlError>,
}

/// Typed data and the errors that came with it (empty when the operation fully succeeded).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Partial<T> {
    /// The data; fields that failed are `None`.
    pub data: T,
    /// The errors, as sent.
    pub errors: Vec<GraphQlError>,
}

impl<T> Partial<T> {
    /// Whether some fields failed.
    pub fn is_partial(&self) -> bool {
        !self.errors.is_empty()
    }
}
