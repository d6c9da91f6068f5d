//! `--csv PREFIX`: Locust's four CSV files, same names, headers and row semantics
//! (`locust/stats.py`, `StatsCSV`), written once from the final summary.
//!
//! - `PREFIX_stats.csv`: one row per request that was made, sorted by (name, method), then
//!   the Aggregated row with an empty Type. Median and percentiles are bucketed ints
//!   (`N/A` without requests), a median clamped to the exact min/max is a float, like Locust.
//!   Rates are totals: count / time of the last request since the start.
//! - `PREFIX_stats_history.csv`: one batch of rows per time point. Only the Aggregated row
//!   unless `full_history`, which adds a row per request first. Rates are current (`f"{x:2f}"`).
//!   Percentiles are the 10 s window's with `full_history`, and cumulative without, Locust's
//!   quirk. The `Total *` columns are cumulative.
//! - `PREFIX_failures.csv`: `Method,Name,Error,Occurrences,First Seen,Last Seen` (Locust ≥ 2026-04),
//!   in the summary's order (most frequent first); `Error` is kload's failure message, not a
//!   Python `repr`.
//! - `PREFIX_exceptions.csv`: kload has no Python exceptions; the closest are scenario errors
//!   (failures of kind `capture` and `template`), listed here too with `Traceback` naming the
//!   request and `Nodes` = `local`.
//!
//! Numbers are written as Python's `csv.writer` would: `repr` floats (`50.5`, `147.0`), ints
//! where Locust has ints, CRLF line ends.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::metrics::entry::EntrySummary;
use crate::metrics::locust::{Median, PERCENTILE_LABELS};
use crate::metrics::series::PointStats;
use crate::metrics::{FailureKind, Summary, TimePoint};

use super::format::{py_f6, py_float};
use super::{ReportError, write_file};

/// Header of `_stats.csv`.
pub const STATS_HEADER: [&str; 22] = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
];

/// Header of `_stats_history.csv`.
pub const HISTORY_HEADER: [&str; 24] = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

/// Header of `_failures.csv`.
pub const FAILURES_HEADER: [&str; 6] = [
    "Method",
    "Name",
    "Error",
    "Occurrences",
    "First Seen",
    "Last Seen",
];

/// Header of `_exceptions.csv`.
pub const EXCEPTIONS_HEADER: [&str; 4] = ["Count", "Message", "Traceback", "Nodes"];

fn writer(out: &mut dyn Write) -> ::csv::Writer<&mut dyn Write> {
    ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out)
}

/// Writes `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv` and
/// `PREFIX_exceptions.csv`, creating parent folders; returns the paths written.
pub fn write_files(
    summary: &Summary,
    prefix: &Path,
    full_history: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    let path = |suffix: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let files = [
        path("_stats.csv"),
        path("_stats_history.csv"),
        path("_failures.csv"),
        path("_exceptions.csv"),
    ];
    write_file(&files[0], |w| render_stats(summary, w))?;
    write_file(&files[1], |w| render_history(summary, w, full_history))?;
    write_file(&files[2], |w| render_failures(summary, w))?;
    write_file(&files[3], |w| render_exceptions(summary, w))?;
    Ok(files.to_vec())
}

/// `_stats.csv`.
pub fn render_stats(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = writer(out);
    w.write_record(STATS_HEADER)?;
    let rows = summary.sorted_entries();
    for e in rows.into_iter().chain([&summary.aggregated]) {
        let mut record = vec![
            e.method.clone(),
            e.name.clone(),
            e.requests.to_string(),
            e.failures.to_string(),
            median(e.locust_median()),
            py_float(e.avg_ms()),
            min_ms(e),
            max_ms(e),
            avg_content_size(e.requests, e.avg_content_size()),
            py_float(summary.total_rps(e)),
            py_float(summary.total_fail_per_sec(e)),
        ];
        record.extend(percentile_fields(e.requests, e.locust_percentiles()));
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

/// `_stats_history.csv`.
pub fn render_history(
    summary: &Summary,
    out: &mut dyn Write,
    full_history: bool,
) -> Result<(), ReportError> {
    let mut w = writer(out);
    w.write_record(HISTORY_HEADER)?;
    let mut order: Vec<usize> = (0..summary.entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&summary.entries[a], &summary.entries[b]);
        (&a.name, &a.method).cmp(&(&b.name, &b.method))
    });
    let mut result = Ok(());
    summary.visit_time_series(full_history, |point| {
        if result.is_err() {
            return;
        }
        result = (|| -> Result<(), ReportError> {
            if full_history {
                for &i in &order {
                    if let Some(Some(stats)) = point.entries.get(i) {
                        let e = &summary.entries[i];
                        w.write_record(history_row(
                            point,
                            &e.method,
                            &e.name,
                            stats,
                            stats.current_ms,
                        ))?;
                    }
                }
            }
            let total = &point.total;
            let pcts = if full_history {
                total.current_ms
            } else {
                total.cumulative_ms
            };
            w.write_record(history_row(
                point,
                "",
                crate::metrics::AGGREGATED,
                total,
                pcts,
            ))?;
            Ok(())
        })();
    });
    result?;
    w.flush()?;
    Ok(())
}

