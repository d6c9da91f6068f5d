//! One virtual user: its variables, data-feed row, HTTP session and task loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::signal::{Listener, Signal};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::RunShared;
use super::eval::{self, EvalError, UserState};
use super::http::{self, Session};
use crate::ir::{Sleep, Step, TaskBody, UserClass, WaitTime};
use crate::metrics::Recorder;
use crate::metrics::sample::{Backfill, FailureKind, Sample, StatId};
use crate::syntax::ast::FeedMode;

/// Tokens a user obeys: `stop` ends its loop at the next task boundary (or during a
/// wait), `interrupt` abandons an in-flight task (stop timeout over), `kill` abandons
/// everything including `on stop` (second Ctrl-C).
#[derive(Clone)]
pub struct StopTokens {
    pub stop: Signal,
    pub interrupt: Signal,
    pub kill: Signal,
}

pub struct VirtualUser {
    pub class: usize,
    pub state: UserState,
    pub session: Session,
    pub recorder: Recorder,
    shared: Arc<RunShared>,
    last_task_time: Duration,
    /// When set (smoke runs), every sample is also kept here.
    pub trace: Option<Vec<Sample>>,
    /// This user's listeners for the two signals that can cancel a request.
    wait_interrupt: Option<Listener>,
    wait_kill: Option<Listener>,
    /// Requests have an intended start (open model, or a class that paces its tasks): they
    /// count in the corrected latency view.
    scheduled: bool,
    /// How late the current task started against its intended start, µs.
    task_lag_us: u32,
    /// The shortest task this user ran (the estimate of a `wait constant` cadence).
    fastest_task: Option<Duration>,
    /// (request, latency µs, completion ms) of the current task, for back-filling.
    task_requests: Vec<(StatId, u32, u32)>,
    /// The request being sent, if any: counted as abandoned if the user is dropped in it.
    in_flight: Option<StatId>,
}

impl Drop for VirtualUser {
    fn drop(&mut self) {
        // A user aborted mid-request (the run was killed): the request is not lost silently.
        if let Some(stat) = self.in_flight.take() {
            self.recorder.abandoned(stat);
        }
    }
}

/// The interval between intended task starts of a class, if it has one: exact for `pacing`
/// and `throughput`, estimated (the wait plus the fastest task so far) for `wait constant`
/// above zero. Random think times (`between`) and no wait have no intended schedule.
fn intended_interval(wait: WaitTime, fastest_task: Option<Duration>) -> Option<Duration> {
    match wait {
        WaitTime::Pacing(p) => Some(p),
        WaitTime::Throughput(n) => Some(Duration::from_secs_f64(1.0 / n)),
        WaitTime::Constant(c) if !c.is_zero() => fastest_task.map(|d| c + d),
        WaitTime::Constant(_) | WaitTime::Between(..) => None,
    }
}

/// Whether a class's requests have an intended start in the closed model.
fn paces(wait: WaitTime) -> bool {
    match wait {
        WaitTime::Pacing(_) | WaitTime::Throughput(_) => true,
        WaitTime::Constant(c) => !c.is_zero(),
        WaitTime::Between(..) => false,
    }
}

/// Why a user could not start.
pub enum StartError {
    FeedExhausted(String),
}

impl VirtualUser {
    pub fn new(
        shared: Arc<RunShared>,
        class: usize,
        user_id: u64,
    ) -> Result<VirtualUser, StartError> {
        VirtualUser::with_generation(shared, class, user_id, 0)
    }

