//! Page walks against a GraphQL server that never stops paging (issue 18 part 6): the bounded
//! helper ends in a typed error after exactly its bound, the stream requests pages lazily.

// Test helpers outside `#[test]` functions may unwrap too (clippy.toml covers only the tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use konvert_sdk::oauth_flow::http::StatusCode;
use konvert_sdk::oauth_flow::{
    self, HttpRequest, HttpResponse, PageBound, PageLimitExceeded, PageLimits, Transport,
};
use konvert_sdk::{Auth, Error, KonvertClient, SecretString};
use serde_json::{Value, json};

/// Answers every `ListContacts` with `per_page` contacts and `hasNextPage: true`, the cursor
/// being the page number; counts the pages served.
struct Endless {
    per_page: usize,
    pages: AtomicUsize,
}

#[async_trait]
impl Transport for Endless {
    async fn send(&self, request: HttpRequest) -> oauth_flow::Result<HttpResponse> {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let page: usize = body["variables"]["after"]
            .as_str()
            .map_or(0, |c| c.parse().unwrap())
            + 1;
        self.pages.fetch_add(1, Ordering::SeqCst);
        let edges: Vec<Value> = (0..self.per_page)
            .map(|i| {
                json!({"cursor": format!("{page}-{i}"), "node": {
                    "id": format!("c{page}-{i}"), "firstName": "A", "lastName": "B",
                    "email": "a@example.com", "lifecycleStage": "LEAD", "company": null}})
            })
            .collect();
        let data = json!({"data": {"contacts": {"totalCount": 1_000_000,
            "pageInfo": {"hasNextPage": true, "endCursor": page.to_string()}, "edges": edges}}});
        let mut resp = HttpResponse::new(StatusCode::OK, data.to_string());
        resp.headers
            .insert("content-type", "application/json".parse().unwrap());
        Ok(resp)
    }
}

fn setup(per_page: usize, limits: Option<PageLimits>) -> (KonvertClient, Arc<Endless>) {
    let transport = Arc::new(Endless {
        per_page,
        pages: AtomicUsize::new(0),
    });
    let auth = Auth::jwt(
        "key",
        SecretString::from("paging-secret-0123456789abcdef".to_owned()),
        Duration::from_secs(600),
    );
    let mut b = KonvertClient::builder(auth).transport(transport.clone());
    if let Some(l) = limits {
        b = b.page_limits(l);
    }
    (b.build().unwrap(), transport)
}

fn bound_of(err: &Error) -> Option<(PageBound, usize)> {
    match err {
        Error::PageLimitExceeded(PageLimitExceeded { bound, max, .. }) => Some((*bound, *max)),
        _ => None,
    }
}

#[tokio::test]
async fn list_all_contacts_stops_at_the_page_bound() {
    let (client, t) = setup(2, None);
    let err = client.list_all_contacts(2, None).await.unwrap_err();
    assert_eq!(bound_of(&err), Some((PageBound::Pages, 100)), "{err:?}");
    assert_eq!(
        t.pages.load(Ordering::SeqCst),
        PageLimits::DEFAULT_MAX_PAGES
    );

    let (client, t) = setup(2, Some(PageLimits::new().max_pages(7)));
    let err = client.list_all_contacts(2, None).await.unwrap_err();
    assert_eq!(bound_of(&err), Some((PageBound::Pages, 7)));
    assert_eq!(t.pages.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn list_all_contacts_stops_at_the_item_bound() {
    let (client, t) = setup(5, Some(PageLimits::new().max_items(12)));
    let err = client.list_all_contacts(5, None).await.unwrap_err();
    assert_eq!(bound_of(&err), Some((PageBound::Items, 12)));
    // 5 + 5 = 10 ≤ 12; the third page makes 15.
    assert_eq!(t.pages.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn contacts_stream_is_lazy_and_page_bounded() {
    use konvert_sdk::futures_util::{StreamExt as _, TryStreamExt as _};
    let (client, t) = setup(4, Some(PageLimits::new().max_pages(6).max_items(1)));
    let stream = client.contacts(4, None);
    assert_eq!(t.pages.load(Ordering::SeqCst), 0);
    let first: Vec<_> = stream.take(5).try_collect().await.unwrap();
    assert_eq!(first.len(), 5);
    assert_eq!(first[4].id, "c2-0");
    assert_eq!(
        t.pages.load(Ordering::SeqCst),
        2,
        "5 items of 4 per page: 2 pages"
    );

    // The item bound does not apply to a stream; the page bound does.
    let all: Vec<Result<_, Error>> = client.contacts(4, None).collect().await;
    assert_eq!(all.len(), 6 * 4 + 1);
    let err = all.last().unwrap().as_ref().unwrap_err();
    assert_eq!(bound_of(err), Some((PageBound::Pages, 6)));
    assert_eq!(t.pages.load(Ordering::SeqCst), 2 + 6);
}
