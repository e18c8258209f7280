//! Log in to KonPro from a terminal, keep the grant, and show the account.
//!
//! ```text
//! cargo run -p konpro-sdk --example login                     # the sandbox, in-process: offline
//! cargo run -p konpro-sdk --example login -- --production     # KonPro itself
//! cargo run -p konpro-sdk --example login -- --logout         # forget the stored grant
//! ```
//!
//! The first run listens on `127.0.0.1` (a free port), opens your browser at the consent page
//! (or prints the address when it cannot), and, once you approve, keeps the grant in a
//! `FileStore` under `$XDG_CONFIG_HOME/konpro-sdk-example` (or `~/.config/konpro-sdk-example`).
//! The next run reuses that grant without a browser; tokens refresh themselves.
//!
//! Environment:
//! - `KONPRO_CLIENT_ID` (with `--production`): your app's client id; `KONPRO_REDIRECT_URI`: its
//!   registered loopback redirect URI (default `http://127.0.0.1/callback`).
//! - `KONPRO_LOGIN_AUTO_APPROVE=1` (sandbox only): approve on the sandbox's consent page without
//!   a browser, for machines without one.
//!
//! The sandbox started here forgets everything when the process ends, so this example keeps the
//! sandbox's issued tokens beside the grant (`sandbox-provider.json`) and gives them to the next
//! run's sandbox: the second run then meets "the same provider", as it would in production.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use konpro_sdk::{Account, Error, FileStore, KonPro, KonProClient, LoginStep, LoopbackError, Url};
use sandbox::{Provider, Sandbox};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A progress line printer.
pub type Say<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// How the authorize URL reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// The system browser, or the URL printed where there is none.
    System,
    /// The sandbox's consent form, approved without a browser.
    SandboxApprove,
    /// No login may start: the stored grant must do.
    Never,
}

/// Where the example logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A sandbox started in this process.
    Sandbox,
    /// KonPro's production hosts with your registered app.
    Production {
        /// The app's client id.
        client_id: String,
        /// The app's registered loopback redirect URI.
        redirect_uri: String,
    },
}

/// What one run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sandbox or production.
    pub target: Target,
    /// Forget the stored grant instead of logging in.
    pub logout: bool,
    /// The user key the grant is stored under.
    pub subject: String,
    /// The directory holding this example's stores.
    pub config_dir: PathBuf,
    /// How the browser is reached.
    pub browser: Browser,
}

const USAGE: &str = "usage: cargo run -p konpro-sdk --example login [-- [--production] \
[--logout] [--user NAME]]";

impl Options {
    /// Reads the command line and the environment (`env` looks a variable up).
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let (mut production, mut logout, mut subject) = (false, false, "default".to_owned());
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--production" => production = true,
                "--logout" => logout = true,
                "--user" => subject = args.next().ok_or("--user needs a name")?,
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            }
        }
        let auto = env("KONPRO_LOGIN_AUTO_APPROVE").is_some_and(|v| v == "1");
        let target = if production {
            if auto {
                return Err("KONPRO_LOGIN_AUTO_APPROVE works with the sandbox only".to_owned());
            }
            Target::Production {
                client_id: env("KONPRO_CLIENT_ID").filter(|v| !v.is_empty()).ok_or(
                    "--production needs KONPRO_CLIENT_ID: the client id KonPro's Partnerships \
                     team gave your app",
                )?,
                redirect_uri: env("KONPRO_REDIRECT_URI")
                    .unwrap_or_else(|| "http://127.0.0.1/callback".to_owned()),
            }
        } else {
            Target::Sandbox
        };
        Ok(Self {
            target,
            logout,
            subject,
            config_dir: config_dir(&env)?,
            browser: if auto {
                Browser::SandboxApprove
            } else {
                Browser::System
            },
        })
    }
}

/// `$XDG_CONFIG_HOME/konpro-sdk-example`, or `$HOME/.config/konpro-sdk-example`.
fn config_dir(env: &impl Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    // The XDG spec ignores a relative XDG_CONFIG_HOME.
    let base = match env("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => match env("HOME").filter(|h| !h.is_empty()) {
            Some(home) => Path::new(&home).join(".config"),
            None => return Err("neither XDG_CONFIG_HOME nor HOME is set".to_owned()),
        },
    };
    Ok(base.join("konpro-sdk-example"))
}

/// What a run found.
#[derive(Debug)]
pub struct Outcome {
    /// The account of the logged-in user.
    pub account: Account,
    /// Whether the stored grant was used (no browser).
    pub reused: bool,
}

