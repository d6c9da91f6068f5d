//! Performance targets as data.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Metric {
    Percentile(f64),
    Avg,
    Min,
    Max,
    Med,
    ErrorRate,
    Rps,
    Requests,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Selector {
    All,
    Name(String),
    Tag(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub metric: Metric,
    pub selector: Selector,
    pub cmp: Comparison,
    pub value: f64,
    pub source: String,
    pub warn_only: bool,
    pub abort_after: Option<u64>,
}

use super::recorder::{Entry, Metrics, Snapshot};

/// A threshold with what was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub threshold: Threshold,
    pub measured: Option<f64>,
    pub passed: bool,
}

fn merged(selector: &Selector, s: &Snapshot) -> Entry {
    match selector {
        Selector::All => s.total.clone(),
        _ => {
            let mut e = Entry::default();
            for (key, entry) in s.keys.iter().zip(&s.entries) {
                let hit = match selector {
                    Selector::Name(n) => key.name == *n,
                    Selector::Tag(t) => key.tags.contains(t),
                    Selector::All => true,
                };
                if hit {
                    e.merge(entry);
                }
            }
            e
        }
    }
}

fn measure(t: &Threshold, e: &Entry, secs: f64) -> Option<f64> {
    if e.requests == 0 && !matches!(t.metric, Metric::Requests | Metric::Rps) {
        return None;
    }
    let us = |v: u64| v as f64;
    Some(match t.metric {
        Metric::Percentile(p) => us(e.latency.value_at_quantile(p / 100.0)),
        Metric::Avg => e.sum_us as f64 / e.requests as f64,
        Metric::Min => us(e.latency.min()),
        Metric::Max => us(e.latency.max()),
        Metric::Med => us(e.latency.value_at_quantile(0.5)),
        Metric::ErrorRate => e.failures as f64 / e.requests as f64,
        Metric::Rps => e.requests as f64 / secs.max(1e-9),
        Metric::Requests => e.requests as f64,
    })
}

fn holds(cmp: Comparison, measured: f64, bound: f64) -> bool {
    match cmp {
        Comparison::Lt => measured < bound,
        Comparison::Le => measured <= bound,
        Comparison::Gt => measured > bound,
        Comparison::Ge => measured >= bound,
    }
}

/// Evaluates every threshold against merged histograms of the matching entries.
/// A latency or error-rate threshold whose requests never ran is skipped (it passes with
/// no measured value, shown as SKIP): a short run that never picked a rare task is not a
/// regression.
pub fn evaluate(thresholds: &[Threshold], s: &Snapshot) -> Vec<ThresholdResult> {
    let secs = s.duration.as_secs_f64();
    thresholds
        .iter()
        .map(|t| {
            let e = merged(&t.selector, s);
            let measured = measure(t, &e, secs);
            let passed = measured.is_none_or(|m| holds(t.cmp, m, t.value));
            ThresholdResult {
                threshold: t.clone(),
                measured,
                passed,
            }
        })
        .collect()
}

/// The early-abort rule: a threshold with `abort after N` stops the run once at least N
/// matching requests were made and it does not hold over all of them so far. Only
/// error-rate and request-count bounds are certain enough to judge early; latency
/// percentiles can still recover and are only judged at the end.
pub fn should_abort(thresholds: &[Threshold], metrics: &Metrics) -> Option<ThresholdResult> {
    let watched: Vec<&Threshold> = thresholds
        .iter()
        .filter(|t| t.abort_after.is_some() && matches!(t.metric, Metric::ErrorRate | Metric::Max))
        .collect();
    if watched.is_empty() {
        return None;
    }
    let s = metrics.snapshot();
    watched.into_iter().find_map(|t| {
        let e = merged(&t.selector, &s);
        if e.requests < t.abort_after.unwrap_or(u64::MAX) {
            return None;
        }
        let measured = measure(t, &e, s.duration.as_secs_f64())?;
        (!holds(t.cmp, measured, t.value)).then(|| ThresholdResult {
            threshold: t.clone(),
            measured: Some(measured),
            passed: false,
        })
    })
}
