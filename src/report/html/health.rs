//! Whether the numbers can be trusted: the notes under the header on how the run ended
//! (interrupted, killed, aborted, abandoned requests, the generator's warnings, scenario
//! errors with their line, merged segments) and the Generator panel with kload's own
//! lateness.

use std::fmt::Write as _;

use crate::metrics::Summary;
use crate::metrics::summary::LATENESS_WARNING_US;
use crate::report::outcome::{self, Level, NoteKind, RunNote};

use super::{count, empty_note, escape, ms, section_start};

/// The notes on how the run ended, right under the header; nothing for a run that ended as
/// planned with a generator that kept up.
pub(super) fn outcome(s: &Summary, page: &mut String) {
    let notes = outcome::run_notes(s);
    if notes.is_empty() {
        return;
    }
    page.push_str(
        r#"<section class="outcome" id="outcome" aria-label="How the run ended">
"#,
    );
    let of =
        |kind: NoteKind| -> Vec<&RunNote> { notes.iter().filter(|n| n.kind == kind).collect() };
    let (mut suspect_shown, mut errors_shown) = (false, false);
    for note in &notes {
        match note.kind {
            // The generator's warnings and the scenario errors are lists of their own.
            NoteKind::Suspect if !suspect_shown => {
                suspect_shown = true;
                let _ = write!(
                    page,
                    r#"<div class="callout warn" id="suspect"><p><strong>The numbers are suspect</strong>: they describe kload as much as the server.</p><ul>"#
                );
                for n in of(NoteKind::Suspect) {
                    let _ = write!(page, "<li>{}</li>", inline_code(&n.text));
                }
                page.push_str("</ul></div>\n");
            }
            NoteKind::ScenarioError if !errors_shown => {
                errors_shown = true;
                page.push_str(
                    r#"<div class="callout warn" id="scenario-errors"><p><strong>Scenario errors</strong> at run time: the scenario could not do what it says there (the line links to the source below).</p><ul>"#,
                );
                for n in of(NoteKind::ScenarioError) {
                    let at = match n.line {
                        Some(line) => format!(r##"<a href="#L{line}">line {line}</a>"##),
                        None => "no line".to_owned(),
                    };
                    let _ = write!(page, "<li>{at}: {}</li>", inline_code(&n.text));
                }
                page.push_str("</ul></div>\n");
            }
            NoteKind::Suspect | NoteKind::ScenarioError => {}
            _ => {
                let _ = write!(
                    page,
                    r#"<p class="callout {}"><strong>{}</strong>"#,
                    level_class(note.level()),
                    escape(&capitalized(&note.headline))
                );
                if !note.text.is_empty() {
                    let _ = write!(page, ": {}", inline_code(&note.text));
                }
                page.push_str("</p>\n");
            }
        }
    }
    page.push_str("</section>\n");
}

/// The Generator panel: kload's lateness against its schedule, dropped iterations, users
/// that did not start, and the segment's start of a distributed run.
pub(super) fn generator(s: &Summary, page: &mut String) {
    section_start(
        page,
        "generator",
        "Generator",
        "How late kload itself started scheduled work (the arrivals of an arrival rate, the tasks of paced classes) against its schedule. A late generator adds its own delay to the latencies.",
    );
    let lateness = &s.generator.lateness;
    let late = |p: Option<f64>| {
        if lateness.is_empty() {
            return "–".to_owned();
        }
        let us = p.map_or_else(|| lateness.max(), |p| lateness.percentile(p));
        format!("{} <small>ms</small>", ms(us))
    };
    let not_started: u64 = s.info.outcome.not_started.iter().map(|n| n.count).sum();
    let figures = [
        ("Lateness p50", late(Some(50.0)), false),
        (
            "Lateness p99",
            late(Some(99.0)),
            !lateness.is_empty() && lateness.percentile(99.0) > LATENESS_WARNING_US,
        ),
        ("Lateness max", late(None), false),
        ("Scheduled starts", count(lateness.len()), false),
        (
            "Dropped iterations",
            count(s.dropped_iterations),
            s.dropped_iterations > 0,
        ),
        ("Users not started", count(not_started), not_started > 0),
    ];
    page.push_str(r#"<dl class="meta figures">"#);
    for (term, value, bad) in figures {
        let class = if bad { r#" class="bad""# } else { "" };
        let _ = write!(page, "<div><dt>{term}</dt><dd{class}>{value}</dd></div>");
    }
    page.push_str("</dl>\n");
    let threshold_ms = LATENESS_WARNING_US / 1000;
    if !s.generator_warnings().is_empty() {
        let _ = writeln!(
            page,
            r##"<p class="callout warn"><strong>The numbers are suspect</strong>: see <a href="#suspect">the warning at the top</a>. kload warns when its p99 lateness is above {threshold_ms} ms, when the arrival rate ran out of users, and when users could not start.</p>"##
        );
    } else if !lateness.is_empty() {
        let _ = writeln!(
            page,
            r#"<p class="callout ok"><strong>kload kept up</strong>: it started scheduled work {} ms behind schedule at the 99th percentile (it warns above {threshold_ms} ms).</p>"#,
            ms(lateness.percentile(99.0))
        );
    } else {
        empty_note(
            page,
            "Nothing was scheduled: no arrival rate and no paced class, so there is no schedule to be late for.",
        );
    }
    if !s.info.outcome.not_started.is_empty() {
        page.push_str(
            r#"<h3>Users that did not start</h3>
<div class="table-wrap"><table class="narrow">
<thead><tr><th>Why</th><th class="num">Users</th></tr></thead>
<tbody>
"#,
        );
        for n in &s.info.outcome.not_started {
            let _ = writeln!(
                page,
                r#"<tr><td class="message">{}</td><td class="num">{}</td></tr>"#,
                inline_code(&n.message),
                count(n.count)
            );
        }
        page.push_str("</tbody></table></div>\n");
    }
    if let Some(seg) = &s.info.segment {
        let _ = writeln!(
            page,
            r#"<p class="after">Segment {} of {} of a distributed run: started {} ms after the instant every segment was to start on ({}).</p>"#,
            seg.index + 1,
            seg.count,
            count(seg.late_ms),
            seg.start_at.format("%Y-%m-%d %H:%M:%S UTC"),
        );
    }
    page.push_str("</section>\n");
}

fn level_class(level: Level) -> &'static str {
    match level {
        Level::Fail => "fail",
        Level::Warn => "warn",
        Level::Info => "info",
    }
}

/// The first letter in capitals.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Escapes `text` and shows its `backquoted` parts as code; an unpaired backquote stays.
pub(super) fn inline_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        let inside = i % 2 == 1;
        if inside && i == parts.len() - 1 {
            // The last part after an odd backquote: no closing one.
            out.push('`');
            out.push_str(&escape(part));
        } else if inside {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backquotes_become_code_and_markup_is_escaped() {
        assert_eq!(
            inline_code("threshold `p95 < 2` failed <b>"),
            "threshold <code>p95 &lt; 2</code> failed &lt;b&gt;"
        );
        assert_eq!(inline_code("a `b` c `d"), "a <code>b</code> c `d");
        assert_eq!(inline_code("plain"), "plain");
        assert_eq!(capitalized("run killed"), "Run killed");
        assert_eq!(capitalized(""), "");
    }
}