/// One run: log in (or reuse the stored grant), print the account. `None` after `--logout`.
pub async fn run(opts: &Options, say: Say<'_>) -> Result<Option<Outcome>, BoxError> {
    let (sandbox, dir_name) = match &opts.target {
        Target::Sandbox => {
            let sb = Sandbox::start().await?;
            say(&format!(
                "started the KonPro sandbox at {}",
                sb.url(Provider::KonPro)
            ));
            (Some(sb), "sandbox")
        }
        Target::Production { .. } => (None, "production"),
    };
    let store_dir = opts.config_dir.join(dir_name);
    let provider_state = opts.config_dir.join("sandbox-provider.json");
    let konpro = match (&opts.target, &sandbox) {
        (
            Target::Production {
                client_id,
                redirect_uri,
            },
            _,
        ) => KonPro::builder(client_id, redirect_uri),
        (Target::Sandbox, Some(sb)) => {
            if let Ok(saved) = std::fs::read_to_string(&provider_state) {
                sb.import_tokens(&saved)?;
            }
            let creds = sb.credentials();
            KonPro::builder(&creds.konpro.client_id, &creds.redirect_uri)
                .base_url(sb.url(Provider::KonPro))
        }
        (Target::Sandbox, None) => return Err("the sandbox did not start".into()),
    }
    .store(Arc::new(FileStore::new(&store_dir)))
    .build()?;

    let result = if opts.logout {
        konpro.client(&opts.subject)?.forget().await?;
        say(&format!("forgot the grant of `{}`", opts.subject));
        None
    } else {
        Some(account(&konpro, opts, sandbox.as_ref(), &store_dir, say).await?)
    };
    if let Some(sb) = sandbox {
        save_private(&provider_state, &sb.export_tokens())?;
        sb.shutdown().await;
    }
    Ok(result)
}

async fn account(
    konpro: &KonPro,
    opts: &Options,
    sandbox: Option<&Sandbox>,
    store_dir: &Path,
    say: Say<'_>,
) -> Result<Outcome, BoxError> {
    if let Some(client) = konpro.restore(&opts.subject).await? {
        say(&format!(
            "using the stored grant of `{}` from {}",
            opts.subject,
            store_dir.display()
        ));
        match client.account_get().await {
            Ok(account) => {
                return Ok(Outcome {
                    account,
                    reused: true,
                });
            }
            Err(e) if e.is_reauthorization_required() => {
                say("the stored grant is no longer valid: logging in again");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let client = login(konpro, opts, sandbox, say).await?;
    say(&format!("saved the grant in {}", store_dir.display()));
    Ok(Outcome {
        account: client.account_get().await?,
        reused: false,
    })
}

async fn login(
    konpro: &KonPro,
    opts: &Options,
    sandbox: Option<&Sandbox>,
    say: Say<'_>,
) -> Result<KonProClient, BoxError> {
    let login = konpro
        .browser_login(&opts.subject)
        .on_progress(move |step| match step {
            LoginStep::Listening { redirect_uri } => {
                say(&format!(
                    "listening for the login callback on {redirect_uri}"
                ));
            }
            LoginStep::WaitingForBrowser => {
                say("waiting for you to approve in the browser (5 minutes at most) ...");
            }
            LoginStep::ExchangingCode => say("exchanging the authorization code for tokens ..."),
            _ => {}
        });
    let client = match (opts.browser, sandbox) {
        (Browser::System, _) => login.open_system_browser().await?,
        (Browser::SandboxApprove, Some(sb)) => login.open_with(|url| approve(sb, url, say)).await?,
        (Browser::SandboxApprove, None) => return Err("auto-approve needs the sandbox".into()),
        (Browser::Never, _) => {
            login
                .open_with(|_| async {
                    Err::<(), BoxError>(
                        "a browser login is needed, and this run may not start one".into(),
                    )
                })
                .await?
        }
    };
    Ok(client)
}

/// What a person does in the browser, done through the sandbox's own consent form: approve,
/// then follow the redirect to the loopback receiver.
async fn approve(sb: &Sandbox, url: Url, say: Say<'_>) -> Result<(), BoxError> {
    say("approving on the sandbox's consent page (KONPRO_LOGIN_AUTO_APPROVE, no browser)");
    let callback = sb.approve(url.as_str()).await?;
    reqwest::get(callback).await?.error_for_status()?;
    Ok(())
}

/// Writes `contents` readable by the owner only.
fn save_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

fn print_account(account: &Account) {
    let user = account.user.as_ref();
    let name = user.and_then(|u| u.name.as_deref()).unwrap_or("(no name)");
    let plan = account.user_plan.as_ref().and_then(|p| p.tier.as_deref());
    println!("\nLogged in to KonPro as {name}");
    println!("  email: {}", account.email().unwrap_or("(none)"));
    println!("  plan:  {}", plan.unwrap_or("(none)"));
    println!("  features: {}", account.features.len());
}

/// A hint for the failures a user can act on.
fn hint(e: &BoxError) -> Option<&'static str> {
    let e = e.downcast_ref::<Error>()?;
    match e.loopback() {
        _ if e.is_access_denied() => Some("you chose Deny on the consent page; run again to retry"),
        Some(LoopbackError::Timeout { .. }) => {
            Some("no answer came from the browser in time; run again")
        }
        Some(LoopbackError::Bind { .. }) => {
            Some("the loopback port could not be opened; is the port in KONPRO_REDIRECT_URI free?")
        }
        _ => None,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1), |k| std::env::var(k).ok()) {
        Ok(opts) => opts,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let say = |line: &str| eprintln!("> {line}");
    match run(&opts, &say).await {
        Ok(Some(outcome)) => {
            print_account(&outcome.account);
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  because: {cause}");
                source = cause.source();
            }
            if let Some(hint) = hint(&e) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
