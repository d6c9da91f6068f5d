//! JUnit XML for CI test tabs: a `thresholds` suite with one test case per threshold and a
//! `checks` suite with one failing test case per (request, failed check message).
//!
//! Only failed checks are known to the statistics (a passing check leaves no trace), so the
//! `checks` suite lists failures only; it is empty when every check held. A failing warn-only
//! threshold is a passing test case whose `system-out` says so; a threshold without requests
//! is `skipped`.

use std::io::Write;

use crate::metrics::{FailureKind, Summary};

use super::ReportError;

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
    let time = format!("{:.3}", summary.elapsed_ms as f64 / 1000.0);
    let timestamp = summary.info.started_at.format("%Y-%m-%dT%H:%M:%S");

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="kload" tests="{}" failures="{}" time="{time}">"#,
        thresholds.len() + checks.len(),
        threshold_failures + checks.len(),
    )?;

    writeln!(
        out,
        r#"  <testsuite name="thresholds" tests="{}" failures="{threshold_failures}" errors="0" skipped="{threshold_skips}" timestamp="{timestamp}" time="{time}">"#,
        thresholds.len(),
    )?;
    for r in thresholds {
        let name = escape(&r.threshold.source);
        let detail = format!(
            "measured {}, expected {}",
            r.measured_text(),
            r.expected_text()
        );
        if r.is_skipped() {
            writeln!(
                out,
                r#"    <testcase classname="kload.thresholds" name="{name}" time="0">"#
            )?;
            writeln!(out, r#"      <skipped message="no requests"/>"#)?;
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
                r#"      <failure type="threshold" message="{}"/>"#,
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
            r#"      <failure type="check" message="{}">{} of {} requests failed this check ({:.2}%), first at {}, last at {}</failure>"#,
            escape(&f.error_text()),
            f.occurrences,
            requests,
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
