//! Set up a Kustomer private OAuth app once, then run a sync job over every customer.
//!
//! ```text
//! cargo run -p kustomer-sdk --example setup_and_sync          # offline: the sandbox, in-process
//! SANDBOX_URL=http://127.0.0.1:PORT cargo run -p kustomer-sdk --example setup_and_sync
//! KUSTOMER_API_KEY=… KUSTOMER_ORG_ID=… KUSTOMER_REDIRECT_URI=https://… \
//!     cargo run -p kustomer-sdk --example setup_and_sync      # your Kustomer organization
//! ```
//!
//! 1. Registers the private app `myoauthapp` with an org API key (roles `org.admin.apps` and
//!    `org.permission.apps`). Run again, Kustomer answers 409 and the existing registration
//!    (`myoauthapp_<orgId>`) is reused.
//! 2. Generates the app's client secret (each run replaces the previous one).
//! 3. Asks you to install the app from the App Directory and waits, polling, until Kustomer's
//!    token endpoint stops answering "Invalid Client". The in-process sandbox plays you: it
//!    installs the app after a moment.
//! 4. Logs in (Authorization Code, roles `org.permission.customer` and
//!    `org.permission.conversation` plus `offline_access`): the in-process sandbox approves on its
//!    consent page; otherwise the example prints the authorization URL and reads the URL your
//!    browser was sent back to.
//! 5. Streams every customer, a page at a time, and prints a summary.
//!
//! Environment: `KUSTOMER_API_KEY`, `KUSTOMER_ORG_ID` (to find an existing registration),
//! `KUSTOMER_REDIRECT_URI` (default `http://127.0.0.1/callback`), `KUSTOMER_BASE_URL` (both
//! hosts, e.g. a staging server), `SANDBOX_URL` (a `cargo run -p sandbox`), `KUSTOMER_TOKEN_DIR`
//! (the `FileStore`; default: a private temporary directory).

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kustomer_sdk::futures_util::TryStreamExt as _;
use kustomer_sdk::{
    AppDefinition, Error, FileStore, Kustomer, KustomerBuilder, ListRequest, NamespacedAppName,
    PageParams, SecretString, scopes,
};
use sandbox::{Provider, Sandbox};

/// A boxed error for the example's own failures.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The app's name before Kustomer namespaces it with the org id.
pub const APP: &str = "myoauthapp";
const APP_VERSION: &str = "0.0.1";
const APP_TITLE: &str = "My OAuth App";
/// The key the sync job's grant is stored under.
const SUBJECT: &str = "sync-job";
const PAGE_SIZE: u32 = 10;

/// Where the example runs.
pub enum Target {
    /// A sandbox started in this process: it installs the app and approves the consent itself.
    InProcess,
    /// A sandbox started with `cargo run -p sandbox`, at this base URL.
    Sandbox(String),
    /// A Kustomer organization.
    Kustomer {
        /// An org API key with the apps roles.
        api_key: SecretString,
        /// The org id (the suffix of namespaced private app names).
        org_id: String,
        /// Both hosts, when not production.
        base_url: Option<String>,
    },
}

/// What one run needs.
pub struct Config {
    /// Where it runs.
    pub target: Target,
    /// The redirect URI (production: registered for the app; the sandbox takes loopback ones).
    pub redirect_uri: String,
    /// The `FileStore` directory, `None` for a fresh private temporary one.
    pub token_dir: Option<PathBuf>,
    /// How often the install state is polled.
    pub poll_every: Duration,
    /// How long to wait for the install.
    pub install_timeout: Duration,
}

impl Config {
    /// From the environment (`env` looks a variable up).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, BoxError> {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        let target = match (env("KUSTOMER_API_KEY"), env("SANDBOX_URL")) {
            (Some(key), _) => Target::Kustomer {
                api_key: SecretString::from(key),
                org_id: env("KUSTOMER_ORG_ID").ok_or(
                    "KUSTOMER_API_KEY is set but KUSTOMER_ORG_ID is not (Settings > \
                     Organization, or the suffix of a namespaced app name)",
                )?,
                base_url: env("KUSTOMER_BASE_URL"),
            },
            (None, Some(url)) => Target::Sandbox(url),
            (None, None) => Target::InProcess,
        };
        let production = matches!(target, Target::Kustomer { .. });
        Ok(Self {
            target,
            redirect_uri: env("KUSTOMER_REDIRECT_URI")
                .unwrap_or_else(|| sandbox::REDIRECT_URI.to_owned()),
            token_dir: env("KUSTOMER_TOKEN_DIR").map(PathBuf::from),
            // A person installs the app in a browser: no need to ask Kustomer more often.
            poll_every: Duration::from_secs(if production { 5 } else { 1 }),
            install_timeout: Duration::from_secs(15 * 60),
        })
    }
}

