//! The tour's Konvert part: a GraphQL API reached with either of Konvert's two
//! authentication modes, both sent as `Authorization: Bearer`.

use std::time::Duration;

use konvert_sdk::operations::{
    AddNote, CreateContact, GetViewer, ListContacts, ListEnrichments, add_note, create_contact,
    get_viewer, list_contacts, list_enrichments,
};
use konvert_sdk::{Auth, ExposeSecret as _, KonvertClient, SecretString};
use sandbox::{Provider, Sandbox};

use crate::StepResult;
use crate::transcript::{mask, step};

/// Runs the Konvert part against the sandbox.
pub async fn run(sb: &Sandbox) -> StepResult {
    let base_url = sb.url(Provider::Konvert);
    let creds = &sb.credentials().konvert;
    step(&format!(
        "GraphQL endpoint {base_url}/api (production: https://api.konvertapp.com/api)"
    ));

    // 1. OAuth 2.0 client credentials.
    step(
        "mode 1: client credentials (POST /oauth/token, HTTP Basic, grant_type=client_credentials)",
    );
    let cc = KonvertClient::builder(Auth::client_credentials(
        creds.api_key.clone(),
        SecretString::from(creds.api_secret.clone()),
    ))
    .base_url(base_url.as_str())
    .build()?;
    let token = cc.access_token().await?;
    step(&format!(
        "access token {}",
        mask(token.secret().expose_secret())
    ));
    let viewer = cc.query::<GetViewer>(get_viewer::Variables).await?.viewer;
    step(&format!(
        "query GetViewer -> apiKey {}, mode {}, authMethod {}",
        viewer.api_key, viewer.mode, viewer.auth_method
    ));
    let first = cc
        .query::<ListContacts>(list_contacts::Variables {
            first: Some(3),
            after: None,
            filter: None,
        })
        .await?
        .contacts;
    let names: Vec<String> = first
        .edges
        .iter()
        .map(|e| format!("{} {}", e.node.first_name, e.node.last_name))
        .collect();
    step(&format!(
        "query ListContacts(first: 3) -> {} of {} contacts: {}",
        names.len(),
        first.total_count,
        names.join(", ")
    ));
    let token_calls = sb.calls("/konvert/oauth/token");
    step(&format!(
        "token requests so far: {token_calls} (cached for its expires_in of 21600 s)"
    ));
    if token_calls != 1 {
        return Err(format!("expected one token request, saw {token_calls}").into());
    }
    let left = cc
        .expires_at()
        .await?
        .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
        .unwrap_or_default();
    step(&format!("expires_at() -> in {} s", left.as_secs()));
    let renewed = cc.refresh().await?;
    step(&format!(
        "refresh() -> a new token now {} (token requests: {})",
        mask(renewed.secret().expose_secret()),
        sb.calls("/konvert/oauth/token")
    ));

    // 2. Self-signed JWT.
    step("mode 2: self-signed JWT (HS256, sub = API key, signed with the API secret, 1 h)");
    let jwt = KonvertClient::builder(Auth::jwt(
        creds.api_key.clone(),
        SecretString::from(creds.api_secret.clone()),
        Duration::from_secs(3600),
    ))
    .base_url(base_url)
    .build()?;
    let token = jwt.access_token().await?;
    step(&format!("JWT {}", mask(token.secret().expose_secret())));
    let viewer = jwt.query::<GetViewer>(get_viewer::Variables).await?.viewer;
    step(&format!(
        "query GetViewer -> authMethod {}",
        viewer.auth_method
    ));
    let all = jwt.list_all_contacts(10, None).await?;
    step(&format!(
        "paginated ListContacts(first: 10, after: endCursor) -> {} contacts",
        all.len()
    ));
    let created = jwt
        .query::<CreateContact>(create_contact::Variables {
            input: create_contact::CreateContactInput {
                first_name: "Tour".to_owned(),
                last_name: "Guide".to_owned(),
                email: "tour.guide@example.com".to_owned(),
                phone: None,
                job_title: Some("Newcomer".to_owned()),
                company_id: Some("company-1".to_owned()),
                lifecycle_stage: None,
            },
        })
        .await?
        .create_contact;
    step(&format!(
        "mutation CreateContact -> {} ({})",
        created.id, created.email
    ));
    let note = jwt
        .query::<AddNote>(add_note::Variables {
            input: add_note::AddNoteInput {
                body: "Met on the SDK tour.".to_owned(),
                contact_id: Some(created.id.clone()),
                deal_id: None,
            },
        })
        .await?
        .add_note;
    step(&format!(
        "mutation AddNote -> {} on {}",
        note.id, created.id
    ));
    let partial = jwt
        .query_partial::<ListEnrichments>(list_enrichments::Variables {
            first: Some(5),
            after: None,
        })
        .await?;
    step(&format!(
        "query ListEnrichments(first: 5) -> partial data, {} field error(s): {}",
        partial.errors.len(),
        partial
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    ));
    let signatures = sb.konvert_distinct_jwts();
    step(&format!(
        "distinct JWTs the API saw: {signatures} (signed once per lifetime, not per call)"
    ));
    if signatures != 1 {
        return Err(format!("expected one JWT, saw {signatures}").into());
    }
    Ok(())
}
