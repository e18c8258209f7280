//! Logging in from a command-line or desktop app (feature `loopback`): the browser brings the
//! authorization back to a one-shot listener on `127.0.0.1` (RFC 8252).
//!
//! KonPro's client is public with PKCE, exactly the shape RFC 8252 describes for native apps:
//! the app holds no secret, and the PKCE verifier makes an intercepted code worthless. Register
//! `http://127.0.0.1/callback` (or `http://[::1]/callback`) as the app's redirect URI; the app
//! listens on a free port and sends that port in the redirect URI, which RFC 8252 §7.3 requires
//! the provider to accept.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use oauth_flow::{DEFAULT_LOOPBACK_TIMEOUT, LoopbackReceiver, open_system_browser};
use oauth_flow::{OAuthClient, Url};

use crate::client::KonProClient;
use crate::error::Result;
use crate::oauth::{KonPro, check_subject};

/// What a browser login is doing, for progress lines (see [`BrowserLogin::on_progress`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginStep {
    /// The listener is up; KonPro will send the browser to this redirect URI.
    Listening {
        /// The exact redirect URI, e.g. `http://127.0.0.1:53122/callback`.
        redirect_uri: String,
    },
    /// The authorize URL was handed to the browser (or printed); waiting for the user.
    WaitingForBrowser,
    /// The callback arrived with a code; exchanging it for tokens.
    ExchangingCode,
}

type Progress<'a> = Box<dyn Fn(LoginStep) + Send + Sync + 'a>;

/// A browser login of one user, from [`KonPro::browser_login`]: optional settings, then
/// [`open_system_browser`](Self::open_system_browser) or [`open_with`](Self::open_with).
#[must_use]
pub struct BrowserLogin<'a> {
    konpro: &'a KonPro,
    subject: String,
    timeout: Duration,
    progress: Option<Progress<'a>>,
}

impl fmt::Debug for BrowserLogin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("subject", &self.subject)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KonPro {
    /// Logs `subject` in through their browser: listens on the loopback redirect URI this
    /// client was built with (e.g. `http://127.0.0.1/callback`, on a free port), opens the
    /// system browser at KonPro's consent page (and prints its URL on stderr, for when no
    /// browser shows up), waits for the callback, exchanges the code, saves
    /// the tokens for `subject` in the store and returns their [`KonProClient`].
    ///
    /// ```no_run
    /// # async fn run() -> konpro_sdk::Result<()> {
    /// use konpro_sdk::KonPro;
    ///
    /// let konpro = KonPro::builder("YOUR_CLIENT_ID", "http://127.0.0.1/callback").build()?;
    /// let client = konpro.login_with_browser("user-42").await?;
    /// println!("{:?}", client.account_get().await?.email());
    /// # Ok(()) }
    /// ```
    ///
    /// Errors: [`Error::Callback`](crate::Error::Callback) (the user denied access:
    /// `is_access_denied()`), [`LoopbackError`](oauth_flow::LoopbackError) inside
    /// [`Error::OAuth`](crate::Error::OAuth) (no callback within 5 minutes, the port
    /// could not be opened), a configuration error if the redirect URI is not `http` on a
    /// loopback IP literal.
    pub async fn login_with_browser(&self, subject: &str) -> Result<KonProClient> {
        self.browser_login(subject).open_system_browser().await
    }

    /// Like [`login_with_browser`](Self::login_with_browser), with your own "open this URL"
    /// step: show a QR code, print the URL, or drive a test browser. `open` runs while the
    /// listener waits; if it fails, the login fails with
    /// [`LoopbackError::Open`](oauth_flow::LoopbackError::Open).
    pub async fn login_with<F, Fut, E>(&self, subject: &str, open: F) -> Result<KonProClient>
    where
        F: FnOnce(Url) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.browser_login(subject).open_with(open).await
    }

    /// A browser login of `subject` with settings: how long to wait, progress reports.
    pub fn browser_login(&self, subject: &str) -> BrowserLogin<'_> {
        BrowserLogin {
            konpro: self,
            subject: subject.to_owned(),
            timeout: DEFAULT_LOOPBACK_TIMEOUT,
            progress: None,
        }
    }
}

impl<'a> BrowserLogin<'a> {
    /// How long to wait for the user to answer in the browser (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Calls `report` at each step (listening, waiting for the browser, exchanging the code).
    pub fn on_progress(mut self, report: impl Fn(LoginStep) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(report));
        self
    }

    /// Opens the system browser at the authorize URL and prints the URL on stderr, for the
    /// user to open by hand where no browser shows up.
    pub async fn open_system_browser(self) -> Result<KonProClient> {
        self.open_with(|url| async move {
            // Printed either way: a browser can be found and still fail to show (no display).
            if open_system_browser(&url).is_ok() {
                eprintln!(
                    "Your browser should now show KonPro's consent page. If it does not, open \
                     this address:\n\n  {url}\n"
                );
            } else {
                eprintln!("Open this address in your browser to log in to KonPro:\n\n  {url}\n");
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .await
    }

    /// Runs the login, handing the authorize URL to `open`.
    pub async fn open_with<F, Fut, E>(self, open: F) -> Result<KonProClient>
    where
        F: FnOnce(Url) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        check_subject(&self.subject)?;
        let report = |step| {
            if let Some(p) = &self.progress {
                p(step);
            }
        };
        let registered = self.konpro.oauth_client();
        let receiver = LoopbackReceiver::for_redirect_uri(registered.redirect_uri().unwrap_or(""))?
            .timeout(self.timeout)
            .provider_name("KonPro")
            .bind()
            .await?;
        report(LoginStep::Listening {
            redirect_uri: receiver.redirect_uri().to_owned(),
        });
        // SECURITY S4: the receiver's exact URI (its port included) goes into the authorize URL
        // and, through the pending authorization, byte-identical into the code exchange.
        let client = OAuthClient::builder(registered.profile().clone(), registered.client_id())
            .redirect_uri(receiver.redirect_uri())
            .build()?;
        let (url, pending) = client.authorize().build()?;
        report(LoginStep::WaitingForBrowser);
        let code = receiver.receive_with(pending, open(url)).await?;
        report(LoginStep::ExchangingCode);
        let grant = self
            .konpro
            .token_manager()
            .exchange_code(&self.subject, code)
            .await?;
        self.konpro.client_for(grant)
    }
}
