//! The exporter against in-process HTTP servers on 127.0.0.1:0: a remote-write receiver
//! that decodes what it gets (and can fail, reject or stall on purpose), and scrapes of the
//! `/metrics` server. No test asserts on a duration; waits are bounded by `PATIENCE`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::exposition::tests::Fixture;
use super::wire::read;
use super::*;
use crate::metrics::LatencyHistogram;

const PATIENCE: Duration = Duration::from_secs(30);

/// How the receiver answers the n-th request (0-based).
#[derive(Clone, Copy)]
enum Behaviour {
    Accept,
    /// 503 for the first `n` requests, then accept.
    FailFirst(usize),
    /// 400 to everything.
    Reject,
    /// Answers only after this long.
    Stall(Duration),
}

#[derive(Default)]
struct Received {
    headers: Vec<HeaderMap>,
    /// Decompressed `WriteRequest` bodies of the accepted requests.
    bodies: Vec<Vec<u8>>,
}

#[derive(Clone)]
struct Receiver {
    behaviour: Behaviour,
    seen: Arc<AtomicUsize>,
    received: Arc<Mutex<Received>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.seen.fetch_add(1, Ordering::SeqCst);
    let status = match r.behaviour {
        Behaviour::Accept => StatusCode::NO_CONTENT,
        Behaviour::FailFirst(k) if n < k => StatusCode::SERVICE_UNAVAILABLE,
        Behaviour::FailFirst(_) => StatusCode::NO_CONTENT,
        Behaviour::Reject => StatusCode::BAD_REQUEST,
        Behaviour::Stall(d) => {
            tokio::time::sleep(d).await;
            StatusCode::NO_CONTENT
        }
    };
    if status.is_success() {
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&body)
            .expect("snappy block format");
        let mut received = r.received.lock().unwrap();
        received.headers.push(headers);
        received.bodies.push(raw);
    }
    status
}

async fn receiver(behaviour: Behaviour) -> (SocketAddr, Receiver) {
    let r = Receiver {
        behaviour,
        seen: Arc::new(AtomicUsize::new(0)),
        received: Arc::new(Mutex::new(Received::default())),
    };
    let app = Router::new()
        .route("/api/v1/write", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, r)
}

