// SECURITY S27: the name a registration returned is what `generate_secret` takes.
use kustomer_sdk::{AppsClient, RegisteredApp};

#[allow(dead_code)]
async fn rotate(apps: &AppsClient, app: &RegisteredApp) {
    let _ = apps.generate_secret(&app.name).await;
}

fn main() {}