    /// User `user_id` (its global slot + 1) started for the `generation`-th time (a user
    /// stopped by a ramp down and started again draws new random numbers).
    pub fn with_generation(
        shared: Arc<RunShared>,
        class: usize,
        user_id: u64,
        generation: u32,
    ) -> Result<VirtualUser, StartError> {
        let plan = &shared.globals.plan;
        let class_ir = &plan.classes[class];
        let mut rng = match shared.seed {
            Some(seed) => SmallRng::seed_from_u64(
                seed ^ user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    ^ u64::from(generation).wrapping_mul(0xD1B5_4A32_D192_ED03),
            ),
            None => SmallRng::from_os_rng(),
        };
        let segment = shared.segment;
        let mut rows = vec![None; plan.feeds.len()];
        for feed_id in &class_ir.feeds {
            let feed = &plan.feeds[*feed_id as usize];
            let n = feed.rows.len();
            // A segment owns the rows r with r mod count = index (see `schedule::Segment`):
            // `unique` rows are never used by two segments, and `cycle` cycles over its own.
            let cursor = || {
                shared.feed_cursors[*feed_id as usize]
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            };
            let index = match feed.mode {
                FeedMode::Unique => {
                    let i = segment.unique_row(cursor());
                    if i >= n {
                        return Err(StartError::FeedExhausted(format!(
                            "data feed `{}` has no rows left ({n} rows, mode unique): a user of {} was not started",
                            feed.name, class_ir.name
                        )));
                    }
                    i
                }
                FeedMode::Cycle => {
                    let count = segment.count as usize;
                    let own = n.saturating_sub(segment.index as usize).div_ceil(count);
                    if own == 0 {
                        cursor() % n.max(1)
                    } else {
                        segment.unique_row(cursor() % own)
                    }
                }
                FeedMode::Random => rng.random_range(0..n.max(1)),
            };
            rows[*feed_id as usize] = feed.rows.get(index).map(|r| Arc::from(r.as_slice()));
        }
        let mut state = UserState {
            user_id,
            vars: vec![None; plan.variables.len()],
            rows,
            rng,
            user_seq: 0,
        };
        let base = match (&shared.host_override, &class_ir.host) {
            (Some(h), _) => Some(h.clone()),
            (None, Some(t)) => eval::render(t, &mut state, &shared.globals).ok(),
            (None, None) => plan.host.clone(),
        };
        let session = Session::new(&shared.client_options, base);
        let recorder = shared.metrics.recorder(user_id as usize);
        let scheduled = shared.open_model || paces(class_ir.wait);
        Ok(VirtualUser {
            class,
            state,
            session,
            recorder,
            shared,
            last_task_time: Duration::ZERO,
            trace: None,
            wait_interrupt: None,
            wait_kill: None,
            scheduled,
            task_lag_us: 0,
            fastest_task: None,
            task_requests: Vec::new(),
            in_flight: None,
        })
    }

    fn class(&self) -> &UserClass {
        &self.shared.globals.plan.classes[self.class]
    }

    /// Evaluates the scenario's and class's `let`s, then runs `on start`.
    pub async fn start(&mut self, tokens: &StopTokens) -> bool {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        for (var, expr) in &class.lets {
            match eval::eval(expr, &mut self.state, &shared.globals) {
                Ok(v) => self.state.vars[*var as usize] = Some(v),
                Err(EvalError(e)) => shared.note_scenario_error(None, &e),
            }
        }
        self.run_steps(&class.on_start, tokens, &tokens.kill).await
    }

    /// The closed model: pick tasks by weight and wait between them until stopped.
    pub async fn run_loop(&mut self, tokens: &StopTokens) {
        let shared = self.shared.clone();
        let tasks = &shared.task_tables[self.class];
        if tasks.is_empty() {
            tokens.stop.cancelled().await;
            return;
        }
        while !tokens.stop.is_cancelled() {
            let task = tasks.pick(&mut self.state.rng);
            // Only scheduled classes need to know how long the task took.
            let started = self.scheduled.then(Instant::now);
            let finished = self.run_task(task, tokens, None).await;
            if let Some(started) = started {
                self.last_task_time = started.elapsed();
                self.backfill(self.last_task_time);
            }
            if !finished {
                return;
            }
            if !self.wait(tokens).await {
                return;
            }
        }
    }

    /// After a task of a paced class that took `took`: the task slots the schedule had
    /// between the task's start and its end could not start (the user was busy). Each of
    /// them is counted in the corrected view for each request of the task, as if it had been
    /// sent at its intended time and finished when the real one did (HdrHistogram's
    /// expected-interval correction).
    fn backfill(&mut self, took: Duration) {
        let interval = intended_interval(self.class().wait, self.fastest_task);
        self.fastest_task = Some(self.fastest_task.map_or(took, |d| d.min(took)));
        let Some(interval) = interval.filter(|i| !i.is_zero()) else {
            return;
        };
        if took <= interval {
            return;
        }
        // Slots start + k·interval with k ≥ 1 that fall before the task's end.
        let missed = (took.as_nanos().div_ceil(interval.as_nanos()) - 1).min(u128::from(u32::MAX));
        let step_us = interval.as_micros().min(u128::from(u32::MAX)) as u32;
        for &(stat, latency_us, elapsed_ms) in &self.task_requests {
            self.recorder.backfill(Backfill {
                stat,
                elapsed_ms,
                top_us: latency_us,
                step_us,
                count: missed as u32,
            });
        }
    }

