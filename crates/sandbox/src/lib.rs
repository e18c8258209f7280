//! A local emulator of the KonPro, Askara, Kustomer and Konvert providers, for tests and
//! offline development, written from the provider documents alone.
//!
//! One server on `127.0.0.1` serves every provider under its own path prefix (see
//! [`Provider::prefix`]); the crate's README is the contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox::SandboxError> {
//! let sb = sandbox::Sandbox::start().await?;
//! let konpro = sb.url(sandbox::Provider::KonPro); // http://127.0.0.1:PORT/konpro
//! let creds = sb.credentials();
//! let authorize = format!(
//!     "{konpro}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}\
//!      &state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
//!      &code_challenge_method=S256",
//!     creds.konpro.client_id, "http%3A%2F%2F127.0.0.1%2Fcallback",
//! );
//! let callback = sb.approve(&authorize).await?; // http://127.0.0.1/callback?code=…&state=xyz
//! # let _ = callback;
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

// Handlers return `Result<_, Response>` (the axum idiom): the error *is* the HTTP answer.
#![allow(clippy::result_large_err)]

mod askara;
mod browser;
mod clock;
mod consent;
mod credentials;
mod error;
mod faults;
mod jwt;
mod konpro;
pub mod konvert;
mod kustomer;
mod oauth;
mod provider;
mod server;
mod state;

pub use credentials::{
    ASKARA_CLIENT_ID, ASKARA_CLIENT_SECRET, AskaraCredentials, Credentials, KONPRO_API_KEY,
    KONPRO_CLIENT_ID, KONVERT_API_KEY, KONVERT_API_SECRET, KUSTOMER_API_KEY, KUSTOMER_ORG_ID,
    KonProCredentials, KonvertCredentials, KustomerCredentials, REDIRECT_URI,
};
pub use error::SandboxError;
pub use faults::Fault;
pub use provider::Provider;
pub use server::Sandbox;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
