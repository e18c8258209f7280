//! The `setup_and_sync` example, run twice against one in-process sandbox so it cannot rot:
//! the first run registers the app, waits for the install (which the sandbox performs) and
//! syncs every customer; the second reuses the registration and the installed app.
// Test code: unwraps are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// `main` and the terminal UI of the example are not called from here.
#[allow(dead_code)]
#[path = "../examples/setup_and_sync.rs"]
mod example;

use std::sync::Mutex;
use std::time::Duration;

use example::{BoxError, Config, Target, Ui, run};
use sandbox::Sandbox;

#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    progress: Mutex<Vec<String>>,
}

impl Ui for Recorder {
    fn line(&self, text: &str) {
        self.lines.lock().unwrap().push(text.to_owned());
    }
    fn progress(&self, text: &str) {
        self.progress.lock().unwrap().push(text.to_owned());
    }
    fn callback_for(&self, _: &str) -> Result<String, BoxError> {
        Err("the in-process sandbox approves by itself; nothing may be asked".into())
    }
}

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::from_env(|_| None).unwrap();
    assert!(matches!(config.target, Target::InProcess));
    config.token_dir = Some(dir.to_owned());
    config.poll_every = Duration::from_millis(10);
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_waits_for_the_install_logs_in_and_streams_every_customer_then_reuses() {
    let sb = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir.path().join("tokens"));

    let ui = Recorder::default();
    let first = run(&config, Some(&sb), &ui).await.unwrap();
    assert!(first.registered);
    assert_eq!(
        first.app_name,
        format!("{}_{}", example::APP, sandbox::KUSTOMER_ORG_ID)
    );
    // The token endpoint said "not installed" at least once, shown on the progress line.
    assert!(first.waited_polls >= 1);
    let progress = ui.progress.lock().unwrap().clone();
    assert!(
        progress
            .iter()
            .any(|p| p.starts_with("waiting for the install")),
        "{progress:?}"
    );
    // The sandbox seeds 30 customers: all streamed, pages of 10.
    assert_eq!(first.customers, 30);
    assert_eq!(sb.calls("/kustomer/v1/customers"), 3);
    assert!(first.with_email > 0 && first.with_email <= 30);
    assert_eq!(first.locales.values().sum::<u64>(), 30);
    let lines = ui.lines.lock().unwrap().join("\n");
    assert!(lines.contains("registered the private app"), "{lines}");
    assert!(lines.contains("logged in; granted: "), "{lines}");

    // Second run, same org: Kustomer answers 409 and the registration is reused; the app is
    // installed already, so nothing waits.
    let ui = Recorder::default();
    let second = run(&config, Some(&sb), &ui).await.unwrap();
    assert!(!second.registered);
    assert_eq!(second.app_name, first.app_name);
    assert_eq!(second.waited_polls, 0);
    assert_eq!(second.customers, 30);
    assert_eq!(sb.calls("/kustomer/v1/apps/available"), 2);
    let lines = ui.lines.lock().unwrap().join("\n");
    assert!(lines.contains("already registered: reusing it"), "{lines}");
}
