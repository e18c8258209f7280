//! Snapshots of every token request the core builds (sans-IO, no server): each grant ×
//! body encoding × client authentication, plus the authorize URL.
//!
//! SECURITY: S3 (S256 only, public clients always use PKCE), S4 (redirect URI byte-identical),
//! S14 (Basic credentials), S15 (one client authentication method, never in the URL),
//! S25 (secrets redacted in snapshots; a scan of the committed `.snap` files).
//!
//! Secrets in the snapshots are replaced by the shared redaction set
//! ([`oauth_flow::test_util::redaction_settings`]).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{
    CLIENT_ID, CLIENT_SECRET, CODE, REDIRECT_URI, client_for, query_param, refresh_token, secret,
};
use oauth_flow::test_util::redaction_settings;
use oauth_flow::{
    BasicEncoding, BodyEncoding, ClientAuth, ExposeSecret, HttpRequest, OAuthClient, Pkce,
    ProviderProfile, SpaceEncoding,
};
use serde_json::{Value, json};

const BASE: &str = "https://auth.example.com";

fn enc_name(e: BodyEncoding) -> &'static str {
    match e {
        BodyEncoding::Form => "form",
        BodyEncoding::Json => "json",
    }
}

fn auth_name(a: ClientAuth) -> &'static str {
    match a {
        ClientAuth::None => "none",
        ClientAuth::SecretPost => "secret_post",
        ClientAuth::SecretBasic => "secret_basic",
    }
}

fn profile(
    encoding: BodyEncoding,
    auth: ClientAuth,
    pkce: Pkce,
    refresh_url: bool,
) -> ProviderProfile {
    let mut b = ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
        .authorize_url(format!("{BASE}/oauth/authorize"))
        .encoding(encoding)
        .client_auth(auth)
        .pkce(pkce);
    if refresh_url {
        b = b.refresh_url(format!("{BASE}/oauth/refresh_token"));
    }
    b.build().unwrap()
}

/// Runs the authorization through a callback, then builds the code exchange.
fn exchange(client: &OAuthClient) -> (HttpRequest, String) {
    let (url, pending) = client.authorize().scope("read").build().unwrap();
    let state = query_param(&url, "state");
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    (
        client.exchange_code_request(&code).unwrap(),
        url.to_string(),
    )
}

/// S15: exactly one client authentication method, none in the URL; S14: Basic is form-encoded
/// `id:secret`.
fn check_client_auth(req: &HttpRequest, auth: ClientAuth) {
    let snap = req.to_snapshot();
    let body_secret = snap["body"].get("client_secret");
    let header = req.headers.get("authorization");
    assert!(
        req.url.query().is_none(),
        "nothing in the token URL's query"
    );
    assert!(!req.url.as_str().contains(CLIENT_SECRET));
    match auth {
        ClientAuth::None => {
            assert!(body_secret.is_none() && header.is_none());
            assert_eq!(snap["body"]["client_id"], CLIENT_ID);
        }
        ClientAuth::SecretPost => {
            assert_eq!(body_secret, Some(&json!(CLIENT_SECRET)));
            assert_eq!(snap["body"]["client_id"], CLIENT_ID);
            assert!(header.is_none());
        }
        ClientAuth::SecretBasic => {
            assert!(body_secret.is_none());
            assert!(snap["body"].get("client_id").is_none());
            let expected = format!(
                "Basic {}",
                STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
            );
            assert_eq!(header.unwrap().to_str().unwrap(), expected);
            assert!(header.unwrap().is_sensitive());
        }
    }
}

