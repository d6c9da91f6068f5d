//! A deterministic stand-in for a run session, for testing the web UI without a network:
//! users follow `start`/`set_users`/`stop` at the spawn rate, each tick is one simulated
//! second of Kibray-like traffic (rows, failures, scenario errors, thresholds, logs), and
//! the numbers depend only on the tick count and the users, never on the clock.
//!
//! Downloads are the real renderers' output for the report fixture run
//! (`report::golden::fixture`), not this fake's numbers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::watch;

use super::controller::{
    ClassView, Controller, Download, LoadModel, PlanView, StageView, StartRequest, TaskView,
};
use super::snapshot::{
    ClassRatio, ClassUsers, CurrentPercentiles, FailureRow, History, HistoryPoint, LogLine,
    MAX_HISTORY, RunState, ScenarioError, StatRow, ThresholdStatus, ThresholdView, UiSnapshot,
};
use crate::ir::{UserClass, WaitTime};
use crate::metrics::locust::{self, Buckets};
use crate::report;
use crate::runtime::dispatch;

/// Unix time of the fake's first tick: 2026-11-27T08:00:00Z.
const EPOCH: f64 = 1_795_766_400.0;

/// Seconds of per-second counts kept per name (Locust's rate window reaches 12 s back).
const WINDOW: usize = 12;

/// How the fake behaves.
#[derive(Debug, Clone)]
pub(crate) struct FakeConfig {
    /// Request names beyond the Kibray ones (`/api/v1/items/<n>/`), to test many rows.
    pub(crate) extra_names: usize,
    /// The plan's load model.
    pub(crate) load: LoadModel,
    /// Whether percentiles corrected for coordinated omission are reported.
    pub(crate) corrected: bool,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            extra_names: 0,
            load: LoadModel::Closed,
            corrected: true,
        }
    }
}

/// One request name of the fake traffic.
struct Name {
    method: &'static str,
    name: String,
    /// Requests per user per second.
    per_user: f64,
    /// Median latency in ms at no load.
    base_ms: f64,
    /// Every n-th request fails with `message`.
    fail_every: Option<(u64, &'static str, &'static str)>,
}

/// The statistics of one name.
#[derive(Default, Clone)]
struct Entry {
    requests: u64,
    failures: u64,
    sum_ms: f64,
    min_ms: Option<f64>,
    max_ms: f64,
    bytes: u64,
    buckets: Buckets,
    /// (second, requests, failures, buckets) of the last seconds.
    recent: VecDeque<(u64, u64, u64, Buckets)>,
}

impl Entry {
    fn record(&mut self, sec: u64, ms: f64, bytes: u64, failed: bool) {
        let us = (ms * 1000.0) as u32;
        let bucket = locust::bucket_us(us);
        self.requests += 1;
        self.failures += u64::from(failed);
        self.sum_ms += ms;
        self.min_ms = Some(self.min_ms.map_or(ms, |m| m.min(ms)));
        self.max_ms = self.max_ms.max(ms);
        self.bytes += bytes;
        *self.buckets.entry(bucket).or_default() += 1;
        if self.recent.back().is_none_or(|r| r.0 != sec) {
            self.recent.push_back((sec, 0, 0, Buckets::new()));
            if self.recent.len() > WINDOW {
                self.recent.pop_front();
            }
        }
        if let Some(last) = self.recent.back_mut() {
            last.1 += 1;
            last.2 += u64::from(failed);
            *last.3.entry(bucket).or_default() += 1;
        }
    }

    fn count_at(&self, sec: u64, failures: bool) -> u64 {
        self.recent
            .iter()
            .find(|r| r.0 == sec)
            .map_or(0, |r| if failures { r.2 } else { r.1 })
    }

    /// Locust's percentile of the last 10 seconds up to `now`.
    fn current(&self, now: u64, p: f64) -> Option<f64> {
        let mut merged = Buckets::new();
        let mut n = 0;
        for (sec, requests, _, buckets) in &self.recent {
            if sec + 10 > now {
                locust::merge(&mut merged, buckets);
                n += requests;
            }
        }
        (n > 0).then(|| f64::from(locust::percentile(&merged, n, p)))
    }

