//! Locust's statistics rules (`locust/stats.py`), reproduced exactly so that the console tables
//! and CSV files show the numbers Locust would show for the same samples.
//!
//! Locust keeps each entry's response times in a `{bucket_ms: count}` dict rounded to about two
//! significant digits; median and percentiles are walks over that dict. kload keeps the same
//! dict ([`Buckets`]) beside its HDR histograms: at most a few hundred keys per entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Locust's `{response time bucket in ms: count}` distribution.
pub type Buckets = BTreeMap<u32, u64>;

/// `PERCENTILES_TO_REPORT`: the percentile columns of the console table and the CSV files.
pub const PERCENTILES_TO_REPORT: [f64; 11] = [
    0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
];

/// Column labels for [`PERCENTILES_TO_REPORT`], as `get_readable_percentiles` prints them.
pub const PERCENTILE_LABELS: [&str; 11] = [
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
];

/// Index of the 50 % column in [`PERCENTILES_TO_REPORT`].
pub const P50: usize = 0;
/// Index of the 95 % column in [`PERCENTILES_TO_REPORT`].
pub const P95: usize = 5;
/// Index of the 99 % column in [`PERCENTILES_TO_REPORT`].
pub const P99: usize = 7;

/// Seconds of the "current" percentile window (`CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW`).
pub const CURRENT_WINDOW_SECS: u32 = 10;

/// `bucket_response_time`, on a response time in microseconds: the ms bucket Locust files it
/// under. Below 100 ms to 1 ms, below 1 s to 10 ms, below 10 s to 100 ms, then to 1 s, each
/// with Python's round-half-to-even (145 ms → 140, 155 ms → 160, 2.5 ms → 2).
///
/// Integer arithmetic gives the same result as Python's `round(us / 1000, -k)` on floats:
/// a tie in microseconds is an exact binary fraction in milliseconds, so both see the tie.
pub fn bucket_us(latency_us: u32) -> u32 {
    let us = u64::from(latency_us);
    // (unit of the bucket in µs, ms per unit)
    let (unit, unit_ms) = match us {
        0..100_000 => (1_000, 1),
        100_000..1_000_000 => (10_000, 10),
        1_000_000..10_000_000 => (100_000, 100),
        _ => (1_000_000, 1_000),
    };
    let quotient = us / unit;
    let remainder = us % unit;
    let half = unit / 2;
    let rounded = if remainder > half || (remainder == half && quotient % 2 == 1) {
        quotient + 1
    } else {
        quotient
    };
    // At most u32::MAX µs / 1000 rounded up: fits easily.
    (rounded * unit_ms) as u32
}

/// `calculate_response_time_percentile`: walk the buckets in descending order and return the
/// first bucket where the requests left below it are no more than `int(n * p)`. Not clamped to
/// min/max (p100 can be below the exact max). `p` is a fraction (0.95); `n` is the number of
/// requests in `buckets`. Returns 0 for empty buckets, like Locust.
pub fn percentile(buckets: &Buckets, n: u64, p: f64) -> u32 {
    // Python's int() truncates; the float product is the same IEEE computation as Locust's.
    let allowed = (n as f64 * p) as u64;
    let mut processed = 0u64;
    for (&bucket, &count) in buckets.iter().rev() {
        processed += count;
        if n.saturating_sub(processed) <= allowed {
            return bucket;
        }
    }
    0
}

/// All [`PERCENTILES_TO_REPORT`] of `buckets` holding `n` requests.
pub fn percentiles(buckets: &Buckets, n: u64) -> [u32; 11] {
    PERCENTILES_TO_REPORT.map(|p| percentile(buckets, n, p))
}

/// `median_from_dict`: position `(n - 1) / 2`, walk ascending, first bucket whose count is
/// above what is left of the position. Not yet clamped: see [`clamped_median`].
pub fn median(buckets: &Buckets, n: u64) -> u32 {
    let mut pos = (n as f64 - 1.0) / 2.0;
    let mut last = 0;
    for (&bucket, &count) in buckets {
        if pos < count as f64 {
            return bucket;
        }
        pos -= count as f64;
        last = bucket;
    }
    last
}

/// A median as `StatsEntry.median_response_time` gives it: the bucketed median clamped into the
/// exact `[min, max]` (both in ms). `clamped` tells that the exact bound was used, which matters
/// for CSV, where Locust then prints a float (`147.0`) instead of a bucket int (`150`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Median {
    /// The median in ms.
    pub ms: f64,
    /// True when the bucketed median fell outside `[min, max]` and was replaced by the bound.
    pub clamped: bool,
}

/// The median with Locust's clamp; `None` when there are no requests.
pub fn clamped_median(buckets: &Buckets, n: u64, min_ms: f64, max_ms: f64) -> Option<Median> {
    if buckets.is_empty() {
        return None;
    }
    let median = f64::from(median(buckets, n));
    Some(if median > max_ms {
        Median {
            ms: max_ms,
            clamped: true,
        }
    } else if median < min_ms {
        Median {
            ms: min_ms,
            clamped: true,
        }
    } else {
        Median {
            ms: median,
            clamped: false,
        }
    })
}

/// `current_rps`: the mean of the per-second counts over `range(max(L - 12, start), L - 2)`,
/// where `L` is the second of the newest request of the whole run: the ten complete seconds
/// ending two seconds before it. Seconds without requests count as 0; an empty range gives 0.
/// `count_at(s)` returns the count of second `s` (seconds since the run started).
pub fn current_rate(last_request_sec: u64, count_at: impl Fn(u64) -> u64) -> f64 {
    let start = last_request_sec.saturating_sub(12);
    let end = last_request_sec.saturating_sub(2);
    if end <= start {
        return 0.0;
    }
    let sum: u64 = (start..end).map(count_at).sum();
    sum as f64 / (end - start) as f64
}

