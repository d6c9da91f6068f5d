//! What the web UI needs from a run: the [`Controller`] trait and the plain data it exchanges.
//!
//! The web module knows nothing else about kload's runtime. A run session implements the
//! trait; tests implement it with a deterministic fake.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::snapshot::UiSnapshot;

/// A run that the web UI can start, change, stop and watch.
///
/// Every method is called from request handlers on the tokio runtime and must return
/// promptly (start the work, do not wait for it). Strings returned to the UI are shown to
/// whoever can open the page: they must never contain a secret of the scenario (a password
/// or token from a data file, an `Authorization` header value).
pub trait Controller: Send + Sync + 'static {
    /// What the start form shows: scenario, default host, users, spawn rate, run time,
    /// classes with weights and fixed counts, and the load model.
    fn plan(&self) -> PlanView;

    /// How many users of each class of [`PlanView::classes`] (same order) `users` users
    /// make when only `classes` run (all classes when empty), as `kload inspect` counts them.
    /// Classes left out get 0.
    fn split(&self, users: u32, classes: &[String]) -> Vec<u32>;

    /// Starts a run from the `ready` or `stopped` state ("New test" starts a fresh one with
    /// fresh statistics). Errors are shown to the user as they are.
    fn start(&self, request: StartRequest) -> Result<(), String>;

    /// Changes the number of users and the spawn rate of the running test. Returns what
    /// happened in words, e.g. "ramping to 50 users at 5/s" or "stages replaced by a fixed
    /// count of 50 users"; the rule under stages or an arrival rate is the session's.
    fn set_users(&self, users: u32, spawn_rate: f64) -> Result<String, String>;

    /// Stops the running test (users finish within the stop timeout). Does nothing when
    /// nothing runs.
    fn stop(&self);

    /// Clears the statistics, failures and errors; the users keep running.
    fn reset_stats(&self);

    /// The latest snapshot: cheap, refreshed about once a second.
    fn snapshot(&self) -> Arc<UiSnapshot>;

    /// Snapshots as they are made, for the page's event stream.
    fn subscribe(&self) -> watch::Receiver<Arc<UiSnapshot>>;

    /// The bytes of a download. `Err` means "not available" (e.g. the full history when the
    /// run does not keep one) and becomes a 404 with that text.
    fn download(&self, what: Download) -> Result<Vec<u8>, String>;
}

/// The start form's request (`POST /swarm` from the page or from a script).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    /// Peak users. `None` only when the plan has stages or an arrival rate and the form
    /// keeps them.
    pub users: Option<u32>,
    /// Users started per second, with `users`.
    pub spawn_rate: Option<f64>,
    /// Target host; `None` keeps the plan's.
    pub host: Option<String>,
    /// Stop after this long; `None` keeps the plan's run time (or runs until stopped).
    pub run_time: Option<Duration>,
    /// The user classes to run; empty means all of them.
    pub classes: Vec<String>,
}

/// The downloads of the "Download data" tab. The web module names the files and sets the
/// content type; the controller produces the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Download {
    /// Locust's `_stats.csv` (statistics per request name and Aggregated).
    RequestsCsv,
    /// Locust's `_stats_history.csv` with a row per request name each second.
    FullHistoryCsv,
    /// Locust's `_failures.csv`.
    FailuresCsv,
    /// Locust's `_exceptions.csv` (kload's scenario errors).
    ExceptionsCsv,
    /// The HTML report of the run so far.
    HtmlReport,
    /// The result document (`--json`) of the run so far.
    Json,
}

impl Download {
    /// The file's bytes, rendered from a run's summary (the same renderers as the command
    /// line's `--csv`, `--html` and `--json`).
    pub fn render(self, summary: &crate::metrics::Summary) -> Result<Vec<u8>, String> {
        use crate::report;
        let mut out = Vec::new();
        let result = match self {
            Download::RequestsCsv => report::csv::render_stats(summary, &mut out),
            Download::FullHistoryCsv => report::csv::render_history(summary, &mut out, true),
            Download::FailuresCsv => report::csv::render_failures(summary, &mut out),
            Download::ExceptionsCsv => report::csv::render_exceptions(summary, &mut out),
            Download::HtmlReport => report::html::render(summary, &mut out).map_err(Into::into),
            Download::Json => report::json::render(summary, &mut out),
        };
        result.map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// The end of the file name, after Locust's `<prefix>_<time>_<scenario>_<host>_`.
    pub fn suffix(self) -> &'static str {
        match self {
            Download::RequestsCsv => "requests.csv",
            Download::FullHistoryCsv => "requests_full_history.csv",
            Download::FailuresCsv => "failures.csv",
            Download::ExceptionsCsv => "exceptions.csv",
            Download::HtmlReport => "report.html",
            Download::Json => "result.json",
        }
    }

    /// The `Content-Type` of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Download::RequestsCsv
            | Download::FullHistoryCsv
            | Download::FailuresCsv
            | Download::ExceptionsCsv => "text/csv; charset=utf-8",
            Download::HtmlReport => "text/html; charset=utf-8",
            Download::Json => "application/json",
        }
    }
}

/// The plan as the start form shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    /// The scenario's name (`scenario "Kibray API"`).
    pub scenario: String,
    /// The scenario file as given on the command line (download names, error locations).
    pub file: String,
    /// Default target host (`-H` or the scenario's `host`); empty when there is none.
    pub host: String,
    /// Default users (`-u` or the load profile).
    pub users: u32,
    /// Default spawn rate (`-r` or the load profile).
    pub spawn_rate: f64,
    /// Default run time in ms (`-t` or the load profile); `None` runs until stopped.
    pub run_time_ms: Option<u64>,
    /// The user classes, in the scenario's order.
    pub classes: Vec<ClassView>,
    /// How users come and go.
    pub load: LoadModel,
    /// What "Edit" (and `POST /swarm` while running) does under this load model, in words.
    pub edit_rule: String,
    /// The thresholds as written in the scenario.
    pub thresholds: Vec<String>,
}

/// One user class of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassView {
    /// Class name.
    pub name: String,
    /// Relative weight (ignored when `fixed_count` is set).
    pub weight: u32,
    /// Exact number of users, when the class asks for one.
    pub fixed_count: Option<u32>,
    /// Its tasks with their weights.
    pub tasks: Vec<TaskView>,
}

/// One task of a class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// Task name.
    pub name: String,
    /// Relative weight among the class's tasks.
    pub weight: u32,
}

/// The scenario's load model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadModel {
    /// A fixed number of users, started at the spawn rate (Locust's model).
    Closed,
    /// Users ramp and hold in stages.
    Stages {
        /// The stages in order.
        stages: Vec<StageView>,
    },
    /// Iterations start at a fixed rate, with at most `max_users` busy.
    ArrivalRate {
        /// Iterations per second.
        rate: f64,
        /// Users busy at most.
        max_users: u32,
    },
}

/// One stage of a staged load profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageView {
    /// Users at the end of the stage (the same as before for a hold).
    pub users: u32,
    /// Length of the stage, ms.
    pub duration_ms: u64,
}
