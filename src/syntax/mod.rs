//! Text → syntax tree, and syntax tree → canonical text.

pub mod ast;
pub mod error;
pub mod expected;
pub mod format;
pub mod parser;

pub use parser::{parse, parse_threshold};

#[cfg(test)]
mod tests {
    #[test]
    fn kibray_scenario_parses() {
        let src = include_str!("../../scenarios/kibray.kload");
        match super::parse(src) {
            Ok(file) => assert_eq!(file.items.len(), 7),
            Err(d) => panic!(
                "{}",
                crate::diagnostic::render(&d, "kibray.kload", src, false, 100)
            ),
        }
    }

    #[test]
    fn syntax_errors_name_what_was_expected() {
        let src = "user A {\n  task t {\n    get \"/\"\n  }\n}\n";
        let d = super::parse(src).unwrap_err();
        let out = crate::diagnostic::render(&d, "x.kload", src, false, 100);
        assert!(out.contains("capitals"), "{out}");
    }

    #[test]
    fn deep_nesting_is_named_not_reported_as_a_bracket() {
        let src = format!(
            "user A {{ task t {{ POST \"/\" {{ json {}1{} }} }} }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let d = super::parse(&src).unwrap_err();
        assert_eq!(d.message, "nested too deeply");
        assert!(d.primary.span.end <= src.len());
    }
}

#[cfg(test)]
mod span_tests {
    use super::ast::Item;

    #[test]
    fn spans_stop_before_trailing_comments() {
        let src = "thresholds {\n  error_rate < 1%   # budget\n  # next\n  rps > 1\n}\n";
        let file = super::parse(src).unwrap();
        let Item::Thresholds(t) = &file.items[0] else {
            panic!("thresholds")
        };
        let first = t.thresholds[0].span;
        assert_eq!(&src[first.start..first.end], "error_rate < 1%");
    }
}

#[cfg(test)]
mod meaning_tests {
    #[test]
    fn same_meaning_ignores_positions_only() {
        let a = super::parse("user U {\n  task t {\n    GET \"/a\"\n  }\n}\n").unwrap();
        let moved = super::parse("\n\nuser U { task t { GET \"/a\" } }").unwrap();
        let other = super::parse("user U {\n  task t {\n    GET \"/b\"\n  }\n}\n").unwrap();
        assert_ne!(a, moved, "spans differ");
        assert!(a.same_meaning(&moved));
        assert!(!a.same_meaning(&other));
    }
}
