//! Per-user recorders and the aggregator. A user pushes samples into its own buffer (no
//! lock, no channel per request) and hands the buffer to a sharded sink about once a
//! second; `tick` drains the sink into HDR histograms.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;

use super::sample::{FailureKind, Sample, StatKey};

const SHARDS: usize = 16;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| unreachable!("static bounds are valid"))
}

/// Cumulative statistics of one (method, name), or of everything.
#[derive(Clone)]
pub struct Entry {
    pub latency: Histogram<u64>,
    pub ttfb: Histogram<u64>,
    pub requests: u64,
    pub failures: u64,
    pub bytes: u64,
    pub sum_us: u64,
    pub statuses: BTreeMap<u16, u64>,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            latency: histogram(),
            ttfb: histogram(),
            requests: 0,
            failures: 0,
            bytes: 0,
            sum_us: 0,
            statuses: BTreeMap::new(),
        }
    }
}

impl Entry {
    fn record(&mut self, s: &Sample) {
        let _ = self.latency.record(u64::from(s.latency_us.max(1)));
        if s.ttfb_us > 0 {
            let _ = self.ttfb.record(u64::from(s.ttfb_us));
        }
        self.requests += 1;
        self.failures += u64::from(s.failure.is_some());
        self.bytes += u64::from(s.bytes);
        self.sum_us += u64::from(s.latency_us);
        *self.statuses.entry(s.status).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Entry) {
        let _ = self.latency.add(&other.latency);
        let _ = self.ttfb.add(&other.ttfb);
        self.requests += other.requests;
        self.failures += other.failures;
        self.bytes += other.bytes;
        self.sum_us += other.sum_us;
        for (k, v) in &other.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
    }

    pub fn avg_ms(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.requests as f64 / 1000.0
        }
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latency.is_empty() {
            0.0
        } else {
            self.latency.value_at_quantile(p / 100.0) as f64 / 1000.0
        }
    }
}

