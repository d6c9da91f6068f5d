//! What the page shows, as plain serializable data: [`UiSnapshot`] and its parts, plus
//! [`History`], a bounded chart history for controllers to keep.
//!
//! A controller may put as much in a snapshot as it likes; the server sends at most
//! [`MAX_ROWS`] statistics rows (Aggregated kept), [`MAX_FAILURES`] failure groups,
//! [`MAX_SCENARIO_ERRORS`] scenario errors, [`MAX_HISTORY`] chart points and [`MAX_LOG_LINES`]
//! log lines, with each text clipped to [`MAX_TEXT`] characters, so neither the page nor
//! the server grows with the number of names or the length of the run.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Statistics rows sent to the page and `/stats/requests` (Locust's limit), Aggregated apart.
pub const MAX_ROWS: usize = 500;
/// Failure groups sent (Locust's limit for `errors`).
pub const MAX_FAILURES: usize = 500;
/// Scenario errors sent.
pub const MAX_SCENARIO_ERRORS: usize = 200;
/// Chart points sent; [`History`] keeps at most this many.
pub const MAX_HISTORY: usize = 600;
/// Log lines sent (the newest).
pub const MAX_LOG_LINES: usize = 500;
/// Characters kept of any one message, name or log line.
pub const MAX_TEXT: usize = 2_000;

/// Where the run is, with Locust's names for the states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Nothing started yet: the page shows the start form.
    Ready,
    /// Users are being started.
    Spawning,
    /// All users of the target are running.
    Running,
    /// Stop was asked; users are finishing.
    Stopping,
    /// The test ended (stopped, run time reached, or aborted by a threshold).
    Stopped,
}

impl RunState {
    /// Locust's word for the state (`/stats/requests`' `state`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Ready => "ready",
            RunState::Spawning => "spawning",
            RunState::Running => "running",
            RunState::Stopping => "stopping",
            RunState::Stopped => "stopped",
        }
    }

    /// True while users run (spawning or running): `POST /swarm` then edits the test.
    pub fn is_active(self) -> bool {
        matches!(self, RunState::Spawning | RunState::Running)
    }
}

/// Everything the page shows at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiSnapshot {
    /// Where the run is.
    pub state: RunState,
    /// Target host of the current (or last) test.
    pub host: String,
    /// When the current test started, Unix seconds; `None` before the first start.
    pub started_at: Option<f64>,
    /// Run time of the current test so far, ms.
    pub elapsed_ms: u64,
    /// Planned run time of the current test, ms; `None` runs until stopped.
    pub run_time_ms: Option<u64>,
    /// Users running now.
    pub user_count: u32,
    /// Users the test is heading for.
    pub target_users: u32,
    /// Users started per second.
    pub spawn_rate: f64,
    /// Users running now per class.
    pub classes: Vec<ClassUsers>,
    /// One row per request name (any order; the page and `/stats/requests` sort by name).
    pub stats: Vec<StatRow>,
    /// All requests together: Locust's "Aggregated" row.
    pub total: StatRow,
    /// Percentiles of the last 10 seconds (all requests).
    pub current: CurrentPercentiles,
    /// Chart points, oldest first.
    pub history: Vec<HistoryPoint>,
    /// Failed requests grouped by (method, name, message), most frequent first.
    pub failures: Vec<FailureRow>,
    /// Errors of the scenario itself (templates, captures), pointing at the file.
    pub scenario_errors: Vec<ScenarioError>,
    /// Share of users per class and of iterations per task.
    pub task_ratios: Vec<ClassRatio>,
    /// Each threshold with its live status.
    pub thresholds: Vec<ThresholdView>,
    /// Log lines, oldest first.
    pub logs: Vec<LogLine>,
    /// Warnings about the load generator itself (CPU, dropped iterations, user cap).
    pub warnings: Vec<String>,
}

