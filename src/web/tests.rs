//! The web UI over HTTP, against the fake controller on 127.0.0.1 port 0: every Locust
//! endpoint's shape (field names and JSON types of Locust's `web.py`), kload's additions,
//! the guard, bounds, and golden files under `tests/golden/web/` (`KLOAD_BLESS=1`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use serde_json::Value;

use super::fake::{self, FakeConfig, FakeController};
use super::routes::file_name;
use super::*;

struct Ui {
    fake: Arc<FakeController>,
    server: WebServer,
    client: reqwest::Client,
}

impl Ui {
    async fn start(config: FakeConfig) -> Ui {
        Ui::start_with(
            config,
            WebOptions {
                port: 0,
                ..WebOptions::default()
            },
        )
        .await
    }

    async fn start_with(config: FakeConfig, options: WebOptions) -> Ui {
        let fake = FakeController::new(config);
        let server = serve(fake.clone(), options).await.unwrap();
        Ui {
            fake,
            server,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "GET {path}"
        );
        response.json().await.unwrap()
    }

    async fn swarm(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/swarm"))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Starts 10 users at 5/s and runs `secs` simulated seconds.
    async fn run(&self, secs: u32) {
        let (status, body) = self
            .swarm(&[("user_count", "10"), ("spawn_rate", "5")])
            .await;
        assert_eq!(status, 200, "{body}");
        for _ in 0..secs {
            self.fake.tick();
        }
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Locust's `StatsEntry.to_dict()` fields, and those its legacy UI read.
const STAT_FIELDS: &[&str] = &[
    "method",
    "name",
    "safe_name",
    "num_requests",
    "num_failures",
    "min_response_time",
    "max_response_time",
    "current_rps",
    "current_fail_per_sec",
    "avg_response_time",
    "median_response_time",
    "total_rps",
    "total_fail_per_sec",
    "response_time_percentile_0.95",
    "response_time_percentile_0.99",
    "ninetieth_response_time",
    "ninety_ninth_response_time",
    "avg_content_length",
];

#[tokio::test]
async fn stats_requests_has_locusts_fields_and_types() {
    let ui = Ui::start(FakeConfig::default()).await;
    let ready = ui.json("/stats/requests").await;
    assert_eq!(ready["state"], "ready");
    assert_eq!(ready["user_count"], 0);
    assert_eq!(
        ready["stats"].as_array().unwrap().len(),
        1,
        "only Aggregated"
    );
    ui.run(15).await;
    let body = ui.json("/stats/requests").await;
    assert_eq!(
        keys(&body),
        set(&[
            "stats",
            "errors",
            "current_rps",
            "current_fail_per_sec",
            "total_rps",
            "total_fail_per_sec",
            "total_avg_response_time",
            "fail_ratio",
            "current_response_time_percentiles",
            "current_response_time_percentile_1",
            "current_response_time_percentile_2",
            "state",
            "user_count",
        ])
    );
    assert_eq!(body["state"], "running");
    assert_eq!(body["user_count"], 10);
    assert!(body["fail_ratio"].is_f64());
    assert!(body["total_rps"].as_f64().unwrap() > 0.0);
    assert_eq!(
        keys(&body["current_response_time_percentiles"]),
        set(&[
            "response_time_percentile_0.5",
            "response_time_percentile_0.95"
        ])
    );
    assert!(body["current_response_time_percentiles"]["response_time_percentile_0.95"].is_number());

    let stats = body["stats"].as_array().unwrap();
    assert_eq!(stats.len(), 9, "8 names and Aggregated");
    for row in stats {
        assert_eq!(keys(row), set(STAT_FIELDS), "{row}");
        for int in [
            "num_requests",
            "num_failures",
            "min_response_time",
            "max_response_time",
            "response_time_percentile_0.95",
            "response_time_percentile_0.99",
        ] {
            assert!(row[int].is_u64(), "{int} of {row}");
        }
        for float in [
            "avg_response_time",
            "current_rps",
            "total_rps",
            "avg_content_length",
        ] {
            assert!(row[float].is_f64(), "{float} of {row}");
        }
    }
    let last = stats.last().unwrap();
    assert_eq!(
        (last["method"].as_str(), last["name"].as_str()),
        (Some(""), Some("Aggregated"))
    );
    let total: u64 = stats[..8]
        .iter()
        .map(|r| r["num_requests"].as_u64().unwrap())
        .sum();
    assert_eq!(last["num_requests"], total);
    let names: Vec<(&str, &str)> = stats[..8]
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["method"].as_str().unwrap()))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "Locust's sort_stats order");

