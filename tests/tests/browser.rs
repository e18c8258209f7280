#![cfg(feature = "konpro")]
// A test binary: helpers outside `#[test]` functions panic on unexpected values on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The native-app login in a real browser: headless Chromium, driven through chromedriver
//! (WebDriver), opens the sandbox's KonPro consent page from `KonPro::login_with`, clicks
//! Approve or Deny, and follows the redirect to the SDK's loopback receiver (SECURITY S5).
//!
//! Needs Debian's `chromium` and `chromium-driver`; `.ci/run` installs them and runs these with
//! `--include-ignored`. Each test starts its own chromedriver on a free loopback port and stops
//! it by its PID. Screenshots (PNG) land in `target/browser-screenshots/`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client as WebDriver, ClientBuilder, Locator};
use konpro_sdk::KonPro;
use sandbox::{Provider, Sandbox};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";
const DESKTOP: (u32, u32) = (1280, 900);
// Tall enough that the whole consent page, buttons included, is in the screenshot.
const PHONE: (u32, u32) = (375, 1100);

/// A chromedriver process on 127.0.0.1, killed by its PID on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        // A free port: bind, read it, release it for chromedriver.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        Self { child, port }
    }

    /// Waits until chromedriver accepts connections (polling, at most ~20 s).
    async fn ready(&self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on {addr}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with a fresh profile.
async fn browser(driver: &Driver, profile: &Path) -> WebDriver {
    driver.ready().await;
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        &format!("--user-data-dir={}", profile.display()),
        &format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

fn screenshot_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`: its parent is the target directory.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves a screenshot and checks it is a real PNG of the expected width, not a blank stub.
async fn screenshot(browser: &WebDriver, name: &str, width: u32) -> PathBuf {
    let png = browser.screenshot().await.unwrap();
    let path = screenshot_dir().join(name);
    std::fs::write(&path, &png).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(&written[..8], b"\x89PNG\r\n\x1a\n", "{name} is a PNG");
    assert_eq!(&written[12..16], b"IHDR");
    let png_width = u32::from_be_bytes(written[16..20].try_into().unwrap());
    let png_height = u32::from_be_bytes(written[20..24].try_into().unwrap());
    assert_eq!(png_width, width, "{name} width");
    assert!(png_height >= 300, "{name} height {png_height}");
    assert!(
        written.len() > 8 * 1024,
        "{name} is only {} bytes: a blank page?",
        written.len()
    );
    path
}

async fn visible_text(browser: &WebDriver, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn konpro(sb: &Sandbox) -> KonPro {
    let creds = sb.credentials();
    KonPro::builder(&creds.konpro.client_id, &creds.redirect_uri)
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap()
}

/// Runs `login_with` while the browser, given the authorize URL by the open step, shows the
/// consent page (screenshotted at desktop and phone width) and clicks `button`.
async fn login_in_browser(
    konpro: &KonPro,
    browser: &WebDriver,
    button: &str,
    shot_prefix: &str,
) -> konpro_sdk::Result<konpro_sdk::KonProClient> {
    let (url_tx, url_rx) = oneshot::channel();
    let login = konpro.login_with("browser-user", |url| async move {
        url_tx.send(url).map_err(|_| "the browser side is gone")
    });
    let drive = async {
        let url = url_rx.await.unwrap();
        // S5: the redirect URI the browser will be sent to is the loopback IP literal.
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
        browser.goto(url.as_str()).await.unwrap();

        // A page a person would trust: provider, app, what it may do, where it goes next.
        assert_eq!(visible_text(browser, "#provider").await, "KonPro");
        assert_eq!(
            visible_text(browser, "#client-name").await,
            "Sandbox Demo App"
        );
        let scopes = visible_text(browser, "#scopes").await;
        assert!(scopes.contains("See your account"), "{scopes}");
        assert_eq!(visible_text(browser, "#redirect").await, redirect);
        screenshot(
            browser,
            &format!("{shot_prefix}consent-1280.png"),
            DESKTOP.0,
        )
        .await;
        // Readable on a phone: the buttons fit the width.
        browser.set_window_size(PHONE.0, PHONE.1).await.unwrap();
        let approve = browser.find(Locator::Css("#approve")).await.unwrap();
        let (x, _, w, _) = approve.rectangle().await.unwrap();
        assert!(
            x >= 0.0 && x + w <= f64::from(PHONE.0),
            "approve at {x}+{w}"
        );
        screenshot(browser, &format!("{shot_prefix}consent-375.png"), PHONE.0).await;
        browser.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();

        browser
            .find(Locator::Css(button))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    };
    let (client, ()) = tokio::join!(login, drive);
    client
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver"]
async fn s5_approve_in_chromium_returns_a_working_client() {
    let sb = Sandbox::start().await.unwrap();
    let konpro = konpro(&sb);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;

    let client = login_in_browser(&konpro, &browser, "#approve", "").await;
    let client = client.expect("the login completes after Approve");
    let account = client.account_get().await.unwrap();
    assert_eq!(account.email(), Some("jamie.rivera@example.com"));
    assert_eq!(sb.calls("/konpro/v1/oauth/token"), 1);

    // The receiver's page, self-contained, in the same tab.
    assert_eq!(visible_text(&browser, "h1").await, "Signed in");
    let source = browser.source().await.unwrap();
    for external in ["<script", "src=", "<link", "url("] {
        assert!(!source.contains(external), "{external}");
    }
    let page = screenshot(&browser, "receiver-success-1280.png", DESKTOP.0).await;
    println!("screenshots in {}", page.parent().unwrap().display());

    browser.close().await.unwrap();
    drop(driver);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromium-driver"]
async fn s5_deny_in_chromium_gives_the_typed_access_denied_error() {
    let sb = Sandbox::start().await.unwrap();
    let konpro = konpro(&sb);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(&driver, profile.path()).await;

    let err = login_in_browser(&konpro, &browser, "#deny", "deny-")
        .await
        .expect_err("Deny ends the login with an error");
    assert!(err.is_access_denied(), "{err:?}");
    assert_eq!(sb.calls("/konpro/v1/oauth/token"), 0, "nothing exchanged");
    assert!(konpro.restore("browser-user").await.unwrap().is_none());

    assert_eq!(visible_text(&browser, "h1").await, "Access not granted");
    screenshot(&browser, "receiver-denied-1280.png", DESKTOP.0).await;

    browser.close().await.unwrap();
    drop(driver);
    sb.shutdown().await;
}
