//! Numbers checked against a server whose truth is known: one that freezes for 1 s every 5 s.
//!
//! Ground truth is computed from the schedule alone: a request intended at `t` that falls
//! in a freeze completes when the freeze ends; any other completes at once. The open model
//! and a paced closed model must report that distribution (latency from the intended start)
//! within 2 % or 2 ms at p50, p90 and p99; the plain response time of the closed model shows
//! the coordinated omission the corrected view removes. Each test has the machine to itself
//! (`support::alone`): the other tests' runs wait, so their load does not show up as lateness.

use std::time::{Duration, Instant};

use kload::metrics::LatencyHistogram;

use super::support::{Scenario, alone};

/// When the server freezes, relative to the instant the run starts on (`--start-at`, shared
/// by kload and the server through the wall clock): from `FIRST` on, for `FREEZE` every
/// `PERIOD`.
const FIRST: Duration = Duration::from_secs(2);
const PERIOD: Duration = Duration::from_secs(5);
const FREEZE: Duration = Duration::from_secs(1);
/// How long the runs last: two freezes, and the run ends outside one.
const RUN: Duration = Duration::from_secs(10);

/// An HTTP server on 127.0.0.1:0 that answers at once, except during its freezes, when every
/// request waits for the freeze to end.
struct FreezingServer {
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
    /// The run's start instant, RFC 3339 with microseconds, for `--start-at`.
    start_at: String,
}

/// The end of the freeze `offset` (since the start) falls in, if it does.
fn freeze_end(offset: Duration) -> Option<Duration> {
    let from_first = offset.checked_sub(FIRST)?;
    let k = from_first.as_nanos() / PERIOD.as_nanos();
    let start = FIRST + PERIOD * k as u32;
    (offset < start + FREEZE).then_some(start + FREEZE)
}

