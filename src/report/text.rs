//! Terminal output in Locust's layout: the request table, the percentile table and the
//! error report, then the thresholds. ANSI colour only when asked (on a terminal).

use std::fmt::Write as _;

use crate::metrics::threshold::{Metric, ThresholdResult};
use crate::metrics::{LiveStats, Snapshot};

const PERCENTILES: [f64; 11] = [
    50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0, 99.9, 99.99, 100.0,
];

fn fails(requests: u64, failures: u64) -> String {
    let pct = if requests == 0 {
        0.0
    } else {
        failures as f64 * 100.0 / requests as f64
    };
    format!("{failures}({pct:.2}%)")
}

/// The final request and percentile tables and the error report.
pub fn render_final(s: &Snapshot) -> String {
    let secs = s.duration.as_secs_f64().max(1e-9);
    let mut out = String::new();
    let name_width = s
        .keys
        .iter()
        .map(|k| k.name.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 60);
    let _ = writeln!(
        out,
        "{:<8} {:<nw$} {:>8} {:>14} {:>7} {:>7} {:>7} {:>7} {:>8} {:>10}",
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Avg",
        "Min",
        "Max",
        "Med",
        "req/s",
        "failures/s",
        nw = name_width
    );
    let rule = "-".repeat(name_width + 86);
    let _ = writeln!(out, "{rule}");
    let row = |out: &mut String, method: &str, name: &str, e: &crate::metrics::recorder::Entry| {
        let (min, max) = if e.requests == 0 {
            (0, 0)
        } else {
            (e.latency.min() / 1000, e.latency.max() / 1000)
        };
        let _ = writeln!(
            out,
            "{:<8} {:<nw$} {:>8} {:>14} {:>7.0} {:>7} {:>7} {:>7.0} {:>8.2} {:>10.2}",
            method,
            truncate(name, name_width),
            e.requests,
            fails(e.requests, e.failures),
            e.avg_ms(),
            min,
            max,
            e.percentile_ms(50.0),
            e.requests as f64 / secs,
            e.failures as f64 / secs,
            nw = name_width
        );
    };
    for (k, e) in s
        .keys
        .iter()
        .zip(&s.entries)
        .filter(|(_, e)| e.requests > 0)
    {
        row(&mut out, &k.method, &k.name, e);
    }
    let _ = writeln!(out, "{rule}");
    row(&mut out, "", "Aggregated", &s.total);

    let _ = writeln!(out, "\nResponse time percentiles (approximated)");
    let mut header = format!("{:<8} {:<nw$}", "Type", "Name", nw = name_width);
    for p in PERCENTILES {
        let label = format!("{p}%");
        let _ = write!(header, " {label:>7}");
    }
    let _ = writeln!(out, "{header} {:>8}", "# reqs");
    let _ = writeln!(out, "{}", "-".repeat(name_width + 107));
    let prow = |out: &mut String, method: &str, name: &str, e: &crate::metrics::recorder::Entry| {
        let mut line = format!(
            "{:<8} {:<nw$}",
            method,
            truncate(name, name_width),
            nw = name_width
        );
        for p in PERCENTILES {
            let _ = write!(line, " {:>7.0}", e.percentile_ms(p));
        }
        let _ = writeln!(out, "{line} {:>8}", e.requests);
    };
    for (k, e) in s
        .keys
        .iter()
        .zip(&s.entries)
        .filter(|(_, e)| e.requests > 0)
    {
        prow(&mut out, &k.method, &k.name, e);
    }
    let _ = writeln!(out, "{}", "-".repeat(name_width + 107));
    prow(&mut out, "", "Aggregated", &s.total);

    if !s.failures.is_empty() {
        let _ = writeln!(out, "\nError report");
        let _ = writeln!(out, "{:>13}  {}", "# occurrences", "Error");
        let _ = writeln!(out, "{}", "-".repeat(80));
        let mut failures = s.failures.clone();
        failures.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
        for f in failures {
            let key = &s.keys[f.stat as usize];
            let _ = writeln!(
                out,
                "{:>13}  {} {}: {}",
                f.count, key.method, key.name, f.message
            );
        }
    }
    if s.dropped_iterations > 0 {
        let _ = writeln!(
            out,
            "\n{} iterations could not start: every user allowed by max_users was busy",
            s.dropped_iterations
        );
    }
    out
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}

/// Formats a threshold's measured value in its unit.
pub fn format_measured(metric: &Metric, v: f64) -> String {
    match metric {
        Metric::ErrorRate => format!("{:.2}%", v * 100.0),
        Metric::Rps => format!("{v:.1} req/s"),
        Metric::Requests => format!("{v:.0}"),
        _ => format!("{:.1} ms", v / 1000.0),
    }
}

/// The thresholds with their measured values: PASS, FAIL, or WARN for `warn` ones.
pub fn render_thresholds(results: &[ThresholdResult], color: bool) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nThresholds\n");
    for r in results {
        let (word, code) = match (r.passed, r.threshold.warn_only) {
            (true, _) if r.measured.is_none() => ("SKIP", "2"),
            (true, _) => ("PASS", "32"),
            (false, true) => ("WARN", "33"),
            (false, false) => ("FAIL", "31"),
        };
        let word = if color {
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word.to_string()
        };
        let measured = r.measured.map_or("no requests".to_string(), |v| {
            format_measured(&r.threshold.metric, v)
        });
        let _ = writeln!(
            out,
            "  {word}  {:<40} measured {measured}",
            r.threshold.source
        );
    }
    out
}

/// One compact line for the live view, fit for CI logs.
pub fn live_line(l: &LiveStats, run_time: Option<std::time::Duration>) -> String {
    let clock = |d: std::time::Duration| format!("{:02}:{:02}", d.as_secs() / 60, d.as_secs() % 60);
    let total = run_time.map_or_else(|| "--:--".to_string(), clock);
    let pct = if l.requests == 0 {
        0.0
    } else {
        l.failures as f64 * 100.0 / l.requests as f64
    };
    format!(
        "[{}/{}] users {} | {:.1} req/s | fails {} ({:.1}%) | p50 {:.0} ms p95 {:.0} ms",
        clock(l.elapsed),
        total,
        l.users,
        l.rps,
        l.failures,
        pct,
        l.p50_ms,
        l.p95_ms
    )
}
