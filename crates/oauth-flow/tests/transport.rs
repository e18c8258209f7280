//! The reqwest transport against a loopback server: redirects are never followed, bodies are
//! capped with and without `Content-Length`, insecure URLs are refused before connecting, and
//! slow servers time out.
//!
//! SECURITY: S8 (https only, http for loopback), S9 (no redirects), S10 (limits).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Resp, TestServer, authorized_code, token_body};
use oauth_flow::http::Method;
use oauth_flow::{
    ApiClient, ApiKey, BaseUrlError, ConfigError, Error, HttpRequest, ReqwestTransport,
    TokenManager, Transport, Url,
};
use serde_json::json;

fn get(url: &str) -> HttpRequest {
    HttpRequest::new(Method::GET, Url::parse(url).unwrap())
}

/// S9: a 302/307 from the token endpoint comes back as `HttpStatus`; its target gets nothing.
#[tokio::test]
async fn s9_redirects_from_the_token_endpoint_are_not_followed() {
    for status in [302u16, 307, 308] {
        let server = TestServer::start(move |req| match req.path.as_str() {
            "/token" => Resp::redirect(status, "/elsewhere/token"),
            _ => Resp::json(200, &token_body("AT-stolen", None, Some(60))),
        })
        .await;
        let client = common::client(&server);
        let m = common::plain_manager(client.clone());
        let err = m
            .exchange_code("u", authorized_code(&client))
            .await
            .unwrap_err();
        match err {
            Error::HttpStatus { status: s, .. } => assert_eq!(s, status),
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(server.hits("/token"), 1);
        assert_eq!(
            server.hits("/elsewhere/token"),
            0,
            "{status}: target got a request"
        );

        // Client credentials and refresh go through the same transport.
        let err = m.client_credentials(&[]).access_token().await.unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: s, .. } if s == status));
        assert_eq!(server.hits("/elsewhere/token"), 0);
    }
}

/// S9 for API calls too: a redirect to another origin is returned, not followed.
#[tokio::test]
async fn s9_api_redirects_are_not_followed() {
    let target = TestServer::start(|_| Resp::json(200, &json!({"ok": true}))).await;
    let location = target.url("/steal");
    let api = TestServer::start(move |_| Resp::redirect(307, &location)).await;
    let key = ApiKey::header("x-api-key", &common::secret("CANARY-api-key")).unwrap();
    let client = ApiClient::builder(api.url("/v1"), common::transport(), Arc::new(key))
        .build()
        .unwrap();
    let err = client.get::<serde_json::Value>("me").await.unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 307, .. }),
        "{err:?}"
    );
    assert_eq!(target.requests().len(), 0);
}

/// The transport identifies itself, `oauth-flow/<version>` unless the builder is given another
/// value, through the transport and through `ApiClient`'s direct call of it alike; a value that
/// cannot be a header is a typed error at build time.
#[tokio::test]
async fn user_agent_default_custom_and_invalid() {
    let server = TestServer::start(|_| Resp::json(200, &json!({"ok": true}))).await;
    ReqwestTransport::new()
        .unwrap()
        .send(get(&server.url("/plain")))
        .await
        .unwrap();
    let custom = ReqwestTransport::builder()
        .user_agent("my-app/2.0")
        .build()
        .unwrap();
    custom.send(get(&server.url("/custom"))).await.unwrap();
    let key = ApiKey::header("x-api-key", &common::secret("CANARY-api-key")).unwrap();
    let client = ApiClient::builder(server.url("/v1"), Arc::new(custom), Arc::new(key))
        .build()
        .unwrap();
    client.get::<serde_json::Value>("me").await.unwrap();

    let seen: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.header("user-agent").map(str::to_owned)))
        .collect();
    let default = concat!("oauth-flow/", env!("CARGO_PKG_VERSION")).to_owned();
    assert_eq!(
        seen,
        vec![
            ("/plain".to_owned(), Some(default)),
            ("/custom".to_owned(), Some("my-app/2.0".to_owned())),
            ("/v1/me".to_owned(), Some("my-app/2.0".to_owned())),
        ]
    );

    let err = ReqwestTransport::builder()
        .user_agent("bad\nvalue")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::InvalidHeader(_))),
        "{err:?}"
    );
}

