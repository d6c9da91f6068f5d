//! Ending a run: Ctrl-C with and without a stop timeout, a second Ctrl-C, exit codes, and
//! the one-request-each runs (`--dry-run`, `kload smoke`).

use super::support::{INTERRUPTED, Scenario, TestServer, kload, text};

/// Users that spend their time in one slow request.
fn sleeper(ms: u32) -> Scenario {
    Scenario::new(
        &r#"
user Sleeper {
  task slow {
    GET "/sleep/MS"
  }
}
"#
        .replace("MS", &ms.to_string()),
    )
}

#[test]
fn ctrl_c_lets_running_requests_finish_within_the_stop_timeout() {
    let server = TestServer::start();
    let scenario = sleeper(1000);
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "3", "-r", "100", "-s", "30s"]);
    run.wait_for(&server, "three requests in flight", |log| log.len() >= 3);
    run.interrupt();
    let finished = run.wait();
    // Interrupted: the results are written, but the run is not a clean pass.
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    assert!(
        finished.stdout.contains("Aggregated"),
        "{}",
        finished.text()
    );
    assert!(
        finished.stdout.contains("run interrupted"),
        "{}",
        finished.text()
    );
    assert!(
        finished
            .stderr
            .contains("stopping: letting running tasks finish"),
        "{}",
        finished.text()
    );
    // Every request the server saw was answered and counted; no user started another
    // task after the stop.
    let hits = server.hits("/sleep/1000");
    assert!(hits.iter().all(|h| h.done()), "{hits:?}");
    assert_eq!(finished.requests("/sleep/1000") as usize, hits.len());
    assert_eq!(finished.failures("/sleep/1000"), 0);
}

#[test]
fn requests_still_running_when_the_stop_timeout_ends_are_abandoned() {
    let scenario = sleeper(20_000);
    for stop_timeout in ["0s", "1s"] {
        let server = TestServer::start();
        let url = server.url();
        let mut run = scenario.spawn(&["-H", &url, "-u", "2", "-r", "100", "-s", stop_timeout]);
        run.wait_for(&server, "two requests in flight", |log| log.len() >= 2);
        run.interrupt();
        let finished = run.wait();
        assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
        assert!(
            finished.stdout.contains("Aggregated"),
            "{}",
            finished.text()
        );
        // kload ended while the server was still sleeping: no request completed, and the
        // two in flight are counted as abandoned, not lost.
        assert!(server.log().iter().all(|h| !h.done()), "-s {stop_timeout}");
        assert_eq!(finished.requests("/sleep/20000"), 0, "{}", finished.text());
        assert_eq!(finished.entry("/sleep/20000")["abandoned"], 2);
        assert!(
            finished
                .stdout
                .contains("Abandoned: 2 requests were still in flight when the run stopped"),
            "{}",
            finished.text()
        );
        assert!(
            finished.stderr.contains("no request completed"),
            "{}",
            finished.text()
        );
    }
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_keeps_what_was_measured() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Sleeper {
  task quick_then_slow {
    GET "/quick"
    GET "/sleep/20000"
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "3", "-r", "100", "-s", "60s"]);
    run.wait_for(&server, "three slow requests in flight", |log| {
        log.iter().filter(|h| h.path == "/sleep/20000").count() >= 3
    });
    run.interrupt();
    run.wait_for_stderr("Ctrl-C again to stop at once");
    run.interrupt();
    let finished = run.wait();
    // The stop timeout (60 s) and the server's sleep (20 s) were both cut short.
    assert!(server.hits("/sleep/20000").iter().all(|h| !h.done()));
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    assert!(
        finished.stderr.contains("stopping now"),
        "{}",
        finished.text()
    );
    assert!(
        finished.stdout.contains("Aggregated"),
        "{}",
        finished.text()
    );
    assert!(
        finished
            .stdout
            .contains("run killed: in-flight requests were abandoned"),
        "{}",
        finished.text()
    );
    // The quick requests were answered before the kill: each is in the result, although
    // the users that made them were still busy when the run was killed.
    assert_eq!(finished.requests("/quick") as usize, server.count("/quick"));
    assert_eq!(finished.requests("/sleep/20000"), 0);
    assert_eq!(finished.entry("/sleep/20000")["abandoned"], 3);
    assert_eq!(finished.json()["schema_version"], 2);
}

