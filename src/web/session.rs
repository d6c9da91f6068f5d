//! The web UI over a real run: [`SessionController`] implements [`Controller`] with
//! `kload::session`, so the page starts, edits, stops and watches the same run value the
//! command line drives.
//!
//! ```text
//! POST /swarm ──▶ start: base Options (flags) + the form ──prepare──▶ Prepared::start ──▶ Run
//!                 a follower task: Run::subscribe ──map──▶ UiSnapshot (+ History, logs) ──▶ page
//!                                  Run::finish ──▶ the final snapshot, verdict in the log
//! Edit ──▶ Run::retarget (the schedule's rule, its message shown)    Stop ──▶ Run::stop
//! Reset statistics ──▶ Run::reset_stats      Download data ──▶ Run::summary ──▶ kload::report
//! ```
//!
//! One test at a time: "New test" replaces the finished run with a fresh one (fresh
//! statistics, a fresh chart history; the log goes on). [`SessionController::runs`] tells
//! the command line when a test starts, so that it can print and write each test's result
//! as a headless run does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::controller::{
    ClassView, Controller, Download, LoadModel, PlanView, StageView, StartRequest, TaskView,
};
use super::snapshot::{
    ClassRatio, ClassUsers, CurrentPercentiles, FailureRow, History, HistoryPoint, LogLine,
    MAX_HISTORY, MAX_LOG_LINES, RunState, ScenarioError, StatRow, ThresholdStatus, ThresholdView,
    UiSnapshot, redact_url,
};
use crate::ir::{Plan, Stage, Step, TaskBody};
use crate::metrics::summary::generator_warnings;
use crate::metrics::{FailureKind, FailureSummary, LiveTable, Selector, TableRow};
use crate::runtime::{self, dispatch::Dispatcher};
use crate::schedule::Schedule;
use crate::session::{self, Finished, Options, Run, Scenario};
use crate::span::LineIndex;

/// Chart points are kept at most this often (snapshots also come after each control).
const POINT_EVERY: Duration = Duration::from_millis(900);

/// The web UI's controller of real runs of one scenario.
pub struct SessionController {
    scenario: Arc<Scenario>,
    /// The command line's options: the form's fields override them for each test.
    base: Options,
    handle: Handle,
    this: Weak<SessionController>,
    plan: PlanView,
    /// Where each request of the plan is, by (method, name): for scenario errors.
    places: HashMap<(String, String), Vec<Place>>,
    state: Mutex<State>,
    snapshots: watch::Sender<Arc<UiSnapshot>>,
    runs: watch::Sender<Option<Run>>,
}

/// A request of the plan in the file.
struct Place {
    /// `line:column`, as runtime messages quote it.
    at: String,
    line: u32,
    column: u32,
    source_line: String,
    /// What its captures say, as failure messages quote them.
    captures: Vec<String>,
}

struct State {
    /// Counts tests; a follower of an older one stops publishing.
    generation: u64,
    test: Option<Test>,
    history: History,
    last_point: Option<Duration>,
    last_state: Option<runtime::RunState>,
    logs: VecDeque<LogLine>,
}

/// The current (or last) test.
struct Test {
    run: Run,
    /// The target, its password hidden.
    host: String,
    started_at: f64,
    spawn_rate: f64,
    /// The end of the run, once the follower saw it (the downloads use its summary).
    finished: Option<Arc<Finished>>,
    /// The generator's warnings at the end (with users that could not start).
    final_warnings: Option<Vec<String>>,
}

impl SessionController {
    /// A controller in state `ready` for `scenario`, with the command line's `options` as the
    /// defaults of every test. Runs are started on `handle`.
    pub fn new(scenario: Arc<Scenario>, options: Options, handle: Handle) -> Arc<Self> {
        let plan = plan_view(&scenario, &options);
        let places = places(&scenario);
        let ready = Arc::new(UiSnapshot::ready(redact_url(&plan.host)));
        Arc::new_cyclic(|this| SessionController {
            scenario,
            base: options,
            handle,
            this: this.clone(),
            plan,
            places,
            state: Mutex::new(State {
                generation: 0,
                test: None,
                history: History::new(MAX_HISTORY),
                last_point: None,
                last_state: None,
                logs: VecDeque::new(),
            }),
            snapshots: watch::channel(ready).0,
            runs: watch::channel(None).0,
        })
    }

