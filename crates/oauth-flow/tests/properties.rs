//! Property tests of every parser of outside input in the core: the authorization callback
//! (S1, S4, S6, S7), token responses (S11, S12, S13), JWT claims read without verification,
//! `WWW-Authenticate` (S20), `Retry-After`, and the `FileStore` record (S26).
//!
//! Each property runs 1,000 generated cases (`PROPTEST_CASES=N` for more). Arbitrary and
//! structured-but-wrong inputs must give a typed error, never a panic; valid inputs round-trip.
//! Inputs that once failed are kept below as named regression tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/proptest_support.rs"]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_flow::__private::{
    auth_params, error_from_response, jwt_claims_unverified, jwt_expiry, parse_token_response,
    retry_after,
};
use oauth_flow::http::{HeaderMap, HeaderValue, StatusCode, header};
use oauth_flow::{
    CallbackError, ClientAuth, EXCERPT_LIMIT, Error, ExposeSecret, FileStore, GrantKey,
    HttpResponse, MAX_LIFETIME, OAuthClient, ProviderProfile, Token, TokenStore,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{config, json_object, json_value};

const REDIRECT: &str = "http://127.0.0.1:8765/oauth/callback";

/// Field names of token responses, so generated objects hit them with every type.
const TOKEN_KEYS: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "error",
    "error_description",
    "error_uri",
];

fn sent_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn client() -> OAuthClient {
    let profile = ProviderProfile::builder("prop", "https://auth.example.com/token")
        .authorize_url("https://auth.example.com/authorize?tenant=a")
        .issuer("https://auth.example.com")
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    OAuthClient::builder(profile, "prop-client")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap()
}

fn ok(body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse::new(StatusCode::OK, body)
}