/// How the example talks to its user.
pub trait Ui: Sync {
    /// A line of output.
    fn line(&self, text: &str);
    /// The progress line, rewritten in place.
    fn progress(&self, text: &str);
    /// Shows the authorization URL and returns the URL the browser was redirected to.
    fn callback_for(&self, authorize_url: &str) -> Result<String, BoxError>;
}

/// What the sync found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Whether this run registered the app (`false`: an existing registration was reused).
    pub registered: bool,
    /// The namespaced app name.
    pub app_name: String,
    /// Install-state polls that found the app not yet installed.
    pub waited_polls: u32,
    /// Customers seen.
    pub customers: u64,
    /// Customers with at least one e-mail address.
    pub with_email: u64,
    /// Open conversations over all customers.
    pub open_conversations: u64,
    /// Customers per locale (`-` for none).
    pub locales: BTreeMap<String, u64>,
}

/// One run: set up, wait for the install, log in, sync. `sandbox` is the in-process sandbox
/// for [`Target::InProcess`] (started by `main`, or by a test that runs this twice).
pub async fn run(
    config: &Config,
    sandbox: Option<&Sandbox>,
    ui: &dyn Ui,
) -> Result<Summary, BoxError> {
    let (_tmp, token_dir) = token_dir(config)?;
    // Every setting goes on the `Kustomer` builder; the OAuth flow below inherits the store.
    let builder = Kustomer::builder().store(Arc::new(FileStore::new(&token_dir)));
    let (kustomer, api_key, org_id) = match (&config.target, sandbox) {
        (Target::InProcess, Some(sb)) => sandbox_client(builder, &sb.base_url())?,
        (Target::InProcess, None) => return Err("the in-process target needs a sandbox".into()),
        (Target::Sandbox(url), _) => sandbox_client(builder, url)?,
        (
            Target::Kustomer {
                api_key,
                org_id,
                base_url,
            },
            _,
        ) => {
            let builder = match base_url {
                Some(url) => builder.base_url(url),
                None => builder,
            };
            (builder.build()?, api_key.clone(), org_id.clone())
        }
    };
    let mut summary = Summary::default();

    // 1. Register, or find the registration of an earlier run.
    let apps = kustomer.apps(api_key)?;
    let definition = AppDefinition::private(APP, APP_VERSION, APP_TITLE);
    let name = match apps.register(&definition).await {
        Ok(app) => {
            summary.registered = true;
            ui.line(&format!(
                "registered the private app {} (client id {})",
                app.name.as_str(),
                app.client_id
            ));
            app.name
        }
        // This name and version exist: the org's earlier registration is the one to use.
        Err(Error::Api { status: 409, .. }) => {
            let name = NamespacedAppName::new(APP, &org_id)?;
            ui.line(&format!(
                "{} {APP_VERSION} is already registered: reusing it",
                name.as_str()
            ));
            name
        }
        Err(e) => return Err(e.into()),
    };
    summary.app_name = name.as_str().to_owned();

    // 2. A client secret (the previous one stops working).
    let secret = apps.generate_secret(&name).await?;
    ui.line(&format!(
        "generated a client secret for client id {}",
        secret.client_id()
    ));

    let oauth = kustomer
        .oauth(
            secret.client_id(),
            secret.client_secret().clone(),
            config.redirect_uri.as_str(),
        )
        .build()?;

    // 3. The install happens in Kustomer's UI; the token endpoint tells when it is done.
    ui.line(&format!(
        "install \"{APP_TITLE}\" ({}) from your organization's App Directory \
         (Settings > Apps); waiting for it",
        name.as_str()
    ));
    let started = Instant::now();
    while !oauth.is_installed().await? {
        summary.waited_polls += 1;
        if started.elapsed() > config.install_timeout {
            return Err(format!(
                "the app was not installed within {} s",
                config.install_timeout.as_secs()
            )
            .into());
        }
        ui.progress(&format!(
            "waiting for the install ... {} s, {} checks",
            started.elapsed().as_secs(),
            summary.waited_polls
        ));
        if let (Target::InProcess, Some(sb)) = (&config.target, sandbox) {
            // Playing the administrator who clicks "Install".
            sb.install_kustomer_app(name.as_str())?;
        }
        tokio::time::sleep(config.poll_every).await;
    }
    ui.line("the app is installed");

    // 4. Log in once; the client's token refreshes itself from here on.
    let (url, pending) = oauth.authorize_url([scopes::CUSTOMER, scopes::CONVERSATION])?;
    let callback = match (&config.target, sandbox) {
        (Target::InProcess, Some(sb)) => {
            ui.line("approving on the sandbox's consent page");
            sb.approve(url.as_str()).await?
        }
        _ => ui.callback_for(url.as_str())?,
    };
    let client = oauth.complete(SUBJECT, pending, &callback).await?;
    ui.line(&format!(
        "logged in; granted: {}",
        client.granted_scopes().await?.join(" ")
    ));

    // 5. Every customer, one page in memory at a time.
    let first = ListRequest::customers(PageParams::new().page_size(PAGE_SIZE));
    let mut customers = pin!(client.items(first));
    while let Some(customer) = customers.try_next().await? {
        summary.customers += 1;
        let attrs = &customer.attributes;
        if !attrs.emails.is_empty() {
            summary.with_email += 1;
        }
        if let Some(counts) = &attrs.conversation_counts {
            summary.open_conversations += counts.open;
        }
        let locale = attrs.locale.clone().unwrap_or_else(|| "-".to_owned());
        *summary.locales.entry(locale).or_default() += 1;
        if summary.customers % u64::from(PAGE_SIZE) == 0 {
            ui.progress(&format!("synced {} customers", summary.customers));
        }
    }
    ui.line(&format!("synced {} customers", summary.customers));
    Ok(summary)
}

