//! Token lifecycle benchmark (prints figures; asserts nothing about time).
//!
//! `cargo bench -p oauth-flow --bench token_lifecycle`
//!
//! 1. `GrantHandle::access_token()` on a warm cache vs reading and cloning an
//!    `Arc<RwLock<String>>`: ns/op and the ratio (target ≤ 2×).
//! 2. Token requests made for 1,000 concurrent callers on an expired token, counted at a
//!    loopback token server (target 1).
//! 3. Authenticated GETs through `ApiClient` vs raw reqwest with a fixed `Authorization` header
//!    against the same minimal keep-alive HTTP/1.1 server, at concurrency 1 and 64: requests/s
//!    and the ratio (target ≥ 0.97). Rounds alternate between the two clients so background
//!    load affects both alike.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use oauth_flow::{
    ApiClient, ClientAuth, OAuthClient, ProviderProfile, ReqwestTransport, SecretString, Token,
    TokenManager,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const API_BODY: &[u8] = br#"{"id":42,"name":"ada","plan":"pro"}"#;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let started = Instant::now();
    println!(
        "token_lifecycle benchmark (release build, {} CPUs)",
        num_cpus()
    );
    println!();
    warm_cache().await;
    println!();
    storm().await;
    println!();
    throughput().await;
    println!();
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn token(access: &str, refresh: Option<&str>, expires_at: SystemTime) -> Token {
    Token {
        access_token: SecretString::from(access.to_owned()),
        token_type: "Bearer".into(),
        expires_at: Some(expires_at),
        refresh_token: refresh.map(|r| SecretString::from(r.to_owned())),
        scope: None,
        extra: Default::default(),
    }
}

fn client(token_url: &str) -> OAuthClient {
    let profile = ProviderProfile::builder("bench", token_url)
        .client_auth(ClientAuth::SecretPost)
        .build()
        .unwrap();
    OAuthClient::builder(profile, "bench-client")
        .client_secret(SecretString::from("bench-secret".to_owned()))
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Warm cache.

async fn warm_cache() {
    const N: u32 = 2_000_000;
    const ROUNDS: usize = 7;
    let m = TokenManager::builder(
        client("https://auth.example.invalid/token"),
        Arc::new(ReqwestTransport::new().unwrap()),
    )
    .build()
    .unwrap();
    let grant = m
        .insert(
            "u",
            token(
                "warm-access-token-0123456789abcdef0123456789",
                Some("r"),
                SystemTime::now() + Duration::from_secs(3600),
            ),
        )
        .await
        .unwrap();
    let baseline = Arc::new(RwLock::new(
        "warm-access-token-0123456789abcdef0123456789".to_owned(),
    ));

    let mut grant_ns = Vec::new();
    let mut base_ns = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..N {
            black_box(grant.access_token().await.unwrap());
        }
        grant_ns.push(t.elapsed().as_nanos() as f64 / f64::from(N));

        let t = Instant::now();
        for _ in 0..N {
            let s: String = baseline.read().unwrap().clone();
            black_box(s);
        }
        base_ns.push(t.elapsed().as_nanos() as f64 / f64::from(N));
    }
    let g = median(&mut grant_ns);
    let b = median(&mut base_ns);
    println!("1. warm cache ({ROUNDS} rounds x {N} calls, median)");
    println!("   GrantHandle::access_token()        {g:8.1} ns/op");
    println!("   Arc<RwLock<String>> read + clone   {b:8.1} ns/op");
    println!(
        "   ratio                              {:8.2}x   (target <= 2x)",
        g / b
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// A minimal keep-alive HTTP/1.1 server: fixed response, requests counted.

async fn serve(response: Vec<u8>, counter: Arc<AtomicU64>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let response: Arc<[u8]> = response.into();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let (response, counter) = (response.clone(), counter.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut filled = 0;
                loop {
                    // Answer every complete request head in the buffer (bodies are skipped by
                    // their Content-Length).
                    while let Some(end) = find_head(&buf[..filled]) {
                        let body = content_length(&buf[..end]);
                        if filled < end + body {
                            break;
                        }
                        buf.copy_within(end + body..filled, 0);
                        filled -= end + body;
                        counter.fetch_add(1, Ordering::Relaxed);
                        if stream.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                    if filled == buf.len() {
                        buf.resize(buf.len() * 2, 0);
                    }
                    match stream.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => filled += n,
                    }
                }
            });
        }
    });
    addr
}

