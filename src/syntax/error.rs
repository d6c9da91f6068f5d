//! Syntax errors in words. pest reports rules; users read "expected `}` or a step".
//! Every rule name goes through [`describe`], so pest internals never reach a user.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use pest::Parser as _;
use pest::error::{Error, ErrorVariant, InputLocation};

use super::parser::{KloadParser, Rule};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::span::Span;

const BLOCK: &str = "a block (`scenario`, `data`, `load`, `user` or `thresholds`)";

/// What a rule means to someone writing a scenario.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "end of file",
        file | item => BLOCK,
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
        request | step => {
            "a step (a request like `GET \"/path\"`, `sleep`, `let`, `if` or `repeat`)"
        }
        step_block => "`{`",
        condition => "a condition like `{{ ids }}` or `{{ count }} > 0`",
        auth_basic | auth_bearer => "`basic` or `bearer`",
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
            "a comparison like `== value`"
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
    "auth",
    "basic",
    "bearer",
    "if",
    "else",
    "repeat",
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

/// How many parses want pest's error details (a process-wide switch): on while any do.
static DETAILED_PARSES: Mutex<usize> = Mutex::new(0);

/// Keeps pest's error details on while it lives.
struct DetailGuard;

impl DetailGuard {
    fn new() -> DetailGuard {
        let mut n = DETAILED_PARSES
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *n == 0 {
            pest::set_error_detail(true);
        }
        *n += 1;
        DetailGuard
    }
}

impl Drop for DetailGuard {
    fn drop(&mut self) {
        let mut n = DETAILED_PARSES
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *n -= 1;
        if *n == 0 {
            pest::set_error_detail(false);
        }
    }
}

/// Parses `source` again with pest's error details on: which literal tokens (`}`, `,`)
/// were expected where. The switch slows every parse, so it is on only for failed ones
/// (another thread's parse that starts meanwhile only runs slower).
pub(super) fn detailed_error(rule: Rule, source: &str) -> Option<Error<Rule>> {
    let _details = DetailGuard::new();
    KloadParser::parse(rule, source).err()
}

/// Tokens that a rule in the same message already names ("a quoted string", "a comparison").
/// Also the characters that would only continue a name or number already written
/// (`_`, `.`, `%`, `/`, and the units the grammar reads a space after a number so that
/// `1500 ms` can be reported), which read as noise after `weight 3`.
const DESCRIBED_TOKENS: &[&str] = &[
    "\"", "-", "==", "!=", "<", "<=", ">", ">=", "..", "true", "false", "null", "{{", "_", ".",
    "%", "/", "m", "s", "h", "B", "KB", "kB", "MB", "KiB", "MiB",
];

/// What may follow a backslash in a string, as pest lists it.
const ESCAPES: &[&str] = &["\"", "\\", "n", "t", "r", "{", "}", "u{"];

