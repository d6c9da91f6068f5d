//! The interpreter: runs a compiled plan with one tokio task per virtual user.
//!
//! The runner is driven through a [`Control`]: the command line uses it for run time and
//! Ctrl-C, and any other controller (a web UI) can change the target user count and spawn
//! rate, or stop the run, while it goes on.

pub mod dispatch;
pub mod eval;
pub mod http;
pub mod signal;
pub mod transport;
pub mod user;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signal::Signal;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::ir::{Plan, Stage};
use crate::metrics::{LiveStats, Metrics};
use crate::span::Span;
use dispatch::Dispatcher;
use eval::Globals;
use user::{StartError, StopTokens, TaskTable, VirtualUser};

/// Everything about a run that does not come from the scenario file.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub host: Option<String>,
    pub users: u32,
    pub spawn_rate: f64,
    pub run_time: Option<Duration>,
    pub stop_timeout: Duration,
    pub stages: Vec<Stage>,
    pub arrival: Option<crate::ir::Arrival>,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub seed: Option<u64>,
    pub client: http::ClientOptions,
}

/// Knobs a controller turns while a run goes on.
pub struct Control {
    target: watch::Sender<(u32, f64)>,
    stop: Signal,
    kill: Signal,
}

impl Control {
    pub fn new(users: u32, spawn_rate: f64) -> Arc<Control> {
        Arc::new(Control {
            target: watch::channel((users, spawn_rate)).0,
            stop: Signal::new(),
            kill: Signal::new(),
        })
    }

    /// Changes the target user count and spawn rate (closed model without stages).
    pub fn set_target(&self, users: u32, spawn_rate: f64) {
        self.target.send_replace((users, spawn_rate.max(0.001)));
    }

    /// Stops the run gracefully: stop spawning, let tasks finish within the stop timeout,
    /// run `on stop`.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Stops at once (a second Ctrl-C): in-flight requests and `on stop` are abandoned.
    pub fn kill(&self) {
        self.stop.cancel();
        self.kill.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
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
    pub problems: Mutex<Problems>,
}

/// Things that went wrong outside the measured requests, reported at the end.
#[derive(Default, Debug)]
pub struct Problems {
    /// Users that could not start (e.g. a `unique` data feed ran out), with counts.
    pub not_started: Vec<(String, u64)>,
    /// The first runtime template error with the request it happened in.
    pub first_template_error: Option<(Option<Span>, String)>,
}

impl RunShared {
    fn note_not_started(&self, message: String) {
        let mut p = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        match p.not_started.iter_mut().find(|(m, _)| *m == message) {
            Some((_, n)) => *n += 1,
            None => p.not_started.push((message, 1)),
        }
    }

