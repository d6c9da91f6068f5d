//! Which recorded requests become part of the scenario: the application's own API and pages.
//! Static assets (images, styles, scripts, fonts, media) and requests to other sites
//! (analytics, CDNs, ads) are dropped unless asked for; so are requests the browser makes by
//! itself (CORS preflights) and requests that never got a response.

use std::collections::BTreeMap;

use url::Url;

use super::har::{Entry, header};

/// What the user asked to keep.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Keep static assets (images, stylesheets, scripts, fonts, media).
    pub keep_static: bool,
    /// Hosts kept besides the recording's own site: `cdn.example.com` or `host:port`.
    pub keep_hosts: Vec<String>,
}

/// Why a request was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropKind {
    Static,
    OtherHost(String),
    Preflight,
    NoResponse,
    /// Not an HTTP(S) URL the language can request (`data:`, `ws:`), or a method it has not.
    Unsupported,
}

/// The outcome for the whole recording.
#[derive(Debug)]
pub struct Selection {
    /// Indexes of the kept entries, in recording order.
    pub kept: Vec<usize>,
    pub dropped: Vec<(usize, DropKind)>,
    /// `scheme://host:port` of the site the recording is about; request URLs on it are
    /// written as paths.
    pub main_origin: Option<String>,
}

impl Selection {
    /// How many requests were dropped for each reason, hosts with their counts.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for (_, kind) in &self.dropped {
            match kind {
                DropKind::Static => t.static_assets += 1,
                DropKind::OtherHost(h) => *t.other_hosts.entry(h.clone()).or_default() += 1,
                DropKind::Preflight => t.preflights += 1,
                DropKind::NoResponse => t.no_response += 1,
                DropKind::Unsupported => t.unsupported += 1,
            }
        }
        t
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub static_assets: usize,
    pub other_hosts: BTreeMap<String, usize>,
    pub preflights: usize,
    pub no_response: usize,
    pub unsupported: usize,
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// Resource types (Chromium, Playwright) of static assets.
const STATIC_TYPES: &[&str] = &[
    "image",
    "stylesheet",
    "script",
    "font",
    "media",
    "manifest",
    "texttrack",
];

/// URL extensions of static assets, used when the response does not say what it is.
const STATIC_EXTENSIONS: &[&str] = &[
    "js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp",
    "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav", "m4a", "wasm",
];

/// Sorts every entry into kept or dropped.
pub fn select(entries: &[Entry], options: &Options) -> Selection {
    let urls: Vec<Option<Url>> = entries
        .iter()
        .map(|e| {
            Url::parse(&e.request.url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        })
        .collect();
    let statics: Vec<bool> = entries.iter().map(is_static).collect();
    let main_origin = main_origin(entries, &urls, &statics);
    let main_host = main_origin
        .as_deref()
        .and_then(|o| Url::parse(o).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    let keep_hosts: Vec<String> = options
        .keep_hosts
        .iter()
        .map(|h| normalize_host(h))
        .collect();

    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(url) = &urls[i] else {
            dropped.push((i, DropKind::Unsupported));
            continue;
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host_port = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let kind = if !METHODS.contains(&e.request.method.as_str()) {
            Some(DropKind::Unsupported)
        } else if e.request.method == "OPTIONS"
            && header(e.request_headers(), "access-control-request-method").is_some()
        {
            Some(DropKind::Preflight)
        } else if e.status() <= 0 {
            Some(DropKind::NoResponse)
        } else if !(main_host.as_deref().is_none_or(|m| same_site(m, &host))
            || keep_hosts.contains(&host)
            || keep_hosts.contains(&host_port))
        {
            Some(DropKind::OtherHost(host_port))
        } else if statics[i] && !options.keep_static {
            Some(DropKind::Static)
        } else {
            None
        };
        match kind {
            Some(k) => dropped.push((i, k)),
            None => kept.push(i),
        }
    }
    Selection {
        kept,
        dropped,
        main_origin,
    }
}

/// `https://cdn.example.com/x` or `CDN.example.com` → `cdn.example.com`; a port stays.
fn normalize_host(h: &str) -> String {
    let h = h.trim();
    let h = h.split_once("://").map_or(h, |(_, rest)| rest);
    let h = h.split(['/', '?', '#']).next().unwrap_or(h);
    h.to_ascii_lowercase()
}

/// An image, stylesheet, script, font or media file.
pub fn is_static(e: &Entry) -> bool {
    if let Some(t) = &e.resource_type
        && STATIC_TYPES.contains(&t.to_ascii_lowercase().as_str())
    {
        return true;
    }
    let mime = e.response_mime();
    if mime.starts_with("image/")
        || mime.starts_with("font/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || matches!(
            mime.as_str(),
            "text/css"
                | "text/javascript"
                | "application/javascript"
                | "application/x-javascript"
                | "application/ecmascript"
                | "application/wasm"
                | "application/vnd.ms-fontobject"
                | "application/font-woff"
                | "application/font-woff2"
                | "application/x-font-ttf"
                | "application/x-font-woff"
        )
    {
        return true;
    }
    if mime.contains("json") || mime.contains("html") || mime.contains("xml") {
        return false;
    }
    let path = e.request.url.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    last.rsplit_once('.')
        .is_some_and(|(_, ext)| STATIC_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// The origin with the most requests that are not static assets; the first one on a tie.
fn main_origin(entries: &[Entry], urls: &[Option<Url>], statics: &[bool]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let Some(url) = url else { continue };
        if statics[i] || entries[i].status() <= 0 {
            continue;
        }
        let origin = url.origin().ascii_serialization();
        match counts.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, n)) => *n += 1,
            None => counts.push((origin, 1)),
        }
    }
    // `max_by_key` keeps the last maximum; the first one is wanted.
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(o, _)| o)
}