    /// The run of each test as it starts (`None` before the first): the command line waits
    /// on it to print and write each test's result and to stop a test on Ctrl-C.
    pub fn runs(&self) -> watch::Receiver<Option<Run>> {
        self.runs.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows a test's snapshots until it ends.
    fn follow(&self, run: Run, generation: u64) {
        let this = self.this.clone();
        self.handle.spawn(async move {
            let mut snapshots = run.subscribe();
            let finish = run.finish();
            tokio::pin!(finish);
            loop {
                tokio::select! {
                    changed = snapshots.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let snapshot = snapshots.borrow_and_update().clone();
                        let Some(this) = this.upgrade() else { return };
                        let mut s = this.lock();
                        if s.generation == generation {
                            this.publish(&mut s, &snapshot);
                        }
                    }
                    finished = &mut finish => {
                        if let Some(this) = this.upgrade() {
                            this.finished(generation, finished);
                        }
                        return;
                    }
                }
            }
        });
    }

    /// The test ended: the final snapshot, and why it ended in the log.
    fn finished(&self, generation: u64, finished: Arc<Finished>) {
        let mut s = self.lock();
        if s.generation != generation {
            return;
        }
        let Some(test) = s.test.as_mut() else { return };
        test.final_warnings = Some(finished.summary.generator_warnings());
        test.finished = Some(finished.clone());
        let run = test.run.clone();
        let outcome = &finished.summary.info.outcome;
        if let Some(why) = &finished.not_started {
            log(&mut s, "ERROR", format!("The test did not start: {why}"));
        } else if let Some(threshold) = &outcome.aborted_by {
            log(
                &mut s,
                "ERROR",
                format!("Threshold `{threshold}` failed: the test was aborted"),
            );
        }
        let verdict = &finished.verdict;
        if verdict.passed() {
            log(&mut s, "INFO", "Test finished: every threshold held".into());
        } else {
            for reason in &verdict.reasons {
                log(&mut s, "WARNING", format!("Test failed: {reason}"));
            }
        }
        self.publish(&mut s, &run.snapshot());
    }

