//! Query parameters and DRF's `PageNumberPagination`: `?page=` and `?page_size=`, absolute
//! `next`/`previous` links.

use std::net::SocketAddr;

use axum::extract::Query;
use axum::http::{HeaderMap, Uri, header};
use serde::Serialize;

use super::error::ApiError;

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 500;

/// A request's query string, decoded, in order.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes `uri`'s query. A query that does not decode reads as empty, as Django's lenient
    /// `QueryDict` would mostly do.
    pub(crate) fn from_uri(uri: &Uri) -> Params {
        Params(
            Query::<Vec<(String, String)>>::try_from_uri(uri).map_or_else(|_| Vec::new(), |q| q.0),
        )
    }

    /// The last value of `key`, as Django's `QueryDict.get` returns it.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The page a list request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageRequest {
    /// 1-based; `None` when `?page=` was not a positive number (answered with 404 later, once
    /// the request is authenticated).
    page: Option<usize>,
    /// Always usable: a bad `?page_size=` falls back to the default, a big one is capped.
    pub(crate) size: usize,
}

impl PageRequest {
    pub(crate) fn from_params(params: &Params) -> PageRequest {
        let page = match params.get("page") {
            None => Some(1),
            // DRF accepts `last` as the final page; that is resolved against the count.
            Some("last") => Some(usize::MAX),
            Some(text) => text.parse().ok().filter(|&n| n > 0),
        };
        let size = params
            .get("page_size")
            .and_then(|text| text.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
        PageRequest { page, size }
    }
}

/// Where the list lives, to build its `next` and `previous` links from.
pub(crate) struct Links<'a> {
    origin: String,
    path: &'a str,
    params: &'a Params,
}

impl<'a> Links<'a> {
    /// Links on the host the client addressed, like `request.build_absolute_uri()`; on `bound`
    /// when the request names no host.
    pub(crate) fn new(
        headers: &HeaderMap,
        uri: &'a Uri,
        params: &'a Params,
        bound: SocketAddr,
    ) -> Links<'a> {
        let origin = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) => format!("http://{host}"),
            None => format!("http://{bound}"),
        };
        Links {
            origin,
            path: uri.path(),
            params,
        }
    }

    /// The URL of page `page`, keeping every other parameter; page 1 drops `page` like DRF.
    fn to_page(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .params
            .0
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        // DRF's `replace_query_param` re-encodes the query sorted by key.
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let mut url = format!("{}{}", self.origin, self.path);
        for (i, (key, value)) in pairs.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            encode_into(&mut url, key);
            url.push('=');
            encode_into(&mut url, value);
        }
        url
    }
}

/// One page of a list, serialized as `{"count", "next", "previous", "results"}`.
#[derive(Debug, Serialize)]
pub(crate) struct Page<T> {
    pub(crate) count: usize,
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
    pub(crate) results: Vec<T>,
}

impl<T> Page<T> {
    /// The requested page of `rows` (already filtered and ordered), or 404 "Invalid page.".
    pub(crate) fn of(
        rows: impl Iterator<Item = T> + Clone,
        request: PageRequest,
        links: &Links<'_>,
    ) -> Result<Page<T>, ApiError> {
        // Two passes over a lazy filter: count, then the page, without collecting every row.
        let count = rows.clone().count();
        let pages = count.div_ceil(request.size).max(1);
        let page = match request.page {
            Some(usize::MAX) => pages,
            Some(page) if page <= pages => page,
            _ => return Err(ApiError::InvalidPage),
        };
        let results = rows
            .skip((page - 1) * request.size)
            .take(request.size)
            .collect();
        Ok(Page {
            count,
            next: (page < pages).then(|| links.to_page(page + 1)),
            previous: (page > 1).then(|| links.to_page(page - 1)),
            results,
        })
    }
}

/// Python's `quote_plus`: unreserved bytes kept, space as `+`, the rest percent-encoded.
fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(query: &str, count: usize) -> Result<Page<usize>, ApiError> {
        let uri: Uri = format!("/api/v1/tasks/?{query}").parse().unwrap();
        let params = Params::from_uri(&uri);
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8000".parse().unwrap());
        let links = Links::new(&headers, &uri, &params, "127.0.0.1:1".parse().unwrap());
        Page::of(0..count, PageRequest::from_params(&params), &links)
    }

    #[test]
    fn pages_slice_and_link_like_drf() {
        let page = page_of("status=In+Progress&page=2&page_size=10", 35).unwrap();
        assert_eq!(page.count, 35);
        assert_eq!(page.results, (10..20).collect::<Vec<_>>());
        assert_eq!(
            page.next.as_deref(),
            Some("http://127.0.0.1:8000/api/v1/tasks/?page=3&page_size=10&status=In+Progress")
        );
        assert_eq!(
            page.previous.as_deref(),
            Some("http://127.0.0.1:8000/api/v1/tasks/?page_size=10&status=In+Progress")
        );

        let last = page_of("page=last&page_size=10", 35).unwrap();
        assert_eq!(last.results, vec![30, 31, 32, 33, 34]);
        assert_eq!(last.next, None);
    }

    #[test]
    fn page_sizes_fall_back_or_cap_and_bad_pages_are_404() {
        let cases = [
            ("", 20),
            ("page_size=0", 20),
            ("page_size=x", 20),
            ("page_size=7", 7),
            ("page_size=9999", 500),
        ];
        for (query, size) in cases {
            assert_eq!(page_of(query, 1000).unwrap().results.len(), size, "{query}");
        }
        assert_eq!(
            page_of("", 0).unwrap().results.len(),
            0,
            "an empty first page is fine"
        );
        for query in ["page=0", "page=x", "page=3&page_size=20"] {
            assert!(
                matches!(page_of(query, 40), Err(ApiError::InvalidPage)),
                "{query}"
            );
        }
    }
}
