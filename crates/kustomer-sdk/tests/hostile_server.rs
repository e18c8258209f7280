//! What a hostile or broken server can make the SDK do (issue 18 part 6): ids from anywhere
//! stay one URL path segment, and page walks stop at their bounds. A responder transport
//! answers every request from a function of the request, so a server can page forever.
// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kustomer_sdk::futures_util::{StreamExt as _, TryStreamExt as _};
use kustomer_sdk::{
    ConversationId, Customer, CustomerFields, CustomerId, Error, Kustomer, KustomerClient,
    ListRequest, PageBound, PageLimitExceeded, PageLimits, PageParams, ResourceRequest,
    SecretString,
};
use oauth_flow::http::{HeaderMap, StatusCode};
use oauth_flow::{HttpRequest, HttpResponse, Transport};
use serde_json::{Value, json};

type Respond = dyn Fn(&HttpRequest) -> Value + Send + Sync;

/// Answers each request with `respond(request)` (status 200) and records the requests.
struct Responder {
    respond: Box<Respond>,
    seen: Mutex<Vec<HttpRequest>>,
}

#[async_trait]
impl Transport for Responder {
    async fn send(&self, request: HttpRequest) -> oauth_flow::Result<HttpResponse> {
        let body = (self.respond)(&request);
        self.seen.lock().unwrap().push(request);
        Ok(HttpResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        })
    }
}

