//! A load test as a value: one library call starts a run and returns a [`Run`] handle that
//! every controller drives — the command line, the web UI, a metrics exporter, a runner of
//! one segment of a distributed run.
//!
//! ```text
//! Scenario::load ──▶ prepare(scenario, Options) ──▶ Prepared::start ──▶ Run
//!     Run: retarget / stop / interrupt / kill / reset_stats / snapshot / subscribe / summary
//!     Run::finish ──▶ Finished { summary, verdict (exit code), comparison, written files }
//! ```
//!
//! The merge of the file's load profile with the options (`config`), the run info, the
//! thresholds given as options, the baseline comparison and the exit-code policy
//! (`verdict`) live here, once.

pub mod config;
pub mod verdict;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, watch};

use crate::compile::{self, Context};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::Plan;
use crate::metrics::summary::{ClassInfo, Note, Outcome, SegmentInfo};
use crate::metrics::{LiveStats, LiveTable, Metrics, RunInfo, Summary, TimePoint};
use crate::report::{self, compare::Comparison};
use crate::runtime::{self, Control, RunConfig, RunOutcome, RunState};
use crate::schedule::{Schedule, Segment};
use crate::span::Span;

pub use config::ConfigError;
pub use verdict::{Verdict, exit};

/// A scenario read and compiled once, kept with its source: reports embed it (unless told
/// not to) and runtime errors quote it, without reading or parsing the file again.
#[derive(Debug)]
pub struct Scenario {
    /// The file as given (for messages and reports).
    pub path: PathBuf,
    pub source: Arc<str>,
    pub plan: Arc<Plan>,
    /// SHA-256 of the source with the secrets written in it replaced by `***`, hex: which
    /// scenario a result came from, without a way to test guesses of a password against it.
    pub sha256: String,
    /// Warnings of the compiler (errors make [`Scenario::load`] fail).
    pub warnings: Vec<Diagnostic>,
}

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read { path: PathBuf, error: String },
    /// The file has errors: every diagnostic (errors and warnings), with the source to
    /// render them against.
    Invalid {
        path: PathBuf,
        source: Arc<str>,
        diagnostics: Vec<Diagnostic>,
    },
}

impl Scenario {
    /// Reads and compiles a `.kload` file (data files are read relative to it).
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let source = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
        Scenario::from_source(path, &source, &Context::for_file(path))
    }

    /// Compiles a source text named `path`, with data files resolved in `ctx`.
    pub fn from_source(path: &Path, source: &str, ctx: &Context) -> Result<Scenario, LoadError> {
        let out = compile::compile_source(source, ctx);
        let source: Arc<str> = Arc::from(source);
        match out.plan {
            Some(plan) => Ok(Scenario {
                path: path.to_path_buf(),
                sha256: sha256_hex(written_secrets(&plan).redact_all(&source).as_bytes()),
                source,
                plan: Arc::new(plan),
                warnings: out.diagnostics,
            }),
            None => Err(LoadError::Invalid {
                path: path.to_path_buf(),
                source,
                diagnostics: out.diagnostics,
            }),
        }
    }

    /// The file name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The source with the secrets written in it (`let secret`, a password in a URL...)
    /// replaced by `*`s of the same length: what diagnostics are rendered against.
    pub fn source_for_messages(&self) -> String {
        written_secrets(&self.plan).redact_keeping_offsets(&self.source)
    }
}

/// The secrets written in a scenario's file.
fn written_secrets(plan: &Plan) -> crate::redact::Secrets {
    let secrets = crate::redact::Secrets::new();
    for value in &plan.secret_literals {
        secrets.remember(value);
    }
    secrets
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Report files to write at the end of a run.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// Locust-compatible PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv,
    /// PREFIX_exceptions.csv.
    pub csv: Option<PathBuf>,
    /// One history row per request name each second too.
    pub csv_full_history: bool,
    /// The whole result (version 2, mergeable).
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// A saved result to compare the run with.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    /// Largest accepted slowdown, a fraction (0.2 for 20 %).
    pub max_regression: f64,
}