    fn row(&self, method: &str, name: &str, now: u64, elapsed: u64) -> StatRow {
        let mut row = StatRow::new(method, name);
        if self.requests == 0 {
            return row;
        }
        let n = self.requests;
        let min = self.min_ms.unwrap_or(0.0);
        row.num_requests = n;
        row.num_failures = self.failures;
        row.median_response_time =
            locust::clamped_median(&self.buckets, n, min, self.max_ms).map_or(0.0, |m| m.ms);
        row.p90_response_time = locust::percentile(&self.buckets, n, 0.90);
        row.p95_response_time = locust::percentile(&self.buckets, n, 0.95);
        row.p99_response_time = locust::percentile(&self.buckets, n, 0.99);
        row.avg_response_time = self.sum_ms / n as f64;
        row.min_response_time = min;
        row.max_response_time = self.max_ms;
        row.avg_content_length = self.bytes as f64 / n as f64;
        row.current_rps = locust::current_rate(now, |s| self.count_at(s, false));
        row.current_fail_per_sec = locust::current_rate(now, |s| self.count_at(s, true));
        let secs = elapsed.max(1) as f64;
        row.total_rps = n as f64 / secs;
        row.total_fail_per_sec = self.failures as f64 / secs;
        row
    }
}

/// Everything that changes.
struct State {
    state: RunState,
    host: String,
    /// Simulated seconds since the process "started" (never reset: times stay increasing).
    clock: u64,
    /// `clock` when the current test started.
    started: u64,
    users: f64,
    target: u32,
    spawn_rate: f64,
    run_time: Option<Duration>,
    classes: Vec<String>,
    entries: Vec<Entry>,
    total: Entry,
    history: History,
    failures: Vec<FailureRow>,
    scenario_errors: Vec<ScenarioError>,
    logs: VecDeque<LogLine>,
    warnings: Vec<String>,
    /// Requests made so far, for deterministic draws.
    draws: u64,
}

/// The fake run session.
pub(crate) struct FakeController {
    config: FakeConfig,
    plan: PlanView,
    ir_classes: Vec<UserClass>,
    names: Vec<Name>,
    state: Mutex<State>,
    sender: watch::Sender<Arc<UiSnapshot>>,
}

fn class(name: &str, weight: u32, fixed_count: Option<u32>) -> UserClass {
    UserClass {
        name: name.into(),
        weight,
        fixed_count,
        tags: vec![],
        wait: WaitTime::Constant(Duration::ZERO),
        host: None,
        headers: vec![],
        lets: vec![],
        feeds: vec![],
        on_start: vec![],
        on_stop: vec![],
        tasks: vec![],
        span: Default::default(),
    }
}

fn tasks(pairs: &[(&str, u32)]) -> Vec<TaskView> {
    pairs
        .iter()
        .map(|(name, weight)| TaskView {
            name: (*name).to_owned(),
            weight: *weight,
        })
        .collect()
}

/// splitmix64 of `x`, as a number in `0..1`.
fn unit(x: u64) -> f64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

