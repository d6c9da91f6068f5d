//! The console report, in Locust's layout (`locust/stats.py`): the request table, the
//! "Response time percentiles (approximated)" table and the error report, then kload's
//! threshold block. Plus [`live_line`], one compact progress line for CI logs.
//!
//! Columns, order and number formats are Locust's: Avg/Min/Max/Med as truncated ints, req/s
//! with two decimals, `# fails` as `N(x.xx%)`, bucketed percentiles, total (not current) rates
//! in the final table. Two differences: the name column is as wide as the longest name
//! instead of the terminal, and trailing spaces are trimmed.

use std::io::Write;
use std::time::Duration;

use crate::metrics::entry::EntrySummary;
use crate::metrics::locust::PERCENTILE_LABELS;
use crate::metrics::{LiveStats, Metric, Selector, Summary, ThresholdResult};

use super::ReportError;
use super::format::{Paint, clock, py_int};
use super::outcome::{self, Level, NoteKind};
use crate::metrics::threshold::trim_decimals;

/// Locust's `STATS_TYPE_WIDTH`.
const TYPE_WIDTH: usize = 8;

/// Writes the final console report: request table, percentiles, error report, dropped
/// iterations and thresholds. `color` adds ANSI colours.
pub fn render(summary: &Summary, out: &mut dyn Write, color: bool) -> Result<(), ReportError> {
    let paint = Paint { enabled: color };
    let mut lines = Vec::new();
    let rows = summary.sorted_entries();
    let width = name_width(&rows);
    request_table(summary, &rows, width, paint, &mut lines);
    lines.push(String::new());
    percentile_table(summary, &rows, width, paint, &mut lines);
    lines.push(String::new());
    corrected_table(summary, &rows, width, paint, &mut lines);
    error_report(summary, width, paint, &mut lines);
    if summary.dropped_iterations > 0 {
        lines.push(format!(
            "Dropped iterations: {} (the arrival rate needed more users than allowed)",
            summary.dropped_iterations
        ));
        lines.push(String::new());
    }
    run_notes(summary, paint, &mut lines);
    write_lines(out, &lines)?;
    if !summary.thresholds().is_empty() {
        render_thresholds(summary.thresholds(), out, color)?;
    }
    Ok(())
}

/// Writes the threshold block: one line per threshold with ✓/✗/! and PASS/FAIL/WARN,
/// the threshold as written and the measured value, then a count line.
pub fn render_thresholds(
    results: &[ThresholdResult],
    out: &mut dyn Write,
    color: bool,
) -> Result<(), ReportError> {
    let paint = Paint { enabled: color };
    let sources: Vec<String> = results.iter().map(source).collect();
    let width = sources.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let mut lines = vec![paint.bold("Thresholds")];
    lines.push("-".repeat(width + 30));
    for (r, src) in results.iter().zip(&sources) {
        let (mark, word) = if r.is_skipped() {
            ("-".to_owned(), "SKIP".to_owned())
        } else if r.passed {
            (paint.green("✓"), paint.green("PASS"))
        } else if r.is_warning() {
            (paint.yellow("!"), paint.yellow("WARN"))
        } else {
            (paint.red("✗"), paint.red("FAIL"))
        };
        let mut line = if r.has_no_data() {
            format!("{mark} {word}  {src:<width$}  {}", r.measured_text())
        } else {
            format!(
                "{mark} {word}  {src:<width$}  measured {}",
                r.measured_text()
            )
        };
        if r.has_no_data() && !r.passed {
            line.push_str(" (nothing measured: a target without data is not met)");
        } else if !r.passed {
            line.push_str(&format!(" (expected {})", r.expected_text()));
        }
        lines.push(line);
    }
    lines.push("-".repeat(width + 30));
    let count = |f: fn(&ThresholdResult) -> bool| results.iter().filter(|r| f(r)).count();
    let passed = count(|r| r.passed && !r.is_skipped());
    let failed = count(ThresholdResult::is_failure);
    let warned = count(ThresholdResult::is_warning);
    let skipped = count(ThresholdResult::is_skipped);
    let verdict = if failed > 0 {
        paint.red("FAILED")
    } else {
        paint.green("PASSED")
    };
    let mut tally = format!(
        "Thresholds {verdict}: {passed} passed, {failed} failed, {warned} {}",
        if warned == 1 { "warning" } else { "warnings" }
    );
    if skipped > 0 {
        tally.push_str(&format!(", {skipped} skipped (no requests)"));
    }
    lines.push(tally);
    lines.push(String::new());
    write_lines(out, &lines)
}

