//! The session controller against real runs of small scenarios, on a target served
//! in-process on 127.0.0.1 port 0: the form's plan, starting from it, live rows, failures
//! with examples, scenario errors at their line, thresholds, Edit under each load model,
//! stop, reset, downloads, a new test, a threshold that aborts, and no secret on the page.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use super::SessionController;
use crate::compile::Context;
use crate::report::csv::{EXCEPTIONS_HEADER, FAILURES_HEADER, STATS_HEADER};
use crate::session::{Options, Scenario};
use crate::web::{
    Controller, Download, LoadModel, PageView, RunState, StageView, StartRequest, ThresholdStatus,
    UiSnapshot, WebOptions, serve,
};

/// How long a test waits for what it expects (bounds a broken run; never measured).
const PATIENCE: Duration = Duration::from_secs(60);

/// A password of the data file: it must never reach the page or a download.
const SECRET: &str = "hunter2-sesame";

const SCENARIO: &str = r#"scenario "Web session" {
  host "http://127.0.0.1:1"
}

data accounts from "accounts.csv"

load {
  users 3
  spawn_rate 2
}

user Reader weight 3 {
  wait constant 20ms

  task read weight 2 {
    GET "/ok" {
      tags list
      check status 200
    }
  }

  task break weight 1 {
    GET "/fail"
  }
}

user Writer weight 1 {
  wait constant 20ms

  task write {
    POST "/echo" {
      json { "password": "{{ accounts.password }}" }
      check jsonpath "$.password" == "nope"
    }
    GET "/ok" {
      name "missing"
      capture id = jsonpath "$.missing"
    }
  }
}

thresholds {
  p95(tag list) < 10s
  error_rate < 1%
}
"#;

fn scenario(source: &str) -> Arc<Scenario> {
    let ctx = Context {
        base_dir: Default::default(),
        files: vec![(
            "accounts.csv".into(),
            b"username,password\nann,hunter2-sesame\n".as_slice(),
        )],
    };
    Arc::new(
        Scenario::from_source(Path::new("web.kload"), source, &ctx)
            .unwrap_or_else(|e| panic!("{e:?}")),
    )
}

/// The target: `/ok` answers JSON, `/fail` 500, `/echo` sends the body back.
async fn target() -> String {
    let app = Router::new()
        .route(
            "/ok",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"items":[1,2]}"#,
                )
            }),
        )
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/echo",
            post(|body: Bytes| async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn controller(source: &str, options: Options) -> Arc<SessionController> {
    SessionController::new(scenario(source), options, tokio::runtime::Handle::current())
}

/// The options of a test against `host`.
fn on(host: String) -> Options {
    Options {
        host: Some(host),
        ..Options::default()
    }
}

fn start(users: u32, rate: f64) -> StartRequest {
    StartRequest {
        users: Some(users),
        spawn_rate: Some(rate),
        host: None,
        run_time: None,
        classes: Vec::new(),
    }
}

/// Waits for a snapshot that satisfies `pred`.
async fn until(
    c: &SessionController,
    what: &str,
    pred: impl Fn(&UiSnapshot) -> bool,
) -> Arc<UiSnapshot> {
    let mut snapshots = c.subscribe();
    let wait = async {
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            if pred(&snapshot) {
                return snapshot;
            }
            if snapshots.changed().await.is_err() {
                panic!("the controller went away");
            }
        }
    };
    match tokio::time::timeout(PATIENCE, wait).await {
        Ok(snapshot) => snapshot,
        Err(_) => panic!("gave up waiting for {what}: {:#?}", c.snapshot()),
    }
}

fn row<'a>(s: &'a UiSnapshot, method: &str, name: &str) -> Option<&'a crate::web::StatRow> {
    s.stats
        .iter()
        .find(|r| r.method == method && r.name == name)
}

