//! One user's client: a grant whose tokens refresh themselves, and the API calls made with it.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use oauth_flow::{
    AccessToken, ApiClient, ApiRequest, BaseUrl, Endpoint, ExposeSecret, GrantHandle, GrantKey,
    HttpResponse, RetryPolicy, Token, Transport,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{GetOrganization, GetProfile, decode_response};
use crate::claims::AccessTokenClaims;
use crate::error::{Error, Result};
use crate::models::{Organization, Profile};

/// One user's Askara API client, obtained from [`Askara::complete`](crate::Askara::complete),
/// [`Askara::client`](crate::Askara::client) or [`Askara::restore`](crate::Askara::restore).
///
/// Every call gets a valid access token first: refreshed ahead of expiry, one refresh at a time
/// per user however many tasks ask, and each rotated refresh token saved to the store before the
/// new access token is used (Askara invalidates the old refresh token at each refresh). A 401
/// from the API causes one refresh and one retry.
///
/// Cheap to clone; clones share the same tokens.
#[derive(Clone)]
pub struct AskaraClient {
    grant: GrantHandle,
    api: ApiClient,
}

impl fmt::Debug for AskaraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AskaraClient")
            .field("key", self.grant.key())
            .field("api", &self.api.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl AskaraClient {
    pub(crate) fn new(
        grant: GrantHandle,
        api_base: &BaseUrl,
        transport: Arc<dyn Transport>,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let api = ApiClient::builder(api_base, transport, Arc::new(grant.clone()))
            .retry(retry)
            .build()?;
        Ok(Self { grant, api })
    }

    /// The application's key for this user, as given when the client was created.
    pub fn subject(&self) -> &str {
        self.grant.key().subject()
    }

    /// The grant key under which the tokens are stored.
    pub fn key(&self) -> &GrantKey {
        self.grant.key()
    }

    /// `GET v1/profile` (scope `profile`).
    pub async fn profile(&self) -> Result<Profile> {
        self.send(&GetProfile).await
    }

    /// `GET v1/organization` (scope `organization`); [`Error::InsufficientScope`] if the user
    /// did not grant it.
    pub async fn organization(&self) -> Result<Organization> {
        self.send(&GetOrganization).await
    }

    /// Sends any [`Endpoint`] (e.g. an [`ApiRequest`]) and decodes its 2xx JSON body
    /// ([`Error::Decode`] naming the endpoint's path if it does not fit). Any other status is
    /// an error, whatever the body: [`Error::Unauthorized`] (401 after one refresh and one
    /// retry), [`Error::InsufficientScope`], [`Error::RateLimited`] or [`Error::Api`].
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output> {
        let resp = self.execute(endpoint).await?;
        decode_response(&endpoint.path(), &resp)
    }

    /// `GET path` (relative to the API base URL), decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(&ApiRequest::<T>::get(path)).await
    }

    /// `POST path` with `body` as JSON, decoded as `T`; [`Error::Encode`] (nothing sent) if
    /// `body` cannot be serialized.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(&ApiRequest::<T>::post(path).json_from(body)?)
            .await
    }

    /// Sends `endpoint` and returns the raw response whatever its status (after the 401
    /// refresh-and-retry and the 429/503 retries), for callers that read it themselves.
    pub async fn execute<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<HttpResponse> {
        Ok(self.api.execute(endpoint).await?)
    }

    /// A valid access token, refreshed first if it is due.
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(self.grant.access_token().await?)
    }

    /// The claims of the current (valid, refreshed if due) access token, decoded **without
    /// verifying the signature**: informational only (display, diagnostics), never a basis for
    /// an authorization decision. [`Error::NotAJwt`] if the token is not a JWT.
    pub async fn claims(&self) -> Result<AccessTokenClaims> {
        let token = self.access_token().await?;
        // Read locally to decode the payload; the token does not leave the process here.
        AccessTokenClaims::from_jwt(token.secret().expose_secret()).ok_or(Error::NotAJwt)
    }

    /// The current token set (expiry, scope, refresh token), from memory or the store; `None`
    /// if nothing is stored for this user.
    pub async fn token(&self) -> Result<Option<Token>> {
        Ok(self.grant.token().await?)
    }

    /// When the current access token expires (from memory or the store; from the JWT's `exp`
    /// when Askara sent no `expires_in`); `None` if nothing is stored for this user.
    pub async fn expires_at(&self) -> Result<Option<SystemTime>> {
        Ok(self.grant.expires_at().await?)
    }

    /// Refreshes now, whatever the expiry (e.g. after the user's rights changed at Askara), and
    /// returns the new access token. The rotated refresh token is saved before it is returned;
    /// concurrent callers share the one refresh.
    pub async fn refresh(&self) -> Result<AccessToken> {
        Ok(self.grant.force_refresh().await?)
    }

    /// Forgets this user's tokens, in memory and in the store (Askara documents no revocation
    /// endpoint, so nothing is sent).
    pub async fn forget(&self) -> Result<()> {
        Ok(self.grant.forget().await?)
    }

    /// The API client (base URL, credentials), e.g. to build a request without sending it.
    pub fn api_client(&self) -> &ApiClient {
        &self.api
    }

    /// The grant handle.
    pub fn grant(&self) -> &GrantHandle {
        &self.grant
    }
}
