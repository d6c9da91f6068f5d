//! The import end to end, from a HAR text to the scenario and data file, against golden files:
//! `shop.har`, written by hand with known correlations and secrets, and `chromium-demo.har`,
//! recorded by headless Chromium driving the demo target (tests/browser/record-har.mjs).
//! `KLOAD_BLESS=1 cargo test --lib import` rewrites the expected files.

use std::path::PathBuf;

use super::*;
use crate::golden;

const DIR: &str = "tests/golden/import";

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(DIR)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn import(har: &str, stem: &str, options: &Options) -> Imported {
    let names = Names {
        source: &format!("{stem}.har"),
        stem,
    };
    match import_har(har, &names, options).and_then(|i| i.verify().map(|()| i)) {
        Ok(i) => i,
        Err(ImportError::Bug { message, scenario }) => panic!("{message}\n{scenario}"),
        Err(e) => panic!("{e:?}"),
    }
}

/// Imports `NAME.har` and compares the scenario (`NAME.kload`) and its data file
/// (`data/NAME.credentials.csv`) with the golden files, which then pass `kload check` where
/// they are.
fn golden_import(stem: &str) -> Imported {
    let imported = import(&fixture(&format!("{stem}.har")), stem, &Options::default());
    golden::check(
        "import",
        &format!("{stem}.kload"),
        imported.scenario.as_bytes(),
    );
    let (path, contents) = imported.data_file.as_ref().expect("a data file");
    assert_eq!(path, &format!("data/{stem}.credentials.csv"));
    golden::check("import", path, contents.as_bytes());
    imported
}

