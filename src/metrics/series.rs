//! The time series of a run, kept raw so that it merges exactly, and the views derived from
//! it when a report is rendered.
//!
//! Raw, in [`Series`]: one [`Row`] per second of run time (counts, sums and extremes per
//! request and in total, Locust's bucket dict per request and in total, users, dropped
//! iterations) and one [`Window`] per ten rows (sparse HDR histograms of latency and of the
//! corrected latency per request and in total, and the generator's lateness). Rows and windows
//! of two parts of one run add up to those of the whole run. A run longer than
//! [`MAX_ROWS`] seconds keeps its rows at 2 s (then 4 s, ...) so memory stays bounded.
//!
//! Derived, in [`TimePoint`]: what charts and Locust's `_stats_history.csv` show for each
//! second: cumulative figures, Locust's "current" rates (the ten whole seconds ending two
//! seconds before the newest request) and percentiles (the last ten seconds), and the window's
//! HDR percentiles.

use serde::{Deserialize, Serialize};

use super::entry::us_to_ms;
use super::locust::{self, Buckets, Median};
use super::sample::{Sample, StatId};
use super::sparse::{SparseBuckets, SparseHistogram};

/// Width of a row in a run shorter than [`MAX_ROWS`] seconds.
pub const ROW_MS: u64 = 1000;
/// Rows per window: a window is ten seconds (Locust's current-percentile window).
pub const WINDOW_ROWS: usize = 10;
/// How late a tick may come and still count for the row it ends.
const TICK_SLACK_MS: u64 = 250;

/// Most rows kept; past it, neighbouring rows are merged and the width doubles.
pub const MAX_ROWS: usize = 3600;

/// Counts, sums and extremes of the requests completed in a row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bytes: u64,
    /// Sum of latencies, µs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_sum_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_us: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_us: Option<u32>,
    /// Locust's bucket dict of these requests.
    #[serde(default, skip_serializing_if = "SparseBuckets::is_empty")]
    pub buckets: SparseBuckets,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    fn record(&mut self, s: &Sample) {
        self.requests += 1;
        self.failures += u64::from(s.failure.is_some());
        self.bytes += u64::from(s.bytes);
        self.latency_sum_us += u64::from(s.latency_us);
        self.min_us = Some(self.min_us.map_or(s.latency_us, |m| m.min(s.latency_us)));
        self.max_us = Some(self.max_us.map_or(s.latency_us, |m| m.max(s.latency_us)));
        self.buckets.add(locust::bucket_us(s.latency_us), 1);
    }

    /// Adds `other` into these counts.
    pub fn absorb(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.bytes += other.bytes;
        self.latency_sum_us += other.latency_sum_us;
        self.min_us = min_opt(self.min_us, other.min_us);
        self.max_us = max_opt(self.max_us, other.max_us);
        self.buckets.absorb(&other.buckets);
    }
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// One row (a second, in a run shorter than [`MAX_ROWS`] seconds) of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Users running at the row's last tick; `None` when no tick fell in the row (the
    /// previous row's count holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Users per class (in the plan's class order) at the same tick.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_users: Vec<u32>,
    /// All requests completed in the row.
    pub total: Counts,
    /// Per request (by `StatId`, ascending), only those completed in the row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<(StatId, Counts)>,
    /// Iterations of the open model that could not start in the row.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