fn config(addr: SocketAddr) -> RemoteWriteConfig {
    let url = RemoteUrl::parse(&format!("http://{addr}/api/v1/write")).unwrap();
    let mut c = RemoteWriteConfig::new(url);
    c.interval = Duration::from_millis(20);
    c.timeout = Duration::from_millis(500);
    c.min_backoff = Duration::from_millis(5);
    c.max_backoff = Duration::from_millis(20);
    c.final_timeout = Duration::from_secs(5);
    c
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// (timestamp of the first sample or histogram, value of `kload_dropped_iterations_total`)
/// of one decoded `WriteRequest`.
fn timestamp_and_dropped(body: &[u8]) -> (i64, f64) {
    let request = read::fields(body);
    let mut first_ts = None;
    let mut dropped = None;
    for ts in read::all(&request, 1) {
        let ts = read::fields(ts.bytes());
        let is_dropped = read::all(&ts, 1).iter().any(|l| {
            let l = read::fields(l.bytes());
            read::one(&l, 2).str() == "kload_dropped_iterations_total"
        });
        for sample in read::all(&ts, 2) {
            let s = read::fields(sample.bytes());
            first_ts.get_or_insert(read::one(&s, 2).varint() as i64);
            if is_dropped {
                dropped = Some(read::one(&s, 1).double());
            }
        }
    }
    (first_ts.unwrap(), dropped.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_arrive_in_order_with_the_remote_write_headers() {
    let (addr, r) = receiver(Behaviour::Accept).await;
    let exporter = Exporter::with_remote_write(config(addr), 5).unwrap();
    let f = Fixture::new();
    let mut frame = f.frame();
    for i in 0..3 {
        frame.dropped_iterations = i;
        exporter.publish(&frame);
        let want = i as usize + 1;
        wait_until("a push per frame", || {
            r.received.lock().unwrap().bodies.len() >= want
        })
        .await;
    }
    frame.dropped_iterations = 99;
    let report = exporter.finish(&frame).await;
    let stats = report.remote_write.unwrap();
    assert_eq!(stats.queued, stats.sent, "{stats:?}");
    assert_eq!((stats.dropped, stats.failed_attempts), (0, 0), "{stats:?}");
    assert!(stats.bytes_sent > 0);

    let received = r.received.lock().unwrap();
    assert_eq!(received.bodies.len() as u64, stats.sent);
    for h in &received.headers {
        assert_eq!(h["content-encoding"], "snappy");
        assert_eq!(h["content-type"], "application/x-protobuf");
        assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
        assert!(h["user-agent"].to_str().unwrap().starts_with("kload/"));
    }
    let decoded: Vec<(i64, f64)> = received
        .bodies
        .iter()
        .map(|b| timestamp_and_dropped(b))
        .collect();
    assert!(
        decoded.windows(2).all(|w| w[0].0 < w[1].0),
        "timestamps must increase: {decoded:?}"
    );
    // The frames went out in the order they were published, the final one last.
    let values: Vec<f64> = decoded.iter().map(|d| d.1).collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert_eq!(values.last(), Some(&99.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff() {
    let (addr, r) = receiver(Behaviour::FailFirst(2)).await;
    let mut c = config(addr);
    c.interval = Duration::from_secs(3600); // only the final push
    let exporter = Exporter::with_remote_write(c, 5).unwrap();
    let f = Fixture::new();
    let stats = exporter.finish(&f.frame()).await.remote_write.unwrap();
    assert_eq!(
        (stats.queued, stats.sent, stats.dropped),
        (1, 1, 0),
        "{stats:?}"
    );
    assert_eq!(stats.failed_attempts, 2);
    assert_eq!(
        stats.last_error.as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
    assert_eq!(
        r.seen.load(Ordering::SeqCst),
        3,
        "two failures, one success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_not_retried() {
    let (addr, r) = receiver(Behaviour::Reject).await;
    let exporter = Exporter::with_remote_write(config(addr), 5).unwrap();
    let f = Fixture::new();
    exporter.publish(&f.frame());
    wait_until("two rejected pushes", || r.seen.load(Ordering::SeqCst) >= 2).await;
    let stats = exporter.finish(&f.frame()).await.remote_write.unwrap();
    assert_eq!(stats.sent, 0);
    assert_eq!(stats.dropped, stats.queued, "{stats:?}");
    // Exactly one attempt per push.
    assert_eq!(stats.failed_attempts, stats.queued, "{stats:?}");
    assert_eq!(r.seen.load(Ordering::SeqCst) as u64, stats.queued);
    assert!(
        stats
            .last_error
            .unwrap()
            .starts_with("HTTP 400 Bad Request")
    );
}

/// Frames as a real run would hand them: 50 request names with dense latency histograms.
struct BigFrame {
    labels: Vec<(String, String)>,
    histograms: Vec<LatencyHistogram>,
    names: Vec<String>,
}

impl BigFrame {
    fn new() -> BigFrame {
        let mut x = 88_172_645_463_325_252u64;
        let histograms = (0..50)
            .map(|_| {
                let mut h = LatencyHistogram::new();
                for _ in 0..20_000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    h.record(200 + x % 2_000_000);
                }
                h
            })
            .collect();
        BigFrame {
            labels: common_labels("run", "Big", "0/1", &[]),
            histograms,
            names: (0..50).map(|i| format!("/api/v1/endpoint/{i}/")).collect(),
        }
    }

    fn frame(&self) -> MetricsFrame<'_> {
        MetricsFrame {
            labels: &self.labels,
            requests: self
                .histograms
                .iter()
                .zip(&self.names)
                .map(|(h, name)| RequestSeries {
                    name,
                    method: "GET",
                    statuses: vec![(200, h.len())],
                    failures: vec![],
                    latency: h,
                    latency_sum_us: None,
                    corrected_latency: None,
                })
                .collect(),
            users: vec![("User", 100)],
            dropped_iterations: 0,
            lateness: None,
            thresholds: vec![],
            timestamp_ms: 0,
        }
    }
}

/// Hand-over figures, printed for the record (`--nocapture`); never asserted.
fn report_handover(what: &str, times: &mut [Duration]) {
    times.sort_unstable();
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{what}: publish of a 50-name frame: median {:?}, p99 {:?}, max {:?} ({} calls)",
        p(0.5),
        p(0.99),
        p(1.0),
        times.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_never_blocks_publish_and_failures_are_counted() {
    // A port that was just free: connections are refused.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut c = config(addr);
    c.interval = Duration::from_millis(5);
    c.queue = 3;
    c.final_timeout = Duration::from_millis(200);
    let exporter = Exporter::with_remote_write(c, 5).unwrap();
    let big = BigFrame::new();
    let frame = big.frame();
    let mut times = Vec::new();
    let start = Instant::now();
    while exporter.push_stats().unwrap().failed_attempts < 10 || times.len() < 20 {
        assert!(start.elapsed() < PATIENCE, "{:?}", exporter.push_stats());
        let t = Instant::now();
        exporter.publish(&frame);
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    report_handover("endpoint down", &mut times);
    let stats = exporter.finish(&frame).await.remote_write.unwrap();
    assert_eq!(stats.sent, 0);
    assert!(stats.failed_attempts >= 10);
    assert_eq!(stats.queued, stats.dropped, "{stats:?}");
    let error = stats.last_error.unwrap();
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(!error.contains("127.0.0.1"), "no URL in errors: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_endpoint_times_out_and_newer_pushes_replace_older_ones() {
    let (addr, r) = receiver(Behaviour::Stall(Duration::from_secs(60))).await;
    let mut c = config(addr);
    c.interval = Duration::from_millis(10);
    c.timeout = Duration::from_millis(100);
    c.queue = 2;
    c.final_timeout = Duration::from_millis(300);
    let exporter = Exporter::with_remote_write(c, 5).unwrap();
    let big = BigFrame::new();
    let frame = big.frame();
    let mut times = Vec::new();
    let start = Instant::now();
    loop {
        let stats = exporter.push_stats().unwrap();
        if stats.failed_attempts >= 2 && stats.dropped >= 2 {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{stats:?}");
        let t = Instant::now();
        exporter.publish(&frame);
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    report_handover("endpoint stalled", &mut times);
    let finished = Instant::now();
    let stats = exporter.finish(&frame).await.remote_write.unwrap();
    eprintln!(
        "finish with a stalled endpoint returned after {:?}",
        finished.elapsed()
    );
    assert_eq!(stats.sent, 0);
    assert_eq!(stats.queued, stats.dropped, "{stats:?}");
    assert!(
        stats
            .last_error
            .unwrap()
            .starts_with("timed out after 100ms")
    );
    assert!(r.seen.load(Ordering::SeqCst) >= 2);
}

async fn get(addr: SocketAddr, accept: Option<&str>) -> (String, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut request = client.get(format!("http://{addr}/metrics"));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_server_serves_text_or_protobuf_as_asked() {
    let args = PrometheusArgs {
        prometheus_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..PrometheusArgs::default()
    };
    let exporter = Exporter::start(&args).await.unwrap().unwrap();
    let addr = exporter.listen_addr().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let (ty, body) = get(addr, None).await;
    assert_eq!(ty, text::CONTENT_TYPE);
    assert!(body.is_empty(), "nothing before the first frame");

    let f = Fixture::new();
    exporter.publish(&f.frame());
    let expected = Exposition::collect(&f.frame(), 5);
    let (ty, body) = get(addr, Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1")).await;
    assert_eq!(ty, text::CONTENT_TYPE);
    assert_eq!(String::from_utf8(body).unwrap(), text::render(&expected));
    let (ty, body) = get(
        addr,
        Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,*/*;q=0.1"),
    )
    .await;
    assert_eq!(ty, protobuf::CONTENT_TYPE);
    assert_eq!(body, protobuf::render(&expected));

    let report = exporter.finish(&f.frame()).await;
    assert_eq!(report.scrapes, Some((addr, 3)));
    assert_eq!(
        report.to_string(),
        format!("Prometheus metrics at http://{addr}/metrics: 3 scrapes served")
    );
    // Stopped: the port no longer answers.
    assert!(
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_server_can_mount_the_metrics_route() {
    let exporter = Exporter::detached(5);
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "web UI" }))
        .merge(router(exporter.subscribe()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let f = Fixture::new();
    exporter.publish(&f.frame());
    let (_, body) = get(addr, None).await;
    let expected = text::render(&Exposition::collect(&f.frame(), 5));
    assert_eq!(String::from_utf8(body).unwrap(), expected);
    let report = exporter.finish(&f.frame()).await;
    assert_eq!(report, ExportReport::default());
    assert_eq!(report.to_string(), "");
}

#[tokio::test]
async fn a_busy_port_is_an_error_before_the_run() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let args = PrometheusArgs {
        prometheus_listen: Some(addr),
        ..PrometheusArgs::default()
    };
    let error = Exporter::start(&args).await.err().unwrap().to_string();
    assert!(
        error.starts_with(&format!("cannot serve Prometheus metrics on {addr}: ")),
        "{error}"
    );
    assert!(
        Exporter::start(&PrometheusArgs::default())
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_saved_result_becomes_a_frame() {
    use crate::metrics::{ClassInfo, Failure, FailureKind, Metrics, RunInfo, Sample, StatKey};
    let keys = vec![StatKey::new("GET", "/a"), StatKey::new("POST", "/b")];
    let metrics = Metrics::new(keys);
    let mut recorder = metrics.recorder(0);
    for (stat, status, failure) in [
        (0, 200, None),
        (0, 500, Some(Failure::http(500))),
        (1, 0, Some(Failure::new(FailureKind::Timeout, "timeout"))),
    ] {
        recorder.record(Sample {
            stat,
            elapsed_ms: 10,
            latency_us: 1_000,
            ttfb_us: 500,
            bytes: 10,
            lag_us: 0,
            status,
            scheduled: false,
            failure: failure.map(Box::new),
        });
    }
    drop(recorder);
    let summary = metrics.summary(RunInfo {
        classes: vec![ClassInfo {
            name: "U".into(),
            weight: 1,
            fixed_count: None,
            users: 4,
        }],
        ..RunInfo::default()
    });
    let labels = common_labels("r", "S", "0/1", &[]);
    let frame = MetricsFrame::from_summary(&summary, &labels, 7);
    assert_eq!(frame.requests.len(), 2);
    assert_eq!(frame.requests[0].statuses, [(200, 1), (500, 1)]);
    assert_eq!(frame.requests[0].failures, [(FailureKind::Http5xx, 1)]);
    assert_eq!(frame.requests[1].failures, [(FailureKind::Timeout, 1)]);
    assert_eq!(frame.requests[0].latency.len(), 2);
    assert_eq!(frame.requests[0].latency_sum_us, Some(2_000));
    assert_eq!(frame.users, [("U", 4)]);
    assert_eq!(frame.timestamp_ms, 7);
}

/// Every PromQL expression of the shipped dashboard, with its panel's title.
pub(crate) fn dashboard_queries() -> Vec<(String, String)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/kload-dashboard.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid JSON");
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            out.push((
                panel["title"].as_str().unwrap().to_owned(),
                target["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

#[test]
fn the_dashboard_queries_only_exported_metrics_of_the_selected_run() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/kload-dashboard.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(dashboard["uid"], "kload-run");
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["datasource", "scenario", "run_id", "name"]);

    // The series names PromQL may use: each metric, and a histogram's classic series.
    let mut exported: Vec<String> = Vec::new();
    for m in METRICS {
        exported.push(m.name.to_owned());
        if m.kind == MetricKind::Histogram {
            for suffix in ["_bucket", "_sum", "_count"] {
                exported.push(format!("{}{suffix}", m.name));
            }
        }
    }
    let metric_name = regex::Regex::new(r"\bkload_[a-z_]+").unwrap();
    let mut ids = std::collections::HashSet::new();
    let mut used = std::collections::HashSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().unwrap();
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "{title}: duplicate id"
        );
        assert!(
            ["stat", "timeseries", "table"].contains(&panel["type"].as_str().unwrap()),
            "{title}"
        );
        let grid = &panel["gridPos"];
        assert!(
            grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24,
            "{title}"
        );
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
            assert!(t["refId"].is_string(), "{title}");
            assert!(expr.contains(r#"run_id=~"$run_id""#), "{title}: {expr}");
            let names: Vec<&str> = metric_name.find_iter(expr).map(|m| m.as_str()).collect();
            assert!(!names.is_empty(), "{title}: {expr}");
            for name in names {
                assert!(
                    exported.iter().any(|e| e == name),
                    "{title}: unknown metric {name}"
                );
                used.insert(name.to_owned());
            }
        }
    }
    // Every metric kload exports is on the dashboard.
    for m in METRICS {
        assert!(used.contains(m.name), "{} is on no panel", m.name);
    }
    // The panels the issue asks for, with fleet-wide percentiles per request name.
    let queries = dashboard_queries();
    for q in ["0.5", "0.95", "0.99"] {
        let wanted =
            format!("histogram_quantile({q}, sum by (name) (rate(kload_request_duration_seconds{{");
        assert!(
            queries.iter().any(|(_, e)| e.starts_with(&wanted)),
            "p{q} by name"
        );
    }
    for title in [
        "Requests/s",
        "Failures/s by kind",
        "Users by class",
        "Thresholds",
        "Dropped iterations/s",
        "Generator lateness p99",
    ] {
        assert!(queries.iter().any(|(t, _)| t == title), "no panel {title}");
    }
}

#[test]
fn the_metrics_page_shows_every_dashboard_query() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/metrics.md"),
    )
    .unwrap();
    for (title, expr) in dashboard_queries() {
        assert!(
            docs.lines().any(|l| l == expr),
            "docs/metrics.md lacks the query of {title}: {expr}"
        );
    }
    for m in METRICS {
        assert!(
            docs.contains(&format!("| `{}` |", m.name)),
            "{} is not in the table",
            m.name
        );
    }
}
