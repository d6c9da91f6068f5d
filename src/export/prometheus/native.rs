//! Prometheus native histograms, converted from kload's HDR histograms.
//!
//! A native histogram of schema `s` has exponential buckets: bucket `i` holds the values in
//! `(2^((i-1)/2^s), 2^(i/2^s)]`, so each power of two is split into `2^s` buckets (schema 5:
//! 32 buckets, each 2.19 % wide; schema 8: 0.27 %; schema 0: factor 2; schema -4: factor
//! 65536). Values at or below `zero_threshold` go to the zero bucket. Sparse buckets are sent
//! as spans (runs of consecutive buckets) and deltas (each count minus the previous one).
//! Histograms of one schema add bucket by bucket, which is why `sum by (name)` over many
//! runners gives exact fleet-wide percentiles (to the bucket's resolution).
//!
//! Conversion: each HDR bucket (1 µs wide below 2 ms, at most 0.1 % wide above) is assigned,
//! whole, to the native bucket that contains its highest equivalent value. A sample can
//! therefore move at most into the next native bucket up, and any quantile read from the
//! native histogram is within one native bucket of the HDR's (tested below).

use hdrhistogram::Histogram;

/// Lowest and highest schema Prometheus accepts for exponential buckets.
pub const SCHEMA_RANGE: std::ops::RangeInclusive<i8> = -4..=8;

/// kload's default schema: 32 buckets per power of two (2.19 % wide), the resolution the
/// research measured as ≤ 0.4 % quantile error on dense latency data for ~0.6 KB per request
/// name per push.
pub const DEFAULT_SCHEMA: i8 = 5;

/// The zero bucket's width, Prometheus' default (2^-128): only a latency of exactly 0 µs
/// lands there. It is above 0, which is also what tells Prometheus 2.x's protobuf scrape
/// parser that an empty histogram is a native one.
pub const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// A run of consecutive buckets: `offset` is the first bucket's index for the first span,
/// otherwise the number of empty buckets since the previous span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start index (first span) or gap to the previous span.
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// A native histogram with integer counts and positive buckets only (latencies).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogram {
    /// The bucket schema, within [`SCHEMA_RANGE`].
    pub schema: i8,
    /// Values at or below this go to the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// All observations (zero bucket included).
    pub count: u64,
    /// Sum of the observations, in the histogram's unit (seconds).
    pub sum: f64,
    /// Non-empty positive buckets as (index, count), indexes increasing.
    buckets: Vec<(i32, u64)>,
}

/// Computes bucket indexes for one schema (the bounds of one power of two are precomputed).
pub struct Bucketer {
    schema: i8,
    /// For schema > 0: the upper bounds of the `2^schema` buckets of the octave [0.5, 1),
    /// `2^(j/2^schema - 1)` for j = 0 .. 2^schema (bounds[0] = 0.5).
    bounds: Vec<f64>,
}

impl Bucketer {
    /// A bucketer for `schema` (must be within [`SCHEMA_RANGE`]).
    pub fn new(schema: i8) -> Bucketer {
        assert!(
            SCHEMA_RANGE.contains(&schema),
            "schema {schema} out of range"
        );
        let bounds = if schema > 0 {
            let n = 1u32 << schema;
            (0..n)
                .map(|j| (f64::from(j) / f64::from(n) - 1.0).exp2())
                .collect()
        } else {
            Vec::new()
        };
        Bucketer { schema, bounds }
    }

    /// The schema this bucketer computes indexes for.
    pub fn schema(&self) -> i8 {
        self.schema
    }

    /// The upper bound of bucket `index`, computed from the same table as
    /// [`index`](Self::index) so that `v <= upper(index(v))` holds exactly.
    pub fn upper(&self, index: i32) -> f64 {
        if self.schema > 0 {
            let n = 1i32 << self.schema;
            let exp = index.div_euclid(n) + 1;
            let j = index.rem_euclid(n) as usize;
            // j = 0 is the octave's first bucket: its bound is 0.5 · 2^exp = 2^(exp-1).
            self.bounds[j] * 2f64.powi(exp)
        } else {
            2f64.powi(index << -i32::from(self.schema))
        }
    }

