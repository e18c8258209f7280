//! Sign users in with Askara from a web app: an axum server on 127.0.0.1.
//!
//! ```text
//! cargo run -p askara-sdk --example web_login            # offline: the sandbox, in-process
//! SANDBOX_URL=http://127.0.0.1:PORT cargo run -p askara-sdk --example web_login
//!                                                        # a `cargo run -p sandbox` of your own
//! ASKARA_CLIENT_ID=… ASKARA_CLIENT_SECRET=… WEB_LOGIN_PORT=8080 \
//!     cargo run -p askara-sdk --example web_login        # Askara itself
//! ```
//!
//! Open the address it prints and follow "Log in with Askara": the sandbox's consent page (or
//! Askara's) asks you to approve, then `/me` shows your profile. Ctrl-C stops the server.
//!
//! Configuration (environment):
//! - `ASKARA_CLIENT_ID`, `ASKARA_CLIENT_SECRET`: your app at Askara. When set, the example talks
//!   to Askara's production hosts (or `ASKARA_BASE_URL`, e.g. staging); the redirect URI
//!   `{public URL}/callback` must be the one registered for the app.
//! - `SANDBOX_URL`: a sandbox started with `cargo run -p sandbox` (its fixed test credentials
//!   are used); without it and without a client id, a sandbox starts in this process.
//! - `WEB_LOGIN_PORT` (default: any free port) and `WEB_LOGIN_PUBLIC_URL` (default
//!   `http://127.0.0.1:PORT`; an `https` URL, e.g. behind a TLS proxy, makes cookies `Secure`).
//! - `ASKARA_TOKEN_DIR`: where the `FileStore` keeps tokens (default: a fresh private temporary
//!   directory, removed at exit).

mod app;

use std::error::Error as StdError;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use askara_sdk::{Askara, FileStore, SecretString};
use sandbox::{Provider, Sandbox};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Where Askara is.
enum Target {
    /// A sandbox started here.
    InProcess,
    /// A sandbox running elsewhere on this machine: its provider base URL.
    Sandbox(String),
    /// Askara (or a staging server), with the app's credentials.
    Askara {
        client_id: String,
        client_secret: SecretString,
        base_url: Option<String>,
    },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn target() -> Result<Target, BoxError> {
    if let Some(client_id) = env("ASKARA_CLIENT_ID") {
        let secret = env("ASKARA_CLIENT_SECRET")
            .ok_or("ASKARA_CLIENT_ID is set but ASKARA_CLIENT_SECRET is not")?;
        return Ok(Target::Askara {
            client_id,
            client_secret: SecretString::from(secret),
            base_url: env("ASKARA_BASE_URL"),
        });
    }
    Ok(match env("SANDBOX_URL") {
        Some(base) => Target::Sandbox(format!(
            "{}{}",
            base.trim_end_matches('/'),
            Provider::Askara.prefix()
        )),
        None => Target::InProcess,
    })
}

async fn serve() -> Result<(), BoxError> {
    let target = target()?;
    let port: u16 = match env("WEB_LOGIN_PORT") {
        Some(p) => p
            .parse()
            .map_err(|_| format!("WEB_LOGIN_PORT: not a port: {p}"))?,
        None => 0,
    };
    // Loopback only: this example has no TLS of its own.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let public = env("WEB_LOGIN_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
    let public = public.trim_end_matches('/').to_owned();
    let redirect_uri = format!("{public}/callback");

    let (tmp, token_dir) = match env("ASKARA_TOKEN_DIR") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("askara-web-login-")
                .tempdir()?;
            // FileStore creates its own directory 0700 (it refuses one others can enter).
            let path = tmp.path().join("tokens");
            (Some(tmp), path)
        }
    };
    let store = Arc::new(FileStore::new(&token_dir));

    let mut sandbox = None;
    let builder = match target {
        Target::Askara {
            client_id,
            client_secret,
            base_url,
        } => {
            let b = Askara::builder(client_id, client_secret, redirect_uri.as_str());
            match base_url {
                Some(url) => b.base_url(url),
                None => b,
            }
        }
        Target::Sandbox(url) => {
            println!("using the sandbox at {url}");
            register_redirect(&url, &redirect_uri).await?;
            Askara::builder(
                sandbox::ASKARA_CLIENT_ID,
                sandbox::ASKARA_CLIENT_SECRET.to_owned(),
                redirect_uri.as_str(),
            )
            .base_url(url)
        }
        Target::InProcess => {
            let sb = Sandbox::start().await?;
            let creds = &sb.credentials().askara;
            println!("started the sandbox at {}", sb.url(Provider::Askara));
            // Askara registers an app's redirect URLs on request; so does the sandbox.
            sb.register_askara_redirect_uri(&redirect_uri)?;
            let b = Askara::builder(
                creds.client_id.as_str(),
                creds.client_secret.clone(),
                redirect_uri.as_str(),
            )
            .base_url(sb.url(Provider::Askara));
            sandbox = Some(sb);
            b
        }
    };
    let askara = builder.store(store).build()?;
    let state = app::AppState::new(askara, public.starts_with("https://"));

    println!("tokens are kept in {}", token_dir.display());
    println!("redirect URI: {redirect_uri}");
    println!("open {public}/ and follow \"Log in with Askara\" (Ctrl-C to stop)");
    axum::serve(listener, app::app(state))
        .with_graceful_shutdown(async {
            // If Ctrl-C cannot be watched, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    println!("stopped");
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    drop(tmp);
    Ok(())
}

/// Registers `redirect_uri` with a sandbox running elsewhere (its control route).
async fn register_redirect(askara_url: &str, redirect_uri: &str) -> Result<(), BoxError> {
    let body = format!(
        "{{\"redirect_uri\":{}}}",
        serde_json::Value::from(redirect_uri)
    );
    reqwest::Client::new()
        .post(format!("{askara_url}/_sandbox/redirect_uris"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  because: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
