//! The HAR 1.2 model, as far as the import reads it, and reading a file into it.
//!
//! HAR ("HTTP Archive") is the JSON that browsers' network panels, proxies and Playwright's
//! `recordHar` write: `log.entries` holds one request and its response each. Recorders differ
//! in what they fill in, so every field the import can do without is optional here, and
//! recorder-specific fields (Chromium's `_resourceType`) are read when present.

use serde::Deserialize;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Debug, Deserialize)]
pub struct Har {
    pub log: Log,
}

#[derive(Debug, Deserialize)]
pub struct Log {
    #[serde(default)]
    pub creator: Option<Creator>,
    #[serde(default)]
    pub browser: Option<Creator>,
    #[serde(default)]
    pub pages: Option<Vec<Page>>,
    pub entries: Vec<Entry>,
}

/// The program that wrote the file, or the browser it recorded.
#[derive(Debug, Deserialize)]
pub struct Creator {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Page {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(default)]
    pub pageref: Option<String>,
    /// ISO 8601, e.g. `2025-06-02T10:00:00.123Z`.
    #[serde(default)]
    pub started_date_time: Option<String>,
    /// Milliseconds from the request's start to the response's end.
    #[serde(default)]
    pub time: Option<f64>,
    pub request: Request,
    #[serde(default)]
    pub response: Option<Response>,
    /// Chromium's and Playwright's idea of what the request was for: `document`, `fetch`,
    /// `xhr`, `image`, `stylesheet`, `script`, `font`, ...
    #[serde(default, rename = "_resourceType")]
    pub resource_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Option<Vec<NameValue>>,
    #[serde(default)]
    pub post_data: Option<PostData>,
}

#[derive(Debug, Deserialize)]
pub struct NameValue {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub params: Option<Vec<Param>>,
}

/// A form or multipart field of a request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Response {
    /// 0 when the request got no response (blocked, aborted, failed).
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub headers: Option<Vec<NameValue>>,
    #[serde(default)]
    pub cookies: Option<Vec<NameValue>>,
    #[serde(default)]
    pub content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// `base64` when `text` holds encoded bytes.
    #[serde(default)]
    pub encoding: Option<String>,
}

impl NameValue {
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or("")
    }
}

impl Entry {
    /// The response status, or 0 when there was none.
    pub fn status(&self) -> i64 {
        self.response.as_ref().and_then(|r| r.status).unwrap_or(0)
    }

    pub fn request_headers(&self) -> &[NameValue] {
        self.request.headers.as_deref().unwrap_or(&[])
    }

    pub fn response_headers(&self) -> &[NameValue] {
        self.response
            .as_ref()
            .and_then(|r| r.headers.as_deref())
            .unwrap_or(&[])
    }

    /// The response's content type without parameters, lowercase (`application/json`).
    pub fn response_mime(&self) -> String {
        let declared = self
            .response
            .as_ref()
            .and_then(|r| r.content.as_ref())
            .and_then(|c| c.mime_type.clone())
            .or_else(|| header(self.response_headers(), "content-type").map(str::to_string))
            .unwrap_or_default();
        mime_essence(&declared)
    }

    /// The response body as text (base64 decoded), when the recording kept it.
    pub fn response_text(&self) -> Option<String> {
        let content = self.response.as_ref()?.content.as_ref()?;
        let text = content.text.as_ref()?;
        if content.encoding.as_deref() == Some("base64") {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()?;
            String::from_utf8(bytes).ok()
        } else {
            Some(text.clone())
        }
    }
}

/// The first value of header `name` (any case).
pub fn header<'a>(headers: &'a [NameValue], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(NameValue::value)
}

/// `application/json; charset=utf-8` → `application/json`.
pub fn mime_essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Reads a HAR file. A file that is not JSON, or not shaped like a HAR, is a diagnostic
/// pointing at the place serde stopped.
pub fn parse(source: &str) -> Result<Har, Diagnostic> {
    serde_json::from_str(source).map_err(|e| invalid(source, &e))
}

fn invalid(source: &str, e: &serde_json::Error) -> Diagnostic {
    let offset = offset_of(source, e.line(), e.column());
    let width = source[offset..].chars().next().map_or(0, char::len_utf8);
    // serde's message ends with " at line L column C", which the rendering shows already.
    let full = e.to_string();
    let reason = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i])
        .to_string();
    let (message, help) = if e.is_data() {
        (
            "not a HAR file",
            "a HAR file is JSON with a `log` object holding `entries`: save one from the \
             browser's network panel (\"Save all as HAR\") or record it with Playwright's \
             `recordHar`",
        )
    } else {
        (
            "not valid JSON",
            "the file must be the JSON a browser or proxy exported, unchanged",
        )
    };
    Diagnostic::error(
        "kload::invalid_har",
        message,
        Span::new(offset, offset + width),
        reason,
    )
    .with_help(help)
}

/// The byte offset of serde's 1-based line and column (column 0 means "before the line").
fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let line_start = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let mut offset = (line_start + column.saturating_sub(1)).min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_recorders_leave_out() {
        let har = parse(
            r#"{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/"},
                "response": {"status": 200, "content": {"text": null}}}]}}"#,
        )
        .unwrap();
        let e = &har.log.entries[0];
        assert_eq!(e.status(), 200);
        assert_eq!(e.response_text(), None);
        assert!(e.request_headers().is_empty());
        assert!(har.log.pages.is_none());
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let har = parse(
            r#"{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/"},
                "response": {"status": 200, "content": {"mimeType": "application/json; charset=utf-8",
                "text": "eyJpZCI6IDQyfQ==", "encoding": "base64"}}}]}}"#,
        )
        .unwrap();
        let e = &har.log.entries[0];
        assert_eq!(e.response_text().as_deref(), Some(r#"{"id": 42}"#));
        assert_eq!(e.response_mime(), "application/json");
    }

    #[test]
    fn errors_point_at_the_place() {
        let src = "{\"log\": {\n  \"entries\": [\n    {\"request\": 5}\n  ]\n}}\n";
        let d = parse(src).unwrap_err();
        assert_eq!(d.code, "kload::invalid_har");
        assert_eq!(d.message, "not a HAR file");
        let (line, _) = crate::span::line_col(src, d.primary.span.start);
        assert_eq!(line, 3, "{d:?}");
        assert!(d.primary.text.contains("expected struct Request"), "{d:?}");

        let d = parse("{\"log\": {\"entries\": [}").unwrap_err();
        assert_eq!(d.message, "not valid JSON");
        assert_eq!(d.primary.span.start, 21);

        let d = parse("").unwrap_err();
        assert_eq!(d.primary.span, Span::new(0, 0));

        let d = parse("{\"lag\": {}}").unwrap_err();
        assert!(d.primary.text.contains("missing field `log`"), "{d:?}");
    }

    #[test]
    fn offsets_stay_on_character_boundaries() {
        let src = "\"é\" x";
        for column in 0..8 {
            let o = offset_of(src, 1, column);
            assert!(src.is_char_boundary(o));
        }
        assert_eq!(offset_of("a\nbc\n", 2, 2), 3);
        assert_eq!(offset_of("a\n", 9, 9), 2);
    }
}
