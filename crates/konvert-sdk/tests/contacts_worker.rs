//! The `contacts_worker` example's `run`, against the in-process sandbox, so it cannot rot:
//! every contact listed, a note added, and the partly failing enrichment field reported
//! instead of failing the run.
// Test code: unwraps are the assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// `main` of the example is not called from here.
#[allow(dead_code)]
#[path = "../examples/contacts_worker.rs"]
mod example;

use example::{Target, run};
use sandbox::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn lists_every_contact_adds_a_note_and_reports_partial_enrichment() {
    let sb = Sandbox::start().await.unwrap();
    let target = Target::from_env(|_| None).unwrap();
    assert!(matches!(target, Target::InProcess));

    let report = run(&target, Some(&sb)).await.unwrap();
    // The sandbox seeds 25 contacts; 5 of them (every fifth) fail their enrichment.
    assert_eq!(report.contacts, 25);
    assert!(!report.note_id.is_empty());
    assert_eq!(report.enrichment_pages, 3);
    assert_eq!(report.enriched, 20);
    assert_eq!(
        report.unavailable,
        [
            "contact-5",
            "contact-10",
            "contact-15",
            "contact-20",
            "contact-25"
        ]
    );
    // Client credentials: one token for every call of the run.
    assert_eq!(sb.calls("/konvert/oauth/token"), 1);
}

#[test]
fn credentials_come_in_pairs_and_pick_the_environment() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert!(Target::from_env(env(&[("KONVERT_API_KEY", "k")])).is_err());
    assert!(matches!(
        Target::from_env(env(&[
            ("KONVERT_API_KEY", "k"),
            ("KONVERT_API_SECRET", "s")
        ]))
        .unwrap(),
        Target::Konvert {
            environment: konvert_sdk::Environment::Production,
            base_url: None,
            ..
        }
    ));
    assert!(matches!(
        Target::from_env(env(&[
            ("KONVERT_API_KEY", "k"),
            ("KONVERT_API_SECRET", "s"),
            ("KONVERT_ENV", "staging")
        ]))
        .unwrap(),
        Target::Konvert {
            environment: konvert_sdk::Environment::Staging,
            ..
        }
    ));
    assert!(matches!(
        Target::from_env(env(&[
            ("KONVERT_API_KEY", "k"),
            ("KONVERT_API_SECRET", "s"),
            ("KONVERT_ENV", "staging"),
            ("KONVERT_BASE_URL", "https://konvert-proxy.example.test")
        ]))
        .unwrap(),
        Target::Konvert {
            environment: konvert_sdk::Environment::Staging,
            base_url: Some(url),
            ..
        } if url == "https://konvert-proxy.example.test"
    ));
    assert!(matches!(
        Target::from_env(env(&[("SANDBOX_URL", "http://127.0.0.1:9")])).unwrap(),
        Target::Sandbox(url) if url == "http://127.0.0.1:9"
    ));
}
