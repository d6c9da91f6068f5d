//! One version of a document, analysed: the compiler's diagnostics (what `kload check`
//! prints), and the symbol index, built from the syntax tree, or when the text does not
//! parse from a repaired copy whose byte offsets are the same as the text's.

use std::cell::OnceCell;
use std::ops::Range;
use std::path::{Path, PathBuf};

use pest::Parser as _;

use super::context;
use super::index::{Feed, Index};
use crate::compile::{self, Context};
use crate::diagnostic::Diagnostic;
use crate::syntax::{self, ast, parser::KloadParser, parser::Rule};

/// How many times a broken text is patched before giving up on a tree for it.
const REPAIRS: usize = 8;

pub struct Analysis {
    /// Sorted by position, as the compiler gives them.
    pub diagnostics: Vec<Diagnostic>,
    /// The text's tree, when it parses.
    tree: Option<ast::File>,
    /// A tree of a repaired copy, when the text does not parse (made on first use).
    repaired: OnceCell<Option<ast::File>>,
    /// Where the text fails to parse.
    syntax_error_at: Option<usize>,
    index: OnceCell<Option<Index>>,
    /// Where the text's relative paths start (data files).
    pub base_dir: PathBuf,
}

impl Analysis {
    /// Parses and compiles `text` (the same steps as `compile::compile_source`, keeping
    /// the tree for the index).
    pub fn new(text: &str, path: Option<&Path>) -> Analysis {
        let ctx = match path {
            Some(p) => Context::for_file(p),
            None => Context::default(),
        };
        let (diagnostics, tree) = match syntax::parse(text) {
            Ok(file) => (compile::compile(&file, text, &ctx).diagnostics, Some(file)),
            Err(d) => (vec![d], None),
        };
        let syntax_error_at = match tree {
            None => diagnostics.first().map(|d| d.primary.span.start),
            Some(_) => None,
        };
        Analysis {
            diagnostics,
            tree,
            repaired: OnceCell::new(),
            syntax_error_at,
            index: OnceCell::new(),
            base_dir: ctx.base_dir,
        }
    }

    /// Whether the text parsed (formatting needs it).
    pub fn tree(&self) -> Option<&ast::File> {
        self.tree.as_ref()
    }

    /// The tree of `text` (the text this analysis was made from), or of a repaired copy
    /// when it does not parse, which lacks the statements that had to be blanked.
    pub fn tree_or_repaired(&self, text: &str) -> Option<&ast::File> {
        match &self.tree {
            Some(file) => Some(file),
            None => self
                .repaired
                .get_or_init(|| repaired(text, self.syntax_error_at))
                .as_ref(),
        }
    }

    /// The symbol index of `text` (see [`Self::tree_or_repaired`]).
    pub fn index(&self, text: &str) -> Option<&Index> {
        self.index
            .get_or_init(|| self.tree_or_repaired(text).map(Index::build))
            .as_ref()
    }
}

/// A data feed's CSV file: where it is, and its columns with their byte offsets in the
/// header line (the first line of the file).
pub struct FeedFile {
    pub path: PathBuf,
    pub columns: Vec<(String, usize)>,
}

impl Analysis {
    /// Reads the header of a feed's file (relative to the scenario); `None` when the path
    /// has `{{ }}` or the file cannot be read (the diagnostics say why).
    pub fn feed_file(&self, feed: &Feed) -> Option<FeedFile> {
        let path = self.base_dir.join(feed.path.as_deref()?);
        let mut reader = csv::ReaderBuilder::new().from_path(&path).ok()?;
        let headers = reader.headers().ok()?.clone();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let line = text.lines().next().unwrap_or("");
        let mut from = 0;
        let columns = headers
            .iter()
            .map(|c| {
                let name = c.trim().to_string();
                let at = line[from..].find(&name).map_or(from, |i| from + i);
                from = (at + name.len()).min(line.len());
                (name, at)
            })
            .collect();
        Some(FeedFile { path, columns })
    }
}

/// A tree for a text that does not parse: the line where pest stops is blanked (or, when
/// it stops at the end, the open strings and blocks are closed), a few times over. Blanking
/// replaces bytes by spaces, so every span of the tree is also a span of `text`.
///
/// `error_at` is where the text is known to fail already (its syntax diagnostic), which
/// saves parsing it once more.
pub fn repaired(text: &str, error_at: Option<usize>) -> Option<ast::File> {
    syntax::error::check_depth(text).ok()?;
    let mut work = text.to_string();
    let mut known = error_at;
    for _ in 0..REPAIRS {
        let pos = match known.take() {
            Some(p) => p,
            None => match KloadParser::parse(Rule::file, &work) {
                Ok(_) => return syntax::parse(&work).ok(),
                Err(e) => match e.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((p, _)) => p,
                },
            },
        };
        if work[pos.min(work.len())..].trim().is_empty() {
            let closers = closers(&work);
            if !closers.is_empty() {
                work.push_str(&closers);
                continue;
            }
        }
        // A string left open runs on over the next lines: blank the line it starts on.
        let pos = pos.min(text.len());
        let line = match context::at(&work, pos).string_start {
            Some(quote) => line_of(&work, quote),
            None => line_to_blank(&work, pos),
        };
        if line.is_empty() {
            return None;
        }
        let blank = " ".repeat(line.len());
        work.replace_range(line.start..line.end, &blank);
    }
    None
}