/// Converts a failed parse of `rule` into a diagnostic pointing at the furthest position
/// reached, saying in words what could stand there.
pub fn syntax_error(err: Error<Rule>, source: &str, rule: Rule) -> Diagnostic {
    // pest stops before its recursion would overflow the stack.
    if let ErrorVariant::CustomError { message } = &err.variant
        && message.contains("limit reached")
    {
        let pos = match err.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
        return too_deep(source, pos);
    }
    let err = detailed_error(rule, source).unwrap_or(err);
    let mut pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: BTreeSet<String> = BTreeSet::new();
    // Words that could stand here, for "did you mean".
    let mut words: Vec<String> = Vec::new();
    if let Some(attempts) = err.parse_attempts() {
        pos = attempts.max_position;
        let tokens: Vec<String> = attempts
            .expected_tokens()
            .iter()
            .map(ToString::to_string)
            .collect();
        if tokens.iter().any(|t| t == "u{") && source[..pos.min(source.len())].ends_with('\\') {
            return unknown_escape(source, pos - 1);
        }
        for token in tokens {
            if is_char_class(&token)
                || token.trim().is_empty()
                || token == "#"
                || DESCRIBED_TOKENS.contains(&token.as_str())
            {
                continue;
            }
            if token.starts_with(|c: char| c.is_ascii_alphabetic()) {
                words.push(token.clone());
            }
            expected.insert(format!("`{token}`"));
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for rule in positives {
            if let Some(k) = keyword(*rule) {
                words.push(k.trim_matches('`').to_string());
                expected.insert(k);
            } else if let Some(d) = describe(*rule) {
                expected.insert(d.to_string());
            }
        }
    }
    // Listing the block keywords says it already.
    if expected.len() > 1 {
        expected.remove(BLOCK);
    }
    // `secret` only ever stands before a name (`let secret token = ...`): "a name" says it.
    if expected.contains("a name") {
        expected.remove("`secret`");
    }
    let mut pos = pos.min(source.len());
    while !source.is_char_boundary(pos) {
        pos -= 1;
    }
    // `userX` fails after `user`; the word as written is what is unexpected.
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    if source[pos..].starts_with(is_word) {
        pos = source[..pos]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map_or(pos, |(i, _)| i);
    }
    let expected_text = join_or(expected.iter().map(String::as_str).collect());
    let label = if expected_text.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {expected_text}")
    };
    if pos >= source.len() {
        return end_of_file(source, label);
    }
    let (found, width) = found_at(source, pos);
    let span = Span::new(pos, pos + width);
    let word = source[pos..pos + width].to_string();
    if expected.contains("`}`")
        && let Some(braces) = unclosed_blocks_before(source, pos, &word)
    {
        return missing_brace(source, &braces, span, &word);
    }
    let mut diag = Diagnostic::error("kload::syntax", format!("unexpected {found}"), span, label);
    let (help, fix) = if expected.contains("`,`") && width > 0 && !word.starts_with(',') {
        ("separate the items with `,`".to_string(), None)
    } else if expected.contains("`{`") && starts_statement(&word) {
        // `if {{ x }} GET "/"`, `user V task t`: a statement where its block opens.
        (format!("a `{{` is missing before `{word}`"), None)
    } else {
        help_for(&word, &words, source, pos)
    };
    diag.help = Some(help);
    match fix {
        Some(replacement) => diag.with_suggestion(span, replacement),
        None => diag,
    }
}

/// pest shows character classes as `a..z` and built-in rules as `BUILTIN_RULE`; the rules
/// that use them are named in words instead.
fn is_char_class(token: &str) -> bool {
    let chars: Vec<char> = token.chars().collect();
    token == "BUILTIN_RULE" || (chars.len() == 4 && chars[1] == '.' && chars[2] == '.')
}

