//! The authorization callback: state, replay, expiry, provider errors, redirect URI, issuer
//! and garbage input. Every rejection is a typed [`CallbackError`], never a panic.
//!
//! SECURITY: S1 (state one byte off, missing, replayed, expired), S4 (callback on another
//! scheme/host/port/path), S6 (error mapping, state checked first, duplicates, code+error),
//! S7 (issuer mismatch, mix-up).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, SystemTime};

use common::{CODE, REDIRECT_URI, TestServer, client_for, plain_manager, query_param, token_body};
use oauth_flow::{
    BodyEncoding, CallbackError, ClientAuth, Error, ErrorCode, ExposeSecret, OAuthClient,
    PendingAuthorization, ProviderProfile,
};

fn public_client(issuer: Option<&str>) -> OAuthClient {
    let mut b = ProviderProfile::builder("konpro", "https://api.konpro.example/v1/oauth/token")
        .authorize_url("https://app.konpro.example/oauth/authorize")
        .client_auth(ClientAuth::None);
    if let Some(iss) = issuer {
        b = b.issuer(iss);
    }
    client_for(b.build().unwrap())
}

/// A fresh pending authorization and the state it expects.
fn start(client: &OAuthClient) -> (PendingAuthorization, String) {
    let (url, pending) = client.authorize().scope("read").build().unwrap();
    let state = query_param(&url, "state");
    (pending, state)
}

fn callback_err(pending: PendingAuthorization, callback: &str) -> CallbackError {
    match pending.complete(callback) {
        Err(Error::Callback(e)) => e,
        Err(other) => panic!("expected a callback error, got {other:?}"),
        Ok(_) => panic!("callback {callback:?} was accepted"),
    }
}

#[test]
fn s1_happy_path_returns_the_code() {
    let client = public_client(None);
    let (pending, state) = start(&client);
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    assert_eq!(code.code().expose_secret(), CODE);
    // A bare query string is accepted too, with or without `?`.
    let (pending, state) = start(&client);
    assert!(pending.complete(&format!("?state={state}&code=c")).is_ok());
    let (pending, state) = start(&client);
    assert!(pending.complete(&format!("state={state}&code=c")).is_ok());
}

#[test]
fn s1_state_one_byte_off_is_a_mismatch() {
    let client = public_client(None);
    for position in [0, 10, 21] {
        let (pending, state) = start(&client);
        let mut bytes = state.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let off = String::from_utf8(bytes).unwrap();
        let cb = format!("{REDIRECT_URI}?code={CODE}&state={off}");
        assert_eq!(callback_err(pending, &cb), CallbackError::StateMismatch);
    }
    // Prefix, extension and empty value differ in length: still a mismatch, not a panic.
    for bad in [None, Some("x"), Some("")] {
        let (pending, state) = start(&client);
        let value = match bad {
            None => state[..21].to_owned(),
            Some(extra) if !extra.is_empty() => format!("{state}{extra}"),
            Some(_) => String::new(),
        };
        let cb = format!("{REDIRECT_URI}?code={CODE}&state={value}");
        assert_eq!(callback_err(pending, &cb), CallbackError::StateMismatch);
    }
}

#[test]
fn s1_missing_state() {
    let client = public_client(None);
    let (pending, _) = start(&client);
    assert_eq!(
        callback_err(pending, &format!("{REDIRECT_URI}?code={CODE}")),
        CallbackError::MissingState
    );
    // Implicit-flow style fragment: the query is empty.
    let (pending, state) = start(&client);
    assert_eq!(
        callback_err(
            pending,
            &format!("{REDIRECT_URI}#code={CODE}&state={state}")
        ),
        CallbackError::MissingState
    );
}

