//! Fleet refresh benchmark (issue 19): 8 OS processes × 100 concurrent callers on one expired
//! Askara grant in the sandbox (strict reuse detection), sharing a `FileStore` directory, then
//! a Redis store (a throwaway `redis-server` on a free loopback port; skipped when it is not on
//! PATH). Prints, per store:
//!
//! ```text
//! fleet refresh: store=<file|redis> processes=8 callers=800 token_requests=<N>
//! ```
//!
//! and for Redis the round trips of the cold round (per refresh) and of warm `access_token()`
//! calls. Run: `cargo bench -p e2e-tests --bench fleet`.
// A benchmark fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use e2e_tests::fleet::{self, StoreSpec, WorkerResult, WorkerSpec};
use sandbox::{Provider, Sandbox};

const PROCESSES: usize = 8;
const CALLERS: usize = 100;
const WARM_CALLS: usize = 1000;
const TOKEN_ROUTE: &str = "/askara/oauth2/token";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(spec) = WorkerSpec::from_env() {
        rt.block_on(fleet::run_worker(spec));
        return;
    }
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let store = Arc::new(askara_sdk::FileStore::new(dir.path()));
        run("file", store, StoreSpec::File(dir.path().to_owned())).await;
        redis().await;
    });
}

#[cfg(feature = "redis")]
async fn redis() {
    let server = match oauth_flow_redis::test_util::RedisServer::start() {
        Ok(s) => s,
        Err(e) => {
            println!("fleet refresh: store=redis skipped ({e})");
            return;
        }
    };
    let store = Arc::new(
        askara_sdk::RedisStore::builder(server.url())
            .build()
            .await
            .unwrap(),
    );
    let results = run("redis", store, StoreSpec::Redis(server.url())).await;
    let cold: u64 = results.iter().map(|r| r.num("cold_round_trips")).sum();
    let most = results
        .iter()
        .map(|r| r.num("cold_round_trips"))
        .max()
        .unwrap_or(0);
    let least = results
        .iter()
        .map(|r| r.num("cold_round_trips"))
        .min()
        .unwrap_or(0);
    println!(
        "fleet refresh: store=redis round_trips all_processes={cold} per_process={least}..{most} \
         (1 refresh; a waiter's lease polls included; the refresh itself costs 4, pinned by \
         oauth-flow-redis's a_refresh_costs_four_round_trips)"
    );
    let warm: u64 = results.iter().map(|r| r.num("warm_round_trips")).sum();
    let calls: u64 = results.iter().map(|r| r.num("warm_calls")).sum();
    let ns: u64 = results.iter().map(|r| r.num("warm_ns")).sum();
    println!(
        "fleet refresh: store=redis warm access_token() calls={calls} round_trips={warm} \
         per_call={:.3} mean_ns={}",
        warm as f64 / calls.max(1) as f64,
        ns / calls.max(1)
    );
}

#[cfg(not(feature = "redis"))]
async fn redis() {
    println!("fleet refresh: store=redis skipped (feature `redis` is off)");
}

async fn run(
    name: &str,
    store: Arc<dyn askara_sdk::TokenStore>,
    spec_store: StoreSpec,
) -> Vec<WorkerResult> {
    let sb = Sandbox::start().await.unwrap();
    fleet::expired_grant(&sb, store.clone()).await;
    sb.reset_calls();
    let go_dir = tempfile::tempdir().unwrap();
    let go = go_dir.path().join("go");
    let spec = WorkerSpec {
        askara_url: sb.url(Provider::Askara),
        store: spec_store,
        callers: CALLERS,
        warm_calls: WARM_CALLS,
        go_file: go.clone(),
        lease_ttl: Duration::from_secs(10),
    };
    let exe = std::env::current_exe().unwrap();
    let workers: Vec<_> = (0..PROCESSES)
        .map(|_| fleet::spawn_worker(&exe, &[], &spec))
        .collect();
    std::fs::write(&go, b"go").unwrap();
    let results: Vec<WorkerResult> = tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|w| fleet::collect(w, Duration::from_secs(300)))
            .collect()
    })
    .await
    .unwrap();
    let reauth: u64 = results.iter().map(|r| r.num("reauth")).sum();
    let errors: u64 = results.iter().map(|r| r.num("errors")).sum();
    let mut tokens: Vec<&str> = results.iter().map(|r| r.text("token")).collect();
    tokens.dedup();
    println!(
        "fleet refresh: store={name} processes={PROCESSES} callers={} token_requests={}",
        PROCESSES * CALLERS,
        sb.calls(TOKEN_ROUTE)
    );
    println!(
        "fleet refresh: store={name} reauthorization_required={reauth} errors={errors} \
         distinct_access_tokens={} reuse_detections={}",
        tokens.len(),
        sb.reuse_detections()
    );
    results
}