/// The scenario without its comments (which name what was dropped).
fn code(scenario: &str) -> String {
    scenario
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every byte the import writes.
fn written(i: &Imported) -> String {
    format!(
        "{}{}",
        i.scenario,
        i.data_file.as_ref().map_or("", |(_, d)| d.as_str())
    )
}

#[test]
fn shop_recording() {
    let i = golden_import("shop");
    let out = written(&i);
    // What the recording holds and the output must not.
    for secret in [
        "s3cret-Pa55",
        "alice@example.com",
        "cs_live_51HxYz9Q",
        "ak_test_7Hq2Lw9Zp",
        "q8Vx2LmN7pRt4KsW",
        "hT9wQx2Lr5Kd8Vn3Zp6Ys1Bc4Mf7Gj0A",
        "9f8e7d6c5b4a39281706",
        "eyJ",
    ] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    // The known correlations, each captured once and used.
    for line in [
        "capture csrfmiddlewaretoken = regex \"name=\\\"csrfmiddlewaretoken\\\" value=\\\"([^\\\"]*)\\\"\"",
        "csrfmiddlewaretoken: \"{{ csrfmiddlewaretoken }}\"",
        "capture csrftoken = cookie csrftoken",
        "header X-CSRFToken: \"{{ csrftoken }}\"",
        "capture access_token = jsonpath \"$.access_token\"",
        "header Authorization: \"Bearer {{ access_token }}\"",
        "capture product_id = jsonpath \"$.results[*].id\" random",
        "GET \"https://shop.example.com/products/{{ product_id }}/\"",
        "\"product\": {{ product_id }},",
        "capture variant_uuid = jsonpath \"$.variants[*].uuid\" random",
        "capture etag = header ETag",
        "header If-Match: \"{{ etag }}\"",
        "PATCH \"/v2/cart/items/{{ item_id }}/\"",
        "body \"<order cart=\\\"{{ cart }}\\\"",
    ] {
        assert_eq!(out.matches(line).count(), 1, "{line}:\n{out}");
    }
    // Dropped: the script, the font and analytics hosts, the preflight, the aborted request.
    for absent in [
        "app.3f9a.js",
        "googleapis",
        "google-analytics",
        "OPTIONS",
        "1077",
        "data:",
    ] {
        assert!(!code(&out).contains(absent), "{absent}:\n{out}");
    }
}

#[test]
fn chromium_recording_of_the_demo() {
    let i = golden_import("chromium-demo");
    let out = written(&i);
    let har = fixture("chromium-demo.har");
    // The recording's password and tokens (the demo's JWTs) stay out of the files.
    assert!(har.contains("loadpass123") && har.contains("eyJ"));
    for secret in ["loadpass123", "loaduser001", "eyJ"] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    for line in [
        "capture access = jsonpath \"$.access\"",
        "header Authorization: \"Bearer {{ access }}\"",
        "capture project_id = jsonpath \"$.results[*].id\" random",
        "GET \"/api/v1/projects/{{ project_id }}/\"",
        "query project: \"{{ project_id }}\"",
        "\"project\": {{ project_id }},",
        "capture task_id = jsonpath \"$.id\"",
        "PATCH \"/api/v1/tasks/{{ task_id }}/\"",
        "name \"/api/v1/tasks/[id]/\"",
    ] {
        assert!(out.contains(line), "{line}:\n{out}");
    }
    for absent in [
        "/static/",
        "analytics.example.com",
        "User-Agent",
        "sec-ch-ua",
    ] {
        assert!(!code(&out).contains(absent), "{absent}:\n{out}");
    }
    assert!(out.contains("sleep 1.5s"), "think times are kept:\n{out}");
}

/// The output is what `kload fmt` would write: formatting it again changes nothing.
#[test]
fn output_is_formatted() {
    for stem in ["shop", "chromium-demo"] {
        let i = import(&fixture(&format!("{stem}.har")), stem, &Options::default());
        let file = crate::syntax::parse(&i.scenario).unwrap();
        assert_eq!(
            crate::syntax::format::format(&file, &i.scenario),
            i.scenario
        );
    }
}

#[test]
fn flags_keep_static_assets_and_hosts() {
    let har = fixture("shop.har");
    let i = import(
        &har,
        "shop",
        &Options {
            keep_static: true,
            keep_hosts: vec!["www.google-analytics.com".to_string()],
        },
    );
    assert!(
        i.scenario
            .contains("GET \"https://shop.example.com/static/app.3f9a.js\"")
    );
    assert!(
        i.scenario
            .contains("GET \"https://www.google-analytics.com/g/collect\"")
    );
    assert!(i.scenario.contains("query tid: \"G-XXXX\""));
    assert!(!code(&i.scenario).contains("googleapis"), "not asked for");
}

#[test]
fn what_cannot_be_imported_is_said() {
    let options = Options::default();
    let names = Names {
        source: "x.har",
        stem: "x",
    };
    let err = import_har("{\"log\": {\"entries\": [}", &names, &options).unwrap_err();
    let ImportError::Har(d) = err else {
        panic!("{err:?}")
    };
    assert_eq!(d.code, "kload::invalid_har");

    let err = import_har("{\"log\": {\"entries\": []}}", &names, &options).unwrap_err();
    assert!(
        matches!(&err, ImportError::Nothing { message, .. } if message == "the recording has no requests"),
        "{err:?}"
    );

    let only_assets = r#"{"log": {"entries": [
        {"request": {"method": "GET", "url": "https://a.example/logo.png"},
         "response": {"status": 200, "content": {"mimeType": "image/png"}}},
        {"request": {"method": "GET", "url": "https://a.example/x"}, "response": {"status": 0}}
    ]}}"#;
    let err = import_har(only_assets, &names, &options).unwrap_err();
    let ImportError::Nothing { message, help } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        message,
        "nothing to import: 2 requests dropped (1 static asset (kept with --keep-static), \
         1 request without a response)"
    );
    assert!(help.contains("--keep-static"));
}

