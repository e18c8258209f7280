//! `FileStore`: permissions under umask 000, atomic replacement (a failed save keeps the old
//! file), corrupt files as typed errors that a load never overwrites, and concurrent saves.
//!
//! SECURITY: S26 (temp file in the same directory created 0600, rename; directory 0700),
//! S25 (errors and Debug never quote file contents).
//!
//! Root note: these tests may run as root (CI containers), where permission bits do not stop
//! writes. To make a save fail portably, the temporary file's path (`.<file>.<pid>.tmp` in the
//! store directory) is occupied by a directory, so creating the temporary file fails before
//! the rename. The read-only-directory variant runs only when the process is not privileged
//! (detected by probing a write).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{Resp, TestServer, expired, secret_of, t0, temp_path_for, token_body, transport};
use oauth_flow::{Error, ExposeSecret, FileStore, GrantKey, Token, TokenManager, TokenStore};

fn key(subject: &str) -> GrantKey {
    GrantKey::new("testprov", common::CLIENT_ID, subject)
}

fn tok(n: usize) -> Token {
    common::token(
        &common::access_token(n),
        Some(&common::refresh_token(n)),
        Some(t0() + Duration::from_secs(n as u64)),
    )
}

#[tokio::test]
async fn round_trip_delete_and_debug() {
    let dir = common::private_tempdir();
    let store = FileStore::new(dir.path().join("tokens"));
    let k = key("u");
    assert!(store.load(&k).await.unwrap().is_none());
    store.save(&k, &tok(1)).await.unwrap();
    let back = store.load(&k).await.unwrap().unwrap();
    assert_eq!(back.access_token.expose_secret(), common::access_token(1));
    assert_eq!(
        back.refresh_token.unwrap().expose_secret(),
        common::refresh_token(1)
    );
    assert_eq!(back.expires_at, tok(1).expires_at);
    // File names are hashes: no user-chosen text becomes a path.
    let evil = key("../../etc/passwd");
    assert_eq!(
        store.path_for(&evil).parent(),
        Some(dir.path().join("tokens").as_path())
    );
    store.delete(&k).await.unwrap();
    store.delete(&k).await.unwrap(); // deleting a missing key is fine
    assert!(store.load(&k).await.unwrap().is_none());
    assert!(!format!("{store:?}").contains("CANARY"));
}