#[test]
fn exit_codes() {
    let server = TestServer::start();
    let failing = Scenario::new(
        r#"
user Lost {
  task missing {
    GET "/status/404"
  }
}
"#,
    );
    // Runs that end by their run time (an interrupted run is not judged a pass or a fail
    // by its numbers: it exits 130, see above).
    let stop_after = |scenario: &Scenario, args: &[&str], _requests: usize| {
        let url = server.url();
        let mut all = vec!["-H", &url, "-u", "1", "-r", "10", "-t", "1s"];
        all.extend_from_slice(args);
        scenario.run(&all)
    };
    // Failed requests alone do not fail the run: 0, unless asked for.
    let finished = stop_after(&failing, &[], 3);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let finished = stop_after(&failing, &["--exit-code-on-error", "7"], 3);
    assert_eq!(finished.code(), Some(7), "{}", finished.text());
    // A failed threshold: 1.
    let finished = stop_after(&failing, &["--threshold", "error_rate < 1%"], 3);
    assert_eq!(finished.code(), Some(1), "{}", finished.text());
    assert!(
        finished.stdout.contains("FAIL  error_rate < 1%"),
        "{}",
        finished.text()
    );
    // A passing run with the flag: 0.
    let fine = Scenario::new(
        r#"
user Fine {
  task ok {
    GET "/fine"
  }
}
"#,
    );
    let finished = stop_after(&fine, &["--exit-code-on-error", "7"], 3);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    // A scenario that does not compile, or a bad flag: 2, before any request.
    let seen = server.log().len();
    let broken = Scenario::new("user Broken {\n  task t {\n    GTE \"/x\"\n  }\n}\n");
    let finished = broken.run(&["-H", &server.url(), "-t", "1s"]);
    assert_eq!(finished.code(), Some(2), "{}", finished.text());
    assert!(
        finished.text().contains("kload::unknown_method"),
        "{}",
        finished.text()
    );
    let finished = fine.run(&["-H", &server.url(), "--spawn-rate", "fast"]);
    assert_eq!(finished.code(), Some(2), "{}", finished.text());
    assert_eq!(server.log().len(), seen);
}

const SMOKE: &str = r#"
user Visitor {
  on start {
    GET "/login"
  }

  on stop {
    GET "/logout"
  }

  task pages {
    GET "/status/200" {
      name "ok page"
    }
    GET "/status/404" {
      name "missing page"
    }
    GET "/status/401" {
      name "private page"
    }
  }

  task other {
    GET "/json" {
      check jsonpath "$.token" == "abc"
    }
  }
}
"#;

#[test]
fn dry_run_and_smoke_send_every_request_once_and_list_statuses() {
    let scenario = Scenario::new(SMOKE);
    let path = scenario.path.to_str().unwrap();
    for how in ["--dry-run", "smoke"] {
        let server = TestServer::start();
        let url = server.url();
        let o = match how {
            "smoke" => kload(&["smoke", path, "-H", &url]),
            _ => kload(&["run", path, "-H", &url, "--dry-run", "-u", "50"]),
        };
        let out = text(&o);
        // Two requests failed (404, 401): exit 1.
        assert_eq!(o.status.code(), Some(1), "{how}: {out}");
        let paths: Vec<String> = server.log().into_iter().map(|h| h.path).collect();
        assert_eq!(
            paths,
            [
                "/login",
                "/status/200",
                "/status/404",
                "/status/401",
                "/json",
                "/logout"
            ],
            "{how}"
        );
        let line = |name: &str| {
            out.lines()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("{how}: no line for {name}:\n{out}"))
                .to_string()
        };
        assert!(line("ok page").ends_with(" ok"), "{how}: {out}");
        assert!(line("missing page").contains(" 404 "), "{how}: {out}");
        assert!(
            line("missing page").ends_with("HTTP 404 Not Found"),
            "{how}: {out}"
        );
        assert!(line("private page").contains(" 401 "), "{how}: {out}");
        assert!(
            line("private page").ends_with("HTTP 401 Unauthorized"),
            "{how}: {out}"
        );
        assert!(line("/json").ends_with(" ok"), "{how}: {out}");
        assert!(out.contains("6 requests, 2 failed"), "{how}: {out}");
    }
}

