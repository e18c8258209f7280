//! A background worker on Konvert's GraphQL API: every contact, a note, and the enrichment
//! report that tolerates Konvert's partly failing field.
//!
//! ```text
//! cargo run -p konvert-sdk --example contacts_worker                     # the sandbox, in-process
//! RUST_LOG=info,oauth_flow=debug cargo run -p konvert-sdk --example contacts_worker   # with logs
//! SANDBOX_URL=http://127.0.0.1:PORT cargo run -p konvert-sdk --example contacts_worker
//! KONVERT_API_KEY=… KONVERT_API_SECRET=… cargo run -p konvert-sdk --example contacts_worker
//! ```
//!
//! 1. Client credentials (`POST /oauth/token`, HTTP Basic): one token, cached and renewed by the
//!    SDK, whatever the number of calls.
//! 2. `ListContacts`, page after page (`contacts()` streams them, one page held at a time).
//! 3. A mutation: `AddNote` on the first contact (mutations are never retried by the SDK).
//! 4. `ListEnrichments`, paged by hand with `pageInfo.endCursor`: some contacts' `enrichment`
//!    fails (`ENRICHMENT_UNAVAILABLE`) while the rest of the page is fine, so the worker uses
//!    `query_partial`, keeps the data, and reports the failed contacts; any other error stops it.
//!
//! Environment: `KONVERT_API_KEY` and `KONVERT_API_SECRET` (production, or `KONVERT_ENV=staging`;
//! `KONVERT_BASE_URL` moves either to another host); `SANDBOX_URL` for a `cargo run -p sandbox`; otherwise a sandbox starts
//! in this process with its test credentials. `RUST_LOG` filters the `tracing` output (stderr;
//! default `warn`).

use std::error::Error as StdError;
use std::pin::pin;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use konvert_sdk::futures_util::TryStreamExt as _;
use konvert_sdk::operations::{AddNote, ListEnrichments, add_note, list_enrichments};
use konvert_sdk::{
    Auth, Environment, KonvertClient, KonvertClientBuilder, PathSegment, SecretString,
};
use sandbox::{Provider, Sandbox};
use tracing::{debug, info, warn};

/// A boxed error for the example's own failures.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Konvert's code for an enrichment that failed while the rest of the contact did not.
pub const ENRICHMENT_UNAVAILABLE: &str = "ENRICHMENT_UNAVAILABLE";
const PAGE_SIZE: i64 = 10;

/// Where the worker runs.
pub enum Target {
    /// A sandbox started in this process, with its test credentials.
    InProcess,
    /// A `cargo run -p sandbox` at this base URL, with its fixed test credentials.
    Sandbox(String),
    /// Konvert, with your API key and secret.
    Konvert {
        /// Production or staging.
        environment: Environment,
        /// Another host for that environment (`KONVERT_BASE_URL`: a proxy, an emulator).
        base_url: Option<String>,
        /// The API key (the OAuth client id).
        api_key: String,
        /// The API secret.
        api_secret: SecretString,
    },
}

impl Target {
    /// From the environment (`env` looks a variable up).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, BoxError> {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        match (env("KONVERT_API_KEY"), env("KONVERT_API_SECRET")) {
            (Some(api_key), Some(secret)) => {
                let environment = match env("KONVERT_ENV").as_deref() {
                    Some("staging") => Environment::Staging,
                    None | Some("production") => Environment::Production,
                    Some(other) => {
                        return Err(
                            format!("KONVERT_ENV: production or staging, not {other}").into()
                        );
                    }
                };
                Ok(Self::Konvert {
                    environment,
                    base_url: env("KONVERT_BASE_URL"),
                    api_key,
                    api_secret: SecretString::from(secret),
                })
            }
            (Some(_), None) | (None, Some(_)) => {
                Err("set both KONVERT_API_KEY and KONVERT_API_SECRET, or neither".into())
            }
            (None, None) => Ok(match env("SANDBOX_URL") {
                Some(url) => Self::Sandbox(url),
                None => Self::InProcess,
            }),
        }
    }
}

/// What one run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Contacts listed.
    pub contacts: usize,
    /// The note added.
    pub note_id: String,
    /// Enrichment pages requested.
    pub enrichment_pages: u32,
    /// Contacts with an enrichment.
    pub enriched: usize,
    /// Contacts whose enrichment failed (`ENRICHMENT_UNAVAILABLE`), by id.
    pub unavailable: Vec<String>,
}