    /// Runs one task (an iteration). `scheduled` is the intended start in the open model.
    pub async fn run_task(
        &mut self,
        task: usize,
        tokens: &StopTokens,
        scheduled: Option<Instant>,
    ) -> bool {
        let shared = self.shared.clone();
        let task = &shared.globals.plan.classes[self.class].tasks[task];
        self.task_requests.clear();
        // The open model: every request of the iteration is late by the iteration's start.
        self.task_lag_us = scheduled.map_or(0, |due| {
            due.elapsed().as_micros().min(u128::from(u32::MAX)) as u32
        });
        match &task.body {
            TaskBody::Steps(steps) => self.run_steps(steps, tokens, &tokens.interrupt).await,
            TaskBody::Sequence(inner) => {
                for (i, (_, steps)) in inner.iter().enumerate() {
                    if !self.run_steps(steps, tokens, &tokens.interrupt).await {
                        return false;
                    }
                    if i + 1 < inner.len() && !self.wait(tokens).await {
                        return false;
                    }
                }
                true
            }
        }
    }

    /// The class's wait time; false when stopped while waiting.
    async fn wait(&mut self, tokens: &StopTokens) -> bool {
        let d = match self.class().wait {
            WaitTime::Between(a, b) => {
                if b > a {
                    a + (b - a).mul_f64(self.state.rng.random::<f64>())
                } else {
                    a
                }
            }
            WaitTime::Constant(d) => d,
            WaitTime::Pacing(p) => p.saturating_sub(self.last_task_time),
            WaitTime::Throughput(n) => {
                Duration::from_secs_f64(1.0 / n).saturating_sub(self.last_task_time)
            }
        };
        if d.is_zero() {
            // A user with no wait time gives the others a turn once it used up its share
            // of the scheduler's budget (its requests spend it too). Yielding after every
            // task instead would cost a reschedule per request.
            tokio::task::consume_budget().await;
            return !tokens.stop.is_cancelled();
        }
        if d >= Duration::from_millis(500) {
            self.recorder.flush();
        }
        let wake = Instant::now() + d;
        tokio::select! {
            _ = tokens.stop.cancelled() => false,
            _ = tokio::time::sleep(d) => {
                if self.scheduled {
                    // The generator's own lateness: how long after the intended moment the
                    // runtime woke this user.
                    let now = Instant::now();
                    self.recorder.lateness(
                        now.saturating_duration_since(self.shared.started).as_millis() as u32,
                        now.saturating_duration_since(wake).as_micros().min(u128::from(u32::MAX)) as u32,
                    );
                }
                true
            }
        }
    }