    pub fn note_template_error(&self, span: Option<Span>, message: &str) {
        let mut p = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        if p.first_template_error.is_none() {
            p.first_template_error = Some((span, message.to_string()));
        }
    }
}

/// What the run did, besides the statistics in [`Metrics`].
#[derive(Debug)]
pub struct RunOutcome {
    pub duration: Duration,
    pub peak_users: usize,
    pub problems: Problems,
    /// True when the run ended because a threshold with `abort after` failed.
    pub aborted: Option<String>,
    pub killed: bool,
}

/// Runs the plan until the run time is over or the controller stops it. `on_live` is
/// called every 2 s with the live numbers.
pub async fn run(
    plan: Arc<Plan>,
    config: RunConfig,
    metrics: Arc<Metrics>,
    control: Arc<Control>,
    mut on_live: impl FnMut(&LiveStats, Option<Duration>) + Send,
) -> RunOutcome {
    let started = Instant::now();
    let shared = shared(plan.clone(), &config, metrics.clone(), started);
    let run_time = config.run_time.or_else(|| {
        (!config.stages.is_empty()).then(|| {
            config
                .stages
                .iter()
                .map(|s| match s {
                    Stage::Ramp { over, .. } => *over,
                    Stage::Hold(d) => *d,
                })
                .sum()
        })
    });
    let deadline = run_time.map(|d| tokio::time::Instant::from_std(started + d));
    let interrupt = Signal::new();

    let mut pool = Pool::new(shared.clone(), interrupt.clone(), control.kill.clone());
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_second = started;
    let mut last_live = started;
    let mut dispatcher = Dispatcher::new(&plan.classes);
    // Users due but not started yet. Like Locust, a ramp starts its first user at once and
    // the next ones every 1/rate seconds, so a ramp (and a new target) begins with one due.
    let mut fractional = 1.0f64;
    let mut aborted = None;
    let mut arrival = config.arrival.map(|a| Arrival::new(a, started));
    let mut peak = 0usize;

    loop {
        tokio::select! {
            _ = control.stop.cancelled() => break,
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => break,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        let elapsed = now - started;
        if let Some(a) = arrival.as_mut() {
            a.schedule(now, &mut pool, &mut dispatcher, &metrics);
        } else {
            let desired = if config.stages.is_empty() {
                let (target, rate) = *control.target.borrow();
                let dt = (now - pool.last_adjust).as_secs_f64();
                fractional += rate * dt;
                let step = fractional.floor() as usize;
                fractional -= step as f64;
                let current = pool.len();
                if (target as usize) > current {
                    let d = (current + step).min(target as usize);
                    if d == target as usize {
                        fractional = 1.0;
                    }
                    d
                } else {
                    let d = current.saturating_sub(step).max(target as usize);
                    if d == target as usize {
                        fractional = 1.0;
                    }
                    d
                }
            } else {
                stage_target(&config.stages, elapsed) as usize
            };
            pool.last_adjust = now;
            pool.resize(desired, &mut dispatcher);
        }
        peak = peak.max(pool.active());
        if now - last_second >= Duration::from_secs(1) {
            last_second = now;
            metrics.tick(pool.active());
            if let Some(t) = crate::metrics::threshold::should_abort(&plan.thresholds, &metrics) {
                aborted = Some(t.threshold.source.clone());
                break;
            }
        }
        if now - last_live >= Duration::from_secs(2) {
            last_live = now;
            on_live(&metrics.live(), run_time);
        }
    }

    // Stopping: no more spawning; tasks get the stop timeout to finish; then `on stop`.
    pool.stop_all();
    if let Some(a) = arrival.as_mut() {
        a.stop();
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
        while pool.join_next().await {}
        if let Some(a) = arrival.as_mut() {
            // `on stop` obeys only the kill token, like the closed model's.
            let tokens = pool.tokens(a.stop.clone());
            a.drain(tokens).await;
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
    while pool.join_next().await {}
    if let Some(a) = arrival.as_mut() {
        a.abort_all().await;
    }
    metrics.tick(0);
    let problems = std::mem::take(&mut *shared.problems.lock().unwrap_or_else(|e| e.into_inner()));
    RunOutcome {
        duration: started.elapsed(),
        peak_users: peak,
        problems,
        aborted,
        killed: control.kill.is_cancelled(),
    }
}

fn shared(
    plan: Arc<Plan>,
    config: &RunConfig,
    metrics: Arc<Metrics>,
    started: Instant,
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
        },
        metrics,
        started,
        seed: config.seed,
        host_override: config.host.clone(),
        client_options: config.client.clone(),
        feed_cursors: plan.feeds.iter().map(|_| AtomicUsize::new(0)).collect(),
        task_tables,
        problems: Mutex::new(Problems::default()),
    })
}

/// The shared state of a smoke run.
pub fn smoke_shared(plan: Arc<Plan>, config: &RunConfig, metrics: Arc<Metrics>) -> Arc<RunShared> {
    shared(plan, config, metrics, Instant::now())
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
                });
                continue;
            }
        };
        user.trace = Some(Vec::new());
        if user.start(&tokens).await {
            for t in 0..class.tasks.len() {
                user.run_task(t, &tokens, None).await;
            }
        }
        user.stop(&tokens).await;
        for s in user.trace.take().unwrap_or_default() {
            let key = &plan.stats[s.stat as usize];
            results.push(SmokeResult {
                class: class.name.clone(),
                method: key.method.clone(),
                name: key.name.clone(),
                status: s.status,
                millis: u64::from(s.latency_us) / 1000,
                failure: s.failure.map(|f| f.to_string()),
            });
        }
    }
    results
}

