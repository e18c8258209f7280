// SECURITY S27: an access token has no `==` (compare with `same_as`, in constant time).
use oauth_flow::AccessToken;

fn same(a: &AccessToken, b: &AccessToken) -> bool {
    a == b
}

fn main() {}