fn capped(limit: usize) -> ReqwestTransport {
    ReqwestTransport::builder()
        .max_body_bytes(limit)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// S10: a body over the cap is `BodyTooLarge`, announced by `Content-Length` or streamed.
#[tokio::test]
async fn s10_body_over_the_cap() {
    let big = "x".repeat(64 * 1024 + 1);
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/length" => Resp::text(200, &big),
        "/chunked" => Resp::text(200, &big).chunked(),
        "/chunked-small" => Resp::text(200, "small body").chunked(),
        _ => Resp::text(200, &big[..64 * 1024]),
    })
    .await;
    let t = capped(64 * 1024);
    for path in ["/length", "/chunked"] {
        match t.send(get(&server.url(path))).await {
            Err(Error::BodyTooLarge { limit }) => assert_eq!(limit, 64 * 1024),
            other => panic!("{path}: {other:?}"),
        }
    }
    // Exactly at the cap, and small chunked bodies, are fine.
    let at_cap = t.send(get(&server.url("/exact"))).await.unwrap();
    assert_eq!(at_cap.body.len(), 64 * 1024);
    let small = t.send(get(&server.url("/chunked-small"))).await.unwrap();
    assert_eq!(small.body, b"small body");

    // Through the token manager: an oversized token response is refused.
    let huge = TestServer::start(|_| {
        let mut v = token_body("AT", None, Some(60));
        v["padding"] = json!("p".repeat(2 * 1024 * 1024));
        Resp::json(200, &v).chunked()
    })
    .await;
    let m = TokenManager::builder(common::client(&huge), Arc::new(capped(64 * 1024)))
        .build()
        .unwrap();
    let err = m.client_credentials(&[]).access_token().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
}

/// S10: token responses are capped at 64 KiB, apart from the 1 MiB API cap of the same
/// transport. A 100 KiB token response is `BodyTooLarge { limit: 65536 }` for each grant,
/// announced by `Content-Length` or streamed, while a 100 KiB API response is read whole.
#[tokio::test]
async fn s10_token_responses_capped_at_64_kib_apart_from_api_bodies() {
    const TOKEN_CAP: usize = 64 * 1024;
    let padded_token = || {
        let mut v = token_body("AT", Some("RT"), Some(3600));
        v["padding"] = json!("p".repeat(100 * 1024));
        v
    };
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/token" if req.param("grant_type").as_deref() == Some("refresh_token") => {
            Resp::json(200, &padded_token()).chunked()
        }
        "/token" => Resp::json(200, &padded_token()),
        _ => Resp::json(200, &json!({ "items": "i".repeat(100 * 1024) })),
    })
    .await;
    let client = common::client(&server);

    // Every token request carries the cap; a plain request carries none.
    let code = authorized_code(&client);
    let requests = [
        client.exchange_code_request(&code).unwrap(),
        client
            .refresh_request(&common::secret("CANARY-refresh"))
            .unwrap(),
        client.client_credentials_request(&[]).unwrap(),
    ];
    for req in &requests {
        assert_eq!(req.response_limit(), Some(TOKEN_CAP), "{req:?}");
    }
    assert_eq!(get(&server.url("/x")).response_limit(), None);

    let m = common::plain_manager(client.clone());
    let expect_too_large = |err: Error| match err {
        Error::BodyTooLarge { limit } => assert_eq!(limit, 65536),
        other => panic!("{other:?}"),
    };
    expect_too_large(m.exchange_code("u", code).await.unwrap_err());
    expect_too_large(m.client_credentials(&[]).access_token().await.unwrap_err());
    let m = TokenManager::builder(client, common::transport())
        .store(Arc::new(oauth_flow::MemoryStore::new()))
        .build()
        .unwrap();
    let key = m.key("u");
    m.store()
        .save(&key, &common::expired("AT-old", Some("RT-old")))
        .await
        .unwrap();
    expect_too_large(m.grant("u").access_token().await.unwrap_err());
    assert_eq!(server.hits("/token"), 3);

    // The same default transport reads a 100 KiB API body whole (cap 1 MiB).
    let key = ApiKey::header("x-api-key", &common::secret("k")).unwrap();
    let api = ApiClient::builder(server.url("/v1"), common::transport(), Arc::new(key))
        .build()
        .unwrap();
    let body: serde_json::Value = api.get("items").await.unwrap();
    assert_eq!(body["items"].as_str().map(str::len), Some(100 * 1024));
    let raw = common::transport()
        .send(get(&server.url("/raw")))
        .await
        .unwrap();
    assert!(raw.body.len() > 100 * 1024);
    // A request's cap never raises the transport's own.
    let small = capped(1024)
        .send(get(&server.url("/raw")).max_response_bytes(1 << 20))
        .await;
    assert!(
        matches!(small, Err(Error::BodyTooLarge { limit: 1024 })),
        "{small:?}"
    );
}