fn history_row(
    point: &TimePoint,
    method: &str,
    name: &str,
    s: &PointStats,
    percentiles: Option<[u32; 11]>,
) -> Vec<String> {
    let mut row = vec![
        point.timestamp.to_string(),
        point.users.to_string(),
        method.to_owned(),
        name.to_owned(),
        py_f6(s.rps),
        py_f6(s.fps),
    ];
    // Locust: N/A without requests, else the window's value or 0 when the window is empty.
    row.extend(percentile_fields(
        s.requests,
        Some(percentiles.unwrap_or([0; 11])),
    ));
    row.extend([
        s.requests.to_string(),
        s.failures.to_string(),
        median(s.median),
        py_float(s.avg_ms),
        if s.requests == 0 || s.min_ms == 0.0 {
            "0".to_owned()
        } else {
            py_float(s.min_ms)
        },
        if s.requests == 0 {
            "0".to_owned()
        } else {
            py_float(s.max_ms)
        },
        avg_content_size(s.requests, s.avg_content_size),
    ]);
    row
}

/// `_failures.csv`.
pub fn render_failures(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = writer(out);
    w.write_record(FAILURES_HEADER)?;
    for f in &summary.failures {
        w.write_record([
            f.method.clone(),
            f.name.clone(),
            f.error_text(),
            f.occurrences.to_string(),
            f.first_seen.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            f.last_seen.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `_exceptions.csv`: scenario errors (capture and template failures).
pub fn render_exceptions(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = writer(out);
    w.write_record(EXCEPTIONS_HEADER)?;
    for f in summary
        .failures
        .iter()
        .filter(|f| matches!(f.kind, FailureKind::Capture | FailureKind::Template))
    {
        w.write_record([
            f.occurrences.to_string(),
            f.error_text(),
            format!("{} {}", f.method, f.name),
            "local".to_owned(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Locust's `median_response_time`: 0 without requests, a bucket int, or the exact bound as a
/// float when clamped.
fn median(m: Option<Median>) -> String {
    match m {
        None => "0".to_owned(),
        Some(Median { ms, clamped: true }) => py_float(ms),
        Some(Median { ms, clamped: false }) => format!("{}", ms as u64),
    }
}

/// `min_response_time or 0`: an int 0 for none (or exactly 0), else the exact float.
fn min_ms(e: &EntrySummary) -> String {
    match e.latency_min_us {
        None | Some(0) => "0".to_owned(),
        Some(_) => py_float(e.min_ms()),
    }
}

/// `max_response_time`: starts as int 0, else the exact float.
fn max_ms(e: &EntrySummary) -> String {
    match e.latency_max_us {
        None => "0".to_owned(),
        Some(_) => py_float(e.max_ms()),
    }
}

/// `avg_content_length`: int 0 without requests, else a float.
fn avg_content_size(requests: u64, avg: f64) -> String {
    if requests == 0 {
        "0".to_owned()
    } else {
        py_float(avg)
    }
}

fn percentile_fields(requests: u64, values: Option<[u32; 11]>) -> Vec<String> {
    match values {
        Some(v) if requests > 0 => v.iter().map(u32::to_string).collect(),
        _ => PERCENTILE_LABELS.iter().map(|_| "N/A".to_owned()).collect(),
    }
}
