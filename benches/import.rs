//! How long `kload import har` takes on a large recording: a generated HAR of a long session
//! (a login, then 1,000 pages of a list of 50 items with ids and UUIDs, a detail request and a
//! write that send some of them back, plus an image and a script per page), about 6 MB.
//! Times the import (read, filter, correlate, write, format) and the check of its output.
//!
//! Run with `cargo bench --bench import` (release profile). docs/import.md records the
//! figure measured.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use kload::import::{Names, Options, import_har};

const PAGES: usize = 1_000;
const ITEMS: usize = 50;
const RUNS: usize = 7;

/// Appends an entry; `post` is a JSON request body.
#[allow(clippy::too_many_arguments)]
fn entry(
    har: &mut String,
    ms: u64,
    method: &str,
    url: &str,
    headers: &str,
    post: Option<&str>,
    mime: &str,
    body: &str,
) {
    if !har.ends_with('[') {
        har.push(',');
    }
    let post = post.map_or(String::new(), |p| {
        format!(
            r#", "postData": {{"mimeType": "application/json", "text": {}}}"#,
            serde_json::to_string(p).unwrap()
        )
    });
    let _ = write!(
        har,
        r#"{{"startedDateTime": "2025-06-02T{:02}:{:02}:{:02}.{:03}Z", "time": 20,
  "request": {{"method": "{method}", "url": "{url}", "headers": [
    {{"name": "Accept", "value": "application/json"}},
    {{"name": "User-Agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"}}{headers}]{post}}},
  "response": {{"status": 200, "content": {{"mimeType": "{mime}", "text": {}}}}}}}"#,
        8 + ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000,
        serde_json::to_string(body).unwrap(),
    );
}

/// The recording's text.
fn recording() -> String {
    let api = "https://api.example.com/v1";
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTkwMDAwMDAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    let auth = format!(r#", {{"name": "Authorization", "value": "Bearer {token}"}}"#);
    let mut har = String::from(r#"{"log": {"version": "1.2", "entries": ["#);
    entry(
        &mut har,
        0,
        "POST",
        &format!("{api}/login/"),
        "",
        Some(r#"{"username": "alice", "password": "hunter2hunter2"}"#),
        "application/json",
        &format!(r#"{{"access": "{token}"}}"#),
    );
    let mut ms = 1_000;
    for page in 0..PAGES {
        let base = 10_000 + page * ITEMS;
        let items: Vec<String> = (0..ITEMS)
            .map(|i| {
                format!(
                    r#"{{"id": {}, "uuid": "{:08x}-7425-40de-944b-{:012x}", "name": "Item {i} of page {page}", "price": {}.5, "tags": ["a", "b"]}}"#,
                    base + i,
                    base + i,
                    base + i,
                    i
                )
            })
            .collect();
        entry(
            &mut har,
            ms as u64,
            "GET",
            &format!("{api}/items/?page={page}"),
            &auth,
            None,
            "application/json",
            &format!(r#"{{"count": 50000, "results": [{}]}}"#, items.join(",")),
        );
        entry(
            &mut har,
            ms as u64 + 30,
            "GET",
            &format!("https://www.example.com/img/{page}.png"),
            "",
            None,
            "image/png",
            "",
        );
        entry(
            &mut har,
            ms as u64 + 40,
            "GET",
            &format!("https://cdn.other.net/app.{page}.js"),
            "",
            None,
            "text/javascript",
            "",
        );
        let pick = base + page % ITEMS;
        entry(
            &mut har,
            ms as u64 + 900,
            "GET",
            &format!("{api}/items/{pick}/"),
            &auth,
            None,
            "application/json",
            &format!(r#"{{"id": {pick}, "stock": 3}}"#),
        );
        entry(
            &mut har,
            ms as u64 + 2_000,
            "POST",
            &format!("{api}/orders/"),
            &auth,
            Some(&format!(
                r#"{{"item": {pick}, "variant": "{pick:08x}-7425-40de-944b-{pick:012x}", "quantity": 1}}"#
            )),
            "application/json",
            &format!(r#"{{"id": {}, "status": "new"}}"#, 900_000 + page),
        );
        ms += 4_000;
    }
    har.push_str("]}}");
    har
}

fn main() {
    let har = recording();
    let names = Names {
        source: "large.har",
        stem: "large",
    };
    let options = Options::default();
    let mut import_times = Vec::new();
    let mut check_times = Vec::new();
    let mut imported = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let i = import_har(&har, &names, &options).expect("imports");
        import_times.push(start.elapsed());
        let start = Instant::now();
        i.verify().expect("compiles");
        check_times.push(start.elapsed());
        imported = Some(i);
    }
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        t[t.len() / 2]
    };
    let i = imported.expect("ran");
    println!(
        "import of a {:.1} MB HAR ({} entries) into {} lines: median {:.0} ms; checking \
         the output: median {:.0} ms ({RUNS} runs)",
        har.len() as f64 / 1e6,
        1 + PAGES * 5,
        i.scenario.lines().count(),
        median(&mut import_times).as_secs_f64() * 1000.0,
        median(&mut check_times).as_secs_f64() * 1000.0,
    );
}
