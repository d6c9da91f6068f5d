//! Small, mergeable distributions for the time series: a sparse HDR histogram (only the
//! buckets that were hit) and Locust's bucket dict as a sorted list. Both add exactly, so the
//! series of two parts of a run sum to the series of the whole.

use std::sync::OnceLock;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::histogram::LatencyHistogram;
use super::locust::Buckets;

/// Significant digits of the windowed histograms: 1 % resolution keeps a window of a busy
/// request a few hundred buckets (the run's own histograms keep 3 digits).
pub const WINDOW_SIGFIG: u8 = 2;

/// The bucket layout shared by every sparse histogram (only its configuration is used).
fn layout() -> &'static Histogram<u64> {
    static LAYOUT: OnceLock<Histogram<u64>> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        Histogram::new(WINDOW_SIGFIG)
            .unwrap_or_else(|e| unreachable!("constant histogram settings are valid: {e:?}"))
    })
}

/// The value a windowed histogram files `us` under (the lowest value of its bucket).
pub fn bucket_of(us: u32) -> u32 {
    // The lowest equivalent of a u32 value is at most that value: it fits.
    layout().lowest_equivalent(u64::from(us)) as u32
}

/// A latency distribution in µs as (bucket's lowest value, count) pairs, sorted by value, at
/// [`WINDOW_SIGFIG`] significant digits. Serialized as `[[value, count], ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SparseHistogram {
    buckets: Vec<(u32, u64)>,
}

impl SparseHistogram {
    pub fn new() -> SparseHistogram {
        SparseHistogram::default()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.buckets.iter().map(|(_, n)| n).sum()
    }

    /// Adds raw values in µs (any order). `values` is used as scratch space.
    pub fn add_values(&mut self, values: &mut [u32]) {
        if values.is_empty() {
            return;
        }
        for v in values.iter_mut() {
            *v = bucket_of(*v);
        }
        values.sort_unstable();
        let mut runs: Vec<(u32, u64)> = Vec::new();
        for &v in values.iter() {
            match runs.last_mut() {
                Some((last, n)) if *last == v => *n += 1,
                _ => runs.push((v, 1)),
            }
        }
        self.merge_sorted(&runs);
    }

    /// Adds `count` values of `us` each.
    pub fn add_n(&mut self, us: u32, count: u64) {
        if count > 0 {
            self.merge_sorted(&[(bucket_of(us), count)]);
        }
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &SparseHistogram) {
        self.merge_sorted(&other.buckets);
    }

    fn merge_sorted(&mut self, other: &[(u32, u64)]) {
        if other.is_empty() {
            return;
        }
        let mut merged = Vec::with_capacity(self.buckets.len() + other.len());
        let (mut a, mut b) = (self.buckets.iter().peekable(), other.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(x, n)), Some(&&(y, m))) => {
                    if x == y {
                        merged.push((x, n + m));
                        a.next();
                        b.next();
                    } else if x < y {
                        merged.push((x, n));
                        a.next();
                    } else {
                        merged.push((y, m));
                        b.next();
                    }
                }
                (Some(&&p), None) => {
                    merged.push(p);
                    a.next();
                }
                (None, Some(&&p)) => {
                    merged.push(p);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.buckets = merged;
    }

    /// The value at percentile `p` (0..=100) in µs: the highest value of the bucket holding it
    /// (as HdrHistogram answers); `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<u32> {
        let total = self.len();
        if total == 0 {
            return None;
        }
        // HdrHistogram's rule: the smallest value with at least ceil(p% of n) values at or
        // below it (at least one).
        let wanted = ((p.clamp(0.0, 100.0) / 100.0 * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for &(v, n) in &self.buckets {
            seen += n;
            if seen >= wanted {
                if p <= 0.0 {
                    return Some(v);
                }
                let highest = layout().highest_equivalent(u64::from(v));
                return Some(highest.min(u64::from(u32::MAX)) as u32);
            }
        }
        self.buckets.last().map(|(v, _)| *v)
    }

    /// The distribution as a full HDR histogram (3 digits; values keep their bucket's lowest
    /// value), for anything that wants HdrHistogram's API.
    pub fn to_histogram(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for &(v, n) in &self.buckets {
            h.record_n(u64::from(v), n);
        }
        h
    }

    /// The (value, count) pairs, ascending.
    pub fn buckets(&self) -> &[(u32, u64)] {
        &self.buckets
    }
}

/// Locust's bucket dict as sorted (bucket ms, count) pairs: small, and cheap to keep per second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SparseBuckets {
    buckets: Vec<(u32, u64)>,
}

impl SparseBuckets {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Adds `n` requests to Locust bucket `bucket` (ms).
    pub fn add(&mut self, bucket: u32, n: u64) {
        match self.buckets.binary_search_by_key(&bucket, |(b, _)| *b) {
            Ok(i) => self.buckets[i].1 += n,
            Err(i) => self.buckets.insert(i, (bucket, n)),
        }
    }

    /// Adds every request of `other`.
    pub fn absorb(&mut self, other: &SparseBuckets) {
        for &(b, n) in &other.buckets {
            self.add(b, n);
        }
    }

    /// Adds this distribution into a Locust dict.
    pub fn add_to(&self, into: &mut Buckets) {
        for &(b, n) in &self.buckets {
            *into.entry(b).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_histograms_add_exactly_whatever_the_split() {
        let values: Vec<u32> = (0..5000u32).map(|i| 300 + (i * 7919) % 250_000).collect();
        let mut whole = SparseHistogram::new();
        whole.add_values(&mut values.clone());
        let mut a = SparseHistogram::new();
        let mut b = SparseHistogram::new();
        for (i, chunk) in values.chunks(333).enumerate() {
            let target = if i % 3 == 0 { &mut a } else { &mut b };
            target.add_values(&mut chunk.to_vec());
        }
        a.add(&b);
        assert_eq!(a, whole);
        assert_eq!(whole.len(), 5000);
        // Two digits: at most 1 % above the true percentile.
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let exact = sorted[(0.95f64 * 5000.0).ceil() as usize - 1];
        let p95 = whole.percentile(95.0).unwrap();
        assert!(
            p95 >= exact && f64::from(p95) <= f64::from(exact) * 1.01,
            "{p95} vs {exact}"
        );
    }

    #[test]
    fn sparse_percentiles_follow_hdr() {
        let mut s = SparseHistogram::new();
        let mut h = Histogram::<u64>::new(WINDOW_SIGFIG).unwrap();
        for v in [1u32, 5, 5, 99, 100, 1234, 56_789, 1_000_000] {
            s.add_n(v, 3);
            h.record_n(u64::from(v), 3).unwrap();
        }
        for p in [0.0, 10.0, 50.0, 90.0, 99.0, 100.0] {
            assert_eq!(
                u64::from(s.percentile(p).unwrap()),
                h.value_at_percentile(p),
                "p{p}"
            );
        }
        assert_eq!(SparseHistogram::new().percentile(50.0), None);
    }

    #[test]
    fn sparse_buckets_add() {
        let mut a = SparseBuckets::default();
        a.add(10, 2);
        a.add(5, 1);
        a.add(10, 1);
        let mut b = SparseBuckets::default();
        b.add(7, 4);
        a.absorb(&b);
        let mut dict = Buckets::new();
        a.add_to(&mut dict);
        assert_eq!(dict, Buckets::from([(5, 1), (7, 4), (10, 3)]));
    }
}