impl FreezingServer {
    fn start() -> FreezingServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Time zero: a moment from now, on both clocks.
        let lead = Duration::from_millis(3000);
        let t0 = Instant::now() + lead;
        let start_at = (chrono::Utc::now() + chrono::TimeDelta::from_std(lead).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let app = axum::Router::new().fallback(move || async move {
            let now = Instant::now();
            if let Some(end) = freeze_end(now.saturating_duration_since(t0)) {
                tokio::time::sleep_until((t0 + end).into()).await;
            }
            "ok"
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FreezingServer {
            runtime: Some(runtime),
            url,
            start_at,
        }
    }
}

impl Drop for FreezingServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The latency a request intended at each of `intended` (offsets from the first request)
/// truly has, in µs: until the end of its freeze, plus the round trip `service_us` that any
/// request takes (the median response time the run measured: the server answers at once).
fn truth(intended: impl Iterator<Item = Duration>, service_us: u64) -> Vec<u64> {
    let mut out: Vec<u64> = intended
        .map(|t| match freeze_end(t) {
            Some(end) => (end - t).as_micros() as u64 + service_us,
            None => service_us,
        })
        .collect();
    out.sort_unstable();
    out
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How many values the measured run may have more or fewer than the schedule: a request due
/// exactly when a freeze ends, or at the stop, can fall on either side by microseconds.
const EDGE: usize = 2;

/// Checks the measured corrected latency of `/frozen` against the truth at p50, p90, p99:
/// within 2 % or 2 ms of the truth's value at that rank, or of a value up to [`EDGE`] ranks
/// either side (stalled values are 10 ms apart, two of each: one request more or less at an
/// edge moves a percentile by up to 10 ms without any latency being wrong).
fn assert_matches_truth(measured: &LatencyHistogram, truth: &[u64], what: &str) {
    let count = measured.len() as usize;
    assert!(
        count.abs_diff(truth.len()) <= EDGE,
        "{what}: {count} values measured, {} scheduled",
        truth.len()
    );
    for p in [50.0, 90.0, 99.0] {
        let rank = ((p / 100.0) * truth.len() as f64).ceil() as usize;
        let at = |r: usize| truth[r.clamp(1, truth.len()) - 1] as f64;
        let (low, high) = (at(rank.saturating_sub(EDGE)), at(rank + EDGE));
        let want = percentile(truth, p) as f64;
        let got = measured.percentile(p) as f64;
        let slack = |v: f64| (v * 0.02).max(2_000.0);
        assert!(
            got >= low - slack(low) && got <= high + slack(high),
            "{what}: p{p} measured {:.1} ms, truth {:.1} ms ({:.1}-{:.1} ms within {EDGE} values, \
             ± 2 % or 2 ms)",
            got / 1000.0,
            want / 1000.0,
            low / 1000.0,
            high / 1000.0
        );
    }
}

fn corrected(finished: &super::support::Finished) -> LatencyHistogram {
    let entry = finished.entry("/frozen");
    LatencyHistogram::from_base64(entry["corrected"].as_str().expect("a corrected histogram"))
        .unwrap()
}

fn plain(finished: &super::support::Finished) -> LatencyHistogram {
    let entry = finished.entry("/frozen");
    LatencyHistogram::from_base64(entry["latency"].as_str().unwrap()).unwrap()
}

#[test]
fn the_open_model_reports_what_the_schedule_saw_through_a_stall() {
    let _alone = alone();
    let server = FreezingServer::start();
    let scenario = Scenario::new(
        r#"
load {
  arrival_rate 100/s
  max_users 300
}

user Visitor {
  task frozen {
    GET "/frozen"
  }
}
"#,
    );
    let run_time = format!("{}s", RUN.as_secs());
    let finished = scenario.run(&[
        "-H",
        &server.url,
        "-t",
        &run_time,
        "-s",
        "3s",
        "--start-at",
        &server.start_at,
    ]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let measured = corrected(&finished);
    // Arrival i was due i × 10 ms after the first; the run ends at 10 s.
    let n = measured.len();
    assert!((1000..=1001).contains(&n), "{n} arrivals");
    let service = plain(&finished).percentile(50.0);
    let truth = truth((0..n).map(|i| Duration::from_millis(10 * i)), service);
    assert_matches_truth(&measured, &truth, "open model");
    // In the open model the response time of a request sent into a freeze is already most
    // of the truth: nobody stopped sending.
    assert!(plain(&finished).percentile(90.0) > 400_000);
}

#[test]
fn a_paced_closed_model_reports_the_stall_its_users_did_not_send_into() {
    let _alone = alone();
    let server = FreezingServer::start();
    let scenario = Scenario::new(
        r#"
user Pacer {
  wait pacing 100ms

  task frozen {
    GET "/frozen"
  }
}
"#,
    );
    let run_time = format!("{}s", RUN.as_secs());
    let finished = scenario.run(&[
        "-H",
        &server.url,
        "-u",
        "10",
        "-r",
        "100",
        "-t",
        &run_time,
        "-s",
        "3s",
        "--start-at",
        &server.start_at,
    ]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    // The plain response time hides the stall: while the server froze, each user sent one
    // request and waited, instead of the ten it meant to send.
    let plain = plain(&finished);
    assert!(
        plain.percentile(90.0) < 50_000,
        "plain p90 {} µs",
        plain.percentile(90.0)
    );
    // What 10 users pacing at 100 ms meant to do: user u (started 10·u ms in, at 100 users
    // a second) every 100 ms. Their offsets spread the stalled latencies 10 ms apart.
    let truth = truth(
        (0..10u64).flat_map(|u| (0..100u64).map(move |k| Duration::from_millis(10 * u + 100 * k))),
        plain.percentile(50.0),
    );
    let measured = corrected(&finished);
    assert_matches_truth(&measured, &truth, "paced closed model");
    assert!(
        finished.stdout.contains("Latency from the intended start"),
        "{}",
        finished.text()
    );
}
