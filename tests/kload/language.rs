//! The language's runtime behaviour beyond single requests: authentication, `if` and
//! `repeat`, request tags left out by `--exclude-tags`, and failed checks named with the
//! value they compared.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;

use super::support::{INTERRUPTED, Scenario, TestServer};

fn basic(user_and_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_and_password)
    )
}

/// The `Authorization` header of every request to `path` (`-` when there was none).
fn authorizations(server: &TestServer, path: &str) -> BTreeSet<String> {
    server
        .hits(path)
        .iter()
        .map(|h| h.header("authorization").unwrap_or("-").to_string())
        .collect()
}

#[test]
fn auth_settings_send_basic_and_bearer_headers() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
scenario "Auth" {
  auth basic "scenario-user" "pw"
}

user Inherits {
  task t {
    GET "/inherited"
  }
}

user Overrides {
  let who = "ada"
  auth basic "{{ who }}" "p:ss é"

  task t {
    GET "/class"
    GET "/request" {
      auth bearer "tok-{{ who }}"
    }
    GET "/header" {
      header Authorization: "Custom x"
    }
    GET "/functions" {
      query b: "{{ base64("a:b") }}"
      query u: "{{ url_encode("a b/c&d") }}"
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "2", "-r", "10"]);
    run.wait_for(&server, "both classes", |log| {
        log.iter().any(|h| h.path == "/inherited") && log.iter().any(|h| h.path == "/functions")
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let one = |v: &str| BTreeSet::from([v.to_string()]);
    assert_eq!(
        authorizations(&server, "/inherited"),
        one(&basic("scenario-user:pw"))
    );
    // A class's `auth` replaces the scenario's; the password is sent as UTF-8.
    assert_eq!(authorizations(&server, "/class"), one(&basic("ada:p:ss é")));
    assert_eq!(authorizations(&server, "/request"), one("Bearer tok-ada"));
    assert_eq!(authorizations(&server, "/header"), one("Custom x"));
    for hit in server.hits("/functions") {
        assert_eq!(hit.param("b"), Some("YTpi"), "{hit:?}");
        // The server decodes the query once: what arrives is the text url_encode was given.
        assert_eq!(hit.param("u"), Some("a%20b%2Fc%26d"), "{hit:?}");
    }
}

#[test]
fn credentials_in_a_url_become_basic_auth_and_never_show() {
    let server = TestServer::start();
    let port = server.port();
    let scenario = Scenario::new(&format!(
        r#"
user Url {{
  task t {{
    GET "/relative"
    GET "http://ann:s3cret@127.0.0.1:{port}/absolute"
    GET "/explicit" {{
      auth basic "me" "x"
    }}
  }}
}}
"#
    ));
    let host = format!("http://u%40x:p%3Ass@127.0.0.1:{port}");
    let mut run = scenario.spawn(&["-H", &host, "-u", "1", "-r", "10"]);
    run.wait_for(&server, "three requests", |log| {
        log.iter().any(|h| h.path == "/explicit")
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let one = |v: &str| BTreeSet::from([v.to_string()]);
    // Percent-encoded credentials are decoded, as a browser does.
    assert_eq!(
        authorizations(&server, "/relative"),
        one(&basic("u@x:p:ss"))
    );
    assert_eq!(
        authorizations(&server, "/absolute"),
        one(&basic("ann:s3cret"))
    );
    // An `auth` line wins over credentials in the URL.
    assert_eq!(authorizations(&server, "/explicit"), one(&basic("me:x")));
    // The statistics name is the URL without them; the host and command line are redacted.
    let absolute = format!("http://127.0.0.1:{port}/absolute");
    assert!(finished.requests(&absolute) > 0, "{}", finished.text());
    let json = finished.json().to_string();
    let without_source = json.replace(
        &serde_json::to_string(&std::fs::read_to_string(&scenario.path).unwrap()).unwrap(),
        "",
    );
    for secret in ["p%3Ass", "s3cret"] {
        assert!(!finished.stdout.contains(secret), "{}", finished.text());
        assert!(
            !without_source.contains(secret),
            "{secret} in {without_source}"
        );
    }
}

#[test]
fn if_and_repeat_choose_and_repeat_steps() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Flow {
  task t {
    GET "/json" {
      capture ids = jsonpath "$.items[*].id" all
      capture none = jsonpath "$.missing[*]" all
      capture token = jsonpath "$.token"
    }
    if {{ ids }} {
      GET "/ids-true"
    }
    if {{ none }} {
      GET "/never-1"
      let never = 1
    } else {
      GET "/empty-list-false"
    }
    if {{ token }} == "x" {
      GET "/never-2"
    } else if {{ token }} == "abc" {
      GET "/else-if"
    } else {
      GET "/never-3"
    }
    # `never` has no value: false, and `not exists`.
    if {{ never }} {
      GET "/never-4"
    }
    if not {{ never }} {
      GET "/not-unset"
    }
    if {{ never }} not exists {
      GET "/unset-not-exists"
    }
    if {{ ids }} contains 2 {
      repeat 3 {
        GET "/repeated"
      }
    }
    GET "/end"
  }
}
"#,
    );
    // `-s 10s`: the task running at Ctrl-C finishes, so every path has a whole count.
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10", "-s", "10s"]);
    run.wait_for(&server, "three iterations", |log| {
        log.iter().filter(|h| h.path == "/end").count() >= 3
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let n = server.count("/end");
    let counts: BTreeMap<String, usize> =
        server.log().into_iter().fold(BTreeMap::new(), |mut m, h| {
            *m.entry(h.path).or_default() += 1;
            m
        });
    let expected: BTreeMap<String, usize> = [
        ("/json", n),
        ("/ids-true", n),
        ("/empty-list-false", n),
        ("/else-if", n),
        ("/not-unset", n),
        ("/unset-not-exists", n),
        ("/repeated", 3 * n),
        ("/end", n),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c))
    .collect();
    assert_eq!(counts, expected, "{}", finished.text());
}

/// The paths requested by a run of [`TAGGED`] with these tag flags, after 60 requests.
fn tagged_paths(flags: &[&str]) -> BTreeSet<String> {
    super::support::paths_requested(TAGGED, flags)
}

const TAGGED: &str = r#"
scenario "Request tags" {
  wait constant 5ms
}

user Tagged {
  on start {
    GET "/login" {
      tags auth
    }
  }

  task mixed tags read {
    GET "/kept"
    GET "/dropped" {
      tags slow
    }
  }

  task only_slow {
    if true {
      GET "/only-slow" {
        tags slow
      }
    }
  }

  task listed {
    GET "/listed-untagged"
    GET "/listed" {
      tags list
    }
  }

  task plain {
    GET "/plain"
  }
}
"#;

#[test]
fn an_excluded_tag_on_a_request_keeps_it_from_being_sent() {
    let set = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>();
    // Up to three tasks of equal weight picked 30 times or more by 2 seeded users: each
    // is missing with a probability below 3 · (2/3)^30 ≈ 2e-5 for any seed.
    assert_eq!(
        tagged_paths(&["-E", "slow"]),
        set(&["/login", "/kept", "/listed-untagged", "/listed", "/plain"])
    );
    // `--tags` chooses tasks by their requests' tags too, and leaves `on start` alone.
    assert_eq!(
        tagged_paths(&["-T", "list"]),
        set(&["/login", "/listed-untagged", "/listed"])
    );
    // A request in `on start` is left out like any other.
    assert_eq!(
        tagged_paths(&["-T", "read", "-E", "auth,slow"]),
        set(&["/kept"])
    );
}

#[test]
fn a_failed_check_is_named_with_the_value_it_compared() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Checker {
  let wanted = "tok-{{ user_id() }}"
  let ids = [5, 6]

  task t {
    GET "/json" {
      name "text"
      check jsonpath "$.token" == "{{ wanted }}"
    }
    GET "/json" {
      name "typed"
      check jsonpath "$.items[0].id" == {{ ids }}
    }
    GET "/json" {
      name "literal"
      check jsonpath "$.token" == "xyz"
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10"]);
    run.wait_for(&server, "an iteration", |log| log.len() >= 3);
    run.interrupt();
    let finished = run.wait();
    for (name, message) in [
        (
            "text",
            r#"check failed: `check jsonpath "$.token" == "tok-1"`: got abc"#,
        ),
        (
            "typed",
            r#"check failed: `check jsonpath "$.items[0].id" == [5,6]`: got 1"#,
        ),
        (
            "literal",
            r#"check failed: `check jsonpath "$.token" == "xyz"`: got abc"#,
        ),
    ] {
        assert_eq!(
            finished.failure_rows(name),
            [("check".to_string(), message.to_string())],
            "{}",
            finished.text()
        );
    }
}

/// A threshold on requests that never ran fails the run ("had no data"), unless it is marked
/// `optional`: then it passes and shows as SKIP (JUnit `<skipped>`).
#[test]
fn a_threshold_without_data_fails_unless_optional() {
    let server = TestServer::start();
    let url = server.url();
    let junit_dir = tempfile::tempdir().unwrap();
    let junit = junit_dir.path().join("junit.xml");
    let run = |flag: &str, junit: Option<&std::path::Path>| {
        let scenario = Scenario::new(&format!(
            r#"
user U {{
  wait constant 5ms

  task common {{
    GET "/common"
  }}

  task rare {{
    GET "/rare" {{
      tags rare
    }}
  }}
}}

thresholds {{
  p95(tag rare) < 1s{flag}
  p95("/common") < 10s
}}
"#
        ));
        let mut args = vec![
            "-H",
            &url,
            "-u",
            "1",
            "-r",
            "100",
            "-t",
            "1s",
            "--exclude-tags",
            "rare",
        ];
        let junit_arg;
        if let Some(path) = junit {
            junit_arg = path.display().to_string();
            args.extend(["--junit", &junit_arg]);
        }
        scenario.run(&args)
    };
    let strict = run("", None);
    assert_eq!(strict.code(), Some(1), "{}", strict.text());
    assert!(
        strict
            .stderr
            .contains("threshold `p95(tag rare) < 1s` had no data"),
        "{}",
        strict.text()
    );
    let optional = run(" optional", Some(&junit));
    assert_eq!(optional.code(), Some(0), "{}", optional.text());
    assert!(
        optional
            .stdout
            .contains("SKIP  p95(tag rare) < 1s optional"),
        "{}",
        optional.text()
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<skipped"), "{junit}");
}