/// One second of the run.
#[derive(Clone, Debug)]
pub struct Point {
    pub second: u64,
    pub users: usize,
    pub requests: u64,
    pub failures: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// A failure message with its occurrences.
#[derive(Clone, Debug)]
pub struct FailureCount {
    pub stat: u32,
    pub kind: FailureKind,
    pub message: String,
    pub count: u64,
}

#[derive(Default)]
struct Aggregate {
    entries: Vec<Entry>,
    total: Entry,
    window: Entry,
    series: Vec<Point>,
    failures: BTreeMap<(u32, String), (FailureKind, u64)>,
    by_kind: BTreeMap<FailureKind, u64>,
}

pub struct Metrics {
    keys: Vec<StatKey>,
    started: Instant,
    started_wall: SystemTime,
    shards: Vec<Mutex<Vec<Sample>>>,
    agg: Mutex<Aggregate>,
    dropped: AtomicU64,
}

/// The numbers of the live view.
#[derive(Clone, Debug)]
pub struct LiveStats {
    pub elapsed: Duration,
    pub users: usize,
    pub requests: u64,
    pub failures: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl Metrics {
    pub fn new(keys: Vec<StatKey>) -> Arc<Metrics> {
        let entries = keys.iter().map(|_| Entry::default()).collect();
        Arc::new(Metrics {
            keys,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            agg: Mutex::new(Aggregate {
                entries,
                ..Aggregate::default()
            }),
            dropped: AtomicU64::new(0),
        })
    }

    pub fn keys(&self) -> &[StatKey] {
        &self.keys
    }

    pub fn started_wall(&self) -> SystemTime {
        self.started_wall
    }

    pub fn recorder(self: &Arc<Self>, user_index: usize) -> Recorder {
        Recorder {
            metrics: self.clone(),
            shard: user_index % SHARDS,
            buffer: Vec::new(),
            last_flush_ms: 0,
        }
    }

    fn hand_over(&self, shard: usize, mut samples: Vec<Sample>) {
        let mut slot = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_empty() {
            *slot = samples;
        } else {
            slot.append(&mut samples);
        }
    }

    fn drain(&self, agg: &mut Aggregate) {
        for shard in &self.shards {
            let samples = std::mem::take(&mut *shard.lock().unwrap_or_else(|e| e.into_inner()));
            for s in &samples {
                if let Some(e) = agg.entries.get_mut(s.stat as usize) {
                    e.record(s);
                }
                agg.total.record(s);
                agg.window.record(s);
                if let Some(f) = &s.failure {
                    let slot = agg
                        .failures
                        .entry((s.stat, f.to_string()))
                        .or_insert((f.kind, 0));
                    slot.1 += 1;
                    *agg.by_kind.entry(f.kind).or_default() += 1;
                }
            }
        }
    }

    /// Drains the recorders' hand-overs and appends one time-series point.
    pub fn tick(&self, users: usize) {
        let mut agg = self.agg.lock().unwrap_or_else(|e| e.into_inner());
        self.drain(&mut agg);
        let window = std::mem::take(&mut agg.window);
        let point = Point {
            second: self.started.elapsed().as_secs(),
            users,
            requests: window.requests,
            failures: window.failures,
            p50_ms: window.percentile_ms(50.0),
            p95_ms: window.percentile_ms(95.0),
        };
        agg.series.push(point);
    }

    pub fn add_dropped_iterations(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn dropped_iterations(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn live(&self) -> LiveStats {
        let agg = self.agg.lock().unwrap_or_else(|e| e.into_inner());
        let recent: Vec<&Point> = agg.series.iter().rev().take(10).collect();
        let secs = recent.len().max(1) as f64;
        LiveStats {
            elapsed: self.started.elapsed(),
            users: agg.series.last().map_or(0, |p| p.users),
            requests: agg.total.requests,
            failures: agg.total.failures,
            rps: recent.iter().map(|p| p.requests).sum::<u64>() as f64 / secs,
            p50_ms: recent.first().map_or(0.0, |p| p.p50_ms),
            p95_ms: recent.first().map_or(0.0, |p| p.p95_ms),
        }
    }

    /// Everything recorded so far, after a final drain.
    pub fn snapshot(&self) -> Snapshot {
        let mut agg = self.agg.lock().unwrap_or_else(|e| e.into_inner());
        self.drain(&mut agg);
        Snapshot {
            keys: self.keys.clone(),
            entries: agg.entries.clone(),
            total: agg.total.clone(),
            series: agg.series.clone(),
            failures: agg
                .failures
                .iter()
                .map(|((stat, message), (kind, count))| FailureCount {
                    stat: *stat,
                    kind: *kind,
                    message: message.clone(),
                    count: *count,
                })
                .collect(),
            by_kind: agg.by_kind.clone(),
            duration: self.started.elapsed(),
            dropped_iterations: self.dropped_iterations(),
        }
    }
}

/// The statistics at one moment: what reports render.
#[derive(Clone)]
pub struct Snapshot {
    pub keys: Vec<StatKey>,
    pub entries: Vec<Entry>,
    pub total: Entry,
    pub series: Vec<Point>,
    pub failures: Vec<FailureCount>,
    pub by_kind: BTreeMap<FailureKind, u64>,
    pub duration: Duration,
    pub dropped_iterations: u64,
}

/// Owned by one virtual user.
pub struct Recorder {
    metrics: Arc<Metrics>,
    shard: usize,
    buffer: Vec<Sample>,
    last_flush_ms: u32,
}

impl Recorder {
    pub fn record(&mut self, sample: Sample) {
        let at = sample.elapsed_ms;
        self.buffer.push(sample);
        if at.saturating_sub(self.last_flush_ms) >= 1000 {
            self.last_flush_ms = at;
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.metrics
                .hand_over(self.shard, std::mem::take(&mut self.buffer));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sample_is_lost_across_threads() {
        let m = Metrics::new(vec![StatKey::new("GET", "/")]);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let m = m.clone();
                std::thread::spawn(move || {
                    let mut r = m.recorder(i);
                    for n in 0..10_000u32 {
                        r.record(Sample {
                            stat: 0,
                            elapsed_ms: n / 10,
                            latency_us: 100 + n,
                            ttfb_us: 50,
                            bytes: 10,
                            status: 200,
                            failure: None,
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = m.snapshot();
        assert_eq!(s.total.requests, 80_000);
        assert_eq!(s.entries[0].requests, 80_000);
        assert_eq!(s.total.bytes, 800_000);
    }
}