/// What to do when a segment starts after `start_at` (plus a second of tolerance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LateStart {
    /// Refuse to run (exit 3): a late segment would make the whole run something else than
    /// planned; the engine (Kubernetes, Slurm) then fails the run.
    #[default]
    Fail,
    /// Run anyway on the shared schedule: users due already start at once, arrivals whose
    /// time has passed are counted as dropped.
    Join,
}

/// How late a segment may start before [`LateStart`] applies.
pub const LATE_START_TOLERANCE: Duration = Duration::from_secs(1);

/// Everything about a run that does not come from the scenario file. `None` means: what the
/// file says, or the default.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub host: Option<String>,
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Duration>,
    pub stop_timeout: Option<Duration>,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub seed: Option<u64>,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// Thresholds written as in the file (`p95(tag list) < 200ms`), added to the file's.
    pub thresholds: Vec<String>,
    pub outputs: Outputs,
    pub baseline: Option<Baseline>,
    /// The exit code when any request failed (Locust's `--exit-code-on-error`; 0: ignore).
    pub exit_code_on_error: i32,
    /// The segment of a distributed run this process runs (`None`: the whole run, not a
    /// segment; `Some(1/1)` is a distributed run of one).
    pub segment: Option<Segment>,
    /// The instant every segment starts on; `None`: now.
    pub start_at: Option<DateTime<Utc>>,
    pub late_start: LateStart,
    /// Leave the scenario's source out of the reports.
    pub omit_source: bool,
    /// Only these user classes get users (a web UI's class picker); empty: all.
    pub classes: Vec<String>,
    /// The command line, for the report (URLs with credentials are redacted).
    pub command_line: Vec<String>,
}

/// Why a run could not start: a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A threshold given as an option does not compile.
    #[error("invalid threshold `{text}`: {}", diagnostic.message)]
    Threshold {
        text: String,
        diagnostic: Box<Diagnostic>,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A run checked and ready to start.
pub struct Prepared {
    scenario: Arc<Scenario>,
    /// The scenario's thresholds and those given as options.
    thresholds: Vec<crate::ir::Threshold>,
    config: RunConfig,
    options: Options,
}

/// Checks the options against the scenario: compiles the extra thresholds and resolves the
/// load (see [`config::resolve`]). No I/O, no runtime needed.
pub fn prepare(scenario: Arc<Scenario>, options: Options) -> Result<Prepared, StartError> {
    let mut thresholds = scenario.plan.thresholds.clone();
    for text in &options.thresholds {
        let t = compile::compile_threshold_line(text, &scenario.plan).map_err(|d| {
            StartError::Threshold {
                text: text.clone(),
                diagnostic: Box::new(d),
            }
        })?;
        thresholds.push(t);
    }
    let config = config::resolve(&scenario.plan, &options)?;
    Ok(Prepared {
        scenario,
        thresholds,
        config,
        options,
    })
}

impl Prepared {
    /// The resolved configuration (load model, host, timeouts...).
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The load model in words.
    pub fn describe(&self) -> String {
        config::describe(&self.config)
    }

    /// Every request of every class once, in order, with its status (a dry run): one user per
    /// class runs `on start`, each task as written, then `on stop`.
    pub async fn smoke(&self) -> Vec<runtime::SmokeResult> {
        let metrics = Metrics::new(self.scenario.plan.stats.clone());
        let shared = runtime::smoke_shared(self.scenario.plan.clone(), &self.config, metrics);
        let mut results = runtime::smoke(shared).await;
        // Each user masked its own secrets; what one user printed may hold another's.
        for r in &mut results {
            if let Some(f) = &mut r.failure {
                *f = self.config.secrets.redact_all(f);
            }
        }
        results
    }

    /// Starts the run on the current tokio runtime. With a start instant, the run waits for
    /// it (see [`LateStart`] for a segment that comes late).
    pub fn start(self) -> Run {
        let Prepared {
            scenario,
            thresholds,
            config,
            options,
        } = self;
        let run_plan = scenario.plan.clone();
        let control = Control::new(config.schedule.clone(), run_plan.classes.len());
        let (snapshots, _) = watch::channel(Arc::new(Snapshot::starting(&config)));
        let (done, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            scenario,
            plan: run_plan,
            thresholds,
            config,
            options,
            control,
            metrics: Mutex::new(None),
            snapshots,
            done,
            outcome: Mutex::new(None),
            finished: OnceCell::new(),
            late_ms: Mutex::new(0),
        });
        let engine = inner.clone();
        tokio::spawn(async move { engine.drive().await });
        Run { inner }
    }
}

