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
            Ok(file) => assert_eq!(file.items.len(), 8),
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

#[cfg(test)]
mod piecewise_tests {
    /// A file over the piecewise limit gives exactly the tree (spans included) of parsing it
    /// at once, and a mistake in the middle is reported as it always was.
    #[test]
    fn a_large_file_parsed_in_pieces_is_the_same_tree() {
        let mut src = String::from("# big\nscenario \"s\" {\n  host \"http://127.0.0.1:1\"\n}\n");
        let mut i = 0;
        while src.len() < 1_500_000 {
            src.push_str(&format!(
                "\ndata d{i} from \"x.csv\"\n\nuser U{i} {{\n  # comment {i}\n  task t {{\n    GET \"/a/{{{{ d{i}.x }}}}\" {{\n      check status 200\n    }}\n  }}\n}}\n"
            ));
            i += 1;
        }
        let pieces = super::parse(&src).unwrap();
        let whole = super::parser::parse_whole_for_tests(&src).unwrap();
        assert_eq!(pieces, whole);
        assert_eq!(pieces.comments.len(), whole.comments.len());
        let broken = src.replacen("check status 200", "check status 200 )", 1);
        let a = super::parse(&broken).unwrap_err();
        let b = super::parser::parse_whole_for_tests(&broken).unwrap_err();
        assert_eq!(a, b);
    }
}