impl FakeController {
    /// A fake at state `ready` with the Kibray plan (three classes, weights 10/1/2).
    pub(crate) fn new(config: FakeConfig) -> Arc<FakeController> {
        let classes = vec![
            ClassView {
                name: "KibrayUser".into(),
                weight: 10,
                fixed_count: None,
                tasks: tasks(&[
                    ("view_dashboard", 3),
                    ("list_projects", 5),
                    ("view_project", 2),
                    ("list_tasks", 4),
                    ("create_task", 1),
                ]),
            },
            ClassView {
                name: "AdminUser".into(),
                weight: 1,
                fixed_count: None,
                tasks: tasks(&[("admin_dashboard", 2), ("export_data", 1)]),
            },
            ClassView {
                name: "APIOnlyUser".into(),
                weight: 2,
                fixed_count: None,
                tasks: tasks(&[("sync", 3), ("upload_photo", 1)]),
            },
        ];
        let edit_rule = match config.load {
            LoadModel::Closed => "Edit ramps to the new user count at the new spawn rate.",
            _ => {
                "Edit replaces the scenario's load profile by a fixed user count for the rest of the test."
            }
        };
        let plan = PlanView {
            scenario: "Kibray API".into(),
            file: "scenarios/kibray.kload".into(),
            host: "http://127.0.0.1:8000".into(),
            users: 20,
            spawn_rate: 5.0,
            run_time_ms: None,
            classes: classes.clone(),
            load: config.load.clone(),
            edit_rule: edit_rule.into(),
            thresholds: vec![
                "p95(tag list) < 800ms".into(),
                "error_rate < 1% abort".into(),
                "p99(/api/v1/reports/) < 1s".into(),
            ],
        };
        let ir_classes = classes
            .iter()
            .map(|c| class(&c.name, c.weight, c.fixed_count))
            .collect();
        let mut names = vec![
            Name {
                method: "POST",
                name: "login".into(),
                per_user: 0.02,
                base_ms: 180.0,
                fail_every: Some((37, "rate_limited", "HTTP 429 Too Many Requests")),
            },
            Name {
                method: "GET",
                name: "/api/v1/projects/".into(),
                per_user: 0.30,
                base_ms: 55.0,
                fail_every: Some((41, "http_5xx", "HTTP 500 Internal Server Error")),
            },
            Name {
                method: "GET",
                name: "/api/v1/projects/[id]/".into(),
                per_user: 0.12,
                base_ms: 35.0,
                fail_every: None,
            },
            Name {
                method: "GET",
                name: "/api/v1/tasks/".into(),
                per_user: 0.22,
                base_ms: 65.0,
                fail_every: None,
            },
            Name {
                method: "POST",
                name: "/api/v1/tasks/".into(),
                per_user: 0.06,
                base_ms: 110.0,
                fail_every: Some((23, "check", "check failed: status 201 expected, got 400")),
            },
            Name {
                method: "GET",
                name: "/api/v1/bi/kpis/".into(),
                per_user: 0.15,
                base_ms: 150.0,
                fail_every: None,
            },
            Name {
                method: "GET",
                name: "/api/v1/dashboards/admin/".into(),
                per_user: 0.03,
                base_ms: 550.0,
                fail_every: Some((29, "timeout", "timed out after 5s")),
            },
            Name {
                method: "POST",
                name: "/api/v1/site-photos/".into(),
                per_user: 0.02,
                base_ms: 280.0,
                fail_every: None,
            },
        ];
        for i in 0..config.extra_names {
            names.push(Name {
                method: "GET",
                name: format!("/api/v1/items/{i:04}/"),
                per_user: 0.01,
                base_ms: 20.0 + (i % 50) as f64,
                fail_every: None,
            });
        }
        let host = plan.host.clone();
        let (sender, _) = watch::channel(Arc::new(UiSnapshot::ready(host.clone())));
        let fake = Arc::new(FakeController {
            config,
            plan,
            ir_classes,
            state: Mutex::new(State {
                state: RunState::Ready,
                host,
                clock: 0,
                started: 0,
                users: 0.0,
                target: 0,
                spawn_rate: 1.0,
                run_time: None,
                classes: Vec::new(),
                entries: names.iter().map(|_| Entry::default()).collect(),
                total: Entry::default(),
                history: History::new(MAX_HISTORY),
                failures: Vec::new(),
                scenario_errors: Vec::new(),
                logs: VecDeque::new(),
                warnings: Vec::new(),
                draws: 0,
            }),
            names,
            sender,
        });
        fake.publish(&mut fake.lock());
        fake
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ticks every `period` of real time until the fake is dropped.
    pub(crate) fn tick_every(self: &Arc<Self>, period: Duration) {
        let weak: Weak<FakeController> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.tick().await;
            loop {
                interval.tick().await;
                match weak.upgrade() {
                    Some(fake) => fake.tick(),
                    None => return,
                }
            }
        });
    }

    /// Advances one simulated second.
    pub(crate) fn tick(&self) {
        let mut s = self.lock();
        s.clock += 1;
        match s.state {
            RunState::Ready | RunState::Stopped => {}
            RunState::Stopping => {
                s.users = 0.0;
                s.state = RunState::Stopped;
                log(&mut s, "INFO", "All users stopped: the test is over".into());
            }
            RunState::Spawning | RunState::Running => {
                let target = f64::from(s.target);
                let step = s.spawn_rate;
                if s.users < target {
                    s.users = (s.users + step).min(target);
                } else {
                    s.users = (s.users - step).max(target);
                }
                if s.state == RunState::Spawning && s.users == target {
                    s.state = RunState::Running;
                    let message = format!("All {} users spawned", s.target);
                    log(&mut s, "INFO", message);
                }
                self.traffic(&mut s);
                let elapsed = s.clock - s.started;
                if s.run_time.is_some_and(|t| elapsed >= t.as_secs()) {
                    s.state = RunState::Stopping;
                    log(&mut s, "INFO", "Run time limit reached, stopping".into());
                }
            }
        }
        self.publish(&mut s);
    }

    /// One second of requests by the current users.
    fn traffic(&self, s: &mut State) {
        let users = s.users.round() as u64;
        let sec = s.clock;
        for (i, name) in self.names.iter().enumerate() {
            let n = if users == 0 {
                0
            } else {
                1 + (users as f64 * name.per_user) as u64
            };
            for _ in 0..n {
                s.draws += 1;
                let draw = s.draws;
                let r = unit(draw);
                let tail = if unit(draw ^ 0xABCD) < 0.04 { 3.0 } else { 1.0 };
                let ms = name.base_ms * (1.0 + 0.01 * users as f64) * (0.6 + 0.8 * r) * tail;
                let failed = name
                    .fail_every
                    .filter(|(every, _, _)| draw.is_multiple_of(*every));
                let bytes = 200 + (r * 4000.0) as u64;
                s.entries[i].record(sec, ms, bytes, failed.is_some());
                s.total.record(sec, ms, bytes, failed.is_some());
                if let Some((_, kind, message)) = failed {
                    let time = EPOCH + sec as f64;
                    match s.failures.iter_mut().find(|f| {
                        f.name == name.name && f.method == name.method && f.message == message
                    }) {
                        Some(f) => {
                            f.occurrences += 1;
                            f.last_seen = time;
                        }
                        None => s.failures.push(FailureRow {
                            method: name.method.into(),
                            name: name.name.clone(),
                            kind: kind.into(),
                            message: message.into(),
                            occurrences: 1,
                            first_seen: time,
                            last_seen: time,
                        }),
                    }
                }
            }
        }
        s.failures.sort_by(|a, b| {
            b.occurrences
                .cmp(&a.occurrences)
                .then_with(|| a.name.cmp(&b.name))
        });
        let elapsed = sec - s.started;
        if users > 0 && elapsed % 4 == 2 {
            let time = EPOCH + sec as f64;
            match s.scenario_errors.first_mut() {
                Some(e) => {
                    e.count += 1;
                    e.last_seen = time;
                }
                None => s.scenario_errors.push(ScenarioError {
                    message: "capture `project_ids`: jsonpath `$.results[*].id` matched nothing"
                        .into(),
                    file: self.plan.file.clone(),
                    line: 39,
                    column: 7,
                    source_line: "      capture project_ids = jsonpath \"$.results[*].id\"".into(),
                    count: 1,
                    first_seen: time,
                    last_seen: time,
                }),
            }
        }
        let point = HistoryPoint {
            time: EPOCH + sec as f64,
            user_count: users as u32,
            rps: locust::current_rate(sec, |x| s.total.count_at(x, false)),
            fps: locust::current_rate(sec, |x| s.total.count_at(x, true)),
            p50: s.total.current(sec, 0.5),
            p95: s.total.current(sec, 0.95),
            p99: s.total.current(sec, 0.99),
            corrected_p50: None,
            corrected_p95: None,
            corrected_p99: None,
        };
        let point = if self.config.corrected {
            HistoryPoint {
                corrected_p50: point.p50.map(|p| p * 1.1),
                corrected_p95: point.p95.map(|p| p * 1.4),
                corrected_p99: point.p99.map(|p| p * 1.8),
                ..point
            }
        } else {
            point
        };
        s.history.push(point);
    }

    /// Makes the snapshot of `s` and sends it to subscribers.
    fn publish(&self, s: &mut State) {
        let now = s.clock;
        let elapsed = now - s.started;
        let users = s.users.round() as u32;
        let active: Vec<usize> = (0..self.plan.classes.len())
            .filter(|&i| s.classes.is_empty() || s.classes.contains(&self.plan.classes[i].name))
            .collect();
        let selected: Vec<UserClass> = active
            .iter()
            .map(|&i| {
                let c = &self.ir_classes[i];
                class(&c.name, c.weight, c.fixed_count)
            })
            .collect();
        let counts = dispatch::counts(&selected, users);
        let mut per_class = vec![0u32; self.plan.classes.len()];
        for (&i, &n) in active.iter().zip(&counts) {
            per_class[i] = n;
        }
        let classes = self
            .plan
            .classes
            .iter()
            .zip(&per_class)
            .map(|(c, &n)| ClassUsers {
                name: c.name.clone(),
                users: n,
            })
            .collect();
        let task_ratios = self
            .plan
            .classes
            .iter()
            .zip(&per_class)
            .map(|(c, &n)| {
                ClassRatio::of(
                    &c.name,
                    c.tasks.iter().map(|t| (t.name.as_str(), t.weight)),
                    n,
                    users,
                )
            })
            .collect();
        let stats = self
            .names
            .iter()
            .zip(&s.entries)
            .filter(|(_, e)| e.requests > 0)
            .map(|(n, e)| e.row(n.method, &n.name, now, elapsed))
            .collect();
        let total = s.total.row("", "Aggregated", now, elapsed);
        let p95 = (total.num_requests > 0).then_some(total.p95_response_time);
        let error_rate = (total.num_requests > 0).then(|| total.fail_ratio());
        let thresholds = vec![
            ThresholdView {
                source: "p95(tag list) < 800ms".into(),
                status: match p95 {
                    None => ThresholdStatus::NoData,
                    Some(p) if p < 800 => ThresholdStatus::Passing,
                    Some(_) => ThresholdStatus::Failing,
                },
                observed: p95.map(|p| format!("{p} ms")),
                warn_only: false,
                aborts: false,
                would_abort: false,
            },
            {
                let failing = error_rate.is_some_and(|r| r >= 0.01);
                ThresholdView {
                    source: "error_rate < 1% abort".into(),
                    status: match error_rate {
                        None => ThresholdStatus::NoData,
                        Some(_) if failing => ThresholdStatus::Failing,
                        Some(_) => ThresholdStatus::Passing,
                    },
                    observed: error_rate.map(|r| format!("{:.2}%", r * 100.0)),
                    warn_only: false,
                    aborts: true,
                    would_abort: failing && total.num_requests >= 100,
                }
            },
            ThresholdView {
                source: "p99(/api/v1/reports/) < 1s".into(),
                status: ThresholdStatus::NoData,
                observed: None,
                warn_only: true,
                aborts: false,
                would_abort: false,
            },
        ];
        let current = CurrentPercentiles {
            p50: s.total.current(now, 0.5),
            p95: s.total.current(now, 0.95),
            p99: s.total.current(now, 0.99),
            corrected: None,
        };
        let snapshot = UiSnapshot {
            state: s.state,
            host: s.host.clone(),
            started_at: (s.state != RunState::Ready).then_some(EPOCH + s.started as f64),
            elapsed_ms: elapsed * 1000,
            run_time_ms: s.run_time.map(|t| t.as_millis() as u64),
            user_count: users,
            target_users: s.target,
            spawn_rate: s.spawn_rate,
            classes,
            stats,
            total,
            current,
            history: s.history.points(),
            failures: s.failures.clone(),
            scenario_errors: s.scenario_errors.clone(),
            task_ratios,
            thresholds,
            logs: s.logs.iter().cloned().collect(),
            warnings: s.warnings.clone(),
        };
        self.sender.send_replace(Arc::new(snapshot));
    }

    fn clear_stats(&self, s: &mut State) {
        s.entries = self.names.iter().map(|_| Entry::default()).collect();
        s.total = Entry::default();
        s.history.clear();
        s.failures.clear();
        s.scenario_errors.clear();
    }
}

