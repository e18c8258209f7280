//! SECURITY S27: `AppsClient::generate_secret` accepts a registered app's namespaced name
//! ([`RegisteredApp::name`](kustomer_sdk::RegisteredApp), a `NamespacedAppName`) and no string,
//! so the `data.id` (`<name>-<version>`) cannot be passed by mistake. The cases in
//! `compile_fail/` must fail with exactly their `.stderr`; regenerate them after a compiler
//! upgrade with `TRYBUILD=overwrite cargo test -p kustomer-sdk --test compile_fail`.

#[test]
fn s27_generate_secret_takes_only_a_namespaced_name() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
    t.pass("tests/compile_pass/*.rs");
}
