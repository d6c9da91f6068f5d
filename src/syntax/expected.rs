//! What the grammar accepts at the end of a text: the words an editor can offer at the
//! cursor. pest is asked directly, so a keyword added to `grammar/kload.pest` is offered
//! where the grammar allows it without a table to update.

use pest::error::{ErrorVariant, InputLocation};

use super::parser::Rule;

/// A character no rule accepts outside strings, comments and bare threshold selectors:
/// appended to the text so that pest always fails exactly where the cursor is.
const SENTINEL: char = '\u{1}';

/// What may follow a text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Expected {
    /// Keywords, sorted: the `kw_*` rules (`task`, `weight`) and the words among the
    /// literal tokens (`true`, `first`).
    pub keywords: Vec<String>,
    /// Other rules that could start here: `method`, `ident`, `metric`, `quantity`, ...
    pub rules: Vec<Rule>,
    /// Literal tokens: `{`, `}`, `=`, `:`.
    pub tokens: Vec<String>,
}

impl Expected {
    pub fn has_rule(&self, rule: Rule) -> bool {
        self.rules.contains(&rule)
    }
}

/// What the grammar accepts right after `prefix`, which must be the start of a file (or
/// a skeleton of one). `None` when `prefix` already fails before its end.
pub fn expected_after(prefix: &str) -> Option<Expected> {
    let mut text = String::with_capacity(prefix.len() + 1);
    text.push_str(prefix);
    text.push(SENTINEL);
    let err = super::error::detailed_error(Rule::file, &text)?;
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut out = Expected::default();
    let pos = match err.parse_attempts() {
        Some(attempts) => {
            for token in attempts.expected_tokens() {
                let token = token.to_string();
                if !out.tokens.contains(&token) {
                    out.tokens.push(token);
                }
            }
            attempts.max_position
        }
        None => pos,
    };
    if pos != prefix.len() {
        return None;
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for rule in positives {
            let name = format!("{rule:?}");
            match name.strip_prefix("kw_") {
                Some(k) => {
                    if !out.keywords.iter().any(|x| x == k) {
                        out.keywords.push(k.to_string());
                    }
                }
                None => {
                    if !out.rules.contains(rule) {
                        out.rules.push(*rule);
                    }
                }
            }
        }
    }
    for t in &out.tokens {
        let word = t.len() > 1 && t.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if word && !out.keywords.contains(t) {
            out.keywords.push(t.clone());
        }
    }
    out.keywords.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(prefix: &str) -> Vec<String> {
        expected_after(prefix).expect("the prefix parses").keywords
    }

    #[test]
    fn keywords_where_they_are_valid() {
        assert_eq!(
            keywords(""),
            ["data", "load", "scenario", "thresholds", "user"]
        );
        assert_eq!(
            keywords("user A {\n  "),
            [
                "auth", "header", "host", "let", "on", "sequence", "task", "wait"
            ]
        );
        assert_eq!(keywords("user A {\n  on "), ["start", "stop"]);
        assert_eq!(keywords("user A "), ["count", "tags", "weight"]);
        assert_eq!(
            keywords("scenario \"x\" {\n wait "),
            ["between", "constant", "pacing", "throughput"]
        );
        // After a complete `data` line: its mode, or the next block.
        let data = keywords("data a from \"x.csv\" ");
        for k in ["cycle", "random", "unique", "user"] {
            assert!(data.contains(&k.to_string()), "{data:?}");
        }
        // Literal words count too: capture modes, booleans.
        let capture = keywords("user A { task t { GET \"/\" {\n capture x = jsonpath \"$\" ");
        assert!(capture.contains(&"all".to_string()) && capture.contains(&"check".to_string()));
    }

    #[test]
    fn other_rules_where_they_are_valid() {
        let steps = expected_after("user A {\n  task t {\n    ").unwrap();
        assert!(steps.has_rule(Rule::method));
        assert_eq!(steps.keywords, ["if", "let", "repeat", "sleep"]);
        assert!(
            expected_after("thresholds {\n  ")
                .unwrap()
                .has_rule(Rule::metric)
        );
        assert!(
            expected_after("user A { task t { GET \"/\" { header ")
                .unwrap()
                .has_rule(Rule::header_name)
        );
        assert!(
            expected_after("user A { task t { GET \"/\" { tags ")
                .unwrap()
                .has_rule(Rule::ident)
        );
    }

    #[test]
    fn nothing_when_the_text_fails_before_its_end() {
        assert_eq!(expected_after("user A {\n  task t {\n    gett "), None);
        assert_eq!(expected_after("}"), None);
    }
}
