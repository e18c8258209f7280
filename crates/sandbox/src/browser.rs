//! A minimal "browser" for `Sandbox::approve`/`deny`: GET the consent page, read its form,
//! POST it, return the redirect `Location`.

use reqwest::redirect::Policy;
use url::Url;

use crate::error::SandboxError;

/// Excerpt limit for error bodies.
const EXCERPT: usize = 512;

pub(crate) async fn decide(authorize_url: &str, decision: &str) -> Result<String, SandboxError> {
    let page_url = Url::parse(authorize_url)
        .map_err(|_| SandboxError::InvalidUrl(authorize_url.to_owned()))?;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .map_err(SandboxError::Http)?;
    let resp = client
        .get(page_url.clone())
        .send()
        .await
        .map_err(SandboxError::Http)?;
    let status = resp.status();
    if status.is_redirection() {
        return location(&resp).ok_or(SandboxError::NoRedirect {
            status: status.as_u16(),
        });
    }
    let html = resp.text().await.map_err(SandboxError::Http)?;
    let no_page = || SandboxError::NoConsentPage {
        status: status.as_u16(),
        excerpt: html.chars().take(EXCERPT).collect(),
    };
    if !status.is_success() {
        return Err(no_page());
    }
    let (action, mut fields) = parse_form(&html).ok_or_else(no_page)?;
    fields.push(("decision".to_owned(), decision.to_owned()));
    let target = page_url
        .join(&action)
        .map_err(|_| SandboxError::InvalidUrl(action.clone()))?;
    let body =
        serde_urlencoded::to_string(&fields).map_err(|_| SandboxError::InvalidUrl(action))?;
    let resp = client
        .post(target)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(SandboxError::Http)?;
    location(&resp).ok_or(SandboxError::NoRedirect {
        status: resp.status().as_u16(),
    })
}

fn location(resp: &reqwest::Response) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    resp.headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()
        .map(str::to_owned)
}

/// The first `<form>`'s `action` and its hidden inputs `(name, value)`.
pub(crate) fn parse_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let open_end = form.find('>')?;
    let action = attr(&form[..open_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if attr(tag, "type").as_deref() == Some("hidden")
            && let Some(name) = attr(tag, "name")
        {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    Some((action, fields))
}

/// The value of `name="..."` in a tag, HTML-unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let i = tag.find(&needle)? + needle.len();
    let j = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..j]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_form() {
        let html = r#"<p>x</p><form method="post" action="/konpro/_sandbox/consent"><input type="hidden" name="request_id" value="a&amp;b"><button name="decision" value="approve">A</button></form>"#;
        let (action, fields) = parse_form(html).unwrap();
        assert_eq!(action, "/konpro/_sandbox/consent");
        assert_eq!(fields, vec![("request_id".to_owned(), "a&b".to_owned())]);
    }
}
