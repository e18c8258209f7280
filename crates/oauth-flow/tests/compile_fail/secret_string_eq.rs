// SECURITY S27: the secret type every secret is held in has no `==`.
use oauth_flow::SecretString;

fn same(a: &SecretString, b: &SecretString) -> bool {
    a == b
}

fn main() {}