/// What closes the strings, expressions and blocks open at the end of `text`.
fn closers(text: &str) -> String {
    context::at(text, text.len()).closing
}

/// The byte range of the line that holds `at`, without its `\n`.
fn line_of(text: &str, at: usize) -> Range<usize> {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    start..end
}

/// The line to blank for a parse that stopped at `pos`: the line itself, or the statement
/// before it when pest stopped at the first word of a line (the line before is then the
/// one left incomplete), unless that one opened a block.
fn line_to_blank(text: &str, pos: usize) -> Range<usize> {
    let line_of = |at: usize| line_of(text, at);
    let line = line_of(pos);
    let at_first_word = text[line.start..pos].trim().is_empty();
    if at_first_word && line.start > 0 {
        let before = text[..line.start - 1].trim_end();
        if !before.is_empty() && !before.ends_with('{') && !before.ends_with('}') {
            let prev = line_of(before.len());
            if !text[prev.clone()].trim().is_empty() {
                return prev;
            }
        }
    }
    if text[line.clone()].trim().is_empty() {
        return 0..0;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::index::SymbolKind;

    #[test]
    fn diagnostics_are_the_compilers() {
        let src = "user A {\n  task t {\n    GET \"/{{ projct_id }}\"\n  }\n}\n";
        let a = Analysis::new(src, None);
        let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["kload::unknown_variable"]);
        assert!(a.tree().is_some());
        let broken = Analysis::new("user A {", None);
        assert_eq!(broken.diagnostics[0].code, "kload::syntax");
        assert!(broken.tree().is_none());
    }

    #[test]
    fn feed_columns_come_from_the_csv_header() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "username,\"pass word\"\nu,p\n").unwrap();
        let path = dir.path().join("s.kload");
        let a = Analysis::new("", Some(&path));
        let feed = Feed {
            name: "a".to_string(),
            path: Some("a.csv".to_string()),
        };
        let file = a.feed_file(&feed).unwrap();
        assert_eq!(file.path, dir.path().join("a.csv"));
        assert_eq!(
            file.columns,
            [("username".to_string(), 0), ("pass word".to_string(), 10)]
        );
        let missing = Feed {
            name: "b".to_string(),
            path: Some("b.csv".to_string()),
        };
        assert!(a.feed_file(&missing).is_none());
    }

    #[test]
    fn a_broken_line_is_blanked_and_the_rest_indexed() {
        let src = "user A {\n  task t {\n    GET \"/a\" {\n      capture token = jsonpath \"$.t\"\n    }\n    GET \"/{{ tok\n    let x = 1\n  }\n}\n";
        let a = Analysis::new(src, None);
        assert!(a.tree().is_none());
        let index = a.index(src).expect("repaired");
        assert_eq!(index.names(SymbolKind::Variable, Some(0)), ["token", "x"]);
        // Spans still point into the original text.
        let x = index
            .occurrences
            .iter()
            .find(|o| index.symbol(o).name == "x")
            .unwrap();
        assert_eq!(&src[x.span.start..x.span.end], "x");
    }

    #[test]
    fn unclosed_blocks_are_closed() {
        let src = "data accounts from \"a.csv\"\nuser A {\n  task t {\n    GET \"/{{ accounts.id }}\"\n    let y = ";
        let file = repaired(src, None).expect("repaired");
        let index = Index::build(&file);
        assert_eq!(index.names(SymbolKind::Feed, None), ["accounts"]);
        let src = "user A {\n  task t {\n    GET \"/x\n";
        assert!(repaired(src, None).is_some());
    }

    #[test]
    fn a_string_left_open_is_blanked_where_it_starts() {
        // The string runs on into the lines after it: pest stops far below.
        let src = "user A {\n  task t {\n    GET \"/a\" { capture token = header X }\n    GET \"/{{ \n    sleep between 500ms 1s\n  }\n  task u {\n    GET \"/b\" {\n      name \"b\"\n      check status 200\n    }\n  }\n}\n";
        let index = Index::build(&repaired(src, None).expect("repaired"));
        assert_eq!(index.names(SymbolKind::Variable, Some(0)), ["token"]);
        assert_eq!(index.names(SymbolKind::RequestName, None), ["/a", "b"]);
    }

    #[test]
    fn an_incomplete_statement_before_the_error_is_blanked() {
        let src = "user A {\n  task t {\n    let a = 1\n    sleep\n  }\n  task u {\n    let b = 2\n  }\n}\n";
        let index = Index::build(&repaired(src, None).expect("repaired"));
        assert_eq!(index.names(SymbolKind::Variable, Some(0)), ["a", "b"]);
    }
}
