// SECURITY S27: an authorization code has no `==`.
use oauth_flow::AuthorizedCode;

fn same(a: &AuthorizedCode, b: &AuthorizedCode) -> bool {
    a == b
}

fn main() {}
