//! Document formatting: `kload fmt`'s layout, as one edit of the lines that change.

use lsp_types::TextEdit;

use super::analysis::Analysis;
use super::position::Lines;
use crate::span::Span;

/// The edit that formats `text`, none when it is formatted already.
pub fn format(text: &str, analysis: &Analysis, lines: &Lines) -> Result<Vec<TextEdit>, String> {
    let Some(tree) = analysis.tree() else {
        return Err("kload fmt: the file has a syntax error (see its diagnostic)".to_string());
    };
    let formatted = crate::syntax::format::format(tree, text);
    if formatted == text {
        return Ok(Vec::new());
    }
    let (span, replacement) = changed_lines(text, &formatted);
    Ok(vec![TextEdit::new(
        lines.range(span),
        replacement.to_string(),
    )])
}

/// The smallest run of whole lines of `old` to replace by a run of `new` to get `new`:
/// editors keep the cursor and folds of the lines around it.
fn changed_lines<'a>(old: &str, new: &'a str) -> (Span, &'a str) {
    let common_prefix = old
        .split_inclusive('\n')
        .zip(new.split_inclusive('\n'))
        .take_while(|(a, b)| a == b && a.ends_with('\n'))
        .map(|(a, _)| a.len())
        .sum::<usize>();
    let (old_rest, new_rest) = (&old[common_prefix..], &new[common_prefix..]);
    let common_suffix = old_rest
        .split_inclusive('\n')
        .rev()
        .zip(new_rest.split_inclusive('\n').rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len())
        .sum::<usize>()
        .min(old_rest.len())
        .min(new_rest.len());
    let span = Span::new(common_prefix, old.len() - common_suffix);
    (span, &new_rest[..new_rest.len() - common_suffix])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::Encoding;
    use crate::span::LineIndex;

    fn apply(text: &str) -> Result<String, String> {
        let analysis = Analysis::new(text, None);
        let index = LineIndex::new(text);
        let lines = Lines::new(text, &index, Encoding::Utf16);
        let edits = format(text, &analysis, &lines)?;
        let mut out = text.to_string();
        for e in edits.iter().rev() {
            let span = lines.span(e.range);
            out.replace_range(span.start..span.end, &e.new_text);
        }
        Ok(out)
    }

    #[test]
    fn formats_like_kload_fmt() {
        let messy = include_str!("../../tests/golden/fmt/messy.kload");
        let expected = include_str!("../../tests/golden/fmt/messy.formatted.kload");
        assert_eq!(apply(messy).unwrap(), expected);
        assert_eq!(apply(expected).unwrap(), expected);
        assert!(apply("user A {").unwrap_err().contains("syntax error"));
    }

    #[test]
    fn only_the_changed_lines_are_replaced() {
        let old = "a\nb\nc  \nd\ne\n";
        let new = "a\nb\nc\nd\ne\n";
        assert_eq!(changed_lines(old, new), (Span::new(4, 8), "c\n"));
        assert_eq!(changed_lines("x", "y\n"), (Span::new(0, 1), "y\n"));
        assert_eq!(changed_lines("a\n", "a\nb\n"), (Span::new(2, 2), "b\n"));
    }
}