#[test]
fn a_server_that_never_answers_fails_the_run_and_says_why() {
    let port = super::support::hanging_port();
    let scenario = Scenario::new(
        &r#"
user Waiter {
  task wait {
    GET "http://127.0.0.1:PORT/"
  }
}

thresholds {
  p95 < 1s
}
"#
        .replace("PORT", &port.to_string()),
    );
    let finished = scenario.run(&["-u", "3", "-r", "100", "-t", "1s"]);
    // kload 0.1: 0 requests, every threshold "skipped", PASSED, exit 0.
    assert_eq!(finished.code(), Some(1), "{}", finished.text());
    assert!(
        finished
            .stderr
            .contains("no request completed: 3 were still waiting"),
        "{}",
        finished.text()
    );
    assert!(
        finished.stderr.contains("threshold `p95 < 1s` had no data"),
        "{}",
        finished.text()
    );
    assert!(
        finished.stdout.contains("✗ FAIL  p95 < 1s"),
        "{}",
        finished.text()
    );
    assert_eq!(finished.json()["aggregated"]["abandoned"], 3);
}

#[test]
fn no_command_panics_on_a_closed_standard_output() {
    let scenario = Scenario::new(SMOKE);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(["inspect", scenario.path.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -0`: the reader is gone before kload writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}

#[test]
fn impossible_numbers_are_usage_errors_with_words() {
    let scenario = Scenario::new(SMOKE);
    let path = scenario.path.to_str().unwrap();
    for (args, words) in [
        (vec!["-u", "-5"], "the number of users must be at least 1"),
        (vec!["-u", "0"], "the number of users must be at least 1"),
        (vec!["-r", "0"], "the rate must be more than 0"),
        (vec!["-t", "-3s"], "cannot be negative"),
        (vec!["-t", "0s"], "must be longer than zero"),
    ] {
        let mut all = vec!["run", path, "--headless"];
        all.extend(args.iter().copied());
        let o = kload(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(words), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("to pass '-"), "{args:?}: {}", text(&o));
    }
}

const VERBOSE: &str = r#"
data creds from "creds.csv"

user Writer {
  header Authorization: "Bearer {{ creds.token }}"

  task write {
    GET "/json" {
      name "listing"
    }
    POST "/echo/400" {
      name "create"
      json {
        "title": "roof",
        "password": "{{ creds.password }}",
        "owner": "{{ creds.password }}-copy"
      }
      check status 201
    }
  }
}
"#;

#[test]
fn smoke_verbose_shows_the_exchange_of_a_failed_step_with_secrets_masked() {
    let scenario = Scenario::new(VERBOSE)
        .with_file("creds.csv", "token,password\ntok-SECRET-991,pw-hunter-2\n");
    let path = scenario.path.to_str().unwrap();
    let server = TestServer::start();
    let url = server.url();

    let o = kload(&["smoke", path, "-H", &url, "-v"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // The failed step: what was sent and what came back, the server's reason included.
    assert!(out.contains(&format!("> POST {url}/echo/400\n")), "{out}");
    assert!(out.contains("> authorization: ***\n"), "{out}");
    assert!(out.contains("> content-type: application/json\n"), "{out}");
    assert!(out.contains("< 400 Bad Request\n"), "{out}");
    assert!(
        out.contains(r#"{"owner":"***-copy","password":"***","title":"roof"}"#),
        "{out}"
    );
    // The step that passed is listed but not dumped at -v.
    assert!(!out.contains("> GET"), "{out}");
    for secret in ["tok-SECRET-991", "pw-hunter-2"] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    // The server did receive the real values.
    assert!(server.hits("/echo/400")[0].body.contains("pw-hunter-2"));

    // -vv: every step; the JSON body's credential-named field is masked too.
    let o = kload(&["smoke", path, "-H", &url, "-vv"]);
    let out = text(&o);
    assert!(out.contains(&format!("> GET {url}/json\n")), "{out}");
    assert!(out.contains("< 200 OK\n"), "{out}");
    assert!(out.contains(r#""token": "***""#), "{out}");
    assert!(out.contains("< set-cookie: flavour=***; Path=/\n"), "{out}");
    for secret in ["tok-SECRET-991", "pw-hunter-2"] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }

    // Without -v nothing is dumped.
    let out = text(&kload(&["smoke", path, "-H", &url]));
    assert!(!out.contains("> POST"), "{out}");
}
