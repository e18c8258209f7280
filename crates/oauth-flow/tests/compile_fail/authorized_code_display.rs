// SECURITY S27: an authorization code has no `Display`.
use oauth_flow::AuthorizedCode;

fn show(c: &AuthorizedCode) -> String {
    format!("{}", c)
}

fn main() {}
