//! Collection during a run: one [`Recorder`] per virtual user buffers what it measures
//! locally and hands it to a sharded sink about once a second; [`Metrics::tick`] drains the
//! sink into the aggregator. No lock, channel or allocation per request.

use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::aggregate::Aggregator;
use super::entry::EntrySummary;
use super::locust;
use super::sample::{Backfill, Sample, StatId, StatKey};
use super::summary::{Generator, RunInfo, SCHEMA_VERSION, Summary};

/// Number of sink shards; a recorder uses shard `user_index % SHARDS`, so hand-overs of
/// different users rarely meet on one lock.
const SHARDS: usize = 16;

/// A recorder hands its buffer over once this much run time passed since its last hand-over.
const HAND_OVER_MS: u32 = 1_000;

/// What a recorder hands over: its requests and the rarer records beside them.
#[derive(Debug, Default)]
pub struct Batch {
    pub samples: Vec<Sample>,
    /// Requests a paced user could not make while a slow one held it up.
    pub backfills: Vec<Backfill>,
    /// (ms since the start, µs late): how late the generator started scheduled work.
    pub lateness: Vec<(u32, u32)>,
    /// Requests in flight when the run stopped them.
    pub abandoned: Vec<StatId>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.samples.is_empty()
            && self.backfills.is_empty()
            && self.lateness.is_empty()
            && self.abandoned.is_empty()
    }

    /// What completed at or after `ms` (run time): the part of a batch a statistics reset
    /// keeps.
    fn since(&self, ms: u64) -> Batch {
        let after = |t: u32| u64::from(t) >= ms;
        Batch {
            samples: self
                .samples
                .iter()
                .filter(|s| after(s.elapsed_ms))
                .cloned()
                .collect(),
            backfills: self
                .backfills
                .iter()
                .filter(|b| after(b.elapsed_ms))
                .copied()
                .collect(),
            lateness: self
                .lateness
                .iter()
                .filter(|(t, _)| after(*t))
                .copied()
                .collect(),
            // An abandoned request is counted when the run stops, after any reset.
            abandoned: self.abandoned.clone(),
        }
    }

    fn append(&mut self, other: &mut Batch) {
        self.samples.append(&mut other.samples);
        self.backfills.append(&mut other.backfills);
        self.lateness.append(&mut other.lateness);
        self.abandoned.append(&mut other.abandoned);
    }
}

/// The statistics of one run, shared (in an `Arc`) by the runtime, its virtual users and
/// whoever watches the run. Created with the compiled `StatKey` table before the first user
/// starts.
pub struct Metrics {
    keys: Vec<StatKey>,
    start: Instant,
    started_at: DateTime<Utc>,
    shards: Vec<Mutex<Batch>>,
    state: Mutex<Aggregator>,
    live: Mutex<LiveStats>,
    dropped: AtomicU64,
    /// Run time of the last statistics reset, ms: what completed before it is not counted,
    /// even if a recorder still held it.
    reset_ms: AtomicU64,
}

/// A cheap snapshot for the console and for CI logs, refreshed by every tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStats {
    /// Run time so far, ms.
    pub elapsed_ms: u64,
    /// Running virtual users at the last tick.
    pub users: usize,
    /// Requests so far (as of the last tick).
    pub requests: u64,
    /// Failed requests so far.
    pub failures: u64,
    /// Current requests per second (Locust's 10 s window ending 2 s before the newest request).
    pub rps: f64,
    /// Current failures per second, same window.
    pub fps: f64,
    /// Locust-bucketed p50 of the last 10 s, ms.
    pub p50_ms: Option<u32>,
    /// Locust-bucketed p95 of the last 10 s, ms.
    pub p95_ms: Option<u32>,
    /// Iterations dropped by the arrival-rate model so far.
    pub dropped_iterations: u64,
}

