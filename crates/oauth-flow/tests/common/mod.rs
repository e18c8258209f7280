//! Shared helpers for the integration tests: canary secrets, a tiny HTTP/1.1 loopback server
//! that counts requests, and builders for profiles, clients and tokens.
//!
//! Each test binary compiles this module on its own and uses a different part of it.
#![allow(dead_code)]
// Test helpers outside `#[test]` functions: clippy.toml's test allowance does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_flow::{
    AccessToken, BodyEncoding, ClientAuth, ExposeSecret, FileStore, GrantKey, OAuthClient,
    ProviderProfile, ReqwestTransport, SecretString, Token, TokenManager,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------------
// Canary secrets (SECURITY S25): distinctive strings that must never show up in logs, errors,
// Debug output, snapshots or URLs.

/// The client id (not a secret, but part of the Basic credentials).
pub const CLIENT_ID: &str = "canary-client";
/// The client secret.
pub const CLIENT_SECRET: &str = "CANARY-client-secret-q7Zp";
/// The authorization code the fake provider hands out.
pub const CODE: &str = "CANARY-code-x91Lm";
/// The redirect URI registered for the tests (loopback literal, SECURITY S5).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/oauth/callback";

/// The `n`-th access token the fake provider issues.
pub fn access_token(n: usize) -> String {
    format!("CANARY-AT-{n}-kd8Wq")
}
/// The `n`-th refresh token the fake provider issues.
pub fn refresh_token(n: usize) -> String {
    format!("CANARY-RT-{n}-Vb3Pz")
}

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// An access token's secret as a plain string.
pub fn secret_of(t: &AccessToken) -> String {
    t.secret().expose_secret().to_owned()
}

/// The fixed instant the tests with an injected clock start from.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 server on 127.0.0.1:0 (keep-alive, Content-Length or chunked responses,
// optional delays), counting requests per path.

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's parameters, whether form-encoded or a JSON object of strings.
    pub fn params(&self) -> HashMap<String, String> {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            let v: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            url::form_urlencoded::parse(&self.body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        }
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.params().remove(name)
    }

    /// The bearer token of the `Authorization` header.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

/// A response to write.
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
    /// Server-side latency before the status line is written (simulates a slow server).
    pub delay: Option<Duration>,
}

impl Resp {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            chunked: false,
            delay: None,
        }
    }
    pub fn json(status: u16, body: &Value) -> Self {
        Self::new(status, "application/json", body.to_string())
    }
    pub fn text(status: u16, body: &str) -> Self {
        Self::new(status, "text/plain", body)
    }
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::new(status, "text/plain", "moved").header("location", location)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
}

pub type BoxFut = Pin<Box<dyn Future<Output = Resp> + Send>>;
pub type Handler = Arc<dyn Fn(Req) -> BoxFut + Send + Sync>;

