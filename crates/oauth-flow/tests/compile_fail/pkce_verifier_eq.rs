// SECURITY S27: a PKCE verifier has no `==`.
use oauth_flow::PkceVerifier;

fn same(a: &PkceVerifier, b: &PkceVerifier) -> bool {
    a == b
}

fn main() {}
