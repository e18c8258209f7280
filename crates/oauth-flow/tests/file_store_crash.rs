//! Crash safety of `FileStore` (SECURITY S26): a child process saves tokens in a tight loop and
//! is killed with SIGKILL at random moments; after every kill the token file must read back as
//! one whole token that the child saved (never empty, never a mix of two saves), and any
//! temporary file the kill left behind must be one `load` never reads.
//!
//! The child is this test binary run again with [`CHILD_DIR`] set: the `child_saver` test then
//! saves until it is killed (and does nothing in a normal run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oauth_flow::{ExposeSecret, FileStore, GrantKey, SecretString, Token, TokenStore};

/// Set in the child: the store directory to save into.
const CHILD_DIR: &str = "OAUTH_FLOW_CRASH_CHILD_DIR";
/// Set in the child: a tag distinguishing this child's tokens from earlier children's.
const CHILD_TAG: &str = "OAUTH_FLOW_CRASH_CHILD_TAG";
/// Kills in one run.
const KILLS: usize = 200;

fn key() -> GrantKey {
    GrantKey::new("crash", "crash-client", "user")
}

/// Token number `n` of child `tag`: every field carries both, so a mix of two saves shows.
fn token(tag: &str, n: u64) -> Token {
    let mut extra = serde_json::Map::new();
    extra.insert("n".into(), serde_json::json!(n));
    // Padding, so a write takes more than one small block and a torn write would be visible.
    extra.insert(
        "pad".into(),
        serde_json::json!(format!("{tag}-{n}-").repeat(64)),
    );
    Token {
        access_token: SecretString::from(format!("tok-{tag}-{n}")),
        token_type: "Bearer".into(),
        expires_at: None,
        issued_at: None,
        refresh_token: Some(SecretString::from(format!("ref-{tag}-{n}"))),
        scope: Some(format!("s-{tag}-{n}")),
        extra,
    }
}

/// The child: saves token 0, 1, 2, … until killed.
#[test]
fn child_saver() {
    let (Ok(dir), Ok(tag)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_TAG)) else {
        return; // a normal test run: nothing to do
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = FileStore::new(&dir);
        for n in 0.. {
            store.save(&key(), &token(&tag, n)).await.unwrap();
        }
    });
}

/// Checks that `loaded` is one whole token saved by child `tag`, and returns its number.
fn whole_token_of(tag: &str, loaded: &Token) -> u64 {
    let access = loaded.access_token.expose_secret();
    let n: u64 = access
        .strip_prefix(&format!("tok-{tag}-"))
        .unwrap_or_else(|| panic!("not a token of child {tag}: {access}"))
        .parse()
        .unwrap();
    let expected = token(tag, n);
    assert_eq!(
        loaded.refresh_token.as_ref().unwrap().expose_secret(),
        expected.refresh_token.as_ref().unwrap().expose_secret(),
        "a mix of two saves"
    );
    assert_eq!(loaded.scope, expected.scope, "a mix of two saves");
    assert_eq!(loaded.extra, expected.extra, "a mix of two saves");
    n
}

/// Every file in `dir` but the token file must be a temporary file of a killed save: hidden,
/// named after the token file, ending in `.tmp`. Returns how many there are.
fn stray_temp_files(dir: &Path, token_file: &Path) -> usize {
    let token_name = token_file.file_name().unwrap().to_str().unwrap();
    let mut strays = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        // The token file, and the grant's lock file (held while refreshing, never read as a
        // token).
        if name == token_name || name == token_name.replace(".json", ".lock") {
            continue;
        }
        assert!(
            name.starts_with('.') && name.ends_with(".tmp") && name.contains(token_name),
            "unexpected file `{name}` beside the token file"
        );
        strays += 1;
    }
    strays
}

#[tokio::test]
async fn sigkill_during_saves_leaves_a_whole_token() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory the store creates itself (0700): it refuses one other users can enter.
    let dir = tmp.path().join("tokens");
    let store = FileStore::new(&dir);
    let path = store.path_for(&key());
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut kills_mid_run = 0;
    for round in 0..KILLS {
        let tag = format!("r{round}");
        let mut child = Command::new(&exe)
            .args(["--exact", "child_saver", "--test-threads=1", "--quiet"])
            .env(CHILD_DIR, &dir)
            .env(CHILD_TAG, &tag)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for this child's first save, so each kill lands among its saves.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = store.load(&key()).await;
            if let Ok(Some(t)) = &loaded
                && t.access_token
                    .expose_secret()
                    .starts_with(&format!("tok-{tag}-"))
            {
                break;
            }
            if Instant::now() > deadline {
                let status = child.try_wait();
                panic!("child {tag} never saved: last load {loaded:?}, child {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_micros(rand::random_range(0..20_000))).await;
        // `Child::kill` is SIGKILL on Unix: no destructor, no cleanup runs in the child.
        child.kill().unwrap();
        child.wait().unwrap();

        let loaded = store
            .load(&key())
            .await
            .unwrap()
            .expect("the token file is never missing after a kill");
        if whole_token_of(&tag, &loaded) > 0 {
            kills_mid_run += 1;
        }
        stray_temp_files(&dir, &path);
    }
    let strays = stray_temp_files(&dir, &path);
    // A later save by a live process replaces the token file as usual, strays or not.
    store.save(&key(), &token("final", 7)).await.unwrap();
    let last = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(whole_token_of("final", &last), 7);
    println!(
        "{KILLS} SIGKILLs in {:.1} s: every load gave one whole saved token ({kills_mid_run} \
         kills after the child's second save or later); {strays} stale temporary files left \
         beside the token file, never read by load",
        started.elapsed().as_secs_f64()
    );
}
