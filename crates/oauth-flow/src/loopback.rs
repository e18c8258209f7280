//! The redirect receiver of a native app (RFC 8252 §7.3): a one-shot HTTP listener on a
//! loopback IP literal that waits for the authorization callback (feature `loopback`).
//!
//! SECURITY S5: the listener binds `127.0.0.1` or `[::1]` only (never `0.0.0.0`, never the name
//! `localhost`, which a hosts file or DNS can point elsewhere), and the redirect URI names the IP
//! literal. It answers exactly one `GET` on the callback path carrying the pending
//! authorization's `state`; any other path, method or state, or a request too large or too slow,
//! is refused (4xx or a dropped connection) and the wait goes on. Then the listener closes, so a
//! second callback finds no one listening. Replies are small self-contained pages: no script, no
//! external resource, `Content-Security-Policy: default-src 'none'`.
//!
//! The request reader is hand-written on purpose: the receiver needs the request line and the
//! end of the headers, nothing else, and a server framework in the core would be paid for by
//! every server-side user of the crate.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use crate::authorize::{AuthorizedCode, PendingAuthorization};
use crate::error::{CallbackError, ConfigError, Error, ErrorCode, LoopbackError, Result};

/// How long [`LoopbackReceiver::receive`] waits for the callback by default.
pub const DEFAULT_LOOPBACK_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long one connection may take to send its request line and headers by default.
pub const DEFAULT_LOOPBACK_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request line plus headers accepted by default, in bytes.
pub const DEFAULT_LOOPBACK_MAX_REQUEST_BYTES: usize = 8 * 1024;
/// The callback path used when none is given.
pub const DEFAULT_CALLBACK_PATH: &str = "/callback";

/// Connections handled at once; more are closed unanswered until one finishes.
const MAX_CONNECTIONS: usize = 16;
/// How long a reply may take to write (and the client to close its side).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How much a client may still send after its reply before the connection is closed anyway.
const DRAIN_LIMIT: usize = 16 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;
type Cancel = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Settings of a [`LoopbackReceiver`]; [`bind`](Self::bind) opens the listener.
#[derive(Debug, Clone)]
#[must_use]
pub struct LoopbackBuilder {
    ip: IpAddr,
    port: u16,
    path: String,
    timeout: Duration,
    read_timeout: Duration,
    max_request_bytes: usize,
    provider_name: Option<String>,
}

impl Default for LoopbackBuilder {
    fn default() -> Self {
        Self {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            path: DEFAULT_CALLBACK_PATH.to_owned(),
            timeout: DEFAULT_LOOPBACK_TIMEOUT,
            read_timeout: DEFAULT_LOOPBACK_READ_TIMEOUT,
            max_request_bytes: DEFAULT_LOOPBACK_MAX_REQUEST_BYTES,
            provider_name: None,
        }
    }
}

impl LoopbackBuilder {
    /// The loopback address to bind: `127.0.0.1` (default) or `::1`. Anything that is not a
    /// loopback address is refused at [`bind`](Self::bind).
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = ip;
        self
    }
    /// The port (default 0: the operating system picks a free one, as RFC 8252 §7.3 intends).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// The callback path (default `/callback`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    /// How long to wait for the callback (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// How long one connection may take to send its request head (default 10 s); a slower one
    /// is dropped.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }
    /// The largest request line plus headers accepted (default 8 KiB); a larger one gets 431.
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }
    /// The provider's name as shown on the reply page (default: the profile name).
    pub fn provider_name(mut self, name: impl Into<String>) -> Self {
        self.provider_name = Some(name.into());
        self
    }

    /// Checks the settings and opens the listener.
    pub async fn bind(self) -> Result<LoopbackReceiver> {
        if !self.ip.is_loopback() {
            return Err(ConfigError::Other(format!(
                "the login receiver listens on a loopback address only (127.0.0.1 or ::1), not {}",
                self.ip
            ))
            .into());
        }
        if !valid_path(&self.path) {
            return Err(ConfigError::Other(
                "the callback path must start with `/` and hold no query, fragment or space".into(),
            )
            .into());
        }
        let wanted = SocketAddr::new(self.ip, self.port);
        let listener = TcpListener::bind(wanted)
            .await
            .map_err(|source| LoopbackError::Bind {
                addr: wanted,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| LoopbackError::Bind {
                addr: wanted,
                source,
            })?;
        // SocketAddr prints `127.0.0.1:PORT` or `[::1]:PORT`: the IP literal, never a name.
        let redirect_uri = format!("http://{addr}{}", self.path);
        Ok(LoopbackReceiver {
            listener,
            addr,
            redirect_uri,
            settings: self,
            cancel: None,
        })
    }
}

fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
}

/// A listening loopback receiver: give [`redirect_uri`](Self::redirect_uri) to the
/// authorization request, send the user to the authorize URL, then
/// [`receive`](Self::receive) the callback.
///
/// ```no_run
/// # async fn run(client: oauth_flow::OAuthClient) -> oauth_flow::Result<()> {
/// use oauth_flow::{OAuthClient, loopback::LoopbackReceiver};
///
/// let receiver = LoopbackReceiver::bind().await?; // http://127.0.0.1:PORT/callback
/// let client = OAuthClient::builder(client.profile().clone(), client.client_id())
///     .redirect_uri(receiver.redirect_uri())
///     .build()?;
/// let (url, pending) = client.authorize().build()?;
/// println!("open {url}");
/// let code = receiver.receive(pending).await?;
/// # let _ = code; Ok(()) }
/// ```
pub struct LoopbackReceiver {
    listener: TcpListener,
    addr: SocketAddr,
    redirect_uri: String,
    settings: LoopbackBuilder,
    cancel: Option<Cancel>,
}

impl fmt::Debug for LoopbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackReceiver")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.settings.timeout)
            .finish_non_exhaustive()
    }
}

impl LoopbackReceiver {
    /// Default settings: `127.0.0.1`, a free port, `/callback`, a 5-minute wait.
    pub fn builder() -> LoopbackBuilder {
        LoopbackBuilder::default()
    }

    /// Binds `127.0.0.1` on a free port with the default settings.
    pub async fn bind() -> Result<Self> {
        Self::builder().bind().await
    }