fn logged(s: &UiSnapshot, text: &str) -> bool {
    s.logs.iter().any(|l| l.message.contains(text))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_shows_the_flags_over_the_file() {
    let options = Options {
        host: Some("http://bob:pw-in-url@127.0.0.1:9".into()),
        spawn_rate: Some(4.0),
        thresholds: vec!["p99(tag list) < 3s".into()],
        ..Options::default()
    };
    let c = controller(SCENARIO, options).await;
    let plan = c.plan();
    assert_eq!(plan.scenario, "Web session");
    assert_eq!(plan.file, "web.kload");
    assert_eq!(plan.users, 3, "the file's users");
    assert_eq!(plan.spawn_rate, 4.0, "the flag's spawn rate");
    assert_eq!(plan.run_time_ms, None);
    assert_eq!(plan.load, LoadModel::Closed);
    assert!(plan.edit_rule.contains("ramps"), "{}", plan.edit_rule);
    let classes: Vec<(&str, u32, usize)> = plan
        .classes
        .iter()
        .map(|c| (c.name.as_str(), c.weight, c.tasks.len()))
        .collect();
    assert_eq!(classes, [("Reader", 3, 2), ("Writer", 1, 1)]);
    assert_eq!(
        plan.thresholds,
        [
            "p95(tag list) < 10s",
            "error_rate < 1%",
            "p99(tag list) < 3s"
        ]
    );
    // The page gets the host without its password (the server hides the plan's too).
    let ready = c.snapshot();
    assert_eq!(ready.state, RunState::Ready);
    assert_eq!(ready.host, "http://bob:***@127.0.0.1:9/");
    assert!(
        c.download(Download::RequestsCsv).is_err(),
        "nothing ran yet"
    );
    assert_eq!(
        c.set_users(2, 1.0).unwrap_err(),
        "no test is running",
        "Edit needs a test"
    );

    let staged = SCENARIO.replace(
        "users 3\n  spawn_rate 2",
        "stages {\n    ramp to 4 over 2s\n    hold 10s\n    ramp to 0 over 1s\n  }",
    );
    let plan = controller(&staged, Options::default()).await.plan();
    assert_eq!(
        plan.load,
        LoadModel::Stages {
            stages: vec![
                StageView {
                    users: 4,
                    duration_ms: 2000
                },
                StageView {
                    users: 4,
                    duration_ms: 10_000
                },
                StageView {
                    users: 0,
                    duration_ms: 1000
                },
            ]
        }
    );
    assert_eq!(plan.users, 4, "the peak");
    assert!(plan.edit_rule.contains("stages"), "{}", plan.edit_rule);
    // `-u` replaces the stages, as in a headless run.
    let users = Options {
        users: Some(7),
        ..Options::default()
    };
    let plan = controller(&staged, users).await.plan();
    assert_eq!((plan.load, plan.users), (LoadModel::Closed, 7));

    let open = SCENARIO.replace("users 3\n  spawn_rate 2", "arrival_rate 5/s\n  max_users 6");
    let plan = controller(&open, Options::default()).await.plan();
    assert_eq!(
        plan.load,
        LoadModel::ArrivalRate {
            rate: 5.0,
            max_users: 6
        }
    );
    assert!(plan.edit_rule.contains("max_users"), "{}", plan.edit_rule);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_counts_users_as_inspect_does() {
    let kibray = r#"
user KibrayUser weight 10 { task t { GET "/" } }
user AdminUser weight 1 { task t { GET "/" } }
user APIOnlyUser weight 2 { task t { GET "/" } }
"#;
    let c = controller(kibray, Options::default()).await;
    assert_eq!(c.split(100, &[]), [77, 8, 15]);
    assert_eq!(c.split(13, &[]), [10, 1, 2]);
    assert_eq!(c.split(5, &["AdminUser".into()]), [0, 5, 0]);
    assert_eq!(c.split(0, &[]), [0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_runs_from_the_form_to_the_downloads_and_a_new_test() {
    let host = target().await;
    let c = controller(SCENARIO, on(host.clone())).await;
    let mut runs = c.runs();
    c.start(start(4, 100.0)).unwrap();
    assert!(
        runs.borrow_and_update().is_some(),
        "the command line hears of the test"
    );
    let err = c.start(start(1, 1.0)).unwrap_err();
    assert!(err.contains("already running"), "{err}");

    let s = until(&c, "rows, failures and a scenario error", |s| {
        s.state == RunState::Running
            && s.user_count == 4
            && row(s, "GET", "/ok").is_some()
            && row(s, "POST", "/echo").is_some()
            && row(s, "GET", "/fail").is_some_and(|r| r.num_failures > 0)
            && !s.scenario_errors.is_empty()
            && s.history.len() >= 2
            && s.thresholds
                .iter()
                .all(|t| t.status != ThresholdStatus::NoData)
    })
    .await;
    assert_eq!(s.host, host);
    assert!(s.started_at.is_some());
    assert_eq!(s.target_users, 4);
    assert_eq!(s.spawn_rate, 100.0);
    let users: Vec<(&str, u32)> = s
        .classes
        .iter()
        .map(|c| (c.name.as_str(), c.users))
        .collect();
    assert_eq!(users, [("Reader", 3), ("Writer", 1)]);
    assert_eq!(s.task_ratios[0].ratio, 0.75);
    assert_eq!(s.task_ratios[0].tasks[0].name, "read");
    assert!((s.task_ratios[0].tasks[0].ratio - 2.0 / 3.0).abs() < 1e-9);

    // Rows with Locust's numbers; Aggregated apart.
    let ok = row(&s, "GET", "/ok").unwrap();
    assert!(ok.num_requests > 0 && ok.num_failures == 0, "{ok:?}");
    assert!(ok.min_response_time <= ok.avg_response_time);
    assert!(ok.avg_response_time <= ok.max_response_time);
    assert!(ok.p90_response_time <= ok.p99_response_time);
    assert!(ok.total_rps > 0.0, "{ok:?}");
    assert_eq!(s.total.name, "Aggregated");
    let sum: u64 = s.stats.iter().map(|r| r.num_requests).sum();
    assert_eq!(s.total.num_requests, sum);
    let fail = row(&s, "GET", "/fail").unwrap();
    assert!(fail.total_fail_per_sec > 0.0, "{fail:?}");
    assert!(s.current.p95.is_some(), "{:?}", s.current);

    // Failures grouped, with what varied; the password replaced.
    let server_error = s.failures.iter().find(|f| f.name == "/fail").unwrap();
    assert_eq!(server_error.kind, "http5xx");
    assert_eq!(server_error.method, "GET");
    assert!(server_error.first_seen <= server_error.last_seen);
    let check = s.failures.iter().find(|f| f.name == "/echo").unwrap();
    assert_eq!(check.kind, "check");
    assert!(check.message.contains("***"), "{}", check.message);

    // The capture that found nothing is a scenario error at its request's line.
    let e = &s.scenario_errors[0];
    assert!(e.message.contains("found nothing"), "{}", e.message);
    // The request is the line above its `name` (1-based: the name's 0-based index).
    let line = SCENARIO
        .lines()
        .position(|l| l.contains(r#"name "missing""#))
        .unwrap();
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("web.kload", line as u32, 5)
    );
    assert_eq!(e.source_line.trim(), r#"GET "/ok" {"#);
    assert!(e.count > 0);

    // Thresholds live: the latency holds, the error rate does not.
    let statuses: Vec<(&str, ThresholdStatus)> = s
        .thresholds
        .iter()
        .map(|t| (t.source.as_str(), t.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("p95(tag list) < 10s", ThresholdStatus::Passing),
            ("error_rate < 1%", ThresholdStatus::Failing)
        ]
    );
    assert!(s.thresholds[1].observed.as_deref().unwrap().ends_with('%'));
    assert!(!s.thresholds[1].aborts);
    assert!(logged(
        &s,
        "Ramping to 4 users at a rate of 100.00 per second"
    ));
    assert!(
        logged(&s, "All users spawned: Reader: 3, Writer: 1"),
        "{:?}",
        s.logs
    );

    // Edit: the session's rule, in its words; the users and the chart follow.
    let message = c.set_users(2, 100.0).unwrap();
    assert_eq!(message, "changing to 2 users at 100 per second");
    let s = until(&c, "2 users", |s| {
        s.user_count == 2 && s.history.last().is_some_and(|p| p.user_count == 2)
    })
    .await;
    assert_eq!(s.target_users, 2);
    assert!(logged(&s, "Users changed: changing to 2 users"));
    assert!(
        s.history.iter().any(|p| p.user_count == 4),
        "the chart keeps the peak"
    );

    // Downloads of the run so far: Locust's files, the report, the result.
    let csv = text(c.download(Download::RequestsCsv).unwrap());
    assert_eq!(csv.lines().next().unwrap(), STATS_HEADER.join(","));
    assert!(csv.contains("GET,/ok,"), "{csv}");
    let failures = text(c.download(Download::FailuresCsv).unwrap());
    assert_eq!(failures.lines().next().unwrap(), FAILURES_HEADER.join(","));
    let exceptions = text(c.download(Download::ExceptionsCsv).unwrap());
    assert_eq!(
        exceptions.lines().next().unwrap(),
        EXCEPTIONS_HEADER.join(",")
    );
    assert!(exceptions.contains("found nothing"), "{exceptions}");
    let history = text(c.download(Download::FullHistoryCsv).unwrap());
    assert!(history.lines().count() > 1, "{history}");
    let json: serde_json::Value =
        serde_json::from_slice(&c.download(Download::Json).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 2);
    let html = text(c.download(Download::HtmlReport).unwrap());
    assert!(html.starts_with("<!DOCTYPE html>"));
    for body in [
        &csv,
        &failures,
        &exceptions,
        &history,
        &html,
        &json.to_string(),
    ] {
        assert!(!body.contains(SECRET), "a download shows the password");
    }
    let page = serde_json::to_string(&PageView::of(&c.snapshot())).unwrap();
    assert!(!page.contains(SECRET), "the page shows the password");

    // Reset: statistics and chart start again, the users keep running.
    let before = c.snapshot().total.num_requests;
    c.reset_stats();
    let s = c.snapshot();
    assert!(
        s.total.num_requests < before,
        "{} → {}",
        before,
        s.total.num_requests
    );
    assert!(s.history.len() <= 1);
    assert!(logged(&s, "Resetting stats"));
    assert_eq!(s.state, RunState::Running);
    // The verdict is on the statistics since the reset: wait for a failure among them,
    // or a stop right after the reset could end on one passing request.
    until(&c, "a failure after the reset", |s| {
        row(s, "GET", "/fail").is_some_and(|r| r.num_failures > 0)
    })
    .await;

    // Stop: the test ends, its verdict is in the log.
    c.stop();
    assert!(logged(&c.snapshot(), "Stopping the test"));
    until(&c, "the end", |s| s.state == RunState::Stopped).await;
    let s = until(&c, "the verdict", |s| logged(s, "Test failed")).await;
    assert_eq!(s.user_count, 0);
    assert!(logged(&s, "error_rate < 1%"), "{:?}", s.logs);
    assert_eq!(c.set_users(3, 1.0).unwrap_err(), "no test is running");
    let json: serde_json::Value =
        serde_json::from_slice(&c.download(Download::Json).unwrap()).unwrap();
    assert!(
        json["info"]["thresholds"]
            .as_array()
            .is_some_and(|t| t.len() == 2)
    );

    // New test: fresh statistics and chart, only the class asked for.
    let first_started = s.started_at.unwrap();
    c.start(StartRequest {
        classes: vec!["Reader".into()],
        run_time: Some(Duration::from_secs(2)),
        ..start(2, 100.0)
    })
    .unwrap();
    assert!(runs.has_changed().unwrap(), "a second run");
    let s = until(&c, "the second test's rows", |s| {
        row(s, "GET", "/ok").is_some()
    })
    .await;
    assert!(s.started_at.unwrap() >= first_started);
    assert!(row(&s, "POST", "/echo").is_none(), "Writer was left out");
    assert_eq!(s.classes[1].users, 0);
    assert!(s.history.iter().all(|p| p.time >= s.started_at.unwrap()));
    assert_eq!(s.run_time_ms, Some(2000));
    // The run time ends it by itself.
    until(&c, "the second test's end", |s| {
        s.state == RunState::Stopped
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threshold_that_aborts_ends_the_test_and_the_log_says_why() {
    let host = target().await;
    let source = r#"
user Breaker {
  wait constant 10ms
  task t {
    GET "/fail"
  }
}

thresholds {
  error_rate < 1% abort after 5
}
"#;
    let c = controller(source, on(host)).await;
    c.start(start(2, 100.0)).unwrap();
    let s = until(&c, "the abort", |s| {
        s.state == RunState::Stopped && logged(s, "the test was aborted")
    })
    .await;
    let t = &s.thresholds[0];
    assert!(t.aborts);
    assert_eq!(t.status, ThresholdStatus::Failing);
    assert!(
        logged(&s, "Threshold `error_rate < 1% abort after 5` failed"),
        "{:?}",
        s.logs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_under_stages_replaces_them_and_under_an_arrival_rate_caps_users() {
    let host = target().await;
    let options = on(host);
    let staged = r#"
load {
  stages {
    ramp to 3 over 1s
    hold 1m
  }
}
user U { wait constant 20ms  task t { GET "/ok" } }
"#;
    let c = controller(staged, options.clone()).await;
    // The form keeps the stages: no user count.
    c.start(StartRequest {
        users: None,
        spawn_rate: None,
        ..start(0, 1.0)
    })
    .unwrap();
    assert!(logged(&c.snapshot(), "Starting the test: stages"));
    until(&c, "3 users", |s| s.user_count == 3).await;
    let message = c.set_users(1, 50.0).unwrap();
    assert!(
        message.starts_with("stages replaced by a fixed count"),
        "{message}"
    );
    let s = until(&c, "1 user", |s| s.user_count == 1).await;
    assert_eq!(s.spawn_rate, 50.0);
    c.stop();
    until(&c, "the end", |s| s.state == RunState::Stopped).await;

    let open = r#"
load {
  arrival_rate 20/s
  max_users 4
}
user U { wait constant 0s  task t { GET "/ok" } }
"#;
    let c = controller(open, options).await;
    c.start(StartRequest {
        users: None,
        spawn_rate: None,
        ..start(0, 1.0)
    })
    .unwrap();
    until(&c, "arrivals", |s| s.total.num_requests > 0).await;
    let message = c.set_users(2, 5.0).unwrap();
    assert!(message.contains("at most 2 users busy"), "{message}");
    assert_eq!(c.snapshot().target_users, 2);
    c.stop();
    until(&c, "the end", |s| s.state == RunState::Stopped).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_the_session_refuses_is_an_error_for_the_page() {
    let c = controller(SCENARIO, Options::default()).await;
    let err = c
        .start(StartRequest {
            host: Some("ftp://example.com".into()),
            ..start(1, 1.0)
        })
        .unwrap_err();
    assert!(err.contains("invalid host"), "{err}");
    let err = c
        .start(StartRequest {
            classes: vec!["Nobody".into()],
            ..start(1, 1.0)
        })
        .unwrap_err();
    assert!(err.contains("no user class `Nobody`"), "{err}");
    assert_eq!(c.snapshot().state, RunState::Ready, "nothing started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_serves_a_real_run() {
    let host = target().await;
    let c = controller(SCENARIO, on(host)).await;
    let server = serve(
        c.clone(),
        WebOptions {
            port: 0,
            ..WebOptions::default()
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let body: serde_json::Value = client
        .post(format!("{base}/swarm"))
        .form(&[
            ("user_count", "4"),
            ("spawn_rate", "50"),
            ("run_time", "2s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["run_time"], 2);
    until(&c, "the run's end", |s| {
        s.state == RunState::Stopped && s.total.num_requests > 0
    })
    .await;
    let stats: serde_json::Value = client
        .get(format!("{base}/stats/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["state"], "stopped");
    let names: Vec<&str> = stats["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"/ok") && names.last() == Some(&"Aggregated"),
        "{names:?}"
    );
    let csv = client
        .get(format!("{base}/stats/requests/csv"))
        .send()
        .await
        .unwrap();
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("_web.kload_127.0.0.1_") && disposition.ends_with("_requests.csv\""),
        "{disposition}"
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().next().unwrap(), STATS_HEADER.join(","));
    let page = client
        .get(format!("{base}/snapshot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(SECRET));
    server.shutdown().await;
}
