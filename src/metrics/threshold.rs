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
//! - A threshold with nothing to measure (no requests for a latency or error-rate metric)
//!   fails: a run that never measured what a target is about has not met it. A threshold
//!   marked `allow_no_data` passes instead (reports show SKIP). (`requests` and `rps` measure
//!   0 instead.)
//! - `view: Corrected` measures the latency from the intended start (`corrected_p95`...):
//!   the view without coordinated omission, for the open model and paced classes.
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
    /// Which latency a latency metric measures.
    #[serde(default, skip_serializing_if = "LatencyView::is_response")]
    pub view: LatencyView,
    /// With nothing to measure, the threshold passes (SKIP) instead of failing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_no_data: bool,
}

/// Which latency a threshold (or a report column) means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyView {
    /// The response time: from sending the request to its last byte (Locust's meaning).
    #[default]
    Response,
    /// From the request's intended start (its schedule) to its last byte: includes the time
    /// it waited because of the generator or earlier slow responses (no coordinated
    /// omission).
    Corrected,
}

impl LatencyView {
    fn is_response(&self) -> bool {
        *self == LatencyView::Response
    }
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

impl Threshold {
    /// Whether the threshold can end a run early (see the abort rule above): it has `abort
    /// after`, is not `warn_only`, and its failure cannot be undone by later requests.
    pub fn aborts(&self) -> bool {
        self.abort_after.is_some() && !self.warn_only && self.metric.can_abort(self.cmp)
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

    /// Whether the requests of a statistics entry are selected.
    pub fn matches_key(&self, key: &StatKey) -> bool {
        self.matches(&key.name, &key.tags)
    }
}

impl ThresholdResult {
    /// Nothing to measure (no requests): shown as SKIP when allowed, else a failure.
    pub fn is_skipped(&self) -> bool {
        self.measured.is_none() && self.passed
    }

    /// Nothing was measured.
    pub fn has_no_data(&self) -> bool {
        self.measured.is_none()
    }

    /// Failed and not warn-only: fails the run.
    pub fn is_failure(&self) -> bool {
        !self.passed && !self.threshold.warn_only
    }

    /// Failed but warn-only: reported as a warning.
    pub fn is_warning(&self) -> bool {
        !self.passed && self.threshold.warn_only
    }

