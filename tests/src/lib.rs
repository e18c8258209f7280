//! Shared helpers for the workspace end-to-end tests (`tests/tests/*.rs`), one test file per
//! provider, each behind the provider's cargo feature.

#[cfg(feature = "askara")]
pub mod fleet;
