//! Pass/fail rules on the results (`p95("/api/v1/projects/") < 200ms`, `error_rate < 1%`).
//! The grammar and compiler produce [`Threshold`]s; this module evaluates them.
//!
//! Rules:
//! - A selector picks request entries: `All` is the Aggregated entry, `Name` every entry with
//!   that name (any method), `Tag` every entry carrying the tag. Several entries are merged
//!   (histograms added, counts summed), never averaged.
//! - Latency metrics are in µs. Percentiles and the median come from the HDR histogram
//!   (3 significant digits, the highest equivalent value, so at most 0.1 % above the sample);
//!   avg, min and max are exact. `Rps` is requests over the time of the last request since the
//!   start, like the report's req/s column. `ErrorRate` is failures / requests, a fraction.
//! - A threshold with nothing to measure (no matching request, or no requests for a latency or
//!   error-rate metric) fails: a rule on an endpoint that never ran must not pass silently.
//! - A failing `warn_only` threshold is reported but does not fail the run.
//!
//! Abort rule ([`should_abort`]): only thresholds whose failure cannot be undone by later
//! requests, or whose early failure is the whole point, may stop a run early. They need
//! `abort_after: Some(n)`, must not be `warn_only`, and must be one of: `ErrorRate` (any
//! comparison), `Max` with `<`/`<=`, `Min` with `>`/`>=`, `Requests` with `<`/`<=`. Such a
//! threshold aborts the run once at least `n` requests matched it and it fails on the data
//! aggregated so far (as of the last tick). Percentiles, avg, median and rps never abort: they
//! can recover.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::entry::{EntrySummary, per_second};
use super::recorder::Metrics;
use super::sample::StatKey;
use super::summary::Summary;

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A latency percentile, 0..=100 (e.g. 95.0, 99.9), in µs.
    Percentile(f64),
    /// Mean latency, µs.
    Avg,
    /// Smallest latency, µs.
    Min,
    /// Largest latency, µs.
    Max,
    /// Median latency, µs.
    Med,
    /// Failed / all requests, a fraction 0..=1.
    ErrorRate,
    /// Requests per second.
    Rps,
    /// Number of requests.
    Requests,
}

/// Which requests a threshold looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    /// Every request (the Aggregated entry).
    All,
    /// Requests whose `StatKey.name` is this, any method.
    Name(String),
    /// Requests whose `StatKey.tags` contain this.
    Tag(String),
}

/// How the measured value must compare with the bound for the threshold to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// measured < bound
    Lt,
    /// measured <= bound
    Le,
    /// measured > bound
    Gt,
    /// measured >= bound
    Ge,
}

/// One pass/fail rule, as compiled from the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// What is measured.
    pub metric: Metric,
    /// Over which requests.
    pub selector: Selector,
    /// How it must compare with `value`.
    pub cmp: Comparison,
    /// The bound: µs for latencies, a fraction 0..=1 for the error rate, req/s for rps,
    /// a count for requests.
    pub value: f64,
    /// The threshold as written in the scenario, for display.
    pub source: String,
    /// A failure is reported but does not fail the run.
    pub warn_only: bool,
    /// Abort the run once failing with at least this many requests matched (see the module
    /// documentation for which thresholds can abort).
    pub abort_after: Option<u64>,
}

/// A threshold with what was measured and whether it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The threshold.
    pub threshold: Threshold,
    /// The measured value in the threshold's unit; `None` when there was nothing to measure.
    pub measured: Option<f64>,
    /// Whether the threshold held.
    pub passed: bool,
}

impl Comparison {
    /// Whether `measured` satisfies the comparison with `bound`.
    pub fn holds(self, measured: f64, bound: f64) -> bool {
        match self {
            Comparison::Lt => measured < bound,
            Comparison::Le => measured <= bound,
            Comparison::Gt => measured > bound,
            Comparison::Ge => measured >= bound,
        }
    }

    /// The operator as written: `<`, `<=`, `>`, `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

impl Metric {
    /// True for metrics measured in µs.
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Metric::Percentile(_) | Metric::Avg | Metric::Min | Metric::Max | Metric::Med
        )
    }

    /// A value of this metric for people: `147.071 ms`, `2.5%`, `123.4 req/s`, `1200`.
    pub fn format_value(self, value: f64) -> String {
        match self {
            m if m.is_latency() => format!("{} ms", trim_decimals(value / 1000.0, 3)),
            Metric::ErrorRate => format!("{}%", trim_decimals(value * 100.0, 3)),
            Metric::Rps => format!("{} req/s", trim_decimals(value, 2)),
            _ => trim_decimals(value, 0),
        }
    }

    /// Whether a failure of this metric under `cmp` can still be undone by later requests.
    fn can_abort(self, cmp: Comparison) -> bool {
        match self {
            Metric::ErrorRate => true,
            Metric::Max | Metric::Requests => matches!(cmp, Comparison::Lt | Comparison::Le),
            Metric::Min => matches!(cmp, Comparison::Gt | Comparison::Ge),
            _ => false,
        }
    }
}