    /// Settings taken from a registered loopback redirect URI such as
    /// `http://127.0.0.1/callback`: its IP literal and path, and its port if it names one
    /// (otherwise a free port, which RFC 8252 §7.3 requires providers to accept).
    ///
    /// Refused: another scheme than `http`, a host name (including `localhost`, SECURITY S5),
    /// a non-loopback address, a query or a fragment.
    pub fn for_redirect_uri(uri: &str) -> Result<LoopbackBuilder> {
        let url = Url::parse(uri).map_err(|_| ConfigError::InvalidUrl {
            name: "redirect_uri",
        })?;
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => {
                return Err(ConfigError::Other(
                    "a loopback redirect URI must name the IP literal 127.0.0.1 or [::1], \
                     not a host name (RFC 8252 §8.3)"
                        .into(),
                )
                .into());
            }
        };
        if url.scheme() != "http"
            || !ip.is_loopback()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ConfigError::Other(
                "a loopback redirect URI looks like http://127.0.0.1/callback (RFC 8252 §7.3)"
                    .into(),
            )
            .into());
        }
        Ok(LoopbackBuilder::default()
            .ip(ip)
            .port(url.port().unwrap_or(0))
            .path(url.path()))
    }

    /// The exact redirect URI to send in the authorization and token requests, e.g.
    /// `http://127.0.0.1:53122/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The address the listener is bound to (always a loopback address).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends the wait with [`LoopbackError::Cancelled`] when `cancel` completes (e.g. a
    /// cancellation token's `cancelled()` or a Ctrl-C signal). Dropping the future returned by
    /// [`receive`](Self::receive) also stops it, closing the listener.
    pub fn cancel_on(mut self, cancel: impl Future<Output = ()> + Send + 'static) -> Self {
        self.cancel = Some(Box::pin(cancel));
        self
    }

    /// Waits for the callback of `pending` and completes it (state, redirect URI, `error=`,
    /// PKCE verifier kept for the exchange). The browser gets a reply page saying how it went.
    ///
    /// `pending` must have been built with this receiver's [`redirect_uri`](Self::redirect_uri)
    /// (SECURITY S4). Errors: [`Error::Callback`] as [`PendingAuthorization::complete`] gives
    /// them (e.g. the user denied access), [`LoopbackError::Timeout`],
    /// [`LoopbackError::Cancelled`].
    pub async fn receive(self, pending: PendingAuthorization) -> Result<AuthorizedCode> {
        self.receive_with(pending, async { Ok::<(), BoxError>(()) })
            .await
    }

    /// Like [`receive`](Self::receive), running `open` (the app's "open this URL" step: a
    /// browser, a printed URL, a QR code) alongside the wait, so the listener is ready before
    /// the browser arrives. If `open` fails the wait ends with [`LoopbackError::Open`]; if it
    /// succeeds the wait goes on.
    pub async fn receive_with<F, E>(
        self,
        pending: PendingAuthorization,
        open: F,
    ) -> Result<AuthorizedCode>
    where
        F: Future<Output = std::result::Result<(), E>>,
        E: Into<BoxError>,
    {
        if pending.redirect_uri() != Some(self.redirect_uri.as_str()) {
            return Err(ConfigError::Other(
                "the authorization was started with another redirect URI than this receiver's"
                    .into(),
            )
            .into());
        }
        let LoopbackReceiver {
            listener,
            redirect_uri,
            settings,
            cancel,
            ..
        } = self;
        let provider = settings
            .provider_name
            .clone()
            .unwrap_or_else(|| pending.provider().to_owned());
        let mut deadline = pin!(tokio::time::sleep(settings.timeout));
        let mut cancel = cancel.unwrap_or_else(|| Box::pin(std::future::pending()));
        let mut open = pin!(open);
        let mut opened = false;
        let mut readers: JoinSet<(TcpStream, Result<String, Refusal>)> = JoinSet::new();
        let mut writers: JoinSet<()> = JoinSet::new();

        loop {
            let event = poll_fn(|cx| {
                if deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Deadline);
                }
                if cancel.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Cancelled);
                }
                if !opened && let Poll::Ready(r) = open.as_mut().poll(cx) {
                    return Poll::Ready(Event::Opened(r.map_err(Into::into)));
                }
                while let Poll::Ready(Some(_)) = writers.poll_join_next(cx) {}
                if let Poll::Ready(Some(Ok(read))) = readers.poll_join_next(cx) {
                    return Poll::Ready(Event::Read(read));
                }
                if let Poll::Ready(accepted) = listener.poll_accept(cx) {
                    return Poll::Ready(Event::Accepted(accepted.map(|(s, _)| s)));
                }
                Poll::Pending
            })
            .await;
            match event {
                Event::Deadline => {
                    return Err(LoopbackError::Timeout {
                        waited: settings.timeout,
                    }
                    .into());
                }
                Event::Cancelled => return Err(LoopbackError::Cancelled.into()),
                Event::Opened(Ok(())) => opened = true,
                Event::Opened(Err(e)) => return Err(LoopbackError::Open(e).into()),
                Event::Accepted(Ok(stream)) => {
                    // Past the cap a new connection is closed unanswered: a local process
                    // flooding the port cannot exhaust this one.
                    if readers.len() + writers.len() < MAX_CONNECTIONS {
                        let (max, limit) = (settings.max_request_bytes, settings.read_timeout);
                        readers.spawn(read_request(stream, max, limit));
                    }
                }
                Event::Accepted(Err(e)) if transient(&e) => {}
                Event::Accepted(Err(e)) => return Err(LoopbackError::Accept(e).into()),
                Event::Read((stream, request)) => {
                    match judge(&pending, &redirect_uri, &settings.path, request) {
                        Verdict::Drop => drop(stream),
                        Verdict::Refuse(reply) => {
                            writers.spawn(send(stream, reply));
                        }
                        Verdict::Callback(url) => {
                            let result = pending.complete(&url);
                            send(stream, outcome_page(&provider, &result)).await;
                            return result;
                        }
                    }
                }
            }
        }
    }
}

/// Opens `url` in the user's default browser. Fails where there is none (a server, an SSH
/// session without a display): print the URL for the user instead.
pub fn open_system_browser(url: &Url) -> io::Result<()> {
    webbrowser::open(url.as_str())
}

enum Event {
    Deadline,
    Cancelled,
    Opened(std::result::Result<(), BoxError>),
    Accepted(io::Result<TcpStream>),
    Read((TcpStream, Result<String, Refusal>)),
}

/// Accept errors that concern one connection, not the listener.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Why a request was not read as a candidate callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The client closed or failed before finishing its headers.
    Gone,
    /// The headers did not arrive within the read timeout (a slow or stalled client).
    Slow,
    /// The request line plus headers exceed the limit.
    TooLarge,
    /// Not an HTTP/1.x request line with well-formed header lines.
    Malformed,
}