    /// Maps a session snapshot into the page's and sends it.
    fn publish(&self, s: &mut State, snapshot: &session::Snapshot) {
        let Some(test) = s.test.as_ref() else {
            self.publish_ready(s);
            return;
        };
        let done = test.run.is_done();
        let state = if done {
            RunState::Stopped
        } else {
            match snapshot.state {
                runtime::RunState::Spawning => RunState::Spawning,
                runtime::RunState::Running => RunState::Running,
                runtime::RunState::Stopping => RunState::Stopping,
                runtime::RunState::Stopped => RunState::Stopped,
            }
        };
        let started_at = test.started_at;
        let host = test.host.clone();
        let spawn_rate = test.spawn_rate;
        let final_warnings = test.final_warnings.clone();
        if s.last_state != Some(snapshot.state) {
            let previous = s.last_state.replace(snapshot.state);
            if previous == Some(runtime::RunState::Spawning)
                && snapshot.state == runtime::RunState::Running
            {
                log(
                    s,
                    "INFO",
                    format!("All users spawned: {}", self.class_text(snapshot)),
                );
            }
        }
        let table = &snapshot.table;
        if s.last_point
            .is_none_or(|last| snapshot.elapsed >= last + POINT_EVERY)
            && !done
        {
            s.last_point = Some(snapshot.elapsed);
            let [p50, p95, p99] = split3(table.window_ms);
            let [c50, c95, c99] = split3(table.window_corrected_ms);
            s.history.push(HistoryPoint {
                time: started_at + snapshot.elapsed.as_secs_f64(),
                user_count: snapshot.users,
                rps: snapshot.live.rps,
                fps: snapshot.live.fps,
                p50,
                p95,
                p99,
                corrected_p50: c50,
                corrected_p95: c95,
                corrected_p99: c99,
            });
        }
        let (rows, total) = match table.rows.split_last() {
            Some((total, rows)) => (rows.iter().map(stat_row).collect(), stat_row(total)),
            None => (Vec::new(), StatRow::aggregated()),
        };
        let users = snapshot.users;
        let class_users = |i: usize| snapshot.class_users.get(i).copied().unwrap_or(0);
        let ui = UiSnapshot {
            state,
            host,
            started_at: Some(started_at),
            elapsed_ms: snapshot.elapsed.as_millis() as u64,
            run_time_ms: snapshot.run_time.map(|d| d.as_millis() as u64),
            user_count: if done { 0 } else { users },
            target_users: snapshot.target_users,
            spawn_rate,
            classes: self
                .plan
                .classes
                .iter()
                .enumerate()
                .map(|(i, c)| ClassUsers {
                    name: c.name.clone(),
                    users: class_users(i),
                })
                .collect(),
            stats: rows,
            total,
            current: CurrentPercentiles {
                p50: table.window_ms.map(|w| w[0]),
                p95: table.window_ms.map(|w| w[1]),
                p99: table.window_ms.map(|w| w[2]),
                corrected: table.window_corrected_ms.map(|w| {
                    Box::new(CurrentPercentiles {
                        p50: Some(w[0]),
                        p95: Some(w[1]),
                        p99: Some(w[2]),
                        corrected: None,
                    })
                }),
            },
            history: s.history.points(),
            failures: table.failures.iter().map(failure_row).collect(),
            scenario_errors: table
                .failures
                .iter()
                .filter(|f| matches!(f.kind, FailureKind::Capture | FailureKind::Template))
                .map(|f| self.scenario_error(f))
                .collect(),
            task_ratios: self
                .plan
                .classes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    ClassRatio::of(
                        &c.name,
                        c.tasks.iter().map(|t| (t.name.as_str(), t.weight)),
                        class_users(i),
                        users,
                    )
                })
                .collect(),
            thresholds: self.thresholds(table),
            logs: s.logs.iter().cloned().collect(),
            warnings: final_warnings.unwrap_or_else(|| {
                generator_warnings(
                    table.lateness_p99_us,
                    table.lateness_max_us,
                    table.dropped_iterations,
                )
            }),
        };
        self.snapshots.send_replace(Arc::new(ui));
    }

    fn publish_ready(&self, s: &State) {
        let mut ready = UiSnapshot::ready(redact_url(&self.plan.host));
        ready.logs = s.logs.iter().cloned().collect();
        self.snapshots.send_replace(Arc::new(ready));
    }

    /// `KibrayUser: 8, AdminUser: 1` for a log line.
    fn class_text(&self, snapshot: &session::Snapshot) -> String {
        self.plan
            .classes
            .iter()
            .zip(&snapshot.class_users)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{}: {n}", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A failure of the scenario itself, placed at the request it happened in.
    fn scenario_error(&self, f: &FailureSummary) -> ScenarioError {
        let key = (f.method.clone(), f.name.clone());
        let candidates = self.places.get(&key).map(Vec::as_slice).unwrap_or_default();
        let place = candidates
            .iter()
            .find(|p| f.message.contains(&format!("at line {}:", p.at)))
            .or_else(|| {
                candidates
                    .iter()
                    .find(|p| p.captures.iter().any(|c| f.message.contains(c.as_str())))
            })
            .or(candidates.first());
        ScenarioError {
            message: f.error_text(),
            file: self.plan.file.clone(),
            line: place.map_or(0, |p| p.line),
            column: place.map_or(0, |p| p.column),
            source_line: place.map(|p| p.source_line.clone()).unwrap_or_default(),
            count: f.occurrences,
            first_seen: unix(f.first_seen),
            last_seen: unix(f.last_seen),
        }
    }

    /// Each threshold's live status, with whether it is about to abort the run.
    fn thresholds(&self, table: &LiveTable) -> Vec<ThresholdView> {
        let stats = &self.scenario.plan.stats;
        table
            .thresholds
            .iter()
            .map(|r| {
                let t = &r.threshold;
                let status = match (r.measured, r.passed) {
                    (None, _) => ThresholdStatus::NoData,
                    (Some(_), true) => ThresholdStatus::Passing,
                    (Some(_), false) => ThresholdStatus::Failing,
                };
                // Requests the threshold looks at: the abort rule counts them.
                let matched: u64 = if t.selector == Selector::All {
                    table.rows.last().map_or(0, |r| r.requests)
                } else {
                    let rows = table.rows.split_last().map_or(&[][..], |(_, rows)| rows);
                    rows.iter()
                        .filter(|row| {
                            stats.iter().any(|k| {
                                k.name == row.name
                                    && k.method == row.method
                                    && t.selector.matches_key(k)
                            })
                        })
                        .map(|row| row.requests)
                        .sum()
                };
                let aborts = t.aborts();
                ThresholdView {
                    source: t.source.clone(),
                    status,
                    observed: r.measured.map(|v| t.metric.format_value(v)),
                    warn_only: t.warn_only,
                    aborts,
                    would_abort: aborts
                        && status == ThresholdStatus::Failing
                        && matched >= t.abort_after.unwrap_or(u64::MAX),
                }
            })
            .collect()
    }

    /// Publishes what the current test looks like now (after a control).
    fn refresh(&self, s: &mut State) {
        match s.test.as_ref().map(|t| t.run.snapshot()) {
            Some(snapshot) => self.publish(s, &snapshot),
            None => self.publish_ready(s),
        }
    }

    /// The test that runs now (spawning or running), if any.
    fn active(s: &State) -> Option<&Test> {
        s.test.as_ref().filter(|t| {
            !t.run.is_done()
                && matches!(
                    t.run.state(),
                    runtime::RunState::Spawning | runtime::RunState::Running
                )
        })
    }
}

