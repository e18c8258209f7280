// SECURITY S27: a pending authorization has no `Display`.
use oauth_flow::PendingAuthorization;

fn show(p: &PendingAuthorization) -> String {
    format!("{}", p)
}

fn main() {}
