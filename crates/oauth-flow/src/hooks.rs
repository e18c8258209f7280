//! The API client's two speed hooks, kept in one place so the public traits stay plain.
//!
//! Why: the general path costs a boxed future per request for the transport and another for the
//! credential (`async_trait`), a measurable share of a warm call (`benches/token_lifecycle.rs`).
//! Both hooks recognise the core's own types behind the trait objects ([`Transport`] and
//! [`CredentialSource`] have `Any` as a supertrait for this alone) and call them directly. Any
//! other implementation takes the general path, which is always correct.

use std::any::Any;

use crate::credentials::{ApiKey, Authorization, CredentialSource};
use crate::manager::GrantHandle;
use crate::transport::{ReqwestTransport, Transport};

/// The stock transport behind `transport`, if it is one: the API client then sends without a
/// boxed future.
pub(crate) fn stock_transport(transport: &dyn Transport) -> Option<ReqwestTransport> {
    (transport as &dyn Any)
        .downcast_ref::<ReqwestTransport>()
        .cloned()
}

/// The credential if it is at hand without waiting (a warm grant, a static key, a current
/// JWT). `None` means "ask [`CredentialSource::authorization`]".
pub(crate) fn cached_authorization(source: &dyn CredentialSource) -> Option<Authorization> {
    let any = source as &dyn Any;
    if let Some(grant) = any.downcast_ref::<GrantHandle>() {
        return grant.cached_bearer();
    }
    if let Some(key) = any.downcast_ref::<ApiKey>() {
        return Some(key.cached_authorization());
    }
    #[cfg(feature = "jwt")]
    if let Some(signer) = any.downcast_ref::<crate::jwt::JwtSigner>() {
        return signer.cached_authorization();
    }
    None
}