/// Values that are hard to write in the language (quotes, braces that look like `{{ }}`,
/// control characters, odd names) come out as valid text with the same meaning.
#[test]
fn hostile_values_are_written_safely() {
    let har = r#"{"log": {"entries": [
      {"startedDateTime": "2025-06-02T10:00:00.000Z", "time": 10,
       "request": {"method": "POST", "url": "http://127.0.0.1:9/a%7B%7Bb%7D%7D/?q=%7B%7B+x+%7D%7D&we+ird=%22",
         "headers": [{"name": "X-Note", "value": "{{ not a var }} \"quoted\" \\ back"},
                     {"name": "X Bad Name", "value": "dropped"}],
         "postData": {"mimeType": "application/json",
           "text": "{\"a\\\"b{{c}}\": \"line\\nnext\\u0001 {{x}} {\", \"n\": 1.5e-3, \"e\": {}, \"l\": [], \"deep\": [[{\"k\": null}]]}"}},
       "response": {"status": 200, "content": {"mimeType": "application/json", "text": "{}"}}},
      {"startedDateTime": "2025-06-02T10:00:01.000Z", "time": 10,
       "request": {"method": "PUT", "url": "http://127.0.0.1:9/form",
         "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "a+b=%7B%7B&c=%22%5C"}},
       "response": {"status": 204}},
      {"startedDateTime": "2025-06-02T10:00:02.000Z", "time": 10,
       "request": {"method": "POST", "url": "http://127.0.0.1:9/raw",
         "postData": {"mimeType": "text/plain", "text": "{{{ \"x\" }}}\t\u00e9\u2615"}},
       "response": {"status": 200}}
    ]}}"#;
    let i = import(har, "hostile", &Options::default());
    assert!(i.data_file.is_none());
    // Each value is written as `quoted_text` writes it, which reads back as the same text
    // (emit's round-trip test); the formatter keeps strings as written.
    for expected in [
        "/a%7B%7Bb%7D%7D/",
        "{{ x }}",
        "\"",
        "{{ not a var }} \"quoted\" \\ back",
        "line\nnext\u{1} {{x}} {",
        "a\"b{{c}}",
        "{{",
        "\"\\",
        "{{{ \"x\" }}}\té☕",
    ] {
        let written = emit::quoted_text(expected);
        assert!(
            i.scenario.contains(&written),
            "{written} not in:\n{}",
            i.scenario
        );
    }
    assert!(
        i.scenario.contains("query \"we ird\": \"\\\"\""),
        "{}",
        i.scenario
    );
    assert!(i.scenario.contains("\"n\": 0.0015"), "{}", i.scenario);
    assert!(!i.scenario.contains("X Bad Name"));
}

/// The diagnostic for a file that is not a HAR file, as `kload import har` prints it (80
/// columns, no colour); docs/diagnostics.md shows the same text.
#[test]
fn invalid_har_diagnostic() {
    let source = fixture("invalid.har");
    let names = Names {
        source: "invalid.har",
        stem: "invalid",
    };
    let Err(ImportError::Har(d)) = import_har(&source, &names, &Options::default()) else {
        panic!("not a diagnostic")
    };
    let rendered = diagnostic::render(&d, "invalid.har", &source, false, 80);
    golden::check("import", "invalid.txt", rendered.as_bytes());
    let docs = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md"),
    )
    .unwrap();
    assert!(
        docs.contains(rendered.trim_end()),
        "docs/diagnostics.md should show:\n{rendered}"
    );
}

/// docs/import.md shows the import of the Chromium recording as it is.
#[test]
fn the_documented_example_is_the_golden_output() {
    let docs =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/import.md"))
            .unwrap();
    let golden = fixture("chromium-demo.kload");
    assert!(
        docs.contains(&format!("```kload\n{golden}```")),
        "docs/import.md should show tests/golden/import/chromium-demo.kload"
    );
}

