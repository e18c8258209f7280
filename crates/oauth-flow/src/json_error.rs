//! [`JsonError`]: why a JSON body did not decode or encode, as a `source()` that never quotes
//! the body.
//!
//! Why not `serde_json::Error` itself: its message can quote values from the body ("invalid
//! type: string \"eyJhbGciOi…\""), and a value in a token response or an API answer may be a
//! secret or personal data (SECURITY S10). Only its category and position are kept.

use std::borrow::Cow;
use std::fmt;

/// What kind of problem a [`JsonError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// Not JSON at all, or malformed JSON.
    Syntax,
    /// The body ended in the middle of a value.
    Truncated,
    /// Well-formed JSON of another shape than expected (a missing field, a string where a
    /// number belongs, a value that does not serialize).
    Shape,
    /// Reading the body failed.
    Io,
}

/// Why a JSON body did not decode (or a value did not encode): the kind of problem, where it
/// is, and for shape problems found after parsing, which field; never a value from the body.
///
/// It is the `source()` of the `Decode` and `Encode` errors of every SDK crate.
///
/// ```
/// use oauth_flow::{JsonError, JsonErrorKind};
///
/// let e = JsonError::shape("`expires_in` is not a number");
/// assert_eq!(e.kind(), JsonErrorKind::Shape);
/// assert_eq!(e.to_string(), "unexpected shape: `expires_in` is not a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    kind: JsonErrorKind,
    /// Line and column (1-based), when the parser knows them.
    position: Option<(usize, usize)>,
    /// For shape problems found after parsing: which field, and what is wrong with it.
    detail: Option<Cow<'static, str>>,
}

impl JsonError {
    /// A shape problem found in well-formed JSON: `detail` names the field and what is wrong,
    /// never its value.
    pub fn shape(detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: JsonErrorKind::Shape,
            position: None,
            detail: Some(detail.into()),
        }
    }

    /// Keeps the category and position of a serde_json error, dropping its message.
    pub(crate) fn from_serde(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match err.classify() {
            Category::Io => JsonErrorKind::Io,
            Category::Syntax => JsonErrorKind::Syntax,
            Category::Data => JsonErrorKind::Shape,
            Category::Eof => JsonErrorKind::Truncated,
        };
        Self {
            kind,
            position: (err.line() != 0).then(|| (err.line(), err.column())),
            detail: None,
        }
    }

    /// The kind of problem.
    pub fn kind(&self) -> JsonErrorKind {
        self.kind
    }

    /// The line (1-based) where the parser stopped, if it knows.
    pub fn line(&self) -> Option<usize> {
        self.position.map(|(line, _)| line)
    }

    /// The column (1-based) where the parser stopped, if it knows.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|(_, column)| column)
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            JsonErrorKind::Syntax => "invalid JSON",
            JsonErrorKind::Truncated => "truncated JSON",
            JsonErrorKind::Shape => "unexpected shape",
            JsonErrorKind::Io => "I/O error",
        })?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some((line, column)) = self.position {
            write!(f, " at line {line} column {column}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_keeps_category_and_position_but_never_a_value() {
        let err = serde_json::from_str::<u32>("\"CANARY-secret-value\"").unwrap_err();
        assert!(err.to_string().contains("CANARY"), "serde_json quotes it");
        let ours = JsonError::from_serde(&err);
        assert_eq!(ours.kind(), JsonErrorKind::Shape);
        assert_eq!(ours.line(), Some(1));
        assert!(!ours.to_string().contains("CANARY"), "{ours}");
        assert!(!format!("{ours:?}").contains("CANARY"), "{ours:?}");

        let syntax =
            JsonError::from_serde(&serde_json::from_str::<serde_json::Value>("{x").unwrap_err());
        assert_eq!(syntax.kind(), JsonErrorKind::Syntax);
        assert_eq!(syntax.to_string(), "invalid JSON at line 1 column 2");

        let eof = JsonError::from_serde(&serde_json::from_str::<Vec<u32>>("[1,").unwrap_err());
        assert_eq!(eof.kind(), JsonErrorKind::Truncated);
    }
}
