//! Hover: the definition of a variable, capture, feed, column, tag or request name; a
//! function's signature; a keyword's, metric's or method's meaning from the language
//! reference.

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::Client;
use super::analysis::Analysis;
use super::context;
use super::index::{Index, Occurrence, SymbolKind};
use super::position::Lines;
use super::words;
use crate::span::{Span, line_col};
use crate::syntax::expected::expected_after;

/// At most this many definitions are shown (a variable captured in many tasks).
const SHOWN: usize = 5;

pub fn hover(
    text: &str,
    offset: usize,
    analysis: &Analysis,
    lines: &Lines,
    client: &Client,
) -> Option<Hover> {
    let (markdown, span) = match analysis
        .index(text)
        .and_then(|i| i.at(offset).map(|o| (i, o)))
    {
        Some((index, o)) => (symbol(text, index, o, analysis), o.span),
        None => word(text, offset)?,
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: if client.markdown {
                MarkupKind::Markdown
            } else {
                MarkupKind::PlainText
            },
            value: markdown,
        }),
        range: Some(lines.range(span)),
    })
}

/// The first line of a statement, as written.
fn statement_text(text: &str, span: Span) -> &str {
    let s = text.get(span.start..span.end).unwrap_or("");
    s.lines().next().unwrap_or("").trim_end()
}

fn definitions(text: &str, index: &Index, symbol: usize) -> String {
    let defs: Vec<&Occurrence> = index.definitions_of(symbol).collect();
    let mut out = String::new();
    for d in defs.iter().take(SHOWN) {
        let (line, _) = line_col(text, d.span.start);
        out.push_str(&format!(
            "\n```kload\n{}\n```\nline {line}\n",
            statement_text(text, d.statement)
        ));
    }
    if defs.len() > SHOWN {
        out.push_str(&format!("\nand {} more\n", defs.len() - SHOWN));
    }
    out
}

fn symbol(text: &str, index: &Index, o: &Occurrence, analysis: &Analysis) -> String {
    let s = index.symbol(o);
    match s.kind {
        SymbolKind::Variable => {
            let defs = definitions(text, index, o.symbol);
            let place = match s.scope {
                Some(_) if !defs.is_empty() => "of this user class",
                Some(_) => "",
                None => "of the scenario",
            };
            if defs.is_empty() {
                format!(
                    "variable `{}`: nothing sets it (see the diagnostic)",
                    s.name
                )
            } else {
                format!("variable `{}` {place}\n{defs}", s.name)
            }
        }
        SymbolKind::Feed => {
            let mut out = format!(
                "data feed `{}`\n{}",
                s.name,
                definitions(text, index, o.symbol)
            );
            if let Some(file) = index.feed(&s.name).and_then(|f| analysis.feed_file(f)) {
                let columns: Vec<String> =
                    file.columns.iter().map(|(c, _)| format!("`{c}`")).collect();
                out.push_str(&format!("\ncolumns: {}", columns.join(", ")));
            }
            out
        }
        SymbolKind::Column => {
            let (feed, column) = s.name.split_once('.').unwrap_or(("", &s.name));
            let path = index
                .feed(feed)
                .and_then(|f| f.path.clone())
                .unwrap_or_default();
            format!("column `{column}` of data feed `{feed}` (`{path}`): each virtual user's row")
        }
        SymbolKind::Tag => {
            let uses = index.definitions_of(o.symbol).count();
            format!(
                "tag `{}`: given {uses} time{} in this file",
                s.name,
                if uses == 1 { "" } else { "s" }
            )
        }
        SymbolKind::RequestName => {
            let defs = definitions(text, index, o.symbol);
            format!("request name `{}`\n{defs}", s.name)
        }
        SymbolKind::Function => match words::function(&s.name) {
            Some(spec) => words::function_markdown(spec),
            None => format!("unknown function `{}`", s.name),
        },
    }
}

