//! Go to definition, find references and rename, for variables and captures, data feeds
//! and their columns, tags, and request names (from a threshold to its requests).

use std::collections::HashMap;

use lsp_types::{Location, Position, PrepareRenameResponse, Range, TextEdit, Uri, WorkspaceEdit};

use super::analysis::Analysis;
use super::document::file_uri;
use super::index::{Index, Occurrence, SymbolKind};
use super::position::{Encoding, Lines};

/// Why a request cannot be answered, for the editor to show.
pub type Refusal = String;

fn at<'a>(
    text: &str,
    offset: usize,
    analysis: &'a Analysis,
) -> Option<(&'a Index, &'a Occurrence)> {
    let index = analysis.index(text)?;
    index.at(offset).map(|o| (index, o))
}

/// Where the symbol under the cursor is defined: its `let`s and `capture`s, its `data`
/// line, the requests that give a tag or a name, or a column in the CSV header.
pub fn definition(
    uri: &Uri,
    text: &str,
    offset: usize,
    analysis: &Analysis,
    lines: &Lines,
    encoding: Encoding,
) -> Vec<Location> {
    let Some((index, o)) = at(text, offset, analysis) else {
        return Vec::new();
    };
    let symbol = index.symbol(o);
    if symbol.kind == SymbolKind::Column {
        return column_definition(index, analysis, &symbol.name, encoding)
            .into_iter()
            .collect();
    }
    index
        .definitions_of(o.symbol)
        .map(|d| Location::new(uri.clone(), lines.range(d.span)))
        .collect()
}

/// The column's name in the first line of the feed's CSV file.
fn column_definition(
    index: &Index,
    analysis: &Analysis,
    name: &str,
    encoding: Encoding,
) -> Option<Location> {
    let (feed, column) = name.split_once('.')?;
    let file = analysis.feed_file(index.feed(feed)?)?;
    let &(_, at) = file.columns.iter().find(|(c, _)| c == column)?;
    let header = std::fs::read_to_string(&file.path).ok()?;
    let line = header.lines().next().unwrap_or("");
    let units = |s: &str| match encoding {
        Encoding::Utf8 => s.len(),
        Encoding::Utf16 => s.encode_utf16().count(),
    } as u32;
    let start = units(line.get(..at)?);
    let end = start + units(column);
    Some(Location::new(
        file_uri(&file.path)?,
        Range::new(Position::new(0, start), Position::new(0, end)),
    ))
}

/// Every occurrence of the symbol under the cursor (its definitions only when asked).
pub fn references(
    uri: &Uri,
    text: &str,
    offset: usize,
    analysis: &Analysis,
    lines: &Lines,
    include_declaration: bool,
) -> Vec<Location> {
    let Some((index, o)) = at(text, offset, analysis) else {
        return Vec::new();
    };
    index
        .occurrences_of(o.symbol)
        .filter(|r| include_declaration || !r.definition)
        .map(|r| Location::new(uri.clone(), lines.range(r.span)))
        .collect()
}

/// What can be renamed: a name the file itself defines.
fn renamable(
    text: &str,
    offset: usize,
    analysis: &Analysis,
) -> Result<(&'static str, Occurrence), Refusal> {
    if analysis.tree().is_none() {
        return Err("the file has a syntax error: fix it first, so that no use is missed".into());
    }
    let Some((index, o)) = at(text, offset, analysis) else {
        return Err("put the cursor on a variable, capture, data feed or tag".into());
    };
    let what = match index.symbol(o).kind {
        SymbolKind::Variable => "variable",
        SymbolKind::Feed => "data feed",
        SymbolKind::Tag => "tag",
        SymbolKind::Column => {
            return Err("a column is named by the CSV file's header: rename it there".into());
        }
        SymbolKind::RequestName => {
            return Err("request names are text: edit the `name` line".into());
        }
        SymbolKind::Function => return Err("functions are built in".into()),
    };
    Ok((what, o.clone()))
}

pub fn prepare_rename(
    text: &str,
    offset: usize,
    analysis: &Analysis,
    lines: &Lines,
) -> Result<PrepareRenameResponse, Refusal> {
    let (_, o) = renamable(text, offset, analysis)?;
    Ok(PrepareRenameResponse::RangeWithPlaceholder {
        range: lines.range(o.span),
        placeholder: text[o.span.start..o.span.end].to_string(),
    })
}

