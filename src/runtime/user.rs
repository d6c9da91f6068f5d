//! One virtual user: its variables, data-feed row, HTTP session and task loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::signal::{Listener, Signal};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::RunShared;
use super::eval::{self, EvalError, UserState};
use super::exchange::Exchange;
use super::http::{self, Session};
use crate::ir::{
    Condition, ConditionTest, Request, Sleep, Step, Task, TaskBody, UserClass, WaitTime,
};
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
    /// When set (smoke runs), every sample is also kept here, with the exchange that
    /// produced it (credentials and secrets masked).
    pub trace: Option<Vec<(Sample, Option<Box<Exchange>>)>>,
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
                        let rows = if n == 1 { "row" } else { "rows" };
                        return Err(StartError::FeedExhausted(format!(
                            "data feed `{}` has no rows left ({n} {rows}, mode unique): a user of {} was not started",
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
        // Every value a user draws from a data file is a secret: usernames and passwords
        // alike never reach a report.
        let mut secrets = crate::redact::UserSecrets::default();
        for value in rows
            .iter()
            .flatten()
            .flat_map(|row: &Arc<[String]>| row.iter())
        {
            if secrets.add(value) {
                shared.globals.secrets.remember(value);
            }
        }
        let mut state = UserState {
            user_id,
            vars: vec![None; plan.variables.len()],
            secrets,
            rows,
            rng,
            user_seq: 0,
        };
        let base = match (&shared.host_override, &class_ir.host) {
            (Some(h), _) => Some(h.clone()),
            (None, Some(t)) => eval::render(t, &mut state, &shared.globals).ok(),
            (None, None) => plan.host.clone(),
        };
        // A password in the host (`--host http://user:password@...`) is a secret.
        for secret in base.iter().flat_map(|b| crate::redact::url_credentials(b)) {
            state.secret(&secret, &shared.globals);
        }
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
                Ok(v) => self.state.set_var(*var, v, &shared.globals),
                Err(EvalError(e)) => {
                    let e = self.state.redact(&e, &shared.globals);
                    shared.note_scenario_error(None, &e)
                }
            }
        }
        self.run_steps(&class.on_start, tokens, &tokens.kill).await
    }

    /// The closed model: pick tasks by weight and wait between them until stopped.
    ///
    /// A paced class (`pacing`, `throughput`) keeps a fixed grid of intended task starts
    /// from its first task: after a task that overran, the tasks whose slots passed are not
    /// sent (they are counted in the corrected view, see [`backfill`](Self::backfill)) and
    /// the user waits for the next slot of the grid.
    pub async fn run_loop(&mut self, tokens: &StopTokens) {
        let shared = self.shared.clone();
        let tasks = &shared.task_tables[self.class];
        if tasks.is_empty() {
            tokens.stop.cancelled().await;
            return;
        }
        let pace = match self.class().wait {
            WaitTime::Pacing(p) => Some(p),
            WaitTime::Throughput(n) => Some(Duration::from_secs_f64(1.0 / n)),
            _ => None,
        }
        .filter(|p| !p.is_zero());
        let mut origin: Option<Instant> = None;
        let mut slot: u32 = 0;
        while !tokens.stop.is_cancelled() {
            let task = tasks.pick(&mut self.state.rng);
            let started = Instant::now();
            let intended = pace.map(|p| *origin.get_or_insert(started) + p * slot);
            let finished = self.run_task(task, tokens, intended).await;
            let mut missed = 0;
            if self.scheduled {
                let ended = Instant::now();
                self.last_task_time = ended - started;
                missed = self.backfill(intended.unwrap_or(started), ended, pace);
            }
            if !finished {
                return;
            }
            let waited = match (pace, origin) {
                (Some(p), Some(origin)) => {
                    slot = slot.saturating_add(missed).saturating_add(1);
                    self.sleep_until(tokens, origin + p * slot).await
                }
                _ => self.wait(tokens, started).await,
            };
            if !waited {
                return;
            }
        }
    }

    /// After a task of a scheduled class, intended to start at `intended`, that ended at
    /// `ended`: the task slots that passed while the user was busy could not start. Each of
    /// them is counted in the corrected view for each request of the task, as if it had been
    /// sent at its intended time and finished when the real one did (HdrHistogram's
    /// expected-interval correction). The interval is the pace, or for `wait constant` the
    /// wait plus the fastest task so far (an estimate). Returns how many slots were missed.
    fn backfill(&mut self, intended: Instant, ended: Instant, pace: Option<Duration>) -> u32 {
        let took = ended.saturating_duration_since(intended);
        let interval = pace.or_else(|| intended_interval(self.class().wait, self.fastest_task));
        self.fastest_task = Some(self.fastest_task.map_or(took, |d| d.min(took)));
        let Some(interval) = interval.filter(|i| !i.is_zero()) else {
            return 0;
        };
        if took <= interval {
            return 0;
        }
        // Slots intended + k·interval with k ≥ 1 that fall before the task's end.
        let missed =
            (took.as_nanos().div_ceil(interval.as_nanos()) - 1).min(u128::from(u32::MAX)) as u32;
        let step_us = interval.as_micros().min(u128::from(u32::MAX)) as u32;
        for &(stat, corrected_us, elapsed_ms) in &self.task_requests {
            self.recorder.backfill(Backfill {
                stat,
                elapsed_ms,
                top_us: corrected_us,
                step_us,
                count: missed,
            });
        }
        missed
    }

    /// Runs one task (an iteration). `scheduled` is its intended start: the arrival in the
    /// open model, the slot of a paced class.
    pub async fn run_task(
        &mut self,
        task: usize,
        tokens: &StopTokens,
        scheduled: Option<Instant>,
    ) -> bool {
        let shared = self.shared.clone();
        let task = &shared.globals.plan.classes[self.class].tasks[task];
        self.task_requests.clear();
        // Every request of the iteration is late by how late the iteration started.
        self.task_lag_us = scheduled.map_or(0, |due| {
            due.elapsed().as_micros().min(u128::from(u32::MAX)) as u32
        });
        match &task.body {
            TaskBody::Steps(steps) => self.run_steps(steps, tokens, &tokens.interrupt).await,
            TaskBody::Sequence(inner) => {
                for (i, (_, steps)) in inner.iter().enumerate() {
                    let started = Instant::now();
                    if !self.run_steps(steps, tokens, &tokens.interrupt).await {
                        return false;
                    }
                    if i + 1 < inner.len() && !self.wait(tokens, started).await {
                        return false;
                    }
                }
                true
            }
        }
    }

    /// The class's wait time after a step that started at `started` (pacing counts from
    /// there); false when stopped while waiting.
    async fn wait(&mut self, tokens: &StopTokens, started: Instant) -> bool {
        let d = match self.class().wait {
            WaitTime::Between(a, b) => {
                if b > a {
                    a + (b - a).mul_f64(self.state.rng.random::<f64>())
                } else {
                    a
                }
            }
            WaitTime::Constant(d) => d,
            WaitTime::Pacing(p) => p.saturating_sub(started.elapsed()),
            WaitTime::Throughput(n) => {
                Duration::from_secs_f64(1.0 / n).saturating_sub(started.elapsed())
            }
        };
        if d.is_zero() {
            // A user with no wait time gives the others a turn once it used up its share
            // of the scheduler's budget (its requests spend it too). Yielding after every
            // task instead would cost a reschedule per request.
            tokio::task::consume_budget().await;
            return !tokens.stop.is_cancelled();
        }
        self.sleep_until(tokens, Instant::now() + d).await
    }

    /// Sleeps until `wake`; false when stopped first. For a scheduled class, how late the
    /// runtime woke the user is the generator's own lateness, recorded.
    async fn sleep_until(&mut self, tokens: &StopTokens, wake: Instant) -> bool {
        let now = Instant::now();
        if wake <= now {
            tokio::task::consume_budget().await;
            return !tokens.stop.is_cancelled();
        }
        if wake - now >= Duration::from_millis(500) {
            self.recorder.flush();
        }
        tokio::select! {
            _ = tokens.stop.cancelled() => false,
            _ = tokio::time::sleep_until(wake.into()) => {
                if self.scheduled {
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
        self.steps(steps, tokens, cancel).await
    }

    /// Runs steps (a branch of an `if`, a `repeat` body...).
    async fn steps(&mut self, steps: &[Step], tokens: &StopTokens, cancel: &Signal) -> bool {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        for step in steps {
            match step {
                Step::Let(var, expr) => match eval::eval(expr, &mut self.state, &shared.globals) {
                    Ok(v) => self.state.set_var(*var, v, &shared.globals),
                    Err(EvalError(e)) => {
                        let e = self.state.redact(&e, &shared.globals);
                        shared.note_scenario_error(None, &e)
                    }
                },
                Step::If(i) => {
                    let branch = match self.decide(&i.condition) {
                        Ok(true) => &i.then,
                        Ok(false) => &i.otherwise,
                        Err(EvalError(e)) => {
                            // Neither branch: the condition could not be evaluated.
                            let message = format!("in the condition of an `if`: {e}");
                            let message = self.state.redact(&message, &shared.globals);
                            shared.note_scenario_error(Some(i.condition.span), &message);
                            continue;
                        }
                    };
                    // Boxed: a step holds steps, so its future would hold itself.
                    if !Box::pin(self.steps(branch, tokens, cancel)).await {
                        return false;
                    }
                }
                Step::Repeat(n, body) => {
                    for _ in 0..*n {
                        if !Box::pin(self.steps(body, tokens, cancel)).await {
                            return false;
                        }
                        // A loop of `let`s alone never waits: let the other users run.
                        tokio::task::consume_budget().await;
                    }
                }
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
                    if shared.task_tables[self.class].skips(req.index) {
                        continue;
                    }
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
                        // Nothing a user prints may hold its secrets (a check that shows what
                        // it got, an error that quotes a URL).
                        f.message = self.state.redact(&f.message, &shared.globals);
                        if let Some(d) = &f.detail {
                            f.detail = Some(self.state.redact(d, &shared.globals));
                        }
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
                        let corrected = latency_us.saturating_add(self.task_lag_us);
                        self.task_requests.push((req.stat, corrected, elapsed_ms));
                    }
                    if let Some(trace) = self.trace.as_mut() {
                        let exchange = self.session.last.take().map(|x| {
                            Box::new(x.redacted(|t| self.state.redact(t, &shared.globals)))
                        });
                        trace.push((sample.clone(), exchange));
                    }
                    self.recorder.record(sample);
                }
            }
        }
        true
    }

    /// Which branch of an `if` to take.
    fn decide(&mut self, c: &Condition) -> Result<bool, EvalError> {
        let globals = &self.shared.globals;
        let value = eval::condition_value(&c.value, &mut self.state, globals)?;
        Ok(match &c.test {
            ConditionTest::Truthy { negated } => eval::truthy(value.as_ref()) != *negated,
            ConditionTest::Predicate(p) => {
                http::test(p, value.as_ref(), &mut self.state, globals)?.is_none()
            }
        })
    }

    pub async fn stop(&mut self, tokens: &StopTokens) {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        self.task_lag_us = 0;
        self.run_steps(&class.on_stop, tokens, &tokens.kill).await;
        self.recorder.flush();
    }
}