impl UiSnapshot {
    /// The snapshot before anything ran: state `ready`, the plan's host, no statistics.
    pub fn ready(host: impl Into<String>) -> UiSnapshot {
        UiSnapshot {
            state: RunState::Ready,
            host: host.into(),
            started_at: None,
            elapsed_ms: 0,
            run_time_ms: None,
            user_count: 0,
            target_users: 0,
            spawn_rate: 0.0,
            classes: Vec::new(),
            stats: Vec::new(),
            total: StatRow::aggregated(),
            current: CurrentPercentiles::default(),
            history: Vec::new(),
            failures: Vec::new(),
            scenario_errors: Vec::new(),
            task_ratios: Vec::new(),
            thresholds: Vec::new(),
            logs: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Users of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassUsers {
    /// Class name.
    pub name: String,
    /// Users of the class running now.
    pub users: u32,
}

/// One row of the Statistics tab, with Locust's numbers: bucketed percentiles in whole ms,
/// exact average, min and max, rates of the last 10 s ("current") and since the start
/// ("total").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatRow {
    /// HTTP method; empty for the Aggregated row.
    pub method: String,
    /// Request name; `Aggregated` for the total.
    pub name: String,
    /// Requests completed, failed ones included.
    pub num_requests: u64,
    /// Requests that failed.
    pub num_failures: u64,
    /// Locust's median, ms (0 without requests): a bucket, or the exact min or max when
    /// the bucket falls outside them.
    pub median_response_time: f64,
    /// Locust's 90th percentile, ms.
    pub p90_response_time: u32,
    /// Locust's 95th percentile, ms.
    pub p95_response_time: u32,
    /// Locust's 99th percentile, ms.
    pub p99_response_time: u32,
    /// Exact mean, ms.
    pub avg_response_time: f64,
    /// Exact smallest, ms.
    pub min_response_time: f64,
    /// Exact largest, ms.
    pub max_response_time: f64,
    /// Mean body size, bytes.
    pub avg_content_length: f64,
    /// Requests per second over the last 10 s (Locust's window).
    pub current_rps: f64,
    /// Failures per second over the last 10 s.
    pub current_fail_per_sec: f64,
    /// Requests per second since the start.
    pub total_rps: f64,
    /// Failures per second since the start.
    pub total_fail_per_sec: f64,
}

impl StatRow {
    /// An empty row for a request.
    pub fn new(method: impl Into<String>, name: impl Into<String>) -> StatRow {
        StatRow {
            method: method.into(),
            name: name.into(),
            num_requests: 0,
            num_failures: 0,
            median_response_time: 0.0,
            p90_response_time: 0,
            p95_response_time: 0,
            p99_response_time: 0,
            avg_response_time: 0.0,
            min_response_time: 0.0,
            max_response_time: 0.0,
            avg_content_length: 0.0,
            current_rps: 0.0,
            current_fail_per_sec: 0.0,
            total_rps: 0.0,
            total_fail_per_sec: 0.0,
        }
    }

    /// The empty Aggregated row.
    pub fn aggregated() -> StatRow {
        StatRow::new("", "Aggregated")
    }

    /// Failures / requests, a fraction (Locust's `fail_ratio`: 1 when there are failures
    /// but no requests, 0 when there is neither).
    pub fn fail_ratio(&self) -> f64 {
        match (self.num_requests, self.num_failures) {
            (0, 0) => 0.0,
            (0, _) => 1.0,
            (n, f) => f as f64 / n as f64,
        }
    }
}

/// Percentiles of the last 10 seconds over all requests, ms. `corrected` holds the same
/// measured from each request's intended start (coordinated omission) when the run paces
/// its requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentPercentiles {
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// The same from the intended start times, when the run has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected: Option<Box<CurrentPercentiles>>,
}

/// One point of the charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// When, Unix seconds.
    pub time: f64,
    /// Users running.
    pub user_count: u32,
    /// Requests per second (current).
    pub rps: f64,
    /// Failures per second (current).
    pub fps: f64,
    /// Median of the last 10 s, ms (from the HDR histograms).
    pub p50: Option<f64>,
    /// 95th percentile of the last 10 s, ms.
    pub p95: Option<f64>,
    /// 99th percentile of the last 10 s, ms.
    pub p99: Option<f64>,
    /// Corrected median (from intended start times), when the run has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_p50: Option<f64>,
    /// Corrected 95th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_p95: Option<f64>,
    /// Corrected 99th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_p99: Option<f64>,
}

/// Failures of one request with one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRow {
    /// HTTP method.
    pub method: String,
    /// Request name.
    pub name: String,
    /// Kind of failure (`http_5xx`, `timeout`, `check`, ...).
    pub kind: String,
    /// The failure's text.
    pub message: String,
    /// How many requests failed this way.
    pub occurrences: u64,
    /// First time seen, Unix seconds.
    pub first_seen: f64,
    /// Last time seen, Unix seconds.
    pub last_seen: f64,
}

/// An error of the scenario itself (a template that could not be rendered, a capture that
/// found nothing), with where it is in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioError {
    /// What went wrong.
    pub message: String,
    /// The scenario file.
    pub file: String,
    /// Line in the file, 1-based.
    pub line: u32,
    /// Column in the line, 1-based.
    pub column: u32,
    /// The line's text, for context.
    pub source_line: String,
    /// How often it happened.
    pub count: u64,
    /// First time seen, Unix seconds.
    pub first_seen: f64,
    /// Last time seen, Unix seconds.
    pub last_seen: f64,
}

/// One class's share of the users and its tasks' shares of its iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRatio {
    /// Class name.
    pub name: String,
    /// Share of the running users, 0..=1.
    pub ratio: f64,
    /// Tasks with their share of the class's iterations.
    pub tasks: Vec<TaskRatio>,
}