    let errors = body["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for e in errors {
        assert_eq!(
            keys(e),
            set(&[
                "method",
                "name",
                "error",
                "occurrences",
                "first_seen",
                "last_seen"
            ])
        );
        assert!(e["occurrences"].is_u64() && e["first_seen"].is_f64(), "{e}");
    }
    crate::golden::check(
        "web",
        "stats_requests.json",
        serde_json::to_string_pretty(&body).unwrap().as_bytes(),
    );
}

#[tokio::test]
async fn swarm_starts_edits_and_answers_like_locust() {
    let ui = Ui::start(FakeConfig::default()).await;
    let (status, body) = ui
        .swarm(&[
            ("user_count", "4"),
            ("spawn_rate", "2"),
            ("host", "http://127.0.0.1:9000"),
            ("run_time", "1m"),
        ])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({
            "success": true, "message": "Swarming started",
            "host": "http://127.0.0.1:9000", "run_time": 60
        })
    );
    ui.fake.tick();
    assert_eq!(ui.json("/stats/requests").await["user_count"], 2);
    ui.fake.tick();
    let snapshot = ui.json("/snapshot").await;
    assert_eq!(snapshot["state"], "running");
    assert_eq!(snapshot["host"], "http://127.0.0.1:9000");

    // While running, /swarm changes the users (Locust's Edit).
    let (status, body) = ui.swarm(&[("user_count", "9"), ("spawn_rate", "3")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "ramping to 9 users at 3 users/s");
    for want in [7, 9, 9] {
        ui.fake.tick();
        assert_eq!(ui.json("/stats/requests").await["user_count"], want);
    }
    let (status, body) = ui.swarm(&[("user_count", "9")]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Missing user_count or spawn_rate from /swarm request"
    );

    // Run time: stops by itself.
    for _ in 0..60 {
        ui.fake.tick();
    }
    assert_eq!(ui.json("/stats/requests").await["state"], "stopped");
}

#[tokio::test]
async fn swarm_refuses_bad_forms_with_locusts_shape() {
    let ui = Ui::start(FakeConfig::default()).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("spawn_rate", "1")],
            "Missing user_count or spawn_rate from /swarm request",
        ),
        (
            &[("user_count", "x"), ("spawn_rate", "1")],
            "user_count must be a whole number",
        ),
        (
            &[
                ("user_count", "1"),
                ("spawn_rate", "1"),
                ("run_time", "soon"),
            ],
            "Valid run_time formats are",
        ),
        (
            &[
                ("user_count", "1"),
                ("spawn_rate", "1"),
                ("user_classes", "Ghost"),
            ],
            "unknown user class \"Ghost\" (the scenario has KibrayUser, AdminUser, APIOnlyUser)",
        ),
    ];
    for (form, want) in cases {
        let (status, body) = ui.swarm(form).await;
        assert_eq!(status, 400, "{form:?}");
        assert_eq!(keys(&body), set(&["success", "message", "host"]));
        assert_eq!(body["success"], false);
        assert!(
            body["message"].as_str().unwrap().starts_with(want),
            "{form:?}: {body}"
        );
    }
    assert_eq!(
        ui.json("/stats/requests").await["state"],
        "ready",
        "nothing started"
    );

    // Multipart forms (curl -F) work too.
    let form = reqwest::multipart::Form::new()
        .text("user_count", "3")
        .text("spawn_rate", "3")
        .text("user_classes", "AdminUser");
    let response = ui
        .client
        .post(ui.url("/swarm"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    ui.fake.tick();
    let snapshot = ui.json("/snapshot").await;
    let classes: Vec<(String, u64)> = snapshot["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["users"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        vec![
            ("KibrayUser".into(), 0),
            ("AdminUser".into(), 3),
            ("APIOnlyUser".into(), 0)
        ]
    );
}