/// Adds `other` into `into` (Locust's `extend` of the bucket dicts).
pub fn merge(into: &mut Buckets, other: &Buckets) {
    for (&bucket, &count) in other {
        *into.entry(bucket).or_default() += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_to_us(ms: f64) -> u32 {
        (ms * 1000.0).round() as u32
    }

    fn buckets_of(samples_ms: &[f64]) -> Buckets {
        let mut b = Buckets::new();
        for &ms in samples_ms {
            *b.entry(bucket_us(ms_to_us(ms))).or_default() += 1;
        }
        b
    }

    #[test]
    fn bucket_vectors_from_reference_section_7() {
        let vectors: [(f64, u32); 22] = [
            (0.4, 0),
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (99.4, 99),
            (99.5, 100),
            (105.0, 100),
            (115.0, 120),
            (125.0, 120),
            (145.0, 140),
            (147.0, 150),
            (155.0, 160),
            (994.0, 990),
            (995.0, 1000),
            (999.9, 1000),
            (1050.0, 1000),
            (1150.0, 1200),
            (3432.0, 3400),
            (9950.0, 10000),
            (10500.0, 10000),
            (11500.0, 12000),
            (58760.0, 59000),
        ];
        for (ms, bucket) in vectors {
            assert_eq!(bucket_us(ms_to_us(ms)), bucket, "bucket of {ms} ms");
        }
    }

    #[test]
    fn bucket_edges() {
        assert_eq!(bucket_us(0), 0);
        assert_eq!(bucket_us(499), 0);
        assert_eq!(bucket_us(501), 1);
        assert_eq!(bucket_us(99_999), 100);
        assert_eq!(bucket_us(100_000), 100);
        assert_eq!(bucket_us(104_999), 100);
        assert_eq!(bucket_us(105_001), 110);
        assert_eq!(bucket_us(u32::MAX), 4_295_000);
    }

    fn check(samples: &[f64], median_expected: u32, pcts: [u32; 11], avg: f64) {
        let b = buckets_of(samples);
        let n = samples.len() as u64;
        assert_eq!(median(&b, n), median_expected, "median of {samples:?}");
        assert_eq!(percentiles(&b, n), pcts, "percentiles of {samples:?}");
        let mean = samples.iter().sum::<f64>() / n as f64;
        assert_eq!(mean, avg);
    }

    #[test]
    fn percentile_vectors_from_reference_section_7() {
        let one_to_100: Vec<f64> = (1..=100).map(f64::from).collect();
        check(
            &one_to_100,
            50,
            [51, 67, 76, 81, 91, 96, 99, 100, 100, 100, 100],
            50.5,
        );
        check(
            &[1., 2., 3., 4., 5., 6., 7., 8., 9., 1000.],
            5,
            [6, 7, 8, 9, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
            104.5,
        );
        check(
            &[147., 153., 3432.],
            150,
            [
                150, 150, 3400, 3400, 3400, 3400, 3400, 3400, 3400, 3400, 3400,
            ],
            1244.0,
        );
        check(&[5.], 5, [5; 11], 5.0);
    }

    #[test]
    fn median_is_clamped_to_exact_min_and_max() {
        // One request of 147 ms lands in bucket 150 > max 147: Locust reports 147.
        let b = buckets_of(&[147.]);
        assert_eq!(
            clamped_median(&b, 1, 147.0, 147.0),
            Some(Median {
                ms: 147.0,
                clamped: true
            })
        );
        // 3 requests: median bucket 150 within [147, 3432].
        let b = buckets_of(&[147., 153., 3432.]);
        assert_eq!(
            clamped_median(&b, 3, 147.0, 3432.0),
            Some(Median {
                ms: 150.0,
                clamped: false
            })
        );
        // Below min: 1.4 ms and 1.45 ms both go to bucket 1 < min 1.4.
        let b = buckets_of(&[1.4, 1.45]);
        assert_eq!(
            clamped_median(&b, 2, 1.4, 1.45),
            Some(Median {
                ms: 1.4,
                clamped: true
            })
        );
        assert_eq!(clamped_median(&Buckets::new(), 0, 0.0, 0.0), None);
    }

    #[test]
    fn percentile_of_nothing_is_zero() {
        assert_eq!(percentile(&Buckets::new(), 0, 0.95), 0);
    }

    #[test]
    fn current_rate_window() {
        // 10 requests in each of seconds 0..=20; newest request in second 20.
        let counts = |s: u64| if s <= 20 { 10 } else { 0 };
        assert_eq!(current_rate(20, counts), 10.0);
        // Window is seconds 8..=17; put 100 into second 17 and 1000 into second 18 (excluded).
        let counts = |s: u64| match s {
            17 => 100,
            18 => 1000,
            _ => 10,
        };
        assert_eq!(current_rate(20, counts), (9.0 * 10.0 + 100.0) / 10.0);
        // At the start the range is shorter but still divides by its own length.
        let counts = |s: u64| [4, 6, 8, 100][s as usize];
        assert_eq!(current_rate(3, counts), 4.0);
        assert_eq!(current_rate(4, counts), 5.0);
        assert_eq!(current_rate(2, counts), 0.0);
        assert_eq!(current_rate(0, counts), 0.0);
    }
}