fn log(s: &mut State, level: &str, message: String) {
    s.logs.push_back(LogLine {
        time: EPOCH + s.clock as f64,
        level: level.into(),
        message,
    });
    // Bounded like a real session's log.
    if s.logs.len() > 1000 {
        s.logs.pop_front();
    }
}

impl Controller for FakeController {
    fn plan(&self) -> PlanView {
        self.plan.clone()
    }

    fn split(&self, users: u32, classes: &[String]) -> Vec<u32> {
        let active: Vec<usize> = (0..self.ir_classes.len())
            .filter(|&i| classes.is_empty() || classes.contains(&self.ir_classes[i].name))
            .collect();
        let selected: Vec<UserClass> = active
            .iter()
            .map(|&i| {
                let c = &self.ir_classes[i];
                class(&c.name, c.weight, c.fixed_count)
            })
            .collect();
        let mut out = vec![0; self.ir_classes.len()];
        for (&i, n) in active.iter().zip(dispatch::counts(&selected, users)) {
            out[i] = n;
        }
        out
    }

    fn start(&self, request: StartRequest) -> Result<(), String> {
        let mut s = self.lock();
        if matches!(
            s.state,
            RunState::Spawning | RunState::Running | RunState::Stopping
        ) {
            return Err("a test is already running: stop it first".into());
        }
        self.clear_stats(&mut s);
        let (users, rate) = match (request.users, request.spawn_rate, &self.plan.load) {
            (Some(u), Some(r), _) => (u, r),
            (_, _, LoadModel::Stages { stages }) => (
                stages.iter().map(|st| st.users).max().unwrap_or(0),
                self.plan.spawn_rate,
            ),
            (_, _, LoadModel::ArrivalRate { max_users, .. }) => (*max_users, self.plan.spawn_rate),
            (_, _, LoadModel::Closed) => (self.plan.users, self.plan.spawn_rate),
        };
        s.state = RunState::Spawning;
        s.started = s.clock;
        s.users = 0.0;
        s.target = users;
        s.spawn_rate = rate;
        s.host = request.host.unwrap_or_else(|| self.plan.host.clone());
        s.run_time = request.run_time;
        s.classes = request.classes;
        s.warnings.clear();
        let message = format!("Ramping to {users} users at a rate of {rate} per second");
        log(&mut s, "INFO", message);
        self.publish(&mut s);
        Ok(())
    }

