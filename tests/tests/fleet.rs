//! Processes, not tasks (issue 19): 8 real OS processes (this test binary re-executed with
//! `OAUTH_FLEET_WORKER` set) share one store on an expired Askara grant, against the sandbox
//! with strict refresh-token reuse detection (S16, S17, S28). Exactly one token request, one
//! access token for all, no re-authorization. The Redis variants start their own
//! `redis-server` on a free loopback port and are ignored unless asked for
//! (`--include-ignored`, `redis-server` on PATH).
#![cfg(feature = "askara")]
// Test code panics on purpose: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use askara_sdk::{FileStore, TokenStore};
use e2e_tests::fleet::{self, StoreSpec, WorkerResult, WorkerSpec};
use sandbox::{Provider, Sandbox};

const TOKEN_ROUTE: &str = "/askara/oauth2/token";
const PROCESSES: usize = 8;
const CALLERS: usize = 25;
/// Generous: a worker that takes this long has hung.
const LIMIT: Duration = Duration::from_secs(120);

/// In a worker process, runs the worker and returns `true`: the test body is then skipped.
async fn as_worker() -> bool {
    match WorkerSpec::from_env() {
        Some(spec) => {
            fleet::run_worker(spec).await;
            true
        }
        None => false,
    }
}

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // FileStore refuses a directory other users may enter; tempfile's follows the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

fn spec(sb: &Sandbox, store: StoreSpec, go: &Path) -> WorkerSpec {
    WorkerSpec {
        askara_url: sb.url(Provider::Askara),
        store,
        callers: CALLERS,
        warm_calls: 0,
        go_file: go.to_owned(),
        lease_ttl: Duration::from_secs(2),
    }
}

/// Re-executes this test binary as `n` workers running only `test`.
fn spawn(test: &str, spec: &WorkerSpec, n: usize) -> Vec<Child> {
    let exe = std::env::current_exe().unwrap();
    (0..n)
        .map(|_| {
            fleet::spawn_worker(
                &exe,
                &[test, "--exact", "--include-ignored", "--nocapture"],
                spec,
            )
        })
        .collect()
}

/// Waits for the workers off the runtime's threads: the sandbox keeps serving meanwhile.
async fn collect_all(workers: Vec<Child>) -> Vec<WorkerResult> {
    tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|w| fleet::collect(w, LIMIT))
            .collect()
    })
    .await
    .unwrap()
}

/// Every worker got the same token, none had to re-authorize, none failed.
fn assert_one_token_for_all(results: &[WorkerResult], expected: &str) {
    for r in results {
        assert_eq!(r.num("reauth"), 0, "{r:?}");
        assert_eq!(r.num("errors"), 0, "{r:?}");
        assert_eq!(r.num("ok"), CALLERS as u64, "{r:?}");
        assert_eq!(r.num("distinct"), 1, "{r:?}");
        assert_eq!(r.text("token"), expected, "{r:?}");
    }
}

