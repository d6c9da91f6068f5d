//! The time series: one point per `Metrics::tick`, with what charts and Locust's
//! `_stats_history.csv` need, per request name and overall.

use serde::{Deserialize, Serialize};

use super::entry::EntrySummary;
use super::locust::{self, Buckets, Median};

/// The statistics at one tick of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// When the tick happened, ms since the run started.
    pub elapsed_ms: u64,
    /// The same instant as Unix seconds (UTC), Locust's `Timestamp` column.
    pub timestamp: i64,
    /// Running virtual users at that time.
    pub users: usize,
    /// All requests ("Aggregated").
    pub total: PointStats,
    /// Per request, indexed like `Summary::entries` (by `StatId`); `None` while a request had
    /// not been made yet.
    pub entries: Vec<Option<PointStats>>,
}

/// One entry's statistics at a tick. Rates and `current_ms` describe the last seconds
/// (Locust's "current" windows); the other fields are cumulative since the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointStats {
    /// Current requests per second: mean over the 10 whole seconds ending 2 s before the
    /// newest request of the run (Locust's `current_rps`).
    pub rps: f64,
    /// Current failures per second, same window.
    pub fps: f64,
    /// Locust-bucketed percentiles in ms (columns of `PERCENTILES_TO_REPORT`) of the requests
    /// completed in the last 10 seconds; `None` when there were none.
    pub current_ms: Option<[u32; 11]>,
    /// Locust-bucketed percentiles since the start; only on the total (for the default
    /// `_stats_history.csv`, whose Aggregated row is cumulative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cumulative_ms: Option<[u32; 11]>,
    /// Requests since the start.
    pub requests: u64,
    /// Failures since the start.
    pub failures: u64,
    /// Locust's median since the start (`None` before the first request).
    pub median: Option<Median>,
    /// Mean latency since the start, ms.
    pub avg_ms: f64,
    /// Smallest latency since the start, ms.
    pub min_ms: f64,
    /// Largest latency since the start, ms.
    pub max_ms: f64,
    /// Mean body size since the start, bytes.
    pub avg_content_size: f64,
}

impl PointStats {
    /// Current p50 in ms (chart line), if any request completed in the window.
    pub fn p50_ms(&self) -> Option<u32> {
        self.current_ms.map(|p| p[locust::P50])
    }

    /// Current p95 in ms.
    pub fn p95_ms(&self) -> Option<u32> {
        self.current_ms.map(|p| p[locust::P95])
    }

    /// Current p99 in ms.
    pub fn p99_ms(&self) -> Option<u32> {
        self.current_ms.map(|p| p[locust::P99])
    }
}

/// Seconds of per-second data kept for the current windows: the rate window reaches 12 s
/// back, the percentile window 10 s; the rest absorbs late hand-overs.
const RING_SECS: usize = 20;

/// One second of one entry: counts and Locust buckets of the requests completed in it.
#[derive(Debug, Clone, Default)]
struct Second {
    /// Which second (since the start) this slot holds; `None` when unused.
    sec: Option<u64>,
    requests: u64,
    failures: u64,
    buckets: Buckets,
}

/// The last [`RING_SECS`] seconds of one entry, keyed by the second a request completed in.
/// Requests handed over later than that only reach the cumulative statistics.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    slots: Vec<Second>,
}

impl Window {
    pub(crate) fn new() -> Window {
        Window {
            slots: vec![Second::default(); RING_SECS],
        }
    }

    /// Counts one request completed in second `sec`.
    #[cfg(test)]
    pub(crate) fn record(&mut self, sec: u64, bucket: u32, failed: bool) {
        self.record_n(sec, bucket, 1, u64::from(failed));
    }