/// A run going on (or over): cheap to clone, shared by every controller.
#[derive(Clone)]
pub struct Run {
    inner: Arc<Inner>,
}

struct Inner {
    scenario: Arc<Scenario>,
    plan: Arc<Plan>,
    thresholds: Vec<crate::ir::Threshold>,
    config: RunConfig,
    options: Options,
    control: Arc<Control>,
    /// Set when the engine starts (after waiting for the start instant).
    metrics: Mutex<Option<Arc<Metrics>>>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    done: watch::Sender<bool>,
    outcome: Mutex<Option<RunOutcome>>,
    finished: OnceCell<Arc<Finished>>,
    late_ms: Mutex<u64>,
}

/// What a controller sees of a run at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub state: RunState,
    pub elapsed: Duration,
    /// When the run will end (run time or end of the stages), if it ends by itself.
    pub run_time: Option<Duration>,
    pub users: u32,
    /// Running users per class (plan order).
    pub class_users: Vec<u32>,
    /// The users the schedule asks for now (the cap in the open model).
    pub target_users: u32,
    /// The load model in force, in words.
    pub schedule: String,
    pub live: LiveStats,
    pub table: LiveTable,
}

impl Snapshot {
    fn starting(config: &RunConfig) -> Snapshot {
        Snapshot {
            state: RunState::Spawning,
            elapsed: Duration::ZERO,
            run_time: config.run_time.or_else(|| config.schedule.natural_end()),
            users: 0,
            class_users: Vec::new(),
            target_users: 0,
            schedule: config::describe(config),
            live: Metrics::new(Vec::new()).live(),
            table: LiveTable::default(),
        }
    }
}

/// The end of a run: its result, verdict and what was written.
#[derive(Debug)]
pub struct Finished {
    /// The result, thresholds applied.
    pub summary: Summary,
    pub verdict: Verdict,
    /// The comparison with the baseline, when one was given and could be read.
    pub comparison: Option<Comparison>,
    /// Why the baseline could not be read.
    pub baseline_error: Option<String>,
    /// Report files written, or why one could not be.
    pub written: Result<Vec<String>, String>,
    /// Scenario errors at run time with the request they happened in, to render as
    /// diagnostics against the source.
    pub scenario_errors: Vec<(Option<Span>, String, u64)>,
    /// Why the run did not start at all (a late segment).
    pub not_started: Option<String>,
}

