//! Completion by context: the keywords the grammar accepts at the cursor, HTTP methods and
//! metrics where they fit; variables in scope, data feeds, their columns and functions in
//! an expression; tags and request names in a threshold's selector.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, InsertTextFormat,
    MarkupContent, MarkupKind, TextEdit,
};

use super::Client;
use super::analysis::Analysis;
use super::context::{self, Cursor, Place};
use super::index::{Index, SymbolKind};
use super::position::Lines;
use super::words;
use crate::ir::FUNCTIONS;
use crate::span::Span;
use crate::syntax::expected::expected_after;
use crate::syntax::parser::Rule;

/// Header names offered after `header`, in requests, checks and captures.
const HEADERS: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Cache-Control",
    "Content-Length",
    "Content-Type",
    "Cookie",
    "ETag",
    "If-None-Match",
    "Last-Modified",
    "Location",
    "Origin",
    "Referer",
    "Retry-After",
    "Set-Cookie",
    "User-Agent",
    "X-Request-Id",
];

/// The completions at byte `offset` of `text`.
pub fn complete(
    text: &str,
    offset: usize,
    analysis: &Analysis,
    lines: &Lines,
    client: &Client,
) -> Vec<CompletionItem> {
    let cursor = context::at(text, offset);
    let list = Items {
        replace: cursor.word,
        lines,
        client,
        items: Vec::new(),
    };
    let index = || analysis.index(text);
    match &cursor.place {
        Place::Comment | Place::Text => Vec::new(),
        Place::Expression { feed: Some(feed) } => columns(list, analysis, index(), feed),
        Place::Expression { feed: None } => expression(list, index(), offset),
        Place::Selector { tag: true, .. } => tags(list, index()),
        Place::Selector { tag: false, start } => selector(list, index(), text, *start, offset),
        Place::Code => code(list, &cursor, index()),
    }
}

/// Items under construction, all replacing the same range.
struct Items<'a> {
    replace: Span,
    lines: &'a Lines<'a>,
    client: &'a Client,
    items: Vec<CompletionItem>,
}

impl Items<'_> {
    fn push(
        &mut self,
        label: &str,
        kind: CompletionItemKind,
        detail: Option<String>,
        doc: Option<String>,
    ) {
        self.push_edit(label, kind, detail, doc, label.to_string(), None);
    }

    /// An item whose text is `insert` (a snippet when `snippet` is given and the client
    /// takes snippets).
    fn push_edit(
        &mut self,
        label: &str,
        kind: CompletionItemKind,
        detail: Option<String>,
        doc: Option<String>,
        insert: String,
        snippet: Option<String>,
    ) {
        let (new_text, format) = match snippet {
            Some(s) if self.client.snippets => (s, InsertTextFormat::SNIPPET),
            _ => (insert, InsertTextFormat::PLAIN_TEXT),
        };
        self.items.push(CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail,
            documentation: doc.map(|d| self.documentation(d)),
            insert_text_format: Some(format),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: self.lines.range(self.replace),
                new_text,
            })),
            sort_text: Some(format!("{:04}", self.items.len())),
            ..CompletionItem::default()
        });
    }

    fn documentation(&self, markdown: String) -> Documentation {
        Documentation::MarkupContent(MarkupContent {
            kind: if self.client.markdown {
                MarkupKind::Markdown
            } else {
                MarkupKind::PlainText
            },
            value: markdown,
        })
    }
}

