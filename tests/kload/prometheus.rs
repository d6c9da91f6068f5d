//! The Prometheus exporter against a real Prometheus. Ignored by a plain `cargo test`:
//! `tests/prometheus/run.sh` installs and starts Prometheus on 127.0.0.1 (remote-write
//! receiver and native histograms on, scraping the targets listed in a file) and runs these
//! with `KLOAD_PROMETHEUS_URL` and `KLOAD_PROMETHEUS_TARGETS` set.
//!
//! The data are synthetic HDR histograms (thousands of samples per request name, split over
//! three runners), so the expected numbers are known exactly: counts must be equal, and
//! PromQL's `histogram_quantile` over the runners' summed native histograms must fall in the
//! native bucket that holds the merged HDR's quantile.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kload::export::prometheus::native::{Bucketer, NativeHistogram, upper_bound};
use kload::export::prometheus::{
    Exporter, MetricsFrame, PrometheusArgs, RemoteUrl, RemoteWriteConfig, RequestSeries,
    common_labels,
};
use kload::metrics::{FailureKind, LatencyHistogram};
use serde_json::Value;

use crate::support::PATIENCE;

const NAMES: [&str; 4] = [
    "/api/v1/projects/",
    "/api/v1/tasks/",
    "login",
    "upload photo",
];
const RUNNERS: usize = 3;
const SCHEMA: i8 = 5;

fn prometheus_url() -> String {
    std::env::var("KLOAD_PROMETHEUS_URL")
        .expect("KLOAD_PROMETHEUS_URL is set by tests/prometheus/run.sh")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A run id no other run of this test used.
fn run_id(what: &str) -> String {
    format!("{what}-{}-{}", std::process::id(), now_ms())
}

/// One runner's data: per request name, a latency histogram (µs) and the error count; the
/// generator's lateness (µs).
struct Runner {
    labels: Vec<(String, String)>,
    histograms: Vec<LatencyHistogram>,
    errors: Vec<u64>,
    lateness: LatencyHistogram,
    stage: usize,
}

/// xorshift64*: a fixed sequence, so the data are the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A log-uniform latency from `lo` to about `lo · e^spread` µs, 1 % in a 1–3 s tail.
    fn latency(&mut self, lo: f64, spread: f64) -> u64 {
        if self.next().is_multiple_of(100) {
            return 1_000_000 + self.next() % 2_000_000;
        }
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (lo * (u * spread).exp()) as u64
    }
}

/// Runs are pushed in this many steps, each with more of the samples.
const STAGES: usize = 3;

impl Runner {
    /// Runner `index` of `RUNNERS` after `stage` of `STAGES`: request name `n` has
    /// `2_000 + 1_500 n + 500 index` samples in the end (each name with its own latency
    /// range), and `stage / STAGES` of them (and of its errors and lateness) so far.
    fn new(run_id: &str, index: usize, stage: usize) -> Runner {
        let mut rng = Rng(0x1234_5678 + index as u64);
        let mut histograms = Vec::new();
        let mut errors = Vec::new();
        for n in 0..NAMES.len() {
            let mut h = LatencyHistogram::new();
            let total = 2_000 + 1_500 * n + 500 * index;
            for i in 0..total {
                let v = rng.latency(300.0 * (n + 1) as f64, 4.0 + n as f64);
                if i < total * stage / STAGES {
                    h.record(v);
                }
            }
            errors.push(((n * 7 + index) * stage / STAGES) as u64);
            histograms.push(h);
        }
        let mut lateness = LatencyHistogram::new();
        for i in 0..1_000 {
            let v = rng.latency(50.0, 3.0);
            if i < 1_000 * stage / STAGES {
                lateness.record(v);
            }
        }
        Runner {
            labels: common_labels(
                run_id,
                "Prometheus test",
                &format!("{index}/{RUNNERS}"),
                &[("suite".into(), "integration".into())],
            ),
            histograms,
            errors,
            lateness,
            stage,
        }
    }

    fn frame(&self) -> MetricsFrame<'_> {
        MetricsFrame {
            labels: &self.labels,
            requests: NAMES
                .iter()
                .zip(&self.histograms)
                .zip(&self.errors)
                .map(|((name, h), &errors)| RequestSeries {
                    name,
                    method: if name.starts_with('/') { "GET" } else { "POST" },
                    statuses: vec![(200, h.len() - errors), (503, errors)],
                    failures: vec![(FailureKind::Http5xx, errors)],
                    latency: h,
                    latency_sum_us: None,
                    // Stands in for the corrected latency: only its presence matters here.
                    corrected_latency: Some(h),
                })
                .collect(),
            users: vec![("Browser", 10), ("Admin", 1)],
            dropped_iterations: self.stage as u64,
            lateness: Some(&self.lateness),
            thresholds: vec![("p95 < 2s", true), ("error_rate < 0.1%", false)],
            timestamp_ms: now_ms(),
        }
    }
}