/// A backslash in a string followed by something other than an escape: often a regular
/// expression written with single backslashes (`"\d+"`).
fn unknown_escape(source: &str, backslash: usize) -> Diagnostic {
    let len = 1 + next_char_len(source, backslash + 1);
    let escape = &source[backslash..backslash + len];
    Diagnostic::error(
        "kload::syntax",
        format!("unknown escape `{escape}` in a string"),
        Span::new(backslash, backslash + len),
        "not an escape",
    )
    .with_help(format!(
        "write a backslash as `\\\\` (a regex `\\d` is `\\\\d`); the escapes are {}",
        ESCAPES
            .iter()
            .map(|e| match *e {
                "u{" => "`\\u{2615}`".to_string(),
                e => format!("`\\{e}`"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

/// `1500 ms`: the grammar reads a unit a space away from its number as part of it, so that
/// this says what is wrong instead of taking `ms` for the next statement.
pub fn detached_unit(source: &str, span: Span) -> Diagnostic {
    let text = source.get(span.start..span.end).unwrap_or("");
    let number = text.split([' ', '\t']).next().unwrap_or(text);
    let unit = text.rsplit([' ', '\t']).next().unwrap_or(text);
    Diagnostic::error(
        "kload::syntax",
        format!("a space between `{number}` and its unit `{unit}`"),
        span,
        "the unit is written right after the number",
    )
    .with_help(format!("write `{number}{unit}`"))
}

/// Brackets, calls or interpolations nested deeper than kload follows.
fn too_deep(source: &str, pos: usize) -> Diagnostic {
    let mut pos = pos.min(source.len());
    while !source.is_char_boundary(pos) {
        pos -= 1;
    }
    Diagnostic::error(
        "kload::syntax",
        "nested too deeply",
        Span::new(pos, pos + next_char_len(source, pos)),
        format!("more than {MAX_DEPTH} levels of brackets and strings"),
    )
    .with_help(format!(
        "nest brackets, calls and `{{{{ }}}}` at most {MAX_DEPTH} levels deep"
    ))
}

fn next_char_len(source: &str, pos: usize) -> usize {
    source
        .get(pos..)
        .and_then(|s| s.chars().next())
        .map_or(0, char::len_utf8)
}

/// The file ended early: inside a string, or with a block left open.
fn end_of_file(source: &str, label: String) -> Diagnostic {
    let open = unclosed(source);
    if let Some(quote) = open.string {
        return Diagnostic::error(
            "kload::syntax",
            "unterminated string",
            Span::new(quote, quote + 1),
            "this string is never closed",
        )
        .with_help("end it with `\"`; a quote inside the text is written `\\\"`");
    }
    // Point just after the last thing written, not at the blank lines after it.
    let end = source.trim_end().len();
    let diag = Diagnostic::error(
        "kload::syntax",
        "unexpected end of file",
        Span::new(end, end),
        label,
    );
    match open.blocks.last() {
        Some(&brace) => diag
            .with_label(Span::new(brace, brace + 1), "this block is never closed")
            .with_help("add the missing `}`"),
        None => diag.with_help("the file ends before the statement is complete"),
    }
}

/// Nesting deeper than this is refused before parsing: the parser, the lowering, the
/// compiler and the runtime each recurse once per level, on threads with small stacks.
/// Real scenarios stay under ten.
pub const MAX_DEPTH: usize = 64;

/// Refuses input nested deeper than [`MAX_DEPTH`] (brackets, strings in `{{ }}`), which
/// could otherwise overflow a thread's stack after the parser accepted it.
pub fn check_depth(source: &str) -> Result<(), Diagnostic> {
    match scan(source).too_deep {
        Some(pos) => Err(too_deep(source, pos)),
        None => Ok(()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Bracket(u8),
    Str,
    Interp,
}

/// What is open where the scan stopped: at the end, or where nesting got too deep.
struct Scan {
    stack: Vec<(Open, usize)>,
    too_deep: Option<usize>,
}

/// Follows strings, `{{ }}` interpolations, comments and brackets the way the grammar
/// nests them, without parsing.
fn scan(source: &str) -> Scan {
    scan_with(source, |_| {})
}

/// Where a scenario can be cut into pieces that parse on their own: just after each `}`
/// that closes a top-level block (the piece's end), grouped into pieces of at least
/// `at_least` bytes. The last piece runs to the end of the text.
pub(super) fn pieces(source: &str, at_least: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    scan_with(source, |end| {
        if end - start >= at_least {
            out.push((start, end));
            start = end;
        }
    });
    out.push((start, source.len()));
    out
}

/// [`scan`], calling `top_closed` with the position just after every `}` that closes a
/// block at the top level.
fn scan_with(source: &str, mut top_closed: impl FnMut(usize)) -> Scan {
    let bytes = source.as_bytes();
    let mut stack: Vec<(Open, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let in_string = matches!(stack.last(), Some((Open::Str, _)));
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push((Open::Interp, i));
                    i += 1;
                }
                _ => {}
            }
        } else {
            match b {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' => stack.push((Open::Str, i)),
                b'}' if bytes.get(i + 1) == Some(&b'}')
                    && matches!(stack.last(), Some((Open::Interp, _))) =>
                {
                    stack.pop();
                    i += 1;
                }
                b'{' | b'[' | b'(' => stack.push((Open::Bracket(b), i)),
                b'}' | b']' | b')' => {
                    let opener = match b {
                        b'}' => b'{',
                        b']' => b'[',
                        _ => b'(',
                    };
                    if matches!(stack.last(), Some((Open::Bracket(o), _)) if *o == opener) {
                        stack.pop();
                        if stack.is_empty() && b == b'}' {
                            top_closed(i + 1);
                        }
                    }
                }
                _ => {}
            }
        }
        if stack.len() > MAX_DEPTH {
            let at = stack.last().map_or(i, |(_, at)| *at);
            return Scan {
                stack,
                too_deep: Some(at),
            };
        }
        i += 1;
    }
    Scan {
        stack,
        too_deep: None,
    }
}

/// What is still open at the end of a file.
struct Unclosed {
    /// The opening quote of an unterminated string.
    string: Option<usize>,
    /// Opening braces of blocks that are never closed, outermost first.
    blocks: Vec<usize>,
}

fn unclosed(source: &str) -> Unclosed {
    let stack = scan(source).stack;
    Unclosed {
        string: stack
            .iter()
            .find(|(o, _)| *o == Open::Str)
            .map(|(_, at)| *at),
        blocks: stack
            .iter()
            .filter(|(o, _)| *o == Open::Bracket(b'{'))
            .map(|(_, at)| *at)
            .collect(),
    }
}

/// The words that start a statement in each kind of block, named by the first word of the
/// block's header (`task home {` → `task`). A method starts a step or a request.
fn statement_words(header: &str) -> Option<&'static [&'static str]> {
    const FILE: &[&str] = &["scenario", "data", "load", "user", "thresholds"];
    const STEPS: &[&str] = &["let", "sleep", "if", "repeat", "METHOD"];
    Some(match header {
        "" => FILE,
        "scenario" => &["host", "timeout", "wait", "header", "auth", "let"],
        "load" => &[
            "users",
            "spawn_rate",
            "run_time",
            "stop_timeout",
            "arrival_rate",
            "max_users",
            "stages",
        ],
        "stages" => &["ramp", "hold"],
        "user" => &[
            "host", "wait", "header", "auth", "let", "on", "task", "sequence",
        ],
        "sequence" => &["task"],
        "on" | "task" | "if" | "else" | "repeat" => STEPS,
        "multipart" => &["field", "file"],
        h if is_method(h) => &[
            "name",
            "header",
            "auth",
            "query",
            "json",
            "form",
            "multipart",
            "body",
            "timeout",
            "redirects",
            "tags",
            "check",
            "capture",
        ],
        // JSON, forms and thresholds hold values, not statements.
        _ => return None,
    })
}

/// Whether `word` starts a statement in some block (not an option like `weight`).
fn starts_statement(word: &str) -> bool {
    is_method(word)
        || [
            "",
            "scenario",
            "load",
            "stages",
            "user",
            "sequence",
            "on",
            "multipart",
            "GET",
        ]
        .iter()
        .filter_map(|h| statement_words(h))
        .any(|words| words.contains(&word))
}

fn is_method(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_uppercase())
}

/// The first word of the header of the block opened by the `{` at `brace`
/// (`} else if {{ x }} {` → `else`).
fn header_word(source: &str, brace: usize) -> &str {
    let line_start = source[..brace].rfind('\n').map_or(0, |i| i + 1);
    let header = source[line_start..brace]
        .trim_start()
        .trim_start_matches('}');
    let header = header.trim_start();
    let end = header
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(header.len());
    &header[..end]
}

/// When `word` cannot start a statement in the innermost open block but can in an
/// enclosing one, the blocks in between are missing their `}`: their `{`, outermost first.
fn unclosed_blocks_before(source: &str, pos: usize, word: &str) -> Option<Vec<usize>> {
    let starts =
        |words: &[&str]| words.contains(&word) || (is_method(word) && words.contains(&"METHOD"));
    let open: Vec<usize> = unclosed(&source[..pos]).blocks;
    let innermost = open.last()?;
    if statement_words(header_word(source, *innermost)).is_none_or(starts) {
        return None;
    }
    // From the innermost block out to the file itself: where `word` can stand.
    for depth in (0..open.len()).rev() {
        let header = match depth {
            0 => "",
            d => header_word(source, open[d - 1]),
        };
        if statement_words(header).is_some_and(starts) {
            return Some(open[depth..].to_vec());
        }
    }
    None
}

/// A statement of an outer block found inside blocks whose `}` is missing (`braces`, the
/// `{` of each, outermost first).
fn missing_brace(source: &str, braces: &[usize], at: Span, word: &str) -> Diagnostic {
    let named: Vec<String> = braces
        .iter()
        .rev()
        .map(|brace| {
            let line_start = source[..*brace].rfind('\n').map_or(0, |i| i + 1);
            let mut header = source[line_start..*brace].trim().to_string();
            if header.chars().count() > 40 {
                header = header.chars().take(39).collect::<String>() + "…";
            }
            let (line, _) = crate::span::line_col(source, *brace);
            format!("`{header}` (line {line})")
        })
        .collect();
    let (word_line, _) = crate::span::line_col(source, at.start);
    let (verb, closes) = match braces.len() {
        1 => ("is", "the `}` that closes it"),
        _ => ("are", "a `}` for each"),
    };
    let innermost = named[0].split(" (line").next().unwrap_or_default();
    let mut diag = Diagnostic::error(
        "kload::syntax",
        format!(
            "{} {verb} not closed before `{word}`",
            join_and(named.iter().map(String::as_str).collect())
        ),
        at,
        format!("`{word}` cannot stand inside {innermost}"),
    );
    for brace in braces {
        diag = diag.with_label(Span::new(*brace, brace + 1), "never closed");
    }
    diag.with_help(format!("add {closes} before line {word_line}"))
}

/// "`a`, `b` and `c`"
fn join_and(items: Vec<&str>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The help for an unexpected `word`, and the replacement of the word it proposes.
fn help_for(
    word: &str,
    expected_words: &[String],
    source: &str,
    pos: usize,
) -> (String, Option<String>) {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let upper = word.to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) && upper != word {
            return (
                format!("HTTP methods are written in capitals: `{upper}`"),
                Some(upper),
            );
        }
        if let Some(m) = did_you_mean(word, METHODS.iter().copied())
            .filter(|_| word.chars().all(|c| c.is_ascii_uppercase()))
        {
            return (format!("did you mean `{m}`?"), Some(m.to_string()));
        }
        // What fits here first, then any statement word.
        let here = did_you_mean(word, expected_words.iter().map(String::as_str));
        if let Some(k) = here.or_else(|| did_you_mean(word, STATEMENT_WORDS.iter().copied())) {
            return (format!("did you mean `{k}`?"), Some(k.to_string()));
        }
        // `userVisitor`: a keyword run into the word after it.
        if let Some(k) = expected_words
            .iter()
            .map(String::as_str)
            .chain(STATEMENT_WORDS.iter().copied())
            .filter(|k| word.len() > k.len() && word.starts_with(k))
            .max_by_key(|k| k.len())
        {
            return (
                format!("put a space after `{k}`"),
                Some(format!("{k} {}", &word[k.len()..])),
            );
        }
    }
    if word == "," {
        return (
            "statements in a block are not separated by `,`: remove it".to_string(),
            Some(String::new()),
        );
    }
    let help = if source[..pos].ends_with('\t') {
        "tabs are fine as indentation; the problem is the token after them"
    } else {
        "see docs/language.md for the syntax of each block"
    };
    (help.to_string(), None)
}

/// How to name what stands at `pos` (not the end of the file), and its width in bytes.
fn found_at(source: &str, pos: usize) -> (String, usize) {
    let rest = &source[pos..];
    let word_len: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if word_len > 0 {
        return (format!("`{}`", &rest[..word_len]), word_len);
    }
    if rest.starts_with('"') {
        let line = rest.split('\n').next().unwrap_or(rest);
        let len = line[1..].find('"').map_or(line.len(), |i| i + 2);
        return (format!("string `{}`", &rest[..len]), len);
    }
    let c = rest.chars().next().unwrap_or(' ');
    let shown: String = if c.is_control() {
        c.escape_debug().collect()
    } else {
        c.to_string()
    };
    (format!("`{shown}`"), c.len_utf8())
}

/// "`a`, `b` or `c`"
pub fn join_or(items: Vec<&str>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}
