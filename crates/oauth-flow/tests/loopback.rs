//! The native-app loopback receiver (RFC 8252 §7.3), spoken to over raw TCP on 127.0.0.1.
//!
//! SECURITY S5: the listener binds a loopback address and the redirect URI names the IP literal;
//! exactly one GET on the callback path with the right state ends the wait; other paths,
//! methods, states, oversized and slow requests are refused while the wait goes on; after the
//! callback the listener is closed; timeout and cancellation are typed. S4: the pending
//! authorization must carry the receiver's redirect URI. S6: an `error=` with a wrong state is
//! refused like any wrong state.
#![cfg(feature = "loopback")]
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use oauth_flow::LoopbackReceiver;
use oauth_flow::{
    AuthorizedCode, CallbackError, ClientAuth, Error, ErrorCode, ExposeSecret, LoopbackError,
    OAuthClient, PendingAuthorization, ProviderProfile,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

fn client(redirect_uri: &str) -> OAuthClient {
    let profile = ProviderProfile::builder("konpro", "https://api.konpro.example/v1/oauth/token")
        .authorize_url("https://app.konpro.example/oauth/authorize")
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    OAuthClient::builder(profile, "client-1")
        .redirect_uri(redirect_uri)
        .build()
        .unwrap()
}

/// A pending authorization for `receiver`'s redirect URI, and its state.
fn start(receiver: &LoopbackReceiver) -> (PendingAuthorization, String) {
    let (url, pending) = client(receiver.redirect_uri()).authorize().build().unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (pending, state)
}

/// Binds a receiver and starts waiting; returns its address, the state and the wait.
async fn waiting(
    builder: oauth_flow::LoopbackBuilder,
) -> (
    SocketAddr,
    String,
    JoinHandle<oauth_flow::Result<AuthorizedCode>>,
) {
    let receiver = builder.bind().await.unwrap();
    let addr = receiver.local_addr();
    let (pending, state) = start(&receiver);
    (addr, state, tokio::spawn(receiver.receive(pending)))
}

/// Sends raw bytes, reads the whole reply; returns the status code and the reply text.
async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let text = String::from_utf8(reply).unwrap();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {text:?}"));
    (status, text)
}

async fn get(addr: SocketAddr, target: &str) -> (u16, String) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\n\r\n");
    raw(addr, request.as_bytes()).await
}

/// The callback with the right state: the wait ends with the code.
async fn finish(
    addr: SocketAddr,
    state: &str,
    wait: JoinHandle<oauth_flow::Result<AuthorizedCode>>,
) {
    let (status, page) = get(addr, &format!("/callback?code=the-code&state={state}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Signed in"), "{page}");
    let code = wait.await.unwrap().unwrap();
    assert_eq!(code.code().expose_secret(), "the-code");
}

#[tokio::test]
async fn s5_binds_loopback_and_the_redirect_uri_names_the_ip_literal() {
    let receiver = LoopbackReceiver::bind().await.unwrap();
    let addr = receiver.local_addr();
    assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(addr.port(), 0, "an ephemeral port was assigned");
    assert_eq!(
        receiver.redirect_uri(),
        format!("http://127.0.0.1:{}/callback", addr.port())
    );
    assert!(!receiver.redirect_uri().contains("localhost"));

    // [::1] where the machine has IPv6 loopback; the URI then holds the bracketed literal.
    if let Ok(v6) = LoopbackReceiver::builder()
        .ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        .path("/cb")
        .bind()
        .await
    {
        assert!(v6.local_addr().ip().is_loopback());
        assert_eq!(
            v6.redirect_uri(),
            format!("http://[::1]:{}/cb", v6.local_addr().port())
        );
    }
}

#[tokio::test]
async fn s5_refuses_to_bind_anything_but_loopback() {
    for ip in [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)),
    ] {
        let err = LoopbackReceiver::builder().ip(ip).bind().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{ip}: {err:?}");
    }
    let err = LoopbackReceiver::for_redirect_uri("http://localhost/callback").unwrap_err();
    assert!(err.to_string().contains("IP literal"), "{err}");
}

#[tokio::test]
async fn s5_the_callback_with_the_right_state_ends_the_wait_and_closes_the_listener() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder()).await;
    let (status, page) = get(addr, &format!("/callback?code=abc&state={state}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1 class=\"ok\">Signed in</h1>"), "{page}");
    assert!(page.contains("Cache-Control: no-store"));
    let code = wait.await.unwrap().unwrap();
    assert_eq!(code.code().expose_secret(), "abc");

    // A second callback (the same one replayed) finds the listener closed.
    let second = TcpStream::connect(addr).await;
    assert_eq!(
        second.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
}

#[tokio::test]
async fn s5_other_paths_get_404_and_the_wait_goes_on() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder()).await;
    for target in [
        "/",
        "/favicon.ico",
        "/callback/",
        "/Callback",
        &format!("/other?code=abc&state={state}"),
        &format!("http://127.0.0.1/callback?code=abc&state={state}"),
    ] {
        let (status, _) = get(addr, target).await;
        assert_eq!(status, 404, "{target}");
    }
    assert!(!wait.is_finished());
    finish(addr, &state, wait).await;
}

#[tokio::test]
async fn s5_other_methods_get_405_and_the_wait_goes_on() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder()).await;
    for method in ["POST", "PUT", "HEAD", "OPTIONS", "DELETE"] {
        let request = format!(
            "{method} /callback?code=abc&state={state} HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let (status, reply) = raw(addr, request.as_bytes()).await;
        assert_eq!(status, 405, "{method}");
        assert!(reply.contains("Allow: GET\r\n"));
    }
    assert!(!wait.is_finished());
    finish(addr, &state, wait).await;
}