/// Without a password, the request whose token later requests send is the login; a token
/// from before the recording becomes a data column, its scheme kept.
#[test]
fn logins_without_passwords() {
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWNoaW5lIn0.c2lnbmF0dXJlLTEyMzQ1";
    let old = "Bearer old-token-from-before-0001";
    let har = format!(
        r#"{{"log": {{"entries": [
      {{"request": {{"method": "GET", "url": "https://api.example.com/status",
         "headers": [{{"name": "Authorization", "value": "{old}"}}]}},
       "response": {{"status": 200}}}},
      {{"request": {{"method": "POST", "url": "https://api.example.com/oauth/token",
         "postData": {{"mimeType": "application/x-www-form-urlencoded",
                      "text": "grant_type=client_credentials&client_id=svc&client_secret=very-secret-42"}}}},
       "response": {{"status": 200, "content": {{"mimeType": "application/json",
                     "text": "{{\"access_token\": \"{token}\"}}"}}}}}},
      {{"request": {{"method": "GET", "url": "https://api.example.com/items",
         "headers": [{{"name": "Authorization", "value": "Bearer {token}"}}]}},
       "response": {{"status": 200}}}}
    ]}}}}"#
    );
    let i = import(&har, "machine", &Options::default());
    let on_start = i
        .scenario
        .split("sequence journey")
        .next()
        .unwrap()
        .to_string();
    assert!(on_start.contains("POST \"/oauth/token\""), "{}", i.scenario);
    assert!(
        on_start.contains("header Authorization: \"Bearer {{ credentials.authorization }}\""),
        "{}",
        i.scenario
    );
    assert!(
        i.scenario
            .contains("client_secret: \"{{ credentials.client_secret }}\""),
        "{}",
        i.scenario
    );
    assert!(
        i.scenario
            .contains("header Authorization: \"Bearer {{ access_token }}\"")
    );
    let (_, csv) = i.data_file.as_ref().unwrap();
    assert_eq!(csv, "authorization,client_secret\nCHANGE_ME,CHANGE_ME\n");
    let out = written(&i);
    for secret in ["old-token-from-before-0001", "very-secret-42", "eyJ"] {
        assert!(!out.contains(secret), "{secret}:\n{out}");
    }
}

/// Recordings that the language cannot say as recorded still import into valid scenarios:
/// a JSON body nested deeper than the language allows is sent as text, an impossible status
/// is not checked.
#[test]
fn odd_recordings_still_compile() {
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let har = format!(
        r#"{{"log": {{"entries": [
      {{"request": {{"method": "POST", "url": "http://127.0.0.1:9/deep",
         "postData": {{"mimeType": "application/json", "text": "{deep}"}}}},
       "response": {{"status": 999}}}}
    ]}}}}"#
    );
    let i = import(&har, "odd", &Options::default());
    assert!(
        i.scenario
            .contains(&format!("body \"{deep}\" type \"application/json\""))
    );
    assert!(!i.scenario.contains("check status"), "{}", i.scenario);
}

/// No prefix of a recording makes the import panic, and every entry of the fixtures imported
/// alone (or with the entries before it) gives a scenario that compiles, or says why not.
#[test]
fn parts_of_recordings_import_or_say_why_not() {
    let names = Names {
        source: "part.har",
        stem: "part",
    };
    let options = Options::default();
    for stem in ["shop", "chromium-demo"] {
        let source = fixture(&format!("{stem}.har"));
        for cut in (0..source.len()).step_by(source.len() / 97 + 1) {
            let cut = (0..=cut)
                .rev()
                .find(|&c| source.is_char_boundary(c))
                .unwrap_or(0);
            assert!(matches!(
                import_har(&source[..cut], &names, &options),
                Err(ImportError::Har(_))
            ));
        }
        let har: serde_json::Value = serde_json::from_str(&source).unwrap();
        let entries = har["log"]["entries"].as_array().unwrap();
        for k in 0..entries.len() {
            for part in [&entries[k..=k], &entries[..=k]] {
                let text = serde_json::json!({"log": {"entries": part}}).to_string();
                match import_har(&text, &names, &options).and_then(|i| i.verify().map(|()| i)) {
                    Ok(_) | Err(ImportError::Nothing { .. }) => {}
                    Err(e) => panic!("{stem} entries up to {k}: {e:?}"),
                }
            }
        }
    }
}