/// One run of the worker. `sandbox` is the in-process sandbox for [`Target::InProcess`].
pub async fn run(target: &Target, sandbox: Option<&Sandbox>) -> Result<Report, BoxError> {
    let builder = match (target, sandbox) {
        (Target::InProcess, Some(sb)) => sandbox_builder(&sb.base_url()),
        (Target::InProcess, None) => return Err("the in-process target needs a sandbox".into()),
        (Target::Sandbox(url), _) => sandbox_builder(url),
        (
            Target::Konvert {
                environment,
                base_url,
                api_key,
                api_secret,
            },
            _,
        ) => {
            let auth = Auth::client_credentials(api_key.as_str(), api_secret.clone());
            let builder = KonvertClient::builder(auth).environment(*environment);
            match base_url {
                Some(url) => builder.base_url(url.as_str()),
                None => builder,
            }
        }
    };
    let client = builder.build()?;
    info!(environment = ?client.environment(), base_url = %client.base_url(), "starting");
    let mut report = Report::default();

    // Every contact; the SDK follows the cursors and bounds the walk.
    let mut first_contact = None;
    let mut contacts = pin!(client.contacts(PAGE_SIZE, None));
    while let Some(contact) = contacts.try_next().await? {
        report.contacts += 1;
        debug!(id = %contact.id, stage = ?contact.lifecycle_stage, "contact");
        first_contact.get_or_insert(contact.id);
    }
    info!(count = report.contacts, "listed every contact");

    // A mutation: sent once, never replayed, so a failure is reported rather than retried.
    let contact_id = first_contact.ok_or("Konvert returned no contacts")?;
    let at = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let note = client
        .query::<AddNote>(add_note::Variables {
            input: add_note::AddNoteInput {
                body: format!("checked by contacts_worker at {at}"),
                contact_id: Some(contact_id.clone()),
                deal_id: None,
            },
        })
        .await?
        .add_note;
    info!(note = %note.id, contact = %contact_id, "added a note");
    report.note_id = note.id;

    // Partial data: a failed enrichment nulls that field only; keep the rest of the page.
    let mut after: Option<String> = None;
    loop {
        report.enrichment_pages += 1;
        let page = client
            .query_partial::<ListEnrichments>(list_enrichments::Variables {
                first: Some(PAGE_SIZE),
                after: after.clone(),
            })
            .await?;
        let contacts = page.data.contacts;
        for error in &page.errors {
            if error.code() != Some(ENRICHMENT_UNAVAILABLE) {
                return Err(format!("Konvert: {} (code {:?})", error.message, error.code()).into());
            }
            // The path names the edge: ["contacts", "edges", i, "node", "enrichment"].
            let edge = error.path.iter().find_map(|s| match s {
                PathSegment::Index(i) => usize::try_from(*i).ok(),
                PathSegment::Key(_) => None,
            });
            let id = edge
                .and_then(|i| contacts.edges.get(i))
                .map_or_else(|| "?".to_owned(), |e| e.node.id.clone());
            warn!(contact = %id, message = %error.message, "enrichment unavailable");
            report.unavailable.push(id);
        }
        report.enriched += contacts
            .edges
            .iter()
            .filter(|e| e.node.enrichment.is_some())
            .count();
        match contacts.page_info.end_cursor {
            Some(next) if contacts.page_info.has_next_page && after.as_ref() != Some(&next) => {
                after = Some(next);
            }
            _ => break,
        }
    }
    Ok(report)
}

/// A client builder for the sandbox at `base`, with its test credentials.
fn sandbox_builder(base: &str) -> KonvertClientBuilder {
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        Provider::Konvert.prefix()
    );
    let secret = SecretString::from(sandbox::KONVERT_API_SECRET.to_owned());
    KonvertClient::builder(Auth::client_credentials(sandbox::KONVERT_API_KEY, secret)).base_url(url)
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let result = async {
        let target = Target::from_env(|k| std::env::var(k).ok())?;
        let sandbox = match target {
            Target::InProcess => {
                let sb = Sandbox::start().await?;
                println!("started the sandbox at {}", sb.url(Provider::Konvert));
                Some(sb)
            }
            _ => None,
        };
        let report = run(&target, sandbox.as_ref()).await;
        if let Some(sb) = sandbox {
            sb.shutdown().await;
        }
        report
    }
    .await;
    match result {
        Ok(r) => {
            println!("contacts:            {}", r.contacts);
            println!("note added:          {}", r.note_id);
            println!(
                "enriched:            {} (over {} pages)",
                r.enriched, r.enrichment_pages
            );
            println!(
                "enrichment missing:  {} ({})",
                r.unavailable.len(),
                r.unavailable.join(", ")
            );
            ExitCode::SUCCESS
        }
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
