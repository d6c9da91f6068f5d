//! How a run ended and whether its numbers can be trusted, in the words every report uses
//! (console, HTML, JUnit): interrupted, killed, aborted by a threshold, requests abandoned in
//! flight, the generator's warnings, scenario errors with their line, merged segments.
//!
//! The wording lives here once; each renderer only lays the notes out.

use crate::metrics::Summary;

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// The run is not a clean pass because of it.
    Fail,
    /// The numbers are incomplete or suspect.
    Warn,
    /// Worth knowing.
    Info,
}

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoteKind {
    Interrupted,
    Killed,
    Aborted,
    Abandoned,
    /// One of `Summary::generator_warnings`: the numbers describe kload as much as the server.
    Suspect,
    ScenarioError,
    Merged,
}

/// One thing to say about how the run ended: `headline: text`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunNote {
    pub kind: NoteKind,
    /// A few words, lower case (`run interrupted (Ctrl-C or SIGTERM)`).
    pub headline: String,
    /// The explanation, with the figures; may be empty.
    pub text: String,
    /// The line of the scenario file (scenario errors).
    pub line: Option<u32>,
}

impl RunNote {
    fn new(kind: NoteKind, headline: impl Into<String>, text: impl Into<String>) -> RunNote {
        RunNote {
            kind,
            headline: headline.into(),
            text: text.into(),
            line: None,
        }
    }

    pub(crate) fn level(&self) -> Level {
        match self.kind {
            NoteKind::Interrupted | NoteKind::Aborted => Level::Fail,
            NoteKind::Killed
            | NoteKind::Abandoned
            | NoteKind::Suspect
            | NoteKind::ScenarioError => Level::Warn,
            NoteKind::Merged => Level::Info,
        }
    }

    /// `headline: text`, or the headline alone.
    pub(crate) fn line_text(&self) -> String {
        if self.text.is_empty() {
            self.headline.clone()
        } else {
            format!("{}: {}", self.headline, self.text)
        }
    }
}

/// Headline of the generator's warnings.
pub(crate) const SUSPECT_HEADLINE: &str = "the numbers are suspect";

/// Everything worth saying about how the run ended, most serious first; empty for a run that
/// ended as planned with a generator that kept up.
pub(crate) fn run_notes(s: &Summary) -> Vec<RunNote> {
    let outcome = &s.info.outcome;
    let mut notes = Vec::new();
    if outcome.interrupted {
        notes.push(RunNote::new(
            NoteKind::Interrupted,
            "run interrupted (Ctrl-C or SIGTERM)",
            "these results cover only part of the run, so it is not a clean pass, whatever \
             the thresholds say",
        ));
    }
    if outcome.killed {
        notes.push(RunNote::new(
            NoteKind::Killed,
            "run killed",
            "in-flight requests were abandoned and `on stop` did not run (a second Ctrl-C \
             stops at once)",
        ));
    }
    if let Some(t) = &outcome.aborted_by {
        notes.push(RunNote::new(
            NoteKind::Aborted,
            "run aborted early",
            format!("threshold `{t}` failed, so the run stopped before its planned end"),
        ));
    }
    let abandoned = s.abandoned();
    if abandoned > 0 {
        let mut by_request: Vec<String> = s
            .entries
            .iter()
            .filter(|e| e.abandoned > 0)
            .map(|e| format!("{} {} ×{}", e.method, e.name, e.abandoned))
            .collect();
        if by_request.len() > 5 {
            let more = by_request.len() - 5;
            by_request.truncate(5);
            by_request.push(format!("and {more} more"));
        }
        let mut text = format!(
            "{abandoned} {} still in flight when the run stopped (not counted in the tables)",
            if abandoned == 1 {
                "request was"
            } else {
                "requests were"
            }
        );
        if !by_request.is_empty() {
            text.push_str(&format!(": {}", by_request.join(", ")));
        }
        notes.push(RunNote::new(NoteKind::Abandoned, "Abandoned", text));
    }
    for warning in s.generator_warnings() {
        notes.push(RunNote::new(NoteKind::Suspect, SUSPECT_HEADLINE, warning));
    }
    for e in &outcome.scenario_errors {
        let headline = match e.line {
            Some(line) => format!("scenario error at line {line}"),
            None => "scenario error".to_owned(),
        };
        let text = format!("{} ({}×)", e.message, e.count);
        notes.push(RunNote {
            line: e.line,
            ..RunNote::new(NoteKind::ScenarioError, headline, text)
        });
    }
    if outcome.merged_segments > 0 {
        notes.push(RunNote::new(
            NoteKind::Merged,
            format!(
                "Merged from {} segments of a distributed run",
                outcome.merged_segments
            ),
            "",
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Note;
    use crate::report::golden::fixture;

    #[test]
    fn a_clean_run_has_no_notes() {
        let mut s = fixture();
        s.info.outcome = Default::default();
        s.generator = Default::default();
        for e in s.entries.iter_mut().chain([&mut s.aggregated]) {
            e.abandoned = 0;
        }
        assert_eq!(run_notes(&s), []);
    }

    #[test]
    fn notes_come_most_serious_first() {
        let mut s = fixture();
        let o = &mut s.info.outcome;
        o.interrupted = true;
        o.killed = true;
        o.aborted_by = Some("error_rate < 1%".into());
        o.merged_segments = 3;
        o.scenario_errors.push(Note {
            message: "variable `token` is not set".into(),
            count: 1,
            line: None,
        });
        let notes = run_notes(&s);
        let kinds: Vec<NoteKind> = notes.iter().map(|n| n.kind).collect();
        use NoteKind::*;
        assert_eq!(
            kinds,
            [
                Interrupted,
                Killed,
                Aborted,
                Abandoned,
                Suspect,
                ScenarioError,
                ScenarioError,
                Merged
            ]
        );
        let levels: Vec<Level> = notes.iter().map(RunNote::level).collect();
        assert_eq!(&levels[..3], [Level::Fail, Level::Warn, Level::Fail]);
        assert_eq!(
            notes[2].line_text(),
            "run aborted early: threshold `error_rate < 1%` failed, so the run stopped before \
             its planned end"
        );
        assert_eq!(
            notes[5].line,
            Some(crate::report::golden::line_of("if \"{{ task_id }}\""))
        );
        assert_eq!(notes[6].headline, "scenario error");
        assert_eq!(notes[6].text, "variable `token` is not set (1×)");
        assert_eq!(
            notes[7].line_text(),
            "Merged from 3 segments of a distributed run"
        );
    }
}
