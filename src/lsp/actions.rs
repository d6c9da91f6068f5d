//! Quick fixes: the replacement a "did you mean" diagnostic proposes, applied in one step.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, TextEdit, Uri, WorkspaceEdit};

use super::analysis::Analysis;
use super::diagnostics::to_lsp;
use super::position::Lines;
use crate::span::Span;

/// The fixes of the diagnostics that touch `range`.
pub fn quick_fixes(
    uri: &Uri,
    text: &str,
    analysis: &Analysis,
    lines: &Lines,
    range: Span,
) -> Vec<CodeActionOrCommand> {
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.primary.span.start <= range.end && range.start <= d.primary.span.end)
        .filter_map(|d| {
            let fix = d.suggestion.as_ref()?;
            let old = text.get(fix.span.start..fix.span.end)?;
            let title = if fix.replacement.is_empty() {
                format!("Remove `{old}`")
            } else {
                format!("Change `{old}` to `{}`", fix.replacement)
            };
            let edit = TextEdit::new(lines.range(fix.span), fix.replacement.clone());
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp(d, uri, lines)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::Encoding;
    use crate::span::LineIndex;

    /// (title, new text) of the fixes offered at the first `at` in `text`.
    fn fixes(text: &str, at: &str) -> Vec<(String, String)> {
        let offset = text.find(at).unwrap();
        let analysis = Analysis::new(text, None);
        let index = LineIndex::new(text);
        let lines = Lines::new(text, &index, Encoding::Utf16);
        let uri: Uri = "file:///s.kload".parse().unwrap();
        quick_fixes(&uri, text, &analysis, &lines, Span::new(offset, offset))
            .into_iter()
            .map(|a| {
                let CodeActionOrCommand::CodeAction(a) = a else {
                    panic!("an action")
                };
                let edits = &a.edit.unwrap().changes.unwrap()[&uri];
                (a.title, edits[0].new_text.clone())
            })
            .collect()
    }

    #[test]
    fn did_you_mean_becomes_a_fix() {
        let src = "user A {\n  task t {\n    GET \"/a\" { capture project_id = jsonpath \"$.id\" }\n    GET \"/{{ projct_id }}/{{ uuidd() }}\"\n  }\n}\n";
        assert_eq!(
            fixes(src, "projct_id"),
            [(
                "Change `projct_id` to `project_id`".to_string(),
                "project_id".to_string()
            )]
        );
        assert_eq!(
            fixes(src, "uuidd"),
            [("Change `uuidd` to `uuid`".to_string(), "uuid".to_string())]
        );
        assert!(fixes(src, "GET").is_empty());
    }

    #[test]
    fn a_misspelt_file_name_is_replaced_by_the_file_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "u\nx\n").unwrap();
        let text = "data accounts from \"acounts.csv\"\nuser A {\n  task t {\n    GET \"/{{ accounts.u }}\"\n  }\n}\n";
        let analysis = Analysis::new(text, Some(&dir.path().join("s.kload")));
        let index = LineIndex::new(text);
        let lines = Lines::new(text, &index, Encoding::Utf16);
        let uri: Uri = "file:///s.kload".parse().unwrap();
        let at = text.find("acounts").unwrap();
        let actions = quick_fixes(&uri, text, &analysis, &lines, Span::new(at, at));
        let CodeActionOrCommand::CodeAction(a) = &actions[0] else {
            panic!("an action")
        };
        assert_eq!(a.title, "Change `\"acounts.csv\"` to `\"accounts.csv\"`");
    }

    #[test]
    fn syntax_and_threshold_fixes() {
        let src = "user A {\n  task t {\n    get \"/a\"\n  }\n}\n";
        assert_eq!(
            fixes(src, "get"),
            [("Change `get` to `GET`".to_string(), "GET".to_string())]
        );
        let src = "user A {\n  tsk t {\n  }\n}\n";
        assert_eq!(
            fixes(src, "tsk"),
            [("Change `tsk` to `task`".to_string(), "task".to_string())]
        );
        let src = "user A {\n  task t {\n    GET \"/health\" { tags list }\n  }\n}\nthresholds {\n  p95(tag lst) < 1s\n  p95(\"/healt\") < 1s\n  p95(/healt) < 1s\n  p59 < 1s\n}\n";
        assert_eq!(
            fixes(src, "lst"),
            [("Change `lst` to `list`".to_string(), "list".to_string())]
        );
        assert_eq!(
            fixes(src, "\"/healt\""),
            [(
                "Change `\"/healt\"` to `\"/health\"`".to_string(),
                "\"/health\"".to_string()
            )]
        );
        assert_eq!(
            fixes(src, "/healt)"),
            [(
                "Change `/healt` to `/health`".to_string(),
                "/health".to_string()
            )]
        );
        let src = "user A {\n  wait constant 1s,\n  task t {\n    GET \"/a\"\n  }\n}\n";
        assert_eq!(fixes(src, ","), [("Remove `,`".to_string(), String::new())]);
        let src = "userVisitor {\n}\n";
        assert_eq!(
            fixes(src, "userVisitor"),
            [(
                "Change `userVisitor` to `user Visitor`".to_string(),
                "user Visitor".to_string()
            )]
        );
    }
}
