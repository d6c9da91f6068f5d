//! The result of a run as plain data: what every report renders and what `--json` writes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entry::EntrySummary;
use super::histogram::LatencyHistogram;
use super::sample::FailureKind;
use super::series::{Series, TimePoint};
use super::threshold::{self, Threshold, ThresholdResult};

/// Version of the result document. Bumped when a field changes meaning or is removed.
/// Version 2 keeps the raw, mergeable time series (`series`) instead of version 1's derived
/// `time_series`; version 1 documents are still read (re-rendered and compared, not merged).
pub const SCHEMA_VERSION: u32 = 2;

/// The versions `report::json` reads.
pub const READABLE_VERSIONS: [u32; 2] = [1, 2];

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
    /// How the load was shaped, in words (`closed: 100 users at 10/s`, `stages: ...`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub load_model: String,
    /// SHA-256 of the scenario source (hex): which scenario produced the result, even when
    /// the source itself is left out.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scenario_sha256: String,
    /// The share of a distributed run this result is (absent for a whole run and for a merged
    /// one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
    /// How the run ended, beyond the numbers.
    #[serde(default)]
    pub outcome: Outcome,
}

/// Which segment of a distributed run a result is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// 0-based.
    pub index: u32,
    pub count: u32,
    /// The instant every segment started on (UTC).
    #[serde(with = "utc")]
    pub start_at: DateTime<Utc>,
    /// How late this segment actually started, ms after `start_at`.
    pub late_ms: u64,
}

/// How a run ended, beyond its numbers: reported by every renderer and used by the verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Stopped by Ctrl-C or SIGTERM before its planned end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Stopped at once (a second Ctrl-C): in-flight requests and `on stop` were abandoned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub killed: bool,
    /// The threshold (as written) that aborted the run early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<String>,
    /// Users that could not start, with how many times (`unique` data feed used up).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_started: Vec<Note>,
    /// Errors of the scenario at run time (a template or capture that could not be
    /// evaluated), with the line of the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenario_errors: Vec<Note>,
    /// Merged from this many segments (0 for a single run).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub merged_segments: u32,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// A message with a count (and, for scenario errors, the line of the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub message: String,
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// The load generator's own health: if it was late, the latency figures include its delay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    /// How late kload started scheduled work (open-model arrivals, paced tasks) against its
    /// schedule, µs.
    pub lateness: LatencyHistogram,
}

/// p99 of the generator's lateness above which a report warns that the numbers are suspect.
pub const LATENESS_WARNING_US: u64 = 10_000;

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
            load_model: String::new(),
            scenario_sha256: String::new(),
            segment: None,
            outcome: Outcome::default(),
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
    /// What failed (the failure's message, without what varied).
    pub message: String,
    /// Up to three distinct examples of what varied (`got 400`, an error body).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Occurrences whose varying part was none of the examples.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_values: u64,
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
    /// The raw time series (version 2): per-second rows and ten-second windows, mergeable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
    /// Version 1 documents only: the time points as they were written, to re-render them.
    #[serde(rename = "time_series", default, skip_serializing_if = "Vec::is_empty")]
    pub legacy_time_series: Vec<TimePoint>,
    /// Failures grouped by (request, kind, message), most frequent first; bounded.
    pub failures: Vec<FailureSummary>,
    /// Failed requests per kind.
    pub errors_by_kind: BTreeMap<FailureKind, u64>,
    /// Iterations the arrival-rate model could not start because the user cap was reached.
    pub dropped_iterations: u64,
    /// The generator's own health.
    #[serde(default)]
    pub generator: Generator,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FailureSummary {
    /// The error report's text: what failed, then the examples of what varied
    /// (`check failed: `status 201`: got 400 | got 502 (and 7 more)`).
    pub fn error_text(&self) -> String {
        if self.examples.is_empty() {
            return self.message.clone();
        }
        let mut text = format!("{}: {}", self.message, self.examples.join(" | "));
        if self.other_values > 0 {
            text.push_str(&format!(" (and {} more)", self.other_values));
        }
        text
    }
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

    /// The time points (one per second) that charts and the history CSV show, derived from
    /// the raw series; a version 1 document gives its stored points. Totals only.
    pub fn time_series(&self) -> Vec<TimePoint> {
        match &self.series {
            Some(series) => series.points(
                self.info.started_at.timestamp_millis(),
                self.elapsed_ms,
                self.entries.len(),
                false,
            ),
            None => self.legacy_time_series.clone(),
        }
    }

    /// Every time point with per-request figures, one at a time (for
    /// `--csv-full-history`, without keeping them all).
    pub fn visit_time_series(&self, with_entries: bool, visit: impl FnMut(&TimePoint)) {
        match &self.series {
            Some(series) => series.visit_points(
                self.info.started_at.timestamp_millis(),
                self.elapsed_ms,
                self.entries.len(),
                with_entries,
                visit,
            ),
            None => self.legacy_time_series.iter().for_each(visit),
        }
    }

    /// Requests that were in flight when the run stopped.
    pub fn abandoned(&self) -> u64 {
        self.aggregated.abandoned
    }

    /// The generator's p99 lateness in µs, when it has any.
    pub fn lateness_p99_us(&self) -> Option<u64> {
        (!self.generator.lateness.is_empty()).then(|| self.generator.lateness.percentile(99.0))
    }

    /// Why the figures may describe kload rather than the server, in plain words: the
    /// generator was late, out of users, or could not start users. Empty when it kept up.
    pub fn generator_warnings(&self) -> Vec<String> {
        let mut out = generator_warnings(
            self.lateness_p99_us(),
            self.generator.lateness.max(),
            self.dropped_iterations,
        );
        for n in &self.info.outcome.not_started {
            out.push(format!("{} ({}×)", n.message, n.count));
        }
        out
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

    /// Passes every text of the result that could hold a value of the run (failure messages
    /// and examples, notes, the scenario source, the command line) through `redact`: the
    /// final scrub of secrets before reports are written.
    pub fn scrub(&mut self, redact: impl Fn(&str) -> String) {
        for f in &mut self.failures {
            f.message = redact(&f.message);
            for e in &mut f.examples {
                *e = redact(e);
            }
        }
        let outcome = &mut self.info.outcome;
        for n in outcome
            .not_started
            .iter_mut()
            .chain(outcome.scenario_errors.iter_mut())
        {
            n.message = redact(&n.message);
        }
        self.info.scenario_source = redact(&self.info.scenario_source);
        for arg in &mut self.info.command_line {
            *arg = redact(arg);
        }
        self.info.host = redact(&self.info.host);
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

/// The warnings of [`Summary::generator_warnings`] about lateness (p99 and largest, µs) and
/// dropped arrivals, for a run still going (the web UI shows them live).
pub fn generator_warnings(
    lateness_p99_us: Option<u64>,
    lateness_max_us: u64,
    dropped: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p99) = lateness_p99_us
        && p99 > LATENESS_WARNING_US
    {
        out.push(format!(
            "kload itself was late: it started scheduled requests up to {} behind schedule \
             (p99; max {}); latencies include the load generator's own delay, so treat them \
             as suspect (is the machine running kload overloaded?)",
            ms_text(p99),
            ms_text(lateness_max_us)
        ));
    }
    if dropped > 0 {
        out.push(format!(
            "kload ran out of users: {dropped} iterations of the arrival rate could not start \
             (raise max_users); the load offered was lower than planned"
        ));
    }
    out
}

fn ms_text(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
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
