//! The aggregator: turns the recorders' hand-overs into entries, failure groups and the raw
//! time series. Lives behind `Metrics`' lock; touched about once a second per user, never
//! per request.

use std::collections::BTreeMap;

use super::entry::EntrySummary;
use super::failures::FailureBook;
use super::histogram::LatencyHistogram;
use super::locust;
use super::recorder::Batch;
use super::sample::{FailureKind, Sample, StatId, StatKey};
use super::series::{Pending, Series};

/// Where a sample's map counters go.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RunKey {
    stat: StatId,
    status: u16,
    bucket: u32,
}

/// How many distinct [`RunKey`]s a batch sums before it counts them.
const MAX_RUNS: usize = 32;

/// Samples of a batch with the same [`RunKey`].
struct Run {
    key: RunKey,
    requests: u64,
}

/// Everything aggregated so far.
pub(crate) struct Aggregator {
    pub(crate) entries: Vec<EntrySummary>,
    pub(crate) total: EntrySummary,
    pub(crate) failures: FailureBook,
    pub(crate) errors_by_kind: BTreeMap<FailureKind, u64>,
    pub(crate) series: Series,
    pending: Pending,
    /// Completion time of the newest request, ms since the start.
    pub(crate) last_request_ms: Option<u64>,
    /// How late the generator started scheduled work (µs).
    pub(crate) lateness: LatencyHistogram,
    pub(crate) dropped: u64,
    /// Scratch space of `add_batch`, kept to reuse its allocation.
    runs: Vec<Run>,
}

impl Aggregator {
    pub(crate) fn new(keys: &[StatKey]) -> Aggregator {
        Aggregator {
            entries: keys.iter().map(EntrySummary::new).collect(),
            total: EntrySummary::aggregated(),
            failures: FailureBook::default(),
            errors_by_kind: BTreeMap::new(),
            series: Series::new(),
            pending: Pending::default(),
            last_request_ms: None,
            lateness: LatencyHistogram::new(),
            dropped: 0,
            runs: Vec::new(),
        }
    }

    /// Counts a hand-over (one user's batch, in the order it was recorded).
    ///
    /// Exact figures (histograms, sums, extremes, rows, failure groups) are taken per sample.
    /// The status and Locust-bucket maps of the entries are first summed per distinct
    /// (request, status, bucket) of the batch, then added once each.
    pub(crate) fn add_batch(&mut self, batch: &Batch) {
        self.add_samples(&batch.samples);
        for b in &batch.backfills {
            if let Some(entry) = self.entries.get_mut(b.stat as usize) {
                entry.record_backfill(b.values());
                self.total.record_backfill(b.values());
                self.series
                    .record_corrected(b.stat, b.elapsed_ms, b.values(), &mut self.pending);
            }
        }
        for &(elapsed_ms, us) in &batch.lateness {
            self.lateness.record(u64::from(us));
            self.series
                .record_lateness(elapsed_ms, us, &mut self.pending);
        }
        for &stat in &batch.abandoned {
            if let Some(entry) = self.entries.get_mut(stat as usize) {
                entry.abandoned += 1;
                self.total.abandoned += 1;
            }
        }
    }

    fn add_samples(&mut self, samples: &[Sample]) {
        let mut runs = std::mem::take(&mut self.runs);
        let mut last = 0;
        for sample in samples {
            let index = sample.stat as usize;
            // The compiler hands out the ids: an unknown one is a bug of ours, not user input.
            debug_assert!(index < self.entries.len(), "unknown StatId {}", sample.stat);
            let Some(entry) = self.entries.get_mut(index) else {
                continue;
            };
            entry.record_exact(sample);
            self.total.record_exact(sample);
            self.series.record(sample, &mut self.pending);
            self.last_request_ms = self.last_request_ms.max(Some(u64::from(sample.elapsed_ms)));
            let key = RunKey {
                stat: sample.stat,
                status: sample.status,
                bucket: locust::bucket_us(sample.latency_us),
            };
            let found = if runs.get(last).is_some_and(|r: &Run| r.key == key) {
                Some(last)
            } else {
                runs.iter().position(|r| r.key == key)
            };
            match found {
                Some(i) => {
                    runs[i].requests += 1;
                    last = i;
                }
                None => {
                    if runs.len() == MAX_RUNS {
                        for run in runs.drain(..) {
                            self.count_run(&run);
                        }
                    }
                    last = runs.len();
                    runs.push(Run { key, requests: 1 });
                }
            }
            if let Some(failure) = &sample.failure {
                *self.errors_by_kind.entry(failure.kind).or_default() += 1;
                self.failures
                    .add(sample.stat, failure, u64::from(sample.elapsed_ms));
            }
        }
        for run in runs.drain(..) {
            self.count_run(&run);
        }
        self.runs = runs;
    }