    /// Runs steps; false when `cancel` fired. `cancel` is `tokens.interrupt` or `tokens.kill`.
    pub async fn run_steps(
        &mut self,
        steps: &[Step],
        tokens: &StopTokens,
        cancel: &Signal,
    ) -> bool {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        for step in steps {
            match step {
                Step::Let(var, expr) => match eval::eval(expr, &mut self.state, &shared.globals) {
                    Ok(v) => self.state.vars[*var as usize] = Some(v),
                    Err(EvalError(e)) => shared.note_scenario_error(None, &e),
                },
                Step::Sleep(s) => {
                    let d = match s {
                        Sleep::Fixed(d) => *d,
                        Sleep::Between(a, b) => {
                            *a + (*b - *a).mul_f64(self.state.rng.random::<f64>())
                        }
                    };
                    tokio::select! {
                        _ = cancel.cancelled() => return false,
                        _ = tokens.kill.cancelled() => return false,
                        _ = tokio::time::sleep(d) => {}
                    }
                }
                Step::Request(req) => {
                    // Boxed: the request's state exists only while it runs, so a user waiting
                    // between tasks holds a small future (memory per idle user).
                    let fut = Box::pin(http::execute(
                        req,
                        &class.headers,
                        &mut self.session,
                        &mut self.state,
                        &shared.globals,
                    ));
                    if cancel.is_cancelled() || tokens.kill.is_cancelled() {
                        return false;
                    }
                    self.in_flight = Some(req.stat);
                    // One listener per user and signal, registered once (see `signal`).
                    let slot = if std::ptr::eq(cancel, &tokens.interrupt) {
                        &mut self.wait_interrupt
                    } else {
                        &mut self.wait_kill
                    };
                    if !slot.as_ref().is_some_and(|l| cancel.owns(l)) {
                        *slot = Some(cancel.listener());
                    }
                    let Some(listener) = slot.as_ref() else {
                        unreachable!("set above")
                    };
                    // `kill` also cancels `interrupt` (see `runtime::run`), so one signal suffices.
                    let outcome = tokio::select! {
                        biased;
                        o = fut => o,
                        _ = listener.fired() => {
                            // Stopped in flight: counted as abandoned, not lost.
                            self.in_flight = None;
                            self.recorder.abandoned(req.stat);
                            return false;
                        }
                    };
                    self.in_flight = None;
                    let latency = outcome.latency;
                    let failure = outcome.failure.map(|mut f| {
                        if f.kind == FailureKind::Template {
                            shared.note_scenario_error(Some(req.span), &f.message);
                            f.message =
                                format!("template error at line {}: {}", req.line, f.message);
                        }
                        Box::new(f)
                    });
                    let elapsed_ms = (outcome.started + outcome.latency)
                        .saturating_duration_since(shared.started)
                        .as_millis() as u32;
                    let latency_us = latency.as_micros().min(u128::from(u32::MAX)) as u32;
                    let sample = Sample {
                        stat: req.stat,
                        elapsed_ms,
                        latency_us,
                        ttfb_us: outcome.ttfb.as_micros().min(u128::from(u32::MAX)) as u32,
                        bytes: outcome.bytes.min(u32::MAX as usize) as u32,
                        lag_us: self.task_lag_us,
                        status: outcome.status,
                        scheduled: self.scheduled,
                        failure,
                    };
                    if self.scheduled && !self.shared.open_model {
                        self.task_requests.push((req.stat, latency_us, elapsed_ms));
                    }
                    if let Some(trace) = self.trace.as_mut() {
                        trace.push(sample.clone());
                    }
                    self.recorder.record(sample);
                }
            }
        }
        true
    }

    pub async fn stop(&mut self, tokens: &StopTokens) {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        self.task_lag_us = 0;
        self.run_steps(&class.on_stop, tokens, &tokens.kill).await;
        self.recorder.flush();
    }
}

/// Tasks of a class that pass the tag filter, with cumulative weights for picking.
pub struct TaskTable {
    tasks: Vec<usize>,
    cumulative: Vec<u64>,
}

impl TaskTable {
    pub fn new(class: &UserClass, include: &[String], exclude: &[String]) -> TaskTable {
        let mut tasks = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for (i, t) in class.tasks.iter().enumerate() {
            let included = include.is_empty() || t.tags.iter().any(|tag| include.contains(tag));
            let excluded = t.tags.iter().any(|tag| exclude.contains(tag));
            if included && !excluded {
                total += u64::from(t.weight);
                tasks.push(i);
                cumulative.push(total);
            }
        }
        TaskTable { tasks, cumulative }
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub fn pick(&self, rng: &mut SmallRng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let r = rng.random_range(0..total.max(1));
        let i = self.cumulative.partition_point(|c| *c <= r);
        self.tasks[i.min(self.tasks.len() - 1)]
    }

    /// Each task's probability per iteration.
    pub fn shares(&self) -> Vec<(usize, f64)> {
        let total = *self.cumulative.last().unwrap_or(&1) as f64;
        let mut prev = 0;
        self.tasks
            .iter()
            .zip(&self.cumulative)
            .map(|(t, c)| {
                let w = c - prev;
                prev = *c;
                (*t, w as f64 / total)
            })
            .collect()
    }
}
