//! Document symbols for the editor's outline: the scenario, data feeds, the load profile,
//! user classes with their tasks, sequences and `on start`/`on stop`, and thresholds.

use lsp_types::{DocumentSymbol, Location, SymbolInformation, SymbolKind, Uri};

use super::position::Lines;
use crate::span::Span;
use crate::syntax::ast::{self, Item, UserItem};

/// One entry of the outline, before it takes the client's preferred form.
pub struct Entry {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub span: Span,
    /// The part to highlight: the name, or the keyword of an unnamed block.
    pub name_span: Span,
    pub children: Vec<Entry>,
}

fn entry(name: impl Into<String>, kind: SymbolKind, span: Span, name_span: Span) -> Entry {
    Entry {
        name: name.into(),
        detail: None,
        kind,
        span,
        name_span,
        children: Vec::new(),
    }
}

/// The first `len` bytes of a block: its keyword.
fn head(span: Span, len: usize) -> Span {
    Span::new(span.start, (span.start + len).min(span.end))
}

fn options(options: &[ast::ClassOption], text: &str) -> Option<String> {
    let parts: Vec<&str> = options
        .iter()
        .filter_map(|o| text.get(o.span().start..o.span().end))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn task(t: &ast::Task, text: &str) -> Entry {
    Entry {
        detail: options(&t.options, text),
        ..entry(&t.name.name, SymbolKind::METHOD, t.span, t.name.span)
    }
}

pub fn outline(file: &ast::File, text: &str) -> Vec<Entry> {
    file.items
        .iter()
        .map(|item| match item {
            Item::Scenario(s) => Entry {
                detail: Some("scenario".to_string()),
                ..entry(
                    s.name.literal().unwrap_or_else(|| "scenario".to_string()),
                    SymbolKind::NAMESPACE,
                    s.span,
                    s.name.span,
                )
            },
            Item::Data(d) => Entry {
                detail: d.path.literal().map(|p| format!("data from {p}")),
                ..entry(&d.name.name, SymbolKind::VARIABLE, d.span, d.name.span)
            },
            Item::Load(l) => entry("load", SymbolKind::OBJECT, l.span, head(l.span, 4)),
            Item::User(u) => Entry {
                detail: options(&u.options, text),
                children: u
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        UserItem::Task(t) => Some(task(t, text)),
                        UserItem::Sequence(s) => Some(Entry {
                            detail: Some(
                                options(&s.options, text)
                                    .map_or("sequence".to_string(), |o| format!("sequence {o}")),
                            ),
                            children: s.tasks.iter().map(|t| task(t, text)).collect(),
                            ..entry(&s.name.name, SymbolKind::METHOD, s.span, s.name.span)
                        }),
                        UserItem::OnStart(b) => Some(entry(
                            "on start",
                            SymbolKind::EVENT,
                            b.span,
                            head(b.span, 8),
                        )),
                        UserItem::OnStop(b) => {
                            Some(entry("on stop", SymbolKind::EVENT, b.span, head(b.span, 7)))
                        }
                        UserItem::Setting(_) => None,
                    })
                    .collect(),
                ..entry(&u.name.name, SymbolKind::CLASS, u.span, u.name.span)
            },
            Item::Thresholds(t) => Entry {
                children: t
                    .thresholds
                    .iter()
                    .map(|th| {
                        let source = text.get(th.span.start..th.span.end).unwrap_or("threshold");
                        entry(source, SymbolKind::PROPERTY, th.span, th.span)
                    })
                    .collect(),
                ..entry("thresholds", SymbolKind::OBJECT, t.span, head(t.span, 10))
            },
        })
        .collect()
}

/// The outline as nested symbols.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written.
pub fn nested(entries: Vec<Entry>, lines: &Lines) -> Vec<DocumentSymbol> {
    entries
        .into_iter()
        .map(|e| DocumentSymbol {
            name: e.name,
            detail: e.detail,
            kind: e.kind,
            tags: None,
            deprecated: None,
            range: lines.range(e.span),
            selection_range: lines.range(e.name_span),
            children: (!e.children.is_empty()).then(|| nested(e.children, lines)),
        })
        .collect()
}

/// The outline as a flat list, for clients without nested symbols.
#[allow(deprecated)] // `SymbolInformation::deprecated` must still be written.
pub fn flat(
    entries: Vec<Entry>,
    uri: &Uri,
    lines: &Lines,
    container: Option<&str>,
) -> Vec<SymbolInformation> {
    let mut out = Vec::new();
    for e in entries {
        out.push(SymbolInformation {
            name: e.name.clone(),
            kind: e.kind,
            tags: None,
            deprecated: None,
            location: Location::new(uri.clone(), lines.range(e.span)),
            container_name: container.map(str::to_string),
        });
        out.extend(flat(e.children, uri, lines, Some(&e.name)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(entries: &[Entry], depth: usize, out: &mut String) {
        for e in entries {
            out.push_str(&format!(
                "{}{} {:?} {}\n",
                "  ".repeat(depth),
                e.name,
                e.kind,
                e.detail.as_deref().unwrap_or("")
            ));
            describe(&e.children, depth + 1, out);
        }
    }

    #[test]
    fn classes_tasks_and_blocks() {
        let text = include_str!("../../scenarios/kibray.kload");
        let file = crate::syntax::parse(text).unwrap();
        let mut out = String::new();
        describe(&outline(&file, text), 0, &mut out);
        assert!(out.starts_with("Kibray API Namespace scenario\naccounts Variable data from data/accounts.csv\nadmins Variable data from data/admins.csv\nload Object \n"), "{out}");
        assert!(
            out.contains("\nKibrayUser Class weight 10 tags web\n  on start Event \n"),
            "{out}"
        );
        assert!(out.contains("\n  list_projects Method weight 5"), "{out}");
        assert!(
            out.contains("\nthresholds Object \n  p95(tag list) < 200ms Property"),
            "{out}"
        );
    }
}
