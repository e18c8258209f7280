//! The crate's error type.

/// What can go wrong when starting or driving a sandbox from Rust.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// Binding the loopback listener failed.
    #[error("cannot bind 127.0.0.1:{port}")]
    Bind {
        /// The requested port (0 = ephemeral).
        port: u16,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request of `approve`/`deny` failed.
    #[error("http request to the sandbox failed")]
    Http(#[source] reqwest::Error),
    /// A URL could not be parsed or resolved.
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// The authorize endpoint did not serve a consent page (e.g. the HTML error page for an
    /// invalid client or redirect URI).
    #[error("no consent page: status {status}: {excerpt}")]
    NoConsentPage {
        /// The HTTP status of the authorize response.
        status: u16,
        /// The start of the body (at most 512 bytes).
        excerpt: String,
    },
    /// The consent form was answered without a redirect.
    #[error("consent form answered status {status} without a redirect")]
    NoRedirect {
        /// The HTTP status of the consent response.
        status: u16,
    },
    /// Tokens given to `Sandbox::import_tokens` are not an export of `Sandbox::export_tokens`.
    #[error("not a sandbox token export")]
    TokenImport(#[source] serde_json::Error),
    /// No Kustomer app with that name (plain or namespaced) has been registered.
    #[error("unknown kustomer app {0:?}")]
    UnknownKustomerApp(String),
}
