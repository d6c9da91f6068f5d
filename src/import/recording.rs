//! The kept requests as the analysis sees them: each request value (path segment, query value,
//! header, JSON leaf, form field) is a [`Template`], plain text at first, into which correlation
//! and secret handling put variables. The responses are kept as far as correlation reads them.

use serde_json::Value;
use url::Url;

use super::har::{Entry, Har, NameValue, mime_essence};

/// One part of a value in the scenario: text as recorded, or a variable filled in at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Text(String),
    /// An expression: a captured variable (`access`) or a data column (`credentials.password`).
    Var(String),
}

/// A value written into the scenario: `"Bearer {{ access }}"` is `[Text("Bearer "), Var("access")]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template(pub Vec<Piece>);

impl Template {
    pub fn text(s: impl Into<String>) -> Template {
        let s = s.into();
        if s.is_empty() {
            Template(Vec::new())
        } else {
            Template(vec![Piece::Text(s)])
        }
    }

    pub fn has_var(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Var(_)))
    }

    /// The value as recorded, when no variable was put in yet.
    pub fn as_text(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => s.push_str(t),
                Piece::Var(_) => return None,
            }
        }
        Some(s)
    }

    /// The single variable this value is, if it is nothing else.
    pub fn sole_var(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Piece::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// Replaces every occurrence of `needle` in the text pieces by `var`. With `whole`, only
    /// a text piece equal to `needle` is replaced. Returns whether anything was.
    pub fn replace(&mut self, needle: &str, var: &str, whole: bool) -> bool {
        if needle.is_empty() {
            return false;
        }
        let mut out = Vec::with_capacity(self.0.len());
        let mut changed = false;
        for p in self.0.drain(..) {
            match p {
                Piece::Text(t) if whole => {
                    if t == needle {
                        out.push(Piece::Var(var.to_string()));
                        changed = true;
                    } else {
                        out.push(Piece::Text(t));
                    }
                }
                Piece::Text(t) if t.contains(needle) => {
                    changed = true;
                    let mut rest = t.as_str();
                    while let Some(i) = rest.find(needle) {
                        if i > 0 {
                            out.push(Piece::Text(rest[..i].to_string()));
                        }
                        out.push(Piece::Var(var.to_string()));
                        rest = &rest[i + needle.len()..];
                    }
                    if !rest.is_empty() {
                        out.push(Piece::Text(rest.to_string()));
                    }
                }
                other => out.push(other),
            }
        }
        self.0 = out;
        changed
    }
}

/// A JSON request body whose leaves are templates.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String(Template),
    /// A number: its text, or a variable written without quotes so its type is kept.
    Number(Template),
    Bool(bool),
    Null,
}

