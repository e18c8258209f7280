//! The tour's KonPro part: log a user in with Authorization Code + PKCE, read their account,
//! watch the token refresh itself, then do the same with an API key.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use konpro_sdk::{
    CallbackError, Clock, Error, ExposeSecret, KonPro, KonProClient, ManualClock, SecretString,
};
use sandbox::{Fault, Provider};

use crate::StepResult;
use crate::transcript::{mask, mask_url, step};

const TOKEN: &str = "/konpro/v1/oauth/token";
const REFRESH: &str = "/konpro/v1/oauth/refresh_token";
const ACCOUNT: &str = "/konpro/v1/pacific/account.get";

/// Runs the KonPro part against the sandbox.
pub async fn run(sandbox: &sandbox::Sandbox) -> StepResult {
    let creds = sandbox.credentials();
    let base = sandbox.url(Provider::KonPro);

    // The sandbox issues 30-second access tokens for this part, shorter than the SDK's 60 s
    // refresh margin: the SDK caps the margin at half a token's lifetime, so such a token is
    // used as it is, and refreshed once half its life is over. The tour moves the SDK's clock
    // and the sandbox's together instead of waiting.
    sandbox.set_access_token_lifetime(Provider::KonPro, 30);
    let clock = Arc::new(ManualClock::new(SystemTime::now()));

    let konpro = KonPro::builder(&creds.konpro.client_id, &creds.redirect_uri)
        .base_url(&base)
        .clock(clock.clone())
        .build()?;
    step(&format!(
        "client `{}` (public: PKCE S256, no secret), hosts mapped to {base}",
        creds.konpro.client_id
    ));

    // 1. The authorize URL, with a fresh state and PKCE challenge.
    let (url, pending) = konpro.authorize_url()?;
    step(&format!("authorize URL: {}", mask_url(url.as_str())));

    // 2. The user approves on KonPro's consent page; KonPro redirects back.
    let callback = sandbox.approve(url.as_str()).await?;
    step(&format!("user approved, callback: {}", mask_url(&callback)));

    // A forged state would be refused before any token request.
    let (_other_url, other_pending) = konpro.authorize_url()?;
    match konpro.complete("mallory", other_pending, &callback).await {
        Err(Error::Callback(CallbackError::StateMismatch)) => step(&format!(
            "a callback replayed into another login is refused: state mismatch ({} token calls)",
            sandbox.calls(TOKEN)
        )),
        Err(e) => return Err(format!("forged callback: unexpected error {e}").into()),
        Ok(_) => return Err("a forged callback was accepted".into()),
    }

    // 3. State checked, code exchanged at /v1/oauth/token, tokens saved for "user-42".
    let client = konpro.complete("user-42", pending, &callback).await?;
    let token = client.token().await?.ok_or("the tokens were saved")?;
    step(&format!(
        "code exchanged ({} call to /v1/oauth/token): access token {}, refresh token {}",
        sandbox.calls(TOKEN),
        mask(token.access_token.expose_secret()),
        token
            .refresh_token
            .as_ref()
            .map(|t| mask(t.expose_secret()))
            .unwrap_or_else(|| "none".into()),
    ));

    // 4. account.get with the bearer token: the fresh 30 s token is used as it is.
    let account = client.account_get().await?;
    if sandbox.calls(REFRESH) != 0 {
        return Err("a fresh 30 s token was refreshed".into());
    }
    let plan = account.user_plan.as_ref();
    step(&format!(
        "account.get (Bearer): {} · plan {} · status {} · {} features · role {}",
        account.email().unwrap_or("?"),
        plan.and_then(|p| p.tier.as_deref()).unwrap_or("?"),
        account
            .user
            .as_ref()
            .and_then(|u| u.subscription_status.as_deref())
            .unwrap_or("?"),
        account.features.len(),
        account
            .space_info
            .as_ref()
            .and_then(|s| s.role.as_deref())
            .unwrap_or("?"),
    ));
    step("a fresh 30 s token is not refreshed (the margin is capped at half its lifetime)");

    // 16 s later the token is past half its life: refreshed once before the call (the new one
    // lives an hour: back to KonPro's usual lifetime).
    sandbox.set_access_token_lifetime(Provider::KonPro, 3600);
    clock.advance(Duration::from_secs(16));
    sandbox.advance_clock(Duration::from_secs(16));
    client.account_get().await?;
    client.account_get().await?;
    if sandbox.calls(REFRESH) != 1 {
        return Err("expected exactly one refresh past the half-life".into());
    }
    step("16 s later: refreshed once at /v1/oauth/refresh_token, then used for every call");

    // 5. KonPro rejects the token once (401): one refresh, one retry, the caller sees success.
    let before = (sandbox.calls(REFRESH), sandbox.calls(ACCOUNT));
    sandbox.inject(ACCOUNT, Fault::Status(401), 1);
    client.account_get().await?;
    let after = (sandbox.calls(REFRESH), sandbox.calls(ACCOUNT));
    if after != (before.0 + 1, before.1 + 2) {
        return Err("expected one refresh and one retry after the 401".into());
    }
    step("a 401 from account.get: one refresh, one retry, then success");

    // 6. A forced refresh (say the user's plan changed), then the user logs out of this app.
    let before = sandbox.calls(REFRESH);
    client.refresh().await?;
    let expires_at = client.expires_at().await?.ok_or("KonPro sent expires_in")?;
    let left = expires_at.duration_since(clock.now()).unwrap_or_default();
    if sandbox.calls(REFRESH) != before + 1 {
        return Err("client.refresh() should refresh exactly once".into());
    }
    step(&format!(
        "client.refresh(): one call to /v1/oauth/refresh_token, the new token expires in {} s",
        left.as_secs()
    ));
    client.forget().await?;
    if konpro.restore("user-42").await?.is_some() {
        return Err("the forgotten grant is still stored".into());
    }
    step("client.forget(): the tokens are gone from the store; restore(\"user-42\") finds none");

    // 7. API-key mode: no login, `X-API-KEY`.
    let key = SecretString::from(creds.konpro.api_key.clone());
    step(&format!("API key {}", mask(key.expose_secret())));
    let keyed = KonProClient::api_key(key).base_url(&base).build()?;
    let account = keyed.account_get().await?;
    step(&format!(
        "account.get (X-API-KEY): {} · {} experiments",
        account.email().unwrap_or("?"),
        account.experiments.len()
    ));
    Ok(())
}