/// One progress line for CI logs, `run_time` being the planned duration, if any:
/// `[00:12/00:30] users 50 | 1234.5 req/s | fails 3 (0.2%) | p50 12 ms p95 48 ms`.
pub fn live_line(live: &LiveStats, run_time: Option<Duration>) -> String {
    let time = match run_time {
        Some(total) => format!(
            "[{}/{}]",
            clock(live.elapsed_ms),
            clock(total.as_millis() as u64)
        ),
        None => format!("[{}]", clock(live.elapsed_ms)),
    };
    let fail_pct = if live.requests == 0 {
        0.0
    } else {
        live.failures as f64 * 100.0 / live.requests as f64
    };
    let ms = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| format!("{v} ms"));
    let mut line = format!(
        "{time} users {} | {:.1} req/s | fails {} ({fail_pct:.1}%) | p50 {} p95 {}",
        live.users,
        live.rps,
        live.failures,
        ms(live.p50_ms),
        ms(live.p95_ms)
    );
    if live.dropped_iterations > 0 {
        line.push_str(&format!(" | dropped {}", live.dropped_iterations));
    }
    line
}

/// Locust's `STATS_NAME_WIDTH`, sized to the longest name: the request table's name column is
/// this minus 4, the percentile table's this.
fn name_width(rows: &[&EntrySummary]) -> usize {
    let longest = rows
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0);
    longest.max(crate::metrics::AGGREGATED.len()) + 4
}

fn request_table(
    summary: &Summary,
    rows: &[&EntrySummary],
    width: usize,
    paint: Paint,
    lines: &mut Vec<String>,
) {
    let name_col = width - 4;
    lines.push(paint.bold(&format!(
        "{:<TYPE_WIDTH$} {:<name_col$} {:>7} {:>12} |{:>7} {:>7} {:>7}{:>7} | {:>7} {:>11}",
        "Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s"
    )));
    let separator = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        "-".repeat(TYPE_WIDTH),
        "-".repeat(name_col),
        "-".repeat(7),
        "-".repeat(13),
        "-".repeat(7),
        "-".repeat(7),
        "-".repeat(7),
        "-".repeat(7),
        "-".repeat(8),
        "-".repeat(11)
    );
    lines.push(separator.clone());
    for e in rows {
        lines.push(request_row(summary, e, name_col, paint));
    }
    lines.push(separator);
    lines.push(request_row(summary, &summary.aggregated, name_col, paint));
}

fn request_row(summary: &Summary, e: &EntrySummary, name_col: usize, paint: Paint) -> String {
    // Locust prints `method + " "` into the type column.
    let method = if e.method.is_empty() {
        String::new()
    } else {
        format!("{} ", e.method)
    };
    let fails = format!(
        "{:>12}",
        format!("{}({:.2}%)", e.failures, e.fail_ratio() * 100.0)
    );
    let fails = if e.failures > 0 {
        paint.red(&fails)
    } else {
        fails
    };
    let median = e.locust_median().map_or(0, |m| py_int(m.ms));
    format!(
        "{method:<TYPE_WIDTH$} {:<name_col$} {:>7} {fails} |{:>7} {:>7} {:>7}{:>7} | {:>7.2} {:>11.2}",
        e.name,
        e.requests,
        py_int(e.avg_ms()),
        py_int(e.min_ms()),
        py_int(e.max_ms()),
        median,
        summary.total_rps(e),
        summary.total_fail_per_sec(e),
    )
}

