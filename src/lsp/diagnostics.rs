//! The compiler's diagnostics as the protocol carries them: the same code, span, labels
//! and help as `kload check` prints.

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};

use super::position::Lines;
use crate::diagnostic::{Diagnostic, Severity};

pub fn to_lsp(d: &Diagnostic, uri: &Uri, lines: &Lines) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if !d.primary.text.is_empty() {
        message.push('\n');
        message.push_str(&d.primary.text);
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(l.span)),
            message: l.text.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range: lines.range(d.primary.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("kload".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::Encoding;
    use crate::span::{LineIndex, Span};

    #[test]
    fn code_span_labels_and_help() {
        let text = "é x\nlet y";
        let d = Diagnostic::error(
            "kload::duplicate_name",
            "`y` is defined twice",
            Span::new(9, 10),
            "defined again here",
        )
        .with_label(Span::new(3, 4), "first defined here")
        .with_help("rename one of them");
        let uri: Uri = "file:///a.kload".parse().unwrap();
        let index = LineIndex::new(text);
        let lsp = to_lsp(&d, &uri, &Lines::new(text, &index, Encoding::Utf16));
        assert_eq!(
            lsp.code,
            Some(NumberOrString::String("kload::duplicate_name".into()))
        );
        assert_eq!((lsp.range.start.line, lsp.range.start.character), (1, 4));
        assert_eq!(
            lsp.message,
            "`y` is defined twice\ndefined again here\nhelp: rename one of them"
        );
        let related = lsp.related_information.unwrap();
        assert_eq!(
            (
                related[0].location.range.start.character,
                related[0].message.as_str()
            ),
            (2, "first defined here")
        );
        assert_eq!(lsp.severity, Some(DiagnosticSeverity::ERROR));
    }
}