impl LiveStats {
    fn empty() -> LiveStats {
        LiveStats {
            elapsed_ms: 0,
            users: 0,
            requests: 0,
            failures: 0,
            rps: 0.0,
            fps: 0.0,
            p50_ms: None,
            p95_ms: None,
            dropped_iterations: 0,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves counts that are still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// Statistics for a run whose requests are counted under `keys` (`StatId` = index).
    /// Records the start: a monotonic instant (tokio's, so paused test time applies) and the
    /// UTC wall clock. Keys should be unique by (method, name).
    pub fn new(keys: Vec<StatKey>) -> Arc<Metrics> {
        Metrics::starting_at(keys, Utc::now())
    }

    /// Like [`new`](Self::new) with a given wall-clock start (for reproducible reports, and
    /// for segments of one run that share a start instant).
    pub fn starting_at(keys: Vec<StatKey>, started_at: DateTime<Utc>) -> Arc<Metrics> {
        Metrics::starting_at_instant(keys, started_at, Instant::now())
    }

    /// Statistics whose time zero is `start` on the monotonic clock and `started_at` on the
    /// wall clock (a run whose schedule began at a shared instant, maybe in the past).
    pub fn starting_at_instant(
        keys: Vec<StatKey>,
        started_at: DateTime<Utc>,
        start: Instant,
    ) -> Arc<Metrics> {
        let state = Aggregator::new(&keys);
        Arc::new(Metrics {
            keys,
            start,
            started_at,
            shards: (0..SHARDS).map(|_| Mutex::new(Batch::default())).collect(),
            state: Mutex::new(state),
            live: Mutex::new(LiveStats::empty()),
            dropped: AtomicU64::new(0),
            reset_ms: AtomicU64::new(0),
        })
    }

    /// The recorder of virtual user `user_index`; one per user, owned by it.
    pub fn recorder(self: &Arc<Self>, user_index: usize) -> Recorder {
        Recorder {
            metrics: Arc::clone(self),
            shard: user_index % SHARDS,
            buffer: Batch::default(),
            last_hand_over_ms: 0,
        }
    }

    /// The `StatKey` table, indexed by `StatId`.
    pub fn keys(&self) -> &[StatKey] {
        &self.keys
    }

    /// Wall-clock start of the run (UTC), for `RunInfo::started_at`.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// Run time so far.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Called about once a second by the runtime: aggregates what the recorders handed over
    /// and notes the users running, per class.
    pub fn tick(&self, class_users: &[u32]) {
        self.tick_at(self.elapsed(), class_users);
    }

    /// [`tick`](Self::tick) at a given run time instead of the clock's (replays, tests).
    pub fn tick_at(&self, elapsed: Duration, class_users: &[u32]) {
        let elapsed_ms = elapsed.as_millis() as u64;
        let mut state = lock(&self.state);
        self.drain(&mut state);
        state.set_users(elapsed_ms, class_users);
        state.flush();
        let (rps, fps, current) = current_total(&state);
        let mut live = lock(&self.live);
        live.elapsed_ms = elapsed_ms;
        live.users = class_users.iter().map(|u| *u as usize).sum();
        live.requests = state.total.requests;
        live.failures = state.total.failures;
        live.rps = rps;
        live.fps = fps;
        live.p50_ms = current.map(|p| p[locust::P50]);
        live.p95_ms = current.map(|p| p[locust::P95]);
    }

    /// The latest snapshot (counts as of the last tick, elapsed time as of now).
    pub fn live(&self) -> LiveStats {
        let mut live = lock(&self.live).clone();
        live.elapsed_ms = self.elapsed().as_millis() as u64;
        live.dropped_iterations = self.dropped.load(Ordering::Relaxed);
        live
    }

    /// Counts `n` iterations the arrival-rate model could not start (user cap reached).
    pub fn add_dropped_iterations(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        let elapsed_ms = self.elapsed().as_millis() as u64;
        lock(&self.state).add_dropped(elapsed_ms, n);
    }

    /// Forgets every statistic recorded so far (a controller's "reset statistics"): the run
    /// goes on, counting from zero. What recorders still hold is dropped with it.
    pub fn reset(&self) {
        self.reset_at(self.elapsed());
    }

    /// [`reset`](Self::reset) at a given run time instead of the clock's.
    pub fn reset_at(&self, elapsed: Duration) {
        let mut state = lock(&self.state);
        for shard in &self.shards {
            *lock(shard) = Batch::default();
        }
        *state = Aggregator::new(&self.keys);
        // Stored plus one: 0 means no reset.
        self.reset_ms
            .store(elapsed.as_millis() as u64 + 1, Ordering::Relaxed);
        self.dropped.store(0, Ordering::Relaxed);
        *lock(&self.live) = LiveStats::empty();
    }

    /// The result so far (or the final one): everything handed over is aggregated first.
    /// Recorders must be flushed (or dropped) before, or their buffered samples are missing.
    /// It changes nothing that was recorded: a summary can be taken at any moment.
    pub fn summary(&self, info: RunInfo) -> Summary {
        self.summary_at(info, self.elapsed())
    }

    /// [`summary`](Self::summary) at a given run time instead of the clock's.
    pub fn summary_at(&self, info: RunInfo, elapsed: Duration) -> Summary {
        self.build_summary(info, elapsed, true)
    }

    /// The summary without its time series (`series: None`): what a live exporter needs
    /// every second, without copying an hour of per-second rows each time.
    pub fn totals(&self, info: RunInfo) -> Summary {
        self.build_summary(info, self.elapsed(), false)
    }

    fn build_summary(&self, info: RunInfo, elapsed: Duration, series: bool) -> Summary {
        let elapsed_ms = elapsed.as_millis() as u64;
        let mut state = lock(&self.state);
        self.drain(&mut state);
        state.flush();
        Summary {
            schema_version: SCHEMA_VERSION,
            info,
            elapsed_ms,
            last_request_ms: state.last_request_ms.unwrap_or(0),
            entries: state.entries.clone(),
            aggregated: state.total.clone(),
            series: series.then(|| state.series.clone()),
            legacy_time_series: Vec::new(),
            failures: state.failures.summaries(&self.keys, self.started_at),
            errors_by_kind: state.errors_by_kind.clone(),
            dropped_iterations: self.dropped.load(Ordering::Relaxed),
            generator: Generator {
                lateness: state.lateness.clone(),
            },
        }
    }

    /// Runs `f` on the keys, the per-key entries and the total as of the last tick.
    pub(crate) fn with_entries<R>(
        &self,
        f: impl FnOnce(&[StatKey], &[EntrySummary], &EntrySummary) -> R,
    ) -> R {
        let state = lock(&self.state);
        f(&self.keys, &state.entries, &state.total)
    }

    /// Runs `f` on the aggregated state, after aggregating everything handed over.
    pub(crate) fn with_aggregator<R>(&self, f: impl FnOnce(&[StatKey], &Aggregator) -> R) -> R {
        let mut state = lock(&self.state);
        self.drain(&mut state);
        state.flush();
        f(&self.keys, &state)
    }

    /// The time points so far (totals only): what a chart of the run shows.
    pub fn history(&self) -> Vec<super::series::TimePoint> {
        let elapsed_ms = self.elapsed().as_millis() as u64;
        let started_ms = self.started_at.timestamp_millis();
        self.with_aggregator(|keys, state| {
            state
                .series
                .points(started_ms, elapsed_ms, keys.len(), false)
        })
    }

    fn drain(&self, state: &mut Aggregator) {
        for shard in &self.shards {
            // Take the batch and release the shard before aggregating it. The shard keeps
            // room for a batch of the same size: the next recorder to hand over swaps it in
            // as its buffer, so users rarely grow a buffer from nothing.
            let batch = {
                let mut sink = lock(shard);
                let size = sink.samples.len();
                mem::replace(
                    &mut *sink,
                    Batch {
                        samples: Vec::with_capacity(size),
                        ..Batch::default()
                    },
                )
            };
            match self.reset_ms.load(Ordering::Relaxed) {
                0 => state.add_batch(&batch),
                reset => state.add_batch(&batch.since(reset - 1)),
            }
        }
    }
}

/// Locust's current rates and percentiles of all requests, as of the newest row.
fn current_total(state: &Aggregator) -> (f64, f64, Option<[u32; 11]>) {
    let series = &state.series;
    let width_s = series.row_ms as f64 / 1000.0;
    let last = series.rows.iter().rposition(|r| r.total.requests > 0);
    let rate = |pick: fn(&super::series::Row) -> u64| {
        last.map_or(0.0, |last| {
            locust::current_rate(last as u64, |r| series.rows.get(r as usize).map_or(0, pick))
                / width_s
        })
    };
    let now = series.rows.len().saturating_sub(1);
    let from = (now + 1).saturating_sub(locust::CURRENT_WINDOW_SECS as usize);
    let mut buckets = locust::Buckets::new();
    let mut n = 0;
    for row in series.rows.get(from..).into_iter().flatten() {
        row.total.buckets.add_to(&mut buckets);
        n += row.total.requests;
    }
    (
        rate(|r| r.total.requests),
        rate(|r| r.total.failures),
        (n > 0).then(|| locust::percentiles(&buckets, n)),
    )
}

/// Collects what one virtual user measures. Recording only pushes onto a local buffer; the
/// buffer goes to the shared sink (one lock) when a second of run time passed since the last
/// hand-over, on `flush`, and on drop.
pub struct Recorder {
    metrics: Arc<Metrics>,
    shard: usize,
    buffer: Batch,
    last_hand_over_ms: u32,
}

impl Recorder {
    /// Records one measured request.
    pub fn record(&mut self, sample: Sample) {
        let elapsed_ms = sample.elapsed_ms;
        self.buffer.samples.push(sample);
        if elapsed_ms.saturating_sub(self.last_hand_over_ms) >= HAND_OVER_MS {
            self.hand_over(elapsed_ms);
        }
    }

    /// Records requests a paced user could not make (see [`Backfill`]).
    pub fn backfill(&mut self, backfill: Backfill) {
        if backfill.count > 0 {
            self.buffer.backfills.push(backfill);
        }
    }

    /// Records that the generator started scheduled work `us` late, at `elapsed_ms`.
    pub fn lateness(&mut self, elapsed_ms: u32, us: u32) {
        self.buffer.lateness.push((elapsed_ms, us));
    }

    /// Records a request the run abandoned in flight.
    pub fn abandoned(&mut self, stat: StatId) {
        self.buffer.abandoned.push(stat);
    }

    /// Hands the buffer over now: before a long think time, and when the user stops.
    pub fn flush(&mut self) {
        if !self.buffer.is_empty() {
            let elapsed_ms = self
                .buffer
                .samples
                .last()
                .map_or(self.last_hand_over_ms, |s| s.elapsed_ms);
            self.hand_over(elapsed_ms);
        }
    }

    fn hand_over(&mut self, elapsed_ms: u32) {
        let mut sink = lock(&self.metrics.shards[self.shard]);
        if sink.is_empty() {
            // Give the sink our buffer and keep its (empty) allocation.
            mem::swap(&mut *sink, &mut self.buffer);
        } else {
            sink.append(&mut self.buffer);
        }
        self.last_hand_over_ms = elapsed_ms;
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("keys", &self.keys.len())
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::thread;

    use super::*;
    use crate::metrics::sample::{Failure, FailureKind, StatId};

    fn keys() -> Vec<StatKey> {
        vec![StatKey::new("GET", "/a"), StatKey::new("POST", "/b")]
    }

    fn ok(stat: StatId, elapsed_ms: u32, latency_ms: u32) -> Sample {
        Sample {
            stat,
            elapsed_ms,
            latency_us: latency_ms * 1000,
            ttfb_us: latency_ms * 1000 / 2,
            bytes: 10,
            status: 200,
            lag_us: 0,
            scheduled: false,
            failure: None,
        }
    }

    fn failed(stat: StatId, elapsed_ms: u32, latency_ms: u32, failure: Failure) -> Sample {
        Sample {
            status: 500,
            lag_us: 0,
            scheduled: false,
            failure: Some(Box::new(failure)),
            ..ok(stat, elapsed_ms, latency_ms)
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn metrics_is_shared_and_recorder_is_sendable() {
        fn shared<T: Send + Sync>() {}
        fn sendable<T: Send>() {}
        shared::<Metrics>();
        sendable::<Recorder>();
    }

    #[test]
    fn recorder_hands_over_after_a_second_of_run_time() {
        let metrics = Metrics::starting_at(keys(), start());
        let mut rec = metrics.recorder(3);
        for t in (0..1000).step_by(100) {
            rec.record(ok(0, t, 5));
        }
        metrics.tick_at(Duration::from_millis(1000), &[1]);
        assert_eq!(metrics.live().requests, 0, "nothing handed over before 1 s");
        rec.record(ok(0, 1000, 5));
        metrics.tick_at(Duration::from_millis(1100), &[1]);
        assert_eq!(metrics.live().requests, 11);
        rec.record(ok(0, 1500, 5));
        metrics.tick_at(Duration::from_millis(1600), &[1]);
        assert_eq!(
            metrics.live().requests,
            11,
            "next hand-over only at 2000 ms"
        );
        rec.flush();
        metrics.tick_at(Duration::from_millis(1700), &[1]);
        assert_eq!(metrics.live().requests, 12);
        rec.record(ok(1, 1800, 5));
        drop(rec);
        let summary = metrics.summary_at(RunInfo::default(), Duration::from_millis(2000));
        assert_eq!(summary.aggregated.requests, 13);
        assert_eq!(summary.entries[1].requests, 1);
    }

    #[test]
    fn no_sample_is_lost_across_threads() {
        const THREADS: usize = 6;
        const USERS_PER_THREAD: usize = 7;
        const SAMPLES: u32 = 5_000;
        let metrics = Metrics::new(keys());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = {
            let metrics = Arc::clone(&metrics);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut ticks = 0;
                while !stop.load(Ordering::Relaxed) {
                    metrics.tick(&[(THREADS * USERS_PER_THREAD) as u32]);
                    ticks += 1;
                    thread::yield_now();
                }
                ticks
            })
        };
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let metrics = Arc::clone(&metrics);
                thread::spawn(move || {
                    let mut recorders: Vec<Recorder> = (0..USERS_PER_THREAD)
                        .map(|u| metrics.recorder(t * USERS_PER_THREAD + u))
                        .collect();
                    for i in 0..SAMPLES {
                        for (u, rec) in recorders.iter_mut().enumerate() {
                            // 3 ms apart per user: about 15 s of run time, many hand-overs.
                            let sample = if (i + u as u32).is_multiple_of(10) {
                                failed((i % 2) as StatId, i * 3, 20, Failure::http(500))
                            } else {
                                ok((i % 2) as StatId, i * 3, 10)
                            };
                            rec.record(sample);
                        }
                    }
                    // Recorders drop here and flush what is left.
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(ticker.join().unwrap() > 0);
        let summary = metrics.summary(RunInfo::default());
        let total = (THREADS * USERS_PER_THREAD) as u64 * u64::from(SAMPLES);
        assert_eq!(summary.aggregated.requests, total);
        assert_eq!(summary.aggregated.latency.len(), total);
        assert_eq!(summary.entries[0].requests, total / 2);
        assert_eq!(summary.entries[1].requests, total / 2);
        assert_eq!(summary.aggregated.failures, total / 10);
        assert_eq!(summary.failures.len(), 2);
        assert_eq!(
            summary.failures.iter().map(|f| f.occurrences).sum::<u64>(),
            total / 10
        );
        assert_eq!(
            summary.errors_by_kind,
            BTreeMap::from([(FailureKind::Http5xx, total / 10)])
        );
        assert_eq!(summary.last_request_ms, u64::from(SAMPLES - 1) * 3);
    }

    #[test]
    fn time_series_has_a_point_per_second() {
        let metrics = Metrics::starting_at(keys(), start());
        let mut rec = metrics.recorder(0);
        // Seconds 0..=14: 10 requests a second of /a at 10 ms; second 14 also has
        // one failed /b at 900 ms.
        for sec in 0..15u32 {
            for i in 0..10 {
                rec.record(ok(0, sec * 1000 + i * 100, 10));
            }
            if sec == 14 {
                rec.record(failed(
                    1,
                    sec * 1000 + 950,
                    900,
                    Failure::check("`status 201`").with_detail("got 400"),
                ));
            }
            rec.flush();
            metrics.tick_at(
                Duration::from_millis(u64::from(sec) * 1000 + 999),
                &[5 + sec, 0],
            );
        }
        let info = RunInfo {
            started_at: start(),
            ..RunInfo::default()
        };
        let summary = metrics.summary_at(info, Duration::from_millis(15_000));
        let series = summary.time_series();
        assert_eq!(series.len(), 15, "one point per second of the run");
        let p0 = &series[0];
        assert_eq!(p0.elapsed_ms, 1000);
        assert_eq!(p0.timestamp, start().timestamp() + 1);
        assert_eq!(p0.users, 5);
        assert_eq!(p0.class_users, [5, 0]);
        assert_eq!(p0.total.requests, 10);
        assert_eq!(
            p0.total.rps, 0.0,
            "window of Locust's rule is empty at the start"
        );
        assert!(p0.entries.is_empty(), "totals only unless asked");

        let p = &series[14];
        assert_eq!(p.elapsed_ms, 15_000);
        assert_eq!(p.users, 19);
        assert_eq!(p.total.requests, 151);
        assert_eq!(p.total.failures, 1);
        // Newest request in second 14: window seconds 2..=11, 10 requests each.
        assert_eq!(p.total.rps, 10.0);
        assert_eq!(p.total.fps, 0.0);
        // Last 10 s (seconds 5..=14): 100 requests at 10 ms and one at 900 ms.
        assert_eq!(
            p.total.current_ms,
            Some([10, 10, 10, 10, 10, 10, 10, 10, 900, 900, 900])
        );
        assert_eq!(p.total.cumulative_ms.unwrap()[10], 900);
        assert_eq!(p.total.avg_content_size, 10.0);
        let mut full = Vec::new();
        summary.visit_time_series(true, |p| full.push(p.clone()));
        assert_eq!(
            full[0].entries[0].as_ref().unwrap().current_ms,
            Some([10; 11])
        );
        assert_eq!(full[0].entries[1], None);
        let b = full[14].entries[1].as_ref().unwrap();
        assert_eq!((b.requests, b.failures, b.max_ms), (1, 1, 900.0));
        assert_eq!(b.cumulative_ms, None);

        assert_eq!(summary.failures.len(), 1);
        let f = &summary.failures[0];
        assert_eq!((f.method.as_str(), f.name.as_str()), ("POST", "/b"));
        assert_eq!(f.error_text(), "check failed: `status 201`: got 400");
        assert_eq!(f.first_seen.to_rfc3339(), "2026-11-27T08:00:14.950+00:00");
    }

    #[test]
    fn points_cover_the_run_up_to_its_end() {
        let metrics = Metrics::starting_at(keys(), start());
        metrics.tick_at(Duration::from_millis(1000), &[2]);
        let mut rec = metrics.recorder(0);
        rec.record(ok(0, 1500, 1));
        drop(rec);
        metrics.add_dropped_iterations(3);
        metrics.add_dropped_iterations(4);
        let s = metrics.summary_at(RunInfo::default(), Duration::from_millis(1600));
        let series = s.time_series();
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].total.requests, 1);
        assert_eq!(series[1].users, 2, "the users of the last tick hold");
        assert_eq!(series[1].elapsed_ms, 1600);
        assert_eq!(s.elapsed_ms, 1600);
        assert_eq!(s.last_request_ms, 1500);
        assert_eq!(s.dropped_iterations, 7);
        assert_eq!(metrics.live().dropped_iterations, 7);
    }

    #[test]
    fn a_summary_changes_nothing_and_a_reset_starts_over() {
        let metrics = Metrics::starting_at(keys(), start());
        let mut rec = metrics.recorder(0);
        rec.record(ok(0, 100, 3));
        rec.flush();
        let a = metrics.summary_at(RunInfo::default(), Duration::from_millis(900));
        let b = metrics.summary_at(RunInfo::default(), Duration::from_millis(900));
        assert_eq!(a, b, "taking a summary has no side effect");
        // Recorded before the reset but still in the recorder's buffer: not counted.
        rec.record(ok(0, 200, 3));
        metrics.reset_at(Duration::from_millis(900));
        let c = metrics.summary_at(RunInfo::default(), Duration::from_millis(900));
        assert_eq!(c.aggregated.requests, 0);
        rec.record(ok(1, 1200, 3));
        rec.flush();
        let d = metrics.summary_at(RunInfo::default(), Duration::from_millis(1300));
        assert_eq!((d.entries[0].requests, d.entries[1].requests), (0, 1));
    }

    #[test]
    fn empty_run_has_one_point() {
        let metrics = Metrics::starting_at(keys(), start());
        let s = metrics.summary_at(RunInfo::default(), Duration::from_millis(10));
        assert_eq!(s.time_series().len(), 1);
        assert_eq!(s.aggregated.requests, 0);
        assert_eq!(s.last_request_ms, 0);
    }
}
