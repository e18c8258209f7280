//! Workspace automation, run through the cargo alias `cargo xtask …` (see `.cargo/config.toml`):
//! nothing to install.
//!
//! - `cargo xtask introspect --endpoint URL [--auth client-credentials|jwt] [--out PATH]`: posts
//!   the standard introspection query to a GraphQL endpoint and writes the schema file
//!   (`crates/konvert-sdk/graphql/schema.json` by default). With `--auth`, konvert-sdk obtains
//!   the bearer from the API key and secret in `KONVERT_API_KEY` / `KONVERT_API_SECRET`
//!   (other names with `--key-env` / `--secret-env`); `--bearer ENV_VAR` sends a token fetched
//!   beforehand instead. Credentials are read from the environment only, never from argv.
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
        #[arg(long, value_name = "ENV_VAR", conflicts_with = "auth")]
        bearer: Option<String>,
        /// Authenticate with the API key and secret from the environment, through
        /// konvert-sdk: a client-credentials token from `{endpoint minus /api}/oauth/token`, or
        /// a self-signed JWT.
        #[arg(long, value_enum)]
        auth: Option<introspect::KeyAuth>,
        /// The environment variable holding the API key (with `--auth`).
        #[arg(long, value_name = "ENV_VAR", default_value = "KONVERT_API_KEY")]
        key_env: String,
        /// The environment variable holding the API secret (with `--auth`).
        #[arg(long, value_name = "ENV_VAR", default_value = "KONVERT_API_SECRET")]
        secret_env: String,
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
            auth,
            key_env,
            secret_env,
            out,
        } => {
            let credentials = match (bearer, auth) {
                (Some(var), _) => introspect::Credentials::Bearer { var },
                (None, Some(mode)) => introspect::Credentials::ApiKey {
                    mode,
                    key_var: key_env,
                    secret_var: secret_env,
                },
                (None, None) => introspect::Credentials::None,
            };
            run_introspect(&endpoint, &credentials, out)
        }
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
    credentials: &introspect::Credentials,
    out: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let env = |var: &str| std::env::var(var).ok();
    let schema = runtime.block_on(introspect::introspect_with(endpoint, credentials, &env))?;
    let out = out.unwrap_or_else(codegen::schema_path);
    std::fs::write(&out, schema)?;
    println!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        let mut argv = vec![
            "cargo xtask",
            "introspect",
            "--endpoint",
            "https://x.test/api",
        ];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| cli.command)
    }

    /// Credentials are named by environment variable, never passed on the command line.
    #[test]
    fn introspect_flags_name_variables_and_exclude_each_other() {
        let Command::Introspect {
            auth,
            key_env,
            secret_env,
            bearer,
            ..
        } = parse(&["--auth", "client-credentials"]).unwrap()
        else {
            panic!("not introspect")
        };
        assert_eq!(auth, Some(introspect::KeyAuth::ClientCredentials));
        assert_eq!(
            (key_env.as_str(), secret_env.as_str()),
            ("KONVERT_API_KEY", "KONVERT_API_SECRET")
        );
        assert_eq!(bearer, None);

        let Command::Introspect {
            auth,
            key_env,
            secret_env,
            ..
        } = parse(&["--auth", "jwt", "--key-env", "K", "--secret-env", "S"]).unwrap()
        else {
            panic!("not introspect")
        };
        assert_eq!(auth, Some(introspect::KeyAuth::Jwt));
        assert_eq!((key_env.as_str(), secret_env.as_str()), ("K", "S"));

        assert!(parse(&["--auth", "jwt", "--bearer", "TOKEN"]).is_err());
        assert!(parse(&["--secret", "s3cr3t"]).is_err());
    }
}
