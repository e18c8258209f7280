//! Lenient field decoders: KonPro publishes no schema, so a field of an unexpected type becomes
//! "absent" instead of failing the whole response.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string; numbers and booleans are kept as their text; anything else is absent.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| string_of(&v)))
}

/// A boolean; `"true"`/`"false"` and `0`/`1` are accepted; anything else is absent.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| bool_of(&v)))
}

/// An integer; floats are truncated and numeric strings parsed; anything else is absent.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| i64_of(&v)))
}

/// A list of strings; a single string is a list of one; `null` or another type is empty;
/// items that are not strings or numbers are skipped.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items.iter().filter_map(string_of).collect(),
        Some(Value::String(s)) => vec![s],
        _ => Vec::new(),
    })
}

pub(crate) fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn i64_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercions() {
        assert_eq!(string_of(&json!(12)), Some("12".into()));
        assert_eq!(string_of(&json!({"a": 1})), None);
        assert_eq!(bool_of(&json!("TRUE")), Some(true));
        assert_eq!(bool_of(&json!(0)), Some(false));
        assert_eq!(bool_of(&json!(7)), None);
        assert_eq!(i64_of(&json!(12.9)), Some(12));
        assert_eq!(i64_of(&json!(" 42 ")), Some(42));
        assert_eq!(i64_of(&json!(-1)), Some(-1));
        assert_eq!(i64_of(&json!(1e300)), None);
        assert_eq!(i64_of(&json!("lots")), None);
    }
}
