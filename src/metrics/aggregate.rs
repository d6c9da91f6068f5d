//! The aggregator: turns batches of samples into entries, failure groups and time points.
//! Lives behind `Metrics`' lock; touched about once a second, never per request.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::entry::EntrySummary;
use super::locust;
use super::sample::{Failure, FailureKind, Sample, StatId, StatKey};
use super::series::{self, TimePoint, Window};
use super::summary::FailureSummary;

/// Failures of one request with one message.
struct FailureGroup {
    stat: StatId,
    kind: FailureKind,
    message: String,
    occurrences: u64,
    first_ms: u32,
    last_ms: u32,
}

/// Where a sample's map counters go.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RunKey {
    stat: StatId,
    status: u16,
    bucket: u32,
    sec: u64,
}

/// How many distinct [`RunKey`]s a batch sums before it counts them.
const MAX_RUNS: usize = 32;

/// Samples of a batch with the same [`RunKey`].
struct Run {
    key: RunKey,
    requests: u64,
    failures: u64,
}

/// Everything aggregated so far.
pub(crate) struct Aggregator {
    pub(crate) entries: Vec<EntrySummary>,
    windows: Vec<Window>,
    pub(crate) total: EntrySummary,
    total_window: Window,
    groups: Vec<FailureGroup>,
    /// stat → message → index into `groups`; nested so a lookup needs no owned key.
    group_index: HashMap<StatId, HashMap<String, usize>>,
    pub(crate) errors_by_kind: BTreeMap<FailureKind, u64>,
    pub(crate) series: Vec<TimePoint>,
    /// Completion time of the newest request, ms since the start.
    pub(crate) last_request_ms: Option<u64>,
    /// Samples aggregated since the last time point.
    since_point: u64,
    /// Users at the last tick.
    pub(crate) users: usize,
    /// Scratch space of `add_batch`, kept to reuse its allocation.
    runs: Vec<Run>,
}

impl Aggregator {
    pub(crate) fn new(keys: &[StatKey]) -> Aggregator {
        Aggregator {
            entries: keys.iter().map(EntrySummary::new).collect(),
            windows: keys.iter().map(|_| Window::new()).collect(),
            total: EntrySummary::aggregated(),
            total_window: Window::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            errors_by_kind: BTreeMap::new(),
            series: Vec::new(),
            last_request_ms: None,
            since_point: 0,
            users: 0,
            runs: Vec::new(),
        }
    }

    /// Counts a batch of samples (one user's hand-over, in the order they were recorded).
    ///
    /// Exact figures (histograms, sums, extremes, failure groups) are taken per sample. The
    /// map counters (status codes, Locust buckets, per-second windows) are first summed per
    /// distinct (request, status, bucket, second) of the batch, then added to the maps once
    /// each: a batch holds a second of one user's requests, which fall in a handful of
    /// places, and six map updates per sample were most of the aggregation's cost.
    pub(crate) fn add_batch(&mut self, samples: &[Sample]) {
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
            self.last_request_ms = self.last_request_ms.max(Some(u64::from(sample.elapsed_ms)));
            self.since_point += 1;
            let key = RunKey {
                stat: sample.stat,
                status: sample.status,
                bucket: locust::bucket_us(sample.latency_us),
                sec: u64::from(sample.elapsed_ms / 1000),
            };
            let failed = u64::from(sample.failure.is_some());
            let found = if runs.get(last).is_some_and(|r: &Run| r.key == key) {
                Some(last)
            } else {
                runs.iter().position(|r| r.key == key)
            };
            match found {
                Some(i) => {
                    runs[i].requests += 1;
                    runs[i].failures += failed;
                    last = i;
                }
                None => {
                    if runs.len() == MAX_RUNS {
                        // Counted in first-seen order, which keeps the seconds in order.
                        for run in runs.drain(..) {
                            self.count_run(&run);
                        }
                    }
                    last = runs.len();
                    runs.push(Run {
                        key,
                        requests: 1,
                        failures: failed,
                    });
                }
            }
            if let Some(failure) = &sample.failure {
                self.group_failure(sample, failure);
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
            sec,
        } = run.key;
        let index = stat as usize;
        if let (Some(entry), Some(window)) =
            (self.entries.get_mut(index), self.windows.get_mut(index))
        {
            entry.count(status, bucket, run.requests);
            window.record_n(sec, bucket, run.requests, run.failures);
        }
        self.total.count(status, bucket, run.requests);
        self.total_window
            .record_n(sec, bucket, run.requests, run.failures);
    }