/// A keyword, metric or method under the cursor.
fn word(text: &str, offset: usize) -> Option<(String, Span)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // Past the end or inside a character: the character boundary before it.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[start..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| start + i);
    if start == end {
        return None;
    }
    let word = &text[start..end];
    let span = Span::new(start, end);
    let cursor = context::at(text, start);
    if cursor.place != context::Place::Code {
        return None;
    }
    let expected = expected_after(&cursor.skeleton())
        .or_else(|| expected_after(&cursor.canonical_skeleton()))?;
    use crate::syntax::parser::Rule;
    if expected.has_rule(Rule::method) && crate::compile::METHODS.contains(&word) {
        return Some((
            words::markdown(words::METHOD.syntax, words::METHOD.doc),
            span,
        ));
    }
    if expected.has_rule(Rule::metric) {
        let m = words::metric(word)?;
        let syntax = m.syntax.replacen(m.word, word, 1);
        return Some((words::markdown(&syntax, m.doc), span));
    }
    if !expected.keywords.iter().any(|k| k == word) {
        return None;
    }
    let row = words::keyword(word, cursor.statement_word(), cursor.block_kind())?;
    Some((words::markdown(row.syntax, row.doc), span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::Encoding;
    use crate::span::LineIndex;

    const SRC: &str = "scenario \"s\" {\n  let api = \"/v1\"\n}\n\ndata accounts from \"a.csv\" unique\n\nuser A {\n  task count tags list {\n    GET \"{{ api }}/x\" {\n      check header ETag exists\n      capture token = header ETag\n    }\n    POST \"/{{ token }}/{{ uuid() }}\" { json { \"u\": \"{{ accounts.username }}\" } }\n  }\n}\n\nthresholds {\n  p95(tag list) < 1s\n}\n";

    /// The hover text at the `n`th occurrence of `needle`.
    fn at(needle: &str, n: usize) -> Option<String> {
        let offset = SRC.match_indices(needle).nth(n).unwrap().0 + 1;
        let analysis = Analysis::new(SRC, None);
        let index = LineIndex::new(SRC);
        let lines = Lines::new(SRC, &index, Encoding::Utf8);
        let client = Client {
            markdown: true,
            ..Client::default()
        };
        hover(SRC, offset, &analysis, &lines, &client).map(|h| match h.contents {
            HoverContents::Markup(m) => m.value,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn variables_show_their_definition() {
        let api = at("api }}", 0).unwrap();
        assert!(api.contains("variable `api` of the scenario"), "{api}");
        assert!(
            api.contains("let api = \"/v1\"") && api.contains("line 2"),
            "{api}"
        );
        let token = at("token }}", 0).unwrap();
        assert!(
            token.contains("capture token = header ETag") && token.contains("line 11"),
            "{token}"
        );
    }

    #[test]
    fn feeds_columns_tags_and_functions() {
        let feed = at("accounts.", 0).unwrap();
        assert!(
            feed.contains("data accounts from \"a.csv\" unique"),
            "{feed}"
        );
        let column = at("username", 0).unwrap();
        assert!(
            column.contains("column `username` of data feed `accounts` (`a.csv`)"),
            "{column}"
        );
        let tag = at("list)", 0).unwrap();
        assert!(tag.contains("tag `list`: given 1 time"), "{tag}");
        let f = at("uuid", 0).unwrap();
        assert!(f.contains("uuid()") && f.contains("a random UUID"), "{f}");
    }

    #[test]
    fn keywords_by_place() {
        let check_header = at("header ETag exists", 0).unwrap();
        assert!(check_header.contains("a response header"), "{check_header}");
        let let_ = at("let", 0).unwrap();
        assert!(let_.contains("A variable gets its value"), "{let_}");
        let unique = at("unique", 0).unwrap();
        assert!(
            unique.contains("every user gets a row of its own"),
            "{unique}"
        );
        let p95 = at("p95", 0).unwrap();
        assert!(p95.contains("that percentile of response times"), "{p95}");
        let post = at("POST", 0).unwrap();
        assert!(post.contains("A request is an HTTP method"), "{post}");
        let json = at("json", 0).unwrap();
        assert!(json.contains("Written like JSON"), "{json}");
    }

    #[test]
    fn names_are_not_keywords() {
        // `count` names a task here: not the class option.
        assert_eq!(at("count tags", 0), None);
        assert_eq!(at("\"/v1\"", 0), None, "inside a string");
    }
}