impl Row {
    fn entry_mut(&mut self, stat: StatId) -> &mut Counts {
        let i = match self.entries.binary_search_by_key(&stat, |(s, _)| *s) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (stat, Counts::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// The counts of request `stat` in this row, if it had any.
    pub fn entry(&self, stat: StatId) -> Option<&Counts> {
        self.entries
            .binary_search_by_key(&stat, |(s, _)| *s)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    fn absorb(&mut self, other: &Row) {
        self.total.absorb(&other.total);
        for (stat, counts) in &other.entries {
            self.entry_mut(*stat).absorb(counts);
        }
        self.dropped += other.dropped;
    }
}

/// Distributions of one request (or all) over one window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Latency, µs, 2 significant digits.
    #[serde(default, skip_serializing_if = "SparseHistogram::is_empty")]
    pub latency: SparseHistogram,
    /// Latency from the intended start (scheduled requests and back-filled ones), µs.
    #[serde(default, skip_serializing_if = "SparseHistogram::is_empty")]
    pub corrected: SparseHistogram,
}

impl WindowStats {
    fn absorb(&mut self, other: &WindowStats) {
        self.latency.add(&other.latency);
        self.corrected.add(&other.corrected);
    }
}

/// Ten rows' distributions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub total: WindowStats,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<(StatId, WindowStats)>,
    /// How late the generator started scheduled work, µs.
    #[serde(default, skip_serializing_if = "SparseHistogram::is_empty")]
    pub lateness: SparseHistogram,
}

impl Window {
    fn entry_mut(&mut self, stat: StatId) -> &mut WindowStats {
        let i = match self.entries.binary_search_by_key(&stat, |(s, _)| *s) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (stat, WindowStats::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    fn absorb(&mut self, other: &Window) {
        self.total.absorb(&other.total);
        for (stat, w) in &other.entries {
            self.entry_mut(*stat).absorb(w);
        }
        self.lateness.add(&other.lateness);
    }
}

/// The raw time series: rows of `row_ms` and windows of [`WINDOW_ROWS`] rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// Width of a row, ms ([`ROW_MS`], doubled as often as the run's length required).
    pub row_ms: u64,
    pub rows: Vec<Row>,
    pub windows: Vec<Window>,
}

impl Default for Series {
    fn default() -> Series {
        Series::new()
    }
}

/// Values waiting to be added to a window's sparse histograms (see [`Series::flush`]).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// (window, stat) → latency values and corrected values; `stat == None` for the total.
    buffers: Vec<PendingBuffer>,
    lateness: Vec<(usize, u32)>,
}

#[derive(Debug)]
struct PendingBuffer {
    window: usize,
    stat: Option<StatId>,
    latency: Vec<u32>,
    corrected: Vec<u32>,
}

impl Pending {
    fn buffer(&mut self, window: usize, stat: Option<StatId>) -> &mut PendingBuffer {
        // A handful of buffers are open at a time (requests of the current window or two).
        let i = match self
            .buffers
            .iter()
            .rposition(|b| b.window == window && b.stat == stat)
        {
            Some(i) => i,
            None => {
                self.buffers.push(PendingBuffer {
                    window,
                    stat,
                    latency: Vec::new(),
                    corrected: Vec::new(),
                });
                self.buffers.len() - 1
            }
        };
        &mut self.buffers[i]
    }
}

impl Series {
    pub fn new() -> Series {
        Series {
            row_ms: ROW_MS,
            rows: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// The row index of a time, ms since the start.
    pub fn row_index(&self, elapsed_ms: u64) -> usize {
        (elapsed_ms / self.row_ms) as usize
    }

    /// Makes room for row `i` (and its window), halving the resolution as often as needed;
    /// returns the index of the row that now holds time `elapsed_ms`.
    fn ensure(&mut self, elapsed_ms: u64, pending: &mut Pending) -> usize {
        while self.row_index(elapsed_ms) >= MAX_ROWS {
            self.flush(pending);
            self.coarsen();
        }
        let i = self.row_index(elapsed_ms);
        if self.rows.len() <= i {
            self.rows.resize_with(i + 1, Row::default);
        }
        let w = i / WINDOW_ROWS;
        if self.windows.len() <= w {
            self.windows.resize_with(w + 1, Window::default);
        }
        i
    }

    /// Merges neighbouring rows and windows: the width of both doubles.
    pub fn coarsen(&mut self) {
        self.rows = merge_pairs(std::mem::take(&mut self.rows), |a, b| {
            a.absorb(&b);
            if b.users.is_some() {
                a.users = b.users;
                a.class_users = b.class_users;
            }
        });
        self.windows = merge_pairs(std::mem::take(&mut self.windows), |a, b| a.absorb(&b));
        self.row_ms *= 2;
    }

    /// Counts one measured request.
    pub(crate) fn record(&mut self, s: &Sample, pending: &mut Pending) {
        let i = self.ensure(u64::from(s.elapsed_ms), pending);
        let row = &mut self.rows[i];
        row.total.record(s);
        row.entry_mut(s.stat).record(s);
        let window = i / WINDOW_ROWS;
        let total = pending.buffer(window, None);
        total.latency.push(s.latency_us);
        if s.scheduled {
            total.corrected.push(s.corrected_us());
        }
        let entry = pending.buffer(window, Some(s.stat));
        entry.latency.push(s.latency_us);
        if s.scheduled {
            entry.corrected.push(s.corrected_us());
        }
    }

    /// Counts corrected-only values (back-filled requests) of request `stat`.
    pub(crate) fn record_corrected(
        &mut self,
        stat: StatId,
        elapsed_ms: u32,
        values: impl Iterator<Item = u32> + Clone,
        pending: &mut Pending,
    ) {
        let i = self.ensure(u64::from(elapsed_ms), pending);
        let window = i / WINDOW_ROWS;
        pending
            .buffer(window, None)
            .corrected
            .extend(values.clone());
        pending.buffer(window, Some(stat)).corrected.extend(values);
    }

    /// Counts how late the generator started something, µs.
    pub(crate) fn record_lateness(&mut self, elapsed_ms: u32, us: u32, pending: &mut Pending) {
        let i = self.ensure(u64::from(elapsed_ms), pending);
        pending.lateness.push((i / WINDOW_ROWS, us));
    }

    /// Counts iterations the open model could not start.
    pub(crate) fn record_dropped(&mut self, elapsed_ms: u64, n: u64, pending: &mut Pending) {
        let i = self.ensure(elapsed_ms, pending);
        self.rows[i].dropped += n;
    }

    /// Notes the users running at `elapsed_ms` (a tick): they are the users at the end of
    /// the row that time closes (a tick at 1000 ms, or a few ms later, ends the first
    /// second).
    pub(crate) fn set_users(
        &mut self,
        elapsed_ms: u64,
        class_users: &[u32],
        pending: &mut Pending,
    ) {
        let i = self.ensure(elapsed_ms.saturating_sub(TICK_SLACK_MS), pending);
        let row = &mut self.rows[i];
        row.users = Some(class_users.iter().sum());
        row.class_users = class_users.to_vec();
    }

    /// Adds the pending values to the windows' histograms.
    pub(crate) fn flush(&mut self, pending: &mut Pending) {
        for mut b in pending.buffers.drain(..) {
            let Some(window) = self.windows.get_mut(b.window) else {
                continue;
            };
            let stats = match b.stat {
                None => &mut window.total,
                Some(stat) => window.entry_mut(stat),
            };
            stats.latency.add_values(&mut b.latency);
            stats.corrected.add_values(&mut b.corrected);
        }
        let mut lateness = std::mem::take(&mut pending.lateness);
        lateness.sort_unstable_by_key(|(w, _)| *w);
        for chunk in lateness.chunk_by(|a, b| a.0 == b.0) {
            if let Some(window) = self.windows.get_mut(chunk[0].0) {
                let mut values: Vec<u32> = chunk.iter().map(|(_, v)| *v).collect();
                window.lateness.add_values(&mut values);
            }
        }
    }

    /// Adds the series of another part of the same run (a segment) into this one: rows and
    /// windows at the same times add up; users add up (each part's count holds until its
    /// next tick).
    pub fn absorb(&mut self, other: &Series) {
        let mut other = other.clone();
        while self.row_ms < other.row_ms {
            self.coarsen();
        }
        while other.row_ms < self.row_ms {
            other.coarsen();
        }
        let mine = self.ticked_users();
        let theirs = other.ticked_users();
        let n = self.rows.len().max(other.rows.len());
        self.rows.resize_with(n, Row::default);
        for (i, row) in self.rows.iter_mut().enumerate() {
            if let Some(o) = other.rows.get(i) {
                row.absorb(o);
            }
            let a = mine.get(i).or(mine.last()).cloned().flatten();
            let b = theirs.get(i).or(theirs.last()).cloned().flatten();
            if a.is_some() || b.is_some() {
                let (ua, ca) = a.unwrap_or_default();
                let (ub, cb) = b.unwrap_or_default();
                row.users = Some(ua + ub);
                let len = ca.len().max(cb.len());
                row.class_users = (0..len)
                    .map(|c| ca.get(c).copied().unwrap_or(0) + cb.get(c).copied().unwrap_or(0))
                    .collect();
            }
        }
        let w = self.windows.len().max(other.windows.len());
        self.windows.resize_with(w, Window::default);
        for (i, window) in self.windows.iter_mut().enumerate() {
            if let Some(o) = other.windows.get(i) {
                window.absorb(o);
            }
        }
    }

    /// Users (total, per class) in force at each row: a row without a tick keeps the
    /// previous row's; `None` before the first tick.
    fn ticked_users(&self) -> Vec<Option<(u32, Vec<u32>)>> {
        let mut current = None;
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            if let Some(u) = row.users {
                current = Some((u, row.class_users.clone()));
            }
            out.push(current.clone());
        }
        out
    }

    /// Like [`ticked_users`](Self::ticked_users), with no users before the first tick.
    fn users_by_row(&self) -> Vec<(u32, Vec<u32>)> {
        self.ticked_users()
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    }

    /// Everything completed in rows `from..=to` of request `stat` (`None`: all requests).
    fn counts(&self, stat: Option<StatId>, rows: std::ops::RangeInclusive<usize>) -> Counts {
        let mut c = Counts::default();
        let (from, to) = (
            *rows.start(),
            (*rows.end()).min(self.rows.len().saturating_sub(1)),
        );
        for row in self.rows.get(from..=to).into_iter().flatten() {
            match stat {
                None => c.absorb(&row.total),
                Some(s) => {
                    if let Some(e) = row.entry(s) {
                        c.absorb(e);
                    }
                }
            }
        }
        c
    }

    /// The time points a report draws and Locust's history file lists: one per row up to
    /// `elapsed_ms` (at least one), with per-request figures when `with_entries` (for
    /// `--csv-full-history`; `entries` holds `entry_count` requests).
    pub fn points(
        &self,
        started_at_ms: i64,
        elapsed_ms: u64,
        entry_count: usize,
        with_entries: bool,
    ) -> Vec<TimePoint> {
        let mut out = Vec::new();
        self.visit_points(started_at_ms, elapsed_ms, entry_count, with_entries, |p| {
            out.push(p.clone())
        });
        out
    }

    /// [`points`](Self::points) one at a time, without keeping them.
    pub fn visit_points(
        &self,
        started_at_ms: i64,
        elapsed_ms: u64,
        entry_count: usize,
        with_entries: bool,
        mut visit: impl FnMut(&TimePoint),
    ) {
        let n = (elapsed_ms.div_ceil(self.row_ms) as usize).max(1);
        let users = self.users_by_row();
        let width_s = self.row_ms as f64 / 1000.0;
        let mut total = Cumulative::default();
        let mut entries: Vec<Cumulative> = if with_entries {
            vec![Cumulative::default(); entry_count]
        } else {
            Vec::new()
        };
        let mut last_row: Option<usize> = None;
        let mut last_row_of: Vec<Option<usize>> = vec![None; entry_count];
        for i in 0..n {
            let row = self.rows.get(i);
            if let Some(row) = row {
                total.add(&row.total);
                if row.total.requests > 0 {
                    last_row = Some(i);
                }
                for (stat, c) in &row.entries {
                    if let Some(slot) = last_row_of.get_mut(*stat as usize)
                        && c.requests > 0
                    {
                        *slot = Some(i);
                    }
                    if let Some(e) = entries.get_mut(*stat as usize) {
                        e.add(c);
                    }
                }
            }
            let point_ms = ((i as u64 + 1) * self.row_ms).min(elapsed_ms.max(1));
            let rate = |stat: Option<StatId>, pick: fn(&Counts) -> u64| -> f64 {
                let Some(last) = last_row else { return 0.0 };
                locust::current_rate(last as u64, |r| {
                    self.rows.get(r as usize).map_or(0, |row| match stat {
                        None => pick(&row.total),
                        Some(s) => row.entry(s).map_or(0, pick),
                    })
                }) / width_s
            };
            let from = (i + 1).saturating_sub(locust::CURRENT_WINDOW_SECS as usize);
            let stats = |stat: Option<StatId>, c: &Cumulative, cumulative: bool| -> PointStats {
                let window = self.counts(stat, from..=i);
                let mut current = Buckets::new();
                window.buckets.add_to(&mut current);
                PointStats {
                    rps: rate(stat, |c| c.requests),
                    fps: rate(stat, |c| c.failures),
                    current_ms: (window.requests > 0)
                        .then(|| locust::percentiles(&current, window.requests)),
                    cumulative_ms: (cumulative && c.counts.requests > 0)
                        .then(|| locust::percentiles(&c.buckets, c.counts.requests)),
                    requests: c.counts.requests,
                    failures: c.counts.failures,
                    median: c.median(),
                    avg_ms: c.avg_ms(),
                    min_ms: c.counts.min_us.map_or(0.0, us_to_ms),
                    max_ms: c.counts.max_us.map_or(0.0, us_to_ms),
                    avg_content_size: if c.counts.requests == 0 {
                        0.0
                    } else {
                        c.counts.bytes as f64 / c.counts.requests as f64
                    },
                }
            };
            let window = self.windows.get(i / WINDOW_ROWS);
            let quantiles = |h: Option<&SparseHistogram>| {
                h.filter(|h| !h.is_empty())
                    .map(|h| [50.0, 95.0, 99.0].map(|p| h.percentile(p).map_or(0.0, us_to_ms)))
            };
            let (u, class_users) = users.get(i).or(users.last()).cloned().unwrap_or_default();
            let point = TimePoint {
                elapsed_ms: point_ms,
                timestamp: (started_at_ms + point_ms as i64).div_euclid(1000),
                users: u as usize,
                class_users,
                total: stats(None, &total, true),
                entries: entries
                    .iter()
                    .enumerate()
                    .map(|(s, c)| {
                        (c.counts.requests > 0).then(|| stats(Some(s as StatId), c, false))
                    })
                    .collect(),
                window_ms: quantiles(window.map(|w| &w.total.latency)),
                window_corrected_ms: quantiles(window.map(|w| &w.total.corrected)),
                dropped: row.map_or(0, |r| r.dropped),
            };
            visit(&point);
        }
    }
}

/// Merges neighbouring pairs of a list.
fn merge_pairs<T>(items: Vec<T>, mut merge: impl FnMut(&mut T, T)) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len().div_ceil(2));
    let mut iter = items.into_iter();
    while let Some(mut a) = iter.next() {
        if let Some(b) = iter.next() {
            merge(&mut a, b);
        }
        out.push(a);
    }
    out
}

