//! Syntax errors in words. pest reports rules; users read "expected `}` or a step".
//! Every rule name goes through [`describe`], so pest internals never reach a user.

use std::collections::BTreeSet;

use pest::error::{Error, InputLocation};

use super::ast::Span;
use super::parser::Rule;
use crate::diagnostic::{Diagnostic, did_you_mean};

/// What a rule means to someone writing a scenario.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "end of file",
        file | item => "a block (`scenario`, `data`, `load`, `user` or `thresholds`)",
        scenario_block => "`scenario`",
        data_decl => "`data`",
        load_block => "`load`",
        user_block => "`user`",
        thresholds_block => "`thresholds`",
        string | text | escape => "a quoted string",
        interp => "`{{`",
        ident => "a name",
        header_name => "a header name",
        param_word | param_name => "a parameter name",
        quantity => "a number or duration like `30s`",
        status_code | status_range | status_item => "a status code like `200`",
        method => "an HTTP method like `GET`",
        request | step => "a step (a request like `GET \"/path\"`, `sleep` or `let`)",
        compare_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        metric => "a metric like `p95`, `avg` or `error_rate`",
        threshold => "a threshold like `p95 < 200ms`",
        selector => "`(`",
        expr | call | var_ref | list => "an expression",
        boolean => "`true` or `false`",
        null => "`null`",
        json_object => "a JSON object",
        json_array => "a JSON array",
        json_value => "a JSON value",
        predicate | pred_compare | pred_exists | pred_contains | pred_matches => {
            "a predicate (`== value`, `contains`, `matches`, `exists`)"
        }
        check_target | check_status | check_header | check_jsonpath | check_body
        | check_duration => "what to check (`status`, `header`, `jsonpath`, `body` or `duration`)",
        capture_source | capture_jsonpath | capture_header | capture_cookie | capture_regex => {
            "where to capture from (`jsonpath`, `header`, `cookie` or `regex`)"
        }
        WHITESPACE | COMMENT | ident_char => return None,
        _ => return None,
    })
}

/// Keywords are rules named `kw_*`; their words are their literals.
fn keyword(rule: Rule) -> Option<String> {
    let name = format!("{rule:?}");
    name.strip_prefix("kw_").map(|k| format!("`{k}`"))
}

/// The keywords a user might misspell at the start of a statement.
const STATEMENT_WORDS: &[&str] = &[
    "scenario",
    "data",
    "load",
    "user",
    "thresholds",
    "host",
    "timeout",
    "wait",
    "header",
    "let",
    "on",
    "task",
    "sequence",
    "sleep",
    "name",
    "query",
    "json",
    "form",
    "multipart",
    "body",
    "redirects",
    "tags",
    "check",
    "capture",
    "users",
    "spawn_rate",
    "run_time",
    "stop_timeout",
    "arrival_rate",
    "max_users",
    "stages",
    "ramp",
    "hold",
    "weight",
    "count",
    "between",
    "constant",
    "pacing",
    "throughput",
    "status",
    "jsonpath",
    "duration",
    "exists",
    "contains",
    "matches",
    "cookie",
    "regex",
    "unique",
    "cycle",
    "random",
    "first",
    "all",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Converts a pest error into a diagnostic pointing at the furthest position reached.
pub fn syntax_error(err: Error<Rule>, source: &str) -> Diagnostic {
    let (mut pos, end) = match err.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let mut expected: BTreeSet<String> = BTreeSet::new();
    if let Some(attempts) = err.parse_attempts() {
        pos = attempts.max_position;
        for token in attempts.expected_tokens() {
            let t = token.to_string();
            let t = t.trim();
            if t.is_empty() || t == "#" || t.chars().all(|c| c.is_whitespace()) {
                continue;
            }
            if t.starts_with('[') || t.starts_with('\'') {
                continue; // character classes are covered by the rule names below
            }
            expected.insert(format!("`{t}`"));
        }
        for call in attempts.call_stacks() {
            if let Some(rule) = call.deepest.get_rule() {
                if let Some(k) = keyword(*rule) {
                    expected.insert(k);
                } else if let Some(d) = describe(*rule) {
                    expected.insert(d.to_string());
                }
            }
        }
    }
    if expected.is_empty()
        && let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant
    {
        for rule in positives {
            if let Some(k) = keyword(*rule) {
                expected.insert(k);
            } else if let Some(d) = describe(*rule) {
                expected.insert(d.to_string());
            }
        }
    }
    let pos = pos.max(end.min(pos)).min(source.len());
    let found = found_at(source, pos);
    let width = found
        .as_ref()
        .map_or_else(|| next_char_len(source, pos), |w| w.len());
    let span = Span::new(pos, pos + width);
    let expected_text = join_or(expected.iter().map(String::as_str).collect());
    let label = if expected_text.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {expected_text}")
    };
    let found_text = match &found {
        Some(word) => format!("`{word}`"),
        None if pos >= source.len() => "end of file".to_string(),
        None => format!(
            "`{}`",
            source[pos..]
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default()
                .escape_debug()
        ),
    };
    let message = format!("unexpected {found_text}");
    let mut diag = Diagnostic::error("kload::syntax", message, span, label);
    diag.help = Some(help_for(found.as_deref(), source, pos));
    diag
}

fn help_for(found: Option<&str>, source: &str, pos: usize) -> String {
    if let Some(word) = found {
        let upper = word.to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) && upper != word {
            return format!("HTTP methods are written in capitals: `{upper}`");
        }
        if let Some(m) = did_you_mean(word, METHODS.iter().copied())
            .filter(|_| word.chars().all(|c| c.is_ascii_uppercase()))
        {
            return format!("did you mean `{m}`?");
        }
        if let Some(k) = did_you_mean(word, STATEMENT_WORDS.iter().copied()) {
            return format!("did you mean `{k}`?");
        }
    }
    if pos >= source.len() {
        return "the file ended early: is a `}` missing?".to_string();
    }
    if source[pos..].starts_with('\t') || source[..pos].ends_with('\t') {
        return "tabs are fine as indentation; the problem is the token after them".to_string();
    }
    "see docs/language.md for the syntax of each block".to_string()
}

fn found_at(source: &str, pos: usize) -> Option<String> {
    let rest = source.get(pos..)?;
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

fn next_char_len(source: &str, pos: usize) -> usize {
    source
        .get(pos..)
        .and_then(|s| s.chars().next())
        .map_or(0, char::len_utf8)
}

/// "`a`, `b` or `c`"
pub fn join_or(items: Vec<&str>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}