/// Everything the runners recorded, merged: what `kload merge` would report.
struct Merged {
    histograms: Vec<LatencyHistogram>,
    errors: Vec<u64>,
}

fn merge(runners: &[Runner]) -> Merged {
    let mut histograms: Vec<LatencyHistogram> =
        (0..NAMES.len()).map(|_| LatencyHistogram::new()).collect();
    let mut errors = vec![0; NAMES.len()];
    for r in runners {
        for n in 0..NAMES.len() {
            histograms[n].add(&r.histograms[n]);
            errors[n] += r.errors[n];
        }
    }
    Merged { histograms, errors }
}

/// `/api/v1/query` at the current time: (labels, value) per result series.
async fn query(promql: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
    let url = format!("{}/api/v1/query", prometheus_url());
    let response: Value = reqwest::Client::new()
        .get(url)
        .query(&[("query", promql)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["status"], "success", "{promql}: {response}");
    response["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (r["metric"].as_object().unwrap().clone(), value)
        })
        .collect()
}

/// The value per `name` label of a query's result.
async fn by_name(promql: &str) -> Vec<(String, f64)> {
    let mut rows: Vec<(String, f64)> = query(promql)
        .await
        .into_iter()
        .map(|(labels, v)| (labels["name"].as_str().unwrap().to_owned(), v))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Checks every request name's count, failures, p50 and p99 in Prometheus against the
/// merged data, for the series selected by `selector` (e.g. `run_id="…"`).
async fn compare(selector: &str, merged: &Merged) {
    let mut expected_order: Vec<usize> = (0..NAMES.len()).collect();
    expected_order.sort_by_key(|&n| NAMES[n]);

    let requests = by_name(&format!(
        "sum by (name) (kload_requests_total{{{selector}}})"
    ))
    .await;
    let counts = by_name(&format!(
        "histogram_count(sum by (name) (kload_request_duration_seconds{{{selector}}}))"
    ))
    .await;
    let failures = by_name(&format!(
        "sum by (name) (kload_request_failures_total{{{selector},kind=\"http5xx\"}})"
    ))
    .await;
    assert_eq!(requests.len(), NAMES.len(), "{requests:?}");
    for (row, &n) in expected_order.iter().enumerate() {
        let h = &merged.histograms[n];
        assert_eq!(requests[row], (NAMES[n].to_owned(), h.len() as f64));
        assert_eq!(counts[row], (NAMES[n].to_owned(), h.len() as f64));
        assert_eq!(
            failures[row],
            (NAMES[n].to_owned(), merged.errors[n] as f64)
        );
    }

    let bucketer = Bucketer::new(SCHEMA);
    for q in [0.5, 0.99] {
        let quantiles = by_name(&format!(
            "histogram_quantile({q}, sum by (name) (kload_request_duration_seconds{{{selector}}}))"
        ))
        .await;
        for (row, &n) in expected_order.iter().enumerate() {
            let hdr = &merged.histograms[n];
            let native = NativeHistogram::from_hdr(hdr.as_hdr(), 1e6, SCHEMA, None);
            let bucket = native.quantile_bucket(q).unwrap();
            let (lower, upper) = (upper_bound(SCHEMA, bucket - 1), upper_bound(SCHEMA, bucket));
            let (name, prom) = &quantiles[row];
            assert_eq!(name, NAMES[n]);
            let hdr_q = hdr.percentile(q * 100.0) as f64 / 1e6;
            eprintln!(
                "{name:<20} p{:<4} Prometheus {prom:.6} s, HDR {hdr_q:.6} s ({:+.2} %), native bucket ({lower:.6}, {upper:.6}]",
                q * 100.0,
                (prom / hdr_q - 1.0) * 100.0
            );
            // PromQL interpolates inside the bucket that holds the rank…
            assert!(
                lower * (1.0 - 1e-9) <= *prom && *prom <= upper * (1.0 + 1e-9),
                "{name} p{q}: {prom} not in ({lower}, {upper}]"
            );
            // …and the HDR's own quantile is in that bucket or a neighbour: one bucket of
            // resolution (2.19 % at schema 5).
            let hdr_bucket = bucketer.index(hdr_q);
            assert!(
                (bucket - 1..=bucket + 1).contains(&hdr_bucket),
                "{name} p{q}: HDR {hdr_q} s in bucket {hdr_bucket}, Prometheus' in {bucket}"
            );
        }
    }
}

async fn wait_for(what: &str, promql: &str, expected: f64) {
    let start = Instant::now();
    loop {
        let rows = query(promql).await;
        if rows.len() == 1 && rows[0].1 == expected {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "gave up waiting for {what}: {promql} gave {rows:?}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Prometheus: run tests/prometheus/run.sh"]
async fn remote_write_from_three_runners_matches_the_merged_histograms() {
    let id = run_id("rw");
    let url = RemoteUrl::parse(&format!("{}/api/v1/write", prometheus_url())).unwrap();
    let mut exporters = Vec::new();
    for _ in 0..RUNNERS {
        let mut config = RemoteWriteConfig::new(url.clone());
        config.interval = Duration::from_millis(200);
        exporters.push(Exporter::with_remote_write(config, SCHEMA).unwrap());
    }
    // Periodic pushes of growing frames, as during a run, then the final push.
    for stage in 1..STAGES {
        for (index, e) in exporters.iter().enumerate() {
            e.publish(&Runner::new(&id, index, stage).frame());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let runners: Vec<Runner> = (0..RUNNERS).map(|i| Runner::new(&id, i, STAGES)).collect();
    for (e, r) in exporters.into_iter().zip(&runners) {
        let stats = e.finish(&r.frame()).await.remote_write.unwrap();
        eprintln!("{stats}");
        assert!(stats.sent >= 2, "{stats:?}");
        assert_eq!((stats.sent, stats.dropped), (stats.queued, 0), "{stats:?}");
    }
    let merged = merge(&runners);
    let selector = format!("run_id=\"{id}\"");
    compare(&selector, &merged).await;

    // The other metrics, summed over the runners.
    let sum = |m: &str| format!("sum(kload_{m}{{{selector}}})");
    assert_eq!(query(&sum("users")).await[0].1, 33.0);
    assert_eq!(query(&sum("dropped_iterations_total")).await[0].1, 9.0);
    assert_eq!(query(&sum("threshold_ok")).await[0].1, 3.0);
    let segments = query(&format!(
        "count by (segment) (kload_users{{{selector},class=\"Admin\"}})"
    ))
    .await;
    assert_eq!(segments.len(), RUNNERS);
    let extra = query(&format!(
        "count(kload_users{{{selector},suite=\"integration\"}})"
    ))
    .await;
    assert_eq!(extra[0].1, 6.0);

    // Every query of the shipped dashboard runs and has data, for this run.
    for (title, expr) in dashboard_queries() {
        let promql = expr
            .replace("$run_id", &id)
            .replace("$scenario", ".*")
            .replace("$name", ".*")
            .replace("$__rate_interval", "1m");
        let rows = query(&promql).await;
        assert!(
            !rows.is_empty(),
            "dashboard panel {title}: no data for {promql}"
        );
        assert!(rows.iter().all(|(_, v)| v.is_finite()), "{title}: {rows:?}");
    }
}

/// Every PromQL expression of docs/grafana/kload-dashboard.json, with its panel's title.
fn dashboard_queries() -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/kload-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Prometheus: run tests/prometheus/run.sh"]
async fn prometheus_scrapes_native_histograms_from_the_metrics_endpoint() {
    let targets = PathBuf::from(
        std::env::var("KLOAD_PROMETHEUS_TARGETS")
            .expect("KLOAD_PROMETHEUS_TARGETS is set by tests/prometheus/run.sh"),
    );
    let id = run_id("scrape");
    let runner = Runner::new(&id, 0, STAGES);
    let args = PrometheusArgs {
        prometheus_listen: Some("127.0.0.1:0".parse().unwrap()),
        prometheus_schema: SCHEMA,
        ..PrometheusArgs::default()
    };
    let exporter = Exporter::start(&args).await.unwrap().unwrap();
    let addr = exporter.listen_addr().unwrap();
    exporter.publish(&runner.frame());
    // Prometheus re-reads the file every second (and on change).
    std::fs::write(&targets, format!(r#"[{{"targets": ["{addr}"]}}]"#)).unwrap();

    let selector = format!("run_id=\"{id}\"");
    let total: u64 = runner.histograms.iter().map(LatencyHistogram::len).sum();
    wait_for(
        "a scrape with every request",
        &format!("sum(kload_requests_total{{{selector}}})"),
        total as f64,
    )
    .await;
    wait_for(
        "native histograms from the protobuf scrape",
        &format!("sum(histogram_count(kload_request_duration_seconds{{{selector}}}))"),
        total as f64,
    )
    .await;
    compare(&selector, &merge(std::slice::from_ref(&runner))).await;

    // The text format of the same endpoint passes Prometheus' own linter.
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("kload_request_duration_seconds_bucket{"));
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package) is installed");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let report = exporter.finish(&runner.frame()).await;
    let (_, scrapes) = report.scrapes.unwrap();
    assert!(scrapes >= 2, "{report}");
    std::fs::write(&targets, "[]").unwrap();
}

/// Two segments of one distributed `kload run` push to the real Prometheus: they share a
/// `run_id` (same scenario, same `--start-at`), and the sums over segments equal the sums
/// of the two segments' own results.
#[test]
#[ignore = "needs a Prometheus: run tests/prometheus/run.sh"]
fn segments_of_a_kload_run_push_one_run_to_prometheus() {
    use crate::support::{Scenario, TestServer};
    const SOURCE: &str = r#"
scenario "segmented push" {
  wait constant 10ms
}

user Reader {
  task get {
    GET "/sleep/1" {
      name "read"
    }
  }
}
"#;
    let server = TestServer::start();
    let start = chrono::Utc::now() + chrono::Duration::seconds(2);
    let start_text = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let write = format!("{}/api/v1/write", prometheus_url());
    let unique = run_id("segments");
    let scenarios = [Scenario::new(SOURCE), Scenario::new(SOURCE)];
    let mut runs: Vec<_> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.spawn(&[
                "-H",
                &server.url(),
                "-u",
                "4",
                "-r",
                "100",
                "-t",
                "3s",
                "--segment",
                &format!("{}/2", i + 1),
                "--start-at",
                &start_text,
                "--prometheus-remote-write",
                &write,
                "--prometheus-interval",
                "500ms",
                "--prometheus-label",
                &format!("case={unique}"),
            ])
        })
        .collect();
    let finished: Vec<_> = runs.iter_mut().map(|r| r.wait()).collect();
    let mut total = 0.0;
    let mut merged = LatencyHistogram::new();
    for f in &finished {
        assert_eq!(f.code(), Some(0), "{}", f.text());
        total += f.json()["aggregated"]["requests"].as_f64().unwrap();
        let h: LatencyHistogram =
            serde_json::from_value(f.json()["aggregated"]["latency"].clone()).unwrap();
        merged.add(&h);
    }
    assert!(total > 0.0);
    let selector = format!("case=\"{unique}\"");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        wait_for(
            "both segments' final pushes",
            &format!("sum(kload_requests_total{{{selector}}})"),
            total,
        )
        .await;
        let ids = query(&format!(
            "count by (run_id) (kload_requests_total{{{selector}}})"
        ))
        .await;
        assert_eq!(ids.len(), 1, "one run_id for both segments: {ids:?}");
        let segments = query(&format!(
            "count by (segment) (kload_requests_total{{{selector}}})"
        ))
        .await;
        let mut names: Vec<_> = segments
            .iter()
            .map(|(l, _)| l["segment"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["1/2", "2/2"]);
        let users = query(&format!("sum(kload_users{{{selector}}})")).await;
        assert_eq!(
            users[0].1, 0.0,
            "the final push says no user is left: {users:?}"
        );
        // p99 over both segments in PromQL lands in the native bucket of the merged
        // results' p99 (or a neighbour: one bucket of resolution).
        let p99 = query(&format!(
            "histogram_quantile(0.99, sum(kload_request_duration_seconds{{{selector}}}))"
        ))
        .await;
        let bucketer = Bucketer::new(SCHEMA);
        let hdr_p99 = merged.percentile(99.0) as f64 / 1e6;
        let prom = p99[0].1;
        eprintln!("kload run, 2 segments: p99 Prometheus {prom:.6} s, merged HDR {hdr_p99:.6} s");
        assert!(
            bucketer.index(prom).abs_diff(bucketer.index(hdr_p99)) <= 1,
            "p99: Prometheus {prom} s, HDR {hdr_p99} s"
        );
    });
}
