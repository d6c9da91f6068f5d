//! The documents the editor has open: their text as the editor has it (not as saved),
//! kept in step with every change, and the analysis of their current version.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::analysis::Analysis;
use super::position::{Encoding, Lines};
use crate::span::LineIndex;

pub struct Document {
    pub text: String,
    pub version: i32,
    /// The file on disk, for paths relative to it (`file:` URIs only).
    pub path: Option<PathBuf>,
    index: LineIndex,
    analysis: Option<Rc<Analysis>>,
}

impl Document {
    pub fn new(uri: &Uri, text: String, version: i32) -> Document {
        Document {
            index: LineIndex::new(&text),
            text,
            version,
            path: file_path(uri),
            analysis: None,
        }
    }

    pub fn lines(&self, encoding: Encoding) -> Lines<'_> {
        Lines::new(&self.text, &self.index, encoding)
    }

    /// Applies the editor's changes in order: a change with a range replaces that range,
    /// one without replaces the whole text.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        encoding: Encoding,
    ) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let span = self.lines(encoding).span(range);
                    self.text.replace_range(span.start..span.end, &change.text);
                }
                None => self.text = change.text,
            }
            self.index = LineIndex::new(&self.text);
        }
        self.version = version;
        self.analysis = None;
    }

    /// The analysis of the current text, made on first use after a change.
    pub fn analysis(&mut self) -> Rc<Analysis> {
        let (text, path) = (&self.text, self.path.as_deref());
        self.analysis
            .get_or_insert_with(|| Rc::new(Analysis::new(text, path)))
            .clone()
    }
}

/// The local path of a `file:` URI.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}

/// The `file:` URI of a local path.
pub fn file_uri(path: &std::path::Path) -> Option<Uri> {
    url::Url::from_file_path(path).ok()?.as_str().parse().ok()
}

/// The open documents by URI.
#[derive(Default)]
pub struct Documents {
    open: HashMap<Uri, Document>,
}

impl Documents {
    pub fn open(&mut self, uri: Uri, text: String, version: i32) {
        let doc = Document::new(&uri, text, version);
        self.open.insert(uri, doc);
    }

    pub fn close(&mut self, uri: &Uri) {
        self.open.remove(uri);
    }

    pub fn get_mut(&mut self, uri: &Uri) -> Option<&mut Document> {
        self.open.get_mut(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range
                .map(|((a, b), (c, d))| Range::new(Position::new(a, b), Position::new(c, d))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_in_utf16() {
        let uri: Uri = "file:///tmp/a.kload".parse().unwrap();
        let mut doc = Document::new(&uri, "# ☕ 𝄞\nuser A {}\n".to_string(), 1);
        assert_eq!(
            doc.path.as_deref(),
            Some(std::path::Path::new("/tmp/a.kload"))
        );
        // 𝄞 is two UTF-16 units: character 6 is after it.
        doc.apply(
            vec![
                change(Some(((0, 6), (0, 6))), "!"),
                change(Some(((1, 5), (1, 6))), "B"),
            ],
            2,
            Encoding::Utf16,
        );
        assert_eq!(doc.text, "# ☕ 𝄞!\nuser B {}\n");
        assert_eq!(doc.version, 2);
        doc.apply(vec![change(None, "user C {}")], 3, Encoding::Utf16);
        assert_eq!(doc.text, "user C {}");
    }

    #[test]
    fn analysis_follows_the_text() {
        let uri: Uri = "untitled:x".parse().unwrap();
        let mut doc = Document::new(&uri, "user A {".to_string(), 1);
        assert_eq!(doc.path, None);
        assert_eq!(doc.analysis().diagnostics[0].code, "kload::syntax");
        doc.apply(
            vec![change(Some(((0, 8), (0, 8))), " task t { GET \"/\" } }")],
            2,
            Encoding::Utf8,
        );
        assert!(
            doc.analysis().diagnostics.is_empty(),
            "{:?}",
            doc.analysis().diagnostics
        );
    }
}