impl Json {
    /// How many objects and arrays are nested at the deepest point.
    pub fn depth(&self) -> usize {
        match self {
            Json::Object(members) => 1 + members.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            Json::Array(items) => 1 + items.iter().map(Json::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Reads a JSON text, keeping its members in the order written (serde_json's own map
    /// sorts them).
    pub fn parse(text: &str) -> Option<Json> {
        serde_json::from_str::<Ordered>(text).ok().map(|o| o.0)
    }
}

/// [`Json`] read in document order.
struct Ordered(Json);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        d.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> serde::de::Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered(Json::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered(Json::Number(Template::text(v.to_string()))))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered(Json::Number(Template::text(v.to_string()))))
    }

    /// Rust writes floats without an exponent (`1e-7` → `0.0000001`), as the language needs.
    fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
        Ok(Ordered(Json::Number(Template::text(format!("{v}")))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered(Json::String(Template::text(v))))
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered(Json::Null))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(Ordered(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered(Json::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut members = Vec::new();
        while let Some((key, Ordered(value))) = map.next_entry::<String, Ordered>()? {
            members.push((key, value));
        }
        Ok(Ordered(Json::Object(members)))
    }
}

/// A multipart part: a text field or a file (whose bytes recordings do not keep).
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Field(String, Template),
    File {
        name: String,
        file_name: String,
        content_type: Option<String>,
        size: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    None,
    Json(Json),
    Form(Vec<(String, Template)>),
    Multipart(Vec<Part>),
    Raw {
        text: Template,
        content_type: Option<String>,
    },
}

/// A kept request, its response, and when it happened.
#[derive(Clone, Debug)]
pub struct Call {
    /// Index of the entry in the HAR file.
    pub entry: usize,
    pub method: String,
    /// `scheme://host:port` when the request is not on the main origin.
    pub origin: Option<String>,
    /// The path split at `/`: `/api/v1/` is `["", "api", "v1", ""]`.
    pub path: Vec<Template>,
    pub query: Vec<(String, Template)>,
    /// The headers worth replaying (see [`replayed_header`]), in recorded order.
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    pub status: u16,
    /// The response body, when it is JSON.
    pub response: Option<Value>,
    /// The response body, when it is an HTML page.
    pub page: Option<String>,
    pub response_headers: Vec<(String, String)>,
    /// Cookies the response set.
    pub set_cookies: Vec<(String, String)>,
    /// Cookies the request sent (never written out; they come from the cookie jar).
    pub sent_cookies: Vec<(String, String)>,
    /// Whether this request loaded a page (a navigation), and whether that page was HTML.
    pub document: bool,
    pub html: bool,
    pub pageref: Option<String>,
}

/// Builds the calls for the kept entries, in order.
pub fn calls(har: &Har, kept: &[usize], main_origin: Option<&str>) -> Vec<Call> {
    kept.iter()
        .filter_map(|&i| call(i, &har.log.entries[i], main_origin))
        .collect()
}

fn call(index: usize, e: &Entry, main_origin: Option<&str>) -> Option<Call> {
    let url = Url::parse(&e.request.url).ok()?;
    let origin = url.origin().ascii_serialization();
    let origin = (Some(origin.as_str()) != main_origin).then_some(origin);
    let path = url.path().split('/').map(Template::text).collect();
    let query = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Template::text(v.into_owned())))
        .collect();
    let headers = e
        .request_headers()
        .iter()
        .filter(|h| replayed_header(h))
        .map(|h| (h.name.clone(), Template::text(h.value())))
        .collect();
    let sent_cookies = e
        .request_headers()
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value().split(';').filter_map(cookie_pair))
        .collect();
    let response_headers: Vec<(String, String)> = e
        .response_headers()
        .iter()
        .map(|h| (h.name.clone(), h.value().to_string()))
        .collect();
    let mut set_cookies: Vec<(String, String)> = e
        .response
        .as_ref()
        .and_then(|r| r.cookies.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|c| (c.name.clone(), c.value().to_string()))
        .collect();
    for (name, value) in &response_headers {
        if name.eq_ignore_ascii_case("set-cookie") {
            // Some recorders join several Set-Cookie headers with new lines.
            for line in value.lines() {
                if let Some(pair) = line.split(';').next().and_then(cookie_pair)
                    && !set_cookies.contains(&pair)
                {
                    set_cookies.push(pair);
                }
            }
        }
    }
    let mime = e.response_mime();
    // Servers do not always say JSON when they send it: whatever looks like it is read.
    let response = e
        .response_text()
        .filter(|t| mime.contains("json") || t.trim_start().starts_with(['{', '[']))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(|v| v.is_object() || v.is_array());
    let page = e.response_text().filter(|_| mime.contains("html"));
    let document = e
        .resource_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("document"));
    Some(Call {
        entry: index,
        method: e.request.method.clone(),
        origin,
        path,
        query,
        headers,
        body: body(e),
        status: u16::try_from(e.status()).unwrap_or(0),
        response,
        page,
        response_headers,
        set_cookies,
        sent_cookies,
        document,
        html: mime.contains("html"),
        pageref: e.pageref.clone(),
    })
}

fn cookie_pair(s: &str) -> Option<(String, String)> {
    let (name, value) = s.trim().split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then(|| (name.to_string(), value.trim().to_string()))
}

/// Headers a browser or HTTP client adds by itself, or that would make a replay wrong
/// (conditional requests, lengths); kload's runtime sends its own where it needs them.
const AUTOMATIC_HEADERS: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "content-type",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "referer",
    "origin",
    "cookie",
    "upgrade-insecure-requests",
    "cache-control",
    "pragma",
    "priority",
    "dnt",
    "te",
    "keep-alive",
    "if-none-match",
    "if-modified-since",
    "purpose",
    "x-client-data",
    "transfer-encoding",
    "expect",
    "proxy-connection",
    "upgrade",
];

/// Whether a recorded request header goes into the scenario. `Content-Type` is left out
/// because the body (`json`, `form`, `body ... type`) sets it.
pub fn replayed_header(h: &NameValue) -> bool {
    let name = h.name.to_ascii_lowercase();
    // The language's header names: letters, digits, `-` and `_`.
    let writable = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    writable
        && !(name.starts_with(':')
            || name.starts_with("sec-")
            || AUTOMATIC_HEADERS.contains(&name.as_str())
            || (name == "accept" && is_browser_accept(h.value())))
}

/// `*/*`, or the list a browser sends when it loads a page (`text/html,...,*/*;q=0.8`).
fn is_browser_accept(value: &str) -> bool {
    let v = value.trim();
    v == "*/*" || (v.contains("text/html") && v.contains("*/*"))
}

