//! What an editor shows, as golden files, and a deterministic robustness test: no text and
//! no cursor position makes the server's features panic.
//!
//! `tests/golden/lsp/*.kload` are scenarios with requests written in comments: a line
//! `#   ^ hover` asks for a hover at the column of `^` in the line above (the nearest line
//! that is not such a request). The kinds are `complete`, `hover`, `definition`,
//! `references` and `fix`. The matching `.txt` holds the diagnostics, the outline, the
//! formatting and every answer. Re-bless with `KLOAD_BLESS=1 cargo test --lib lsp::tests`
//! and review the diff like code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lsp_types::{CodeActionOrCommand, CompletionTextEdit, HoverContents, Uri};

use super::Client;
use super::actions::quick_fixes;
use super::analysis::Analysis;
use super::completion::complete;
use super::diagnostics::to_lsp;
use super::formatting;
use super::hover::hover;
use super::navigation::{definition, references};
use super::outline::{Entry, outline};
use super::position::{Encoding, Lines};
use crate::span::{LineIndex, Span};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lsp")
}

/// A request written in a comment: its kind and the byte offset it points at.
struct Mark {
    kind: String,
    offset: usize,
    line: usize,
    column: usize,
}

fn marks(text: &str) -> Vec<Mark> {
    let mut out = Vec::new();
    let mut target: Option<(usize, usize)> = None; // (line number, byte offset of its start)
    let mut start = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let is_mark = trimmed.starts_with('#')
            && trimmed[1..].trim_start().starts_with('^')
            && line.contains('^');
        if is_mark {
            let caret = line.find('^').unwrap();
            let kind = line[caret + 1..].trim().to_string();
            let (target_line, target_start) = target.expect("a mark under a line");
            out.push(Mark {
                kind,
                offset: target_start + caret,
                line: target_line + 1,
                column: caret + 1,
            });
        } else {
            target = Some((n, start));
        }
        start += line.len();
    }
    out
}

fn describe_outline(entries: &[Entry], depth: usize, out: &mut String) {
    for e in entries {
        let detail = e
            .detail
            .as_deref()
            .map_or(String::new(), |d| format!("  ({d})"));
        let _ = writeln!(out, "{}{:?} {}{detail}", "  ".repeat(depth), e.kind, e.name);
        describe_outline(&e.children, depth + 1, out);
    }
}

/// Everything the editor would show for one golden file.
fn transcript(text: &str, path: &Path) -> String {
    let uri: Uri = "file:///golden.kload".parse().unwrap();
    let analysis = Analysis::new(text, Some(path));
    let index = LineIndex::new(text);
    let lines = Lines::new(text, &index, Encoding::Utf16);
    let client = Client {
        markdown: true,
        nested_symbols: true,
        ..Client::default()
    };
    let at = |span: Span| {
        let p = lines.position(span.start);
        format!("{}:{}", p.line + 1, p.character + 1)
    };
    let mut out = String::new();
    out.push_str("── diagnostics\n");
    for d in &analysis.diagnostics {
        let lsp = to_lsp(d, &uri, &lines);
        let code = match &lsp.code {
            Some(lsp_types::NumberOrString::String(c)) => c.clone(),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{} {code}: {}",
            at(d.primary.span),
            lsp.message.replace('\n', " | ")
        );
    }
    out.push_str("── outline\n");
    if let Some(tree) = analysis.tree_or_repaired(text) {
        describe_outline(&outline(tree, text), 0, &mut out);
    }
    out.push_str("── formatting\n");
    match formatting::format(text, &analysis, &lines) {
        Ok(edits) if edits.is_empty() => out.push_str("already formatted\n"),
        Ok(edits) => {
            for e in edits {
                let _ = writeln!(
                    out,
                    "lines {}-{} become:\n{}",
                    e.range.start.line + 1,
                    e.range.end.line + 1,
                    e.new_text.trim_end()
                );
            }
        }
        Err(e) => out.push_str(&format!("refused: {e}\n")),
    }
    for m in marks(text) {
        let line_text = text[..m.offset]
            .rsplit('\n')
            .next()
            .unwrap_or("")
            .to_string()
            + text[m.offset..].split('\n').next().unwrap_or("");
        let _ = writeln!(
            out,
            "── {} at {}:{}: {}",
            m.kind,
            m.line,
            m.column,
            line_text.trim()
        );
        match m.kind.as_str() {
            "complete" => {
                for item in complete(text, m.offset, &analysis, &lines, &client) {
                    let insert = match &item.text_edit {
                        Some(CompletionTextEdit::Edit(e)) if e.new_text != item.label => {
                            format!("  → {}", e.new_text)
                        }
                        _ => String::new(),
                    };
                    let detail = item.detail.map_or(String::new(), |d| format!("  [{d}]"));
                    let _ = writeln!(out, "{}{detail}{insert}", item.label);
                }
            }
            "hover" => match hover(text, m.offset, &analysis, &lines, &client) {
                Some(h) => {
                    let HoverContents::Markup(markup) = h.contents else {
                        panic!("markup")
                    };
                    let _ = writeln!(out, "{}", markup.value.trim_end());
                }
                None => out.push_str("(nothing)\n"),
            },
            "definition" | "references" => {
                let found = if m.kind == "definition" {
                    definition(&uri, text, m.offset, &analysis, &lines, Encoding::Utf16)
                } else {
                    references(&uri, text, m.offset, &analysis, &lines, true)
                };
                for l in found {
                    let file = l.uri.as_str().rsplit('/').next().unwrap_or("").to_string();
                    let _ = writeln!(
                        out,
                        "{file} {}:{}-{}:{}",
                        l.range.start.line + 1,
                        l.range.start.character + 1,
                        l.range.end.line + 1,
                        l.range.end.character + 1
                    );
                }
            }
            "fix" => {
                for action in
                    quick_fixes(&uri, text, &analysis, &lines, Span::new(m.offset, m.offset))
                {
                    if let CodeActionOrCommand::CodeAction(a) = action {
                        let _ = writeln!(out, "{}", a.title);
                    }
                }
            }
            other => panic!("unknown mark `{other}` at {}:{}", m.line, m.column),
        }
    }
    out
}

