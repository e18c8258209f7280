//! The `login` example, run as a test so it cannot rot: its own `run` with the in-process
//! sandbox, approving through the sandbox's consent form instead of a browser, then a second
//! run that must reuse the stored grant and may not start a login at all.
// Test code: helpers outside `#[test]` fns unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// `main` and the printing helpers of the example are not called from here.
#[allow(dead_code)]
#[path = "../examples/login.rs"]
mod login_example;

use std::sync::Mutex;

use login_example::{Browser, Options, Target, run};

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs the example once, returning its outcome and progress lines.
async fn run_once(
    opts: &Options,
) -> (
    Result<Option<login_example::Outcome>, Box<dyn std::error::Error + Send + Sync>>,
    Vec<String>,
) {
    let lines = Mutex::new(Vec::new());
    let say = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let outcome = run(opts, &say).await;
    (outcome, lines.into_inner().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_logs_in_once_then_reuses_the_stored_grant_without_a_browser() {
    let home = tempfile::tempdir().unwrap();
    let env = env_of(&[
        ("HOME", home.path().to_str().unwrap()),
        ("KONPRO_LOGIN_AUTO_APPROVE", "1"),
    ]);
    let first = Options::parse(args(&["--user", "ci-user"]), &env).unwrap();
    assert_eq!(first.target, Target::Sandbox);
    assert_eq!(first.browser, Browser::SandboxApprove);
    assert_eq!(
        first.config_dir,
        home.path().join(".config/konpro-sdk-example")
    );

    let (outcome, lines) = run_once(&first).await;
    let outcome = outcome.unwrap().unwrap();
    assert!(!outcome.reused);
    assert_eq!(outcome.account.email(), Some("jamie.rivera@example.com"));
    let joined = lines.join("\n");
    for step in [
        "started the KonPro sandbox at http://127.0.0.1:",
        "listening for the login callback on http://127.0.0.1:",
        "waiting for you to approve in the browser",
        "approving on the sandbox's consent page",
        "exchanging the authorization code for tokens",
        "saved the grant in",
    ] {
        assert!(joined.contains(step), "missing `{step}` in:\n{joined}");
    }
    // One token file in the FileStore (beside it, the store may keep a lock file per grant).
    let grants = std::fs::read_dir(first.config_dir.join("sandbox"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(grants, 1, "one grant file in the FileStore");

    // Second run: no login may start (a login attempt fails this run).
    let second = Options {
        browser: Browser::Never,
        ..first.clone()
    };
    let (outcome, lines) = run_once(&second).await;
    let outcome = outcome.unwrap().unwrap();
    assert!(outcome.reused, "{lines:?}");
    assert_eq!(outcome.account.email(), Some("jamie.rivera@example.com"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("using the stored grant of `ci-user`"))
    );
    assert!(
        !lines.iter().any(|l| l.contains("waiting for you")),
        "{lines:?}"
    );

    // After --logout a run needs a login again, and says so.
    let logout = Options {
        logout: true,
        ..first.clone()
    };
    assert!(run_once(&logout).await.0.unwrap().is_none());
    let (outcome, _) = run_once(&second).await;
    let err = outcome.unwrap_err().to_string();
    assert!(
        err.contains("could not open the authorization URL"),
        "{err}"
    );
}

#[test]
fn options_read_the_config_dir_and_refuse_unclear_setups() {
    let xdg = Options::parse(
        args(&[]),
        env_of(&[("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/home/u")]),
    )
    .unwrap();
    assert_eq!(
        xdg.config_dir,
        std::path::Path::new("/cfg/konpro-sdk-example")
    );
    assert_eq!(xdg.browser, Browser::System);
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    let rel = Options::parse(
        args(&[]),
        env_of(&[("XDG_CONFIG_HOME", "cfg"), ("HOME", "/home/u")]),
    )
    .unwrap();
    assert_eq!(
        rel.config_dir,
        std::path::Path::new("/home/u/.config/konpro-sdk-example")
    );

    let prod = Options::parse(
        args(&["--production"]),
        env_of(&[("HOME", "/h"), ("KONPRO_CLIENT_ID", "abc123")]),
    )
    .unwrap();
    assert_eq!(
        prod.target,
        Target::Production {
            client_id: "abc123".into(),
            redirect_uri: "http://127.0.0.1/callback".into()
        }
    );

    let err = Options::parse(args(&["--production"]), env_of(&[("HOME", "/h")])).unwrap_err();
    assert!(err.contains("KONPRO_CLIENT_ID"), "{err}");
    let err = Options::parse(
        args(&["--production"]),
        env_of(&[
            ("HOME", "/h"),
            ("KONPRO_CLIENT_ID", "x"),
            ("KONPRO_LOGIN_AUTO_APPROVE", "1"),
        ]),
    )
    .unwrap_err();
    assert!(err.contains("sandbox only"), "{err}");
    let err = Options::parse(args(&["--bogus"]), env_of(&[("HOME", "/h")])).unwrap_err();
    assert!(err.contains("unknown argument `--bogus`"), "{err}");
    let err = Options::parse(args(&[]), env_of(&[])).unwrap_err();
    assert!(err.contains("HOME"), "{err}");
}