fn code(mut list: Items, cursor: &Cursor, index: Option<&Index>) -> Vec<CompletionItem> {
    let Some(expected) =
        expected_after(&cursor.skeleton()).or_else(|| expected_after(&cursor.canonical_skeleton()))
    else {
        return Vec::new();
    };
    let at_start = cursor.statement.trim().is_empty();
    for word in &expected.keywords {
        let row = words::keyword(word, cursor.statement_word(), cursor.block_kind());
        let detail = row.map(|r| r.syntax.to_string());
        let doc = row.map(|r| r.doc.to_string());
        let snippet = row
            .and_then(|r| r.snippet)
            .filter(|_| at_start)
            .map(str::to_string);
        list.push_edit(
            word,
            CompletionItemKind::KEYWORD,
            detail,
            doc,
            word.clone(),
            snippet,
        );
    }
    if expected.has_rule(Rule::method) {
        for m in crate::compile::METHODS {
            let doc = Some(words::METHOD.doc.to_string());
            let snippet = Some(format!("{m} \"${{1:/}}\""));
            list.push_edit(
                m,
                CompletionItemKind::KEYWORD,
                Some(words::METHOD.syntax.to_string()),
                doc,
                m.to_string(),
                snippet,
            );
        }
    }
    if expected.has_rule(Rule::metric) {
        for m in crate::compile::METRICS {
            let row = words::metric(m);
            let syntax = row.map(|r| r.syntax.replacen(r.word, m, 1));
            list.push(
                m,
                CompletionItemKind::PROPERTY,
                syntax,
                row.map(|r| r.doc.to_string()),
            );
        }
    }
    if expected.has_rule(Rule::header_name) {
        for h in HEADERS {
            list.push(h, CompletionItemKind::CONSTANT, None, None);
        }
    }
    let in_tags = cursor.statement.split_whitespace().any(|w| w == "tags");
    if expected.has_rule(Rule::ident) && in_tags {
        return tags(list, index);
    }
    list.items
}

fn expression(mut list: Items, index: Option<&Index>, offset: usize) -> Vec<CompletionItem> {
    if let Some(index) = index {
        for name in index.variables_at(offset) {
            list.push(
                name,
                CompletionItemKind::VARIABLE,
                Some("variable".to_string()),
                None,
            );
        }
        for feed in &index.feeds {
            let detail = match &feed.path {
                Some(p) => format!("data feed ({p})"),
                None => "data feed".to_string(),
            };
            list.push(&feed.name, CompletionItemKind::MODULE, Some(detail), None);
        }
    }
    for f in FUNCTIONS {
        let call = if f.max_args == Some(0) {
            format!("{}()", f.name)
        } else {
            format!("{}(", f.name)
        };
        let snippet = (f.max_args != Some(0)).then(|| format!("{}($1)", f.name));
        list.push_edit(
            f.name,
            CompletionItemKind::FUNCTION,
            Some(f.signature.to_string()),
            Some(words::function_markdown(f)),
            call,
            snippet,
        );
    }
    list.items
}

fn columns(
    mut list: Items,
    analysis: &Analysis,
    index: Option<&Index>,
    feed: &str,
) -> Vec<CompletionItem> {
    let Some(feed) = index.and_then(|i| i.feed(feed)) else {
        return Vec::new();
    };
    if let Some(file) = analysis.feed_file(feed) {
        let detail = format!("column of {}", feed.path.as_deref().unwrap_or(&feed.name));
        for (column, _) in &file.columns {
            list.push(
                column,
                CompletionItemKind::FIELD,
                Some(detail.clone()),
                None,
            );
        }
    }
    list.items
}

/// The tags given anywhere in the file.
fn tags(mut list: Items, index: Option<&Index>) -> Vec<CompletionItem> {
    for name in index
        .map(|i| i.names(SymbolKind::Tag, None))
        .unwrap_or_default()
    {
        list.push(
            name,
            CompletionItemKind::VALUE,
            Some("tag".to_string()),
            None,
        );
    }
    list.items
}