impl Responder {
    fn paths(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter().map(|r| r.url.path().to_owned()).collect()
    }
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn client_with(
    respond: impl Fn(&HttpRequest) -> Value + Send + Sync + 'static,
) -> (KustomerClient, Arc<Responder>) {
    let transport = Arc::new(Responder {
        respond: Box::new(respond),
        seen: Mutex::new(Vec::new()),
    });
    let client = Kustomer::builder()
        .transport(transport.clone())
        .build()
        .unwrap()
        .api_key_client(SecretString::from("kustomer-api-key".to_owned()))
        .unwrap();
    (client, transport)
}

fn customer(id: &str) -> Value {
    json!({"type": "customer", "id": id, "attributes": {"name": "n"}})
}

/// The ids that must each stay one segment, and how each is written in the path.
const AWKWARD_IDS: [(&str, &str); 6] = [
    ("a/b", "a%2Fb"),
    ("a%2Fb", "a%252Fb"),
    ("a?b=c", "a%3Fb%3Dc"),
    ("a#b", "a%23b"),
    ("x/../../admin", "x%2F..%2F..%2Fadmin"),
    ("...", "..."),
];

/// S19 / issue 18 part 6: `.` and `..` (and empty) ids are refused with a typed error, from
/// a caller and from a server response alike.
#[tokio::test]
async fn s19_dot_segment_ids_are_refused_from_callers_and_servers() {
    for bad in [".", "..", ""] {
        assert!(
            matches!(CustomerId::new(bad), Err(Error::InvalidInput { .. })),
            "{bad:?}"
        );
        assert!(matches!(
            ConversationId::new(bad),
            Err(Error::InvalidInput { .. })
        ));
        // Deserialization goes through the same check.
        let err = serde_json::from_value::<Customer>(customer(bad)).unwrap_err();
        assert!(err.to_string().contains("customer id"), "{err}");
    }
    // A list whose server-sent id is `..` fails to decode; no follow-up can be built from it.
    let (client, t) = client_with(|_| json!({"data": [customer("..")], "links": {"next": null}}));
    let err = client.list_customers(PageParams::new()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(t.count(), 1);
}

/// S19 / issue 18 part 6: every id from a caller is percent-encoded into exactly one segment
/// (`/`, `%`, `?`, `#` included), in every call that puts an id into a path.
#[tokio::test]
async fn s19_ids_are_encoded_as_one_path_segment() {
    let (client, _) = client_with(|_| json!({}));
    for (raw, encoded) in AWKWARD_IDS {
        let id = CustomerId::new(raw).unwrap();
        let conv = ConversationId::new(raw).unwrap();
        let fields = CustomerFields::new().name("n");
        let cases = [
            (
                client
                    .request(&ResourceRequest::get_customer(&id), None)
                    .unwrap(),
                format!("/v1/customers/{encoded}"),
            ),
            (
                client
                    .request(
                        &ResourceRequest::update_customer(&id, &fields).unwrap(),
                        None,
                    )
                    .unwrap(),
                format!("/v1/customers/{encoded}"),
            ),
            (
                client
                    .request(
                        &ListRequest::customer_conversations(&id, PageParams::new()),
                        None,
                    )
                    .unwrap(),
                format!("/v1/customers/{encoded}/conversations"),
            ),
            (
                client
                    .request(&ResourceRequest::get_conversation(&conv), None)
                    .unwrap(),
                format!("/v1/conversations/{encoded}"),
            ),
        ];
        for (req, path) in cases {
            assert_eq!(req.url.path(), path, "{raw:?}");
            assert_eq!(req.url.query(), None, "{raw:?}");
            assert_eq!(req.url.fragment(), None, "{raw:?}");
        }
    }
}

/// S19 / issue 18 part 6: an id that arrives in a server response is encoded the same way in
/// the follow-up call (`x/../../admin` cannot turn `customers/{id}/conversations` into
/// another resource).
#[tokio::test]
async fn s19_server_supplied_ids_stay_one_segment_in_follow_up_calls() {
    let ids: Vec<&str> = AWKWARD_IDS.iter().map(|(raw, _)| *raw).collect();
    let listed: Vec<Value> = ids.iter().map(|id| customer(id)).collect();
    let (client, t) = client_with(move |req| {
        if req.url.path() == "/v1/customers" {
            json!({"data": listed, "links": {"next": null}})
        } else {
            json!({"data": [], "links": {"next": null}})
        }
    });
    let page = client.list_customers(PageParams::new()).await.unwrap();
    assert_eq!(page.items().len(), AWKWARD_IDS.len());
    for c in page.items() {
        client
            .customer_conversations(&c.id, PageParams::new())
            .await
            .unwrap();
    }
    let mut expected = vec!["/v1/customers".to_owned()];
    expected.extend(
        AWKWARD_IDS
            .iter()
            .map(|(_, enc)| format!("/v1/customers/{enc}/conversations")),
    );
    assert_eq!(t.paths(), expected);
}

/// A server that never stops paging: every page holds `per_page` customers and links to the
/// next page number.
fn endless(per_page: usize) -> (KustomerClient, Arc<Responder>) {
    client_with(move |req| {
        let page: usize = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .map_or(1, |(_, v)| v.parse().unwrap());
        let data: Vec<Value> = (0..per_page)
            .map(|i| customer(&format!("p{page}-{i}")))
            .collect();
        json!({"data": data, "links": {"next": format!("/v1/customers?page={}&pageSize={per_page}", page + 1)}})
    })
}

/// Issue 18 part 6: against a server that never stops paging, `all` ends with the typed page
/// bound error after exactly the bound's number of requests, by default and when configured.
#[tokio::test]
async fn endless_paging_stops_at_the_page_bound() {
    let (client, t) = endless(2);
    let err = client.all_customers(2).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PageLimitExceeded(PageLimitExceeded {
                bound: PageBound::Pages,
                max: 100,
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(t.count(), PageLimits::DEFAULT_MAX_PAGES);

    let (client, t) = endless(2);
    let client = client.with_page_limits(PageLimits::new().max_pages(5));
    let err = client.all_customers(2).await.unwrap_err();
    assert!(matches!(
        err,
        Error::PageLimitExceeded(PageLimitExceeded {
            bound: PageBound::Pages,
            max: 5,
            ..
        })
    ));
    assert_eq!(t.count(), 5);
    // The pager obeys the same bound, and does not request the page past it.
    let mut pager = client.pages(ListRequest::customers(PageParams::new().page_size(2)));
    for _ in 0..5 {
        assert!(pager.next_page().await.unwrap().is_some());
    }
    assert!(matches!(
        pager.next_page().await,
        Err(Error::PageLimitExceeded(_))
    ));
    assert_eq!(t.count(), 10);
}

/// Issue 18 part 6: the item bound ends the walk as soon as the items held pass it.
#[tokio::test]
async fn endless_paging_stops_at_the_item_bound() {
    let (client, t) = endless(3);
    let client = client.with_page_limits(PageLimits::new().max_items(10));
    let err = client.all_customers(3).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PageLimitExceeded(PageLimitExceeded {
                bound: PageBound::Items,
                max: 10,
                ..
            })
        ),
        "{err:?}"
    );
    // 3 + 3 + 3 = 9 ≤ 10; the fourth page makes 12.
    assert_eq!(t.count(), 4);
    assert!(err.to_string().contains("10 items"), "{err}");
}

/// Issue 18 part 6: the stream yields items lazily: taking N items requests only the pages
/// that hold them, and a long stream is bounded by pages, not items.
#[tokio::test]
async fn items_stream_requests_pages_only_as_needed() {
    let (client, t) = endless(4);
    let first = ListRequest::customers(PageParams::new().page_size(4));
    let stream = client.items(first.clone());
    assert_eq!(
        t.count(),
        0,
        "nothing is requested before the stream is polled"
    );
    let taken: Vec<Result<Customer, Error>> = stream.take(9).collect().await;
    let ids: Vec<String> = taken
        .into_iter()
        .map(|c| c.unwrap().id.to_string())
        .collect();
    assert_eq!(ids.first().map(String::as_str), Some("p1-0"));
    assert_eq!(ids.last().map(String::as_str), Some("p3-0"));
    assert_eq!(t.count(), 3, "9 items of 4 per page need exactly 3 pages");

    // Past the item bound of `all` (which does not apply to a stream), up to the page bound.
    let client = client.with_page_limits(PageLimits::new().max_pages(30).max_items(10));
    let mut stream = std::pin::pin!(client.items(first));
    let mut n = 0;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("an endless server ended"),
            Err(e) => break e,
        }
    };
    assert_eq!(n, 30 * 4);
    assert!(matches!(
        err,
        Error::PageLimitExceeded(PageLimitExceeded {
            bound: PageBound::Pages,
            ..
        })
    ));
    assert_eq!(t.count(), 3 + 30);
    assert!(
        stream.next().await.is_none(),
        "the stream ends after its error"
    );
}
