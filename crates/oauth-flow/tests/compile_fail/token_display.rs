// SECURITY S27: a token set has no `Display`.
use oauth_flow::Token;

fn show(t: &Token) -> String {
    format!("{}", t)
}

fn main() {}