impl Controller for SessionController {
    fn plan(&self) -> PlanView {
        self.plan.clone()
    }

    fn split(&self, users: u32, classes: &[String]) -> Vec<u32> {
        let plan_classes = &self.scenario.plan.classes;
        let enabled: Vec<bool> = if classes.is_empty() {
            Vec::new()
        } else {
            plan_classes
                .iter()
                .map(|c| classes.contains(&c.name))
                .collect()
        };
        let mut counts = vec![0; plan_classes.len()];
        let mut dispatcher = Dispatcher::only(plan_classes, &enabled);
        for _ in 0..users {
            match dispatcher.next_class() {
                Some(class) => counts[class] += 1,
                None => break,
            }
        }
        counts
    }

    fn start(&self, request: StartRequest) -> Result<(), String> {
        let mut s = self.lock();
        if let Some(test) = &s.test
            && !test.run.is_done()
        {
            return Err(match test.run.state() {
                runtime::RunState::Stopping | runtime::RunState::Stopped => {
                    "the last test is still stopping: wait for it to end".into()
                }
                _ => "a test is already running: stop it first".into(),
            });
        }
        let mut options = self.base.clone();
        if request.users.is_some() {
            options.users = request.users;
        }
        if request.spawn_rate.is_some() {
            options.spawn_rate = request.spawn_rate;
        }
        if request.host.is_some() {
            options.host = request.host;
        }
        if request.run_time.is_some() {
            options.run_time = request.run_time;
        }
        options.classes = request.classes;
        // A test started from the page starts now (a shared start instant is for segments
        // of a distributed run, which run headless).
        options.start_at = None;
        let prepared =
            session::prepare(self.scenario.clone(), options).map_err(|e| e.to_string())?;
        let config = prepared.config();
        let host = config
            .host
            .clone()
            .or_else(|| self.scenario.plan.host.clone())
            .unwrap_or_default();
        let (message, spawn_rate) = match &config.schedule {
            Schedule::Closed(ramp) => (
                format!(
                    "Ramping to {} users at a rate of {:.2} per second",
                    ramp.to, ramp.rate
                ),
                ramp.rate,
            ),
            _ => (
                format!("Starting the test: {}", prepared.describe()),
                self.plan.spawn_rate,
            ),
        };
        let run = {
            let _runtime = self.handle.enter();
            prepared.start()
        };
        s.generation += 1;
        s.history.clear();
        s.last_point = None;
        s.last_state = None;
        s.test = Some(Test {
            run: run.clone(),
            host: redact_url(&host),
            started_at: unix(Utc::now()),
            spawn_rate,
            finished: None,
            final_warnings: None,
        });
        log(&mut s, "INFO", message);
        self.refresh(&mut s);
        let generation = s.generation;
        drop(s);
        self.follow(run.clone(), generation);
        self.runs.send_replace(Some(run));
        Ok(())
    }