/// The user count the stages ask for after `elapsed`.
pub fn stage_target(stages: &[Stage], elapsed: Duration) -> u32 {
    let mut t = Duration::ZERO;
    let mut users = 0u32;
    for s in stages {
        match *s {
            Stage::Ramp { to, over } => {
                if elapsed < t + over {
                    let f = (elapsed - t).as_secs_f64() / over.as_secs_f64().max(1e-9);
                    return (f64::from(users) + (f64::from(to) - f64::from(users)) * f).round()
                        as u32;
                }
                users = to;
                t += over;
            }
            Stage::Hold(d) => {
                if elapsed < t + d {
                    return users;
                }
                t += d;
            }
        }
    }
    users
}

/// The running users of the closed model, newest last.
struct Pool {
    shared: Arc<RunShared>,
    users: Vec<(Signal, tokio::task::AbortHandle)>,
    tasks: JoinSet<()>,
    interrupt: Signal,
    kill: Signal,
    next_id: u64,
    last_adjust: Instant,
    active: Arc<AtomicUsize>,
}

impl Pool {
    fn new(shared: Arc<RunShared>, interrupt: Signal, kill: Signal) -> Pool {
        let last_adjust = shared.started;
        Pool {
            shared,
            users: Vec::new(),
            tasks: JoinSet::new(),
            interrupt,
            kill,
            next_id: 1,
            last_adjust,
            active: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn len(&self) -> usize {
        self.users.len()
    }

    fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    fn tokens(&self, stop: Signal) -> StopTokens {
        StopTokens {
            stop,
            interrupt: self.interrupt.clone(),
            kill: self.kill.clone(),
        }
    }

    fn resize(&mut self, desired: usize, dispatcher: &mut Dispatcher) {
        // Let go of users that have finished (stopped by a ramp down): a finished task keeps
        // its memory until it is joined.
        while self.tasks.try_join_next().is_some() {}
        while self.users.len() < desired {
            let Some(class) = dispatcher.next_class() else {
                break;
            };
            let id = self.next_id;
            self.next_id += 1;
            let stop = Signal::new();
            let tokens = self.tokens(stop.clone());
            let shared = self.shared.clone();
            let active = self.active.clone();
            let handle = self.tasks.spawn(async move {
                let mut user = match VirtualUser::new(shared.clone(), class, id) {
                    Ok(u) => u,
                    Err(StartError::FeedExhausted(m)) => {
                        shared.note_not_started(m);
                        return;
                    }
                };
                active.fetch_add(1, Ordering::Relaxed);
                if user.start(&tokens).await {
                    user.run_loop(&tokens).await;
                }
                user.stop(&tokens).await;
                active.fetch_sub(1, Ordering::Relaxed);
            });
            self.users.push((stop, handle));
        }
        while self.users.len() > desired {
            if let Some((stop, _)) = self.users.pop() {
                stop.cancel();
            }
        }
    }

    fn stop_all(&mut self) {
        for (stop, _) in self.users.drain(..) {
            stop.cancel();
        }
    }

    async fn join_next(&mut self) -> bool {
        self.tasks.join_next().await.is_some()
    }

    fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}

/// The open model: iterations start on a schedule, each run by an idle user of the pool.
struct Arrival {
    rate: f64,
    max_users: usize,
    started: Instant,
    scheduled: u64,
    idle: Arc<Mutex<Vec<VirtualUser>>>,
    total: usize,
    busy: JoinSet<()>,
    stop: Signal,
}

impl Arrival {
    fn new(a: crate::ir::Arrival, started: Instant) -> Arrival {
        Arrival {
            rate: a.rate,
            max_users: a.max_users as usize,
            started,
            scheduled: 0,
            idle: Arc::new(Mutex::new(Vec::new())),
            total: 0,
            busy: JoinSet::new(),
            stop: Signal::new(),
        }
    }

    fn schedule(
        &mut self,
        now: Instant,
        pool: &mut Pool,
        dispatcher: &mut Dispatcher,
        metrics: &Metrics,
    ) {
        while self.busy.try_join_next().is_some() {}
        let due = ((now - self.started).as_secs_f64() * self.rate).floor() as u64;
        while self.scheduled < due {
            let at = self.started + Duration::from_secs_f64(self.scheduled as f64 / self.rate);
            self.scheduled += 1;
            let idle_user = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let fresh = idle_user.is_none();
            let user = match idle_user {
                Some(u) => u,
                None if self.total < self.max_users => {
                    let Some(class) = dispatcher.next_class() else {
                        // Every class has its fixed count of users.
                        metrics.add_dropped_iterations(1);
                        continue;
                    };
                    let id = pool.next_id;
                    pool.next_id += 1;
                    // A user that cannot start (no data-feed row left) still takes its
                    // place: it is reported once, not again for every task that comes due.
                    self.total += 1;
                    match VirtualUser::new(pool.shared.clone(), class, id) {
                        Ok(u) => u,
                        Err(StartError::FeedExhausted(m)) => {
                            pool.shared.note_not_started(m);
                            metrics.add_dropped_iterations(1);
                            continue;
                        }
                    }
                }
                None => {
                    metrics.add_dropped_iterations(1);
                    continue;
                }
            };
            let tokens = pool.tokens(self.stop.clone());
            let idle = self.idle.clone();
            let shared = pool.shared.clone();
            let active = pool.active.clone();
            self.busy.spawn(async move {
                let mut user = user;
                active.fetch_add(1, Ordering::Relaxed);
                let ok = if fresh {
                    user.start(&tokens).await
                } else {
                    true
                };
                let table = &shared.task_tables[user.class];
                if ok && !table.is_empty() {
                    let task = table.pick(&mut user.state.rng);
                    user.run_task(task, &tokens, Some(at)).await;
                }
                user.recorder.flush();
                active.fetch_sub(1, Ordering::Relaxed);
                idle.lock().unwrap_or_else(|e| e.into_inner()).push(user);
            });
        }
    }

    fn stop(&mut self) {
        self.stop.cancel();
    }

    /// Abandons running iterations and waits until their users are dropped.
    async fn abort_all(&mut self) {
        self.busy.abort_all();
        while self.busy.join_next().await.is_some() {}
    }

    /// Waits for running iterations, then runs `on stop` for every user of the pool, all at
    /// once like the users of the closed model.
    async fn drain(&mut self, tokens: StopTokens) {
        while self.busy.join_next().await.is_some() {}
        let users: Vec<VirtualUser> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for mut u in users {
            let tokens = tokens.clone();
            // In `busy`, so that a kill aborts them like running iterations.
            self.busy.spawn(async move { u.stop(&tokens).await });
        }
        while self.busy.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_ramp_hold_and_ramp_down() {
        let stages = [
            Stage::Ramp {
                to: 10,
                over: Duration::from_secs(10),
            },
            Stage::Hold(Duration::from_secs(5)),
            Stage::Ramp {
                to: 0,
                over: Duration::from_secs(5),
            },
        ];
        assert_eq!(stage_target(&stages, Duration::from_secs(0)), 0);
        assert_eq!(stage_target(&stages, Duration::from_secs(5)), 5);
        assert_eq!(stage_target(&stages, Duration::from_secs(12)), 10);
        assert_eq!(stage_target(&stages, Duration::from_millis(17_500)), 5);
        assert_eq!(stage_target(&stages, Duration::from_secs(30)), 0);
    }
}