/// Tasks of a class that pass the tag filter, with cumulative weights for picking, and
/// the class's requests that `--exclude-tags` leaves out.
///
/// The rule: a request is not sent when it has an excluded tag (its own, its task's or its
/// class's), wherever it stands, `on start` and `on stop` included. `--tags` chooses tasks:
/// a task runs when it, its class or one of its requests has a listed tag, and then sends
/// every request of it that is not excluded. A task left with nothing to send is not picked.
pub struct TaskTable {
    tasks: Vec<usize>,
    cumulative: Vec<u64>,
    /// By request index (`Request::index`); empty when nothing is excluded.
    skipped: Vec<bool>,
}

impl TaskTable {
    pub fn new(class: &UserClass, include: &[String], exclude: &[String]) -> TaskTable {
        let excluded = |tags: &[String]| tags.iter().any(|t| exclude.contains(t));
        let included = |tags: &[String]| tags.iter().any(|t| include.contains(t));
        let mut skipped = Vec::new();
        if !exclude.is_empty() {
            let mut mark = |steps: &[Step]| {
                for_each_request(steps, &mut |r| {
                    if excluded(&r.tags) {
                        if skipped.len() <= r.index {
                            skipped.resize(r.index + 1, false);
                        }
                        skipped[r.index] = true;
                    }
                })
            };
            mark(&class.on_start);
            mark(&class.on_stop);
            for t in &class.tasks {
                task_steps(t).into_iter().for_each(&mut mark);
            }
        }
        let mut tasks = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for (i, t) in class.tasks.iter().enumerate() {
            let (mut requests, mut sent, mut listed) = (0, 0, included(&t.tags));
            for steps in task_steps(t) {
                for_each_request(steps, &mut |r| {
                    requests += 1;
                    sent += usize::from(!skipped.get(r.index).copied().unwrap_or(false));
                    listed |= included(&r.tags);
                });
            }
            let chosen = include.is_empty() || listed;
            let left_out = excluded(&t.tags) || (requests > 0 && sent == 0);
            if chosen && !left_out {
                total += u64::from(t.weight);
                tasks.push(i);
                cumulative.push(total);
            }
        }
        TaskTable {
            tasks,
            cumulative,
            skipped,
        }
    }