    /// The index of the bucket holding `v` (> 0, finite): the `i` with
    /// `2^((i-1)/2^s) < v <= 2^(i/2^s)`.
    pub fn index(&self, v: f64) -> i32 {
        debug_assert!(v > 0.0 && v.is_finite(), "{v}");
        let (frac, exp) = frexp(v);
        if self.schema > 0 {
            // The first bound >= frac: frac in (bounds[j-1], bounds[j]].
            let j = self.bounds.partition_point(|&b| b < frac) as i32;
            j + (exp - 1) * (1 << self.schema)
        } else {
            // Schema 0: bucket i is (2^(i-1), 2^i]; a power of two (frac 0.5) belongs below.
            let key = if frac == 0.5 { exp - 1 } else { exp };
            let shift = -i32::from(self.schema);
            // Round up when merging 2^-schema buckets of schema 0 into one.
            (key + (1 << shift) - 1) >> shift
        }
    }
}

/// The upper bound of bucket `index` at `schema`: `2^(index / 2^schema)`.
pub fn upper_bound(schema: i8, index: i32) -> f64 {
    (f64::from(index) / f64::from(1u32 << schema.max(0)) * f64::from(1u32 << (-schema).max(0)))
        .exp2()
}

/// `v = frac * 2^exp` with `frac` in [0.5, 1), for finite `v > 0` (C's `frexp`).
fn frexp(v: f64) -> (f64, i32) {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (frac, exp) = frexp(v * 2f64.powi(64));
        return (frac, exp - 64);
    }
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, biased - 1022)
}

impl NativeHistogram {
    /// An empty histogram.
    pub fn empty(schema: i8) -> NativeHistogram {
        NativeHistogram {
            schema,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: 0,
            count: 0,
            sum: 0.0,
            buckets: Vec::new(),
        }
    }

    /// Converts an HDR histogram whose values count `per_second` units per second (kload's
    /// are µs: `1e6`). `sum` is the exact sum in seconds when the caller kept one; otherwise
    /// it is estimated from the HDR (each bucket's count times its middle value).
    pub fn from_hdr(
        hdr: &Histogram<u64>,
        per_second: f64,
        schema: i8,
        sum: Option<f64>,
    ) -> NativeHistogram {
        let bucketer = Bucketer::new(schema);
        let mut native = NativeHistogram::empty(schema);
        let mut estimated_sum = 0.0;
        let mut upper = 0.0;
        for bucket in hdr.iter_recorded() {
            let n = bucket.count_at_value();
            let highest = bucket.value_iterated_to();
            if sum.is_none() {
                estimated_sum += n as f64 * hdr.median_equivalent(highest) as f64 / per_second;
            }
            native.add(&bucketer, &mut upper, highest as f64 / per_second, n);
        }
        native.sum = sum.unwrap_or(estimated_sum);
        native
    }

    /// Counts `n` observations of value `v` (seconds). Values must come in increasing order
    /// (as HDR buckets do): the last bucket's upper bound, kept in `upper`, then answers most
    /// calls without computing an index. `count` grows, `sum` does not.
    pub(crate) fn add(&mut self, bucketer: &Bucketer, upper: &mut f64, v: f64, n: u64) {
        debug_assert_eq!(bucketer.schema, self.schema);
        self.count += n;
        if v <= self.zero_threshold {
            self.zero_count += n;
            return;
        }
        if let Some((_, count)) = self.buckets.last_mut()
            && v <= *upper
        {
            *count += n;
            return;
        }
        let index = bucketer.index(v);
        *upper = bucketer.upper(index);
        self.buckets.push((index, n));
    }

    /// The non-empty positive buckets as (index, count), indexes increasing.
    pub fn buckets(&self) -> &[(i32, u64)] {
        &self.buckets
    }

    /// The positive buckets as spans and deltas, the way Prometheus stores them. Gaps of one
    /// or two empty buckets are filled with zero counts (cheaper than a new span, as the Go
    /// client does).
    pub fn spans_and_deltas(&self) -> (Vec<Span>, Vec<i64>) {
        let mut spans: Vec<Span> = Vec::new();
        let mut deltas = Vec::with_capacity(self.buckets.len());
        let mut previous_count = 0i64;
        let mut previous_index = 0i32;
        for &(index, count) in &self.buckets {
            let count = count as i64;
            match spans.last_mut() {
                None => spans.push(Span {
                    offset: index,
                    length: 1,
                }),
                Some(span) => {
                    let gap = index - previous_index - 1;
                    if gap <= 2 {
                        for _ in 0..gap {
                            deltas.push(-previous_count);
                            previous_count = 0;
                        }
                        span.length += gap as u32 + 1;
                    } else {
                        spans.push(Span {
                            offset: gap,
                            length: 1,
                        });
                    }
                }
            }
            deltas.push(count - previous_count);
            previous_count = count;
            previous_index = index;
        }
        (spans, deltas)
    }