impl ClassRatio {
    /// A class's share when `running` of the `users` run it, and each task's share of the
    /// class's iterations (its weight over the class's total). `tasks`: (name, weight).
    pub fn of<'a>(
        name: &str,
        tasks: impl Iterator<Item = (&'a str, u32)> + Clone,
        running: u32,
        users: u32,
    ) -> ClassRatio {
        let weights: u32 = tasks.clone().map(|(_, weight)| weight).sum();
        ClassRatio {
            name: name.to_string(),
            ratio: if users == 0 {
                0.0
            } else {
                f64::from(running) / f64::from(users)
            },
            tasks: tasks
                .map(|(name, weight)| TaskRatio {
                    name: name.to_string(),
                    ratio: f64::from(weight) / f64::from(weights.max(1)),
                })
                .collect(),
        }
    }
}

/// One task's share of its class's iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRatio {
    /// Task name.
    pub name: String,
    /// Share of the class's iterations, 0..=1.
    pub ratio: f64,
}

/// A threshold with its status now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdView {
    /// The threshold as written (`p95(tag list) < 200ms`).
    pub source: String,
    /// Passing, failing or no data yet.
    pub status: ThresholdStatus,
    /// The measured value as text in the threshold's unit (`182 ms`, `0.4%`).
    pub observed: Option<String>,
    /// A failure only warns (`warn` thresholds).
    pub warn_only: bool,
    /// The threshold aborts the run once failing (`abort` thresholds).
    pub aborts: bool,
    /// Failing now and would abort the run (it counts enough requests).
    pub would_abort: bool,
}

/// The live status of a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdStatus {
    /// Holds so far.
    Passing,
    /// Does not hold now.
    Failing,
    /// Nothing measured yet.
    NoData,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// When, Unix seconds.
    pub time: f64,
    /// `INFO`, `WARNING` or `ERROR`.
    pub level: String,
    /// The text.
    pub message: String,
}

/// A bounded chart history for a run of any length. It keeps at most `capacity` points:
/// when full, every other point is dropped and only every second push is kept from then on,
/// so an hour-long run still shows its whole course at a coarser step. The newest point is
/// always shown, so the charts' right edge never lags.
#[derive(Debug, Clone)]
pub struct History {
    points: VecDeque<HistoryPoint>,
    capacity: usize,
    /// Keep one push in `stride`.
    stride: u64,
    pushes: u64,
    /// The newest push, when it was not kept (shown as the last point).
    latest: Option<HistoryPoint>,
}

impl History {
    /// An empty history of at most `capacity` points (at least 4).
    pub fn new(capacity: usize) -> History {
        History {
            points: VecDeque::new(),
            capacity: capacity.max(4),
            stride: 1,
            pushes: 0,
            latest: None,
        }
    }

    /// Adds the point of the latest tick.
    pub fn push(&mut self, point: HistoryPoint) {
        // Push n is kept when n is a multiple of the stride, so the kept points are pushes
        // 0, stride, 2·stride, ...: evenly spaced from the start of the run.
        let n = self.pushes;
        self.pushes += 1;
        let keep = n.is_multiple_of(self.stride);
        if keep && self.points.len() + 1 >= self.capacity {
            // Halve the resolution: keep the points at even positions (multiples of twice
            // the stride).
            let mut position = 0;
            self.points.retain(|_| {
                position += 1;
                position % 2 == 1
            });
            self.stride *= 2;
        }
        if n.is_multiple_of(self.stride) {
            self.points.push_back(point);
            self.latest = None;
        } else {
            self.latest = Some(point);
        }
    }

    /// The points, oldest first, the newest push last.
    pub fn points(&self) -> Vec<HistoryPoint> {
        let mut out: Vec<HistoryPoint> = self.points.iter().cloned().collect();
        out.extend(self.latest.clone());
        out
    }

    /// Pushes between two kept points.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Forgets every point (reset statistics, new test).
    pub fn clear(&mut self) {
        *self = History::new(self.capacity);
    }
}

/// A snapshot as the page receives it: bounded, sorted, with secrets of URLs removed, and
/// with how much was left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView {
    /// The bounded snapshot.
    #[serde(flatten)]
    pub snapshot: UiSnapshot,
    /// Request names in the full snapshot (more than `stats.len()` when cut).
    pub total_names: usize,
    /// Failure groups in the full snapshot.
    pub total_failure_groups: usize,
    /// Scenario errors in the full snapshot.
    pub total_scenario_errors: usize,
}

