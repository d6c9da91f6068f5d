//! A user mistake in a `.kload` file, as data: a stable code, a span, labels and help.
//! Rendering (rustc-like through miette, or one JSON object per diagnostic for editors
//! and CI annotations) happens only at the edge.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceSpan, SpanContents,
};
use serde::Serialize;

pub use crate::span::{LineIndex, Span, line_col};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A replacement that fixes the mistake: what a "did you mean" help proposes, as data for
/// editors' quick fixes (`kload lsp`).
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable across releases, documented in docs/diagnostics.md: `kload::unknown_variable`.
    pub code: &'static str,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// The fix the help proposes, when it is one replacement.
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: Label {
                span,
                text: label.into(),
            },
            secondary: Vec::new(),
            help: None,
            suggestion: None,
        }
    }

    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Records the replacement of `span` that the help proposes.
    pub fn with_suggestion(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        self.suggestion = Some(Suggestion {
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by position (then errors before warnings) for stable output.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (d.primary.span.start, d.severity, d.primary.span.end));
}

/// A diagnostic bound to its source text, ready for miette.
struct WithSource<'a> {
    diag: &'a Diagnostic,
    source: Source<'a>,
}

/// The file as miette reads it. miette counts the column of `[file:line:column]` in bytes;
/// this counts characters, like the JSON form, rustc and editors do.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
    /// (1-based line, characters cut from its start) of lines shortened for display.
    skipped: Vec<(usize, usize)>,
}

impl miette::SourceCode for Source<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let bytes = self.text.as_bytes();
        let start = inner.span().offset().min(bytes.len());
        let line_start = bytes[..start]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        // Characters are the bytes that do not continue a UTF-8 sequence.
        let line_number = bytes[..line_start].iter().filter(|b| **b == b'\n').count() + 1;
        let cut = self
            .skipped
            .iter()
            .find(|(l, _)| *l == line_number)
            .map_or(0, |(_, n)| *n);
        let column = bytes[line_start..start]
            .iter()
            .filter(|b| **b & 0xC0 != 0x80)
            .count()
            + cut;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for WithSource<'_> {}

fn to_source_span(span: Span, len: usize) -> SourceSpan {
    let start = span.start.min(len);
    let end = span.end.clamp(start, len);
    SourceSpan::new(start.into(), end - start)
}

impl miette::Diagnostic for WithSource<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.source.text.len();
        let primary = std::iter::once(LabeledSpan::new_primary_with_span(
            Some(self.diag.primary.text.clone()),
            to_source_span(self.diag.primary.span, len),
        ));
        let secondary = self.diag.secondary.iter().map(move |l| {
            LabeledSpan::new_with_span(Some(l.text.clone()), to_source_span(l.span, len))
        });
        Some(Box::new(primary.chain(secondary)))
    }
}

/// Longest quote of the input a message keeps (in characters): a 1 MB line in a file must
/// not make a 1 MB error message.
pub const MAX_QUOTE: usize = 60;

/// Longest source line shown whole under a diagnostic; longer ones are cut around the
/// labels.
pub const MAX_SHOWN_LINE: usize = 160;