    /// Whether `--exclude-tags` leaves out the request with this index.
    pub fn skips(&self, request: usize) -> bool {
        self.skipped.get(request).copied().unwrap_or(false)
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

/// The step lists of a task: its own, or each of its sequence's.
fn task_steps(t: &Task) -> Vec<&[Step]> {
    match &t.body {
        TaskBody::Steps(steps) => vec![steps],
        TaskBody::Sequence(inner) => inner.iter().map(|(_, steps)| steps.as_slice()).collect(),
    }
}

/// Calls `f` with every request of the steps, in every branch and loop.
pub fn for_each_request<'a>(steps: &'a [Step], f: &mut impl FnMut(&'a Request)) {
    for step in steps {
        match step {
            Step::Request(r) => f(r),
            Step::If(i) => {
                for_each_request(&i.then, f);
                for_each_request(&i.otherwise, f);
            }
            Step::Repeat(_, body) => for_each_request(body, f),
            Step::Let(..) | Step::Sleep(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Context, compile_source};

    const TAGGED: &str = r#"
user Tagged tags web {
  on start {
    GET "/login" { tags auth }
  }
  task mixed tags read {
    GET "/kept"
    GET "/dropped" { tags slow }
  }
  task only_slow {
    if true {
      repeat 2 { GET "/only-slow" { tags slow } }
    }
  }
  task listed {
    GET "/listed-untagged"
    GET "/listed" { tags list }
  }
  sequence flow {
    task a { GET "/a" }
    task b tags list { GET "/b" }
  }
  task idle tags read {
    sleep 1s
  }
}
"#;

    /// The names of the tasks picked, and the paths of the requests left out.
    fn table(include: &[&str], exclude: &[&str]) -> (Vec<String>, Vec<String>) {
        let plan = compile_source(TAGGED, &Context::for_file(std::path::Path::new("t.kload")))
            .plan
            .expect("compiles");
        let class = &plan.classes[0];
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let t = TaskTable::new(class, &strings(include), &strings(exclude));
        let picked = t
            .shares()
            .into_iter()
            .map(|(i, _)| class.tasks[i].name.clone())
            .collect();
        let mut skipped = Vec::new();
        let mut note = |steps: &[Step]| {
            for_each_request(steps, &mut |r| {
                if t.skips(r.index) {
                    skipped.push(r.url.source.clone());
                }
            })
        };
        note(&class.on_start);
        for task in &class.tasks {
            task_steps(task).into_iter().for_each(&mut note);
        }
        (picked, skipped)
    }

    #[test]
    fn excluded_tags_leave_out_requests_and_the_tasks_left_empty() {
        let (picked, skipped) = table(&[], &["slow"]);
        assert_eq!(picked, ["mixed", "listed", "flow", "idle"]);
        assert_eq!(skipped, ["/dropped", "/only-slow"]);
        // A class tag is on every request, `on start` included.
        let (picked, skipped) = table(&[], &["web"]);
        assert!(picked.is_empty());
        assert_eq!(skipped.len(), 8, "{skipped:?}");
        // Nothing excluded: nothing skipped, every task picked.
        let (picked, skipped) = table(&[], &[]);
        assert_eq!(picked.len(), 5);
        assert!(skipped.is_empty());
    }

    #[test]
    fn included_tags_choose_tasks_by_their_requests_too() {
        // `listed` has a request tagged `list`, `flow` an inner task; `on start` stays.
        assert_eq!(
            table(&["list"], &[]),
            (strings(&["listed", "flow"]), vec![])
        );
        // A task without requests is chosen by its own tags.
        assert_eq!(table(&["read"], &[]).0, ["mixed", "idle"]);
        // Exclusion wins.
        let (picked, skipped) = table(&["read", "list"], &["list", "auth"]);
        assert_eq!(picked, ["mixed", "listed", "flow", "idle"]);
        assert_eq!(skipped, ["/login", "/listed", "/b"]);
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }
}
