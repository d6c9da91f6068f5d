//! What the exporter is handed: one cumulative picture of the run, borrowed from whoever
//! keeps the statistics (the run's session during a run, a [`Summary`] afterwards).

use std::collections::BTreeMap;

use crate::metrics::{FailureKind, LatencyHistogram, Summary};

/// What one push or scrape describes: everything counted since the run started.
#[derive(Debug, Clone)]
pub struct MetricsFrame<'a> {
    /// Labels on every series: `run_id`, `scenario`, `segment` and the user's extra labels
    /// (`--prometheus-label`). Names must be valid Prometheus label names
    /// ([`is_valid_label_name`](super::is_valid_label_name)) and not one of the metrics' own
    /// labels ([`RESERVED_LABELS`](super::RESERVED_LABELS)).
    pub labels: &'a [(String, String)],
    /// One entry per request name and method.
    pub requests: Vec<RequestSeries<'a>>,
    /// Running users per class.
    pub users: Vec<(&'a str, u64)>,
    /// Iterations the arrival-rate model could not start (user cap reached).
    pub dropped_iterations: u64,
    /// How late the generator started iterations against the schedule, in µs (arrival-rate
    /// runs); `None` when the run does not measure it.
    pub lateness: Option<&'a LatencyHistogram>,
    /// Thresholds as written in the scenario, and whether each holds on the data so far.
    pub thresholds: Vec<(&'a str, bool)>,
    /// When the data was taken, milliseconds since the Unix epoch (remote write stamps
    /// samples with it).
    pub timestamp_ms: i64,
}

/// The counts and latencies of one request (name, method).
#[derive(Debug, Clone)]
pub struct RequestSeries<'a> {
    /// The request's statistics name: a bounded value fixed by the scenario, never a URL
    /// with ids in it.
    pub name: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Completed requests per HTTP status (0: no response), failed ones included.
    pub statuses: Vec<(u16, u64)>,
    /// Failed requests per kind.
    pub failures: Vec<(FailureKind, u64)>,
    /// Response times in µs.
    pub latency: &'a LatencyHistogram,
    /// Exact sum of the response times in µs, when kept (otherwise estimated from the
    /// histogram).
    pub latency_sum_us: Option<u64>,
    /// Response times measured from each request's intended start (coordinated omission
    /// corrected), in µs, when the run paces requests and measures it.
    pub corrected_latency: Option<&'a LatencyHistogram>,
}

impl<'a> MetricsFrame<'a> {
    /// A frame of a run's result (so far, or finished): every request entry with its
    /// statuses, failures per kind (from the failure table), latencies and corrected
    /// latencies, users per class at the peak (a live exporter replaces them with the
    /// current counts), dropped iterations, the generator's lateness and the threshold
    /// verdicts. A version 1 result has no corrected latency or lateness.
    pub fn from_summary(
        summary: &'a Summary,
        labels: &'a [(String, String)],
        timestamp_ms: i64,
    ) -> MetricsFrame<'a> {
        let mut failures: BTreeMap<(&str, &str), BTreeMap<FailureKind, u64>> = BTreeMap::new();
        for row in &summary.failures {
            *failures
                .entry((row.name.as_str(), row.method.as_str()))
                .or_default()
                .entry(row.kind)
                .or_default() += row.occurrences;
        }
        let requests = summary
            .entries
            .iter()
            .map(|entry| RequestSeries {
                name: &entry.name,
                method: &entry.method,
                statuses: entry.status_codes.iter().map(|(&s, &n)| (s, n)).collect(),
                failures: failures
                    .get(&(entry.name.as_str(), entry.method.as_str()))
                    .map(|kinds| kinds.iter().map(|(&k, &n)| (k, n)).collect())
                    .unwrap_or_default(),
                latency: &entry.latency,
                latency_sum_us: Some(entry.latency_sum_us),
                corrected_latency: entry.corrected.as_ref().filter(|h| !h.is_empty()),
            })
            .collect();
        MetricsFrame {
            labels,
            requests,
            users: summary
                .info
                .classes
                .iter()
                .map(|c| (c.name.as_str(), c.users as u64))
                .collect(),
            dropped_iterations: summary.dropped_iterations,
            lateness: Some(&summary.generator.lateness).filter(|h| !h.is_empty()),
            thresholds: summary
                .info
                .thresholds
                .iter()
                .map(|t| (t.threshold.source.as_str(), t.passed))
                .collect(),
            timestamp_ms,
        }
    }
}
