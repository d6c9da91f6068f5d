//! `kload demo`, the README's first command, in a shortened form: the demo target with its
//! real latency, throttle and error rate, and `scenarios/kibray.kload` against it, both in the
//! kload process as a new user runs them. Its verdict must not depend on luck.

use super::support::{kload, text};

/// One line of the threshold block, e.g. `✓ PASS  p95(tag list) < 200ms  measured 97.215 ms`.
struct Line {
    word: String,
    source: String,
    measured: String,
}

fn thresholds(out: &str) -> Vec<Line> {
    out.lines()
        .filter_map(|line| {
            let (head, measured) = line.split_once("  measured ")?;
            let mut words = head.split_whitespace();
            let _mark = words.next()?;
            let word = words.next()?.to_owned();
            let source = words.collect::<Vec<_>>().join(" ");
            let measured = measured.split(" (expected").next()?.to_owned();
            Some(Line {
                word,
                source,
                measured,
            })
        })
        .collect()
}

/// `200ms` or `97.215 ms` in milliseconds.
fn millis(text: &str) -> Option<f64> {
    text.trim().strip_suffix("ms")?.trim().parse().ok()
}

/// The shortened run keeps what makes the demo's verdict: every class (39 users are 30, 3 and
/// 6), every task within a few iterations, the throttle and the injected 500s. The thresholds
/// hold by construction: each route's ceiling is at most 60 % of its bound, which
/// `demo::tests::every_scenario_request_stays_well_below_its_thresholds` asserts without a
/// clock. This runs the real thing and asserts its verdict; how much room each threshold had
/// is printed for the CI log, not asserted, because on a CI machine running other tests beside
/// a debug build the load generator's own delays vary (a health check served in at most 4 ms
/// was measured at 39 ms once here, with a load average of 8 on two cores).
#[test]
fn the_demo_passes_its_thresholds() {
    let o = kload(&[
        "demo",
        "-u",
        "39",
        "-r",
        "13",
        "-t",
        "9s",
        "--only-summary",
        "--seed",
        "14",
    ]);
    let out = text(&o);
    let lines = thresholds(&out);
    // Printed for the CI log: how far each threshold was from its bound.
    for line in &lines {
        let room = match (millis(&line.measured), line.source.rsplit(' ').next()) {
            (Some(measured), Some(bound)) => millis(bound)
                .map(|bound| format!("  ({:.0} % of the bound)", measured / bound * 100.0))
                .unwrap_or_default(),
            _ => String::new(),
        };
        eprintln!(
            "{:<5} {:<32} {}{room}",
            line.word, line.source, line.measured
        );
    }
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(
        lines.len(),
        8,
        "every threshold of the scenario is judged: {out}"
    );
    for line in &lines {
        assert!(
            line.word == "PASS" || line.word == "WARN",
            "{}: {out}",
            line.source
        );
        if line.word == "WARN" {
            assert!(line.source.ends_with(" warn"), "{}: {out}", line.source);
        }
    }
    // Every user logged in once (no account ran out), and the only failures are the injected
    // 500s: no 403 from a wrong account, no 400 from a missing field, no 429.
    let login = out
        .lines()
        .find(|l| l.starts_with("POST     login"))
        .unwrap();
    assert_eq!(login.split_whitespace().nth(2), Some("39"), "{login}");
    let errors: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Error report"))
        .skip(3)
        .take_while(|l| !l.starts_with("---"))
        .collect();
    for error in &errors {
        // A 500 on the list a task captures from leaves the next request of that task
        // without its variable the first time round; that is a template error.
        let injected = error.contains("got status 500") || error.contains("template");
        assert!(injected, "{error}\n{out}");
    }
}

/// `kload demo --serve --no-throttle` lets one account past the 120 requests a minute that
/// the target otherwise answers with 429 (what a benchmark without waits needs).
#[test]
fn the_served_target_throttles_unless_told_not_to() {
    use super::support::{Scenario, refused_port};
    let scenario = Scenario::new(
        r#"
user Eager {
  header Authorization: "Bearer {{ token }}"
  on start {
    POST "/api/v1/auth/login/" {
      json { "username": "loaduser001", "password": "loadpass123" }
      capture token = jsonpath "$.access"
    }
  }
  task list {
    GET "/api/v1/projects/" {
      check status 200
    }
  }
}

thresholds {
  error_rate < 1%
}
"#,
    );
    for (flags, code) in [(&["--no-throttle"][..], 0), (&[][..], 1)] {
        let port = refused_port().to_string();
        let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_kload"))
            .args(["demo", "--serve", "--latency-scale", "0", "--port", &port])
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let up = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(25));
            std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_ok()
        });
        assert!(up, "the demo target did not start");
        let finished = scenario.run(&["-H", &url, "-u", "1", "-r", "1", "-t", "1s"]);
        let _ = server.kill();
        let _ = server.wait();
        assert!(
            finished.requests("/api/v1/projects/") > 200,
            "{}",
            finished.text()
        );
        assert_eq!(
            finished.code(),
            Some(code),
            "{flags:?}: {}",
            finished.text()
        );
    }
}