/// S1 replay: `complete` consumes the pending authorization, so the same value cannot be
/// completed twice (that does not compile). A copy parked in a session store and restored
/// cannot be used for another authorization's state, nor completed again with its own
/// (`AlreadyUsed`).
#[test]
fn s1_replay_restored_pending_cannot_serve_another_state() {
    let client = public_client(None);
    let (pending, state) = start(&client);
    let parked = serde_json::to_string(&pending).unwrap();
    let _code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();

    // Another authorization (e.g. the attacker's own) with a different state.
    let (_other, other_state) = start(&client);
    assert_ne!(state, other_state);
    let restored: PendingAuthorization = serde_json::from_str(&parked).unwrap();
    assert_eq!(
        callback_err(
            restored,
            &format!("{REDIRECT_URI}?code=evil&state={other_state}")
        ),
        CallbackError::StateMismatch
    );
    // The restored copy replayed with its own state: already used (S1: single use).
    let restored: PendingAuthorization = serde_json::from_str(&parked).unwrap();
    assert_eq!(
        callback_err(
            restored,
            &format!("{REDIRECT_URI}?code={CODE}&state={state}")
        ),
        CallbackError::AlreadyUsed
    );
    // Each authorization draws a fresh state (S1: per request).
    let states: std::collections::HashSet<String> = (0..50).map(|_| start(&client).1).collect();
    assert_eq!(states.len(), 50);
}

