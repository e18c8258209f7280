//! SECURITY S27: secret types (`AccessToken`, `PkceVerifier`, `SecretString`, `Token`,
//! `AuthorizedCode`) and `PendingAuthorization` can be neither compared with `==` (a
//! short-circuiting comparison leaks timing; the crate compares in constant time) nor printed
//! with `{}`. Each case in `compile_fail/` must fail to build with exactly the error in its
//! `.stderr` file; after a compiler upgrade changes the wording, regenerate them with
//! `TRYBUILD=overwrite cargo test -p oauth-flow --test compile_fail` and review the diff.

#[test]
fn s27_secret_types_have_no_eq_and_no_display() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
