//! The command line end to end: check, fmt, run and smoke against the demo target, reports.

use std::path::{Path, PathBuf};

use super::support::{demo, kload, scratch, text};

fn shipped_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["scenarios", "examples"] {
        let Ok(entries) = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "kload") {
                files.push(e.path());
            }
        }
    }
    files
}

#[test]
fn every_shipped_file_checks_clean() {
    let files = shipped_files();
    assert!(!files.is_empty());
    for f in files {
        let o = kload(&["check", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
        assert!(
            !text(&o).contains("⚠"),
            "{} has warnings: {}",
            f.display(),
            text(&o)
        );
    }
}

#[test]
fn a_bad_scenario_exits_2_with_every_diagnostic() {
    let (_d, path) = scratch(
        "bad.kload",
        "user A weight 0 {\n  task t {\n    GTE \"/x\"\n    GET \"/{{ projct }}\"\n  }\n}\n",
    );
    let o = kload(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o);
    assert!(out.contains("kload::invalid_weight"), "{out}");
    assert!(out.contains("kload::unknown_method"), "{out}");
    assert!(out.contains("did you mean `GET`?"), "{out}");
    assert!(out.contains("kload::unknown_variable"), "{out}");
}

#[test]
fn json_diagnostics_have_positions() {
    let (_d, path) = scratch(
        "bad.kload",
        "user A {\n  task t {\n    GET \"/{{ nope }}\"\n  }\n}\n",
    );
    let o = kload(&["check", "--format", "json", path.to_str().unwrap()]);
    let line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["code"], "kload::unknown_variable");
    assert_eq!(v["line"], 3);
    assert_eq!(v["column"], 14);
    assert_eq!(v["severity"], "error");
}

#[test]
fn kibray_scenario_runs_against_the_demo_target() {
    let (_rt, server) = demo();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kibray.kload");
    let o = kload(&[
        "run",
        scenario.to_str().unwrap(),
        "-H",
        &server.base_url(),
        "-u",
        "13",
        "-r",
        "50",
        "-t",
        "3s",
        "--headless",
        "--only-summary",
        "--seed",
        "7",
    ]);
    let out = text(&o);
    // Latency thresholds depend on how busy this machine is; the error budget does not.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{out}");
    assert!(out.contains("Aggregated"), "{out}");
    // No injected errors and no throttle here: every request is right for the real API (no
    // 403 for an administrator on a load account, no 400 for a photo without its project).
    assert!(!out.contains("Error report"), "{out}");
    assert!(out.contains("POST     login"), "{out}");
    assert!(out.contains("PASS  error_rate < 1%"), "{out}");
    // 13 users log in once each: on start runs once per user.
    let login = out
        .lines()
        .find(|l| l.starts_with("POST     login"))
        .unwrap();
    assert_eq!(login.split_whitespace().nth(2), Some("13"), "{login}");
}

#[test]
fn smoke_lists_each_request_with_its_status() {
    let (_rt, server) = demo();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kibray.kload");
    let o = kload(&[
        "smoke",
        scenario.to_str().unwrap(),
        "-H",
        &server.base_url(),
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // Each class's own account: the admin dashboard is for staff only.
    let cases = [
        ["AdminUser", "GET", "/api/v1/dashboards/admin/", "200"],
        ["APIOnlyUser", "POST", "/api/v1/site-photos/", "201"],
        ["KibrayUser", "POST", "/api/v1/time-entries/", "201"],
    ];
    for case in cases {
        let line = out
            .lines()
            .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>())
            .find(|words| words[..] == case);
        assert!(line.is_some(), "{case:?}: {out}");
    }
}

#[test]
fn failed_threshold_exits_1_and_unreachable_host_exits_3() {
    let (_rt, server) = demo();
    let (_d, path) = scratch(
        "t.kload",
        "user A {\n  task t {\n    GET \"/api/v1/health/\"\n  }\n}\nthresholds {\n  requests < 1\n}\n",
    );
    let o = kload(&[
        "run",
        path.to_str().unwrap(),
        "-H",
        &server.base_url(),
        "-u",
        "2",
        "-r",
        "10",
        "-t",
        "1s",
        "--headless",
        "--only-summary",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAIL  requests < 1"), "{}", text(&o));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let o = kload(&[
        "run",
        path.to_str().unwrap(),
        "-H",
        &format!("http://127.0.0.1:{port}"),
        "-u",
        "1",
        "-r",
        "10",
        "-t",
        "1s",
        "--headless",
        "--only-summary",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("connection refused"), "{}", text(&o));
}

#[test]
fn a_template_error_at_run_time_points_at_the_request() {
    let (_rt, server) = demo();
    let (_d, path) = scratch(
        "t.kload",
        "user A {\n  task t {\n    GET \"/api/v1/health/\" {\n      capture id = jsonpath \"$.missing\"\n    }\n    GET \"/api/v1/projects/{{ id }}/\"\n  }\n}\n",
    );
    let o = kload(&[
        "run",
        path.to_str().unwrap(),
        "-H",
        &server.base_url(),
        "-u",
        "1",
        "-r",
        "10",
        "-t",
        "1s",
        "--headless",
        "--only-summary",
    ]);
    let out = text(&o);
    assert!(out.contains("kload::runtime_template"), "{out}");
    assert!(out.contains("variable `id` is not set"), "{out}");
    assert!(out.contains("t.kload:6:5"), "{out}");
}

#[test]
fn bad_flags_get_clap_errors() {
    let o = kload(&["run", "x.kload", "--users", "many"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("invalid value 'many'"), "{}", text(&o));
}

#[test]
fn every_shipped_file_is_formatted() {
    for f in shipped_files() {
        let o = kload(&["fmt", "--check", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", f.display(), text(&o));
    }
}

#[test]
fn fmt_rewrites_to_the_canonical_layout() {
    let (_d, path) = scratch(
        "messy.kload",
        "user A   weight 2{\n# why\n  task t {GET \"/x\"}}\n",
    );
    let o = kload(&["fmt", "--check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let o = kload(&["fmt", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.contains("# why"), "{after}");
    assert!(
        kload(&["fmt", "--check", path.to_str().unwrap()])
            .status
            .success(),
        "{after}"
    );
}

#[test]
fn reports_are_written_and_rerendered() {
    let (_rt, server) = demo();
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/01-hello.kload");
    let prefix = dir.path().join("out/run");
    let json = dir.path().join("run.json");
    let junit = dir.path().join("junit.xml");
    let o = kload(&[
        "run",
        scenario.to_str().unwrap(),
        "-H",
        &server.base_url(),
        "-u",
        "2",
        "-r",
        "10",
        "-t",
        "2s",
        "--headless",
        "--only-summary",
        "--csv",
        prefix.to_str().unwrap(),
        "--csv-full-history",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let stats = std::fs::read_to_string(dir.path().join("out/run_stats.csv")).unwrap();
    assert!(stats.starts_with("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"), "{stats}");
    assert!(stats.contains(",Aggregated,"), "{stats}");
    for f in [
        "run_stats_history.csv",
        "run_failures.csv",
        "run_exceptions.csv",
    ] {
        assert!(dir.path().join("out").join(f).exists(), "{f}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(doc["info"]["classes"][0]["users"], 2);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites")
    );

    let again = dir.path().join("again");
    let o = kload(&[
        "report",
        json.to_str().unwrap(),
        "--csv",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again_stats.csv")).unwrap(),
        stats
    );

    let o = kload(&["compare", json.to_str().unwrap(), json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = kload(&[
        "compare",
        json.to_str().unwrap(),
        dir.path().join("missing.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn the_readme_scenario_is_canonical_and_parses() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme
        .split("```kload\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let (_d, path) = scratch("readme.kload", block);
    let o = kload(&["fmt", "--check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}