    /// The measured value for people (`147.071 ms`), or `no requests`.
    pub fn measured_text(&self) -> String {
        match self.measured {
            Some(v) => self.threshold.metric.format_value(v),
            None if self.threshold.view == LatencyView::Corrected
                && self.threshold.metric.is_latency() =>
            {
                "no scheduled requests".to_owned()
            }
            None => "no requests".to_owned(),
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
    evaluate_entries(
        thresholds,
        &summary.entries,
        &summary.aggregated,
        summary.last_request_ms,
    )
}

/// Evaluates every threshold against entries and their total (a run still going: the live
/// status of each threshold).
pub fn evaluate_entries(
    thresholds: &[Threshold],
    entries: &[EntrySummary],
    total: &EntrySummary,
    last_request_ms: u64,
) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let measured = select(entries, total, &t.selector)
                .and_then(|entry| measure(t, &entry, last_request_ms));
            ThresholdResult {
                threshold: t.clone(),
                measured,
                passed: match measured {
                    Some(m) => t.cmp.holds(m, t.value),
                    None => t.allow_no_data,
                },
            }
        })
        .collect()
}

/// The merged entry of the requests a selector picks; `None` when no entry matches (the
/// compiler only accepts names and tags of the scenario, so this is a run without them).
fn select(
    entries: &[EntrySummary],
    total: &EntrySummary,
    selector: &Selector,
) -> Option<EntrySummary> {
    if *selector == Selector::All {
        return Some(total.clone());
    }
    let mut matched = entries
        .iter()
        .filter(|e| selector.matches(&e.name, &e.tags));
    let mut merged = matched.next()?.clone();
    for e in matched {
        merged.absorb(e);
    }
    Some(merged)
}

fn measure(t: &Threshold, e: &EntrySummary, duration_ms: u64) -> Option<f64> {
    let any = e.requests > 0;
    if t.view == LatencyView::Corrected && t.metric.is_latency() {
        let h = e.corrected.as_ref().filter(|h| !h.is_empty())?;
        return Some(match t.metric {
            Metric::Percentile(p) => h.percentile(p) as f64,
            Metric::Med => h.percentile(50.0) as f64,
            Metric::Min => h.min() as f64,
            Metric::Max => h.max() as f64,
            Metric::Avg => h.as_hdr().mean(),
            _ => unreachable!("latency metrics only"),
        });
    }
    match t.metric {
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
    let candidates: Vec<&Threshold> = thresholds.iter().filter(|t| t.aborts()).collect();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::metrics::sample::{Failure, Sample};
    use crate::metrics::summary::RunInfo;

    fn key(method: &str, name: &str, tags: &[&str]) -> StatKey {
        StatKey {
            method: method.into(),
            name: name.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// /p list: 100 × 1..=100 ms; /p create (POST /p): 10 × 300 ms, 2 failed;
    /// /t list: 50 × 40 ms; /never: no requests. Last request at 9.9 s.
    fn run() -> (Arc<Metrics>, Summary) {
        let metrics = Metrics::new(vec![
            key("GET", "/p", &["list"]),
            key("POST", "/p", &["create"]),
            key("GET", "/t", &["list"]),
            key("GET", "/never", &["rare"]),
        ]);
        let mut rec = metrics.recorder(0);
        let mut push = |stat, ms: u32, fail: bool, at: u32| {
            rec.record(Sample {
                stat,
                elapsed_ms: at,
                latency_us: ms * 1000,
                ttfb_us: 0,
                bytes: 0,
                status: if fail { 500 } else { 200 },
                lag_us: 0,
                scheduled: false,
                failure: fail.then(|| Box::new(Failure::http(500))),
            })
        };
        for ms in 1..=100 {
            push(0, ms, false, ms * 10);
        }
        for i in 0..10 {
            push(1, 300, i < 2, 2000 + i);
        }
        for i in 0..50 {
            push(2, 40, false, 3000 + i);
        }
        push(2, 40, false, 9900);
        drop(rec);
        let summary = metrics.summary_at(RunInfo::default(), Duration::from_secs(10));
        (metrics, summary)
    }

    fn t(metric: Metric, selector: Selector, cmp: Comparison, value: f64) -> Threshold {
        Threshold {
            metric,
            selector,
            cmp,
            value,
            source: String::new(),
            warn_only: false,
            abort_after: None,
            view: LatencyView::Response,
            allow_no_data: false,
        }
    }

    fn name(n: &str) -> Selector {
        Selector::Name(n.into())
    }

    fn tag(n: &str) -> Selector {
        Selector::Tag(n.into())
    }

    #[test]
    fn evaluates_by_name_tag_and_all() {
        let (_, summary) = run();
        let thresholds = [
            // /p by name = GET /p + POST /p: 110 requests, 100 below 101 ms, 10 at 300 ms.
            t(
                Metric::Percentile(90.0),
                name("/p"),
                Comparison::Lt,
                100_000.0,
            ),
            t(
                Metric::Percentile(95.0),
                name("/p"),
                Comparison::Lt,
                200_000.0,
            ),
            t(Metric::Max, name("/p"), Comparison::Le, 300_000.0),
            t(Metric::ErrorRate, name("/p"), Comparison::Lt, 0.01),
            // tag list = GET /p + GET /t: 151 requests, none failed.
            t(Metric::ErrorRate, tag("list"), Comparison::Lt, 0.01),
            t(Metric::Requests, tag("list"), Comparison::Ge, 151.0),
            t(Metric::Avg, tag("list"), Comparison::Lt, 50_000.0),
            // all: 161 requests over 9.9 s.
            t(Metric::Rps, Selector::All, Comparison::Ge, 16.0),
            t(Metric::Min, Selector::All, Comparison::Ge, 1_000.0),
            t(Metric::Med, Selector::All, Comparison::Le, 41_000.0),
            // nothing to measure: skipped, which passes whatever the bound.
            t(
                Metric::Percentile(95.0),
                name("/never"),
                Comparison::Gt,
                1e9,
            ),
            t(Metric::ErrorRate, name("/missing"), Comparison::Gt, 1.0),
            // but a request count of an endpoint that never ran is a measurement: 0.
            t(Metric::Requests, tag("rare"), Comparison::Lt, 1.0),
        ];
        let results = evaluate(&thresholds, &summary);
        let got: Vec<(Option<f64>, bool)> =
            results.iter().map(|r| (r.measured, r.passed)).collect();
        // HDR values are highest-equivalent: 99 ms → 99_007 µs, 300 ms → 300_031 µs.
        // p90 of 110 requests is the 99th smallest: 99 ms.
        let expected = vec![
            (Some(99_007.0), true),
            (Some(300_031.0), false),
            (Some(300_000.0), true),
            (Some(2.0 / 110.0), false),
            (Some(0.0), true),
            (Some(151.0), true),
            (Some((5_050_000.0 + 51.0 * 40_000.0) / 151.0), true),
            (Some(161.0 / 9.9), true),
            (Some(1_000.0), true),
            (Some(40_031.0), true),
            // Nothing measured: a target that was never measured is not met.
            (None, false),
            (None, false),
            (Some(0.0), true),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn merged_percentile_is_not_an_average() {
        let (_, summary) = run();
        // p99 of GET /p alone is 100 ms, of POST /p 300 ms; merged, 10/110 requests are at
        // 300 ms, so p95 is 300 ms (an average of per-entry p95 would be about 198 ms).
        let r = evaluate(
            &[t(
                Metric::Percentile(95.0),
                name("/p"),
                Comparison::Lt,
                1e12,
            )],
            &summary,
        );
        assert_eq!(r[0].measured, Some(300_031.0));
    }

    #[test]
    fn warn_only_failure_does_not_fail_the_run() {
        let (_, mut summary) = run();
        let mut warn = t(Metric::ErrorRate, Selector::All, Comparison::Lt, 0.001);
        warn.warn_only = true;
        summary.apply_thresholds(&[warn.clone()]);
        assert!(summary.thresholds()[0].is_warning());
        assert!(summary.thresholds_passed());
        warn.warn_only = false;
        summary.apply_thresholds(&[warn]);
        assert!(summary.thresholds()[0].is_failure());
        assert!(!summary.thresholds_passed());
    }

    #[test]
    fn abort_rule() {
        let (metrics, _) = run();
        let abort = |metric, selector, cmp, value, after| Threshold {
            abort_after: Some(after),
            ..t(metric, selector, cmp, value)
        };
        // Error rate of /p is 2/110: fails < 1 % with 110 matched requests.
        let er = abort(Metric::ErrorRate, name("/p"), Comparison::Lt, 0.01, 100);
        let r = should_abort(std::slice::from_ref(&er), &metrics).unwrap();
        assert_eq!(r.measured, Some(2.0 / 110.0));
        assert!(!r.passed);
        // Not yet enough requests matched.
        let er_late = abort(Metric::ErrorRate, name("/p"), Comparison::Lt, 0.01, 111);
        assert_eq!(should_abort(&[er_late], &metrics), None);
        // Passing thresholds never abort.
        let er_ok = abort(Metric::ErrorRate, tag("list"), Comparison::Lt, 0.01, 1);
        assert_eq!(should_abort(&[er_ok], &metrics), None);
        // Max < bound can abort (exact max 300 ms).
        let max = abort(Metric::Max, Selector::All, Comparison::Lt, 250_000.0, 1);
        assert_eq!(
            should_abort(&[max], &metrics).unwrap().measured,
            Some(300_000.0)
        );
        // Min > bound can abort.
        let min = abort(Metric::Min, tag("list"), Comparison::Gt, 5_000.0, 1);
        assert_eq!(
            should_abort(&[min], &metrics).unwrap().measured,
            Some(1_000.0)
        );
        // Requests <= bound can abort once exceeded.
        let cap = abort(Metric::Requests, Selector::All, Comparison::Le, 100.0, 1);
        assert_eq!(
            should_abort(&[cap], &metrics).unwrap().measured,
            Some(161.0)
        );
        // Percentiles, Max with >, warn-only and thresholds without abort_after never abort.
        let p95 = abort(
            Metric::Percentile(95.0),
            Selector::All,
            Comparison::Lt,
            1.0,
            1,
        );
        let max_gt = abort(Metric::Max, Selector::All, Comparison::Gt, 1e12, 1);
        let mut warn = er.clone();
        warn.warn_only = true;
        let mut no_after = er.clone();
        no_after.abort_after = None;
        assert_eq!(should_abort(&[p95, max_gt, warn, no_after], &metrics), None);
    }

    #[test]
    fn values_for_people() {
        assert_eq!(
            Metric::Percentile(95.0).format_value(147_071.0),
            "147.071 ms"
        );
        assert_eq!(Metric::Avg.format_value(200_000.0), "200 ms");
        assert_eq!(Metric::ErrorRate.format_value(0.025), "2.5%");
        assert_eq!(Metric::ErrorRate.format_value(2.0 / 110.0), "1.818%");
        assert_eq!(Metric::Rps.format_value(161.0 / 9.9), "16.26 req/s");
        assert_eq!(Metric::Requests.format_value(151.0), "151");
        let r = ThresholdResult {
            threshold: t(
                Metric::Percentile(95.0),
                Selector::All,
                Comparison::Le,
                200_000.0,
            ),
            measured: None,
            passed: false,
        };
        assert_eq!(r.measured_text(), "no requests");
        assert!(!r.is_skipped(), "no data is a failure unless allowed");
        assert!(r.is_failure() && r.has_no_data());
        let allowed = ThresholdResult {
            passed: true,
            ..r.clone()
        };
        assert!(allowed.is_skipped());
        assert_eq!(r.expected_text(), "<= 200 ms");
    }

    #[test]
    fn threshold_serde_round_trip() {
        let th = Threshold {
            source: "p99.9(tag \"list\") < 200ms".into(),
            abort_after: Some(5),
            ..t(
                Metric::Percentile(99.9),
                tag("list"),
                Comparison::Lt,
                200_000.0,
            )
        };
        let json = serde_json::to_string(&th).unwrap();
        assert!(json.contains(r#""metric":{"percentile":99.9}"#), "{json}");
        assert!(json.contains(r#""selector":{"tag":"list"}"#), "{json}");
        let back: Threshold = serde_json::from_str(&json).unwrap();
        assert_eq!(back, th);
        let all: Selector = serde_json::from_str(r#""all""#).unwrap();
        assert_eq!(all, Selector::All);
    }
}
