//! How grants, leases and single-use ids map to Redis keys.
//!
//! Each part is escaped (`%` → `%25`, `:` → `%3A`) before the parts are joined with `:`, so the
//! separator never occurs inside a part: `a/b` + `c` and `a` + `b/c`, or `a:b` + `c` and
//! `a` + `b:c`, can never name the same key.

use oauth_flow::GrantKey;

/// The Redis keys of one store, all under its prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: String) -> Self {
        Self { prefix }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hash holding a grant's token record and refresh-token fingerprint.
    pub(crate) fn token(&self, key: &GrantKey) -> String {
        format!("{}token:{}", self.prefix, grant(key))
    }

    /// The string holding a grant's lease owner.
    pub(crate) fn lease(&self, key: &GrantKey) -> String {
        format!("{}lease:{}", self.prefix, grant(key))
    }

    /// The marker of a used single-use id.
    pub(crate) fn used(&self, id: &str) -> String {
        format!("{}used:{}", self.prefix, escape(id))
    }
}

fn grant(key: &GrantKey) -> String {
    format!(
        "{}:{}:{}",
        escape(key.provider()),
        escape(key.client_id()),
        escape(key.subject())
    )
}

fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_key(p: &str, c: &str, s: &str) -> String {
        Keys::new("p:".into()).token(&GrantKey::new(p, c, s))
    }

    #[test]
    fn parts_cannot_run_into_each_other() {
        assert_ne!(token_key("a/b", "c", "d"), token_key("a", "b/c", "d"));
        assert_ne!(token_key("a:b", "c", "d"), token_key("a", "b:c", "d"));
        assert_ne!(token_key("a%3Ab", "c", "d"), token_key("a:b", "c", "d"));
        assert_ne!(token_key("a", "", "b"), token_key("a", "b", ""));
        assert_eq!(
            token_key("askara", "cid", "user 1"),
            "p:token:askara:cid:user 1"
        );
    }

    #[test]
    fn kinds_have_their_own_namespace() {
        let keys = Keys::new("x:".into());
        let g = GrantKey::new("a", "b", "c");
        assert_eq!(keys.lease(&g), "x:lease:a:b:c");
        assert_eq!(keys.used("a:b"), "x:used:a%3Ab");
    }
}