/// A running loopback server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Req>>>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Starts a server whose handler is synchronous.
    pub async fn start<F>(f: F) -> Self
    where
        F: Fn(Req) -> Resp + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        Self::start_async(move |req| {
            let f = f.clone();
            Box::pin(async move { f(req) })
        })
        .await
    }

    /// Starts a server whose handler is asynchronous.
    pub async fn start_async<F>(f: F) -> Self
    where
        F: Fn(Req) -> BoxFut + Send + Sync + 'static,
    {
        let handler: Handler = Arc::new(f);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let task = {
            let (hits, log, connections) = (hits.clone(), log.clone(), connections.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (handler, hits, log) = (handler.clone(), hits.clone(), log.clone());
                    tokio::spawn(async move {
                        let _ = serve_connection(stream, handler, hits, log).await;
                    });
                }
            })
        };
        Self {
            addr,
            hits,
            log,
            connections,
            task,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests received on `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// All requests received.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    handler: Handler,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Req>>>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // Read the head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let close = headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"));
        buf.drain(..head_end + 4);
        while buf.len() < len {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf.drain(..len).collect();
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target.clone(), None),
        };
        let req = Req {
            method,
            path: path.clone(),
            query,
            headers,
            body,
        };
        *hits.lock().unwrap().entry(path).or_insert(0) += 1;
        log.lock().unwrap().push(req.clone());

        let resp = handler(req).await;
        if let Some(d) = resp.delay {
            tokio::time::sleep(d).await;
        }
        let mut out = format!("HTTP/1.1 {} X\r\n", resp.status);
        for (k, v) in &resp.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if resp.chunked {
            out.push_str("transfer-encoding: chunked\r\n\r\n");
            stream.write_all(out.as_bytes()).await?;
            for piece in resp.body.chunks(8 * 1024) {
                stream
                    .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .await?;
                stream.write_all(piece).await?;
                stream.write_all(b"\r\n").await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
        } else {
            out.push_str(&format!("content-length: {}\r\n\r\n", resp.body.len()));
            // One write: head and body in two segments would meet Nagle + delayed ACK (40 ms).
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&resp.body);
            stream.write_all(&bytes).await?;
        }
        stream.flush().await?;
        if close {
            return Ok(());
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Builders.

/// A token endpoint answer: `{"access_token", "token_type", "expires_in"?, "refresh_token"?}`.
pub fn token_body(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> Value {
    let mut v = json!({ "access_token": access, "token_type": "Bearer" });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    if let Some(e) = expires_in {
        v["expires_in"] = json!(e);
    }
    v
}

/// A §5.2 error answer.
pub fn oauth_error(status: u16, code: &str) -> Resp {
    Resp::json(
        status,
        &json!({ "error": code, "error_description": "refused by the test server" }),
    )
}

/// A profile whose endpoints live on `server`: `/authorize`, `/token`.
pub fn profile(server: &TestServer, encoding: BodyEncoding, auth: ClientAuth) -> ProviderProfile {
    ProviderProfile::builder("testprov", server.url("/token"))
        .authorize_url(server.url("/authorize"))
        .encoding(encoding)
        .client_auth(auth)
        .build()
        .unwrap()
}

/// A confidential client (`SecretPost`, form) on `server`.
pub fn client(server: &TestServer) -> OAuthClient {
    client_for(profile(server, BodyEncoding::Form, ClientAuth::SecretPost))
}

pub fn client_for(profile: ProviderProfile) -> OAuthClient {
    let b = OAuthClient::builder(profile.clone(), CLIENT_ID).redirect_uri(REDIRECT_URI);
    let b = if profile.client_auth() == ClientAuth::None {
        b
    } else {
        b.client_secret(secret(CLIENT_SECRET))
    };
    b.build().unwrap()
}

/// A transport with short timeouts for tests.
pub fn transport() -> Arc<ReqwestTransport> {
    Arc::new(
        ReqwestTransport::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    )
}

/// A manager for `client` with the test transport and default store and clock.
pub fn plain_manager(client: OAuthClient) -> TokenManager {
    TokenManager::builder(client, transport()).build().unwrap()
}

/// A token as if issued earlier, expiring at `expires_at`.
pub fn token(access: &str, refresh: Option<&str>, expires_at: Option<SystemTime>) -> Token {
    let body = token_body(access, refresh, None);
    let resp = oauth_flow::HttpResponse::new(oauth_flow::http::StatusCode::OK, body.to_string());
    let mut t = oauth_flow::__private::parse_token_response(&resp, SystemTime::now()).unwrap();
    t.expires_at = expires_at;
    t
}

/// A token that expired a minute ago.
pub fn expired(access: &str, refresh: Option<&str>) -> Token {
    token(
        access,
        refresh,
        Some(SystemTime::now() - Duration::from_secs(60)),
    )
}

/// Runs `client`'s authorization through a successful callback and returns the code.
pub fn authorized_code(client: &OAuthClient) -> oauth_flow::AuthorizedCode {
    let (url, pending) = client.authorize().build().unwrap();
    let state = query_param(&url, "state");
    pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap()
}

/// The first value of the query parameter `name` in `url`; panics when it is absent.
pub fn query_param(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no query parameter {name:?} in {url}"))
}

/// Where `FileStore` writes `key`'s temporary file before the rename:
/// `.<file>.<pid>.tmp` next to the final file.
pub fn temp_path_for(store: &FileStore, key: &GrantKey) -> PathBuf {
    let file = store.path_for(key);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    file.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

// ---------------------------------------------------------------------------------------------
// Capturing `tracing` output.

/// A `MakeWriter` appending everything to a shared buffer.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A TRACE-level subscriber writing into `capture`, spans' fields included.
pub fn capturing_dispatch(capture: &Capture) -> tracing::Dispatch {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(capture.clone())
        .finish();
    tracing::Dispatch::new(subscriber)
}

/// A temporary directory only its owner may enter, as `FileStore` requires of an existing
/// directory (the `tempfile` default follows the umask).
pub fn private_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}