    /// Counts `requests` requests (`failures` of them failed) completed in second `sec`,
    /// all in `bucket`.
    pub(crate) fn record_n(&mut self, sec: u64, bucket: u32, requests: u64, failures: u64) {
        let slot = &mut self.slots[(sec % RING_SECS as u64) as usize];
        match slot.sec {
            Some(s) if s == sec => {}
            Some(s) if s > sec => return, // older than the ring: too late for the windows
            _ => {
                slot.sec = Some(sec);
                slot.requests = 0;
                slot.failures = 0;
                slot.buckets.clear();
            }
        }
        slot.requests += requests;
        slot.failures += failures;
        *slot.buckets.entry(bucket).or_default() += requests;
    }

    fn slot(&self, sec: u64) -> Option<&Second> {
        let slot = &self.slots[(sec % RING_SECS as u64) as usize];
        (slot.sec == Some(sec)).then_some(slot)
    }

    /// Current (requests/s, failures/s) by Locust's rule, `last_sec` being the second of
    /// the newest request of the whole run.
    pub(crate) fn rates(&self, last_sec: Option<u64>) -> (f64, f64) {
        let Some(last) = last_sec else {
            return (0.0, 0.0);
        };
        (
            locust::current_rate(last, |s| self.slot(s).map_or(0, |x| x.requests)),
            locust::current_rate(last, |s| self.slot(s).map_or(0, |x| x.failures)),
        )
    }

    /// Percentiles of the requests completed in seconds `now_sec - 9 ..= now_sec` (and any
    /// newer), `None` if there were none.
    pub(crate) fn current_percentiles(&self, now_sec: u64) -> Option<[u32; 11]> {
        let from = now_sec.saturating_sub(u64::from(locust::CURRENT_WINDOW_SECS) - 1);
        let mut merged = Buckets::new();
        let mut n = 0;
        for slot in &self.slots {
            if slot.sec.is_some_and(|s| s >= from) {
                locust::merge(&mut merged, &slot.buckets);
                n += slot.requests;
            }
        }
        (n > 0).then(|| locust::percentiles(&merged, n))
    }
}

/// The point for one entry at a tick.
pub(crate) fn point_stats(
    entry: &EntrySummary,
    window: &Window,
    last_sec: Option<u64>,
    now_sec: u64,
    cumulative: bool,
) -> PointStats {
    let (rps, fps) = window.rates(last_sec);
    PointStats {
        rps,
        fps,
        current_ms: window.current_percentiles(now_sec),
        cumulative_ms: if cumulative {
            entry.locust_percentiles()
        } else {
            None
        },
        requests: entry.requests,
        failures: entry.failures,
        median: entry.locust_median(),
        avg_ms: entry.avg_ms(),
        min_ms: entry.min_ms(),
        max_ms: entry.max_ms(),
        avg_content_size: entry.avg_content_size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rates_follow_locust() {
        let mut w = Window::new();
        for sec in 0..=20 {
            for i in 0..10 {
                w.record(sec, 5, i == 0);
            }
        }
        assert_eq!(w.rates(Some(20)), (10.0, 1.0));
        assert_eq!(w.rates(None), (0.0, 0.0));
        // Newest request in second 3: window is seconds 0..=0.
        let mut w = Window::new();
        w.record(0, 5, false);
        w.record(1, 5, false);
        w.record(3, 5, false);
        assert_eq!(w.rates(Some(3)), (1.0, 0.0));
    }

    #[test]
    fn late_samples_older_than_the_ring_are_dropped() {
        let mut w = Window::new();
        w.record(25, 1, false);
        w.record(5, 1, false); // same slot, older: ignored
        assert_eq!(w.current_percentiles(25), Some([1; 11]));
        w.record(24, 3, false); // late but inside the ring
        assert_eq!(w.current_percentiles(25).unwrap()[10], 3);
    }

    #[test]
    fn current_percentiles_cover_ten_seconds() {
        let mut w = Window::new();
        w.record(0, 1000, false); // falls out of the window at now = 10
        for sec in 1..=10 {
            w.record(sec, 10, false);
        }
        assert_eq!(w.current_percentiles(9).unwrap()[10], 1000);
        assert_eq!(w.current_percentiles(10), Some([10; 11]));
        assert_eq!(w.current_percentiles(40), None);
    }
}
