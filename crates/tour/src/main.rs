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
    #[allow(unused_mut)]
    let mut parts: Vec<(&str, std::pin::Pin<Box<dyn std::future::Future<Output = StepResult> + '_>>)> =
        Vec::new();
    #[cfg(feature = "konpro")]
    parts.push(("KonPro", Box::pin(konpro::run(&sandbox))));
    #[cfg(feature = "askara")]
    parts.push(("Askara", Box::pin(askara::run(&sandbox))));
    #[cfg(feature = "kustomer")]
    parts.push(("Kustomer", Box::pin(kustomer::run(&sandbox))));
    #[cfg(feature = "konvert")]
    parts.push(("Konvert", Box::pin(konvert::run(&sandbox))));

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