/// Running totals while the points are derived.
#[derive(Debug, Clone, Default)]
struct Cumulative {
    counts: Counts,
    buckets: Buckets,
}

impl Cumulative {
    fn add(&mut self, c: &Counts) {
        let t = &mut self.counts;
        t.requests += c.requests;
        t.failures += c.failures;
        t.bytes += c.bytes;
        t.latency_sum_us += c.latency_sum_us;
        t.min_us = min_opt(t.min_us, c.min_us);
        t.max_us = max_opt(t.max_us, c.max_us);
        c.buckets.add_to(&mut self.buckets);
    }

    fn median(&self) -> Option<Median> {
        locust::clamped_median(
            &self.buckets,
            self.counts.requests,
            self.counts.min_us.map_or(0.0, us_to_ms),
            self.counts.max_us.map_or(0.0, us_to_ms),
        )
    }

    fn avg_ms(&self) -> f64 {
        if self.counts.requests == 0 {
            0.0
        } else {
            self.counts.latency_sum_us as f64 / (self.counts.requests as f64 * 1000.0)
        }
    }
}

/// The statistics at one second of the run, derived from the raw series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// The end of the second, ms since the run started (the run's end for the last one).
    pub elapsed_ms: u64,
    /// The same instant as Unix seconds (UTC), Locust's `Timestamp` column.
    pub timestamp: i64,
    /// Running virtual users at that time.
    pub users: usize,
    /// Users per class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_users: Vec<u32>,
    /// All requests ("Aggregated").
    pub total: PointStats,
    /// Per request, indexed like `Summary::entries` (by `StatId`); `None` while a request had
    /// not been made yet, and empty unless asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Option<PointStats>>,
    /// p50, p95, p99 in ms of the requests completed in the ten-second window of this point
    /// (HDR, 2 significant digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<[f64; 3]>,
    /// The same for the latency from the intended start, when the run has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_corrected_ms: Option<[f64; 3]>,
    /// Iterations the open model could not start in this second.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