    /// Index of the bucket that holds the observation of rank `q · count` (0 < q ≤ 1), the
    /// bucket PromQL's `histogram_quantile(q, …)` interpolates in; `None` when that is the
    /// zero bucket or the histogram is empty.
    pub fn quantile_bucket(&self, q: f64) -> Option<i32> {
        if self.count == 0 {
            return None;
        }
        let rank = q * self.count as f64;
        let mut seen = self.zero_count as f64;
        if seen >= rank {
            return None;
        }
        for &(index, count) in &self.buckets {
            seen += count as f64;
            if seen >= rank {
                return Some(index);
            }
        }
        self.buckets.last().map(|&(index, _)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencyHistogram;

    fn hdr(values_us: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for &v in values_us {
            h.record(v);
        }
        h
    }

    #[test]
    fn frexp_splits_into_fraction_and_exponent() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(6.0), (0.75, 3));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
    }

    #[test]
    fn bucket_indexes_follow_the_schema_boundaries() {
        // Schema 0: (0.5, 1] is 0, (1, 2] is 1, (2, 4] is 2; powers of two are upper bounds.
        let b0 = Bucketer::new(0);
        assert_eq!(
            [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0].map(|v| b0.index(v)),
            [-1, 0, 0, 1, 1, 2, 2]
        );
        // Schema 1: boundaries at powers of sqrt(2).
        let b1 = Bucketer::new(1);
        assert_eq!(
            [1.0, 1.4, 1.42, 2.0, 2.9].map(|v| b1.index(v)),
            [0, 1, 2, 2, 4]
        );
        // Schema -1: factor 4, (1, 4] is 1, (4, 16] is 2, (0.25, 1] is 0.
        let bm1 = Bucketer::new(-1);
        assert_eq!(
            [0.3, 1.0, 1.1, 4.0, 5.0, 16.0].map(|v| bm1.index(v)),
            [0, 0, 1, 1, 2, 2]
        );
        // Schema 5 at 1 ms: 2^(i/32) >= 0.001 gives i = -318 (2^(-318/32) = 0.0010081).
        let b5 = Bucketer::new(5);
        assert_eq!(b5.index(0.001), -318);
        assert!(upper_bound(5, -319) < 0.001 && 0.001 <= upper_bound(5, -318));
        // Every schema agrees with its own upper bounds, and the table's bounds are the
        // formula's.
        for schema in SCHEMA_RANGE {
            let b = Bucketer::new(schema);
            for i in [-1000, -319, -33, -32, -31, -1, 0, 1, 31, 32, 33, 700] {
                let (table, formula) = (b.upper(i), upper_bound(schema, i));
                if !formula.is_normal() {
                    continue; // beyond f64 at coarse schemas
                }
                assert!(
                    (table / formula - 1.0).abs() < 1e-12,
                    "{schema} {i}: {table} {formula}"
                );
                assert_eq!(b.index(table), i, "schema {schema}: {table} belongs to {i}");
                let next = f64::from_bits(table.to_bits() + 1);
                assert_eq!(b.index(next), i + 1, "schema {schema}: {next} is above {i}");
            }
            for us in [1u64, 7, 150, 1_000, 2_047, 123_456, 3_600_000_000] {
                let v = us as f64 / 1e6;
                let i = b.index(v);
                assert!(
                    upper_bound(schema, i - 1) < v && v <= upper_bound(schema, i) * (1.0 + 1e-12),
                    "schema {schema}, {v} s in bucket {i}"
                );
            }
        }
    }

    #[test]
    fn spans_and_deltas_for_known_buckets() {
        let mut h = NativeHistogram::empty(0);
        // Buckets 0, 1 (consecutive), 3 (gap of one: filled), 9 (gap of five: new span), 10.
        h.buckets = vec![(0, 2), (1, 5), (3, 1), (9, 4), (10, 4)];
        let (spans, deltas) = h.spans_and_deltas();
        assert_eq!(
            spans,
            [
                Span {
                    offset: 0,
                    length: 4
                },
                Span {
                    offset: 5,
                    length: 2
                }
            ]
        );
        assert_eq!(deltas, [2, 3, -5, 1, 3, 0]);
        // A negative first index and a gap of exactly two (filled) then three (new span).
        h.buckets = vec![(-5, 1), (-2, 1), (2, 7)];
        let (spans, deltas) = h.spans_and_deltas();
        assert_eq!(
            spans,
            [
                Span {
                    offset: -5,
                    length: 4
                },
                Span {
                    offset: 3,
                    length: 1
                }
            ]
        );
        assert_eq!(deltas, [1, -1, 0, 1, 6]);
        assert_eq!(
            NativeHistogram::empty(5).spans_and_deltas(),
            (vec![], vec![])
        );
    }