fn query_param(url: &oauth_flow::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// A JWT with `claims` as its payload (the signature is not checked by the readers under test).
fn jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

/// Characters allowed in an access token (header-safe, RFC 6750 b64token and more).
fn token_text() -> impl Strategy<Value = String> {
    "[!-~]{1,80}"
}

/// The ways a server writes `expires_in`, each with the lifetime the client must believe
/// (`None`: a decode error is expected).
#[derive(Debug, Clone)]
enum ExpiresIn {
    Number(u64),
    NumericString(u64),
    Float(f64),
    Negative(i64),
    Huge(Value),
    Garbage(Value),
}

impl ExpiresIn {
    fn json(&self) -> Value {
        match self {
            Self::Number(n) => json!(n),
            Self::NumericString(n) => json!(n.to_string()),
            Self::Float(f) => json!(f),
            Self::Negative(n) => json!(n),
            Self::Huge(v) | Self::Garbage(v) => v.clone(),
        }
    }
    fn expected(&self) -> Option<Duration> {
        let clamp = |secs: f64| Duration::from_secs_f64(secs.min(MAX_LIFETIME.as_secs_f64()));
        match self {
            Self::Number(n) | Self::NumericString(n) => Some(clamp(*n as f64)),
            Self::Float(f) => Some(clamp(*f)),
            Self::Huge(_) => Some(MAX_LIFETIME),
            Self::Negative(_) | Self::Garbage(_) => None,
        }
    }
}

fn expires_in() -> impl Strategy<Value = ExpiresIn> {
    prop_oneof![
        (0u64..10_000_000).prop_map(ExpiresIn::Number),
        (0u64..10_000_000).prop_map(ExpiresIn::NumericString),
        (0u32..10_000_000, 0u32..1000)
            .prop_map(|(s, ms)| ExpiresIn::Float(f64::from(s) + f64::from(ms) / 1000.0)),
        (i64::MIN..0).prop_map(ExpiresIn::Negative),
        prop_oneof![
            (MAX_LIFETIME.as_secs()..=u64::MAX).prop_map(|n| json!(n)),
            (MAX_LIFETIME.as_secs()..=u64::MAX).prop_map(|n| json!(n.to_string())),
            Just(json!(1.0e300)),
            Just(json!("1e300")),
            Just(json!("99999999999999999999999999999")),
        ]
        .prop_map(ExpiresIn::Huge),
        prop_oneof![
            Just(json!("soon")),
            Just(json!("")),
            Just(json!("NaN")),
            Just(json!("inf")),
            Just(json!("-inf")),
            Just(json!(true)),
            Just(json!([3600])),
            Just(json!({"seconds": 3600})),
            "[a-z ]{1,10}".prop_map(Value::String),
        ]
        .prop_map(ExpiresIn::Garbage),
    ]
}

proptest! {
    #![proptest_config(config())]

    // ---- the authorization callback --------------------------------------------------------

    /// Round trip: the authorize URL's `state`, echoed with any code on the registered
    /// redirect URI, completes and yields that code; the same callback with a state one
    /// character off is `StateMismatch` (S1).
    #[test]
    fn callback_round_trips_with_the_right_state(code in "[ -~]{1,64}", iss in any::<bool>()) {
        let client = client();
        let (url, pending) = client.authorize().scope("read").build().unwrap();
        let state = query_param(&url, "state");
        let mut callback = url::Url::parse(REDIRECT).unwrap();
        callback.query_pairs_mut().append_pair("code", &code).append_pair("state", &state);
        if iss {
            callback.query_pairs_mut().append_pair("iss", "https://auth.example.com");
        }
        let done = pending.complete(callback.as_str()).unwrap();
        prop_assert_eq!(done.code().expose_secret(), code.as_str());

        let (url, pending) = client.authorize().build().unwrap();
        let mut wrong = query_param(&url, "state");
        let last = if wrong.ends_with('A') { "B" } else { "A" };
        wrong.replace_range(wrong.len() - 1.., last);
        let mut callback = url::Url::parse(REDIRECT).unwrap();
        callback.query_pairs_mut().append_pair("code", &code).append_pair("state", &wrong);
        prop_assert!(matches!(
            pending.complete(callback.as_str()),
            Err(Error::Callback(CallbackError::StateMismatch))
        ));
    }

    /// Arbitrary text as a callback (URL or query) is refused with a typed callback error.
    #[test]
    fn callback_arbitrary_text_is_a_typed_error(callback in any::<String>()) {
        let (_, pending) = client().authorize().build().unwrap();
        let err = pending.complete(&callback).unwrap_err();
        prop_assert!(matches!(err, Error::Callback(_)), "{:?}", err);
    }

    /// Structured but wrong: the right state among arbitrary, repeated or conflicting
    /// parameters, on the right or a wrong redirect URI, gives a typed error or the code,
    /// never a panic; a callback holding both `code` and `error` is never a success (S6).
    #[test]
    fn callback_structured_but_wrong(
        params in prop::collection::vec(
            (prop::sample::select(&["code", "error", "error_description", "iss", "state", "x"][..]),
             any::<String>()),
            0..6,
        ),
        path in prop::sample::select(&["/oauth/callback", "/other", ""][..]),
        with_state in any::<bool>(),
    ) {
        let (url, pending) = client().authorize().build().unwrap();
        let mut callback = url::Url::parse("http://127.0.0.1:8765/").unwrap();
        callback.set_path(path);
        {
            let mut q = callback.query_pairs_mut();
            if with_state {
                q.append_pair("state", &query_param(&url, "state"));
            }
            for (k, v) in &params {
                q.append_pair(k, v);
            }
        }
        let has = |name: &str| params.iter().any(|(k, _)| *k == name);
        match pending.complete(callback.as_str()) {
            Ok(code) => {
                prop_assert!(with_state && path == "/oauth/callback");
                prop_assert!(has("code") && !has("error"));
                prop_assert!(!code.code().expose_secret().is_empty());
            }
            Err(Error::Callback(_)) => {}
            Err(other) => prop_assert!(false, "untyped callback error {:?}", other),
        }
    }

    // ---- token responses ---------------------------------------------------------------------

    /// Arbitrary bytes as a 200 token response: a typed error, or a token that passed every
    /// check (non-empty, header-safe access token; Bearer).
    #[test]
    fn token_response_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_token_response(&ok(body));
    }

    /// Arbitrary JSON objects (the token fields with any types) as a 200 token response.
    #[test]
    fn token_response_structured_but_wrong(map in json_object(TOKEN_KEYS)) {
        check_token_response(&ok(serde_json::to_vec(&Value::Object(map)).unwrap()));
    }

    /// Any status and body: a non-2xx is an OAuth error when the body is an RFC 6749 §5.2
    /// object, else `HttpStatus` with a bounded excerpt (S13); never a success.
    #[test]
    fn token_error_responses(
        status in 100u16..600,
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            json_object(TOKEN_KEYS).prop_map(|m| serde_json::to_vec(&m).unwrap()),
        ],
    ) {
        let resp = HttpResponse::new(StatusCode::from_u16(status).unwrap(), body);
        let err = error_from_response(&resp);
        match &err {
            Error::OAuth(e) => prop_assert_eq!(e.status, Some(status)),
            Error::HttpStatus { status: s, excerpt } => {
                prop_assert_eq!(*s, status);
                prop_assert!(excerpt.len() <= EXCERPT_LIMIT + '…'.len_utf8());
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        if !resp.status.is_success() {
            prop_assert!(parse_token_response(&resp, sent_at()).is_err());
        }
    }

    /// `expires_in` as a number, a numeric string, a float, negative, huge or garbage (S12):
    /// the believed lifetime is the value (huge clamped to `MAX_LIFETIME`), negative and
    /// garbage are decode errors; absent leaves the expiry unknown for an opaque token.
    #[test]
    fn token_response_expires_in(access in token_text(), e in proptest::option::of(expires_in())) {
        let mut body = json!({"access_token": access, "token_type": "Bearer"});
        if let Some(e) = &e {
            body["expires_in"] = e.json();
        }
        let parsed = parse_token_response(&ok(body.to_string()), sent_at());
        match (e.as_ref().map(ExpiresIn::expected), parsed) {
            (None, Ok(t)) => prop_assert_eq!(t.expires_at, jwt_expiry(&access)),
            (Some(Some(d)), Ok(t)) => prop_assert_eq!(t.expires_at, Some(sent_at() + d)),
            (Some(None), Err(Error::Decode { what, .. })) => prop_assert_eq!(what, "token response"),
            (expected, got) => prop_assert!(false, "{:?} gave {:?}", expected, got),
        }
    }

    /// Round trip: token JSON → `Token` → the `FileStore` file → `Token` keeps every field
    /// (the expiry to the second: the record stores whole seconds), and a second trip through
    /// the store changes nothing.
    #[test]
    fn token_round_trips_through_the_file_store(
        access in token_text(),
        refresh in proptest::option::of("[!-~]{1,40}"),
        expires in proptest::option::of(0u64..100_000_000),
        scope in proptest::option::of("[a-z:. ]{0,30}"),
        extra in prop::collection::btree_map("[a-z_]{1,10}", support::json_leaf(), 0..4),
    ) {
        let mut body = json!({"access_token": access, "token_type": "bearer"});
        if let Some(r) = &refresh { body["refresh_token"] = json!(r); }
        if let Some(e) = expires { body["expires_in"] = json!(e); }
        if let Some(s) = &scope { body["scope"] = json!(s); }
        for (k, v) in extra {
            body.as_object_mut().unwrap().entry(k).or_insert(v);
        }
        let token = parse_token_response(&ok(body.to_string()), sent_at()).unwrap();
        let loaded = STORE.with(|(store, key)| {
            RT.with(|rt| rt.block_on(async {
                store.save(key, &token).await.unwrap();
                store.load(key).await.unwrap().unwrap()
            }))
        });
        assert_same_token(&token, &loaded);
        let again = STORE.with(|(store, key)| {
            RT.with(|rt| rt.block_on(async {
                store.save(key, &loaded).await.unwrap();
                store.load(key).await.unwrap().unwrap()
            }))
        });
        prop_assert_eq!(again.expires_at, loaded.expires_at);
        assert_same_token(&loaded, &again);
    }

    /// Arbitrary bytes in a token file: `load` gives a typed store error (or a token when the
    /// bytes happen to be a valid record), never a panic, and leaves the file as it was.
    #[test]
    fn file_store_record_arbitrary_bytes(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            record_like().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        ],
    ) {
        STORE.with(|(store, key)| {
            let path = store.path_for(key);
            std::fs::write(&path, &bytes).unwrap();
            let got = RT.with(|rt| rt.block_on(store.load(key)));
            match got {
                Ok(Some(_)) => {
                    let record: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(record["version"], json!(1), "only a version-1 record loads");
                }
                Ok(None) => panic!("a present file read as absent"),
                Err(Error::Store { message, .. }) => {
                    assert!(message.contains("token file"), "{message}");
                }
                Err(other) => panic!("untyped store error {other:?}"),
            }
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "load never rewrites the file");
        });
    }

    // ---- JWT claims (unverified) -----------------------------------------------------------

    /// Round trip: any JSON object as a JWT payload reads back as that object; `exp` as a
    /// non-negative number becomes the expiry (clamped to year 2100), anything else none.
    #[test]
    fn jwt_claims_round_trip(claims in json_object(&["exp", "iat", "sub", "aud", "scope"])) {
        let token = jwt(&Value::Object(claims.clone()));
        prop_assert_eq!(jwt_claims_unverified(&token), Some(claims.clone()));
        let expected = claims
            .get("exp")
            .and_then(Value::as_f64)
            .filter(|e| e.is_finite() && *e >= 0.0)
            .map(|e| UNIX_EPOCH + Duration::from_secs_f64(e.min(4_102_444_800.0)));
        prop_assert_eq!(jwt_expiry(&token), expected);
    }

    /// Arbitrary text, and three dot-separated parts of arbitrary base64 or text, never panic.
    #[test]
    fn jwt_claims_arbitrary(
        text in any::<String>(),
        parts in prop::collection::vec(
            prop_oneof![
                any::<String>(),
                prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
                json_value(&["exp"]).prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string())),
            ],
            0..5,
        ),
    ) {
        let _ = (jwt_claims_unverified(&text), jwt_expiry(&text));
        let joined = parts.join(".");
        if let Some(m) = jwt_claims_unverified(&joined) {
            prop_assert_eq!(parts.len(), 3);
            let _ = m;
        }
        let _ = jwt_expiry(&joined);
    }

    // ---- WWW-Authenticate and Retry-After ----------------------------------------------------

    /// Arbitrary challenge text terminates without a panic; every parameter name is a
    /// non-empty token.
    #[test]
    fn www_authenticate_arbitrary(value in any::<String>()) {
        for (name, _) in auth_params(&value) {
            prop_assert!(!name.is_empty());
            prop_assert!(!name.contains(['=', ' ', ',', '\t']));
        }
    }

    /// Round trip: challenges written from generated schemes and parameters (quoted values
    /// with escapes, or tokens) parse back to those parameters in order.
    #[test]
    fn www_authenticate_round_trip(
        challenges in prop::collection::vec(
            ("[A-Za-z][A-Za-z0-9]{0,8}",
             prop::collection::vec(("[a-z_]{1,12}", "[ -~]{0,20}", any::<bool>()), 1..4)),
            1..3,
        ),
    ) {
        let mut expected = Vec::new();
        let mut text = Vec::new();
        for (scheme, params) in &challenges {
            let mut parts = Vec::new();
            for (name, value, quote) in params {
                let token_ok = !value.is_empty()
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c));
                if *quote || !token_ok {
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                    parts.push(format!("{name}=\"{escaped}\""));
                } else {
                    parts.push(format!("{name}={value}"));
                }
                expected.push((name.clone(), value.clone()));
            }
            text.push(format!("{scheme} {}", parts.join(", ")));
        }
        prop_assert_eq!(auth_params(&text.join(", ")), expected);
    }

    /// `Retry-After` as delay-seconds (any u64, so huge too) is that many seconds.
    #[test]
    fn retry_after_seconds(secs in any::<u64>(), pad in "[ \t]{0,2}") {
        let v = format!("{pad}{secs}{pad}");
        prop_assert_eq!(retry_after(&headers(&v), sent_at()), Some(Duration::from_secs(secs)));
    }

    /// `Retry-After` as an HTTP date is the time until then, zero for a date already past.
    #[test]
    fn retry_after_http_date(offset in -100_000_000i64..100_000_000) {
        let at = if offset >= 0 {
            sent_at() + Duration::from_secs(offset as u64)
        } else {
            sent_at() - Duration::from_secs(offset.unsigned_abs())
        };
        let v = httpdate::fmt_http_date(at);
        let expected = Duration::from_secs(offset.max(0) as u64);
        prop_assert_eq!(retry_after(&headers(&v), sent_at()), Some(expected));
    }

    /// Garbage (any bytes a header value may hold, numbers too big for u64, negative numbers,
    /// fractions) is no `Retry-After` at all, never a panic.
    #[test]
    fn retry_after_garbage(
        v in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "[0-9]{21,40}".prop_map(String::into_bytes),
            "-[0-9]{1,10}".prop_map(String::into_bytes),
            "[0-9]{1,5}\\.[0-9]{1,3}".prop_map(String::into_bytes),
        ],
    ) {
        let Ok(value) = HeaderValue::from_bytes(&v) else { return Ok(()); };
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, value);
        let got = retry_after(&h, sent_at());
        let text = String::from_utf8_lossy(&v);
        let numeric = text.trim().parse::<u64>().ok().map(Duration::from_secs);
        if numeric.is_some() {
            prop_assert_eq!(got, numeric);
        } else if httpdate::parse_http_date(text.trim()).is_err() {
            prop_assert_eq!(got, None);
        }
    }
}

