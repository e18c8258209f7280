//! The tour's Askara part: sign a user in (authorize, approve, exchange), read the profile and
//! organization, then watch the refresh token rotate twice.

use std::sync::Arc;

use askara_sdk::{Askara, AskaraClient, Error, ExposeSecret, MemoryStore, TokenStore};
use sandbox::Provider;

use crate::StepResult;
use crate::transcript::{mask, mask_url, step};

/// Runs the Askara part against the sandbox.
pub async fn run(sandbox: &sandbox::Sandbox) -> StepResult {
    // 1. One client per application; the store keeps every user's tokens (in memory here).
    let creds = &sandbox.credentials().askara;
    let store = Arc::new(MemoryStore::new());
    let askara = Askara::builder(
        creds.client_id.as_str(),
        creds.client_secret.as_str(),
        sandbox.credentials().redirect_uri.as_str(),
    )
    .base_url(sandbox.url(Provider::Askara)) // both Askara hosts → the sandbox
    .store(store.clone())
    .build()?;
    step(&format!(
        "client `{}` pointed at {}",
        creds.client_id,
        askara.api_base_url()
    ));

    // 2. Send the user to the authorize URL; keep `pending` until the callback.
    let (url, pending) = askara.authorize_url()?;
    step(&format!("authorize URL: {}", mask_url(url.as_str())));

    // 3. The user clicks "Authorize" on the consent page; Askara redirects back.
    let callback = sandbox.approve(url.as_str()).await?;
    step(&format!("approved, callback: {}", mask_url(&callback)));

    // 4. Check state, exchange the code (JSON body), save the tokens for this user.
    let client = askara.complete("camille", pending, &callback).await?;
    let (access, refresh) = tokens(&*store, &client).await?;
    step(&format!(
        "code exchanged: access token {}, refresh token {}",
        mask(&access),
        mask(&refresh)
    ));

    // 5. The access token is a JWT: its claims, decoded without verification (informational).
    let claims = client.claims().await?;
    step(&format!(
        "token claims (unverified): sub={} scopes=[{}] expires in {} s",
        claims.subject.as_deref().unwrap_or("?"),
        claims.scopes.join(", "),
        claims
            .expires_in(std::time::SystemTime::now())
            .map_or(0, |d| d.as_secs())
    ));

    // 6. Typed API calls with the granted scopes.
    let profile = client.profile().await?;
    step(&format!(
        "GET /v1/profile → {} <{}>",
        profile.display_name().unwrap_or_default(),
        profile.email.as_deref().unwrap_or("?")
    ));
    let org = client.organization().await?;
    step(&format!(
        "GET /v1/organization → {} ({}, {} members)",
        org.name.as_deref().unwrap_or("?"),
        org.address
            .as_ref()
            .and_then(|a| a.city.as_deref())
            .unwrap_or("?"),
        org.members_count.unwrap_or(0)
    ));

    // 7. Refresh twice. The SDK refreshes on its own shortly before expiry; here we force it.
    //    Askara rotates the refresh token each time, and the old one stops working.
    let mut previous = refresh;
    let mut first_rotated = None;
    for n in 1..=2 {
        client.refresh().await?;
        let (access, refresh) = tokens(&*store, &client).await?;
        if refresh == previous {
            return Err("the refresh token did not rotate".into());
        }
        step(&format!(
            "refresh #{n}: refresh token {} → {} (saved before use), new access token {}",
            mask(&previous),
            mask(&refresh),
            mask(&access)
        ));
        if n == 1 {
            first_rotated = store.load(client.key()).await?;
        }
        previous = refresh;
    }

    // 8. Replaying a rotated refresh token (a stale copy of the store) is refused, and the SDK
    //    says what to do: send the user through the authorization again.
    if let Some(stale_token) = first_rotated {
        let stale = Arc::new(MemoryStore::new());
        stale.save(client.key(), &stale_token).await?;
        let replica = Askara::builder(
            creds.client_id.as_str(),
            creds.client_secret.as_str(),
            sandbox.credentials().redirect_uri.as_str(),
        )
        .base_url(sandbox.url(Provider::Askara))
        .store(stale)
        .build()?;
        let replayed = stale_token
            .refresh_token
            .as_ref()
            .map(|t| mask(t.expose_secret()))
            .unwrap_or_default();
        match replica.client("camille")?.refresh().await {
            Err(e @ Error::ReauthorizationRequired { .. }) => {
                step(&format!(
                    "replaying the rotated refresh token {replayed}: {e}"
                ));
            }
            Err(e) => return Err(e.into()),
            Ok(_) => return Err("a rotated refresh token was accepted twice".into()),
        }
    }

    // Askara (like the sandbox, strict by default) treats the replay as theft (RFC 9700
    // §4.14.2): it revokes what the grant issued after the replayed token, so the live user
    // is logged out too. This is why the SDK never spends a refresh token twice, even across
    // processes (a lease in the shared store; see the README's "Running more than one process").
    match client.profile().await {
        Err(e @ Error::ReauthorizationRequired { .. }) => step(&format!(
            "the provider detected the reuse ({} detection) and revoked the grant: the live \
             user must authorize again: {e}",
            sandbox.reuse_detections()
        )),
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("a replayed refresh token left the grant alive".into()),
    }
    Ok(())
}

/// The stored access and refresh tokens of `client` (to show them masked).
async fn tokens(store: &dyn TokenStore, client: &AskaraClient) -> Result<(String, String), Error> {
    let token = store
        .load(client.key())
        .await?
        .ok_or_else(|| Error::ReauthorizationRequired {
            subject: client.subject().to_owned(),
            reason: "no token stored".into(),
        })?;
    let refresh = token
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        .unwrap_or_default();
    Ok((token.access_token.expose_secret().to_owned(), refresh))
}
