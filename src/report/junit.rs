//! JUnit XML for CI test tabs: a `run` suite that says how the run ended, a `thresholds`
//! suite with one test case per threshold and a `checks` suite with one failing test case
//! per (request, failed check message).
//!
//! - `run` holds one test case: `run completed` (passing) for a run that reached its end, or
//!   a failing `run interrupted` and/or `run aborted`, so that a partial run is never all
//!   green. Abandoned requests, the generator's warnings, scenario errors and merged
//!   segments are notes in its `system-out`.
//! - Only failed checks are known to the statistics (a passing check leaves no trace), so
//!   the `checks` suite lists failures only; it is empty when every check held.
//! - A failing warn-only threshold is a passing test case whose `system-out` says so; a
//!   threshold without data fails (a target that was never measured is not met) unless it is
//!   `optional`, then it is `skipped`.

use std::io::Write;

use crate::metrics::{FailureKind, Summary};

use super::ReportError;
use super::outcome::{self, NoteKind, RunNote};

/// Writes the JUnit XML document.
pub fn render(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    let thresholds = summary.thresholds();
    let threshold_failures = thresholds.iter().filter(|r| r.is_failure()).count();
    let threshold_skips = thresholds.iter().filter(|r| r.is_skipped()).count();
    let checks: Vec<_> = summary
        .failures
        .iter()
        .filter(|f| f.kind == FailureKind::Check)
        .collect();
    let run = run_cases(summary);
    let run_failures = run.iter().filter(|c| c.failure.is_some()).count();
    let time = format!("{:.3}", summary.elapsed_ms as f64 / 1000.0);
    let timestamp = summary.info.started_at.format("%Y-%m-%dT%H:%M:%S");

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="kload" tests="{}" failures="{}" time="{time}">"#,
        run.len() + thresholds.len() + checks.len(),
        run_failures + threshold_failures + checks.len(),
    )?;

    writeln!(
        out,
        r#"  <testsuite name="run" tests="{}" failures="{run_failures}" errors="0" skipped="0" timestamp="{timestamp}" time="{time}">"#,
        run.len(),
    )?;
    for case in &run {
        if case.failure.is_none() && case.notes.is_empty() {
            writeln!(
                out,
                r#"    <testcase classname="kload.run" name="{}" time="{time}"/>"#,
                case.name
            )?;
            continue;
        }
        writeln!(
            out,
            r#"    <testcase classname="kload.run" name="{}" time="{time}">"#,
            case.name
        )?;
        if let Some((kind, message)) = &case.failure {
            writeln!(
                out,
                r#"      <failure type="{kind}" message="{}"/>"#,
                escape(message)
            )?;
        }
        if !case.notes.is_empty() {
            writeln!(
                out,
                "      <system-out>{}</system-out>",
                escape(&case.notes.join("\n"))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;

    writeln!(
        out,
        r#"  <testsuite name="thresholds" tests="{}" failures="{threshold_failures}" errors="0" skipped="{threshold_skips}" timestamp="{timestamp}" time="{time}">"#,
        thresholds.len(),
    )?;
    for r in thresholds {
        let name = escape(&r.threshold.source);
        let detail = if r.has_no_data() {
            format!(
                "no data ({}): a target that was never measured is not met",
                r.measured_text()
            )
        } else {
            format!(
                "measured {}, expected {}",
                r.measured_text(),
                r.expected_text()
            )
        };
        if r.is_skipped() {
            writeln!(
                out,
                r#"    <testcase classname="kload.thresholds" name="{name}" time="0">"#
            )?;
            writeln!(
                out,
                r#"      <skipped message="no data ({}), allowed: optional"/>"#,
                escape(&r.measured_text())
            )?;
            writeln!(out, "    </testcase>")?;
        } else if r.passed {
            writeln!(
                out,
                r#"    <testcase classname="kload.thresholds" name="{name}" time="0"/>"#
            )?;
        } else if r.is_warning() {
            writeln!(
                out,
                r#"    <testcase classname="kload.thresholds" name="{name}" time="0">"#
            )?;
            writeln!(
                out,
                "      <system-out>warning (warn only): {}</system-out>",
                escape(&detail)
            )?;
            writeln!(out, "    </testcase>")?;
        } else {
            writeln!(
                out,
                r#"    <testcase classname="kload.thresholds" name="{name}" time="0">"#
            )?;
            writeln!(
                out,
                r#"      <failure type="{}" message="{}"/>"#,
                if r.has_no_data() {
                    "no_data"
                } else {
                    "threshold"
                },
                escape(&detail)
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(
        out,
        r#"  <testsuite name="checks" tests="{0}" failures="{0}" errors="0" skipped="0" timestamp="{timestamp}" time="{time}">"#,
        checks.len(),
    )?;
    for f in checks {
        let requests = summary.entry(&f.name, &f.method).map_or(0, |e| e.requests);
        let share = if requests == 0 {
            0.0
        } else {
            f.occurrences as f64 * 100.0 / requests as f64
        };
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{}" time="0">"#,
            escape(&format!("{} {}", f.method, f.name)),
            escape(&f.error_text()),
        )?;
        writeln!(
            out,
            r#"      <failure type="check" message="{}">{} of {} {} failed this check ({:.2}%), first at {}, last at {}</failure>"#,
            escape(&f.error_text()),
            f.occurrences,
            requests,
            if requests == 1 { "request" } else { "requests" },
            share,
            f.first_seen.format("%Y-%m-%dT%H:%M:%SZ"),
            f.last_seen.format("%Y-%m-%dT%H:%M:%SZ"),
        )?;
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")?;
    Ok(())
}

/// A test case of the `run` suite.
struct RunCase {
    name: &'static str,
    /// (type, message) of a failing case.
    failure: Option<(&'static str, String)>,
    /// Lines of `system-out`.
    notes: Vec<String>,
}

/// `run completed`, or `run interrupted` and/or `run aborted` (failing); every other note
/// about the run's end goes into the first case's `system-out`.
fn run_cases(summary: &Summary) -> Vec<RunCase> {
    let notes = outcome::run_notes(summary);
    let mut cases = Vec::new();
    let mut rest = Vec::new();
    for note in &notes {
        match note.kind {
            NoteKind::Interrupted => cases.push(RunCase {
                name: "run interrupted",
                failure: Some(("interrupted", note.line_text())),
                notes: Vec::new(),
            }),
            NoteKind::Aborted => cases.push(RunCase {
                name: "run aborted",
                failure: Some(("aborted", note.line_text())),
                notes: Vec::new(),
            }),
            _ => rest.push(note_line(note)),
        }
    }
    if cases.is_empty() {
        cases.push(RunCase {
            name: "run completed",
            failure: None,
            notes: Vec::new(),
        });
    }
    cases[0].notes = rest;
    cases
}

fn note_line(note: &RunNote) -> String {
    match note.kind {
        NoteKind::Suspect => format!("warning: {}", note.line_text()),
        _ => note.line_text(),
    }
}

/// Escapes text for XML attributes and content. Characters XML 1.0 cannot carry at all
/// (most control characters) become U+FFFD; line breaks and tabs are kept as character
/// references so attributes keep them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::golden::fixture;

    fn xml(s: &Summary) -> String {
        let mut out = Vec::new();
        render(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The `run` suite of the document.
    fn run_suite(xml: &str) -> &str {
        let start = xml.find(r#"<testsuite name="run""#).unwrap();
        let end = start + xml[start..].find("</testsuite>").unwrap();
        &xml[start..end]
    }

    #[test]
    fn a_partial_run_is_never_all_green() {
        let mut s = fixture();
        let clean = xml(&s);
        assert!(run_suite(&clean).contains(r#"tests="1" failures="0""#));
        assert!(run_suite(&clean).contains(r#"name="run completed""#));

        s.info.outcome.aborted_by = Some("error_rate < 1%".into());
        let aborted = xml(&s);
        let suite = run_suite(&aborted);
        assert!(suite.contains(r#"tests="1" failures="1""#), "{suite}");
        assert!(suite.contains(r#"name="run aborted""#), "{suite}");
        assert!(suite.contains(
            r#"<failure type="aborted" message="run aborted early: threshold `error_rate &lt; 1%` failed"#
        ));
        // The notes (abandoned requests among them) stay with the run's test case.
        assert!(suite.contains("<system-out>Abandoned: 2 requests were still in flight"));
        assert!(aborted.contains(r#"<testsuites name="kload" tests="8" failures="3""#));

        s.info.outcome.aborted_by = None;
        s.info.outcome.interrupted = true;
        let suite = xml(&s);
        let suite = run_suite(&suite);
        assert!(suite.contains(r#"name="run interrupted""#), "{suite}");
        assert!(suite.contains(r#"<failure type="interrupted""#), "{suite}");
        assert!(!suite.contains("run completed"));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape(r#"p95("/a?x=1&y=2") < 200ms 'q'"#),
            "p95(&quot;/a?x=1&amp;y=2&quot;) &lt; 200ms &apos;q&apos;"
        );
        assert_eq!(escape("a\nb\u{1}c\u{7f}"), "a&#10;b\u{FFFD}c\u{7f}");
        assert_eq!(escape("ünïcode ✓"), "ünïcode ✓");
    }
}