/// Inside `p95(`: `tag`, or a request name in quotes.
fn selector(
    mut list: Items,
    index: Option<&Index>,
    text: &str,
    start: usize,
    offset: usize,
) -> Vec<CompletionItem> {
    let typed = text[start..offset].trim_start();
    let start = offset - typed.len();
    if !typed.starts_with('"') {
        list.push_edit(
            "tag",
            CompletionItemKind::KEYWORD,
            Some("METRIC(tag NAME)".to_string()),
            words::keyword("tag", "", "thresholds").map(|r| r.doc.to_string()),
            "tag ".to_string(),
            None,
        );
    }
    list.replace = Span::new(start, offset);
    let range = list.lines.range(list.replace);
    for name in index
        .map(|i| i.names(SymbolKind::RequestName, None))
        .unwrap_or_default()
    {
        let quoted = format!("\"{name}\"");
        let filter = if typed.starts_with('"') {
            quoted.clone()
        } else {
            name.to_string()
        };
        list.items.push(CompletionItem {
            label: quoted.clone(),
            kind: Some(CompletionItemKind::VALUE),
            detail: Some("request name".to_string()),
            filter_text: Some(filter),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range,
                new_text: quoted,
            })),
            ..CompletionItem::default()
        });
    }
    list.items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::Encoding;
    use crate::span::LineIndex;

    /// Labels offered at the `|` of `marked`.
    fn labels(marked: &str) -> Vec<String> {
        let offset = marked.find('|').unwrap();
        let text = marked.replacen('|', "", 1);
        let analysis = Analysis::new(&text, None);
        let index = LineIndex::new(&text);
        let lines = Lines::new(&text, &index, Encoding::Utf16);
        let client = Client::default();
        complete(&text, offset, &analysis, &lines, &client)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    const SCENARIO: &str = "data accounts from \"accounts.csv\"\n\nuser A {\n  let api = \"/v1\"\n  task t tags list {\n    GET \"/x\" {\n      name \"/x/[id]\"\n      capture token = jsonpath \"$.t\"\n    }\n    GET \"/y\" { tags read }\n  }\n}\n";

    fn with(marked_tail: &str) -> Vec<String> {
        labels(&format!("{SCENARIO}{marked_tail}"))
    }

    #[test]
    fn keywords_valid_where_the_cursor_is() {
        assert_eq!(
            labels("|"),
            ["data", "load", "scenario", "thresholds", "user"]
        );
        assert_eq!(
            labels("user A {\n  |"),
            [
                "auth", "header", "host", "let", "on", "sequence", "task", "wait"
            ]
        );
        assert_eq!(labels("user A {\n  on |"), ["start", "stop"]);
        assert_eq!(labels("user A {\n  task t wei|"), ["tags", "weight"]);
        assert_eq!(labels("user A weight 2 |"), ["count", "tags", "weight"]);
        let request = labels("user A {\n  task t {\n    GET \"/\" {\n      c|\n    }\n  }\n}\n");
        assert!(
            request.contains(&"check".to_string()) && request.contains(&"capture".to_string()),
            "{request:?}"
        );
        assert!(!request.contains(&"task".to_string()));
        assert_eq!(
            labels("user A {\n  task t {\n    GET \"/\" {\n      check |"),
            ["body", "duration", "header", "jsonpath", "status"]
        );
        let after_capture =
            labels("user A {\n  task t {\n    GET \"/\" {\n      capture x = jsonpath \"$\" |");
        assert!(
            after_capture.contains(&"all".to_string())
                && after_capture.contains(&"check".to_string()),
            "{after_capture:?}"
        );
        assert_eq!(
            labels("data a from \"a.csv\" u|")
                .iter()
                .filter(|l| ["unique", "cycle", "random"].contains(&l.as_str()))
                .count(),
            3
        );
    }

    #[test]
    fn methods_metrics_and_headers() {
        let steps = labels("user A {\n  task t {\n    |");
        assert!(
            steps.contains(&"GET".to_string()) && steps.contains(&"sleep".to_string()),
            "{steps:?}"
        );
        let thresholds = labels("thresholds {\n  |");
        assert!(
            thresholds.contains(&"p95".to_string())
                && thresholds.contains(&"error_rate".to_string())
        );
        let headers = labels("user A {\n  task t {\n    GET \"/\" {\n      header Con|");
        assert!(headers.contains(&"Content-Type".to_string()));
    }

    #[test]
    fn a_mistake_elsewhere_does_not_matter() {
        let got = labels(
            "user A {\n  task t {\n    GET \"/\" {\n      nonsense here\n      check |\n    }\n  }\n}\n",
        );
        assert_eq!(got, ["body", "duration", "header", "jsonpath", "status"]);
        // An opener with a mistake of its own falls back to a standard one.
        let got = labels("user A weight {\n  on |");
        assert_eq!(got, ["start", "stop"]);
    }

    #[test]
    fn expressions_offer_variables_feeds_and_functions() {
        let got = with("user B {\n  task u {\n    GET \"/{{ |\" \n  }\n}\n");
        assert!(got.contains(&"accounts".to_string()), "{got:?}");
        assert!(got.contains(&"uuid".to_string()) && got.contains(&"random_int".to_string()));
        assert!(
            !got.contains(&"token".to_string()),
            "class A's variable: {got:?}"
        );
        // In class A, its own variables.
        let text = SCENARIO.replace("GET \"/y\"", "GET \"/{{ to|}}\"");
        let got = labels(&text);
        assert!(
            got.contains(&"token".to_string()) && got.contains(&"api".to_string()),
            "{got:?}"
        );
        // While typing, the file does not parse: the names still come.
        let got = with("user B {\n  let z = 1\n  task u {\n    let y = |");
        assert!(
            got.contains(&"z".to_string()) && got.contains(&"accounts".to_string()),
            "{got:?}"
        );
    }

    #[test]
    fn feed_columns_after_the_dot() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "username,password\nu,p\n").unwrap();
        let marked = format!(
            "{SCENARIO}user B {{\n  task u {{\n    GET \"/{{{{ accounts.| }}}}\"\n  }}\n}}\n"
        );
        let offset = marked.find('|').unwrap();
        let text = marked.replacen('|', "", 1);
        let analysis = Analysis::new(&text, Some(&dir.path().join("s.kload")));
        let index = LineIndex::new(&text);
        let lines = Lines::new(&text, &index, Encoding::Utf16);
        let got: Vec<String> = complete(&text, offset, &analysis, &lines, &Client::default())
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert_eq!(got, ["username", "password"]);
    }

    #[test]
    fn tags_and_request_names_in_thresholds() {
        assert_eq!(with("thresholds {\n  p95(tag |"), ["list", "read"]);
        assert_eq!(
            with("thresholds {\n  p95(|"),
            ["tag", "\"/x/[id]\"", "\"/y\""]
        );
        assert_eq!(with("user B {\n  task u tags |"), ["list", "read"]);
    }

    #[test]
    fn nothing_in_comments_and_plain_text() {
        assert!(labels("# us|").is_empty());
        assert!(labels("user A { task t { GET \"/us|").is_empty());
    }

    #[test]
    fn edits_replace_the_word_typed() {
        let text = "user A {\n  ta";
        let analysis = Analysis::new(text, None);
        let index = LineIndex::new(text);
        let lines = Lines::new(text, &index, Encoding::Utf16);
        let client = Client {
            snippets: true,
            ..Client::default()
        };
        let items = complete(text, text.len(), &analysis, &lines, &client);
        let task = items.iter().find(|i| i.label == "task").unwrap();
        let Some(CompletionTextEdit::Edit(edit)) = &task.text_edit else {
            panic!("an edit")
        };
        assert_eq!(
            (edit.range.start.character, edit.range.end.character),
            (2, 4)
        );
        assert!(
            edit.new_text.starts_with("task ${1:name} {"),
            "{}",
            edit.new_text
        );
        assert_eq!(task.insert_text_format, Some(InsertTextFormat::SNIPPET));
    }
}
