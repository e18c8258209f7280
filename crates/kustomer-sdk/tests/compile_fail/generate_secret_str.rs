// SECURITY S27: `generate_secret` takes the namespaced name of a registered app, not a string
// (`attributes.name` and `data.id` are both strings, and only one of them is right).
use kustomer_sdk::AppsClient;

async fn rotate(apps: &AppsClient) {
    let _ = apps.generate_secret("myoauthapp_5f1d3c2b4a6978e0d1c2b3a4").await;
}

fn main() {}