#[tokio::test]
async fn stages_plans_may_leave_out_the_users() {
    let ui = Ui::start(FakeConfig {
        load: fake::stages(),
        ..FakeConfig::default()
    })
    .await;
    let plan = ui.json("/plan").await;
    assert_eq!(plan["load"]["kind"], "stages");
    assert_eq!(
        plan["load"]["stages"][0],
        serde_json::json!({"users": 30, "duration_ms": 60000})
    );
    let (status, body) = ui.swarm(&[]).await;
    assert_eq!(status, 200, "{body}");
    ui.fake.tick();
    assert_eq!(ui.json("/snapshot").await["target_users"], 30);
    let (_, body) = ui.swarm(&[("user_count", "5"), ("spawn_rate", "5")]).await;
    assert_eq!(
        body["message"],
        "load profile replaced by a fixed count of 5 users"
    );
}

#[tokio::test]
async fn stop_reset_and_a_new_test() {
    let ui = Ui::start(FakeConfig::default()).await;
    ui.run(5).await;
    let response = ui.get("/stop").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"success": true, "message": "Test stopped"})
    );
    assert_eq!(ui.json("/stats/requests").await["state"], "stopping");
    ui.fake.tick();
    let stopped = ui.json("/stats/requests").await;
    assert_eq!(stopped["state"], "stopped");
    assert_eq!(stopped["user_count"], 0);
    assert!(
        stopped["stats"][0]["num_requests"].as_u64().unwrap() > 0,
        "statistics kept"
    );

    let response = ui.get("/stats/reset").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    let reset = ui.json("/stats/requests").await;
    assert_eq!(reset["stats"].as_array().unwrap().len(), 1);
    assert_eq!(reset["stats"][0]["num_requests"], 0);
    assert_eq!(reset["errors"], serde_json::json!([]));

    // New test from stopped.
    ui.run(2).await;
    assert_eq!(ui.json("/stats/requests").await["state"], "running");
}

#[tokio::test]
async fn downloads_have_locusts_names_and_headers() {
    let ui = Ui::start(FakeConfig::default()).await;
    ui.run(3).await;
    let table: &[(&str, &str, &str, &str)] = &[
        (
            "/stats/requests/csv",
            "text/csv; charset=utf-8",
            "_requests.csv",
            "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%",
        ),
        (
            "/stats/requests_full_history/csv",
            "text/csv; charset=utf-8",
            "_requests_full_history.csv",
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size",
        ),
        (
            "/stats/failures/csv",
            "text/csv; charset=utf-8",
            "_failures.csv",
            "Method,Name,Error,Occurrences,First Seen,Last Seen",
        ),
        (
            "/exceptions/csv",
            "text/csv; charset=utf-8",
            "_exceptions.csv",
            "Count,Message,Traceback,Nodes",
        ),
        (
            "/stats/report?download=1",
            "text/html; charset=utf-8",
            "_report.html",
            "<!DOCTYPE html>",
        ),
        ("/stats/json", "application/json", "_result.json", "{"),
    ];
    for (path, content_type, suffix, first_line) in table {
        let response = ui.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], *content_type, "{path}");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"kload_")
                && disposition.ends_with(&format!("_kibray.kload_127.0.0.1_8000{suffix}\"")),
            "{path}: {disposition}"
        );
        let body = response.text().await.unwrap();
        assert_eq!(body.lines().next().unwrap_or(""), *first_line, "{path}");
    }
    // Shown in the browser: no attachment, the report's own policy.
    let response = ui.get("/stats/report").await;
    assert!(response.headers().get("content-disposition").is_none());
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'unsafe-inline'") && csp.contains("default-src 'none'"));
    let json: Value = ui.get("/stats/json").await.json().await.unwrap();
    assert_eq!(json["schema_version"], crate::metrics::SCHEMA_VERSION);
}

#[test]
fn download_names_follow_locust() {
    let t = chrono::Local
        .with_ymd_and_hms(2026, 11, 27, 8, 5, 0)
        .single()
        .unwrap();
    assert_eq!(
        file_name(
            "scenarios/kibray.kload",
            "https://staging.example.com",
            t,
            Download::RequestsCsv
        ),
        "kload_2026-11-27-08h05_kibray.kload_staging.example.com_requests.csv"
    );
    assert_eq!(
        file_name(
            "my test.kload",
            "http://u:pw@10.0.0.1:8000/api",
            t,
            Download::FailuresCsv
        ),
        "kload_2026-11-27-08h05_my_test.kload_10.0.0.1_8000_failures.csv"
    );
    assert_eq!(
        file_name("", "", t, Download::Json),
        "kload_2026-11-27-08h05_scenario_result.json"
    );
}

