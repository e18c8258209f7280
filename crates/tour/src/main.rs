//! `cargo run -p tour`: starts the sandbox in-process and walks through every provider SDK end
//! to end, printing a short transcript with secrets masked.

mod transcript;

#[cfg(feature = "askara")]
mod askara;
#[cfg(feature = "konpro")]
mod konpro;
#[cfg(feature = "konvert")]
mod konvert;
#[cfg(feature = "kustomer")]
mod kustomer;

use std::process::ExitCode;

/// The error type of a tour step: anything displayable.
pub type StepResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// One provider's part of the tour, run in order.
type Part<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = StepResult> + 'a>>;

#[tokio::main]
async fn main() -> ExitCode {
    let sandbox = match sandbox::Sandbox::start().await {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("could not start the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    transcript::title(&format!("Sandbox listening on {}", sandbox.base_url()));

    let mut failures = 0;
    let parts: Vec<(&str, Part<'_>)> = vec![
        #[cfg(feature = "konpro")]
        ("KonPro", Box::pin(konpro::run(&sandbox))),
        #[cfg(feature = "askara")]
        ("Askara", Box::pin(askara::run(&sandbox))),
        #[cfg(feature = "kustomer")]
        ("Kustomer", Box::pin(kustomer::run(&sandbox))),
        #[cfg(feature = "konvert")]
        ("Konvert", Box::pin(konvert::run(&sandbox))),
    ];

    for (name, part) in parts {
        transcript::title(name);
        if let Err(e) = part.await {
            transcript::step(&format!("FAILED: {e}"));
            failures += 1;
        }
    }
    if failures == 0 {
        transcript::title("Tour complete: every provider ran end to end.");
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} part(s) of the tour failed");
        ExitCode::FAILURE
    }
}