fn percentile_table(
    summary: &Summary,
    rows: &[&EntrySummary],
    width: usize,
    paint: Paint,
    lines: &mut Vec<String>,
) {
    lines.push(paint.bold("Response time percentiles (approximated)"));
    // Locust's header puts "50%" under the 8-wide column and "# reqs" under the last 6-wide
    // one; the rows print the percentiles first and the count last, so they line up.
    let mut header = format!(
        "{:<TYPE_WIDTH$} {:<width$} {:>8}",
        "Type", "Name", PERCENTILE_LABELS[0]
    );
    for label in &PERCENTILE_LABELS[1..] {
        header.push_str(&format!(" {label:>6}"));
    }
    header.push_str(&format!(" {:>6}", "# reqs"));
    lines.push(paint.bold(&header));
    let mut separator = format!(
        "{}|{}|{}",
        "-".repeat(TYPE_WIDTH),
        "-".repeat(width),
        "-".repeat(8)
    );
    for _ in &PERCENTILE_LABELS {
        separator.push('|');
        separator.push_str(&"-".repeat(6));
    }
    lines.push(separator.clone());
    for e in rows {
        lines.push(percentile_row(e, width));
    }
    lines.push(separator);
    if summary.aggregated.requests > 0 {
        lines.push(percentile_row(&summary.aggregated, width));
    }
}

fn percentile_row(e: &EntrySummary, width: usize) -> String {
    let p = e.locust_percentiles().unwrap_or([0; 11]);
    let mut row = format!("{:<TYPE_WIDTH$} {:<width$} {:>8}", e.method, e.name, p[0]);
    for v in &p[1..] {
        row.push_str(&format!(" {v:>6}"));
    }
    row.push_str(&format!(" {:>6}", e.requests));
    row
}

/// The latency from the intended start, next to Locust's tables, for requests that had a
/// schedule (open model, paced classes): HDR percentiles in ms.
fn corrected_table(
    summary: &Summary,
    rows: &[&EntrySummary],
    width: usize,
    paint: Paint,
    lines: &mut Vec<String>,
) {
    let with: Vec<&EntrySummary> = rows
        .iter()
        .copied()
        .filter(|e| e.corrected.as_ref().is_some_and(|h| !h.is_empty()))
        .collect();
    if with.is_empty() {
        return;
    }
    lines.push(
        paint.bold("Latency from the intended start (corrected for coordinated omission, ms)"),
    );
    lines.push(format!(
        "{:<TYPE_WIDTH$} {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "Type", "Name", "50%", "90%", "95%", "99%", "100%", "# values"
    ));
    let separator = format!(
        "{}|{}|{}",
        "-".repeat(TYPE_WIDTH),
        "-".repeat(width),
        [
            "-".repeat(8),
            "-".repeat(8),
            "-".repeat(8),
            "-".repeat(8),
            "-".repeat(8),
            "-".repeat(9)
        ]
        .join("|")
    );
    lines.push(separator.clone());
    let row = |e: &EntrySummary| {
        let ms = |p: f64| {
            e.corrected_percentile_us(p).map_or_else(
                || "-".to_string(),
                |us| trim_decimals(us as f64 / 1000.0, 1),
            )
        };
        let n = e.corrected.as_ref().map_or(0, |h| h.len());
        format!(
            "{:<TYPE_WIDTH$} {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
            e.method,
            e.name,
            ms(50.0),
            ms(90.0),
            ms(95.0),
            ms(99.0),
            ms(100.0),
            n
        )
    };
    for e in &with {
        lines.push(row(e));
    }
    lines.push(separator);
    lines.push(row(&summary.aggregated));
    let backfilled = summary.aggregated.backfilled;
    if backfilled > 0 {
        lines.push(format!(
            "({backfilled} of the values stand for requests paced users could not send while \
             held up by a slow response)"
        ));
    }
    lines.push(String::new());
}