pub fn rename(
    uri: &Uri,
    text: &str,
    offset: usize,
    new_name: &str,
    analysis: &Analysis,
    lines: &Lines,
) -> Result<WorkspaceEdit, Refusal> {
    let (what, o) = renamable(text, offset, analysis)?;
    let mut chars = new_name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`{new_name}` is not a name: letters, digits and `_`, not starting with a digit"
        ));
    }
    let Some(index) = analysis.index(text) else {
        return Err("the file could not be read".into());
    };
    let symbol = index.symbol(&o);
    let taken = match symbol.kind {
        SymbolKind::Variable => index
            .names(SymbolKind::Variable, symbol.scope)
            .contains(&new_name),
        SymbolKind::Feed => index.feed(new_name).is_some(),
        _ => false,
    };
    if taken && symbol.name != new_name {
        return Err(format!("there is already a {what} `{new_name}` here"));
    }
    let edits = index
        .occurrences_of(o.symbol)
        .map(|r| TextEdit::new(lines.range(r.span), new_name.to_string()))
        .collect();
    Ok(WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::LineIndex;

    const SRC: &str = "data accounts from \"accounts.csv\"\n\nuser A {\n  task t tags list {\n    GET \"/{{ accounts.username }}\" {\n      capture token = jsonpath \"$.t\"\n    }\n    GET \"/{{ token }}/{{ token }}\"\n  }\n}\n\nthresholds {\n  p95(tag list) < 1s\n}\n";

    fn uri() -> Uri {
        "file:///tmp/s.kload".parse().unwrap()
    }

    /// `(line, character)` of each location's start.
    fn starts(locations: &[Location]) -> Vec<(u32, u32)> {
        locations
            .iter()
            .map(|l| (l.range.start.line, l.range.start.character))
            .collect()
    }

    fn with<T>(f: impl FnOnce(&Analysis, &Lines) -> T) -> T {
        let analysis = Analysis::new(SRC, None);
        let index = LineIndex::new(SRC);
        let lines = Lines::new(SRC, &index, Encoding::Utf16);
        f(&analysis, &lines)
    }

    fn offset(needle: &str, n: usize) -> usize {
        SRC.match_indices(needle).nth(n).unwrap().0
    }

    #[test]
    fn definitions_and_references() {
        with(|a, lines| {
            let defs = definition(&uri(), SRC, offset("token", 2), a, lines, Encoding::Utf16);
            assert_eq!(starts(&defs), [(5, 14)]);
            let refs = references(&uri(), SRC, offset("token", 0), a, lines, false);
            assert_eq!(starts(&refs), [(7, 13), (7, 25)]);
            let all = references(&uri(), SRC, offset("token", 1), a, lines, true);
            assert_eq!(all.len(), 3);
            let tag = definition(&uri(), SRC, offset("list", 1), a, lines, Encoding::Utf16);
            assert_eq!(starts(&tag), [(3, 14)]);
            let feed = definition(
                &uri(),
                SRC,
                offset("accounts.username", 0),
                a,
                lines,
                Encoding::Utf16,
            );
            assert_eq!(starts(&feed), [(0, 5)]);
            assert!(
                definition(&uri(), SRC, offset("GET", 0), a, lines, Encoding::Utf16).is_empty()
            );
        });
    }

    #[test]
    fn columns_are_defined_in_the_csv_header() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "é_id,username\n1,u\n").unwrap();
        let path = dir.path().join("s.kload");
        let analysis = Analysis::new(SRC, Some(&path));
        let index = LineIndex::new(SRC);
        let lines = Lines::new(SRC, &index, Encoding::Utf16);
        let defs = definition(
            &uri(),
            SRC,
            offset("username", 0),
            &analysis,
            &lines,
            Encoding::Utf16,
        );
        assert_eq!(defs.len(), 1);
        assert!(
            defs[0].uri.as_str().ends_with("/accounts.csv"),
            "{:?}",
            defs[0].uri
        );
        // `é` is one UTF-16 unit, two bytes.
        assert_eq!(
            defs[0].range,
            Range::new(Position::new(0, 5), Position::new(0, 13))
        );
    }

    #[test]
    fn rename_changes_every_occurrence() {
        with(|a, lines| {
            let edit = rename(&uri(), SRC, offset("token", 1), "session", a, lines).unwrap();
            let edits = &edit.changes.unwrap()[&uri()];
            assert_eq!(edits.len(), 3);
            assert!(edits.iter().all(|e| e.new_text == "session"));
            let tag = rename(&uri(), SRC, offset("list", 0), "browse", a, lines).unwrap();
            assert_eq!(tag.changes.unwrap()[&uri()].len(), 2);
            let feed = rename(&uri(), SRC, offset("accounts", 0), "users", a, lines).unwrap();
            assert_eq!(feed.changes.unwrap()[&uri()].len(), 2);
        });
    }

    #[test]
    fn rename_refuses_what_it_cannot_do_safely() {
        with(|a, lines| {
            let bad = rename(&uri(), SRC, offset("token", 1), "2x", a, lines).unwrap_err();
            assert!(bad.contains("not a name"), "{bad}");
            let column = rename(&uri(), SRC, offset("username", 0), "user", a, lines).unwrap_err();
            assert!(column.contains("CSV"), "{column}");
            let nothing = prepare_rename(SRC, offset("GET", 0), a, lines).unwrap_err();
            assert!(nothing.contains("put the cursor"), "{nothing}");
            let PrepareRenameResponse::RangeWithPlaceholder { placeholder, .. } =
                prepare_rename(SRC, offset("token", 0), a, lines).unwrap()
            else {
                panic!("a range")
            };
            assert_eq!(placeholder, "token");
        });
        let broken = format!("{SRC}user B {{");
        let analysis = Analysis::new(&broken, None);
        let index = LineIndex::new(&broken);
        let lines = Lines::new(&broken, &index, Encoding::Utf16);
        let err = rename(&uri(), &broken, offset("token", 1), "x", &analysis, &lines).unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
    }
}