#[tokio::test]
async fn tasks_exceptions_logs_and_workers() {
    let ui = Ui::start(FakeConfig::default()).await;
    ui.run(7).await;
    let tasks = ui.json("/tasks").await;
    assert_eq!(keys(&tasks), set(&["per_class", "total"]));
    let kibray = &tasks["per_class"]["KibrayUser"];
    assert_eq!(kibray["ratio"], 0.7, "7 of 10 users: KKPKKAKKKP");
    assert_eq!(kibray["tasks"]["list_projects"]["ratio"], 5.0 / 15.0);
    assert_eq!(
        tasks["total"]["KibrayUser"]["tasks"]["list_projects"]["ratio"],
        5.0 / 15.0 * 0.7
    );
    crate::golden::check(
        "web",
        "tasks.json",
        serde_json::to_string_pretty(&tasks).unwrap().as_bytes(),
    );

    let exceptions = ui.json("/exceptions").await;
    let rows = exceptions["exceptions"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(keys(&rows[0]), set(&["count", "msg", "traceback", "nodes"]));
    assert_eq!(rows[0]["count"], 2);
    assert_eq!(
        rows[0]["traceback"],
        "scenarios/kibray.kload:39:7\n   39 |       capture project_ids = jsonpath \"$.results[*].id\""
    );

    let logs = ui.json("/logs").await;
    assert_eq!(logs["workers"], serde_json::json!({}));
    let lines = logs["master"].as_array().unwrap();
    assert!(
        lines[0]
            .as_str()
            .unwrap()
            .ends_with("/INFO/kload: Ramping to 10 users at a rate of 5 per second"),
        "{lines:?}"
    );

    assert_eq!(
        ui.json("/worker-count").await,
        serde_json::json!({"worker_count": 0})
    );
}

#[tokio::test]
async fn plan_and_split_for_the_start_form() {
    let ui = Ui::start(FakeConfig::default()).await;
    let plan = ui.json("/plan").await;
    crate::golden::check(
        "web",
        "plan.json",
        serde_json::to_string_pretty(&plan).unwrap().as_bytes(),
    );
    let split = ui.json("/split?users=100").await;
    assert_eq!(
        split,
        serde_json::json!({"users": 100, "classes": [
            {"name": "KibrayUser", "users": 77},
            {"name": "AdminUser", "users": 8},
            {"name": "APIOnlyUser", "users": 15},
        ]}),
        "Locust's distribution, as kload inspect shows it"
    );
    let split = ui
        .json("/split?users=10&user_classes=AdminUser&user_classes=APIOnlyUser")
        .await;
    let users: Vec<u64> = split["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["users"].as_u64().unwrap())
        .collect();
    assert_eq!(users, vec![0, 3, 7]);
    assert_eq!(ui.get("/split?users=many").await.status(), 400);
}

#[tokio::test]
async fn snapshot_is_bounded_with_many_names() {
    let ui = Ui::start(FakeConfig {
        extra_names: 600,
        ..FakeConfig::default()
    })
    .await;
    ui.run(3).await;
    let stats = ui.json("/stats/requests").await;
    let rows = stats["stats"].as_array().unwrap();
    assert_eq!(rows.len(), MAX_ROWS + 1, "500 rows and Aggregated");
    assert_eq!(rows.last().unwrap()["name"], "Aggregated");
    assert_eq!(rows[0]["name"], "/api/v1/bi/kpis/", "the first 500 by name");
    let page = ui.json("/snapshot").await;
    assert_eq!(page["stats"].as_array().unwrap().len(), MAX_ROWS);
    assert_eq!(page["total_names"], 608);
    let bytes = serde_json::to_vec(&page).unwrap().len();
    assert!(bytes < 400_000, "page view is {bytes} bytes");
}

#[test]
fn page_view_clips_texts_and_keeps_the_newest() {
    let mut s = UiSnapshot::ready("https://bob:hunter2@example.com/");
    s.stats = (0..700)
        .map(|i| StatRow::new("GET", format!("/n/{i:03}")))
        .collect();
    s.stats.push(StatRow::new("GET", "x".repeat(5000)));
    s.logs = (0..900)
        .map(|i| LogLine {
            time: f64::from(i),
            level: "INFO".into(),
            message: format!("line {i}"),
        })
        .collect();
    s.history = (0..1000)
        .map(|i| HistoryPoint {
            time: f64::from(i),
            user_count: 1,
            rps: 0.0,
            fps: 0.0,
            p50: None,
            p95: None,
            p99: None,
            corrected_p50: None,
            corrected_p95: None,
            corrected_p99: None,
        })
        .collect();
    let view = PageView::of(&s);
    assert_eq!(view.snapshot.host, "https://bob:***@example.com/");
    assert_eq!(view.snapshot.stats.len(), MAX_ROWS);
    assert_eq!(view.total_names, 701);
    assert_eq!(view.snapshot.logs.len(), MAX_LOG_LINES);
    assert_eq!(view.snapshot.logs[0].message, "line 400");
    assert_eq!(view.snapshot.history.len(), MAX_HISTORY);
    assert_eq!(view.snapshot.history[0].time, 400.0);
    let mut long = UiSnapshot::ready("");
    long.stats.push(StatRow::new("GET", "x".repeat(5000)));
    let view = PageView::of(&long);
    assert_eq!(view.snapshot.stats[0].name.chars().count(), MAX_TEXT + 1);
}

#[tokio::test]
async fn page_json_is_golden() {
    let ui = Ui::start(FakeConfig::default()).await;
    ui.run(12).await;
    let page = ui.json("/snapshot").await;
    crate::golden::check(
        "web",
        "snapshot.json",
        serde_json::to_string_pretty(&page).unwrap().as_bytes(),
    );
}

#[tokio::test]
async fn events_stream_snapshots() {
    let ui = Ui::start(FakeConfig::default()).await;
    let mut response = ui.get("/events").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let mut next_event = async |text: &mut String| -> Value {
        loop {
            if let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                let mut lines = event.lines();
                if event.starts_with(':') {
                    continue; // keep-alive
                }
                assert_eq!(lines.next(), Some("event: snapshot"));
                let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
                return serde_json::from_str(data).unwrap();
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream goes on");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    let first = next_event(&mut text).await;
    assert_eq!(first["state"], "ready");
    ui.run(1).await;
    // The start and the tick each make a snapshot; a slow reader may skip to the newest.
    let mut event = next_event(&mut text).await;
    while event["elapsed_ms"] != 1000 {
        event = next_event(&mut text).await;
    }
    assert_eq!(event["state"], "spawning");
    assert_eq!(event["user_count"], 5);

    // Shutting down ends the stream instead of waiting for it.
    let started = std::time::Instant::now();
    ui.server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy() {
    let ui = Ui::start(FakeConfig::default()).await;
    let response = ui.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self';"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<script src="/assets/app.js" defer></script>"#));
    for outside in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(outside), "the page loads {outside}...");
    }
    for (path, kind) in [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/chart.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let response = ui.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], kind, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("https://"), "{path} names an outside URL");
    }
    assert_eq!(ui.get("/nothing").await.status(), 404);
    assert_eq!(
        ui.client
            .post(ui.url("/stop"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}

#[tokio::test]
async fn the_guard_applies_to_every_route() {
    let ui = Ui::start(FakeConfig::default()).await;
    // DNS rebinding: a page of evil.example that resolves to 127.0.0.1.
    let response = ui
        .client
        .get(ui.url("/stats/requests"))
        .header("host", "evil.example:8089")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A cross-site form post.
    let response = ui
        .client
        .post(ui.url("/swarm"))
        .header("origin", "http://evil.example")
        .form(&[("user_count", "1"), ("spawn_rate", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = ui
        .client
        .get(ui.url("/stop"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "no-cors")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        ui.json("/stats/requests").await["state"],
        "ready",
        "nothing started"
    );
}

#[tokio::test]
async fn a_login_is_asked_for_and_required_off_loopback() {
    let login: WebLogin = "ana:pw:with:colons".parse().unwrap();
    let err = serve(
        FakeController::new(FakeConfig::default()),
        WebOptions {
            host: "0.0.0.0".into(),
            port: 0,
            login: None,
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, WebError::LoginRequired { .. }), "{err}");

    let ui = Ui::start_with(
        FakeConfig::default(),
        WebOptions {
            host: "127.0.0.1".into(),
            port: 0,
            login: Some(login),
        },
    )
    .await;
    let response = ui.get("/").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Basic realm="kload", charset="UTF-8""#
    );
    let response = ui
        .client
        .get(ui.url("/stats/requests"))
        .basic_auth("ana", Some("pw:with:colons"))
        .header("host", "loadgen.internal")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = ui
        .client
        .get(ui.url("/"))
        .basic_auth("ana", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_taken_port_is_reported() {
    let ui = Ui::start(FakeConfig::default()).await;
    let err = serve(
        ui.fake.clone(),
        WebOptions {
            port: ui.server.addr().port(),
            ..WebOptions::default()
        },
    )
    .await
    .err()
    .expect("port taken");
    assert!(err.to_string().contains("-P/--web-port"), "{err}");
}

#[tokio::test]
async fn secrets_in_host_urls_do_not_reach_the_page() {
    let ui = Ui::start(FakeConfig::default()).await;
    let (status, body) = ui
        .swarm(&[
            ("user_count", "1"),
            ("spawn_rate", "1"),
            ("host", "http://bob:hunter2@127.0.0.1:8000"),
        ])
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["host"], "http://bob:***@127.0.0.1:8000/");
    ui.fake.tick();
    for path in ["/snapshot", "/stats/requests", "/plan", "/logs"] {
        let text = ui.get(path).await.text().await.unwrap();
        assert!(!text.contains("hunter2"), "{path}: {text}");
    }
    let mut events = ui.get("/events").await;
    let chunk = events.chunk().await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&chunk).contains("hunter2"));
}

/// A plan whose host has a password: the form shows `***`, and sending that back means the
/// plan's host, not a host with the password `***`.
#[tokio::test]
async fn the_redacted_plan_host_sent_back_keeps_the_password() {
    struct Secret(Arc<FakeController>);
    impl Controller for Secret {
        fn plan(&self) -> PlanView {
            PlanView {
                host: "http://bob:hunter2@127.0.0.1:8000".into(),
                ..self.0.plan()
            }
        }
        fn split(&self, users: u32, classes: &[String]) -> Vec<u32> {
            self.0.split(users, classes)
        }
        fn start(&self, request: StartRequest) -> Result<(), String> {
            assert_eq!(request.host, None, "the plan's own host");
            self.0.start(request)
        }
        fn set_users(&self, users: u32, spawn_rate: f64) -> Result<String, String> {
            self.0.set_users(users, spawn_rate)
        }
        fn stop(&self) {
            self.0.stop()
        }
        fn reset_stats(&self) {
            self.0.reset_stats()
        }
        fn snapshot(&self) -> Arc<UiSnapshot> {
            self.0.snapshot()
        }
        fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<UiSnapshot>> {
            self.0.subscribe()
        }
        fn download(&self, what: Download) -> Result<Vec<u8>, String> {
            self.0.download(what)
        }
    }
    let fake = FakeController::new(FakeConfig::default());
    let server = serve(
        Arc::new(Secret(fake)),
        WebOptions {
            port: 0,
            ..WebOptions::default()
        },
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.addr());
    let plan: Value = client
        .get(format!("{base}/plan"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan["host"], "http://bob:***@127.0.0.1:8000/");
    let body: Value = client
        .post(format!("{base}/swarm"))
        .form(&[
            ("user_count", "1"),
            ("spawn_rate", "1"),
            ("host", plan["host"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["host"], "http://bob:***@127.0.0.1:8000/");
}

/// Serves two fake UIs for the browser test (`tests/browser/run.sh`): prints
/// `KLOAD_WEBUI_URL=...` (Kibray-like names) and `KLOAD_WEBUI_MANY_URL=...` (608 names),
/// ticks every 300 ms, and serves until stdin closes (or 10 minutes pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "serves until stdin closes; run by tests/browser/run.sh"]
async fn serve_for_browser() {
    let tick = Duration::from_millis(
        std::env::var("KLOAD_WEBUI_TICK_MS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(300),
    );
    let mut servers = Vec::new();
    for (label, extra_names) in [("KLOAD_WEBUI_URL", 0), ("KLOAD_WEBUI_MANY_URL", 600)] {
        let fake = FakeController::new(FakeConfig {
            extra_names,
            ..FakeConfig::default()
        });
        fake.tick_every(tick);
        let server = serve(
            fake,
            WebOptions {
                port: 0,
                ..WebOptions::default()
            },
        )
        .await
        .unwrap();
        println!("{label}={}", server.url());
        servers.push(server);
    }
    use std::io::Write as _;
    std::io::stdout().flush().unwrap();
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    });
    let _ = tokio::time::timeout(Duration::from_secs(600), stdin_closed).await;
    for server in servers {
        server.shutdown().await;
    }
}
