//! Requests: captures feeding later requests, checks, and how every kind of failure is
//! classified and reported.

use std::collections::BTreeSet;

use super::support::{
    Scenario, TestServer, closing_port, garbage_port, one_answer_per_connection_port, refused_port,
    truncating_port,
};

#[test]
fn captures_feed_later_requests() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Capturer {
  task capture_and_send {
    GET "/json" {
      capture first = jsonpath "$.items[*].id"
      capture explicit = jsonpath "$.items[*].id" first
      capture ids = jsonpath "$.items[*].id" all
      capture any = jsonpath "$.items[*].id" random
      capture token = header X-Token
      capture flavour = cookie flavour
      capture order = regex "order-([0-9]+)"
      capture note = regex "order-[0-9]+"
    }
    POST "/echo" {
      query first: "{{ first }}"
      query explicit: "{{ explicit }}"
      query token: "{{ token }}"
      query flavour: "{{ flavour }}"
      query order: "{{ order }}"
      query note: "{{ note }}"
      json {
        "ids": {{ ids }},
        "any": {{ any }},
        "pick": {{ choice(ids) }}
      }
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10", "--seed", "5"]);
    run.wait_for(&server, "30 echoes", |log| {
        log.iter().filter(|h| h.path == "/echo").count() >= 30
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.failures("/json"), 0, "{}", finished.text());
    assert_eq!(finished.failures("/echo"), 0, "{}", finished.text());
    let mut random_picks = BTreeSet::new();
    for hit in server.hits("/echo") {
        let params = [
            ("first", "1"),
            ("explicit", "1"),
            ("token", "h-7"),
            ("flavour", "oat"),
            ("order", "42"),
            ("note", "order-42"),
        ];
        for (name, value) in params {
            assert_eq!(hit.param(name), Some(value), "{name} in {hit:?}");
        }
        let body: serde_json::Value = serde_json::from_str(&hit.body).unwrap();
        // `all` keeps a list, sent as a JSON array where it stands alone.
        assert_eq!(body["ids"], serde_json::json!([1, 2, 3]), "{body}");
        let any = body["any"].as_u64().unwrap();
        assert!((1..=3).contains(&any), "{body}");
        random_picks.insert(any);
    }
    // Seeded, so fixed; and with 30 draws from 3 values each is missing with probability
    // 3 · (2/3)^30 ≈ 2e-5 for any seed.
    assert_eq!(random_picks, BTreeSet::from([1, 2, 3]));
}

#[test]
fn checks_pass_and_fail_with_their_text_in_the_report() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Checker {
  task check {
    GET "/json" {
      name "passing"
      check status 200
      check header X-Token contains "h-"
      check jsonpath "$.items[0].id" == 1
      check jsonpath "$.items[*].id" contains 3
      check body contains "order-42"
      check body not matches "(?i)traceback"
      check duration < 30s
    }
    GET "/json" {
      name "wrong value"
      check jsonpath "$.token" == "xyz"
    }
    GET "/json" {
      name "wrong header"
      check header X-Token == "h-8"
    }
    GET "/status/201" {
      name "wrong status"
      check status 200
    }
    GET "/status/404" {
      name "expected 404"
      check status 404
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10"]);
    run.wait_for(&server, "5 iterations", |log| log.len() >= 25);
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.failures("passing"), 0, "{}", finished.text());
    assert_eq!(finished.failures("expected 404"), 0, "{}", finished.text());
    for (name, message) in [
        (
            "wrong value",
            r#"check failed: `check jsonpath "$.token" == "xyz"`: got abc"#,
        ),
        (
            "wrong header",
            // A header named like a token is a credential: what it held is never shown.
            r#"check failed: `check header X-Token == "h-8"`: header got ***"#,
        ),
        (
            "wrong status",
            "check failed: `check status 200`: got status 201",
        ),
    ] {
        assert_eq!(
            finished.failures(name),
            finished.requests(name),
            "{}",
            finished.text()
        );
        assert_eq!(
            finished.failure_rows(name),
            [("check".to_string(), message.to_string())],
            "{name}"
        );
        // The text report's failures table shows the same words.
        assert!(finished.stdout.contains(message), "{}", finished.text());
    }
}

#[test]
fn every_failure_is_classified_under_its_kind() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        &r#"
scenario "Failures" {
  timeout 10s
}

user Breaker {
  task everything {
    GET "http://127.0.0.1:REFUSED/" {
      name "refused"
    }
    GET "http://127.0.0.1:CLOSING/" {
      name "closed"
    }
    GET "http://127.0.0.1:TRUNCATING/" {
      name "truncated"
    }
    GET "/sleep/2000" {
      name "timeout"
      timeout 100ms
    }
    GET "https://127.0.0.1:PLAIN/" {
      name "tls"
    }
    GET "http://127.0.0.1:GARBAGE/" {
      name "not http"
    }
    GET "/redirect-loop" {
      name "loop"
    }
    GET "/status/404" {
      name "404"
    }
    GET "/status/429" {
      name "429"
    }
    GET "/status/500" {
      name "500"
    }
    GET "/status/503" {
      name "503 checked"
      check status 200
    }
    GET "/json" {
      name "check"
      check jsonpath "$.token" == "xyz"
    }
    GET "/json" {
      name "capture"
      capture missing = jsonpath "$.nothing"
    }
    GET "/template/{{ missing }}" {
      name "template"
    }
    GET "/status/404" {
      name "404 expected"
      check status 404
    }
  }
}
"#
        .replace("REFUSED", &refused_port().to_string())
        .replace("CLOSING", &closing_port().to_string())
        .replace("TRUNCATING", &truncating_port().to_string())
        .replace("PLAIN", &server.port().to_string())
        .replace("GARBAGE", &garbage_port().to_string()),
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10"]);
    run.wait_for(&server, "three iterations", |log| {
        log.iter().filter(|h| h.path == "/status/404").count() >= 6
    });
    run.interrupt();
    let finished = run.wait();
    let expected = [
        ("refused", "connection_refused"),
        ("closed", "connection_reset"),
        ("truncated", "connection_reset"),
        ("timeout", "timeout"),
        ("tls", "tls"),
        // A reply on http:// that is not HTTP is the server's protocol error, not TLS.
        ("not http", "protocol"),
        // More redirects than allowed fail; they are not a success with the last 3xx.
        ("loop", "too_many_redirects"),
        ("404", "http4xx"),
        ("429", "rate_limited"),
        ("500", "http5xx"),
        // A failed status check counts under the status's class, named by the check.
        ("503 checked", "http5xx"),
        ("check", "check"),
        ("capture", "capture"),
        ("template", "template"),
    ];
    for (name, kind) in expected {
        let rows = finished.failure_rows(name);
        assert!(
            !rows.is_empty(),
            "{name} did not fail:\n{}",
            finished.text()
        );
        for (got, message) in &rows {
            assert_eq!(got, kind, "{name}: {message}");
        }
        assert_eq!(
            finished.failures(name),
            finished.requests(name),
            "{name}: {}",
            finished.text()
        );
        assert!(finished.errors_of_kind(kind) > 0, "{kind}");
    }
    assert_eq!(finished.failures("404 expected"), 0, "{}", finished.text());
    let messages = |name| {
        finished
            .failure_rows(name)
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
    };
    assert_eq!(messages("refused"), ["connection refused"]);
    assert_eq!(messages("timeout"), ["timeout"]);
    assert_eq!(messages("429"), ["HTTP 429 Too Many Requests"]);
    assert_eq!(
        messages("capture"),
        [r#"`capture missing = jsonpath "$.nothing"` found nothing"#]
    );
    // The message points at the request in the file.
    let source = std::fs::read_to_string(&scenario.path).unwrap();
    let line = 1 + source
        .lines()
        .position(|l| l.contains("/template/"))
        .unwrap();
    assert_eq!(
        messages("template"),
        [format!(
            "template error at line {line}:5: variable `missing` is not set (did a capture fail?)"
        )]
    );
    // The result keeps it as a scenario error with its line, for every report.
    let errors = &finished.json()["info"]["outcome"]["scenario_errors"];
    assert!(
        errors
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| {
                e["line"] == line
                    && e["count"].as_u64() > Some(0)
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("variable `missing` is not set"))
            })),
        "{errors}"
    );
    // Every failed request is counted under exactly one kind.
    let total: u64 = finished.json()["errors_by_kind"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        total,
        finished.json()["aggregated"]["failures"].as_u64().unwrap()
    );
    // Nothing was sent for the template error.
    assert_eq!(
        server
            .log()
            .iter()
            .filter(|h| h.path.starts_with("/template"))
            .count(),
        0
    );
}

#[test]
fn a_request_timeout_wins_over_the_scenario_timeout() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
scenario "Timeouts" {
  timeout 200ms
}

user Waiter {
  task wait {
    GET "/sleep/2000" {
      name "over the scenario's timeout"
    }
    GET "/sleep/500" {
      name "within its own timeout"
      timeout 20s
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10", "-s", "30s"]);
    run.wait_for(&server, "two answers within the own timeout", |log| {
        log.iter()
            .filter(|h| h.path == "/sleep/500" && h.done())
            .count()
            >= 2
    });
    run.interrupt();
    let finished = run.wait();
    let name = "over the scenario's timeout";
    assert!(finished.requests(name) >= 2, "{}", finished.text());
    assert_eq!(
        finished.failure_rows(name),
        [("timeout".to_string(), "timeout".to_string())]
    );
    assert!(finished.requests("within its own timeout") >= 2);
    assert_eq!(
        finished.failures("within its own timeout"),
        0,
        "{}",
        finished.text()
    );
}

#[test]
fn a_kept_alive_connection_the_server_closed_is_replaced_not_failed() {
    let port = one_answer_per_connection_port();
    let scenario = Scenario::new(
        r#"
user Visitor {
  wait constant 10ms

  task visit {
    GET "/"
  }
}
"#,
    );
    let url = format!("http://127.0.0.1:{port}");
    let finished = scenario.run(&["-H", &url, "-u", "2", "-r", "10", "-t", "1s"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert!(finished.requests("/") >= 10, "{}", finished.text());
    assert_eq!(finished.failures("/"), 0, "{}", finished.text());
}