/// S8: a non-loopback `http://` URL is refused before any connection. `0.0.0.0` reaches this
/// machine's loopback listener when connected to, so the server's connection counter proves
/// nothing was attempted; `.invalid` names never resolve. `localhost` is refused too: only
/// loopback IP literals may use http, as the name depends on the resolver (RFC 8252 §8.3).
#[tokio::test]
async fn s8_insecure_urls_are_refused_before_connecting() {
    let server = TestServer::start(|_| Resp::text(200, "should not be reached")).await;
    let t = common::transport();
    let port = server.addr.port();
    for url in [
        format!("http://0.0.0.0:{port}/token"),
        format!("http://localhost:{port}/token"),
        format!("http://127.0.0.1.oauth-flow-test.invalid:{port}/token"),
        format!("http://oauth-flow-test.invalid:{port}/token?secret=CANARY"),
        "http://api.example.com/token".to_owned(),
        format!("ftp://127.0.0.1:{port}/token"),
    ] {
        match t.send(get(&url)).await {
            Err(Error::Config(ConfigError::InsecureUrl { url: shown })) => {
                assert!(
                    !shown.contains("CANARY"),
                    "the query is not echoed: {shown}"
                );
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    assert_eq!(server.connections(), 0);

    // Loopback literals are allowed over http.
    assert!(t.send(get(&server.url("/ok"))).await.is_ok());
    assert_eq!(server.connections(), 1);
    let v6 = t.send(get(&format!("http://[::1]:{port}/ok"))).await;
    assert!(
        !matches!(v6, Err(Error::Config(_))),
        "[::1] passes the check: {v6:?}"
    );

    // Profiles and API clients refuse such URLs at build time.
    let err = oauth_flow::ProviderProfile::builder("p", "http://api.example.com/token")
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Config(ConfigError::InsecureUrl { .. })
    ));
    // Redirect URIs: an IP literal, never the name (RFC 8252 §7.3, §8.3).
    let profile = oauth_flow::ProviderProfile::builder("p", server.url("/token"))
        .authorize_url(server.url("/authorize"))
        .client_auth(oauth_flow::ClientAuth::None)
        .build()
        .unwrap();
    for (uri, ok) in [
        ("http://localhost:8080/cb", false),
        ("http://127.0.0.5:8080/cb", true),
        ("http://[::1]:1/cb", true),
        ("http://127.0.0.1.evil.example/cb", false),
    ] {
        let built = oauth_flow::OAuthClient::builder(profile.clone(), "id")
            .redirect_uri(uri)
            .build();
        match (built, ok) {
            (Ok(_), true) | (Err(Error::Config(ConfigError::InsecureUrl { .. })), false) => {}
            (other, _) => panic!("{uri}: {other:?}"),
        }
    }
    for host in ["localhost", "0.0.0.0"] {
        let key = ApiKey::header("x-api-key", &common::secret("k")).unwrap();
        let err = ApiClient::builder(
            format!("http://{host}:{port}/"),
            common::transport(),
            Arc::new(key),
        )
        .build()
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config(ConfigError::InvalidBaseUrl {
                    problem: BaseUrlError::Insecure,
                    ..
                })
            ),
            "{host}: {err:?}"
        );
    }
}

/// S10: a server slower than the timeout gives `Error::Timeout`.
#[tokio::test]
async fn s10_slow_server_times_out() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/slow" => Resp::text(200, "late").delay(Duration::from_secs(30)),
        _ => Resp::text(200, "on time"),
    })
    .await;
    let t = ReqwestTransport::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    match t.send(get(&server.url("/slow"))).await {
        Err(Error::Timeout) => {}
        other => panic!("{other:?}"),
    }
    assert!(t.send(get(&server.url("/fast"))).await.is_ok());

    // Through the token manager: a token endpoint that never answers in time.
    let slow_client = common::client_for(
        oauth_flow::ProviderProfile::builder("slow", server.url("/slow"))
            .build()
            .unwrap(),
    );
    let m = TokenManager::builder(slow_client, Arc::new(t))
        .build()
        .unwrap();
    let err = m.client_credentials(&[]).access_token().await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
}

/// Transport errors carry no query string (it may hold a secret).
#[tokio::test]
async fn transport_errors_do_not_echo_queries() {
    // A port with nothing listening: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = common::transport();
    let err = t
        .send(get(&format!(
            "http://127.0.0.1:{port}/token?code=CANARY-code"
        )))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}