/// Reads the request head (bounded in size and time) and returns `METHOD SP TARGET`.
async fn read_request(
    mut stream: TcpStream,
    max: usize,
    limit: Duration,
) -> (TcpStream, Result<String, Refusal>) {
    let head = match tokio::time::timeout(limit, read_head(&mut stream, max)).await {
        Ok(head) => head,
        Err(_) => Err(Refusal::Slow),
    };
    let request = head.and_then(|h| parse_head(&h));
    (stream, request)
}

async fn read_head(stream: &mut TcpStream, max: usize) -> Result<Vec<u8>, Refusal> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| Refusal::Gone)?;
        if n == 0 {
            return Err(Refusal::Gone);
        }
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            let end = from + end;
            if end > max {
                return Err(Refusal::TooLarge);
            }
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > max {
            return Err(Refusal::TooLarge);
        }
    }
}

/// Checks the request line and header syntax; returns `(method, target)` joined by a space.
fn parse_head(head: &[u8]) -> Result<String, Refusal> {
    let text = std::str::from_utf8(head).map_err(|_| Refusal::Malformed)?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !token(method) || !matches!(version, "HTTP/1.1" | "HTTP/1.0") || target.is_empty() {
        return Err(Refusal::Malformed);
    }
    for header in lines {
        match header.split_once(':') {
            Some((name, _)) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) => {}
            _ => return Err(Refusal::Malformed),
        }
    }
    Ok(format!("{method} {target}"))
}

enum Verdict {
    /// Close without a word (the client is gone or stalled).
    Drop,
    /// Answer with this reply; the wait goes on.
    Refuse(Vec<u8>),
    /// The callback: this full redirect URL carries the expected `state`.
    Callback(String),
}

fn judge(
    pending: &PendingAuthorization,
    redirect_uri: &str,
    path: &str,
    request: Result<String, Refusal>,
) -> Verdict {
    let request = match request {
        Ok(r) => r,
        Err(Refusal::Gone | Refusal::Slow) => return Verdict::Drop,
        Err(Refusal::TooLarge) => {
            return Verdict::Refuse(refusal(431, "Request Header Fields Too Large"));
        }
        Err(Refusal::Malformed) => return Verdict::Refuse(refusal(400, "Bad Request")),
    };
    let (method, target) = request.split_once(' ').unwrap_or((&request, ""));
    if method != "GET" {
        return Verdict::Refuse(refusal(405, "Method Not Allowed"));
    }
    let (target_path, query) = target.split_once('?').unwrap_or((target, ""));
    if target_path != path {
        return Verdict::Refuse(refusal(404, "Not Found"));
    }
    // The full URL on our own redirect URI: `complete` then checks scheme, host, port and path
    // again (S4), and a query holding `://` is not mistaken for a URL.
    let url = format!("{redirect_uri}?{query}");
    match pending.check_state(&url) {
        Ok(()) => Verdict::Callback(url),
        Err(_) => Verdict::Refuse(response(
            400,
            "Bad Request",
            "Not this sign-in",
            "<h1>Not this sign-in</h1><p>This address does not belong to the sign-in in \
             progress, so it was ignored. If you are signing in, finish in the tab the \
             application opened.</p>",
        )),
    }
}

fn refusal(status: u16, reason: &str) -> Vec<u8> {
    let body = format!("<h1>{reason}</h1><p>This local address only receives a sign-in.</p>");
    response(status, reason, reason, &body)
}

/// The page the browser shows once the callback was handled.
fn outcome_page(provider: &str, result: &Result<AuthorizedCode>) -> Vec<u8> {
    let provider = escape(provider);
    let body = match result {
        Ok(_) => format!(
            "<h1 class=\"ok\">Signed in</h1><p>{provider} confirmed the sign-in. You can \
             close this tab and return to the application.</p>"
        ),
        Err(Error::Callback(CallbackError::Provider(e))) if e.code == ErrorCode::AccessDenied => {
            format!(
                "<h1 class=\"no\">Access not granted</h1><p>You did not allow the application \
                 to use your {provider} account, so nothing was shared. You can close this \
                 tab.</p>"
            )
        }
        Err(Error::Callback(CallbackError::Provider(e))) => format!(
            "<h1 class=\"no\">Sign-in failed</h1><p>{provider} reported <code>{}</code>{}. \
             Return to the application and try again.</p>",
            escape(e.code.as_str()),
            e.description
                .as_deref()
                .map(|d| format!(": {}", escape(d)))
                .unwrap_or_default()
        ),
        Err(e) => format!(
            "<h1 class=\"no\">Sign-in failed</h1><p>{}. Return to the application and try \
             again.</p>",
            escape(&e.to_string())
        ),
    };
    let title = if result.is_ok() {
        "Signed in"
    } else {
        "Sign-in failed"
    };
    response(200, "OK", title, &body)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;\
color:#1d2330}main{max-width:32rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;\
border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.4rem}.ok{color:#1a7f37}\
.no{color:#b42318}code{overflow-wrap:anywhere}@media(max-width:34rem){main{margin:0;\
border-radius:0}}";

