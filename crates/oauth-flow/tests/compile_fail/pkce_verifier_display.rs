// SECURITY S27: a PKCE verifier has no `Display`.
use oauth_flow::PkceVerifier;

fn show(v: &PkceVerifier) -> String {
    format!("{}", v)
}

fn main() {}
