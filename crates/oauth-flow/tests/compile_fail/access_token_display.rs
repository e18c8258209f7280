// SECURITY S27: an access token has no `Display`.
use oauth_flow::AccessToken;

fn show(t: &AccessToken) -> String {
    format!("{}", t)
}

fn main() {}
