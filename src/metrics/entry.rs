//! The statistics of one request name (or of all of them: the "Aggregated" entry).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::LatencyHistogram;
use super::locust::{self, Buckets, Median};
use super::sample::{Sample, StatKey};

/// Name of the entry that holds every request, as in Locust.
pub const AGGREGATED: &str = "Aggregated";

/// Everything counted for one [`StatKey`]: exact sums and extremes, HDR histograms of
/// latency and time to first byte, Locust's bucket dict, and status codes. Memory does not
/// grow with the number of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrySummary {
    /// HTTP method; empty for the Aggregated entry.
    pub method: String,
    /// Request name; `Aggregated` for the total.
    pub name: String,
    /// Tags of the request (empty for the Aggregated entry).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Requests completed, failed ones included (Locust's `num_requests`).
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Sum of response body lengths in bytes.
    pub bytes: u64,
    /// Exact sum of latencies in µs.
    pub latency_sum_us: u64,
    /// Exact smallest latency in µs (`None` before the first request).
    pub latency_min_us: Option<u32>,
    /// Exact largest latency in µs (`None` before the first request).
    pub latency_max_us: Option<u32>,
    /// Responses per HTTP status; status 0 counts requests that got no response.
    pub status_codes: BTreeMap<u16, u64>,
    /// Latency distribution (µs).
    pub latency: LatencyHistogram,
    /// Time-to-first-byte distribution (µs), only of requests that got a response.
    pub ttfb: LatencyHistogram,
    /// Locust's bucketed distribution (ms bucket → count), for Locust-exact tables.
    pub buckets: Buckets,
    /// Latency from the intended start (µs): the requests of scheduled users (open model,
    /// paced classes) plus the requests they would have made while held up by a slow one
    /// (see `docs/reports.md`). `None` when no request of this entry had a schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected: Option<LatencyHistogram>,
    /// Values of `corrected` that stand for requests a paced user could not make.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub backfilled: u64,
    /// Requests still in flight when the run was stopped (not counted in `requests`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abandoned: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl EntrySummary {
    /// An empty entry for `key`.
    pub fn new(key: &StatKey) -> EntrySummary {
        EntrySummary::named(&key.method, &key.name, key.tags.clone())
    }

    /// The empty Aggregated entry.
    pub fn aggregated() -> EntrySummary {
        EntrySummary::named("", AGGREGATED, Vec::new())
    }

    fn named(method: &str, name: &str, tags: Vec<String>) -> EntrySummary {
        EntrySummary {
            method: method.to_owned(),
            name: name.to_owned(),
            tags,
            requests: 0,
            failures: 0,
            bytes: 0,
            latency_sum_us: 0,
            latency_min_us: None,
            latency_max_us: None,
            status_codes: BTreeMap::new(),
            latency: LatencyHistogram::new(),
            ttfb: LatencyHistogram::new(),
            buckets: Buckets::new(),
            corrected: None,
            backfilled: 0,
            abandoned: 0,
        }
    }

    /// Counts one sample.
    pub fn record(&mut self, sample: &Sample) {
        self.record_exact(sample);
        self.count(sample.status, locust::bucket_us(sample.latency_us), 1);
    }

    /// The per-sample half of [`record`](Self::record): counts, sums, extremes, histograms.
    pub(crate) fn record_exact(&mut self, sample: &Sample) {
        self.requests += 1;
        if sample.failure.is_some() {
            self.failures += 1;
        }
        self.bytes += u64::from(sample.bytes);
        self.latency_sum_us += u64::from(sample.latency_us);
        self.latency_min_us = Some(
            self.latency_min_us
                .map_or(sample.latency_us, |m| m.min(sample.latency_us)),
        );
        self.latency_max_us = Some(
            self.latency_max_us
                .map_or(sample.latency_us, |m| m.max(sample.latency_us)),
        );
        self.latency.record(u64::from(sample.latency_us));
        if sample.status != 0 {
            self.ttfb.record(u64::from(sample.ttfb_us));
        }
        if sample.scheduled {
            self.corrected
                .get_or_insert_with(LatencyHistogram::new)
                .record(u64::from(sample.corrected_us()));
        }
    }

    /// Counts latencies from the intended start of requests that were never made (a paced
    /// user held up by a slow request).
    pub(crate) fn record_backfill(&mut self, values: impl Iterator<Item = u32>) {
        let h = self.corrected.get_or_insert_with(LatencyHistogram::new);
        for v in values {
            h.record(u64::from(v));
            self.backfilled += 1;
        }
    }

    /// The map half of [`record`](Self::record), for `n` samples with one status and one
    /// Locust bucket.
    pub(crate) fn count(&mut self, status: u16, bucket: u32, n: u64) {
        *self.status_codes.entry(status).or_default() += n;
        *self.buckets.entry(bucket).or_default() += n;
    }

    /// Adds `other`'s counts into this entry (merging endpoints, runs or workers). Name,
    /// method and tags stay this entry's.
    pub fn absorb(&mut self, other: &EntrySummary) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.bytes += other.bytes;
        self.latency_sum_us += other.latency_sum_us;
        self.latency_min_us = match (self.latency_min_us, other.latency_min_us) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.latency_max_us = match (self.latency_max_us, other.latency_max_us) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (&status, &count) in &other.status_codes {
            *self.status_codes.entry(status).or_default() += count;
        }
        self.latency.add(&other.latency);
        self.ttfb.add(&other.ttfb);
        locust::merge(&mut self.buckets, &other.buckets);
        if let Some(c) = &other.corrected {
            self.corrected
                .get_or_insert_with(LatencyHistogram::new)
                .add(c);
        }
        self.backfilled += other.backfilled;
        self.abandoned += other.abandoned;
    }

    /// HDR percentile of the latency from the intended start, µs; `None` without such values.
    pub fn corrected_percentile_us(&self, p: f64) -> Option<u64> {
        self.corrected
            .as_ref()
            .filter(|h| !h.is_empty())
            .map(|h| h.percentile(p))
    }

    /// True for the Aggregated entry.
    pub fn is_aggregated(&self) -> bool {
        self.method.is_empty() && self.name == AGGREGATED
    }

    /// Failures / requests (0 without requests), a fraction.
    pub fn fail_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }

    /// Exact mean latency in ms (0 without requests).
    pub fn avg_ms(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.latency_sum_us as f64 / (self.requests as f64 * 1000.0)
        }
    }

    /// Exact smallest latency in ms (0 without requests).
    pub fn min_ms(&self) -> f64 {
        self.latency_min_us.map_or(0.0, us_to_ms)
    }

    /// Exact largest latency in ms (0 without requests).
    pub fn max_ms(&self) -> f64 {
        self.latency_max_us.map_or(0.0, us_to_ms)
    }

    /// Mean body size in bytes (0 without requests).
    pub fn avg_content_size(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.bytes as f64 / self.requests as f64
        }
    }

    /// Locust's median (bucketed, clamped to the exact min/max); `None` without requests.
    pub fn locust_median(&self) -> Option<Median> {
        locust::clamped_median(&self.buckets, self.requests, self.min_ms(), self.max_ms())
    }

    /// Locust's bucketed percentile in ms for `p` in 0..=1; `None` without requests.
    pub fn locust_percentile(&self, p: f64) -> Option<u32> {
        (self.requests > 0).then(|| locust::percentile(&self.buckets, self.requests, p))
    }

    /// Locust's [`PERCENTILES_TO_REPORT`](locust::PERCENTILES_TO_REPORT); `None` without requests.
    pub fn locust_percentiles(&self) -> Option<[u32; 11]> {
        (self.requests > 0).then(|| locust::percentiles(&self.buckets, self.requests))
    }

    /// HDR latency percentile in µs for `p` in 0..=100; `None` without requests.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        (!self.latency.is_empty()).then(|| self.latency.percentile(p))
    }

    /// Requests per second over `duration_ms`: Locust's total RPS when `duration_ms` is the
    /// time of the run's last request since the start (0 for a zero duration).
    pub fn total_rps(&self, duration_ms: u64) -> f64 {
        per_second(self.requests, duration_ms)
    }

    /// Failures per second over `duration_ms`, like [`total_rps`](Self::total_rps).
    pub fn total_fail_per_sec(&self, duration_ms: u64) -> f64 {
        per_second(self.failures, duration_ms)
    }
}

