//! The statistics of a run still going, as a web page or a terminal shows them: Locust's
//! table rows with current rates, the error report, the live status of each threshold.
//! Built under the statistics lock without copying any histogram, so it is cheap enough to
//! make every second with hundreds of request names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::aggregate::Aggregator;
use super::entry::{EntrySummary, us_to_ms};
use super::locust;
use super::recorder::Metrics;
use super::sample::{FailureKind, StatId};
use super::series::Series;
use super::summary::FailureSummary;
use super::threshold::{self, Threshold, ThresholdResult};

/// One row of the Statistics table (a request, or the Aggregated total).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub method: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    /// Locust's median (bucketed, clamped to min/max), ms.
    pub median_ms: Option<f64>,
    /// Locust-bucketed percentiles since the start (the web table's 95%ile and 99%ile, and
    /// the 90th of Locust's `/stats/requests`), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub p99_ms: Option<u32>,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub avg_size: f64,
    /// Current requests and failures per second (Locust's rule).
    pub current_rps: f64,
    pub current_fps: f64,
    /// Total requests per second since the statistics began.
    pub total_rps: f64,
    /// Total failures per second since the statistics began.
    #[serde(default)]
    pub total_fps: f64,
    /// HDR p95/p99 of the latency from the intended start, ms, when the request had a
    /// schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_p99_ms: Option<f64>,
    /// Requests in flight when the run stopped.
    #[serde(default)]
    pub abandoned: u64,
}

/// The live view of the statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveTable {
    /// Requests that were made, by (name, method), then the Aggregated row last.
    pub rows: Vec<TableRow>,
    /// The error report (bounded), most frequent first.
    pub failures: Vec<FailureSummary>,
    pub errors_by_kind: BTreeMap<FailureKind, u64>,
    /// Each threshold evaluated on what was recorded so far.
    pub thresholds: Vec<ThresholdResult>,
    /// p50, p95, p99 (ms) of the newest ten-second window, all requests (HDR).
    pub window_ms: Option<[f64; 3]>,
    /// The same for the latency from the intended start.
    pub window_corrected_ms: Option<[f64; 3]>,
    /// The generator's p99 lateness so far, µs.
    pub lateness_p99_us: Option<u64>,
    /// The generator's largest lateness so far, µs.
    #[serde(default)]
    pub lateness_max_us: u64,
    pub dropped_iterations: u64,
}

impl Metrics {
    /// The live view, as of the last tick, with `thresholds` evaluated on it.
    pub fn table(&self, thresholds: &[Threshold]) -> LiveTable {
        self.with_state(|keys, state| {
            let series = &state.series;
            let last_ms = state.last_request_ms.unwrap_or(0);
            let mut rows: Vec<TableRow> = state
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.requests > 0 || e.abandoned > 0)
                .map(|(i, e)| row(e, series, Some(i as StatId), last_ms))
                .collect();
            rows.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
            rows.push(row(&state.total, series, None, last_ms));
            let window = series.windows.last();
            let quantiles = |h: Option<&super::sparse::SparseHistogram>| {
                h.filter(|h| !h.is_empty())
                    .map(|h| [50.0, 95.0, 99.0].map(|p| h.percentile(p).map_or(0.0, us_to_ms)))
            };
            LiveTable {
                rows,
                failures: state.failures.summaries(keys, self.started_at()),
                errors_by_kind: state.errors_by_kind.clone(),
                thresholds: threshold::evaluate_entries(
                    thresholds,
                    &state.entries,
                    &state.total,
                    last_ms,
                ),
                window_ms: quantiles(window.map(|w| &w.total.latency)),
                window_corrected_ms: quantiles(window.map(|w| &w.total.corrected)),
                lateness_p99_us: (!state.lateness.is_empty())
                    .then(|| state.lateness.percentile(99.0)),
                lateness_max_us: state.lateness.max(),
                dropped_iterations: state.dropped,
            }
        })
    }

    /// Runs `f` on the aggregated state (after aggregating what was handed over).
    pub(crate) fn with_state<R>(
        &self,
        f: impl FnOnce(&[super::sample::StatKey], &Aggregator) -> R,
    ) -> R {
        self.with_aggregator(f)
    }
}

fn row(e: &EntrySummary, series: &Series, stat: Option<StatId>, last_ms: u64) -> TableRow {
    let width_s = series.row_ms as f64 / 1000.0;
    let last = series.rows.iter().rposition(|r| r.total.requests > 0);
    let count = |r: usize, failures: bool| -> u64 {
        series.rows.get(r).map_or(0, |row| {
            let c = match stat {
                None => Some(&row.total),
                Some(s) => row.entry(s),
            };
            c.map_or(0, |c| if failures { c.failures } else { c.requests })
        })
    };
    let rate = |failures: bool| {
        last.map_or(0.0, |l| {
            locust::current_rate(l as u64, |r| count(r as usize, failures)) / width_s
        })
    };
    let corrected = |p: f64| e.corrected_percentile_us(p).map(|us| us as f64 / 1000.0);
    TableRow {
        method: e.method.clone(),
        name: e.name.clone(),
        requests: e.requests,
        failures: e.failures,
        median_ms: e.locust_median().map(|m| m.ms),
        p90_ms: e.locust_percentile(0.90),
        p95_ms: e.locust_percentile(0.95),
        p99_ms: e.locust_percentile(0.99),
        avg_ms: e.avg_ms(),
        min_ms: e.min_ms(),
        max_ms: e.max_ms(),
        avg_size: e.avg_content_size(),
        current_rps: rate(false),
        current_fps: rate(true),
        total_rps: e.total_rps(last_ms),
        total_fps: e.total_fail_per_sec(last_ms),
        corrected_p95_ms: corrected(95.0),
        corrected_p99_ms: corrected(99.0),
        abandoned: e.abandoned,
    }
}