/// `text` with every backtick-quoted part longer than [`MAX_QUOTE`] characters cut.
pub fn cut_quotes(text: &str) -> std::borrow::Cow<'_, str> {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() < 3
        || !parts
            .iter()
            .skip(1)
            .step_by(2)
            .any(|q| q.chars().count() > MAX_QUOTE)
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside backticks (the last one may be unclosed).
        if i % 2 == 1 && i + 1 < parts.len() && part.chars().count() > MAX_QUOTE {
            out.extend(part.chars().take(MAX_QUOTE));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A shortened source, the diagnostic moved onto it, and the characters each cut line lost at
/// its start (see [`shorten`]).
type Shortened = (String, Diagnostic, Vec<(usize, usize)>);

/// A view of `source` for rendering `diag` whose long lines are cut around the labels, and
/// the diagnostic with its spans moved to match. Lines stay where they were, so miette's
/// line numbers hold; `skipped` says how many characters each cut line lost at its start
/// (for the column of `[file:line:column]`).
fn shorten(diag: &Diagnostic, source: &str) -> Option<Shortened> {
    let spans: Vec<Span> = std::iter::once(diag.primary.span)
        .chain(diag.secondary.iter().map(|l| l.span))
        .collect();
    let long_line = source.lines().any(|l| l.len() > MAX_SHOWN_LINE * 4);
    if !long_line {
        return None;
    }
    let floor = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut out = String::with_capacity(source.len().min(1 << 16));
    // (old byte offset where a kept piece starts, new offset) for moving spans.
    let mut moves: Vec<(usize, usize, usize)> = Vec::new();
    let mut skipped = Vec::new();
    let mut line_start = 0;
    for (index, line) in source.split_inclusive('\n').enumerate() {
        let line_end = line_start + line.len();
        if line.len() <= MAX_SHOWN_LINE {
            moves.push((line_start, line_end, out.len()));
            out.push_str(line);
        } else {
            // Keep a window around the labels on this line (or its start).
            let on_line: Vec<&Span> = spans
                .iter()
                .filter(|s| s.start < line_end && s.end >= line_start)
                .collect();
            let from = on_line
                .iter()
                .map(|s| s.start.max(line_start))
                .min()
                .unwrap_or(line_start);
            let keep_from = floor(from.saturating_sub(MAX_SHOWN_LINE / 3).max(line_start));
            let keep_to = floor((from + MAX_SHOWN_LINE).min(line_end));
            let lost = source[line_start..keep_from].chars().count();
            if keep_from > line_start {
                out.push('…');
                skipped.push((index + 1, lost.saturating_sub(1)));
            }
            moves.push((keep_from, keep_to, out.len()));
            out.push_str(&source[keep_from..keep_to]);
            if keep_to < line_end {
                out.push('…');
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        line_start = line_end;
    }
    let map = |offset: usize| -> usize {
        for &(from, to, new) in &moves {
            if offset >= from && offset <= to {
                return new + (offset - from);
            }
        }
        // In a cut part: the nearest kept piece before it.
        moves
            .iter()
            .rev()
            .find(|(from, _, _)| *from <= offset)
            .map_or(0, |&(from, to, new)| new + (to - from))
    };
    let mut moved = diag.clone();
    let fix = |s: Span| {
        let start = map(s.start);
        Span::new(start, map(s.end).max(start))
    };
    moved.primary.span = fix(diag.primary.span);
    for l in &mut moved.secondary {
        l.span = fix(l.span);
    }
    Some((out, moved, skipped))
}

/// Renders like rustc: code, message, the labelled source, help. `color` only on a terminal.
/// Long quotes of the input are cut in the texts, long source lines around the labels.
pub fn render(
    diag: &Diagnostic,
    file_name: &str,
    source: &str,
    color: bool,
    width: usize,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut diag = diag.clone();
    diag.message = cut_quotes(&diag.message).into_owned();
    diag.primary.text = cut_quotes(&diag.primary.text).into_owned();
    for l in &mut diag.secondary {
        l.text = cut_quotes(&l.text).into_owned();
    }
    diag.help = diag.help.as_deref().map(|h| cut_quotes(h).into_owned());
    let shortened = shorten(&diag, source);
    let (source, diag, skipped) = match &shortened {
        Some((text, moved, skipped)) => (text.as_str(), moved, skipped.clone()),
        None => (source, &diag, Vec::new()),
    };
    let with_source = WithSource {
        diag,
        source: Source {
            name: file_name,
            text: source,
            skipped,
        },
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &with_source).is_err() {
        out = format!("{}: {} [{}]\n", file_name, diag.message, diag.code);
    }
    out
}

/// One diagnostic as JSON, for editors and CI annotations.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    pub code: &'a str,
    pub message: std::borrow::Cow<'a, str>,
    pub label: std::borrow::Cow<'a, str>,
    pub help: Option<std::borrow::Cow<'a, str>>,
}

pub fn to_json<'a>(diag: &'a Diagnostic, file: &'a str, source: &str) -> JsonDiagnostic<'a> {
    let (line, column) = line_col(source, diag.primary.span.start);
    let (end_line, end_column) = line_col(source, diag.primary.span.end);
    JsonDiagnostic {
        file,
        line,
        column,
        end_line,
        end_column,
        severity: diag.severity,
        code: diag.code,
        message: cut_quotes(&diag.message),
        label: cut_quotes(&diag.primary.text),
        help: diag.help.as_deref().map(cut_quotes),
    }
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::osa_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| {
            let limit = (c.chars().count().max(word.chars().count()) / 3).max(1);
            *d <= limit
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("projct_id", ["project_id", "token"]),
            Some("project_id")
        );
        assert_eq!(did_you_mean("GTE", ["GET", "PUT"]), Some("GET"));
        assert_eq!(did_you_mean("zzz", ["project_id"]), None);
    }

    #[test]
    fn rendered_position_counts_characters() {
        let src = "# café ☕\nlet é = x\n";
        let d = Diagnostic::error("kload::test", "m", Span::new(21, 22), "here");
        let out = render(&d, "f.kload", src, false, 80);
        assert!(out.contains("[f.kload:2:9]"), "{out}");
    }

    #[test]
    fn a_huge_line_gives_a_small_message_that_still_points_at_the_mistake() {
        let name = "x".repeat(1_000_000);
        let source = format!("user U {{\n  task t {{ GET \"/{{{{ {name} }}}}\" }}\n}}\n");
        let start = source.find(&name).unwrap();
        let d = Diagnostic::error(
            "kload::unknown_variable",
            format!("unknown variable `{name}`"),
            Span::new(start, start + name.len()),
            format!("`{name}` is not set anywhere"),
        );
        let out = render(&d, "big.kload", &source, false, 100);
        assert!(out.len() < 4_000, "{} bytes", out.len());
        assert!(out.contains("unknown variable `xxxx"), "{out}");
        assert!(out.contains("[big.kload:2:"), "{out}");
        let json = serde_json::to_string(&to_json(&d, "big.kload", &source)).unwrap();
        assert!(json.len() < 1_000, "{} bytes", json.len());
        // A short line is shown whole, a short quote kept.
        assert_eq!(cut_quotes("unknown `abc`"), "unknown `abc`");
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "ab\né x";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 6), (2, 3));
    }
}