    fn set_users(&self, users: u32, spawn_rate: f64) -> Result<String, String> {
        let mut s = self.lock();
        if !s.state.is_active() {
            return Err("no test is running".into());
        }
        s.target = users;
        s.spawn_rate = spawn_rate;
        s.state = RunState::Spawning;
        let message = match self.plan.load {
            LoadModel::Closed => format!("ramping to {users} users at {spawn_rate} users/s"),
            _ => format!("load profile replaced by a fixed count of {users} users"),
        };
        log(&mut s, "INFO", format!("Users changed: {message}"));
        self.publish(&mut s);
        Ok(message)
    }

    fn stop(&self) {
        let mut s = self.lock();
        if s.state.is_active() {
            s.state = RunState::Stopping;
            log(&mut s, "INFO", "Stop asked from the web UI".into());
            self.publish(&mut s);
        }
    }

    fn reset_stats(&self) {
        let mut s = self.lock();
        self.clear_stats(&mut s);
        log(&mut s, "INFO", "Statistics reset".into());
        self.publish(&mut s);
    }

    fn snapshot(&self) -> Arc<UiSnapshot> {
        Arc::clone(&self.sender.borrow())
    }

    fn subscribe(&self) -> watch::Receiver<Arc<UiSnapshot>> {
        self.sender.subscribe()
    }

    fn download(&self, what: Download) -> Result<Vec<u8>, String> {
        let summary = report::golden::fixture();
        what.render(&summary)
    }
}

/// A stages plan for tests of the optional users of `/swarm`.
pub(crate) fn stages() -> LoadModel {
    LoadModel::Stages {
        stages: vec![
            StageView {
                users: 30,
                duration_ms: 60_000,
            },
            StageView {
                users: 30,
                duration_ms: 300_000,
            },
            StageView {
                users: 0,
                duration_ms: 60_000,
            },
        ],
    }
}
