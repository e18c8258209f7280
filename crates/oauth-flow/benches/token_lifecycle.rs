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
//!    and the ratio (target ≥ 0.97), with the CPU time each client costs per request (Linux).
//!    Every round builds fresh clients and runs them in a new order; a second raw client,
//!    measured like the first, prints this machine's noise floor next to the ratio.

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
    // Each round builds fresh clients (fresh connection pools), so where tokio happens to place
    // their connection tasks is drawn anew every round instead of favouring one client for the
    // whole run; the order of the clients changes every round. A second raw client measured the
    // same way shows the noise floor of this machine.
    const ROUNDS: usize = 18;
    const SLICE: Duration = Duration::from_millis(600);
    const WARM: Duration = Duration::from_millis(40);
    let hits = Arc::new(AtomicU64::new(0));
    let addr = serve(http_response("application/json", API_BODY), hits.clone()).await;
    let base = format!("http://{addr}/v1/");
    let url: Arc<str> = format!("{base}me").into();

    let m = TokenManager::builder(
        client("https://auth.example.invalid/token"),
        Arc::new(ReqwestTransport::new().unwrap()),
    )
    .build()
    .unwrap();
    let access = "api-access-token-0123456789abcdef0123456789";
    let grant = Arc::new(
        m.insert(
            "u",
            token(
                access,
                Some("r"),
                SystemTime::now() + Duration::from_secs(3600),
            ),
        )
        .await
        .unwrap(),
    );
    let auth: Arc<str> = format!("Bearer {access}").into();

    println!(
        "3. authenticated GET throughput ({ROUNDS} rounds x {} ms per client, fresh clients and \
         a new order each round)",
        SLICE.as_millis()
    );
    let raw_client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    };
    const NAMES: [&str; 3] = [
        "raw reqwest + fixed header",
        "ApiClient (GrantHandle)",
        "raw reqwest again (noise floor)",
    ];
    for concurrency in [1usize, 64] {
        let mut done = [0u64; 3];
        let mut secs = [0f64; 3];
        let mut cpu = [Some(0u64); 3];
        let mut ratios = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let api = ApiClient::builder(
                base.clone(),
                Arc::new(ReqwestTransport::new().unwrap()),
                grant.clone(),
            )
            .build()
            .unwrap();
            let clients = [
                Client::Raw(raw_client(), url.clone(), auth.clone()),
                Client::Api(api),
                Client::Raw(raw_client(), url.clone(), auth.clone()),
            ];
            // Every order of the three, in turn: no client always runs first or after another.
            const ORDERS: [[usize; 3]; 6] = [
                [0, 1, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
                [1, 0, 2],
                [0, 2, 1],
            ];
            let order = ORDERS[round % ORDERS.len()];
            let mut rps = [0f64; 3];
            for i in order {
                let c = clients[i].clone();
                let f = move || c.clone().get();
                run_for(concurrency, WARM, f.clone()).await;
                let cpu0 = cpu_ticks();
                let (n, t) = run_for(concurrency, SLICE, f).await;
                cpu[i] = match (cpu[i], cpu0, cpu_ticks()) {
                    (Some(sum), Some(a), Some(b)) => Some(sum + b.saturating_sub(a)),
                    _ => None,
                };
                done[i] += n;
                secs[i] += t;
                rps[i] = n as f64 / t;
            }
            ratios.push(rps[1] / rps[0]);
        }
        let rps: Vec<f64> = (0..3).map(|i| done[i] as f64 / secs[i]).collect();
        let (mean, half) = mean_ci95(&ratios);
        println!("   concurrency {concurrency:>2}");
        for i in 0..3 {
            let cpu_us = cpu[i].map_or("n/a".to_owned(), |t| {
                format!("{:.1}", t as f64 * 1e6 / TICKS_PER_SEC / done[i] as f64)
            });
            println!(
                "     {:<32} {:10.0} req/s   CPU {cpu_us:>5} us/req",
                NAMES[i], rps[i]
            );
        }
        println!(
            "     ratio ApiClient / raw            {:10.3}   (per-round mean {mean:.3} +- {half:.3} at 95%; target >= 0.97)",
            rps[1] / rps[0]
        );
        println!(
            "     ratio raw again / raw            {:10.3}   (the same client twice: this machine's noise)",
            rps[2] / rps[0]
        );
    }
    println!(
        "   requests served in total           {:10}",
        hits.load(Ordering::Relaxed)
    );
}

/// The two clients under comparison.
#[derive(Clone)]
enum Client {
    Raw(reqwest::Client, Arc<str>, Arc<str>),
    Api(ApiClient),
}

impl Client {
    async fn get(self) {
        let v: Value = match self {
            Client::Api(api) => api.get("me").await.unwrap(),
            Client::Raw(raw, url, auth) => {
                let resp = raw
                    .get(&*url)
                    .header(reqwest::header::AUTHORIZATION, &*auth)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success());
                let bytes = resp.bytes().await.unwrap();
                serde_json::from_slice(&bytes).unwrap()
            }
        };
        black_box(v);
    }
}

/// The mean of `v` and the half-width of its 95% confidence interval.
fn mean_ci95(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, 1.96 * (var / n).sqrt())
}

/// CPU time used by this process (all threads), in clock ticks, where `/proc` tells it.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ').skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `USER_HZ`, the unit of `/proc` CPU times: 100 on every Linux configuration in use.
const TICKS_PER_SEC: f64 = 100.0;

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