/// A client for a sandbox at `base` (its fixed org API key and org id).
fn sandbox_client(
    builder: KustomerBuilder,
    base: &str,
) -> Result<(Kustomer, SecretString, String), BoxError> {
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        Provider::Kustomer.prefix()
    );
    Ok((
        builder.base_url(url).build()?,
        SecretString::from(sandbox::KUSTOMER_API_KEY.to_owned()),
        sandbox::KUSTOMER_ORG_ID.to_owned(),
    ))
}

/// The configured token directory, or a fresh one in a temporary directory (removed when the
/// guard drops).
fn token_dir(config: &Config) -> Result<(Option<tempfile::TempDir>, PathBuf), BoxError> {
    Ok(match &config.token_dir {
        Some(dir) => (None, dir.clone()),
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("kustomer-sync-")
                .tempdir()?;
            // FileStore creates its own directory 0700 (it refuses one others can enter).
            let path = tmp.path().join("tokens");
            (Some(tmp), path)
        }
    })
}

/// The terminal: lines on stdout, the progress line rewritten on stderr.
#[derive(Default)]
struct Terminal {
    progress_shown: AtomicBool,
}

impl Ui for Terminal {
    fn line(&self, text: &str) {
        if self.progress_shown.swap(false, Ordering::Relaxed) {
            eprintln!();
        }
        println!("{text}");
    }
    fn progress(&self, text: &str) {
        self.progress_shown.store(true, Ordering::Relaxed);
        // Back to the start of the line, clear it, write the new state.
        eprint!("\r\x1b[K{text}");
        let _ = std::io::stderr().flush();
    }
    fn callback_for(&self, authorize_url: &str) -> Result<String, BoxError> {
        println!("\nopen this URL in your browser and approve:\n\n  {authorize_url}\n");
        println!("then paste the address your browser was sent to (it holds code= and state=):");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim().to_owned())
    }
}

fn print_summary(s: &Summary) {
    println!("\nsummary");
    println!("  app:                {}", s.app_name);
    println!("  customers:          {}", s.customers);
    println!("  with an e-mail:     {}", s.with_email);
    println!("  open conversations: {}", s.open_conversations);
    let locales: Vec<String> = s.locales.iter().map(|(l, n)| format!("{l} {n}")).collect();
    println!("  locales:            {}", locales.join(", "));
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = async {
        let config = Config::from_env(|k| std::env::var(k).ok())?;
        let sandbox = match config.target {
            Target::InProcess => {
                let sb = Sandbox::start().await?;
                println!("started the sandbox at {}", sb.url(Provider::Kustomer));
                Some(sb)
            }
            _ => None,
        };
        let summary = run(&config, sandbox.as_ref(), &Terminal::default()).await;
        if let Some(sb) = sandbox {
            sb.shutdown().await;
        }
        summary
    }
    .await;
    match result {
        Ok(summary) => {
            print_summary(&summary);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nerror: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  because: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
