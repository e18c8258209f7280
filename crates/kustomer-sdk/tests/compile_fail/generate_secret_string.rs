// SECURITY S27: nor an owned string.
use kustomer_sdk::AppsClient;

async fn rotate(apps: &AppsClient, name: String) {
    let _ = apps.generate_secret(&name).await;
}

fn main() {}
