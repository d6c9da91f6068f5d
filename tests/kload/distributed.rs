//! One scenario run as N processes (segments) from one `--start-at`, merged: the union is
//! what one process does. Arrival-bounded, so the request counts are exact.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use super::support::{Scenario, TestServer, text};

const SCENARIO: &str = r#"
data accounts from "accounts.csv" unique

load {
  arrival_rate 20/s
  max_users 20
  run_time 2025ms
}

user Member {
  on start {
    GET "/login" {
      query name: "{{ accounts.username }}"
    }
  }

  task browse {
    GET "/a"
    GET "/status/404" {
      name "missing"
    }
  }
}

thresholds {
  error_rate < 60%
  p95("/a") < 2s
}
"#;

fn accounts() -> String {
    let mut csv = String::from("username\n");
    for i in 0..80 {
        csv.push_str(&format!("user{i:02}\n"));
    }
    csv
}

fn start_at() -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs `count` segments at once (each `--json -`), returns their merged stdout.
fn run_segments(scenario: &Scenario, server: &TestServer, count: u32) -> String {
    let at = start_at();
    let children: Vec<_> = (1..=count)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_kload"))
                .args([
                    "run",
                    scenario.path.to_str().unwrap(),
                    "--headless",
                    "--only-summary",
                ])
                .args(["-H", &server.url(), "--seed", "5", "-s", "3s"])
                .args(["--segment", &format!("{i}/{count}"), "--start-at", &at])
                .args(["--json", "-"])
                .env("NO_COLOR", "1")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut logs = String::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        // A segment exits 0 when it ran its share: thresholds are the merge's to judge.
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        logs.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    logs
}

fn merge(logs: &str, json: &std::path::Path) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(["merge", "-", "--json", json.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(logs.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn segments_merged_do_what_one_process_does() {
    let scenario = Scenario::new(SCENARIO).with_file("accounts.csv", &accounts());
    let single_server = TestServer::start();
    let single = scenario.run(&["-H", &single_server.url(), "--seed", "5", "-s", "3s"]);
    // Arrivals at 0, 50, ..., 2000 ms: 41 iterations of two requests each.
    assert_eq!(single.requests("/a"), 41, "{}", single.text());
    assert_eq!(single.requests("missing"), 41);
    for count in [1u32, 2, 3] {
        let server = TestServer::start();
        let logs = run_segments(&scenario, &server, count);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("merged.json");
        let out = merge(&logs, &json);
        // The 404s make an error rate of 50 %: below 60 %, so the merged run passes.
        assert_eq!(out.status.code(), Some(0), "{count}: {}", text(&out));
        let merged: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let entry = |name: &str| {
            merged["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .unwrap()
                .clone()
        };
        for name in ["/a", "missing"] {
            assert_eq!(
                entry(name)["status_codes"],
                single.entry(name)["status_codes"],
                "{count} segments, {name}"
            );
        }
        assert_eq!(server.count("/a"), 41, "{count}");
        assert_eq!(merged["info"]["outcome"]["merged_segments"], count);
        assert!(
            merged["info"]["thresholds"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["passed"] == true),
            "{}",
            merged["info"]["thresholds"]
        );
        // `unique` rows: no account was used by two users, across all segments.
        let names: Vec<String> = server
            .hits("/login")
            .iter()
            .map(|h| h.param("name").unwrap().to_string())
            .collect();
        let distinct: BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{count}: {names:?}");
    }
}

#[test]
fn merge_refuses_what_does_not_belong_together() {
    let scenario = Scenario::new(SCENARIO).with_file("accounts.csv", &accounts());
    let server = TestServer::start();
    let logs = run_segments(&scenario, &server, 2);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    // One segment missing.
    let first: String = {
        let mut keep = String::new();
        let mut skip = false;
        for line in logs.lines() {
            if line.contains("KLOAD-RESULT v2 segment=2/2") {
                skip = true;
            }
            if !skip {
                keep.push_str(line);
                keep.push('\n');
            }
            if skip && line.starts_with("KLOAD-RESULT-END") {
                skip = false;
            }
        }
        keep
    };
    let out = merge(&first, &json);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("segment 2/2 is missing"),
        "{}",
        text(&out)
    );
    // The same log read twice holds the same records: they count once.
    let out = merge(&format!("{logs}{logs}"), &json);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A truncated record.
    let cut: String = logs
        .lines()
        .filter(|l| !l.contains(" 1/"))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = merge(&cut, &json);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("truncated"), "{}", text(&out));
    // A run that is not a segment.
    let whole = scenario.run(&["-H", &server.url()]);
    let out = merge(&serde_json::to_string(whole.json()).unwrap(), &json);
    assert!(text(&out).contains("not a segment"), "{}", text(&out));
}