/// How the run ended and whether the generator kept up, in plain words (the notes every
/// report shows, see `outcome`), then the generator's lateness.
fn run_notes(summary: &Summary, paint: Paint, lines: &mut Vec<String>) {
    let before = lines.len();
    for note in outcome::run_notes(summary) {
        let text = match note.kind {
            NoteKind::Suspect => format!("warning: {}: {}", note.headline, note.text),
            _ => note.line_text(),
        };
        lines.push(match note.level() {
            Level::Fail => paint.red(&text),
            Level::Warn => paint.yellow(&text),
            Level::Info => text,
        });
    }
    if let Some(p99) = summary.lateness_p99_us() {
        lines.push(format!(
            "Generator lateness: p99 {:.1} ms behind schedule",
            p99 as f64 / 1000.0
        ));
    }
    if lines.len() > before {
        lines.push(String::new());
    }
}

fn error_report(summary: &Summary, width: usize, paint: Paint, lines: &mut Vec<String>) {
    if summary.failures.is_empty() {
        return;
    }
    lines.push(paint.bold("Error report"));
    lines.push(format!("{:<18} {:<100}", "# occurrences", "Error"));
    let separator = format!("{}|{}", "-".repeat(18), "-".repeat(80 + width - 19));
    lines.push(separator.clone());
    for f in &summary.failures {
        lines.push(format!(
            "{:<18} {:<100}",
            f.occurrences,
            format!("{} {}: {}", f.method, f.name, f.error_text())
        ));
    }
    lines.push(separator);
    lines.push(String::new());
}

/// The threshold as written, or a description when the compiler left `source` empty.
pub(crate) fn source(r: &ThresholdResult) -> String {
    let t = &r.threshold;
    if !t.source.is_empty() {
        return t.source.clone();
    }
    let metric = match t.metric {
        Metric::Percentile(p) => format!("p{}", trim_decimals(p, 4)),
        Metric::Avg => "avg".into(),
        Metric::Min => "min".into(),
        Metric::Max => "max".into(),
        Metric::Med => "med".into(),
        Metric::ErrorRate => "error_rate".into(),
        Metric::Rps => "rps".into(),
        Metric::Requests => "requests".into(),
    };
    let selector = match &t.selector {
        Selector::All => String::new(),
        Selector::Name(n) => format!("(\"{n}\")"),
        Selector::Tag(tag) => format!("(tag {tag})"),
    };
    format!(
        "{metric}{selector} {} {}",
        t.cmp.symbol(),
        t.metric.format_value(t.value)
    )
}

fn write_lines(out: &mut dyn Write, lines: &[String]) -> Result<(), ReportError> {
    for line in lines {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_line_format() {
        let live = LiveStats {
            elapsed_ms: 12_400,
            users: 50,
            requests: 1500,
            failures: 3,
            rps: 1234.54,
            fps: 0.2,
            p50_ms: Some(12),
            p95_ms: Some(48),
            dropped_iterations: 0,
        };
        assert_eq!(
            live_line(&live, Some(Duration::from_secs(30))),
            "[00:12/00:30] users 50 | 1234.5 req/s | fails 3 (0.2%) | p50 12 ms p95 48 ms"
        );
        let idle = LiveStats {
            elapsed_ms: 3_725_000,
            requests: 0,
            failures: 0,
            p50_ms: None,
            p95_ms: None,
            dropped_iterations: 7,
            rps: 0.0,
            ..live
        };
        assert_eq!(
            live_line(&idle, None),
            "[1:02:05] users 50 | 0.0 req/s | fails 0 (0.0%) | p50 - p95 - | dropped 7"
        );
    }
}