#[tokio::test]
async fn s5_wrong_or_missing_state_gets_400_and_does_not_consume_the_authorization() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder()).await;
    let mut one_off = state.clone();
    let last = one_off.pop().unwrap();
    one_off.push(if last == 'A' { 'B' } else { 'A' });
    for query in [
        format!("code=abc&state={one_off}"),
        "code=abc".to_owned(),
        "code=abc&state=".to_owned(),
        format!("code=abc&state={state}&state={state}"),
        // S6: an error with a wrong state is an attacker's, not the provider's answer.
        format!("error=access_denied&state={one_off}"),
    ] {
        let (status, page) = get(addr, &format!("/callback?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains("Not this sign-in"), "{page}");
    }
    assert!(!wait.is_finished());
    finish(addr, &state, wait).await;
}

#[tokio::test]
async fn s6_access_denied_with_the_right_state_ends_the_wait_with_a_typed_error() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder()).await;
    let (status, page) = get(
        addr,
        &format!("/callback?error=access_denied&error_description=no+thanks&state={state}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Access not granted"), "{page}");
    match wait.await.unwrap() {
        Err(Error::Callback(CallbackError::Provider(e))) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.description.as_deref(), Some("no thanks"));
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
}

#[tokio::test]
async fn s5_oversized_and_malformed_requests_are_refused_and_the_wait_goes_on() {
    let (addr, state, wait) = waiting(LoopbackReceiver::builder().max_request_bytes(1024)).await;
    let padding = "x".repeat(2048);
    let huge = format!(
        "GET /callback?code=abc&state={state} HTTP/1.1\r\nHost: {addr}\r\nX-Pad: {padding}\r\n\r\n"
    );
    let (status, _) = raw(addr, huge.as_bytes()).await;
    assert_eq!(status, 431);
    // A head that never ends, larger than the limit.
    let (status, _) = raw(addr, format!("GET /{padding}").as_bytes()).await;
    assert_eq!(status, 431);
    let (status, _) = raw(addr, b"GARBAGE\r\n\r\n").await;
    assert_eq!(status, 400);
    assert!(!wait.is_finished());
    finish(addr, &state, wait).await;
}

#[tokio::test]
async fn s5_a_slow_client_is_dropped_and_does_not_end_the_wait() {
    let (addr, state, wait) =
        waiting(LoopbackReceiver::builder().read_timeout(Duration::from_millis(300))).await;
    let real_state = state.clone();
    // Slowloris: the request head byte by byte, never finished in time.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let dribble = tokio::spawn(async move {
        let head = format!("GET /callback?code=abc&state={state} HTTP/1.1\r\nHost: x\r\nX: ");
        let bytes = head.bytes().chain(std::iter::repeat(b'y'));
        for b in bytes {
            if writer.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // The receiver closes the connection without an HTTP reply.
    let mut reply = Vec::new();
    let _ = reader.read_to_end(&mut reply).await;
    assert!(reply.is_empty(), "{:?}", String::from_utf8_lossy(&reply));
    dribble.abort();
    assert!(!wait.is_finished());
    finish(addr, &real_state, wait).await;
}

#[tokio::test]
async fn s5_slow_client_then_real_callback() {
    let (addr, state, wait) =
        waiting(LoopbackReceiver::builder().read_timeout(Duration::from_millis(200))).await;
    // A stalled connection holds nothing up: the real callback on another connection is served
    // while it stalls.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(b"GET /callback?sta").await.unwrap();
    finish(addr, &state, wait).await;
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest).await;
    assert!(rest.is_empty());
}

#[tokio::test]
async fn s5_no_callback_in_time_is_a_typed_timeout() {
    let receiver = LoopbackReceiver::builder()
        .timeout(Duration::from_millis(100))
        .bind()
        .await
        .unwrap();
    let addr = receiver.local_addr();
    let (pending, _) = start(&receiver);
    match receiver.receive(pending).await {
        Err(Error::Loopback(LoopbackError::Timeout { waited })) => {
            assert_eq!(waited, Duration::from_millis(100));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test]
async fn s5_cancellation_is_typed_and_dropping_the_wait_closes_the_listener() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let receiver = LoopbackReceiver::bind().await.unwrap().cancel_on(async {
        let _ = rx.await;
    });
    let (pending, _) = start(&receiver);
    let wait = tokio::spawn(receiver.receive(pending));
    tx.send(()).unwrap();
    assert!(matches!(
        wait.await.unwrap(),
        Err(Error::Loopback(LoopbackError::Cancelled))
    ));

    let (addr, _, wait) = waiting(LoopbackReceiver::builder()).await;
    wait.abort();
    assert!(wait.await.unwrap_err().is_cancelled());
    assert_eq!(
        TcpStream::connect(addr).await.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
}

#[tokio::test]
async fn s4_the_pending_authorization_must_carry_the_receivers_redirect_uri() {
    let receiver = LoopbackReceiver::bind().await.unwrap();
    let (_, pending) = client("http://127.0.0.1:1/callback")
        .authorize()
        .build()
        .unwrap();
    let err = receiver.receive(pending).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_failing_open_step_ends_the_wait_and_a_succeeding_one_does_not() {
    let receiver = LoopbackReceiver::bind().await.unwrap();
    let (pending, _) = start(&receiver);
    let err = receiver
        .receive_with(pending, async {
            Err::<(), _>(std::io::Error::other("no browser"))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Loopback(LoopbackError::Open(_))),
        "{err:?}"
    );

    let receiver = LoopbackReceiver::bind().await.unwrap();
    let addr = receiver.local_addr();
    let (pending, state) = start(&receiver);
    let wait = tokio::spawn(receiver.receive_with(pending, async { Ok::<(), std::io::Error>(()) }));
    finish(addr, &state, wait).await;
}
