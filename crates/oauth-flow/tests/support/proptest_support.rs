//! Shared by the property tests of every crate in the workspace (each includes this file with
//! `#[path]`): the case count and a strategy for arbitrary JSON values.
//!
//! Each property runs 1,000 cases by default; `PROPTEST_CASES=N` runs N instead (a longer local
//! run). Failures are not persisted to files: a failing input found is kept as a named
//! regression test beside the property instead.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

/// The default number of cases per property, unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 1_000;

/// The case count: `PROPTEST_CASES` if set and numeric, else [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// The configuration every property uses: [`cases`] cases, no regression files.
pub fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::with_cases(cases())
    }
}

/// A JSON scalar: null, a boolean, an integer (any i64 or u64), a finite float, or a string.
pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        short_float().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z_]{0,12}".prop_map(Value::String),
    ]
}

/// A float with few significant digits, so its JSON text reads back as the same `f64`
/// (serde_json's default parser may be one ulp off for 17-digit mantissas: not what is tested).
pub fn short_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        (any::<i16>(), 0u32..8).prop_map(|(m, k)| f64::from(m) / f64::from(1u16 << k)),
        any::<i32>().prop_map(f64::from),
    ]
}

/// Any JSON value, nested up to three levels, with keys drawn from `keys` half of the time (so
/// the parser under test meets its own field names with the wrong types) and from arbitrary
/// text the other half.
pub fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(keys), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object whose keys are drawn from `keys` (or arbitrary text) and values from
/// [`json_value`].
pub fn json_object(keys: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((json_key(keys), json_value(keys)), 0..8)
        .prop_map(|pairs| pairs.into_iter().collect())
}

fn json_key(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let known = if keys.is_empty() { &["id"][..] } else { keys };
    prop_oneof![
        prop::sample::select(known).prop_map(str::to_owned),
        any::<String>(),
    ]
}
