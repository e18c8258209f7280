// SECURITY S27: a pending authorization (state and PKCE verifier) has no `==`: the
// callback's state is checked by `complete`, in constant time.
use oauth_flow::PendingAuthorization;

fn same(a: &PendingAuthorization, b: &PendingAuthorization) -> bool {
    a == b
}

fn main() {}
