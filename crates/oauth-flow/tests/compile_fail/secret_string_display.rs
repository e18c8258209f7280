// SECURITY S27: the secret type every secret is held in has no `Display`.
use oauth_flow::SecretString;

fn show(s: &SecretString) -> String {
    format!("{}", s)
}

fn main() {}