/// S26: under umask 000 the token file is 0600 and the directory 0700.
#[cfg(unix)]
#[tokio::test]
async fn s26_file_0600_and_dir_0700_under_umask_000() {
    use rustix::fs::Mode;
    use std::os::unix::fs::PermissionsExt;

    let dir = common::private_tempdir();
    let store_dir = dir.path().join("a/b/tokens");
    let store = FileStore::new(&store_dir);
    let k = key("u");
    let old = rustix::process::umask(Mode::empty());
    let saved = async {
        store.save(&k, &tok(1)).await?;
        store.save(&k, &tok(2)).await // replacing keeps the mode
    }
    .await;
    rustix::process::umask(old);
    saved.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store.path_for(&k)), 0o600);
    assert_eq!(mode(&store_dir), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&store_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// S26: a save that fails before the rename leaves the old file intact (byte for byte) and
/// reports a typed store error.
#[tokio::test]
async fn s26_failed_save_keeps_the_old_file() {
    let dir = common::private_tempdir();
    let store = FileStore::new(dir.path());
    let k = key("u");
    store.save(&k, &tok(1)).await.unwrap();
    let before = std::fs::read(store.path_for(&k)).unwrap();

    let blocker = temp_path_for(&store, &k);
    std::fs::create_dir(&blocker).unwrap();
    match store.save(&k, &tok(2)).await {
        Err(Error::Store {
            key: failed,
            message,
            ..
        }) => {
            assert_eq!(failed, k);
            assert!(message.contains("temporary"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(store.path_for(&k)).unwrap(), before);
    let still = store.load(&k).await.unwrap().unwrap();
    assert_eq!(still.access_token.expose_secret(), common::access_token(1));

    std::fs::remove_dir(&blocker).unwrap();
    store.save(&k, &tok(2)).await.unwrap();
    let now = store.load(&k).await.unwrap().unwrap();
    assert_eq!(now.access_token.expose_secret(), common::access_token(2));
}

/// The same with a read-only directory, when permission bits apply (not as root).
#[cfg(unix)]
#[tokio::test]
async fn s26_read_only_directory_keeps_the_old_file() {
    use std::os::unix::fs::PermissionsExt;

    let dir = common::private_tempdir();
    let store = FileStore::new(dir.path());
    let k = key("u");
    store.save(&k, &tok(1)).await.unwrap();
    let before = std::fs::read(store.path_for(&k)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let probe = dir.path().join("probe");
    let privileged = std::fs::write(&probe, b"x").is_ok();
    let result = store.save(&k, &tok(2)).await;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    if privileged {
        // Root ignores the mode bits; `s26_failed_save_keeps_the_old_file` covers the failure.
        eprintln!("running privileged: the read-only directory does not stop writes");
        return;
    }
    assert!(matches!(result, Err(Error::Store { .. })), "{result:?}");
    assert_eq!(std::fs::read(store.path_for(&k)).unwrap(), before);
}

/// A store directory under a regular file cannot be created: typed errors for save and load.
#[tokio::test]
async fn store_under_a_file_is_a_typed_error() {
    let dir = common::private_tempdir();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let store = FileStore::new(file.join("tokens"));
    let k = key("u");
    assert!(matches!(
        store.save(&k, &tok(1)).await,
        Err(Error::Store { .. })
    ));
    assert!(matches!(store.load(&k).await, Err(Error::Store { .. })));
}

/// A corrupt file is a typed error that quotes nothing from the file, and a load never
/// rewrites it; nor does a token manager that fails to load it.
#[tokio::test]
async fn corrupt_file_is_a_typed_error_and_is_not_overwritten() {
    let dir = common::private_tempdir();
    let store = Arc::new(FileStore::new(dir.path()));
    let k = key("u");
    store.save(&k, &tok(1)).await.unwrap();
    let path = store.path_for(&k);
    let valid = std::fs::read(&path).unwrap();

    let other_key = {
        // A valid record that belongs to another grant.
        let other = FileStore::new(dir.path().join("other"));
        other.save(&key("someone-else"), &tok(9)).await.unwrap();
        std::fs::read(other.path_for(&key("someone-else"))).unwrap()
    };
    let wrong_version = String::from_utf8(valid.clone())
        .unwrap()
        .replacen("\"version\": 1", "\"version\": 7", 1)
        .into_bytes();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"{\"token\": \"CANARY-garbage\" !!!".to_vec()),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("binary", vec![0xff, 0x00, 0xfe, 0x10]),
        ("wrong version", wrong_version),
        ("another grant", other_key),
    ];
    let server =
        TestServer::start(|_| Resp::json(200, &token_body("AT-new", Some("RT-new"), Some(60))))
            .await;
    for (name, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        match store.load(&k).await {
            Err(e @ Error::Store { .. }) => {
                let text = format!("{e} {e:?}");
                assert!(!text.contains("CANARY"), "{name}: {text}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: load rewrote the file"
        );

        // A manager needing a refresh reads the store first and stops there.
        let m = TokenManager::builder(common::client(&server), transport())
            .store(store.clone())
            .build()
            .unwrap();
        let err = m.grant("u").access_token().await.unwrap_err();
        assert!(matches!(err, Error::Store { .. }), "{name}: {err:?}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: manager rewrote the file"
        );
    }
    assert_eq!(server.hits("/token"), 0);
    // An explicit save replaces the corrupt file.
    store.save(&k, &tok(3)).await.unwrap();
    assert!(store.load(&k).await.unwrap().is_some());
}

/// Two stores on the same directory saving the same grant concurrently (two token managers
/// in one process): every save succeeds and every load reads a complete record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_of_one_grant_never_corrupt_the_file() {
    let dir = common::private_tempdir();
    let k = key("u");
    FileStore::new(dir.path()).save(&k, &tok(0)).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..4 {
        let (path, k) = (dir.path().to_owned(), k.clone());
        tasks.push(tokio::spawn(async move {
            let store = FileStore::new(path);
            for i in 0..50 {
                store.save(&k, &tok(writer * 100 + i)).await?;
                store.load(&k).await?.expect("a record");
            }
            Ok::<_, Error>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // Through the manager too: an expired grant refreshed and saved to disk.
    let server =
        TestServer::start(|_| Resp::json(200, &token_body("AT-disk", Some("RT-disk"), Some(3600))))
            .await;
    let store = Arc::new(FileStore::new(dir.path()));
    let m = TokenManager::builder(common::client(&server), transport())
        .store(store.clone())
        .build()
        .unwrap();
    m.insert("u", expired("AT-old", Some("RT-old")))
        .await
        .unwrap();
    let at = m.grant("u").access_token().await.unwrap();
    assert_eq!(secret_of(&at), "AT-disk");
    let on_disk = store.load(&m.key("u")).await.unwrap().unwrap();
    assert_eq!(on_disk.refresh_token.unwrap().expose_secret(), "RT-disk");
}

/// Temporary files left by killed saves (older than a minute) are swept when a store first
/// uses its directory; a fresh one, possibly another process's save in flight, is kept.
#[tokio::test]
async fn stale_temporary_files_are_swept_fresh_ones_kept() {
    let dir = common::private_tempdir();
    let old = dir.path().join(".0123abcd.json.4242.tmp");
    let fresh = dir.path().join(".0123abcd.json.4343.tmp");
    for p in [&old, &fresh] {
        std::fs::write(p, b"half a token").unwrap();
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let store = FileStore::new(dir.path());
    assert!(store.load(&key("u")).await.unwrap().is_none());
    assert!(!old.exists(), "a stale temporary file is removed");
    assert!(fresh.exists(), "a fresh one is left alone");
}