/// A complete HTTP/1.1 response with a self-contained HTML page; the connection closes after.
fn response(status: u16, reason: &str, title: &str, body: &str) -> Vec<u8> {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        escape(title)
    );
    let allow = if status == 405 { "Allow: GET\r\n" } else { "" };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; \
         form-action 'none'; frame-ancestors 'none'\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         {allow}Connection: close\r\n\r\n",
        page.len()
    )
    .into_bytes();
    out.extend_from_slice(page.as_bytes());
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `reply`, closes the sending side, then reads what the client still sends (bounded):
/// closing a socket with unread input resets the connection, and the client could lose the
/// reply before reading it.
async fn send(mut stream: TcpStream, reply: Vec<u8>) {
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&reply).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        let mut drained = 0;
        while drained < DRAIN_LIMIT {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            drained += n;
        }
        Ok::<(), io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_lines() {
        assert_eq!(
            parse_head(b"GET /callback?a=1 HTTP/1.1\r\nHost: 127.0.0.1:5\r\nAccept: */*"),
            Ok("GET /callback?a=1".to_owned())
        );
        assert_eq!(parse_head(b"POST /x HTTP/1.0"), Ok("POST /x".to_owned()));
        for bad in [
            &b"GET /callback"[..],
            b"GET /callback HTTP/2",
            b"GET  /callback HTTP/1.1",
            b"GET /callback HTTP/1.1 extra",
            b"GET /callback HTTP/1.1\r\nno colon here",
            b"G\xffT /callback HTTP/1.1",
        ] {
            assert_eq!(parse_head(bad), Err(Refusal::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn callback_paths_are_plain() {
        assert!(valid_path("/callback"));
        assert!(valid_path("/"));
        assert!(!valid_path("callback"));
        assert!(!valid_path("/cb?x=1"));
        assert!(!valid_path("/cb#f"));
        assert!(!valid_path("/c b"));
    }

    #[test]
    fn s5_reply_pages_load_nothing_external() {
        let reply = String::from_utf8(refusal(404, "Not Found")).unwrap();
        assert!(reply.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(reply.contains("Content-Security-Policy: default-src 'none'"));
        assert!(reply.contains("Connection: close"));
        let body = reply.split("\r\n\r\n").nth(1).unwrap();
        assert_eq!(
            reply
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: ")),
            Some(body.len().to_string().as_str())
        );
        for external in ["<script", "src=", "<link", "http://", "https://", "url("] {
            assert!(!body.contains(external), "{external} in {body}");
        }
        let denied = Err(Error::Callback(CallbackError::Provider(
            crate::OAuthError::new(None, "access_denied", Some("<b>no</b>"), None),
        )));
        let page = String::from_utf8(outcome_page("Kon<Pro>", &denied)).unwrap();
        assert!(page.contains("Access not granted"));
        assert!(page.contains("Kon&lt;Pro&gt;"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn s5_redirect_uris_must_name_a_loopback_ip_literal() {
        let b = LoopbackReceiver::for_redirect_uri("http://127.0.0.1/callback").unwrap();
        assert_eq!(
            (b.ip, b.port, b.path.as_str()),
            (IpAddr::V4(Ipv4Addr::LOCALHOST), 0, "/callback")
        );
        let b = LoopbackReceiver::for_redirect_uri("http://[::1]:8123/cb").unwrap();
        assert_eq!((b.port, b.path.as_str()), (8123, "/cb"));
        assert!(b.ip.is_loopback());
        for bad in [
            "http://localhost/callback",
            "http://0.0.0.0/callback",
            "https://127.0.0.1/callback",
            "http://192.168.1.2/callback",
            "http://127.0.0.1/callback?x=1",
            "http://example.com/callback",
        ] {
            assert!(LoopbackReceiver::for_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
