//! The interpreter: runs a compiled plan with one tokio task per virtual user, as the load
//! [`Schedule`] says.
//!
//! The engine loop asks the schedule how many users should exist now and when that changes
//! next, and sleeps until then (no polling tick): the closed model's users start on time.
//! The open model's arrivals are paced by a thread of their own (`arrivals`), precise to a
//! fraction of a millisecond. Once a second the loop aggregates the statistics and calls the
//! observer (the session publishes snapshots from it).
//!
//! A [`Control`] is how the outside changes a run while it goes: new user target and spawn
//! rate (see `schedule` for what that means in each model), graceful stop, kill.

mod arrivals;
pub mod dispatch;
pub mod eval;
pub mod exchange;
mod h1;
pub mod http;
pub mod json;
mod pool;
pub mod signal;
#[cfg(test)]
mod tests;
pub mod tls;
pub mod transport;
pub mod user;

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use signal::Signal;
use tokio::sync::Notify;

use crate::ir::Plan;
use crate::metrics::Metrics;
use crate::schedule::{Schedule, Segment};
use crate::span::Span;
use eval::Globals;
use user::{StartError, StopTokens, TaskTable, VirtualUser};

/// Everything about a run that does not come from the scenario file, resolved (see
/// `session::config`).
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub host: Option<String>,
    pub schedule: Schedule,
    /// Stop after this long (`None`: until stopped, or the end of the stages).
    pub run_time: Option<Duration>,
    pub stop_timeout: Duration,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub seed: Option<u64>,
    pub client: http::ClientOptions,
    /// Which share of the run this process runs.
    pub segment: Segment,
    /// Classes that may get users (a web UI's class picker); empty: all.
    pub enabled_classes: Vec<bool>,
    /// Where the run keeps every secret it meets (see `redact`).
    pub secrets: Arc<crate::redact::Secrets>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RunState {
    /// Starting users towards the target.
    Spawning,
    /// At the target (or running arrivals).
    Running,
    /// Stop asked: no new users; running tasks get the stop timeout.
    Stopping,
    /// Over.
    Stopped,
}

impl RunState {
    fn from_u8(v: u8) -> RunState {
        match v {
            0 => RunState::Spawning,
            1 => RunState::Running,
            2 => RunState::Stopping,
            _ => RunState::Stopped,
        }
    }

    /// Locust's name for the state (`spawning`, `running`, `stopping`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Spawning => "spawning",
            RunState::Running => "running",
            RunState::Stopping => "stopping",
            RunState::Stopped => "stopped",
        }
    }
}

/// The knobs a controller turns while a run goes on, shared with the engine.
pub struct Control {
    schedule: Mutex<Schedule>,
    changed: Notify,
    stop: Signal,
    kill: Signal,
    interrupted: AtomicBool,
    state: AtomicU8,
    /// When the engine started (for live changes, which are relative to run time).
    started: Mutex<Option<Instant>>,
    /// Running users per class.
    class_users: Vec<AtomicU32>,
}

