//! [`ApiRequest`]: any endpoint as a value, for calls the SDKs have no typed method for.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::Endpoint;
use crate::error::{Error, Result};

/// Any API call as a value: method, path (relative to the API base URL), query and JSON body,
/// decoded as `T` (default [`serde_json::Value`]). Every provider SDK sends it with the same
/// authentication, retries and error mapping as its typed calls.
///
/// ```
/// use oauth_flow::ApiRequest;
/// # #[derive(serde::Deserialize)] struct Page;
/// let req = ApiRequest::<Page>::get("v1/documents").query("page", "2");
/// let post = ApiRequest::<serde_json::Value>::post("v1/notes")
///     .json(serde_json::json!({ "text": "hello" }));
/// # let _ = (req, post);
/// ```
#[must_use]
pub struct ApiRequest<T = Value> {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    _output: PhantomData<fn() -> T>,
}

impl<T> ApiRequest<T> {
    /// A request with `method` to `path`, relative to the API base URL (`"v1/some-endpoint"`).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            _output: PhantomData,
        }
    }
    /// A `GET`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// A `POST` (add a body with [`json`](Self::json)).
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    /// A `PUT`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    /// A `DELETE`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// Adds a query parameter (URL-encoded when sent).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }
    /// Sets the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Sets the JSON body from any serializable value; [`Error::Encode`] (nothing is sent)
    /// if it does not serialize.
    pub fn json_from<B: Serialize + ?Sized>(self, body: &B) -> Result<Self> {
        let body = serde_json::to_value(body).map_err(|e| Error::encode("request body", &e))?;
        Ok(self.json(body))
    }
}

impl<T> Clone for ApiRequest<T> {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            body: self.body.clone(),
            _output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ApiRequest<T> {
    // Query values and the body may carry personal data or keys: names and presence only, and
    // the path without anything after a `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.split('?').next().unwrap_or_default();
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &path)
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body", &self.body.is_some())
            .finish()
    }
}

impl<T: DeserializeOwned> Endpoint for ApiRequest<T> {
    type Output = T;
    fn method(&self) -> Method {
        self.method.clone()
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.path)
    }
    fn query(&self) -> Vec<(Cow<'_, str>, String)> {
        self.query
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), v.clone()))
            .collect()
    }
    fn body(&self) -> Result<Option<Value>> {
        Ok(self.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_query_values_or_body() {
        let req = ApiRequest::<Value>::post("v1/x?api_key=s3cret")
            .query("token", "s3cret")
            .json(serde_json::json!({ "password": "s3cret" }));
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("token"), "{dbg}");
        assert_eq!(req.path(), "v1/x?api_key=s3cret");
        assert_eq!(
            req.body().unwrap(),
            Some(serde_json::json!({ "password": "s3cret" }))
        );
    }

    #[test]
    fn json_from_serializes_or_says_encode() {
        let req = ApiRequest::<Value>::post("v1/notes")
            .json_from(&serde_json::json!({ "text": "hi" }))
            .unwrap();
        assert_eq!(
            req.body().unwrap(),
            Some(serde_json::json!({ "text": "hi" }))
        );

        let bad: std::collections::BTreeMap<(u8, u8), &str> = [((1, 2), "CANARY-v")].into();
        let err = ApiRequest::<Value>::post("v1/notes")
            .json_from(&bad)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Encode {
                    what: "request body",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!format!("{err:?}").contains("CANARY"));
    }
}
