//! The result of a run as plain data: what every report renders and what `--json` writes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entry::EntrySummary;
use super::sample::FailureKind;
use super::series::TimePoint;
use super::threshold::{self, Threshold, ThresholdResult};

/// Version of the result document. Bumped when a field changes meaning or is removed;
/// readers refuse other versions.
pub const SCHEMA_VERSION: u32 = 1;

/// What was run, by whom and how: filled in by the runtime/CLI, carried unchanged into reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Path of the `.kload` file as given on the command line.
    pub scenario_path: String,
    /// The scenario's source text, so a result can be understood without the repository.
    pub scenario_source: String,
    /// Target host (base URL).
    pub host: String,
    /// Peak number of virtual users asked for.
    pub users: usize,
    /// Users started per second.
    pub spawn_rate: f64,
    /// Planned run time in ms; `None` when the run had no time limit.
    pub run_time_ms: Option<u64>,
    /// Seed of the random number generator, for reproducing the run.
    pub seed: Option<u64>,
    /// Version of kload that produced the result.
    pub kload_version: String,
    /// The command line, one argument per element.
    pub command_line: Vec<String>,
    /// When the run started (UTC).
    #[serde(with = "utc")]
    pub started_at: DateTime<Utc>,
    /// When the run ended (UTC).
    #[serde(with = "utc")]
    pub ended_at: DateTime<Utc>,
    /// The user classes and how many users each got.
    pub classes: Vec<ClassInfo>,
    /// Threshold results, filled by [`Summary::apply_thresholds`] after the run.
    pub thresholds: Vec<ThresholdResult>,
}

impl Default for RunInfo {
    fn default() -> Self {
        RunInfo {
            scenario_path: String::new(),
            scenario_source: String::new(),
            host: String::new(),
            users: 0,
            spawn_rate: 0.0,
            run_time_ms: None,
            seed: None,
            kload_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line: Vec::new(),
            started_at: DateTime::<Utc>::UNIX_EPOCH,
            ended_at: DateTime::<Utc>::UNIX_EPOCH,
            classes: Vec::new(),
            thresholds: Vec::new(),
        }
    }
}

/// One user class of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// Class name.
    pub name: String,
    /// Relative weight (ignored when `fixed_count` is set).
    pub weight: u32,
    /// Exact number of users, when the class asks for one.
    pub fixed_count: Option<u32>,
    /// Users of this class at the peak of the run.
    pub users: usize,
}

/// One row of the error report: failures of one request with one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureSummary {
    /// HTTP method of the request.
    pub method: String,
    /// Request name.
    pub name: String,
    /// Kind of the failure (of the first one seen, if the runtime ever gave one message
    /// several kinds).
    pub kind: FailureKind,
    /// The failure's text (`Failure`'s `Display`).
    pub message: String,
    /// How many requests failed this way.
    pub occurrences: u64,
    /// Completion time of the first such failure (UTC).
    #[serde(with = "utc")]
    pub first_seen: DateTime<Utc>,
    /// Completion time of the last such failure (UTC).
    #[serde(with = "utc")]
    pub last_seen: DateTime<Utc>,
}

/// The whole result of a run. Plain data: `Metrics::summary` builds it, reports render it,
/// `--json` writes it and `report::json::load` reads it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SCHEMA_VERSION`] of the document.
    pub schema_version: u32,
    /// What was run.
    pub info: RunInfo,
    /// Time from the start of the run to the summary, ms.
    pub elapsed_ms: u64,
    /// Completion time of the last request, ms since the start: the denominator of the total
    /// rates (Locust's `last_request_timestamp - start_time`). 0 without requests.
    pub last_request_ms: u64,
    /// One entry per `StatKey`, in `StatId` order (requests never made have zero counts).
    pub entries: Vec<EntrySummary>,
    /// All requests together (a true merge, not an average of the rows).
    pub aggregated: EntrySummary,
    /// One point per tick.
    pub time_series: Vec<TimePoint>,
    /// Failures grouped by (method, name, message), most frequent first.
    pub failures: Vec<FailureSummary>,
    /// Failed requests per kind.
    pub errors_by_kind: BTreeMap<FailureKind, u64>,
    /// Iterations the arrival-rate model could not start because the user cap was reached.
    pub dropped_iterations: u64,
}

impl Summary {
    /// The entry of the request with this name and method.
    pub fn entry(&self, name: &str, method: &str) -> Option<&EntrySummary> {
        self.entries
            .iter()
            .find(|e| e.name == name && e.method == method)
    }

    /// Entries that had at least one request, sorted like Locust's tables: by (name, method).
    pub fn sorted_entries(&self) -> Vec<&EntrySummary> {
        let mut rows: Vec<&EntrySummary> = self.entries.iter().filter(|e| e.requests > 0).collect();
        rows.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
        rows
    }

    /// Total requests per second of an entry (Locust's `total_rps`).
    pub fn total_rps(&self, entry: &EntrySummary) -> f64 {
        entry.total_rps(self.last_request_ms)
    }

    /// Total failures per second of an entry (Locust's `total_fail_per_sec`).
    pub fn total_fail_per_sec(&self, entry: &EntrySummary) -> f64 {
        entry.total_fail_per_sec(self.last_request_ms)
    }

    /// The threshold results stored in the run info.
    pub fn thresholds(&self) -> &[ThresholdResult] {
        &self.info.thresholds
    }

    /// Evaluates `thresholds` against this summary and stores the results in `info.thresholds`.
    pub fn apply_thresholds(&mut self, thresholds: &[Threshold]) {
        self.info.thresholds = threshold::evaluate(thresholds, self);
    }

    /// True when no threshold failed (warn-only thresholds do not count): the exit status.
    pub fn thresholds_passed(&self) -> bool {
        !self.info.thresholds.iter().any(ThresholdResult::is_failure)
    }
}

/// RFC 3339 timestamps in JSON, with as many fractional digits as needed to round-trip.
pub(crate) mod utc {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