/// `count / seconds`, 0 for a zero duration.
pub fn per_second(count: u64, duration_ms: u64) -> f64 {
    if duration_ms == 0 {
        0.0
    } else {
        count as f64 / (duration_ms as f64 / 1000.0)
    }
}

/// Microseconds to milliseconds.
pub fn us_to_ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sample::{Failure, FailureKind};

    fn sample(latency_ms: u32, status: u16, failed: bool) -> Sample {
        Sample {
            stat: 0,
            elapsed_ms: 0,
            latency_us: latency_ms * 1000,
            ttfb_us: latency_ms * 500,
            bytes: 100,
            lag_us: 0,
            scheduled: false,
            status,
            failure: failed.then(|| Box::new(Failure::new(FailureKind::Http5xx, ""))),
        }
    }

    #[test]
    fn records_exact_values() {
        let mut e = EntrySummary::new(&StatKey::new("GET", "/a"));
        for ms in [147, 153, 3432] {
            e.record(&sample(ms, 200, false));
        }
        e.record(&sample(10, 0, true));
        assert_eq!(e.requests, 4);
        assert_eq!(e.failures, 1);
        assert_eq!(e.bytes, 400);
        assert_eq!(e.avg_ms(), (147.0 + 153.0 + 3432.0 + 10.0) / 4.0);
        assert_eq!(e.min_ms(), 10.0);
        assert_eq!(e.max_ms(), 3432.0);
        assert_eq!(e.status_codes, BTreeMap::from([(0, 1), (200, 3)]));
        assert_eq!(e.ttfb.len(), 3);
        assert_eq!(e.latency.len(), 4);
        assert_eq!(e.fail_ratio(), 0.25);
        assert_eq!(e.buckets, Buckets::from([(10, 1), (150, 2), (3400, 1)]));
        assert_eq!(e.locust_percentile(1.0), Some(3400));
    }

    #[test]
    fn absorb_equals_recording_into_one() {
        let mut a = EntrySummary::new(&StatKey::new("GET", "/a"));
        let mut b = EntrySummary::new(&StatKey::new("GET", "/b"));
        let mut both = EntrySummary::aggregated();
        for ms in [1, 5, 9] {
            a.record(&sample(ms, 200, false));
            both.record(&sample(ms, 200, false));
        }
        for ms in [2, 700] {
            b.record(&sample(ms, 503, true));
            both.record(&sample(ms, 503, true));
        }
        let mut merged = EntrySummary::aggregated();
        merged.absorb(&a);
        merged.absorb(&b);
        assert_eq!(merged, both);
    }

    #[test]
    fn empty_entry() {
        let e = EntrySummary::aggregated();
        assert!(e.is_aggregated());
        assert_eq!(e.avg_ms(), 0.0);
        assert_eq!(e.locust_median(), None);
        assert_eq!(e.locust_percentiles(), None);
        assert_eq!(e.percentile_us(95.0), None);
    }
}