    #[test]
    fn conversion_keeps_every_count_and_the_sum() {
        // 0 µs goes to the zero bucket; 1 ms twice; 3 ms; 0.9 s.
        let h = hdr(&[0, 1_000, 1_000, 3_000, 900_000]);
        let n = NativeHistogram::from_hdr(h.as_hdr(), 1e6, 0, None);
        assert_eq!(n.count, 5);
        assert_eq!(n.zero_count, 1);
        // Schema 0: 1 ms in (2^-10, 2^-9] = bucket -9; 3 ms in (2^-9, 2^-8] = -8; 0.9 s
        // (HDR's highest equivalent 0.900095 s) in (0.5, 1] = 0.
        assert_eq!(n.buckets(), [(-9, 2), (-8, 1), (0, 1)]);
        assert!((n.sum - 0.905).abs() < 1e-3 * 0.905, "{}", n.sum);
        let exact = NativeHistogram::from_hdr(h.as_hdr(), 1e6, 0, Some(0.905));
        assert_eq!(exact.sum, 0.905);
        let (spans, deltas) = n.spans_and_deltas();
        assert_eq!(
            spans,
            [
                Span {
                    offset: -9,
                    length: 2
                },
                Span {
                    offset: 7,
                    length: 1
                }
            ]
        );
        assert_eq!(deltas, [2, -1, 0]);
    }

    /// The conversion's error bound: for every native boundary `b`, the native cumulative
    /// count up to `b` lies between the number of true samples ≤ `b / (1 + 2^-10)` and the
    /// number ≤ `b` — so any quantile is off by at most one native bucket.
    #[test]
    fn cumulative_counts_are_within_hdr_resolution_of_the_truth() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut samples: Vec<u64> = (0..20_000u32)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Log-uniform from 50 µs to ~3 s, plus exact small values.
                if i.is_multiple_of(50) {
                    state % 3_000
                } else {
                    (50.0 * (((state >> 11) as f64 / (1u64 << 53) as f64) * 11.0).exp()) as u64
                }
            })
            .collect();
        let h = hdr(&samples);
        samples.sort_unstable();
        let at_most = |limit_s: f64| samples.partition_point(|&v| v as f64 / 1e6 <= limit_s) as u64;
        for schema in [0, 3, 5, 8] {
            let n = NativeHistogram::from_hdr(h.as_hdr(), 1e6, schema, None);
            assert_eq!(n.count, samples.len() as u64);
            let mut cumulative = n.zero_count;
            for &(index, count) in n.buckets() {
                cumulative += count;
                let b = upper_bound(schema, index);
                assert!(
                    at_most(b / (1.0 + 1.0 / 1024.0)) <= cumulative && cumulative <= at_most(b),
                    "schema {schema}, bucket {index} (≤ {b} s): {cumulative} not in [{}, {}]",
                    at_most(b / (1.0 + 1.0 / 1024.0)),
                    at_most(b)
                );
            }
            // p50/p99/p99.9 of the HDR are in the quantile's native bucket or the one below.
            for q in [0.5, 0.99, 0.999] {
                let i = n.quantile_bucket(q).unwrap();
                let p = h.percentile(q * 100.0) as f64 / 1e6;
                let hdr_bucket = Bucketer::new(schema).index(p);
                assert!(
                    hdr_bucket == i || hdr_bucket == i - 1 || hdr_bucket == i + 1,
                    "schema {schema} q {q}: HDR {p} s in bucket {hdr_bucket}, native {i}"
                );
            }
        }
    }

    #[test]
    fn quantile_bucket_walks_the_cumulative_counts() {
        let mut h = NativeHistogram::empty(0);
        assert_eq!(h.quantile_bucket(0.5), None);
        h.zero_count = 1;
        h.buckets = vec![(0, 1), (2, 8)];
        h.count = 10;
        assert_eq!(h.quantile_bucket(0.1), None);
        assert_eq!(h.quantile_bucket(0.2), Some(0));
        assert_eq!(h.quantile_bucket(0.21), Some(2));
        assert_eq!(h.quantile_bucket(1.0), Some(2));
    }
}