    fn set_users(&self, users: u32, spawn_rate: f64) -> Result<String, String> {
        let mut s = self.lock();
        let Some(test) = Self::active(&s) else {
            return Err("no test is running".into());
        };
        let message = test.run.retarget(users, spawn_rate)?;
        if let Some(test) = s.test.as_mut()
            && matches!(
                test.run.config().schedule,
                Schedule::Closed(_) | Schedule::Stages(_)
            )
        {
            test.spawn_rate = spawn_rate;
        }
        log(&mut s, "INFO", format!("Users changed: {message}"));
        self.refresh(&mut s);
        Ok(message)
    }

    fn stop(&self) {
        let mut s = self.lock();
        let Some(test) = Self::active(&s) else {
            return;
        };
        test.run.stop();
        log(
            &mut s,
            "INFO",
            "Stopping the test (asked from the web UI)".into(),
        );
        self.refresh(&mut s);
    }

    fn reset_stats(&self) {
        let mut s = self.lock();
        if let Some(test) = s.test.as_mut() {
            test.run.reset_stats();
            // The end's summary had the statistics now forgotten.
            test.finished = None;
        }
        s.history.clear();
        s.last_point = None;
        log(&mut s, "INFO", "Resetting stats".into());
        self.refresh(&mut s);
    }

    fn snapshot(&self) -> Arc<UiSnapshot> {
        self.snapshots.borrow().clone()
    }

    fn subscribe(&self) -> watch::Receiver<Arc<UiSnapshot>> {
        self.snapshots.subscribe()
    }

    fn download(&self, what: Download) -> Result<Vec<u8>, String> {
        let summary = {
            let s = self.lock();
            let Some(test) = s.test.as_ref() else {
                return Err("no test has run yet: start one first".into());
            };
            match &test.finished {
                Some(finished) => finished.summary.clone(),
                None => test.run.summary(),
            }
        };
        what.render(&summary)
    }
}

/// Adds a log line, keeping the newest [`MAX_LOG_LINES`].
fn log(s: &mut State, level: &str, message: String) {
    s.logs.push_back(LogLine {
        time: unix(Utc::now()),
        level: level.into(),
        message,
    });
    while s.logs.len() > MAX_LOG_LINES {
        s.logs.pop_front();
    }
}

