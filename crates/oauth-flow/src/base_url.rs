//! A provider's base URL, checked once where it is configured.
//!
//! Every provider builder takes its hosts as [`BaseUrl`]s (or strings parsed into one), so the
//! rules live here: `https`, or plain `http` only on a loopback IP literal (SECURITY S8); no
//! query, fragment or userinfo (they would be silently dropped or, worse, sent with every
//! request); the path always ends in `/`, so endpoint paths join *below* it rather than
//! replacing its last segment.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{BaseUrlError, ConfigError};
use crate::request::{redacted_url, require_secure};

/// A checked base URL: https (or http on a loopback IP literal), no query, fragment or
/// userinfo, path ending in `/`.
///
/// ```
/// use oauth_flow::BaseUrl;
///
/// let base: BaseUrl = "https://api.example.com/v1".parse()?;
/// assert_eq!(base.as_str(), "https://api.example.com/v1/");
/// assert_eq!(base.join("users/42")?.as_str(), "https://api.example.com/v1/users/42");
/// assert!("http://api.example.com".parse::<BaseUrl>().is_err());
/// assert!("http://127.0.0.1:8080/sandbox".parse::<BaseUrl>().is_ok());
/// # Ok::<(), oauth_flow::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses and checks `value` (surrounding whitespace ignored).
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let url = Url::parse(value.trim()).map_err(|_| invalid(None, BaseUrlError::NotAUrl))?;
        Self::from_url(url)
    }

    /// Checks an already parsed URL.
    pub fn from_url(mut url: Url) -> Result<Self, ConfigError> {
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(invalid(None, BaseUrlError::NotAUrl));
        }
        if require_secure(&url).is_err() {
            return Err(invalid(Some(&url), BaseUrlError::Insecure));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(Some(&url), BaseUrlError::Userinfo));
        }
        if url.query().is_some() {
            return Err(invalid(Some(&url), BaseUrlError::Query));
        }
        if url.fragment().is_some() {
            return Err(invalid(Some(&url), BaseUrlError::Fragment));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self(url))
    }

    /// The URL, its path ending in `/`.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The URL as text, ending in `/`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL as text without its final `/` (for APIs documented as `{base}/path`).
    pub fn trimmed(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// Resolves `path` (relative, e.g. `oauth/token`) below this base.
    pub fn join(&self, path: &str) -> Result<Url, ConfigError> {
        self.0
            .join(path.trim_start_matches('/'))
            .map_err(|_| ConfigError::InvalidUrl { name: "endpoint" })
    }

    /// The URL.
    pub fn into_url(self) -> Url {
        self.0
    }
}

fn invalid(url: Option<&Url>, problem: BaseUrlError) -> ConfigError {
    ConfigError::InvalidBaseUrl {
        url: url.map(redacted_url),
        problem,
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.0.as_str()).finish()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl FromStr for BaseUrl {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<Url> for BaseUrl {
    fn as_ref(&self) -> &Url {
        &self.0
    }
}

impl From<BaseUrl> for Url {
    fn from(b: BaseUrl) -> Self {
        b.0
    }
}

/// What a builder's `base_url` setter accepts: a [`BaseUrl`], a [`Url`] or a string; a string
/// or URL is checked when the builder builds.
pub trait IntoBaseUrl {
    /// Checks and converts.
    fn into_base_url(self) -> Result<BaseUrl, ConfigError>;
}

impl IntoBaseUrl for BaseUrl {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        Ok(self)
    }
}
impl IntoBaseUrl for &BaseUrl {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        Ok(self.clone())
    }
}
impl IntoBaseUrl for Url {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        BaseUrl::from_url(self)
    }
}
impl IntoBaseUrl for &Url {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        BaseUrl::from_url(self.clone())
    }
}
impl IntoBaseUrl for &str {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        BaseUrl::parse(self)
    }
}
impl IntoBaseUrl for String {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        BaseUrl::parse(&self)
    }
}
impl IntoBaseUrl for &String {
    fn into_base_url(self) -> Result<BaseUrl, ConfigError> {
        BaseUrl::parse(self)
    }
}

/// The base URLs a provider builder was given, checked when it builds: one root for every
/// host of the provider (the sandbox, a proxy) and per-host overrides. A host's own URL wins
/// over the root whatever the order they were set in; without either, the host's default.
///
/// ```
/// use oauth_flow::HostUrls;
///
/// let mut urls = HostUrls::default();
/// urls.set("api", "https://api.staging.example");
/// urls.set_root("http://127.0.0.1:8080/sandbox");
/// assert_eq!(urls.resolve("api", "https://api.example")?.as_str(), "https://api.staging.example/");
/// assert_eq!(urls.resolve("app", "https://app.example")?.as_str(), "http://127.0.0.1:8080/sandbox/");
/// assert_eq!(HostUrls::default().resolve("app", "https://app.example")?.as_str(), "https://app.example/");
/// # Ok::<(), oauth_flow::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct HostUrls {
    root: Option<Result<BaseUrl, ConfigError>>,
    hosts: Vec<(&'static str, Result<BaseUrl, ConfigError>)>,
}

