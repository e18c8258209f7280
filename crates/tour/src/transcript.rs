//! Printing the tour's transcript, with secrets masked.

/// Prints a section title.
pub fn title(text: &str) {
    println!("\n== {text}");
}

/// Prints one step.
pub fn step(text: &str) {
    println!("  - {text}");
}

/// Masks a secret for display: its first four characters, its length and a short fingerprint
/// (24 bits of a hash, so two tokens with a shared prefix can be told apart), never the rest.
pub fn mask(secret: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    secret.hash(&mut h);
    let head: String = secret.chars().take(4).collect();
    format!(
        "{head}… ({} chars, #{:06x})",
        secret.chars().count(),
        h.finish() & 0xff_ffff
    )
}

/// Masks the values of secret-bearing query parameters in a URL (`code`, `state`,
/// `code_challenge`, tokens).
pub fn mask_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v))
                if matches!(
                    k,
                    "code" | "state" | "code_challenge" | "access_token" | "refresh_token"
                ) =>
            {
                format!("{k}={}", mask(v))
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", masked.join("&"))
}