impl Run {
    /// The scenario being run.
    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.inner.scenario
    }

    /// The scenario's source with every secret the run knows replaced by `*`s of the same
    /// length: what a diagnostic about a runtime error (whose spans point into the source)
    /// is rendered against.
    pub fn source_for_messages(&self) -> String {
        self.inner
            .config
            .secrets
            .redact_keeping_offsets(&self.inner.scenario.source)
    }

    /// The resolved configuration.
    pub fn config(&self) -> &RunConfig {
        &self.inner.config
    }

    /// Asks for `users` users at `spawn_rate` per second from now on; says what that means
    /// for this run's load model.
    pub fn retarget(&self, users: u32, spawn_rate: f64) -> Result<String, String> {
        if self.inner.options.segment.is_some() {
            return Err("a segment of a distributed run cannot change its users".into());
        }
        if users == 0 {
            return Err("the user count must be at least 1 (stop the run instead)".into());
        }
        let message = self.inner.control.retarget(users, spawn_rate)?;
        self.inner.publish();
        Ok(message)
    }

    /// Stops gracefully.
    pub fn stop(&self) {
        self.inner.control.stop();
    }

    /// Stops gracefully because of a signal: the run is reported as interrupted.
    pub fn interrupt(&self) {
        self.inner.control.interrupt();
    }

    /// Stops at once.
    pub fn kill(&self) {
        self.inner.control.kill();
    }

    /// Forgets the statistics recorded so far; the run goes on counting from zero.
    pub fn reset_stats(&self) {
        if let Some(m) = self.metrics() {
            m.reset();
        }
        self.inner.publish();
    }

    pub fn state(&self) -> RunState {
        self.inner.control.state()
    }

    /// A snapshot made now. It only reads: the recorded series are not changed.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::new(self.inner.snapshot())
    }

    /// Snapshots as the run makes them, about once a second, and once more at the end.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.inner.snapshots.subscribe()
    }

    /// The result so far (thresholds applied), as a report would show it.
    pub fn summary(&self) -> Summary {
        self.inner.summary(None)
    }

    /// The result so far without its time series (`series: None`), thresholds applied:
    /// cheap enough to take every second for a live exporter.
    pub fn totals(&self) -> Summary {
        self.inner.totals()
    }

    /// The time points so far (totals only), for charts.
    pub fn history(&self) -> Vec<TimePoint> {
        self.metrics().map(|m| m.history()).unwrap_or_default()
    }

    fn metrics(&self) -> Option<Arc<Metrics>> {
        self.inner
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits for the run to end (by its run time, a stop, an abort), then evaluates the
    /// thresholds, compares with the baseline, writes the reports asked for and decides the
    /// exit code. Every caller gets the same result.
    pub async fn finish(&self) -> Arc<Finished> {
        let mut done = self.inner.done.subscribe();
        let _ = done.wait_for(|d| *d).await;
        self.inner
            .finished
            .get_or_init(|| async { Arc::new(self.inner.conclude()) })
            .await
            .clone()
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        *self.inner.done.borrow()
    }
}