/// Whether two hosts belong to the same site: equal, or the same last two labels of a domain
/// name (`app.example.com` and `api.example.com`). IP addresses and one-label names
/// (`localhost`) must be equal. Ports do not matter, as for browsers' "same site".
pub fn same_site(a: &str, b: &str) -> bool {
    let a = a.to_ascii_lowercase();
    let b = b.to_ascii_lowercase();
    if a == b {
        return true;
    }
    let is_ip = |h: &str| h.parse::<std::net::IpAddr>().is_ok() || h.starts_with('[');
    if is_ip(&a) || is_ip(&b) {
        return false;
    }
    let site = |h: &str| {
        let labels: Vec<&str> = h.rsplit('.').take(2).collect();
        (labels.len() == 2).then(|| format!("{}.{}", labels[1], labels[0]))
    };
    matches!((site(&a), site(&b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::har::parse;

    fn entries(json: &str) -> Vec<Entry> {
        parse(&format!(r#"{{"log": {{"entries": [{json}]}}}}"#))
            .unwrap()
            .log
            .entries
    }

    fn entry(method: &str, url: &str, status: i64, mime: &str, extra: &str) -> String {
        format!(
            r#"{{"request": {{"method": "{method}", "url": "{url}"{extra}}},
                "response": {{"status": {status}, "content": {{"mimeType": "{mime}"}}}}}}"#
        )
    }

    #[test]
    fn keeps_the_api_and_drops_the_rest() {
        let list = [
            entry("GET", "https://app.example.com/", 200, "text/html", ""),
            entry("GET", "https://app.example.com/static/app.js", 200, "", ""),
            entry("GET", "https://app.example.com/logo", 200, "image/png", ""),
            entry(
                "GET",
                "https://api.example.com/v1/items/",
                200,
                "application/json",
                "",
            ),
            entry(
                "POST",
                "https://api.example.com/v1/items/",
                201,
                "application/json",
                "",
            ),
            entry(
                "OPTIONS",
                "https://api.example.com/v1/items/",
                204,
                "",
                r#", "headers": [{"name": "Access-Control-Request-Method", "value": "POST"}]"#,
            ),
            entry(
                "GET",
                "https://www.google-analytics.com/collect",
                204,
                "",
                "",
            ),
            entry("GET", "https://api.example.com/v1/gone/", 0, "", ""),
            entry("GET", "data:image/png;base64,AAAA", 200, "image/png", ""),
            entry("PROPFIND", "https://api.example.com/dav/", 207, "", ""),
            entry(
                "GET",
                "https://fonts.gstatic.com/x.woff2",
                200,
                "font/woff2",
                "",
            ),
        ];
        let e = entries(&list.join(","));
        let s = select(&e, &Options::default());
        assert_eq!(s.main_origin.as_deref(), Some("https://api.example.com"));
        assert_eq!(s.kept, vec![0, 3, 4]);
        let t = s.tally();
        assert_eq!(t.static_assets, 2);
        assert_eq!(t.preflights, 1);
        assert_eq!(t.no_response, 1);
        assert_eq!(t.unsupported, 2);
        assert_eq!(
            t.other_hosts.into_iter().collect::<Vec<_>>(),
            vec![
                ("fonts.gstatic.com".to_string(), 1),
                ("www.google-analytics.com".to_string(), 1)
            ]
        );

        let s = select(
            &e,
            &Options {
                keep_static: true,
                keep_hosts: vec!["https://www.Google-Analytics.com/".to_string()],
            },
        );
        assert_eq!(s.kept, vec![0, 1, 2, 3, 4, 6]);
    }

    #[test]
    fn sites() {
        assert!(same_site("app.example.com", "api.example.com"));
        assert!(same_site("example.com", "www.example.com"));
        assert!(!same_site("example.com", "example.org"));
        assert!(same_site("127.0.0.1", "127.0.0.1"));
        assert!(!same_site("127.0.0.1", "127.0.0.2"));
        assert!(!same_site("localhost", "other"));
    }

    #[test]
    fn static_by_type_mime_or_extension() {
        let e = entries(
            &[
                entry("GET", "http://a/x.css", 200, "", ""),
                entry("GET", "http://a/data.json", 200, "application/json", ""),
                entry("GET", "http://a/v1/config.js", 200, "application/json", ""),
                entry("GET", "http://a/page", 200, "text/html", ""),
            ]
            .join(","),
        );
        let flags: Vec<bool> = e.iter().map(is_static).collect();
        assert_eq!(flags, vec![true, false, false, false]);
    }
}
