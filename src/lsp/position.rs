//! Editor positions ↔ byte offsets. LSP counts a line's characters in UTF-16 code units
//! unless client and server agree on UTF-8 (`positionEncoding`); kload's spans are bytes.

use lsp_types::{Position, Range};

use crate::span::{LineIndex, Span};

/// How the client counts characters within a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8: a span's offsets as they are.
    Utf8,
    /// UTF-16 code units: what every client supports, the protocol's default.
    Utf16,
}

/// A text and where its lines start, for converting positions both ways.
pub struct Lines<'a> {
    text: &'a str,
    index: &'a LineIndex,
    encoding: Encoding,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str, index: &'a LineIndex, encoding: Encoding) -> Lines<'a> {
        Lines {
            text,
            index,
            encoding,
        }
    }

    /// The byte offset of an editor position, clamped to its line (clients may send a
    /// character past the end) and to the text; never inside a UTF-8 sequence.
    pub fn offset(&self, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.index.lines() {
            return self.text.len();
        }
        let start = self.index.offset(self.text, line, 0);
        let end = self.line_end(line);
        let content = &self.text[start..end];
        let wanted = pos.character as usize;
        let within = match self.encoding {
            Encoding::Utf8 => {
                let mut at = wanted.min(content.len());
                while !content.is_char_boundary(at) {
                    at -= 1;
                }
                at
            }
            Encoding::Utf16 => {
                let mut units = 0;
                let mut at = content.len();
                for (i, c) in content.char_indices() {
                    if units >= wanted {
                        at = i;
                        break;
                    }
                    units += c.len_utf16();
                    // A position between the two halves of a surrogate pair means the
                    // character itself.
                    if units > wanted {
                        at = i;
                        break;
                    }
                }
                at
            }
        };
        start + within
    }

    /// The editor position of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (line, _) = self.index.line_col(self.text, offset);
        let line = line - 1;
        let start = self.index.offset(self.text, line, 0);
        let before = &self.text[start..offset];
        let character = match self.encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn span(&self, range: Range) -> Span {
        let start = self.offset(range.start);
        let end = self.offset(range.end).max(start);
        Span::new(start, end)
    }

    /// The offset where `line`'s text ends, before its `\n` (and a `\r` before that).
    fn line_end(&self, line: usize) -> usize {
        let next = if line + 1 < self.index.lines() {
            self.index.offset(self.text, line + 1, 0) - 1
        } else {
            self.text.len()
        };
        let start = self.index.offset(self.text, line, 0);
        if next > start && self.text.as_bytes()[next - 1] == b'\r' {
            next - 1
        } else {
            next
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, encoding: Encoding, f: impl FnOnce(&Lines)) {
        let index = LineIndex::new(text);
        f(&Lines::new(text, &index, encoding));
    }

    #[test]
    fn utf16_counts_code_units() {
        // `é` is 2 bytes and 1 unit, `☕` 3 bytes and 1 unit, `𝄞` 4 bytes and 2 units.
        let text = "a\né☕𝄞x\n";
        lines(text, Encoding::Utf16, |l| {
            assert_eq!(l.offset(Position::new(1, 0)), 2);
            assert_eq!(l.offset(Position::new(1, 1)), 4, "after é");
            assert_eq!(l.offset(Position::new(1, 2)), 7, "after ☕");
            assert_eq!(l.offset(Position::new(1, 3)), 7, "inside 𝄞 means 𝄞");
            assert_eq!(l.offset(Position::new(1, 4)), 11, "after 𝄞");
            assert_eq!(
                l.offset(Position::new(1, 99)),
                12,
                "past the end of the line"
            );
            assert_eq!(l.offset(Position::new(9, 0)), text.len());
            assert_eq!(l.position(11), Position::new(1, 4));
            assert_eq!(l.position(12), Position::new(1, 5));
            assert_eq!(l.position(13), Position::new(2, 0));
        });
    }

    #[test]
    fn utf8_counts_bytes() {
        let text = "a\né☕x";
        lines(text, Encoding::Utf8, |l| {
            assert_eq!(l.offset(Position::new(1, 2)), 4);
            assert_eq!(l.offset(Position::new(1, 3)), 4, "inside ☕ rounds down");
            assert_eq!(l.position(7), Position::new(1, 5));
        });
    }

    #[test]
    fn round_trips_every_character_boundary() {
        let text = "# café ☕ 𝄞\r\nuser A {\n}\n";
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            lines(text, encoding, |l| {
                // Line ends are where the protocol has no position of their own.
                for (offset, _) in text
                    .char_indices()
                    .filter(|(_, c)| !matches!(c, '\r' | '\n'))
                {
                    assert_eq!(
                        l.offset(l.position(offset)),
                        offset,
                        "{encoding:?} {offset}"
                    );
                }
            });
        }
    }
}