#[test]
fn s1_expired_past_max_age() {
    let client = public_client(None);
    let (url, pending) = client
        .authorize()
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap();
    let state = query_param(&url, "state");
    let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}");
    let restored: PendingAuthorization =
        serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    let late = SystemTime::now() + Duration::from_secs(62);
    match pending.complete_at(&cb, late) {
        Err(Error::Callback(CallbackError::Expired)) => {}
        other => panic!("{other:?}"),
    }
    // Within the age the same (restored) authorization completes.
    assert!(
        restored
            .complete_at(&cb, SystemTime::now() + Duration::from_secs(30))
            .is_ok()
    );

    // The default age is 15 minutes.
    let (pending, state) = start(&client);
    let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}");
    match pending.complete_at(&cb, SystemTime::now() + Duration::from_secs(15 * 60 + 2)) {
        Err(Error::Callback(CallbackError::Expired)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn s6_access_denied_with_description() {
    let client = public_client(None);
    let (pending, state) = start(&client);
    let cb = format!(
        "{REDIRECT_URI}?error=access_denied&error_description=The+user+said+no&error_uri=https%3A%2F%2Fdocs.example%2Fe&state={state}"
    );
    match callback_err(pending, &cb) {
        CallbackError::Provider(e) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.description.as_deref(), Some("The user said no"));
            assert_eq!(e.uri.as_deref(), Some("https://docs.example/e"));
            assert_eq!(e.status, None);
        }
        other => panic!("{other:?}"),
    }
    // A huge description is capped.
    let (pending, state) = start(&client);
    let cb = format!(
        "?error=access_denied&error_description={}&state={state}",
        "x".repeat(100_000)
    );
    match callback_err(pending, &cb) {
        CallbackError::Provider(e) => {
            assert!(e.description.unwrap().len() <= 512 + '…'.len_utf8());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn s6_error_with_bad_state_is_a_state_mismatch() {
    let client = public_client(None);
    let (pending, _) = start(&client);
    let cb = format!("{REDIRECT_URI}?error=access_denied&state=forged");
    assert_eq!(callback_err(pending, &cb), CallbackError::StateMismatch);
    let (pending, _) = start(&client);
    let cb = format!("{REDIRECT_URI}?error=access_denied");
    assert_eq!(callback_err(pending, &cb), CallbackError::MissingState);
}

#[test]
fn s6_every_rfc6749_4_1_2_1_code_is_typed() {
    let table = [
        ("invalid_request", ErrorCode::InvalidRequest),
        ("unauthorized_client", ErrorCode::UnauthorizedClient),
        ("access_denied", ErrorCode::AccessDenied),
        (
            "unsupported_response_type",
            ErrorCode::UnsupportedResponseType,
        ),
        ("invalid_scope", ErrorCode::InvalidScope),
        ("server_error", ErrorCode::ServerError),
        ("temporarily_unavailable", ErrorCode::TemporarilyUnavailable),
        // Unknown codes are kept as sent.
        (
            "consent_required",
            ErrorCode::Other("consent_required".into()),
        ),
    ];
    let client = public_client(None);
    for (wire, expected) in table {
        let (pending, state) = start(&client);
        let err = pending
            .complete(&format!("{REDIRECT_URI}?error={wire}&state={state}"))
            .unwrap_err();
        assert_eq!(err.oauth_code(), Some(&expected), "{wire}");
        assert_eq!(err.oauth_code().unwrap().as_str(), wire);
        assert!(matches!(err, Error::Callback(CallbackError::Provider(_))));
        assert!(err.to_string().contains(wire));
    }
}

#[test]
fn s6_code_and_error_together_are_refused() {
    let client = public_client(None);
    let (pending, state) = start(&client);
    let cb = format!("{REDIRECT_URI}?code={CODE}&error=access_denied&state={state}");
    assert_eq!(callback_err(pending, &cb), CallbackError::CodeAndError);
}

#[test]
fn s6_missing_or_empty_code() {
    let client = public_client(None);
    let (pending, state) = start(&client);
    assert_eq!(
        callback_err(pending, &format!("{REDIRECT_URI}?state={state}")),
        CallbackError::MissingCode
    );
    let (pending, state) = start(&client);
    assert_eq!(
        callback_err(pending, &format!("{REDIRECT_URI}?code=&state={state}")),
        CallbackError::MissingCode
    );
}

#[test]
fn s6_duplicated_parameters_are_refused() {
    let client = public_client(None);
    for (dup, query) in [
        ("state", "state={s}&state={s}&code=c"),
        ("code", "state={s}&code=a&code=b"),
        ("error", "state={s}&error=access_denied&error=server_error"),
        ("iss", "state={s}&code=c&iss=a&iss=b"),
    ] {
        let (pending, state) = start(&client);
        let cb = format!("{REDIRECT_URI}?{}", query.replace("{s}", &state));
        assert_eq!(
            callback_err(pending, &cb),
            CallbackError::DuplicateParameter(dup.into()),
            "{dup}"
        );
    }
}

#[test]
fn s4_callback_elsewhere_is_a_redirect_mismatch() {
    let client = public_client(None);
    for elsewhere in [
        "http://127.0.0.1:8765/oauth/other",     // path
        "http://127.0.0.1:8765/oauth/callback/", // path (trailing slash)
        "http://127.0.0.2:8765/oauth/callback",  // host
        "http://localhost:8765/oauth/callback",  // host spelled differently
        "http://127.0.0.1:8766/oauth/callback",  // port
        "http://127.0.0.1/oauth/callback",       // default port
        "https://127.0.0.1:8765/oauth/callback", // scheme
        "myapp://127.0.0.1:8765/oauth/callback", // private-use scheme
    ] {
        let (pending, state) = start(&client);
        let cb = format!("{elsewhere}?code={CODE}&state={state}");
        assert_eq!(
            callback_err(pending, &cb),
            CallbackError::RedirectMismatch,
            "{elsewhere}"
        );
    }
}

#[test]
fn s7_issuer_must_match_exactly() {
    let client = public_client(Some("https://auth.a.example"));
    for (iss, ok) in [
        (Some("https://auth.a.example"), true),
        (None, true), // the profile does not require `iss`; it is checked when present
        (Some("https://auth.b.example"), false),
        (Some("https://auth.a.example/"), false),
        (Some("HTTPS://AUTH.A.EXAMPLE"), false),
    ] {
        let (pending, state) = start(&client);
        let mut cb = format!("{REDIRECT_URI}?code={CODE}&state={state}");
        if let Some(iss) = iss {
            cb.push_str(&format!("&iss={}", urlencode(iss)));
        }
        match (pending.complete(&cb), ok) {
            (Ok(_), true) => {}
            (Err(Error::Callback(CallbackError::IssuerMismatch)), false) => {}
            (other, _) => panic!("iss {iss:?}: {other:?}"),
        }
    }
}

/// A client whose profile requires `iss` (RFC 9207 §2.4) against `server`'s token endpoint.
fn issuer_requiring_client(server: &TestServer, required: bool) -> OAuthClient {
    let profile = ProviderProfile::builder("provider-a", server.url("/token"))
        .authorize_url(server.url("/authorize"))
        .issuer("https://a.example")
        .require_issuer(required)
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    client_for(profile)
}

/// S7 (RFC 9207 §2.4): with `require_issuer(true)` a callback without `iss` is
/// `MissingIssuer` and nothing reaches the token endpoint; with `iss` matching it completes
/// and exchanges; a different `iss` is still `IssuerMismatch`. Without the setting a missing
/// `iss` is accepted, as before.
#[tokio::test]
async fn s7_required_issuer_missing_present_or_mismatched() {
    let server =
        TestServer::start(|_| common::Resp::json(200, &token_body("AT", Some("RT"), Some(3600))))
            .await;
    let required = issuer_requiring_client(&server, true);
    let (pending, state) = start(&required);
    let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}");
    assert_eq!(callback_err(pending, &cb), CallbackError::MissingIssuer);
    // An error response without `iss` is refused the same way: it may come from the attacker.
    let (pending, state) = start(&required);
    let cb = format!("{REDIRECT_URI}?error=access_denied&state={state}");
    assert_eq!(callback_err(pending, &cb), CallbackError::MissingIssuer);
    // State is still checked first (S6).
    let (pending, _) = start(&required);
    let cb = format!("{REDIRECT_URI}?code={CODE}&state=wrong");
    assert_eq!(callback_err(pending, &cb), CallbackError::StateMismatch);
    // Required and mismatched, or present but empty.
    for iss in ["https%3A%2F%2Fb.example", ""] {
        let (pending, state) = start(&required);
        let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}&iss={iss}");
        assert_eq!(callback_err(pending, &cb), CallbackError::IssuerMismatch);
    }
    assert_eq!(server.requests().len(), 0, "zero token calls");

    // Required and present: completes, and the code is exchanged once.
    let (pending, state) = start(&required);
    let code = pending
        .complete(&format!(
            "{REDIRECT_URI}?code={CODE}&state={state}&iss=https%3A%2F%2Fa.example"
        ))
        .unwrap();
    let manager = plain_manager(required);
    manager.exchange_code("user", code).await.unwrap();
    assert_eq!(server.hits("/token"), 1);

    // Not required: a missing `iss` is accepted; a wrong one is still refused.
    let optional = issuer_requiring_client(&server, false);
    let (pending, state) = start(&optional);
    assert!(
        pending
            .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
            .is_ok()
    );
    let (pending, state) = start(&optional);
    let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}&iss=https%3A%2F%2Fb.example");
    assert_eq!(callback_err(pending, &cb), CallbackError::IssuerMismatch);
}