    fn count_run(&mut self, run: &Run) {
        let RunKey {
            stat,
            status,
            bucket,
        } = run.key;
        if let Some(entry) = self.entries.get_mut(stat as usize) {
            entry.count(status, bucket, run.requests);
        }
        self.total.count(status, bucket, run.requests);
    }

    /// Counts `n` iterations the open model could not start, at `elapsed_ms`.
    pub(crate) fn add_dropped(&mut self, elapsed_ms: u64, n: u64) {
        self.dropped += n;
        self.series.record_dropped(elapsed_ms, n, &mut self.pending);
    }

    /// Notes the users running at `elapsed_ms`, per class.
    pub(crate) fn set_users(&mut self, elapsed_ms: u64, class_users: &[u32]) {
        self.series
            .set_users(elapsed_ms, class_users, &mut self.pending);
    }

    /// Adds what is waiting to the series' window histograms.
    pub(crate) fn flush(&mut self) {
        self.series.flush(&mut self.pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sample::{Backfill, Failure};

    fn keys() -> Vec<StatKey> {
        vec![StatKey::new("GET", "/a"), StatKey::new("POST", "/b")]
    }

    /// 3,000 samples over 12 s, two requests, four statuses and latencies from 0.2 ms to
    /// 3 s: far more distinct (request, status, bucket) places than `MAX_RUNS`.
    pub(crate) fn samples() -> Vec<Sample> {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        (0..3000u32)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let status = [200, 200, 201, 503][(x % 4) as usize];
                let failure = (status == 503).then(|| {
                    Box::new(
                        Failure::new(FailureKind::Http5xx, "503 Service Unavailable")
                            .with_detail(format!("body {}", x % 7)),
                    )
                });
                Sample {
                    stat: ((x >> 8) % 2) as StatId,
                    elapsed_ms: i * 4,
                    latency_us: 200 + ((x >> 16) % 3_000_000) as u32 / (1 + (x % 50) as u32),
                    ttfb_us: 100,
                    bytes: 51,
                    lag_us: (x % 1000) as u32,
                    status,
                    scheduled: x.is_multiple_of(3),
                    failure,
                }
            })
            .collect()
    }

    fn batch(samples: &[Sample]) -> Batch {
        Batch {
            samples: samples.to_vec(),
            ..Batch::default()
        }
    }

    #[test]
    fn a_batch_counts_the_same_as_its_samples_one_by_one() {
        let samples = samples();
        let mut batched = Aggregator::new(&keys());
        let mut single = Aggregator::new(&keys());
        for chunk in samples.chunks(700) {
            batched.add_batch(&batch(chunk));
            for s in chunk {
                single.add_batch(&batch(std::slice::from_ref(s)));
            }
        }
        batched.flush();
        single.flush();
        assert_eq!(batched.entries, single.entries);
        assert_eq!(batched.total, single.total);
        assert_eq!(batched.series, single.series);
        assert_eq!(batched.errors_by_kind, single.errors_by_kind);
        let t0 = chrono::Utc::now();
        assert_eq!(
            batched.failures.summaries(&keys(), t0),
            single.failures.summaries(&keys(), t0)
        );
        // And against the plain per-sample record of an entry.
        let mut total = EntrySummary::aggregated();
        for s in &samples {
            total.record(s);
        }
        assert_eq!(batched.total, total);
    }

    #[test]
    fn backfills_lateness_and_abandoned_requests_are_counted() {
        let mut a = Aggregator::new(&keys());
        a.add_batch(&Batch {
            backfills: vec![Backfill {
                stat: 1,
                elapsed_ms: 1200,
                top_us: 1_000_000,
                step_us: 100_000,
                count: 12,
            }],
            lateness: vec![(10, 250), (20, 350)],
            abandoned: vec![0, 0, 1],
            ..Batch::default()
        });
        a.flush();
        let b = &a.entries[1];
        // 900, 800, ..., 100 ms: the values that stay positive.
        assert_eq!(b.backfilled, 9);
        assert_eq!(b.corrected.as_ref().unwrap().len(), 9);
        assert_eq!(b.requests, 0, "back-filled requests are not requests");
        assert_eq!(a.total.backfilled, 9);
        assert_eq!((a.entries[0].abandoned, a.total.abandoned), (2, 3));
        assert_eq!(a.lateness.len(), 2);
        assert_eq!(a.series.windows[0].lateness.len(), 2);
        assert_eq!(a.series.windows[0].total.corrected.len(), 9);
    }
}
