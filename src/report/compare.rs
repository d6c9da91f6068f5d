//! Baseline comparison ("alert if more than 20 % slower than last week"): per request, p50,
//! p95, p99, avg, req/s and error rate of two summaries side by side.
//!
//! Regression rules, with `max_regression` a fraction (0.2 = 20 %):
//! - latency (p50, p95, p99 from the HDR histograms, avg exact): regressed when it rose by
//!   more than `max_regression` of the baseline;
//! - req/s (total rate): regressed when it fell by more than `max_regression` of the baseline;
//! - error rate: regressed when it rose by more than `max_regression` of the baseline **and**
//!   by at least [`ERROR_RATE_FLOOR`] (0.1 percentage points). With a baseline of 0 the
//!   relative change is undefined (shown as `new`), so any current error rate of 0.1 % or more
//!   is a regression and less is noise.
//!
//! Requests are matched by (method, name); a request with no requests on one side is listed as
//! added or removed and not compared. The Aggregated entry is compared last.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::metrics::entry::{EntrySummary, per_second};
use crate::metrics::summary::utc;
use crate::metrics::{AGGREGATED, Summary};

use super::ReportError;
use super::format::Paint;

/// Smallest rise of the error rate (a fraction: 0.001 = 0.1 percentage points) that counts as
/// a regression, so one stray error against a clean baseline does not alert.
pub const ERROR_RATE_FLOOR: f64 = 0.001;

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareMetric {
    /// Median latency (HDR), µs.
    P50,
    /// 95th percentile latency (HDR), µs.
    P95,
    /// 99th percentile latency (HDR), µs.
    P99,
    /// Mean latency (exact), µs.
    Avg,
    /// Total requests per second.
    Rps,
    /// Failed / all requests, a fraction.
    ErrorRate,
}

impl CompareMetric {
    /// The compared metrics in report order.
    pub const ALL: [CompareMetric; 6] = [
        CompareMetric::P50,
        CompareMetric::P95,
        CompareMetric::P99,
        CompareMetric::Avg,
        CompareMetric::Rps,
        CompareMetric::ErrorRate,
    ];

    /// Column label.
    pub fn label(self) -> &'static str {
        match self {
            CompareMetric::P50 => "p50",
            CompareMetric::P95 => "p95",
            CompareMetric::P99 => "p99",
            CompareMetric::Avg => "avg",
            CompareMetric::Rps => "req/s",
            CompareMetric::ErrorRate => "errors",
        }
    }

    /// A value of this metric for people.
    pub fn format_value(self, v: f64) -> String {
        match self {
            CompareMetric::Rps => format!("{v:.2}"),
            CompareMetric::ErrorRate => format!("{:.2}%", v * 100.0),
            _ => format!("{:.1} ms", v / 1000.0),
        }
    }

    fn measure(self, e: &EntrySummary, duration_ms: u64) -> f64 {
        let pct = |p| e.percentile_us(p).unwrap_or(0) as f64;
        match self {
            CompareMetric::P50 => pct(50.0),
            CompareMetric::P95 => pct(95.0),
            CompareMetric::P99 => pct(99.0),
            CompareMetric::Avg => e.latency_sum_us as f64 / e.requests.max(1) as f64,
            CompareMetric::Rps => per_second(e.requests, duration_ms),
            CompareMetric::ErrorRate => e.fail_ratio(),
        }
    }
}

/// One metric of one request, both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDelta {
    /// What is compared.
    pub metric: CompareMetric,
    /// Baseline value (µs, req/s or fraction).
    pub baseline: f64,
    /// Current value.
    pub current: f64,
    /// Relative change `(current - baseline) / baseline`; `None` when the baseline is 0 and
    /// the current value is not.
    pub change: Option<f64>,
    /// Beyond the limit in the bad direction.
    pub regressed: bool,
}

/// A request (method and name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestName {
    /// HTTP method (empty for Aggregated).
    pub method: String,
    /// Request name.
    pub name: String,
}

