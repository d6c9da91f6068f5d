//! Source positions: byte ranges into a `.kload` file and their line/column form.
//!
//! Every stage that points at the file (the syntax tree, the compiled plan, diagnostics,
//! runtime errors) uses these types; none of them needs the syntax tree for it.

use std::fmt;

/// A byte range in the source file. Spans compare by position; to compare syntax trees by
/// meaning alone, see `syntax::ast::File::same_meaning`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `offset` lies inside the span (its end included, for a cursor after the last
    /// character).
    pub fn contains(self, offset: usize) -> bool {
        self.start <= offset && offset <= self.end
    }
}

/// `@start..end`: the `@` marks a position in debug output, so that tests can tell spans
/// from other ranges.
impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.start, self.end)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Where each line starts, for many [`line_col`] look-ups in one text (the compiler
/// labels every request with its line) without rescanning it from the top each time.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let newlines = source
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1);
        LineIndex {
            starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// The same as [`line_col`].
    pub fn line_col(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(source, offset);
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts[line - 1];
        (line, source[start..offset].chars().count() + 1)
    }

    /// The byte offset of 0-based `line` and 0-based `character` (in chars), clamped to
    /// the text (editors send positions past the end of a line).
    pub fn offset(&self, source: &str, line: usize, character: usize) -> usize {
        let Some(&start) = self.starts.get(line) else {
            return source.len();
        };
        let end = self.starts.get(line + 1).map_or(source.len(), |s| s - 1);
        source[start..end]
            .char_indices()
            .nth(character)
            .map_or(end, |(i, _)| start + i)
    }

    /// Number of lines (a text without newline has one).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_compare_by_position() {
        assert_eq!(Span::new(1, 4), Span::new(1, 4));
        assert_ne!(Span::new(1, 4), Span::new(2, 4));
        assert_eq!(Span::new(3, 5).to(Span::new(1, 2)), Span::new(1, 5));
        assert_eq!(format!("{:?}", Span::new(3, 5)), "@3..5");
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let src = "ab\ncdé\n\nf";
        let index = LineIndex::new(src);
        for offset in 0..=src.len() + 2 {
            assert_eq!(
                index.line_col(src, offset),
                line_col(src, offset),
                "{offset}"
            );
        }
        assert_eq!(index.lines(), 4);
    }

    #[test]
    fn offsets_from_editor_positions() {
        let src = "ab\ncdé\n\nf";
        let index = LineIndex::new(src);
        assert_eq!(index.offset(src, 0, 0), 0);
        assert_eq!(index.offset(src, 1, 2), 5);
        assert_eq!(index.offset(src, 1, 3), 7, "end of line 2");
        assert_eq!(index.offset(src, 1, 99), 7, "past the end of line 2");
        assert_eq!(index.offset(src, 3, 0), 9);
        assert_eq!(index.offset(src, 9, 0), src.len());
    }
}