impl Control {
    /// Controls for a run of `schedule` over `classes` user classes.
    pub fn new(schedule: Schedule, classes: usize) -> Arc<Control> {
        Arc::new(Control {
            schedule: Mutex::new(schedule),
            changed: Notify::new(),
            stop: Signal::new(),
            kill: Signal::new(),
            interrupted: AtomicBool::new(false),
            state: AtomicU8::new(RunState::Spawning as u8),
            started: Mutex::new(None),
            class_users: (0..classes).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// Asks for `users` users at `spawn_rate` per second from now on. Returns what that means
    /// for the run's load model, in words (see `schedule::Schedule::retarget`).
    pub fn retarget(&self, users: u32, spawn_rate: f64) -> Result<String, String> {
        if !(spawn_rate.is_finite() && spawn_rate > 0.0) {
            return Err(format!(
                "the spawn rate must be a positive number, not {spawn_rate}"
            ));
        }
        if self.is_stopping() {
            return Err("the run is stopping".to_string());
        }
        let now = self.elapsed();
        let current = self.users();
        let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let change = schedule.retarget(now, current, users, spawn_rate);
        *schedule = change.schedule;
        drop(schedule);
        self.changed.notify_one();
        Ok(change.message)
    }

    /// The schedule in force.
    pub fn schedule(&self) -> Schedule {
        self.schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the run gracefully: stop spawning, let tasks finish within the stop timeout,
    /// run `on stop`.
    pub fn stop(&self) {
        self.stop.cancel();
        self.changed.notify_one();
    }

    /// Stops gracefully because of a signal (Ctrl-C, SIGTERM): the run is reported as
    /// interrupted, which is not a clean pass.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Relaxed);
        self.stop();
    }

    /// Stops at once (a second Ctrl-C): in-flight requests and `on stop` are abandoned.
    pub fn kill(&self) {
        self.stop.cancel();
        self.kill.cancel();
        self.changed.notify_one();
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> RunState {
        RunState::from_u8(self.state.load(Ordering::Relaxed))
    }

    fn set_state(&self, state: RunState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// Run time so far (zero before the engine started).
    pub fn elapsed(&self) -> Duration {
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Running users, all classes.
    pub fn users(&self) -> u32 {
        self.class_users
            .iter()
            .map(|u| u.load(Ordering::Relaxed))
            .sum()
    }

    /// Running users per class (plan order).
    pub fn class_users(&self) -> Vec<u32> {
        self.class_users
            .iter()
            .map(|u| u.load(Ordering::Relaxed))
            .collect()
    }

    /// Counts a running user of `class` until the returned guard is dropped (also when its
    /// task is aborted).
    fn count_user(self: &Arc<Self>, class: usize) -> UserCount {
        if let Some(c) = self.class_users.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        UserCount {
            control: self.clone(),
            class,
        }
    }
}

/// A running user, counted in [`Control::class_users`] while it lives.
struct UserCount {
    control: Arc<Control>,
    class: usize,
}

impl Drop for UserCount {
    fn drop(&mut self) {
        if let Some(c) = self.control.class_users.get(self.class) {
            c.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What the run shares with its users.
pub struct RunShared {
    pub globals: Globals,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
    pub seed: Option<u64>,
    pub host_override: Option<String>,
    pub client_options: http::ClientOptions,
    pub feed_cursors: Vec<AtomicUsize>,
    pub task_tables: Vec<TaskTable>,
    pub segment: Segment,
    /// The open model: users run iterations whose intended start is their arrival.
    pub open_model: bool,
    pub problems: Mutex<Problems>,
}

/// Distinct scenario errors kept (the rest are counted in the first one's total).
const MAX_SCENARIO_ERRORS: usize = 50;

/// Things that went wrong outside the measured requests, reported at the end.
#[derive(Default, Debug)]
pub struct Problems {
    /// Users that could not start (e.g. a `unique` data feed ran out), with counts.
    pub not_started: Vec<(String, u64)>,
    /// Template and capture errors at run time: the request they happened in, the message,
    /// how often.
    pub scenario_errors: Vec<(Option<Span>, String, u64)>,
}

impl RunShared {
    fn note_not_started(&self, message: String) {
        let mut p = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        match p.not_started.iter_mut().find(|(m, _)| *m == message) {
            Some((_, n)) => *n += 1,
            None => p.not_started.push((message, 1)),
        }
    }

    pub fn note_scenario_error(&self, span: Option<Span>, message: &str) {
        let message = self.globals.secrets.redact_shared(message);
        let message = message.as_ref();
        let mut p = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = p
            .scenario_errors
            .iter_mut()
            .find(|(s, m, _)| *s == span && m == message)
        {
            e.2 += 1;
        } else if p.scenario_errors.len() < MAX_SCENARIO_ERRORS {
            p.scenario_errors.push((span, message.to_string(), 1));
        } else if let Some(first) = p.scenario_errors.first_mut() {
            first.2 += 1;
        }
    }
}

/// What the run did, besides the statistics in [`Metrics`].
#[derive(Debug)]
pub struct RunOutcome {
    pub duration: Duration,
    pub peak_users: usize,
    pub problems: Problems,
    /// The threshold (as written) with `abort after` that ended the run early.
    pub aborted: Option<String>,
    pub killed: bool,
    pub interrupted: bool,
}

/// What the observer sees once a second.
pub struct Tick<'a> {
    pub elapsed: Duration,
    pub run_time: Option<Duration>,
    pub control: &'a Control,
}

/// Runs the plan until the run time is over or the controller stops it. The schedule's time
/// zero is `origin` (now, or a shared start instant of a distributed run, maybe passed);
/// `thresholds` with `abort after` can end the run early. `on_tick` is called about once a
/// second, after the statistics were aggregated.
pub async fn run(
    plan: Arc<Plan>,
    config: RunConfig,
    metrics: Arc<Metrics>,
    control: Arc<Control>,
    origin: Instant,
    thresholds: Vec<crate::ir::Threshold>,
    mut on_tick: impl FnMut(&Tick<'_>) + Send,
) -> RunOutcome {
    let started = origin;
    *control
        .started
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(started);
    let open_model = matches!(config.schedule, Schedule::Open(_));
    let shared = shared(plan.clone(), &config, metrics.clone(), started, open_model);
    let run_time = config.run_time.or_else(|| config.schedule.natural_end());
    let deadline = run_time.map(|d| tokio::time::Instant::from_std(started + d));
    let interrupt = Signal::new();
    let tokens = |stop: Signal| StopTokens {
        stop,
        interrupt: interrupt.clone(),
        kill: control.kill.clone(),
    };

    let mut pool = pool::Pool::new(
        shared.clone(),
        control.clone(),
        &config.enabled_classes,
        interrupt.clone(),
    );
    let arrivals_stop = Signal::new();
    let mut arrivals = match &config.schedule {
        Schedule::Open(rate) => Some(arrivals::Arrivals::start(
            shared.clone(),
            control.clone(),
            *rate,
            &config.enabled_classes,
            tokens(arrivals_stop.clone()),
        )),
        _ => None,
    };
    let mut aborted = None;
    let mut peak = 0usize;
    let mut next_tick = tokio::time::Instant::from_std(started) + Duration::from_secs(1);

    loop {
        let now = started.elapsed();
        let schedule = control.schedule();
        match &schedule {
            Schedule::Open(rate) => {
                if let Some(a) = &arrivals {
                    a.set_cap(rate.max_users);
                }
                control.set_state(RunState::Running);
            }
            _ => {
                let target = schedule.users_at(now) as usize;
                pool.resize(target);
                let settled = schedule.next_change_after(now).is_none();
                control.set_state(if settled {
                    RunState::Running
                } else {
                    RunState::Spawning
                });
            }
        }
        peak = peak.max(control.users() as usize);
        let next_change = schedule
            .next_change_after(now)
            .map(|d| tokio::time::Instant::from_std(started + d));
        let wake = [Some(next_tick), next_change, deadline]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(next_tick);
        tokio::select! {
            biased;
            _ = control.stop.cancelled() => break,
            _ = control.changed.notified() => continue,
            _ = tokio::time::sleep_until(wake) => {}
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break;
        }
        if tokio::time::Instant::now() >= next_tick {
            next_tick += Duration::from_secs(1);
            pool.reap();
            metrics.tick(&control.class_users());
            if let Some(t) = crate::metrics::threshold::should_abort(&thresholds, &metrics) {
                aborted = Some(t.threshold.source.clone());
                break;
            }
            on_tick(&Tick {
                elapsed: started.elapsed(),
                run_time,
                control: &control,
            });
        }
    }

    // Stopping: no more spawning; tasks get the stop timeout to finish; then `on stop`.
    control.stop.cancel();
    control.set_state(RunState::Stopping);
    pool.stop_all();
    arrivals_stop.cancel();
    if let Some(a) = arrivals.as_mut() {
        a.stop_pacing().await;
    }
    let interrupt_after = config.stop_timeout;
    let interrupt_token = interrupt.clone();
    let kill = control.kill.clone();
    let timer = tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(interrupt_after) => interrupt_token.cancel(),
            _ = kill.cancelled() => interrupt_token.cancel(),
        }
    });
    let users_done = async {
        pool.join_all().await;
        if let Some(a) = arrivals.as_mut() {
            a.drain().await;
        }
    };
    tokio::select! {
        _ = users_done => {}
        _ = control.kill.cancelled() => {}
    }
    timer.abort();
    pool.abort_all();
    // An aborted user hands its samples over when it is dropped, on a worker thread: wait
    // for every one, or a killed run loses what its busy users had measured.
    pool.join_all().await;
    if let Some(a) = arrivals.as_mut() {
        a.abandon().await;
    }
    metrics.tick(&control.class_users());
    control.set_state(RunState::Stopped);
    let problems = std::mem::take(
        &mut *shared
            .problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    RunOutcome {
        duration: started.elapsed(),
        peak_users: peak,
        problems,
        aborted,
        killed: control.kill.is_cancelled(),
        interrupted: control.is_interrupted(),
    }
}

fn shared(
    plan: Arc<Plan>,
    config: &RunConfig,
    metrics: Arc<Metrics>,
    started: Instant,
    open_model: bool,
) -> Arc<RunShared> {
    let task_tables = plan
        .classes
        .iter()
        .map(|c| TaskTable::new(c, &config.tags, &config.exclude_tags))
        .collect();
    Arc::new(RunShared {
        globals: Globals {
            plan: plan.clone(),
            seq: AtomicU64::new(0),
            secrets: config.secrets.clone(),
        },
        metrics,
        started,
        seed: config.seed,
        host_override: config.host.clone(),
        client_options: config.client.clone(),
        feed_cursors: plan.feeds.iter().map(|_| AtomicUsize::new(0)).collect(),
        task_tables,
        segment: config.segment,
        open_model,
        problems: Mutex::new(Problems::default()),
    })
}

/// The shared state of a smoke run.
pub fn smoke_shared(plan: Arc<Plan>, config: &RunConfig, metrics: Arc<Metrics>) -> Arc<RunShared> {
    shared(plan, config, metrics, Instant::now(), false)
}

/// One request of a smoke run.
#[derive(Debug, Clone)]
pub struct SmokeResult {
    pub class: String,
    pub method: String,
    pub name: String,
    pub status: u16,
    pub millis: u64,
    pub failure: Option<String>,
    /// What was sent and received (`kload smoke -v`).
    pub exchange: Option<Box<exchange::Exchange>>,
}

/// Runs every request of every class once: one user per class runs `on start`, each task
/// in the order written, then `on stop`.
pub async fn smoke(shared: Arc<RunShared>) -> Vec<SmokeResult> {
    let plan = shared.globals.plan.clone();
    let mut results = Vec::new();
    let never = Signal::new();
    let tokens = StopTokens {
        stop: never.clone(),
        interrupt: never.clone(),
        kill: never.clone(),
    };
    for (i, class) in plan.classes.iter().enumerate() {
        let mut user = match VirtualUser::new(shared.clone(), i, i as u64 + 1) {
            Ok(u) => u,
            Err(StartError::FeedExhausted(m)) => {
                results.push(SmokeResult {
                    class: class.name.clone(),
                    method: "-".into(),
                    name: "(user)".into(),
                    status: 0,
                    millis: 0,
                    failure: Some(m),
                    exchange: None,
                });
                continue;
            }
        };
        user.trace = Some(Vec::new());
        user.session.record = true;
        if user.start(&tokens).await {
            for t in 0..class.tasks.len() {
                user.run_task(t, &tokens, None).await;
            }
        }
        user.stop(&tokens).await;
        for (s, exchange) in user.trace.take().unwrap_or_default() {
            let key = &plan.stats[s.stat as usize];
            results.push(SmokeResult {
                class: class.name.clone(),
                method: key.method.clone(),
                name: key.name.clone(),
                status: s.status,
                millis: u64::from(s.latency_us) / 1000,
                failure: s.failure.map(|f| f.to_string()),
                exchange,
            });
        }
    }
    results
}