impl Inner {
    async fn drive(self: Arc<Self>) {
        let origin = match self.wait_for_start().await {
            Ok(origin) => origin,
            Err(message) => {
                *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = None;
                self.not_started(message);
                return;
            }
        };
        let started_at = self.options.start_at.unwrap_or_else(Utc::now);
        let metrics = Metrics::starting_at_instant(
            self.plan.stats.clone(),
            started_at,
            tokio::time::Instant::from_std(origin),
        );
        *self.metrics.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics.clone());
        let publisher = self.clone();
        let outcome = runtime::run(
            self.plan.clone(),
            self.config.clone(),
            metrics,
            self.control.clone(),
            origin,
            self.thresholds.clone(),
            move |_tick| publisher.publish(),
        )
        .await;
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.publish();
        self.done.send_replace(true);
    }

    /// Sleeps until the start instant; returns the schedule's origin (the start instant on
    /// the monotonic clock), or why the run must not start.
    async fn wait_for_start(&self) -> Result<Instant, String> {
        let Some(at) = self.options.start_at else {
            return Ok(Instant::now());
        };
        let now = Utc::now();
        if at > now {
            let wait = (at - now).to_std().unwrap_or_default();
            let origin = Instant::now() + wait;
            tokio::select! {
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(origin)) => {}
                _ = self.control_stopped() => return Err("stopped before the start instant".into()),
            }
            return Ok(origin);
        }
        let late = (now - at).to_std().unwrap_or_default();
        *self.late_ms.lock().unwrap_or_else(PoisonError::into_inner) = late.as_millis() as u64;
        if late > LATE_START_TOLERANCE && self.options.late_start == LateStart::Fail {
            return Err(format!(
                "this segment started {:.1} s after the start instant {} (more than {} s late); \
                 it did not run, so the distributed run is incomplete (use --late-start join to \
                 run late segments anyway)",
                late.as_secs_f64(),
                at.to_rfc3339(),
                LATE_START_TOLERANCE.as_secs()
            ));
        }
        Ok(Instant::now()
            .checked_sub(late)
            .unwrap_or_else(Instant::now))
    }

    async fn control_stopped(&self) {
        while !self.control.is_stopping() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn not_started(&self, message: String) {
        let finished = Finished {
            summary: Metrics::new(self.plan.stats.clone()).summary_at(
                self.info(None, &Outcome::default(), Utc::now()),
                Duration::ZERO,
            ),
            verdict: Verdict {
                exit_code: exit::COULD_NOT_RUN,
                reasons: vec![message.clone()],
            },
            comparison: None,
            baseline_error: None,
            written: Ok(Vec::new()),
            scenario_errors: Vec::new(),
            not_started: Some(message),
        };
        let _ = self.finished.set(Arc::new(finished));
        self.done.send_replace(true);
    }

    fn metrics(&self) -> Option<Arc<Metrics>> {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn snapshot(&self) -> Snapshot {
        let control = &self.control;
        let schedule = control.schedule();
        let elapsed = control.elapsed();
        let (live, mut table) = match self.metrics() {
            Some(m) => (m.live(), m.table(&self.thresholds)),
            None => (Metrics::new(Vec::new()).live(), LiveTable::default()),
        };
        for f in &mut table.failures {
            f.message = self.config.secrets.redact_all(&f.message);
            for e in &mut f.examples {
                *e = self.config.secrets.redact_all(e);
            }
        }
        Snapshot {
            state: control.state(),
            elapsed,
            run_time: self
                .config
                .run_time
                .or_else(|| self.config.schedule.natural_end()),
            users: control.users(),
            class_users: control.class_users(),
            target_users: match &schedule {
                Schedule::Closed(r) => r.to,
                other => other.users_at(elapsed),
            },
            schedule: config::describe(&RunConfig {
                schedule,
                ..self.config.clone()
            }),
            live,
            table,
        }
    }

    fn publish(&self) {
        // Nobody listening: nothing to build.
        if self.snapshots.receiver_count() == 0 {
            return;
        }
        self.snapshots.send_replace(Arc::new(self.snapshot()));
    }

    /// The run info for a summary; `peak` users when the run is over.
    fn info(&self, peak: Option<usize>, outcome: &Outcome, started_at: DateTime<Utc>) -> RunInfo {
        let plan = &self.plan;
        let config = &self.config;
        let peak = peak.unwrap_or(config.schedule.peak_users() as usize);
        let class_users = class_counts(plan, config, peak);
        RunInfo {
            scenario_path: self.scenario.name(),
            scenario_source: if self.options.omit_source {
                String::new()
            } else {
                config.secrets.redact_all(&self.scenario.source)
            },
            host: config
                .host
                .clone()
                .or_else(|| plan.host.clone())
                .map(|h| redact_url(&h))
                .unwrap_or_default(),
            // The peak asked for, or reached after a live change.
            users: peak.max(config.schedule.peak_users() as usize),
            spawn_rate: match &config.schedule {
                Schedule::Closed(r) => r.rate,
                _ => 0.0,
            },
            run_time_ms: config
                .run_time
                .or_else(|| config.schedule.natural_end())
                .map(|d| d.as_millis() as u64),
            seed: config.seed,
            kload_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line: self
                .options
                .command_line
                .iter()
                .map(|a| redact_url(a))
                .collect(),
            started_at,
            ended_at: Utc::now(),
            classes: plan
                .classes
                .iter()
                .zip(class_users)
                .map(|(c, users)| ClassInfo {
                    name: c.name.clone(),
                    weight: c.weight,
                    fixed_count: c.fixed_count,
                    users: users as usize,
                })
                .collect(),
            thresholds: Vec::new(),
            load_model: config::describe(config),
            scenario_sha256: self.scenario.sha256.clone(),
            segment: self.options.segment.is_some().then(|| SegmentInfo {
                index: config.segment.index,
                count: config.segment.count,
                start_at: self.options.start_at.unwrap_or(started_at),
                late_ms: *self.late_ms.lock().unwrap_or_else(PoisonError::into_inner),
            }),
            outcome: outcome.clone(),
        }
    }

    /// The result so far, or the final one when `run` is given.
    fn totals(&self) -> Summary {
        let Some(metrics) = self.metrics() else {
            return self.summary(None);
        };
        let info = self.info(None, &Outcome::default(), metrics.started_at());
        let mut summary = metrics.totals(info);
        summary.apply_thresholds(&self.thresholds);
        let secrets = &self.config.secrets;
        summary.scrub(|text| secrets.redact_all(text));
        summary
    }

    fn summary(&self, run: Option<&RunOutcome>) -> Summary {
        let Some(metrics) = self.metrics() else {
            return Metrics::new(self.plan.stats.clone()).summary_at(
                self.info(None, &Outcome::default(), Utc::now()),
                Duration::ZERO,
            );
        };
        let outcome = run
            .map(|r| outcome_of(r, &self.scenario.source))
            .unwrap_or_default();
        let info = self.info(run.map(|r| r.peak_users), &outcome, metrics.started_at());
        let mut summary = metrics.summary(info);
        summary.apply_thresholds(&self.thresholds);
        // The last line of defence: whatever the users printed, no secret of the run leaves.
        let secrets = &self.config.secrets;
        summary.scrub(|text| secrets.redact_all(text));
        summary
    }

    fn conclude(&self) -> Finished {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let summary = self.summary(outcome.as_ref());
        let secrets = &self.config.secrets;
        let scenario_errors = outcome
            .map(|o| o.problems.scenario_errors)
            .unwrap_or_default()
            .into_iter()
            .map(|(span, message, count)| (span, secrets.redact_all(&message), count))
            .collect();
        // Reports are written whatever happened: a killed run keeps what it recorded.
        let written = write_outputs(&summary, &self.options.outputs);
        let (comparison, baseline_error) = match &self.options.baseline {
            None => (None, None),
            Some(b) => match report::json::load(&b.path) {
                Ok(base) => (
                    Some(report::compare::compare(&base, &summary, b.max_regression)),
                    None,
                ),
                Err(e) => (None, Some(format!("baseline: {e}"))),
            },
        };
        let regressed = comparison.as_ref().is_some_and(Comparison::regressed);
        let verdict = verdict::decide(&summary, regressed, self.options.exit_code_on_error);
        Finished {
            summary,
            verdict,
            comparison,
            baseline_error,
            written,
            scenario_errors,
            not_started: None,
        }
    }
}

/// The run's ending for the result; scenario errors get the line of the file their span
/// starts on.
fn outcome_of(run: &RunOutcome, source: &str) -> Outcome {
    Outcome {
        interrupted: run.interrupted,
        killed: run.killed,
        aborted_by: run.aborted.clone(),
        not_started: run
            .problems
            .not_started
            .iter()
            .map(|(message, count)| Note {
                message: message.clone(),
                count: *count,
                line: None,
            })
            .collect(),
        scenario_errors: run
            .problems
            .scenario_errors
            .iter()
            .map(|(span, message, count)| Note {
                message: message.clone(),
                count: *count,
                line: span.map(|s| crate::span::line_col(source, s.start).0 as u32),
            })
            .collect(),
        merged_segments: 0,
    }
}

/// Users per class for a peak of `peak` users (this segment's share of them).
fn class_counts(plan: &Plan, config: &RunConfig, peak: usize) -> Vec<u32> {
    let mut sequence =
        runtime::dispatch::ClassSequence::new(&plan.classes, &config.enabled_classes);
    let mut counts = vec![0; plan.classes.len()];
    let global = config.schedule.peak_users() as usize;
    for g in 0..global.max(peak) {
        let Some((class, k)) = sequence.get(g) else {
            break;
        };
        if config.segment.owns_user(class, k) {
            counts[class] += 1;
        }
    }
    counts
}

/// Writes every requested report; the first error is returned as a message.
pub fn write_outputs(summary: &Summary, outputs: &Outputs) -> Result<Vec<String>, String> {
    let mut written = Vec::new();
    if let Some(prefix) = &outputs.csv {
        let files = report::csv::write_files(summary, prefix, outputs.csv_full_history)
            .map_err(|e| e.to_string())?;
        written.extend(files.iter().map(|f| f.display().to_string()));
    }
    if let Some(path) = &outputs.json {
        report::write_file(path, |w| report::json::render(summary, w))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &outputs.html {
        report::write_file(path, |w| Ok(report::html::render(summary, w)?))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &outputs.junit {
        report::write_file(path, |w| report::junit::render(summary, w))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// A URL with any `user:password@` removed, for reports and logs.
pub fn redact_url(text: &str) -> String {
    match reqwest::Url::parse(text) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// The warnings among `diagnostics`.
pub fn warnings(diagnostics: &[Diagnostic]) -> impl Iterator<Item = &Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
}