impl Selector {
    /// Whether requests named `name` with `tags` are selected (`All` selects everything).
    pub fn matches(&self, name: &str, tags: &[String]) -> bool {
        match self {
            Selector::All => true,
            Selector::Name(wanted) => name == wanted,
            Selector::Tag(tag) => tags.iter().any(|t| t == tag),
        }
    }

    fn matches_key(&self, key: &StatKey) -> bool {
        self.matches(&key.name, &key.tags)
    }
}

impl ThresholdResult {
    /// Failed and not warn-only: fails the run.
    pub fn is_failure(&self) -> bool {
        !self.passed && !self.threshold.warn_only
    }

    /// Failed but warn-only: reported as a warning.
    pub fn is_warning(&self) -> bool {
        !self.passed && self.threshold.warn_only
    }

    /// The measured value for people (`147.071 ms`), or `no data`.
    pub fn measured_text(&self) -> String {
        match self.measured {
            Some(v) => self.threshold.metric.format_value(v),
            None => "no data".to_owned(),
        }
    }

    /// The bound for people: `< 200 ms`.
    pub fn expected_text(&self) -> String {
        format!(
            "{} {}",
            self.threshold.cmp.symbol(),
            self.threshold.metric.format_value(self.threshold.value)
        )
    }
}

/// The threshold as written in the scenario.
impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Evaluates every threshold against the final summary, in order.
pub fn evaluate(thresholds: &[Threshold], summary: &Summary) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let measured = select(summary, &t.selector)
                .and_then(|entry| measure(t.metric, &entry, summary.last_request_ms));
            ThresholdResult {
                threshold: t.clone(),
                measured,
                passed: measured.is_some_and(|m| t.cmp.holds(m, t.value)),
            }
        })
        .collect()
}

/// The merged entry of the requests a selector picks; `None` when no entry matches.
fn select(summary: &Summary, selector: &Selector) -> Option<EntrySummary> {
    if *selector == Selector::All {
        return Some(summary.aggregated.clone());
    }
    let mut matched = summary
        .entries
        .iter()
        .filter(|e| selector.matches(&e.name, &e.tags));
    let mut merged = matched.next()?.clone();
    for e in matched {
        merged.absorb(e);
    }
    Some(merged)
}

fn measure(metric: Metric, e: &EntrySummary, duration_ms: u64) -> Option<f64> {
    let any = e.requests > 0;
    match metric {
        Metric::Percentile(p) => e.percentile_us(p).map(|v| v as f64),
        Metric::Med => e.percentile_us(50.0).map(|v| v as f64),
        Metric::Avg => any.then(|| e.latency_sum_us as f64 / e.requests as f64),
        Metric::Min => e.latency_min_us.map(f64::from),
        Metric::Max => e.latency_max_us.map(f64::from),
        Metric::ErrorRate => any.then(|| e.fail_ratio()),
        Metric::Rps => Some(per_second(e.requests, duration_ms)),
        Metric::Requests => Some(e.requests as f64),
    }
}

/// Counts needed by the abortable metrics, summed over matching entries.
#[derive(Default)]
struct Tally {
    requests: u64,
    failures: u64,
    min_us: Option<u32>,
    max_us: Option<u32>,
}

/// Checks the abortable thresholds (see the module documentation) against what `metrics`
/// aggregated up to its last tick. Returns the first one that demands an abort. Cheap: no
/// histogram is touched. Call it after `Metrics::tick`.
pub fn should_abort(thresholds: &[Threshold], metrics: &Metrics) -> Option<ThresholdResult> {
    let candidates: Vec<&Threshold> = thresholds
        .iter()
        .filter(|t| t.abort_after.is_some() && !t.warn_only && t.metric.can_abort(t.cmp))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    metrics.with_entries(|keys, entries, total| {
        candidates.into_iter().find_map(|t| {
            let mut tally = Tally::default();
            let mut add = |e: &EntrySummary| {
                tally.requests += e.requests;
                tally.failures += e.failures;
                tally.min_us = match (tally.min_us, e.latency_min_us) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                tally.max_us = tally.max_us.max(e.latency_max_us);
            };
            if t.selector == Selector::All {
                add(total);
            } else {
                for (key, e) in keys.iter().zip(entries) {
                    if t.selector.matches_key(key) {
                        add(e);
                    }
                }
            }
            if tally.requests < t.abort_after.unwrap_or(u64::MAX) {
                return None;
            }
            let measured = match t.metric {
                Metric::ErrorRate => tally.failures as f64 / tally.requests as f64,
                Metric::Max => f64::from(tally.max_us?),
                Metric::Min => f64::from(tally.min_us?),
                Metric::Requests => tally.requests as f64,
                _ => unreachable!("only abortable metrics are candidates"),
            };
            (!t.cmp.holds(measured, t.value)).then(|| ThresholdResult {
                threshold: t.clone(),
                measured: Some(measured),
                passed: false,
            })
        })
    })
}

/// `value` with at most `decimals` decimals, trailing zeros removed: 147.071, 200, 2.5.
pub fn trim_decimals(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