#[test]
fn golden_sessions() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "kload"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let actual = transcript(&text, &path);
        let name = path.with_extension("txt");
        let name = name.file_name().unwrap().to_string_lossy();
        crate::golden::check("lsp", &name, actual.as_bytes());
    }
}

/// xorshift64: a fixed sequence, so that a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every feature at random positions of randomly damaged scenarios (cut short, a span
/// deleted, a span duplicated, a multi-byte character inserted), in both encodings.
#[test]
fn no_text_or_position_makes_a_feature_panic() {
    let sources = [
        include_str!("../../scenarios/kibray.kload"),
        include_str!("../../editors/tests/sample.kload"),
        include_str!("../../tests/golden/fmt/messy.kload"),
    ];
    let uri: Uri = "file:///fuzz.kload".parse().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..150 {
        let mut text = sources[round % sources.len()].to_string();
        let floor = |text: &str, at: usize| {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let a = floor(&text, rng.below(text.len() + 1));
        let b = floor(&text, a + rng.below(200));
        match round % 4 {
            0 => text.truncate(b),
            1 => text.replace_range(a..b, ""),
            2 => {
                let piece = text[a..b].to_string();
                text.insert_str(b, &piece);
            }
            _ => text.insert_str(a, "é☕𝄞\"{{("),
        }
        let analysis = Analysis::new(&text, None);
        let index = LineIndex::new(&text);
        let encoding = if round % 2 == 0 {
            Encoding::Utf16
        } else {
            Encoding::Utf8
        };
        let lines = Lines::new(&text, &index, encoding);
        let client = Client {
            encoding,
            snippets: true,
            markdown: true,
            nested_symbols: true,
            prepare_rename: true,
        };
        let _ = analysis.tree_or_repaired(&text).map(|t| outline(t, &text));
        let _ = formatting::format(&text, &analysis, &lines);
        for _ in 0..12 {
            let offset = rng.below(text.len() + 2);
            let _ = complete(&text, offset, &analysis, &lines, &client);
            let _ = hover(&text, offset, &analysis, &lines, &client);
            let _ = definition(&uri, &text, offset, &analysis, &lines, encoding);
            let _ = references(&uri, &text, offset, &analysis, &lines, true);
            let _ = super::navigation::rename(&uri, &text, offset, "renamed", &analysis, &lines);
            let _ = quick_fixes(&uri, &text, &analysis, &lines, Span::new(offset, offset));
            let position = lines.position(offset);
            assert!(lines.offset(position) <= text.len());
        }
    }
}