/// S7: the requirement travels inside the serialized pending authorization, so a web app
/// that parks it in a session keeps the rule; a value serialized before the setting existed
/// (no `issuer_required` field) still loads, and keeps the old "checked when present" rule.
#[test]
fn s7_required_issuer_is_pinned_in_the_parked_pending_authorization() {
    let profile = ProviderProfile::builder("provider-a", "https://a.example/token")
        .authorize_url("https://a.example/authorize")
        .issuer("https://a.example")
        .require_issuer(true)
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    let client = client_for(profile);
    let (pending, state) = start(&client);
    let parked = serde_json::to_value(&pending).unwrap();
    assert_eq!(parked["issuer_required"], serde_json::json!(true));
    let restored: PendingAuthorization = serde_json::from_value(parked.clone()).unwrap();
    let cb = format!("{REDIRECT_URI}?code={CODE}&state={state}");
    assert_eq!(callback_err(restored, &cb), CallbackError::MissingIssuer);

    let (pending, state) = start(&client);
    let mut old = serde_json::to_value(&pending).unwrap();
    old.as_object_mut().unwrap().remove("issuer_required");
    let restored: PendingAuthorization = serde_json::from_value(old).unwrap();
    assert!(
        restored
            .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
            .is_ok()
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// S4/S7: a refused callback yields no code, so no token request can follow; and a code
/// obtained through provider A cannot be exchanged by provider B's client (mix-up).
#[tokio::test]
async fn s4_s7_refused_callbacks_and_mix_up_make_zero_token_calls() {
    let server =
        TestServer::start(|_| common::Resp::json(200, &token_body("AT", Some("RT"), Some(3600))))
            .await;
    let profile_a = ProviderProfile::builder("provider-a", server.url("/token"))
        .authorize_url(server.url("/authorize"))
        .issuer("https://a.example")
        .encoding(BodyEncoding::Form)
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    let profile_b = ProviderProfile::builder("provider-b", server.url("/b/token"))
        .authorize_url(server.url("/b/authorize"))
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    let a = client_for(profile_a);
    let b = client_for(profile_b);

    let (pending, state) = start(&a);
    let err = pending
        .complete(&format!(
            "http://127.0.0.1:8765/elsewhere?code={CODE}&state={state}"
        ))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Callback(CallbackError::RedirectMismatch)
    ));
    let (pending, state) = start(&a);
    let err = pending
        .complete(&format!(
            "{REDIRECT_URI}?code={CODE}&state={state}&iss=https%3A%2F%2Fb.example"
        ))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Callback(CallbackError::IssuerMismatch)
    ));

    // A's code handed to B's manager is refused before anything is sent.
    let (pending, state) = start(&a);
    let code = pending
        .complete(&format!("{REDIRECT_URI}?code={CODE}&state={state}"))
        .unwrap();
    let manager_b = plain_manager(b);
    let err = manager_b.exchange_code("user", code).await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationMismatch), "{err:?}");
    assert_eq!(server.requests().len(), 0, "zero token calls");
    assert_eq!(server.connections(), 0);
}

