//! The tour's Kustomer part: register a private app with an API key, generate its client
//! secret, meet the "Invalid Client" answer of an app that is not installed yet, install it,
//! authorize, exchange the code, list customers, refresh.

use kustomer_sdk::{
    AppDefinition, Error, ExposeSecret, Kustomer, PageParams, SecretString, scopes,
};
use sandbox::Provider;

use crate::StepResult;
use crate::transcript::{mask, mask_url, step};

/// Runs the Kustomer part against the sandbox.
pub async fn run(sandbox: &sandbox::Sandbox) -> StepResult {
    let creds = &sandbox.credentials().kustomer;
    // Both Kustomer hosts (api.kustomerapp.com, api.apps.kustomerapp.com) map to one prefix.
    let kustomer = Kustomer::builder()
        .base_url(sandbox.url(Provider::Kustomer))
        .build()?;
    step(&format!(
        "API and OAuth hosts -> {}",
        kustomer.api_base_url()
    ));

    // Step 1: register a private app with the org API key (sent as a bearer).
    let apps = kustomer.apps(SecretString::from(creds.api_key.clone()))?;
    let app = apps
        .register(&AppDefinition::private(
            "myoauthapp",
            "0.0.1",
            "My OAuth App",
        ))
        .await?;
    step(&format!(
        "registered private app: name {} (namespaced with the org id), id {}, client id {}",
        app.name, app.id, app.client_id
    ));

    // Step 2: generate the client secret (with the namespaced name).
    let secret = apps.generate_secret(&app.name).await?;
    step(&format!(
        "generated client secret {} for client id {}",
        mask(secret.client_secret().expose_secret()),
        secret.client_id()
    ));

    let oauth = kustomer
        .oauth(
            secret.client_id(),
            secret.client_secret().clone(),
            &sandbox.credentials().redirect_uri,
        )
        .build()?;
    let roles = [scopes::CUSTOMER, scopes::CONVERSATION];

    // Step 3, too early: the app is not installed yet.
    let (url, pending) = oauth.authorize_url(roles)?;
    step(&format!("authorize at {}", mask_url(url.as_str())));
    let callback = sandbox.approve(url.as_str()).await?;
    match oauth.complete("alex", pending, &callback).await {
        Err(e @ Error::AppNotInstalled { .. }) => {
            step(&format!("before installing, the exchange fails: {e}"));
        }
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("expected 400 \"Invalid Client\" before the app is installed".into()),
    }

    // Install it (the App Directory in production), then authorize again.
    sandbox.install_kustomer_app(app.name.as_str())?;
    step(&format!("installed {} in the org", app.name));
    let (url, pending) = oauth.authorize_url(roles)?;
    let callback = sandbox.approve(url.as_str()).await?;
    step(&format!("user approved; callback {}", mask_url(&callback)));
    let client = oauth.complete("alex", pending, &callback).await?;
    let token = client
        .token()
        .await?
        .ok_or("no token was stored after the exchange")?;
    let refresh_before = token
        .refresh_token
        .as_ref()
        .map(|r| mask(r.expose_secret()))
        .unwrap_or_else(|| "(none)".into());
    step(&format!(
        "exchanged the code: access token {}, refresh token {}, granted scope \"{}\"",
        mask(token.access_token.expose_secret()),
        refresh_before,
        token.scope.as_deref().unwrap_or("")
    ));

    // Step 4: call the API with the access token.
    let page = client
        .list_customers(PageParams::new().page_size(5))
        .await?;
    let names: Vec<&str> = page.items().iter().filter_map(|c| c.best_name()).collect();
    step(&format!(
        "first page of customers ({} of {}): {}",
        page.items().len(),
        page.meta().total.unwrap_or(0),
        names.join(", ")
    ));
    let all = client.all_customers(10).await?;
    step(&format!("walked every page: {} customers", all.len()));

    // Refresh: a new access token and a new (rotated, persisted) refresh token.
    let fresh = client.refresh().await?;
    let after = client.token().await?.ok_or("no token after the refresh")?;
    step(&format!(
        "refreshed: access token {}, refresh token rotated {} -> {}",
        mask(fresh.secret().expose_secret()),
        refresh_before,
        after
            .refresh_token
            .as_ref()
            .map(|r| mask(r.expose_secret()))
            .unwrap_or_else(|| "(none)".into())
    ));
    let again = client
        .list_customers(PageParams::new().page_size(1))
        .await?;
    step(&format!(
        "the refreshed token works: {} customer(s) on a page of 1",
        again.items().len()
    ));
    Ok(())
}
