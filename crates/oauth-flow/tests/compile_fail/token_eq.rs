// SECURITY S27: a token set (access and refresh tokens) has no `==`.
use oauth_flow::Token;

fn same(a: &Token, b: &Token) -> bool {
    a == b
}

fn main() {}
