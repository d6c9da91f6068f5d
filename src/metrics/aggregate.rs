//! The aggregator: turns batches of samples into entries, failure groups and time points.
//! Lives behind `Metrics`' lock; touched about once a second, never per request.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::entry::EntrySummary;
use super::locust;
use super::sample::{FailureKind, Sample, StatId, StatKey};
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
        }
    }

    /// Counts one sample everywhere it belongs.
    pub(crate) fn add(&mut self, sample: &Sample) {
        let index = sample.stat as usize;
        // The compiler hands out the ids: an unknown one is a bug of ours, not user input.
        debug_assert!(index < self.entries.len(), "unknown StatId {}", sample.stat);
        let (Some(entry), Some(window)) =
            (self.entries.get_mut(index), self.windows.get_mut(index))
        else {
            return;
        };
        let sec = u64::from(sample.elapsed_ms / 1000);
        let bucket = locust::bucket_us(sample.latency_us);
        let failed = sample.failure.is_some();
        entry.record(sample);
        window.record(sec, bucket, failed);
        self.total.record(sample);
        self.total_window.record(sec, bucket, failed);
        self.last_request_ms = self.last_request_ms.max(Some(u64::from(sample.elapsed_ms)));
        self.since_point += 1;

        if let Some(failure) = &sample.failure {
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