fn headers(retry_after: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(retry_after).unwrap(),
    );
    h
}

/// Records shaped like the store's file (`version`, `key`, `token`) with wrong parts.
fn record_like() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!(1)), json_value(&[])],
        prop_oneof![
            Just(json!({"provider": "prop", "client_id": "prop-client", "subject": "s"})),
            json_value(&["provider", "client_id", "subject"]),
        ],
        prop_oneof![
            Just(json!({"access_token": "a", "token_type": "Bearer"})),
            json_object(&[
                "access_token",
                "token_type",
                "expires_at",
                "refresh_token",
                "extra"
            ])
            .prop_map(Value::Object),
            any::<u64>().prop_map(|e| json!({
                "access_token": "a", "token_type": "Bearer", "expires_at": e
            })),
        ],
    )
        .prop_map(|(version, key, token)| json!({"version": version, "key": key, "token": token}))
}

fn check_token_response(resp: &HttpResponse) {
    match parse_token_response(resp, sent_at()) {
        Ok(t) => {
            let access = t.access_token.expose_secret();
            assert!(!access.is_empty());
            assert!(access.bytes().all(|b| (0x21..=0x7e).contains(&b)));
            assert!(t.token_type.eq_ignore_ascii_case("bearer"));
            if let Some(at) = t.expires_at {
                assert!(at <= sent_at() + MAX_LIFETIME || jwt_expiry(access) == Some(at));
            }
        }
        Err(
            Error::Decode { .. }
            | Error::OAuth(_)
            | Error::MissingField(_)
            | Error::UnsupportedTokenType(_)
            | Error::InvalidTokenCharacters,
        ) => {}
        Err(other) => panic!("unexpected error variant {other:?}"),
    }
}