#[test]
fn s15_s4_token_request_matrix() {
    let settings = redaction_settings();
    for encoding in [BodyEncoding::Form, BodyEncoding::Json] {
        for auth in [
            ClientAuth::None,
            ClientAuth::SecretPost,
            ClientAuth::SecretBasic,
        ] {
            let suffix = format!("{}__{}", enc_name(encoding), auth_name(auth));
            let content_type = match encoding {
                BodyEncoding::Form => "application/x-www-form-urlencoded",
                BodyEncoding::Json => "application/json",
            };

            // Authorization code with PKCE.
            let client = client_for(profile(encoding, auth, Pkce::S256, false));
            let (req, authorize_url) = exchange(&client);
            check_client_auth(&req, auth);
            let snap = req.to_snapshot();
            assert_eq!(snap["headers"]["content-type"], content_type);
            // S4: the redirect URI is sent byte-identical in both legs.
            assert_eq!(snap["body"]["redirect_uri"], REDIRECT_URI);
            let sent = url::Url::parse(&authorize_url).unwrap();
            let sent = query_param(&sent, "redirect_uri");
            assert_eq!(sent, REDIRECT_URI);
            assert_eq!(snap["body"]["code"], CODE);
            assert_eq!(snap["body"]["code_verifier"].as_str().unwrap().len(), 43);
            settings.bind(|| {
                insta::assert_json_snapshot!(format!("auth_code_pkce__{suffix}"), snap);
            });

            // Authorization code without PKCE: impossible for a public client (S3).
            if auth == ClientAuth::None {
                let forced = profile(encoding, auth, Pkce::Disabled, false);
                assert_eq!(
                    forced.pkce(),
                    Pkce::S256,
                    "S3: public clients always use PKCE"
                );
            } else {
                let client = client_for(profile(encoding, auth, Pkce::Disabled, false));
                let (req, _) = exchange(&client);
                check_client_auth(&req, auth);
                let snap = req.to_snapshot();
                assert!(snap["body"].get("code_verifier").is_none());
                settings.bind(|| {
                    insta::assert_json_snapshot!(format!("auth_code_plain__{suffix}"), snap);
                });
            }

            // Refresh, on the token URL and on a separate refresh URL (KonPro).
            for (separate, name) in [(false, "refresh"), (true, "refresh_separate_url")] {
                let client = client_for(profile(encoding, auth, Pkce::Disabled, separate));
                let req = client.refresh_request(&secret(&refresh_token(1))).unwrap();
                check_client_auth(&req, auth);
                let snap = req.to_snapshot();
                assert_eq!(snap["body"]["refresh_token"], refresh_token(1));
                let path = if separate {
                    "/oauth/refresh_token"
                } else {
                    "/oauth/token"
                };
                assert_eq!(req.url.path(), path);
                settings.bind(|| {
                    insta::assert_json_snapshot!(format!("{name}__{suffix}"), snap);
                });
            }

            // Client credentials with scopes: confidential clients only (RFC 6749 §4.4).
            let client = client_for(profile(encoding, auth, Pkce::Disabled, false));
            if auth == ClientAuth::None {
                assert!(matches!(
                    client.client_credentials_request(&["read"]),
                    Err(oauth_flow::Error::Config(_))
                ));
                continue;
            }
            let req = client
                .client_credentials_request(&["read", "write"])
                .unwrap();
            check_client_auth(&req, auth);
            let snap = req.to_snapshot();
            assert_eq!(snap["body"]["scope"], "read write");
            settings.bind(|| {
                insta::assert_json_snapshot!(format!("client_credentials__{suffix}"), snap);
            });
        }
    }
}

fn authorize_view(url: &url::Url) -> Value {
    let params: serde_json::Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    json!({ "url": url.as_str(), "query": params })
}

#[test]
fn s1_s3_authorize_url_snapshots() {
    let settings = redaction_settings();

    // Public client: PKCE S256, scopes with %20.
    let public = client_for(profile(
        BodyEncoding::Form,
        ClientAuth::None,
        Pkce::Disabled,
        false,
    ));
    let (url, _pending) = public
        .authorize()
        .scopes(["read", "write"])
        .build()
        .unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert_eq!(q["state"].len(), 22, "S1: 128 bits, base64url");
    assert!(
        !q.contains_key("code_verifier"),
        "S3: the verifier never leaves"
    );
    assert!(url.as_str().contains("scope=read%20write"));
    settings
        .bind(|| insta::assert_json_snapshot!("authorize_url_public_pkce", authorize_view(&url)));

    // Confidential client, Kustomer-style `+` separators and an extra parameter.
    let confidential = client_for(
        ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
            .authorize_url(format!("{BASE}/oauth/authorize?tenant=acme"))
            .space_encoding(SpaceEncoding::Plus)
            .build()
            .unwrap(),
    );
    let (url, _pending) = confidential
        .authorize()
        .scopes(["org.permission.customer", "offline_access"])
        .param("prompt", "consent")
        .build()
        .unwrap();
    assert!(
        url.as_str()
            .contains("scope=org.permission.customer+offline_access")
    );
    assert!(!url.as_str().contains("code_challenge"));
    settings.bind(|| {
        insta::assert_json_snapshot!("authorize_url_confidential_plus", authorize_view(&url))
    });

    // Reserved parameters cannot be overridden (S3: no `code_challenge_method=plain`).
    let err = public
        .authorize()
        .param("code_challenge_method", "plain")
        .build()
        .unwrap_err();
    assert!(matches!(err, oauth_flow::Error::Config(_)), "{err:?}");
}

#[test]
fn s14_basic_credentials_are_form_encoded() {
    let p = ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
        .client_auth(ClientAuth::SecretBasic)
        .build()
        .unwrap();
    let client = OAuthClient::builder(p, "my app")
        .client_secret(secret("p:ss%+"))
        .build()
        .unwrap();
    let req = client.client_credentials_request(&[]).unwrap();
    assert_eq!(
        req.headers["authorization"].to_str().unwrap(),
        "Basic bXkrYXBwOnAlM0FzcyUyNSUyQg=="
    );
    // Konvert's documented example: `yourApiKey:yourApiSecret1234567890`.
    let b =
        oauth_flow::__private::basic_credentials("yourApiKey", &secret("yourApiSecret1234567890"));
    assert_eq!(
        b.expose_secret(),
        "eW91ckFwaUtleTp5b3VyQXBpU2VjcmV0MTIzNDU2Nzg5MA=="
    );
}