impl PageView {
    /// The bounded view of `snapshot`: rows sorted by (name, method) like Locust's tables
    /// and cut to [`MAX_ROWS`], failures and scenario errors to their limits, the newest
    /// [`MAX_HISTORY`] chart points and [`MAX_LOG_LINES`] log lines, every text clipped to
    /// [`MAX_TEXT`] characters, and the password of a host URL replaced by `***`.
    pub fn of(snapshot: &UiSnapshot) -> PageView {
        let text = |s: &str| clip(s, MAX_TEXT).into_owned();
        let row = |r: &StatRow| StatRow {
            method: text(&r.method),
            name: text(&r.name),
            ..r.clone()
        };
        let mut order: Vec<&StatRow> = snapshot.stats.iter().collect();
        order.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
        let stats = order.into_iter().take(MAX_ROWS).map(row).collect();
        let failures = snapshot
            .failures
            .iter()
            .take(MAX_FAILURES)
            .map(|f| FailureRow {
                method: text(&f.method),
                name: text(&f.name),
                kind: text(&f.kind),
                message: text(&f.message),
                ..f.clone()
            })
            .collect();
        let scenario_errors = snapshot
            .scenario_errors
            .iter()
            .take(MAX_SCENARIO_ERRORS)
            .map(|e| ScenarioError {
                message: text(&e.message),
                file: text(&e.file),
                source_line: text(&e.source_line),
                ..e.clone()
            })
            .collect();
        let newest = |len: usize, max: usize| len.saturating_sub(max);
        let logs = snapshot.logs[newest(snapshot.logs.len(), MAX_LOG_LINES)..]
            .iter()
            .map(|l| LogLine {
                level: text(&l.level),
                message: text(&l.message),
                time: l.time,
            })
            .collect();
        PageView {
            snapshot: UiSnapshot {
                state: snapshot.state,
                host: redact_url(&snapshot.host),
                started_at: snapshot.started_at,
                elapsed_ms: snapshot.elapsed_ms,
                run_time_ms: snapshot.run_time_ms,
                user_count: snapshot.user_count,
                target_users: snapshot.target_users,
                spawn_rate: snapshot.spawn_rate,
                classes: snapshot.classes.clone(),
                stats,
                total: row(&snapshot.total),
                current: snapshot.current.clone(),
                history: snapshot.history[newest(snapshot.history.len(), MAX_HISTORY)..].to_vec(),
                failures,
                scenario_errors,
                task_ratios: snapshot.task_ratios.clone(),
                thresholds: snapshot.thresholds.clone(),
                logs,
                warnings: snapshot.warnings.iter().take(20).map(|w| text(w)).collect(),
            },
            total_names: snapshot.stats.len(),
            total_failure_groups: snapshot.failures.len(),
            total_scenario_errors: snapshot.scenario_errors.len(),
        }
    }
}

/// `url` with the password of its user info replaced by `***`
/// (`https://bob:s3cret@host` → `https://bob:***@host`); other text unchanged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub(crate) fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: u64) -> HistoryPoint {
        HistoryPoint {
            time: i as f64,
            user_count: i as u32,
            rps: 0.0,
            fps: 0.0,
            p50: None,
            p95: None,
            p99: None,
            corrected_p50: None,
            corrected_p95: None,
            corrected_p99: None,
        }
    }

    #[test]
    fn history_stays_bounded_and_covers_the_whole_run() {
        let mut h = History::new(600);
        for i in 0..36_000 {
            h.push(point(i));
            assert!(
                h.points().len() <= 600,
                "{} points after {i}",
                h.points().len()
            );
        }
        let points = h.points();
        assert_eq!(points[0].time, 0.0, "the start stays");
        assert_eq!(points.last().unwrap().time, 35_999.0, "the newest is shown");
        assert!(points.len() > 300, "only {} points", points.len());
        // Evenly spaced (except the newest, shown whatever the stride).
        let step = points[1].time - points[0].time;
        assert_eq!(step, h.stride() as f64);
        for w in points[..points.len() - 1].windows(2) {
            assert_eq!(w[1].time - w[0].time, step, "{w:?}");
        }
    }

    #[test]
    fn history_keeps_every_point_until_full() {
        let mut h = History::new(10);
        for i in 0..9 {
            h.push(point(i));
        }
        let times: Vec<f64> = h.points().iter().map(|p| p.time).collect();
        assert_eq!(times, (0..9).map(|i| i as f64).collect::<Vec<_>>());
        h.push(point(9));
        h.push(point(10));
        let times: Vec<f64> = h.points().iter().map(|p| p.time).collect();
        assert_eq!(times, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        h.clear();
        assert!(h.points().is_empty());
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 10), "héllo");
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn fail_ratio_is_locusts() {
        let mut row = StatRow::aggregated();
        assert_eq!(row.fail_ratio(), 0.0);
        row.num_failures = 2;
        assert_eq!(row.fail_ratio(), 1.0);
        row.num_requests = 8;
        assert_eq!(row.fail_ratio(), 0.25);
    }
}