impl HostUrls {
    /// One root for every host; a malformed URL is reported by [`resolve`](Self::resolve).
    pub fn set_root(&mut self, url: impl IntoBaseUrl) {
        self.root = Some(url.into_base_url());
    }

    /// The URL of `host` (a name the builder chooses, e.g. `"api"`), replacing an earlier one.
    pub fn set(&mut self, host: &'static str, url: impl IntoBaseUrl) {
        self.hosts.retain(|(h, _)| *h != host);
        self.hosts.push((host, url.into_base_url()));
    }

    /// `host`'s own URL, else the root, else `default`; the error of whichever was chosen if
    /// it was not a valid base URL.
    pub fn resolve(&self, host: &str, default: &str) -> Result<BaseUrl, ConfigError> {
        let chosen = self
            .hosts
            .iter()
            .find(|(h, _)| *h == host)
            .map(|(_, url)| url)
            .or(self.root.as_ref());
        match chosen {
            Some(url) => url.clone(),
            None => BaseUrl::parse(default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> Option<BaseUrlError> {
        match BaseUrl::parse(s) {
            Ok(_) => None,
            Err(ConfigError::InvalidBaseUrl { problem, .. }) => Some(problem),
            Err(other) => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn trailing_slash_is_normalised_and_paths_join_below() {
        for s in [
            "https://api.example.com/v1",
            "https://api.example.com/v1/",
            " https://api.example.com/v1 ",
        ] {
            let b = BaseUrl::parse(s).unwrap();
            assert_eq!(b.as_str(), "https://api.example.com/v1/");
            assert_eq!(b.trimmed(), "https://api.example.com/v1");
            assert_eq!(
                b.join("oauth/token").unwrap().as_str(),
                "https://api.example.com/v1/oauth/token"
            );
            assert_eq!(
                b.join("/oauth/token").unwrap().as_str(),
                "https://api.example.com/v1/oauth/token"
            );
        }
        assert_eq!(
            BaseUrl::parse("https://api.example.com").unwrap().as_str(),
            "https://api.example.com/"
        );
    }

    /// S8: plain http only on loopback IP literals, not on `localhost` nor any other name.
    #[test]
    fn s8_https_or_loopback_ip_only() {
        assert_eq!(problem("http://127.0.0.1:8080/konpro"), None);
        assert_eq!(problem("http://[::1]:8080/"), None);
        assert_eq!(
            problem("http://localhost:8080/"),
            Some(BaseUrlError::Insecure)
        );
        assert_eq!(
            problem("http://api.example.com/"),
            Some(BaseUrlError::Insecure)
        );
        assert_eq!(problem("ftp://127.0.0.1/"), Some(BaseUrlError::Insecure));
        assert_eq!(problem("not a url"), Some(BaseUrlError::NotAUrl));
        assert_eq!(problem("mailto:a@example.com"), Some(BaseUrlError::NotAUrl));
    }

    #[test]
    fn query_fragment_and_userinfo_are_refused_without_echoing_them() {
        assert_eq!(
            problem("https://api.example.com/?key=s3cret"),
            Some(BaseUrlError::Query)
        );
        assert_eq!(
            problem("https://api.example.com/#s3cret"),
            Some(BaseUrlError::Fragment)
        );
        assert_eq!(
            problem("https://user:s3cret@api.example.com/"),
            Some(BaseUrlError::Userinfo)
        );
        for s in [
            "https://api.example.com/?key=s3cret",
            "https://user:s3cret@api.example.com/",
            "http://x.example/?s3cret",
        ] {
            let e = BaseUrl::parse(s).unwrap_err();
            assert!(!e.to_string().contains("s3cret"), "{e}");
            assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        }
    }

    #[test]
    fn every_input_form_converts() {
        let want = BaseUrl::parse("https://a.example/x/").unwrap();
        assert_eq!("https://a.example/x".into_base_url().unwrap(), want);
        assert_eq!(
            String::from("https://a.example/x").into_base_url().unwrap(),
            want
        );
        assert_eq!(
            Url::parse("https://a.example/x")
                .unwrap()
                .into_base_url()
                .unwrap(),
            want
        );
        assert_eq!((&want).into_base_url().unwrap(), want);
    }
}