fn find_head(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn content_length(head: &[u8]) -> usize {
    let head = String::from_utf8_lossy(head);
    head.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

fn http_response(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

// ---------------------------------------------------------------------------------------------
// 2. Refresh storm.

async fn storm() {
    const CALLERS: usize = 1000;
    let body = serde_json::json!({
        "access_token": "storm-access-1", "token_type": "Bearer",
        "expires_in": 3600, "refresh_token": "storm-refresh-1"
    })
    .to_string();
    let count = Arc::new(AtomicU64::new(0));
    let addr = serve(
        http_response("application/json", body.as_bytes()),
        count.clone(),
    )
    .await;
    let m = TokenManager::builder(
        client(&format!("http://{addr}/token")),
        Arc::new(ReqwestTransport::new().unwrap()),
    )
    .build()
    .unwrap();
    m.insert(
        "u",
        token(
            "storm-access-0",
            Some("storm-refresh-0"),
            SystemTime::now() - Duration::from_secs(60),
        ),
    )
    .await
    .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let t = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (g, b) = (m.grant("u"), barrier.clone());
            tokio::spawn(async move {
                b.wait().await;
                g.access_token().await
            })
        })
        .collect();
    let mut same = 0;
    let first = m.grant("u");
    for task in tasks {
        let tok = task.await.unwrap().unwrap();
        if tok.same_as(&first.access_token().await.unwrap()) {
            same += 1;
        }
    }
    println!("2. refresh storm: {CALLERS} concurrent callers on an expired token");
    println!(
        "   token requests at the server       {:8}     (target 1)",
        count.load(Ordering::SeqCst)
    );
    println!("   callers given the same new token   {same:8}");
    println!(
        "   wall time                          {:8.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Throughput.

async fn throughput() {
    const ROUNDS: usize = 5;
    const ROUND: Duration = Duration::from_millis(1500);
    let hits = Arc::new(AtomicU64::new(0));
    let addr = serve(http_response("application/json", API_BODY), hits.clone()).await;
    let base = format!("http://{addr}/v1/");
    let url = format!("{base}me");

    let m = TokenManager::builder(
        client("https://auth.example.invalid/token"),
        Arc::new(ReqwestTransport::new().unwrap()),
    )
    .build()
    .unwrap();
    let access = "api-access-token-0123456789abcdef0123456789";
    let grant = m
        .insert(
            "u",
            token(
                access,
                Some("r"),
                SystemTime::now() + Duration::from_secs(3600),
            ),
        )
        .await
        .unwrap();
    let api = ApiClient::builder(
        base.clone(),
        Arc::new(ReqwestTransport::new().unwrap()),
        Arc::new(grant),
    )
    .build()
    .unwrap();
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let auth = format!("Bearer {access}");

    println!(
        "3. authenticated GET throughput ({ROUNDS} alternating rounds x {} ms per client)",
        ROUND.as_millis()
    );
    for concurrency in [1usize, 64] {
        // Warm up connections on both clients.
        let api_f = {
            let api = api.clone();
            move || api_get(api.clone())
        };
        let raw_f = {
            let (raw, url, auth) = (
                raw.clone(),
                Arc::<str>::from(url.as_str()),
                Arc::<str>::from(auth.as_str()),
            );
            move || raw_get(raw.clone(), url.clone(), auth.clone())
        };
        run_for(concurrency, Duration::from_millis(300), api_f.clone()).await;
        run_for(concurrency, Duration::from_millis(300), raw_f.clone()).await;
        let (mut raw_n, mut api_n) = (0u64, 0u64);
        let (mut raw_t, mut api_t) = (0f64, 0f64);
        let mut ratios = Vec::new();
        for _ in 0..ROUNDS {
            let (n, t) = run_for(concurrency, ROUND, raw_f.clone()).await;
            let (raw_rps, _) = (n as f64 / t, raw_n += n);
            raw_t += t;
            let (n, t) = run_for(concurrency, ROUND, api_f.clone()).await;
            let (api_rps, _) = (n as f64 / t, api_n += n);
            api_t += t;
            ratios.push(api_rps / raw_rps);
        }
        let raw_rps = raw_n as f64 / raw_t;
        let api_rps = api_n as f64 / api_t;
        println!("   concurrency {concurrency:>2}");
        println!("     raw reqwest + fixed header       {raw_rps:10.0} req/s");
        println!("     ApiClient (GrantHandle)          {api_rps:10.0} req/s");
        println!(
            "     ratio ApiClient / raw            {:10.3}   (median of rounds {:.3}; target >= 0.97)",
            api_rps / raw_rps,
            median(&mut ratios)
        );
    }
    println!(
        "   requests served in total           {:10}",
        hits.load(Ordering::Relaxed)
    );
}

async fn api_get(api: ApiClient) {
    let v: Value = api.get("me").await.unwrap();
    black_box(v);
}

async fn raw_get(raw: reqwest::Client, url: Arc<str>, auth: Arc<str>) {
    let resp = raw
        .get(&*url)
        .header(reqwest::header::AUTHORIZATION, &*auth)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let bytes = resp.bytes().await.unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    black_box(v);
}

/// Runs `concurrency` spawned workers looping `f` for `d`; returns (completed requests,
/// seconds).
async fn run_for<F, Fut>(concurrency: usize, d: Duration, f: F) -> (u64, f64)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + d;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    f().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    (total, start.elapsed().as_secs_f64())
}