/// The characters RFC 6749 §2.3.1 form-encoding rewrites, with what it writes for each
/// (`:` too: it separates id from secret).
const AWKWARD: [(&str, &str, &str); 6] = [
    ("plus", "+", "%2B"),
    ("slash", "/", "%2F"),
    ("equals", "=", "%3D"),
    ("percent", "%", "%25"),
    ("colon", ":", "%3A"),
    ("space", " ", "+"),
];

/// The decoded `user:password` of a request's `Authorization: Basic` header.
fn decoded_basic(req: &HttpRequest) -> String {
    let value = req.headers["authorization"].to_str().unwrap();
    let b64 = value.strip_prefix("Basic ").unwrap();
    String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
}

/// S14 (issue 18 part 4): the profile's [`BasicEncoding`] decides how Basic credentials are
/// written. A secret holding each awkward character: form-urlencoded per RFC 6749 §2.3.1 by
/// default, byte for byte with `Raw` (Konvert's documented `client_id:client_secret`).
#[test]
fn s14_basic_encoding_is_a_profile_setting() {
    let settings = redaction_settings();
    for (encoding, label) in [
        (BasicEncoding::FormUrlEncoded, "form_urlencoded"),
        (BasicEncoding::Raw, "raw"),
    ] {
        let p = ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
            .client_auth(ClientAuth::SecretBasic)
            .basic_encoding(encoding)
            .build()
            .unwrap();
        assert_eq!(p.basic_encoding(), encoding);
        let mut view = serde_json::Map::new();
        for (name, c, form) in AWKWARD {
            let raw_secret = format!("CANARY{c}secret{c}");
            let client = OAuthClient::builder(p.clone(), CLIENT_ID)
                .client_secret(secret(&raw_secret))
                .build()
                .unwrap();
            let req = client.client_credentials_request(&[]).unwrap();
            let expected = match encoding {
                BasicEncoding::FormUrlEncoded => format!("{CLIENT_ID}:CANARY{form}secret{form}"),
                _ => format!("{CLIENT_ID}:{raw_secret}"),
            };
            assert_eq!(decoded_basic(&req), expected, "{label}, {name}");
            assert!(req.headers["authorization"].is_sensitive());
            assert_eq!(req.body, b"grant_type=client_credentials");
            view.insert(name.to_owned(), req.to_snapshot());
        }
        settings.bind(|| {
            insta::assert_json_snapshot!(
                format!("client_credentials_basic_{label}_awkward_secrets"),
                Value::Object(view)
            )
        });
    }
}

/// S14: raw Basic credentials split at the first colon, so a client id holding one is refused
/// when the client is built, before anything is sent.
#[test]
fn s14_raw_basic_refuses_a_colon_in_the_client_id() {
    let p = ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
        .client_auth(ClientAuth::SecretBasic)
        .basic_encoding(BasicEncoding::Raw)
        .build()
        .unwrap();
    let err = OAuthClient::builder(p.clone(), "id:with:colons")
        .client_secret(secret(CLIENT_SECRET))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            oauth_flow::Error::Config(oauth_flow::ConfigError::ColonInClientId)
        ),
        "{err:?}"
    );
    // Form-urlencoded credentials carry it as `%3A`.
    let form = ProviderProfile::builder("example", format!("{BASE}/oauth/token"))
        .client_auth(ClientAuth::SecretBasic)
        .build()
        .unwrap();
    let client = OAuthClient::builder(form, "id:with:colons")
        .client_secret(secret(CLIENT_SECRET))
        .build()
        .unwrap();
    let req = client.client_credentials_request(&[]).unwrap();
    assert_eq!(
        decoded_basic(&req),
        format!("id%3Awith%3Acolons:{CLIENT_SECRET}")
    );
}

/// S25: the committed snapshots hold no secret: every sensitive field is redacted, and no
/// canary (nor base64 of `id:secret`) appears anywhere.
#[test]
fn s25_committed_snapshots_hold_no_secret() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let basic = STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.ends_with(".snap.new"), "uncommitted snapshot {name}");
        if !name.ends_with(".snap") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("CANARY"), "{name} holds a canary secret");
        assert!(!text.contains(&basic), "{name} holds Basic credentials");
        for line in text.lines() {
            let sensitive = [
                "\"client_secret\"",
                "\"code\"",
                "\"code_verifier\"",
                "\"refresh_token\"",
                "\"state\"",
                "\"code_challenge\"",
                "\"authorization\"",
            ];
            if sensitive.iter().any(|k| line.trim_start().starts_with(k)) {
                assert!(
                    line.contains("[redacted]"),
                    "{name}: unredacted line {line}"
                );
            }
        }
    }
    assert!(
        seen >= 28,
        "expected the request matrix snapshots, found {seen}"
    );
}