/// One request compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryComparison {
    /// Which request.
    pub request: RequestName,
    /// One delta per [`CompareMetric::ALL`].
    pub deltas: Vec<MetricDelta>,
}

/// The comparison of a run with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The allowed change, a fraction.
    pub max_regression: f64,
    /// Start of the baseline run.
    #[serde(with = "utc")]
    pub baseline_started_at: DateTime<Utc>,
    /// Start of the current run.
    #[serde(with = "utc")]
    pub current_started_at: DateTime<Utc>,
    /// Scenario of the baseline run.
    pub baseline_scenario: String,
    /// Scenario of the current run.
    pub current_scenario: String,
    /// Requests on both sides, sorted by (name, method), Aggregated last.
    pub entries: Vec<EntryComparison>,
    /// Requests only the current run made.
    pub added: Vec<RequestName>,
    /// Requests only the baseline made.
    pub removed: Vec<RequestName>,
}

impl Comparison {
    /// True when any metric of any request regressed beyond the limit.
    pub fn regressed(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// Every regressed (request, metric).
    pub fn regressions(&self) -> impl Iterator<Item = (&RequestName, &MetricDelta)> {
        self.entries
            .iter()
            .flat_map(|e| e.deltas.iter().map(move |d| (&e.request, d)))
            .filter(|(_, d)| d.regressed)
    }
}

/// Compares `current` with `baseline`; `max_regression` is a fraction (0.2 = 20 %).
pub fn compare(baseline: &Summary, current: &Summary, max_regression: f64) -> Comparison {
    let made = |s: &Summary| -> Vec<RequestName> {
        s.sorted_entries()
            .iter()
            .map(|e| RequestName {
                method: e.method.clone(),
                name: e.name.clone(),
            })
            .collect()
    };
    let (base_names, cur_names) = (made(baseline), made(current));
    let mut entries = Vec::new();
    for request in cur_names.iter().filter(|n| base_names.contains(n)) {
        let (Some(b), Some(c)) = (
            baseline.entry(&request.name, &request.method),
            current.entry(&request.name, &request.method),
        ) else {
            continue;
        };
        entries.push(compare_entry(
            request.clone(),
            b,
            c,
            baseline,
            current,
            max_regression,
        ));
    }
    if baseline.aggregated.requests > 0 && current.aggregated.requests > 0 {
        let request = RequestName {
            method: String::new(),
            name: AGGREGATED.to_owned(),
        };
        entries.push(compare_entry(
            request,
            &baseline.aggregated,
            &current.aggregated,
            baseline,
            current,
            max_regression,
        ));
    }
    Comparison {
        max_regression,
        baseline_started_at: baseline.info.started_at,
        current_started_at: current.info.started_at,
        baseline_scenario: baseline.info.scenario_path.clone(),
        current_scenario: current.info.scenario_path.clone(),
        entries,
        added: cur_names
            .iter()
            .filter(|n| !base_names.contains(n))
            .cloned()
            .collect(),
        removed: base_names
            .iter()
            .filter(|n| !cur_names.contains(n))
            .cloned()
            .collect(),
    }
}

fn compare_entry(
    request: RequestName,
    b: &EntrySummary,
    c: &EntrySummary,
    baseline: &Summary,
    current: &Summary,
    max_regression: f64,
) -> EntryComparison {
    let deltas = CompareMetric::ALL
        .iter()
        .map(|&metric| {
            let base = metric.measure(b, baseline.last_request_ms);
            let cur = metric.measure(c, current.last_request_ms);
            let change = if base == 0.0 {
                (cur == 0.0).then_some(0.0)
            } else {
                Some((cur - base) / base)
            };
            let regressed = match metric {
                CompareMetric::Rps => base > 0.0 && (base - cur) / base > max_regression,
                CompareMetric::ErrorRate => {
                    cur - base > max_regression * base && cur - base >= ERROR_RATE_FLOOR
                }
                _ => base > 0.0 && (cur - base) / base > max_regression,
            };
            MetricDelta {
                metric,
                baseline: base,
                current: cur,
                change,
                regressed,
            }
        })
        .collect();
    EntryComparison { request, deltas }
}

/// Writes the comparison as a table, one line per metric, regressions marked, then the
/// added/removed requests and a verdict line.
pub fn render(cmp: &Comparison, out: &mut dyn Write, color: bool) -> Result<(), ReportError> {
    let paint = Paint { enabled: color };
    let limit = format!(
        "{}%",
        crate::metrics::threshold::trim_decimals(cmp.max_regression * 100.0, 2)
    );
    let time = |t: &DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut lines = vec![
        paint.bold(&format!(
            "Comparison with baseline (regression limit {limit})"
        )),
        format!(
            "  baseline: {}  {}",
            time(&cmp.baseline_started_at),
            cmp.baseline_scenario
        ),
        format!(
            "  current:  {}  {}",
            time(&cmp.current_started_at),
            cmp.current_scenario
        ),
        String::new(),
    ];
    let width = cmp
        .entries
        .iter()
        .map(|e| e.request.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    lines.push(paint.bold(&format!(
        "{:<8} {:<width$} {:<7} {:>12} {:>12} {:>9}",
        "Type", "Name", "Metric", "Baseline", "Current", "Change"
    )));
    let separator = [8, width, 7, 12, 12, 9].map(|w| "-".repeat(w)).join("|");
    lines.push(separator.clone());
    for e in &cmp.entries {
        if e.request.name == AGGREGATED && e.request.method.is_empty() {
            lines.push(separator.clone());
        }
        for (i, d) in e.deltas.iter().enumerate() {
            let (method, name) = if i == 0 {
                (e.request.method.as_str(), e.request.name.as_str())
            } else {
                ("", "")
            };
            let change = match d.change {
                Some(c) => format!("{:+.1}%", c * 100.0),
                None => "new".to_owned(),
            };
            let mut line = format!(
                "{method:<8} {name:<width$} {:<7} {:>12} {:>12} {change:>9}",
                d.metric.label(),
                d.metric.format_value(d.baseline),
                d.metric.format_value(d.current),
            );
            if d.regressed {
                line = paint.red(&format!("{line}  ✗ regression"));
            }
            lines.push(line);
        }
    }
    lines.push(separator);
    lines.push(String::new());
    for (title, list) in [
        ("Added (only in current):", &cmp.added),
        ("Removed (only in baseline):", &cmp.removed),
    ] {
        if !list.is_empty() {
            lines.push(title.to_owned());
            for r in list {
                lines.push(format!("  {} {}", r.method, r.name));
            }
            lines.push(String::new());
        }
    }
    let regressions = cmp.regressions().count();
    let requests = cmp
        .entries
        .iter()
        .filter(|e| e.deltas.iter().any(|d| d.regressed))
        .count();
    if cmp.entries.is_empty() {
        lines.push(paint.yellow("! WARN  nothing to compare: no request was made in both runs"));
    } else if regressions == 0 {
        lines.push(paint.green(&format!("✓ PASS  no regression beyond {limit}")));
    } else {
        lines.push(paint.red(&format!(
            "✗ FAIL  {regressions} regression{} beyond {limit} in {requests} of {} compared entries (marked above)",
            if regressions == 1 { "" } else { "s" },
            cmp.entries.len(),
        )));
    }
    for line in lines {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{Failure, Metrics, RunInfo, Sample, StatKey};

    /// One request name per `(name, requests, failures, latency_ms)`, spread over 10 s.
    fn run(spec: &[(&str, u32, u32, u32)]) -> Summary {
        let metrics = Metrics::new(spec.iter().map(|(n, ..)| StatKey::new("GET", *n)).collect());
        let mut rec = metrics.recorder(0);
        for (stat, &(_, requests, failures, latency_ms)) in spec.iter().enumerate() {
            for i in 0..requests {
                rec.record(Sample {
                    stat: stat as u32,
                    elapsed_ms: 10_000 * (i + 1) / requests,
                    latency_us: latency_ms * 1000,
                    ttfb_us: 0,
                    bytes: 0,
                    status: 200,
                    lag_us: 0,
                    scheduled: false,
                    failure: (i < failures).then(|| Box::new(Failure::http(500))),
                });
            }
        }
        drop(rec);
        metrics.summary_at(RunInfo::default(), Duration::from_secs(10))
    }

    fn delta<'a>(c: &'a Comparison, name: &str, metric: CompareMetric) -> &'a MetricDelta {
        c.entries
            .iter()
            .find(|e| e.request.name == name)
            .unwrap()
            .deltas
            .iter()
            .find(|d| d.metric == metric)
            .unwrap()
    }

    #[test]
    fn error_rate_against_a_clean_baseline() {
        let base = run(&[("/a", 2000, 0, 10), ("/b", 1000, 0, 10)]);
        let cur = run(&[("/a", 2000, 1, 10), ("/b", 1000, 3, 10)]);
        let c = compare(&base, &cur, 0.2);
        let a = delta(&c, "/a", CompareMetric::ErrorRate);
        assert_eq!((a.baseline, a.current, a.change), (0.0, 0.0005, None));
        assert!(!a.regressed, "0.05 % is below the 0.1 % floor");
        let b = delta(&c, "/b", CompareMetric::ErrorRate);
        assert_eq!((b.current, b.change, b.regressed), (0.003, None, true));
    }

    #[test]
    fn error_rate_against_a_failing_baseline() {
        let base = run(&[
            ("/a", 1000, 10, 10),
            ("/b", 1000, 10, 10),
            ("/c", 10_000, 10, 10),
        ]);
        let cur = run(&[
            ("/a", 1000, 11, 10),
            ("/b", 1000, 13, 10),
            ("/c", 10_000, 15, 10),
        ]);
        let c = compare(&base, &cur, 0.2);
        // +10 %: within the limit.
        assert!(!delta(&c, "/a", CompareMetric::ErrorRate).regressed);
        // +30 % and +0.3 percentage points.
        let b = delta(&c, "/b", CompareMetric::ErrorRate);
        assert!(b.regressed);
        assert!((b.change.unwrap() - 0.3).abs() < 1e-9);
        // +50 % but only +0.05 percentage points.
        assert!(!delta(&c, "/c", CompareMetric::ErrorRate).regressed);
    }

    #[test]
    fn latency_up_and_rps_down_beyond_the_limit() {
        let base = run(&[("/fast", 1000, 0, 100), ("/slow", 1000, 0, 100)]);
        let cur = run(&[("/fast", 900, 0, 119), ("/slow", 700, 0, 122)]);
        let c = compare(&base, &cur, 0.2);
        assert!(!delta(&c, "/fast", CompareMetric::P95).regressed);
        assert!(!delta(&c, "/fast", CompareMetric::Avg).regressed);
        assert!(!delta(&c, "/fast", CompareMetric::Rps).regressed);
        assert!(delta(&c, "/slow", CompareMetric::P50).regressed);
        assert!(delta(&c, "/slow", CompareMetric::Avg).regressed);
        let rps = delta(&c, "/slow", CompareMetric::Rps);
        assert_eq!((rps.baseline, rps.current), (100.0, 70.0));
        assert!(rps.regressed);
        assert!(c.regressed());
        // Faster and busier is never a regression.
        assert!(!compare(&cur, &base, 0.2).regressed());
    }

    #[test]
    fn added_and_removed_requests() {
        let base = run(&[
            ("/kept", 10, 0, 10),
            ("/gone", 10, 0, 10),
            ("/idle", 0, 0, 10),
        ]);
        let cur = run(&[
            ("/kept", 10, 0, 10),
            ("/new", 10, 0, 10),
            ("/idle", 0, 0, 10),
        ]);
        let c = compare(&base, &cur, 0.2);
        let names = |v: &[RequestName]| v.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&c.added), ["/new"]);
        assert_eq!(names(&c.removed), ["/gone"]);
        let compared: Vec<&str> = c.entries.iter().map(|e| e.request.name.as_str()).collect();
        assert_eq!(compared, ["/kept", "Aggregated"]);
    }
}
