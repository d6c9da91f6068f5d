//! One virtual user: its variables, data-feed row, HTTP session and task loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::signal::{Listener, Signal};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::RunShared;
use super::eval::{self, EvalError, UserState};
use super::http::{self, Session};
use crate::ir::{
    Condition, ConditionTest, Request, Sleep, Step, Task, TaskBody, UserClass, WaitTime,
};
use crate::metrics::Recorder;
use crate::metrics::sample::{FailureKind, Sample};
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
        let plan = &shared.globals.plan;
        let class_ir = &plan.classes[class];
        let mut rng = match shared.seed {
            Some(seed) => {
                SmallRng::seed_from_u64(seed ^ user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            }
            None => SmallRng::from_os_rng(),
        };
        let mut rows = vec![None; plan.feeds.len()];
        for feed_id in &class_ir.feeds {
            let feed = &plan.feeds[*feed_id as usize];
            let n = feed.rows.len();
            let index = match feed.mode {
                FeedMode::Unique => {
                    let i = shared.feed_cursors[*feed_id as usize]
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
                    shared.feed_cursors[*feed_id as usize]
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        % n.max(1)
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
                Err(EvalError(e)) => shared.note_template_error(None, &e),
            }
        }
        self.run_steps(&class.on_start, tokens, &tokens.kill, None)
            .await
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
            // Only pacing waits need to know how long the task took.
            let paced = matches!(
                self.class().wait,
                WaitTime::Pacing(_) | WaitTime::Throughput(_)
            );
            let started = paced.then(Instant::now);
            let finished = self.run_task(task, tokens, None).await;
            if let Some(started) = started {
                self.last_task_time = started.elapsed();
            }
            if !finished {
                return;
            }
            if !self.wait(tokens).await {
                return;
            }
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
        match &task.body {
            TaskBody::Steps(steps) => {
                self.run_steps(steps, tokens, &tokens.interrupt, scheduled)
                    .await
            }
            TaskBody::Sequence(inner) => {
                for (i, (_, steps)) in inner.iter().enumerate() {
                    if !self
                        .run_steps(
                            steps,
                            tokens,
                            &tokens.interrupt,
                            scheduled.filter(|_| i == 0),
                        )
                        .await
                    {
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
        tokio::select! {
            _ = tokens.stop.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }

    /// Runs steps; false when `cancel` fired. `cancel` is `tokens.interrupt` or `tokens.kill`.
    pub async fn run_steps(
        &mut self,
        steps: &[Step],
        tokens: &StopTokens,
        cancel: &Signal,
        mut scheduled: Option<Instant>,
    ) -> bool {
        self.steps(steps, tokens, cancel, &mut scheduled).await
    }

    /// Runs steps; `scheduled` is taken by the first request sent, wherever it stands.
    async fn steps(
        &mut self,
        steps: &[Step],
        tokens: &StopTokens,
        cancel: &Signal,
        scheduled: &mut Option<Instant>,
    ) -> bool {
        let shared = self.shared.clone();
        let class = &shared.globals.plan.classes[self.class];
        for step in steps {
            match step {
                Step::Let(var, expr) => match eval::eval(expr, &mut self.state, &shared.globals) {
                    Ok(v) => self.state.vars[*var as usize] = Some(v),
                    Err(EvalError(e)) => shared.note_template_error(None, &e),
                },
                Step::If(i) => {
                    let branch = match self.decide(&i.condition) {
                        Ok(true) => &i.then,
                        Ok(false) => &i.otherwise,
                        Err(EvalError(e)) => {
                            // Neither branch: the condition could not be evaluated.
                            let message = format!("in the condition of an `if`: {e}");
                            shared.note_template_error(Some(i.condition.span), &message);
                            continue;
                        }
                    };
                    // Boxed: a step holds steps, so its future would hold itself.
                    if !Box::pin(self.steps(branch, tokens, cancel, scheduled)).await {
                        return false;
                    }
                }
                Step::Repeat(n, body) => {
                    for _ in 0..*n {
                        if !Box::pin(self.steps(body, tokens, cancel, scheduled)).await {
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
                        _ = listener.fired() => return false,
                    };
                    let mut latency = outcome.latency;
                    if let Some(at) = scheduled.take() {
                        // The open model measures from the intended start (no coordinated omission).
                        latency = at.elapsed().max(latency);
                    }
                    let failure = outcome.failure.map(|mut f| {
                        if f.kind == FailureKind::Template {
                            shared.note_template_error(Some(req.span), &f.message);
                            f.message =
                                format!("template error at line {}: {}", req.line, f.message);
                        }
                        Box::new(f)
                    });
                    let sample = Sample {
                        stat: req.stat,
                        elapsed_ms: (outcome.started + outcome.latency)
                            .saturating_duration_since(shared.started)
                            .as_millis() as u32,
                        latency_us: latency.as_micros().min(u128::from(u32::MAX)) as u32,
                        ttfb_us: outcome.ttfb.as_micros().min(u128::from(u32::MAX)) as u32,
                        bytes: outcome.bytes.min(u32::MAX as usize) as u32,
                        status: outcome.status,
                        failure,
                    };
                    if let Some(trace) = self.trace.as_mut() {
                        trace.push(sample.clone());
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
        self.run_steps(&class.on_stop, tokens, &tokens.kill, None)
            .await;
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