async fn run_fleet(test: &str, sb: &Sandbox, store: Arc<dyn TokenStore>, spec_store: StoreSpec) {
    fleet::expired_grant(sb, store.clone()).await;
    sb.reset_calls();
    let go_dir = tempfile::tempdir().unwrap();
    let go = go_dir.path().join("go");
    let workers = spawn(test, &spec(sb, spec_store, &go), PROCESSES);
    std::fs::write(&go, b"go").unwrap();
    let results = collect_all(workers).await;

    assert_eq!(sb.calls(TOKEN_ROUTE), 1, "exactly one token request");
    assert_eq!(sb.reuse_detections(), 0, "no refresh token spent twice");
    let stored = fleet::stored_access_fingerprint(sb, store).await;
    assert_one_token_for_all(&results, &stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_eight_processes_on_one_file_store_make_one_refresh() {
    if as_worker().await {
        return;
    }
    let sb = Sandbox::start().await.unwrap();
    let dir = private_dir();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path()));
    run_fleet(
        "s16_eight_processes_on_one_file_store_make_one_refresh",
        &sb,
        store,
        StoreSpec::File(dir.path().to_owned()),
    )
    .await;
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use askara_sdk::RedisStore;
    use oauth_flow::{Error, ManualClock, ReqwestTransport, TokenManager};
    use oauth_flow_redis::test_util::RedisServer;
    use std::time::SystemTime;

    async fn redis_store(server: &RedisServer) -> Arc<RedisStore> {
        Arc::new(
            RedisStore::builder(server.url())
                .response_timeout(Duration::from_millis(500))
                .build()
                .await
                .unwrap(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on PATH"]
    async fn s16_eight_processes_on_one_redis_make_one_refresh() {
        if as_worker().await {
            return;
        }
        let server = RedisServer::start().unwrap();
        let sb = Sandbox::start().await.unwrap();
        let store = redis_store(&server).await;
        run_fleet(
            "redis::s16_eight_processes_on_one_redis_make_one_refresh",
            &sb,
            store,
            StoreSpec::Redis(server.url()),
        )
        .await;
    }

    /// A token endpoint that takes requests and never answers: the lease holder hangs there
    /// until it is killed, and the provider never sees its refresh.
    fn black_hole() -> (String, std::sync::mpsc::Receiver<()>) {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/askara", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for mut conn in listener.incoming().flatten() {
                let mut buf = [0u8; 1024];
                if conn.read(&mut buf).unwrap_or(0) > 0 {
                    let _ = tx.send(());
                }
                held.push(conn);
            }
        });
        (url, rx)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on PATH"]
    async fn s16_lease_holder_killed_mid_refresh_then_another_process_refreshes() {
        if as_worker().await {
            return;
        }
        const TEST: &str =
            "redis::s16_lease_holder_killed_mid_refresh_then_another_process_refreshes";
        let server = RedisServer::start().unwrap();
        let sb = Sandbox::start().await.unwrap();
        let store = redis_store(&server).await;
        fleet::expired_grant(&sb, store.clone()).await;
        sb.reset_calls();
        let go_dir = tempfile::tempdir().unwrap();
        let go = go_dir.path().join("go");

        // The victim takes the lease and hangs in its refresh; then SIGKILL.
        let (hole, reached) = black_hole();
        let victim_go = go_dir.path().join("victim-go");
        std::fs::write(&victim_go, b"go").unwrap();
        let mut victim_spec = spec(&sb, StoreSpec::Redis(server.url()), &victim_go);
        victim_spec.askara_url = hole;
        let mut victim = spawn(TEST, &victim_spec, 1).remove(0);
        tokio::task::spawn_blocking(move || reached.recv_timeout(LIMIT))
            .await
            .unwrap()
            .expect("the victim sent its refresh");
        victim.kill().unwrap(); // SIGKILL: no release, no cleanup
        victim.wait().unwrap();

        // The others wait for the dead holder's lease to lapse (ttl 2 s), then one refreshes.
        let workers = spawn(
            TEST,
            &spec(&sb, StoreSpec::Redis(server.url()), &go),
            PROCESSES - 1,
        );
        std::fs::write(&go, b"go").unwrap();
        let results = collect_all(workers).await;
        assert_eq!(sb.calls(TOKEN_ROUTE), 1, "one refresh reached the provider");
        assert_eq!(sb.reuse_detections(), 0);
        let stored = fleet::stored_access_fingerprint(&sb, store).await;
        assert_one_token_for_all(&results, &stored);
    }

    /// A manager in this process on `store`, with its clock.
    fn manager(sb: &Sandbox, store: Arc<dyn TokenStore>, clock: Arc<ManualClock>) -> TokenManager {
        let client = fleet::askara(&sb.url(Provider::Askara), store.clone())
            .oauth_client()
            .clone();
        TokenManager::builder(client, Arc::new(ReqwestTransport::new().unwrap()))
            .store(store)
            .clock(clock)
            .build()
            .unwrap()
    }

    fn is_redis_store_error(e: &Error) -> bool {
        matches!(e, Error::Store { message, .. } if message.contains("Redis"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on PATH"]
    async fn redis_stopped_mid_run_serves_cached_tokens_and_fails_typed() {
        let mut server = RedisServer::start().unwrap();
        let sb = Sandbox::start().await.unwrap();
        let store = redis_store(&server).await;
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let m = manager(&sb, store.clone(), clock.clone());
        let askara = fleet::askara(&sb.url(Provider::Askara), store.clone());
        let (url, pending) = askara.authorize_url().unwrap();
        let callback = sb.approve(url.as_str()).await.unwrap();
        askara.complete("alice", pending, &callback).await.unwrap();
        let grant = m.grant("alice");
        let warm = grant.access_token().await.unwrap();

        server.stop();
        // The cached token is still served: the warm path never leaves the process.
        for _ in 0..10 {
            assert!(grant.access_token().await.unwrap().same_as(&warm));
        }
        // A grant this process has not loaded needs Redis: a typed error, no panic, no hang.
        let e = tokio::time::timeout(LIMIT, m.grant("bob").access_token())
            .await
            .expect("no hang")
            .unwrap_err();
        assert!(is_redis_store_error(&e), "{e:?}");
        // Past expiry the refresh needs the lease: a typed error again.
        clock.advance(Duration::from_secs(86_400));
        sb.advance_clock(Duration::from_secs(86_400));
        let e = tokio::time::timeout(LIMIT, grant.access_token())
            .await
            .expect("no hang")
            .unwrap_err();
        assert!(is_redis_store_error(&e), "{e:?}");
        assert!(!matches!(e, Error::ReauthorizationRequired { .. }));
        assert_eq!(sb.reuse_detections(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on PATH"]
    async fn redis_restarted_empty_reauthorizes_only_grants_really_gone() {
        let mut server = RedisServer::start().unwrap();
        let sb = Sandbox::start().await.unwrap();
        let store = redis_store(&server).await;
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let askara = fleet::askara(&sb.url(Provider::Askara), store.clone());
        for subject in ["alice", "bob"] {
            let (url, pending) = askara.authorize_url().unwrap();
            let callback = sb.approve(url.as_str()).await.unwrap();
            askara.complete(subject, pending, &callback).await.unwrap();
        }
        let warm_process = manager(&sb, store.clone(), clock.clone());
        let alice = warm_process.grant("alice");
        let warm = alice.access_token().await.unwrap();

        server.restart().unwrap();
        // Carol signs in after the restart: her grant is in the new Redis.
        let carol = loop {
            let (url, pending) = askara.authorize_url().unwrap();
            let callback = sb.approve(url.as_str()).await.unwrap();
            match askara.complete("carol", pending, &callback).await {
                Ok(s) => break s,
                // The first calls after the restart may meet the dropped connection.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };

        let cold_process = manager(&sb, store.clone(), clock.clone());
        // Bob's tokens are really gone: no process holds them.
        let e = cold_process.grant("bob").access_token().await.unwrap_err();
        assert!(matches!(e, Error::ReauthorizationRequired { .. }), "{e:?}");
        // Carol's grant is in Redis: no re-authorization.
        cold_process.grant("carol").access_token().await.unwrap();
        carol.profile().await.unwrap();
        // Alice's token is still valid in the warm process's cache: still served.
        assert!(alice.access_token().await.unwrap().same_as(&warm));
    }
}