fn body(e: &Entry) -> Body {
    let Some(post) = &e.request.post_data else {
        return Body::None;
    };
    let declared = post
        .mime_type
        .clone()
        .or_else(|| super::har::header(e.request_headers(), "content-type").map(str::to_string))
        .unwrap_or_default();
    let mime = mime_essence(&declared);
    let text = post.text.clone().unwrap_or_default();
    let params = post.params.as_deref().unwrap_or(&[]);
    // Deeper than the language nests (with the request's own blocks around it), a body is
    // sent as recorded text.
    if mime.contains("json")
        && let Some(j @ (Json::Object(_) | Json::Array(_))) = Json::parse(&text)
        && j.depth() + 8 <= crate::syntax::error::MAX_DEPTH
    {
        return Body::Json(j);
    }
    if mime == "application/x-www-form-urlencoded" {
        let fields: Vec<(String, Template)> = if text.is_empty() {
            params
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        Template::text(p.value.clone().unwrap_or_default()),
                    )
                })
                .collect()
        } else {
            url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), Template::text(v.into_owned())))
                .collect()
        };
        return Body::Form(fields);
    }
    if mime == "multipart/form-data" && !params.is_empty() {
        let parts = params
            .iter()
            .map(|p| match &p.file_name {
                Some(file_name) => Part::File {
                    name: p.name.clone(),
                    file_name: file_name.clone(),
                    content_type: p.content_type.clone(),
                    // Recorders rarely keep a file's bytes: 1 KiB stands in when they did not.
                    size: match p.value.as_deref() {
                        Some(v) if !v.is_empty() => v.len(),
                        _ => 1024,
                    },
                },
                None => Part::Field(
                    p.name.clone(),
                    Template::text(p.value.clone().unwrap_or_default()),
                ),
            })
            .collect();
        return Body::Multipart(parts);
    }
    if text.is_empty() {
        return Body::None;
    }
    Body::Raw {
        text: Template::text(text),
        content_type: (!declared.trim().is_empty()).then(|| declared.trim().to_string()),
    }
}

/// Where a value stands in a request, for deciding what it may be.
#[derive(Clone, Debug, PartialEq)]
pub enum SlotKind {
    /// A path segment; `previous` is the segment before it (`projects` for `/projects/12/`).
    Path {
        previous: String,
    },
    Query {
        key: String,
    },
    Header {
        name: String,
    },
    /// A JSON leaf under `key` (the nearest object key). `number` for a JSON number.
    Json {
        key: Option<String>,
        number: bool,
    },
    Form {
        key: String,
    },
    Multipart {
        key: String,
    },
    /// A raw body.
    Raw,
}

/// A value's place: its kind, and whether it sits in an object or form that holds a password
/// (so its user name is a credential too).
#[derive(Clone, Debug)]
pub struct Slot {
    pub kind: SlotKind,
    pub with_password: bool,
}

impl Slot {
    /// The key the value is under, lowercase, if it has one.
    pub fn key(&self) -> Option<String> {
        match &self.kind {
            SlotKind::Query { key } | SlotKind::Form { key } | SlotKind::Multipart { key } => {
                Some(key.to_ascii_lowercase())
            }
            SlotKind::Header { name } => Some(name.to_ascii_lowercase()),
            SlotKind::Json { key, .. } => key.as_ref().map(|k| k.to_ascii_lowercase()),
            SlotKind::Path { .. } | SlotKind::Raw => None,
        }
    }
}

impl Call {
    /// A recorded `METHOD path` that answered 200 with nothing else, for tests to adjust.
    #[cfg(test)]
    pub fn bare(method: &str, path: &str) -> Call {
        Call {
            entry: 0,
            method: method.to_string(),
            origin: None,
            path: path.split('/').map(Template::text).collect(),
            query: vec![],
            headers: vec![],
            body: Body::None,
            status: 200,
            response: None,
            page: None,
            response_headers: vec![],
            set_cookies: vec![],
            sent_cookies: vec![],
            document: false,
            html: false,
            pageref: None,
        }
    }

    /// Visits every value of the request that may hold a variable.
    pub fn each_slot(&mut self, f: &mut dyn FnMut(&Slot, &mut Template)) {
        let mut previous = String::new();
        for seg in &mut self.path {
            let slot = Slot {
                kind: SlotKind::Path {
                    previous: previous.clone(),
                },
                with_password: false,
            };
            f(&slot, seg);
            previous = seg.as_text().unwrap_or_default();
        }
        for (key, value) in &mut self.query {
            let slot = Slot {
                kind: SlotKind::Query { key: key.clone() },
                with_password: false,
            };
            f(&slot, value);
        }
        for (name, value) in &mut self.headers {
            let slot = Slot {
                kind: SlotKind::Header { name: name.clone() },
                with_password: false,
            };
            f(&slot, value);
        }
        match &mut self.body {
            Body::None => {}
            Body::Json(j) => json_slots(j, None, false, f),
            Body::Form(fields) => {
                let with_password = fields
                    .iter()
                    .any(|(k, _)| super::secrets::is_password_key(k));
                for (key, value) in fields {
                    let slot = Slot {
                        kind: SlotKind::Form { key: key.clone() },
                        with_password,
                    };
                    f(&slot, value);
                }
            }
            Body::Multipart(parts) => {
                for p in parts {
                    if let Part::Field(key, value) = p {
                        let slot = Slot {
                            kind: SlotKind::Multipart { key: key.clone() },
                            with_password: false,
                        };
                        f(&slot, value);
                    }
                }
            }
            Body::Raw { text, .. } => {
                let slot = Slot {
                    kind: SlotKind::Raw,
                    with_password: false,
                };
                f(&slot, text);
            }
        }
    }

