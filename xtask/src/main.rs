//! Workspace automation, run through the cargo alias `cargo xtask …` (see `.cargo/config.toml`):
//! nothing to install.
//!
//! - `cargo xtask introspect --endpoint URL [--bearer ENV_VAR] [--out PATH]`: posts the standard
//!   introspection query to a GraphQL endpoint and writes the schema file
//!   (`crates/konvert-sdk/graphql/schema.json` by default).
//! - `cargo xtask codegen`: regenerates konvert-sdk's checked-in operations module from the
//!   schema and the `.graphql` operation files.
//! - `cargo xtask codegen --check`: exits non-zero, naming the stale file, when the checked-in
//!   module differs from what codegen would write. A `#[test]` runs this check, so
//!   `cargo test --workspace` fails on stale generated code.

mod codegen;
mod introspect;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Workspace automation for the Konvert GraphQL code"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate konvert-sdk's operations module from the schema and the operation files.
    Codegen {
        /// Do not write: fail (exit 1) and name the file if it is not up to date.
        #[arg(long)]
        check: bool,
    },
    /// Run the standard introspection query against an endpoint and write the schema file.
    Introspect {
        /// The GraphQL endpoint, e.g. `http://127.0.0.1:8080/konvert/api` (https, or http on
        /// loopback only).
        #[arg(long)]
        endpoint: String,
        /// The name of an environment variable holding a bearer token to send (the token is
        /// never printed).
        #[arg(long, value_name = "ENV_VAR")]
        bearer: Option<String>,
        /// Where to write the schema (default: konvert-sdk's `graphql/schema.json`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Codegen { check } => codegen::run(check)
            .map(|outcome| match outcome {
                codegen::Outcome::UpToDate(path) => {
                    println!("{} is up to date", path.display());
                }
                codegen::Outcome::Written(path) => println!("wrote {}", path.display()),
            })
            .map_err(Into::into),
        Command::Introspect {
            endpoint,
            bearer,
            out,
        } => run_introspect(&endpoint, bearer.as_deref(), out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_introspect(
    endpoint: &str,
    bearer_var: Option<&str>,
    out: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let bearer = match bearer_var {
        Some(var) => Some(std::env::var(var).map_err(|_| {
            format!("the environment variable `{var}` (named by --bearer) is not set")
        })?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let schema = runtime.block_on(introspect::introspect(endpoint, bearer.as_deref()))?;
    let out = out.unwrap_or_else(codegen::schema_path);
    std::fs::write(&out, schema)?;
    println!("wrote {}", out.display());
    Ok(())
}