fn unix(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn split3(values: Option<[f64; 3]>) -> [Option<f64>; 3] {
    values.map_or([None; 3], |v| v.map(Some))
}

/// A row of the live table with the page's (Locust's) numbers.
fn stat_row(row: &TableRow) -> StatRow {
    StatRow {
        method: row.method.clone(),
        name: row.name.clone(),
        num_requests: row.requests,
        num_failures: row.failures,
        median_response_time: row.median_ms.unwrap_or(0.0),
        p90_response_time: row.p90_ms.unwrap_or(0),
        p95_response_time: row.p95_ms.unwrap_or(0),
        p99_response_time: row.p99_ms.unwrap_or(0),
        avg_response_time: row.avg_ms,
        min_response_time: row.min_ms,
        max_response_time: row.max_ms,
        avg_content_length: row.avg_size,
        current_rps: row.current_rps,
        current_fail_per_sec: row.current_fps,
        total_rps: row.total_rps,
        total_fail_per_sec: row.total_fps,
    }
}

/// A failure group, with its examples of what varied.
fn failure_row(f: &FailureSummary) -> FailureRow {
    FailureRow {
        method: f.method.clone(),
        name: f.name.clone(),
        kind: f.kind.as_str().to_owned(),
        message: f.error_text(),
        occurrences: f.occurrences,
        first_seen: unix(f.first_seen),
        last_seen: unix(f.last_seen),
    }
}

/// What the start form shows: the scenario's classes and load model, with the command
/// line's flags over the file's `load` block.
fn plan_view(scenario: &Scenario, options: &Options) -> PlanView {
    let plan = &scenario.plan;
    let host = options
        .host
        .clone()
        .or_else(|| plan.host.clone())
        .unwrap_or_default();
    let config = session::config::resolve(plan, options).ok();
    let schedule = config.as_ref().map(|c| c.schedule.clone());
    let spawn_rate = options.spawn_rate.or(plan.load.spawn_rate).unwrap_or(1.0);
    let (users, load, edit_rule) = match &schedule {
        Some(Schedule::Stages(stages)) => (
            schedule.as_ref().map_or(0, Schedule::peak_users),
            LoadModel::Stages {
                stages: stage_views(stages),
            },
            "Edit replaces the remaining stages by a fixed user count, reached at the ramp-up \
             given; the rest of the profile does not run.",
        ),
        Some(Schedule::Open(a)) => (
            a.max_users,
            LoadModel::ArrivalRate {
                rate: a.rate,
                max_users: a.max_users,
            },
            "Edit changes how many users may be busy at once (max_users); the arrival rate \
             stays and the ramp-up does not apply.",
        ),
        Some(Schedule::Closed(ramp)) => (
            ramp.to,
            LoadModel::Closed,
            "Edit ramps from the current user count to the new one at the new ramp-up.",
        ),
        None => (
            options.users.or(plan.load.users).unwrap_or(1),
            LoadModel::Closed,
            "Edit ramps from the current user count to the new one at the new ramp-up.",
        ),
    };
    let run_time = config
        .as_ref()
        .and_then(|c| c.run_time)
        .or(options.run_time);
    PlanView {
        scenario: plan.name.clone(),
        file: scenario.name(),
        host,
        users,
        spawn_rate: match &schedule {
            Some(Schedule::Closed(ramp)) => ramp.rate,
            _ => spawn_rate,
        },
        run_time_ms: run_time.map(|d| d.as_millis() as u64),
        classes: plan
            .classes
            .iter()
            .map(|c| ClassView {
                name: c.name.clone(),
                weight: c.weight,
                fixed_count: c.fixed_count,
                tasks: c
                    .tasks
                    .iter()
                    .map(|t| TaskView {
                        name: t.name.clone(),
                        weight: t.weight,
                    })
                    .collect(),
            })
            .collect(),
        load,
        edit_rule: edit_rule.into(),
        thresholds: plan
            .thresholds
            .iter()
            .map(|t| t.source.clone())
            .chain(options.thresholds.iter().cloned())
            .collect(),
    }
}

/// Stages as users at the end of each and its length.
fn stage_views(stages: &[Stage]) -> Vec<StageView> {
    let mut users = 0;
    stages
        .iter()
        .map(|stage| match *stage {
            Stage::Ramp { to, over } => {
                users = to;
                StageView {
                    users: to,
                    duration_ms: over.as_millis() as u64,
                }
            }
            Stage::Hold(d) => StageView {
                users,
                duration_ms: d.as_millis() as u64,
            },
        })
        .collect()
}

/// Every request of the plan by (method, name), in the file's order.
fn places(scenario: &Scenario) -> HashMap<(String, String), Vec<Place>> {
    let plan: &Plan = &scenario.plan;
    let source = &scenario.source;
    let lines = LineIndex::new(source);
    let mut out: HashMap<(String, String), Vec<Place>> = HashMap::new();
    let mut visit = |steps: &[Step]| {
        walk(steps, &mut |request| {
            let Some(key) = plan.stats.get(request.stat as usize) else {
                return;
            };
            let (line, column) = lines.line_col(source, request.span.start);
            let text = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
            out.entry((key.method.clone(), key.name.clone()))
                .or_default()
                .push(Place {
                    at: request.line.clone(),
                    line: line as u32,
                    column: column as u32,
                    source_line: text.to_owned(),
                    captures: request
                        .captures
                        .iter()
                        .map(|c| c.source_text.clone())
                        .collect(),
                });
        });
    };
    for class in &plan.classes {
        visit(&class.on_start);
        for task in &class.tasks {
            match &task.body {
                TaskBody::Steps(steps) => visit(steps),
                TaskBody::Sequence(inner) => {
                    for (_, steps) in inner {
                        visit(steps);
                    }
                }
            }
        }
        visit(&class.on_stop);
    }
    out
}

fn walk(steps: &[Step], f: &mut dyn FnMut(&crate::ir::Request)) {
    for step in steps {
        match step {
            Step::Request(request) => f(request),
            Step::If(branch) => {
                walk(&branch.then, f);
                walk(&branch.otherwise, f);
            }
            Step::Repeat(_, inner) => walk(inner, f),
            Step::Let(..) | Step::Sleep(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