/// One entry's statistics at a point. Rates and `current_ms` describe the last seconds
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(stat: StatId, elapsed_ms: u32, latency_ms: u32, failed: bool) -> Sample {
        Sample {
            stat,
            elapsed_ms,
            latency_us: latency_ms * 1000,
            ttfb_us: 0,
            bytes: 10,
            lag_us: 0,
            status: 200,
            scheduled: false,
            failure: failed.then(|| {
                Box::new(super::super::sample::Failure::new(
                    super::super::sample::FailureKind::Http5xx,
                    "",
                ))
            }),
        }
    }

    fn series(samples: &[Sample]) -> Series {
        let mut s = Series::new();
        let mut p = Pending::default();
        for x in samples {
            s.record(x, &mut p);
        }
        s.flush(&mut p);
        s
    }

    #[test]
    fn rates_follow_locust() {
        let mut samples = Vec::new();
        for sec in 0..=20u32 {
            for i in 0..10 {
                samples.push(sample(0, sec * 1000 + i * 10, 5, i == 0));
            }
        }
        let s = series(&samples);
        let points = s.points(0, 21_000, 1, false);
        assert_eq!(points.len(), 21);
        let last = &points[20];
        assert_eq!((last.total.rps, last.total.fps), (10.0, 1.0));
        assert_eq!(points[0].total.rps, 0.0);
        // Newest request in second 3: window is seconds 0..=0.
        let s = series(&[
            sample(0, 0, 5, false),
            sample(0, 1000, 5, false),
            sample(0, 3000, 5, false),
        ]);
        assert_eq!(s.points(0, 4000, 1, false)[3].total.rps, 1.0);
    }

    #[test]
    fn current_percentiles_cover_ten_seconds() {
        let mut samples = vec![sample(0, 0, 1000, false)];
        for sec in 1..=10 {
            samples.push(sample(0, sec * 1000, 10, false));
        }
        let s = series(&samples);
        let points = s.points(0, 11_000, 1, true);
        assert_eq!(points[9].total.current_ms.unwrap()[10], 1000);
        assert_eq!(points[10].total.current_ms, Some([10; 11]));
        assert_eq!(points[10].total.cumulative_ms.unwrap()[10], 1000);
        let e = points[10].entries[0].as_ref().unwrap();
        assert_eq!(e.requests, 11);
        assert_eq!(e.current_ms, Some([10; 11]));
        assert_eq!(e.cumulative_ms, None);
        // Two significant digits: 10 ms is filed as 10 to 10.047 ms.
        let w = points[10].window_ms.unwrap();
        assert!(w.iter().all(|ms| (10.0..10.1).contains(ms)), "{w:?}");
    }

    #[test]
    fn two_parts_add_up_to_the_whole() {
        let samples: Vec<Sample> = (0..4000u32)
            .map(|i| sample(i % 3, i * 7, 1 + (i * 37) % 900, i % 11 == 0))
            .collect();
        let whole = series(&samples);
        let (a, b): (Vec<Sample>, Vec<Sample>) =
            samples.iter().cloned().partition(|s| s.latency_us % 2 == 0);
        let mut merged = series(&a);
        merged.absorb(&series(&b));
        assert_eq!(merged.rows.len(), whole.rows.len());
        assert_eq!(merged, whole);
        assert_eq!(
            merged.points(0, 28_000, 3, true),
            whole.points(0, 28_000, 3, true)
        );
    }

    #[test]
    fn long_runs_keep_a_bounded_number_of_rows() {
        let mut s = Series::new();
        let mut p = Pending::default();
        for sec in 0..(3 * MAX_ROWS as u32) {
            s.record(&sample(0, sec * 1000, 5, false), &mut p);
        }
        s.flush(&mut p);
        assert!(s.rows.len() <= MAX_ROWS, "{}", s.rows.len());
        assert_eq!(s.row_ms, 4000);
        assert_eq!(
            s.rows.iter().map(|r| r.total.requests).sum::<u64>(),
            3 * MAX_ROWS as u64
        );
        let points = s.points(0, 3 * MAX_ROWS as u64 * 1000, 1, false);
        assert_eq!(points.len(), s.rows.len());
        // 1 request a second, rows of 4 s: the rate is still per second.
        assert_eq!(points.last().unwrap().total.rps, 1.0);
    }

    #[test]
    fn users_hold_until_the_next_tick_and_add_up_across_parts() {
        let mut a = Series::new();
        let mut p = Pending::default();
        a.set_users(0, &[1, 2], &mut p);
        a.set_users(3500, &[2, 2], &mut p);
        let mut b = Series::new();
        b.set_users(1500, &[0, 5], &mut p);
        a.absorb(&b);
        let points = a.points(0, 4000, 0, false);
        let users: Vec<usize> = points.iter().map(|p| p.users).collect();
        assert_eq!(users, [3, 8, 8, 9]);
        assert_eq!(points[3].class_users, [2, 7]);
    }
}