    fn group_failure(&mut self, sample: &Sample, failure: &Failure) {
        *self.errors_by_kind.entry(failure.kind).or_default() += 1;
        let message: Cow<str> = if failure.message.is_empty() {
            Cow::Owned(failure.to_string())
        } else {
            Cow::Borrowed(&failure.message)
        };
        let by_message = self.group_index.entry(sample.stat).or_default();
        match by_message.get(message.as_ref()) {
            Some(&i) => {
                let g = &mut self.groups[i];
                g.occurrences += 1;
                g.first_ms = g.first_ms.min(sample.elapsed_ms);
                g.last_ms = g.last_ms.max(sample.elapsed_ms);
            }
            None => {
                by_message.insert(message.clone().into_owned(), self.groups.len());
                self.groups.push(FailureGroup {
                    stat: sample.stat,
                    kind: failure.kind,
                    message: message.into_owned(),
                    occurrences: 1,
                    first_ms: sample.elapsed_ms,
                    last_ms: sample.elapsed_ms,
                });
            }
        }
    }

    /// Whether samples arrived since the last time point (or there is no point yet).
    pub(crate) fn has_new_data(&self) -> bool {
        self.since_point > 0 || self.series.is_empty()
    }

    /// Appends the time point for `elapsed_ms` with `users` running.
    pub(crate) fn push_point(&mut self, elapsed_ms: u64, users: usize, started_at: DateTime<Utc>) {
        let now_sec = elapsed_ms / 1000;
        let last_sec = self.last_request_ms.map(|ms| ms / 1000);
        let entries = self
            .entries
            .iter()
            .zip(&self.windows)
            .map(|(e, w)| {
                (e.requests > 0).then(|| series::point_stats(e, w, last_sec, now_sec, false))
            })
            .collect();
        let total = series::point_stats(&self.total, &self.total_window, last_sec, now_sec, true);
        self.users = users;
        self.since_point = 0;
        self.series.push(TimePoint {
            elapsed_ms,
            timestamp: at(started_at, elapsed_ms).timestamp(),
            users,
            total,
            entries,
        });
    }

    /// The failure groups, most frequent first, then by method, name and message.
    pub(crate) fn failures(
        &self,
        keys: &[StatKey],
        started_at: DateTime<Utc>,
    ) -> Vec<FailureSummary> {
        let mut rows: Vec<FailureSummary> = self
            .groups
            .iter()
            .map(|g| {
                let key = &keys[g.stat as usize];
                FailureSummary {
                    method: key.method.clone(),
                    name: key.name.clone(),
                    kind: g.kind,
                    message: g.message.clone(),
                    occurrences: g.occurrences,
                    first_seen: at(started_at, u64::from(g.first_ms)),
                    last_seen: at(started_at, u64::from(g.last_ms)),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.occurrences.cmp(&a.occurrences).then_with(|| {
                (&a.method, &a.name, &a.message).cmp(&(&b.method, &b.name, &b.message))
            })
        });
        rows
    }
}

/// The wall-clock time `elapsed_ms` after `started_at`.
fn at(started_at: DateTime<Utc>, elapsed_ms: u64) -> DateTime<Utc> {
    let delta = TimeDelta::try_milliseconds(i64::try_from(elapsed_ms).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::MAX);
    started_at.checked_add_signed(delta).unwrap_or(started_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sample::Failure;

    fn keys() -> Vec<StatKey> {
        vec![StatKey::new("GET", "/a"), StatKey::new("POST", "/b")]
    }

    /// 3,000 samples over 12 s, two requests, four statuses and latencies from 0.2 ms to
    /// 3 s: far more distinct (request, status, bucket, second) places than `MAX_RUNS`.
    fn samples() -> Vec<Sample> {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        (0..3000u32)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let status = [200, 200, 201, 503][(x % 4) as usize];
                let failure = (status == 503).then(|| {
                    Box::new(Failure::new(
                        FailureKind::Http5xx,
                        "503 Service Unavailable",
                    ))
                });
                Sample {
                    stat: ((x >> 8) % 2) as StatId,
                    elapsed_ms: i * 4,
                    latency_us: 200 + ((x >> 16) % 3_000_000) as u32 / (1 + (x % 50) as u32),
                    ttfb_us: 100,
                    bytes: 51,
                    status,
                    failure,
                }
            })
            .collect()
    }

    #[test]
    fn a_batch_counts_the_same_as_its_samples_one_by_one() {
        let samples = samples();
        let mut batched = Aggregator::new(&keys());
        let mut single = Aggregator::new(&keys());
        let t0 = Utc::now();
        for (n, chunk) in samples.chunks(700).enumerate() {
            batched.add_batch(chunk);
            for s in chunk {
                single.add_batch(std::slice::from_ref(s));
            }
            let at = (n as u64 + 1) * 2800;
            batched.push_point(at, 10, t0);
            single.push_point(at, 10, t0);
        }
        assert_eq!(batched.entries, single.entries);
        assert_eq!(batched.total, single.total);
        assert_eq!(batched.series, single.series);
        assert_eq!(batched.errors_by_kind, single.errors_by_kind);
        assert_eq!(batched.failures(&keys(), t0), single.failures(&keys(), t0));
        // And against the plain per-sample record of an entry.
        let mut total = EntrySummary::aggregated();
        for s in &samples {
            total.record(s);
        }
        assert_eq!(batched.total, total);
    }
}