fn assert_same_token(a: &Token, b: &Token) {
    assert_eq!(
        a.access_token.expose_secret(),
        b.access_token.expose_secret()
    );
    assert_eq!(a.token_type, b.token_type);
    assert_eq!(
        a.refresh_token
            .as_ref()
            .map(|s| s.expose_secret().to_owned()),
        b.refresh_token
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
    );
    assert_eq!(a.scope, b.scope);
    assert_eq!(a.extra, b.extra);
    let secs = |t: Option<SystemTime>| t.map(|at| at.duration_since(UNIX_EPOCH).unwrap().as_secs());
    assert_eq!(secs(a.expires_at), secs(b.expires_at));
    assert_eq!(secs(a.issued_at), secs(b.issued_at));
}

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    static DIR: (std::path::PathBuf, tempfile::TempDir) = {
        // On tmpfs where there is one: each save fsyncs twice, which on a disk would make
        // the 2,000 saves of the round trip take half a minute.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
        let dir = dir.unwrap();
        (dir.path().join("tokens"), dir)
    };
    static STORE: (FileStore, GrantKey) = {
        // A directory the store creates itself (0700): it refuses one others can enter.
        let store = DIR.with(|(path, _)| FileStore::new(path));
        let key = GrantKey::new("prop", "prop-client", "s");
        let first = parse_token_response(&ok(r#"{"access_token":"a","token_type":"Bearer"}"#), sent_at());
        RT.with(|rt| rt.block_on(store.save(&key, &first.unwrap()))).unwrap();
        (store, key)
    };
}

// ---- regression tests: inputs the properties found ------------------------------------------

/// Found by `file_store_record_arbitrary_bytes`: a stored `expires_at` beyond what `SystemTime`
/// can hold (u64::MAX seconds) panicked with an overflow while loading; it is a store error now.
#[tokio::test]
async fn regression_huge_stored_expiry_is_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("tokens"));
    let key = GrantKey::new("prop", "prop-client", "s");
    let first = r#"{"access_token":"a","token_type":"Bearer"}"#;
    let first = parse_token_response(&ok(first), sent_at()).unwrap();
    store.save(&key, &first).await.unwrap();
    assert!(store.load(&key).await.unwrap().is_some());
    let record = json!({
        "version": 1,
        "key": {"provider": "prop", "client_id": "prop-client", "subject": "s"},
        "token": {"access_token": "a", "token_type": "Bearer", "expires_at": u64::MAX},
    });
    std::fs::write(store.path_for(&key), record.to_string()).unwrap();
    // A decode error, not a panic in the store's blocking task ("the store task failed").
    match store.load(&key).await {
        Err(Error::Store { message, .. }) => assert!(message.contains("corrupt"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// The record's `Token` decoder alone: an expiry out of `SystemTime`'s range is a decode error.
#[test]
fn regression_huge_expiry_in_token_json_is_an_error() {
    let json = json!({"access_token": "a", "token_type": "Bearer", "expires_at": u64::MAX});
    assert!(serde_json::from_value::<Token>(json).is_err());
    let fine = json!({"access_token": "a", "token_type": "Bearer", "expires_at": 4_102_444_800u64});
    assert!(serde_json::from_value::<Token>(fine).is_ok());
}