/// A deterministic byte generator (xorshift), so the garbage is the same on every run.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_callbacks_are_typed_errors_never_panics() {
    let client = public_client(Some("https://a.example"));
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut inputs: Vec<String> = vec![
        String::new(),
        " ".into(),
        "%%%".into(),
        "%".into(),
        "?".into(),
        "&&&===&&".into(),
        "://".into(),
        "http://".into(),
        "http://[::1".into(),
        "state".into(),
        "state=".into(),
        "=state".into(),
        "\0\0\0".into(),
        "code=%FF%FE&state=%C0%AF".into(),
        "state=%E2%80%AE&code=x".into(),
        "😀=😀&state=😀".into(),
        format!("{REDIRECT_URI}?{}", "a=b&".repeat(10_000)),
        format!("?state={}", "s".repeat(1 << 20)),
        format!("{REDIRECT_URI}?state={}&code=x", "%".repeat(100_000)),
        "x".repeat(1 << 20),
        format!("{}://{}", "a".repeat(70_000), "b".repeat(70_000)),
    ];
    for n in [1, 7, 64, 512, 4096, 65_536] {
        for _ in 0..8 {
            inputs.push(String::from_utf8_lossy(&rng.bytes(n)).into_owned());
        }
    }
    for input in &inputs {
        let (pending, _) = start(&client);
        match pending.complete(input) {
            Err(Error::Callback(
                CallbackError::Malformed
                | CallbackError::MissingState
                | CallbackError::StateMismatch
                | CallbackError::DuplicateParameter(_)
                | CallbackError::RedirectMismatch,
            )) => {}
            other => panic!("input of {} bytes: {other:?}", input.len()),
        }
    }
    // The error text never echoes the input.
    let (pending, _) = start(&client);
    let err = pending
        .complete("state=CANARY-garbage&code=CANARY-garbage")
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}