    /// Every value of the request as recorded, for telling what the client already knew.
    pub fn atoms(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        self.each_slot(&mut |slot, t| {
            if let Some(text) = t.as_text() {
                if matches!(slot.kind, SlotKind::Header { .. }) {
                    out.extend(text.split_whitespace().map(str::to_string));
                }
                out.push(text);
            }
        });
        out
    }

    /// The path as written in the scenario's URL, and whether any part of it is a variable.
    pub fn path_template(&self) -> Template {
        let mut pieces = Vec::new();
        for (i, seg) in self.path.iter().enumerate() {
            if i > 0 {
                pieces.push(Piece::Text("/".to_string()));
            }
            pieces.extend(seg.0.iter().cloned());
        }
        // Merge neighbouring text pieces.
        let mut merged: Vec<Piece> = Vec::new();
        for p in pieces {
            match (merged.last_mut(), p) {
                (Some(Piece::Text(a)), Piece::Text(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        Template(merged)
    }
}

/// Visits the leaves of a JSON body; `key` is the nearest object key above `j`, and
/// `with_password` whether that object holds a password.
fn json_slots(
    j: &mut Json,
    key: Option<&str>,
    with_password: bool,
    f: &mut dyn FnMut(&Slot, &mut Template),
) {
    let slot = |number: bool| Slot {
        kind: SlotKind::Json {
            key: key.map(str::to_string),
            number,
        },
        with_password,
    };
    match j {
        Json::Object(members) => {
            let with_password = members
                .iter()
                .any(|(k, _)| super::secrets::is_password_key(k));
            for (k, v) in members.iter_mut() {
                json_slots(v, Some(k), with_password, f);
            }
        }
        Json::Array(items) => {
            for item in items {
                json_slots(item, key, with_password, f);
            }
        }
        Json::String(t) => f(&slot(false), t),
        Json::Number(t) => f(&slot(true), t),
        Json::Bool(_) | Json::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_splits_text_pieces() {
        let mut t = Template::text("Bearer abc.def");
        assert!(t.replace("abc.def", "access", false));
        assert_eq!(
            t.0,
            vec![
                Piece::Text("Bearer ".to_string()),
                Piece::Var("access".to_string())
            ]
        );
        let mut t = Template::text("x-1-x-1");
        assert!(t.replace("1", "n", false));
        assert_eq!(t.0.len(), 4);
        let mut t = Template::text("12");
        assert!(!t.replace("1", "n", true));
        assert!(t.replace("12", "n", true));
        assert_eq!(t.sole_var(), Some("n"));
    }

    #[test]
    fn json_bodies_keep_their_order_and_plain_numbers() {
        let j = Json::parse(r#"{"z": 1e-7, "a": [12, -3.5, 2e3], "m": {"y": null, "b": true}}"#);
        let num = |s: &str| Json::Number(Template::text(s));
        assert_eq!(
            j,
            Some(Json::Object(vec![
                ("z".to_string(), num("0.0000001")),
                (
                    "a".to_string(),
                    Json::Array(vec![num("12"), num("-3.5"), num("2000")])
                ),
                (
                    "m".to_string(),
                    Json::Object(vec![
                        ("y".to_string(), Json::Null),
                        ("b".to_string(), Json::Bool(true))
                    ])
                ),
            ]))
        );
        assert_eq!(Json::parse("{"), None);
    }

    #[test]
    fn browser_headers_are_not_replayed() {
        let h = |name: &str, value: &str| NameValue {
            name: name.to_string(),
            value: Some(value.to_string()),
        };
        assert!(!replayed_header(&h("User-Agent", "Mozilla")));
        assert!(!replayed_header(&h("sec-ch-ua", "x")));
        assert!(!replayed_header(&h(":authority", "x")));
        assert!(!replayed_header(&h("Accept", "*/*")));
        assert!(!replayed_header(&h("Cookie", "a=b")));
        assert!(replayed_header(&h("Accept", "application/json")));
        assert!(replayed_header(&h("Authorization", "Bearer x")));
        assert!(replayed_header(&h("X-Requested-With", "XMLHttpRequest")));
    }
}
