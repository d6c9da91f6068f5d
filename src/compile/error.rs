//! Every compiler diagnostic, worded in one place. Each function is one kind of mistake
//! with its stable code; docs/diagnostics.md lists them all.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

fn suggest(help: Option<&str>, fallback: impl Into<String>) -> String {
    match help {
        Some(s) => format!("did you mean `{s}`?"),
        None => fallback.into(),
    }
}

/// Attaches the suggested replacement of `span`, if there is one.
fn fix(d: Diagnostic, span: Span, replacement: Option<String>) -> Diagnostic {
    match replacement {
        Some(r) => d.with_suggestion(span, r),
        None => d,
    }
}

/// `text` as a kload string literal.
pub fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn unknown_variable(
    name: &str,
    span: Span,
    suggestion: Option<&str>,
    known: &[&str],
) -> Diagnostic {
    let fallback = if known.is_empty() {
        "set it first with `let`, a `capture`, or declare a data feed".to_string()
    } else {
        format!(
            "variables that can be set here: {}",
            known
                .iter()
                .take(8)
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let d = Diagnostic::error(
        "kload::unknown_variable",
        format!("unknown variable `{name}`"),
        span,
        "nothing sets this before it is used",
    )
    .with_help(suggest(suggestion, fallback));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn unknown_feed_column(
    feed: &str,
    column: &str,
    span: Span,
    suggestion: Option<&str>,
    columns: &[String],
) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::unknown_column",
        format!("data feed `{feed}` has no column `{column}`"),
        span,
        "not a column of the file",
    )
    .with_help(suggest(
        suggestion,
        format!("the columns are: {}", columns.join(", ")),
    ));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn duplicate_name(what: &str, name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::duplicate_name",
        format!("{what} `{name}` is defined twice"),
        span,
        "defined again here",
    )
    .with_label(first, "first defined here")
    .with_help(format!("rename one of them: {what} names must be unique"))
}

/// A second `scenario` or `load` block.
pub fn duplicate_block(kind: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::duplicate_setting",
        format!("the file has two `{kind}` blocks"),
        span,
        "second block",
    )
    .with_label(first, "first block")
    .with_help(format!("merge them into one `{kind}` block"))
}

pub fn duplicate_setting(setting: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::duplicate_setting",
        format!("`{setting}` is set twice"),
        span,
        "set again here",
    )
    .with_label(first, "first set here")
    .with_help("keep one of them")
}

/// `auth` and `header Authorization:` in one scenario, class or request.
pub fn auth_and_header(span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::duplicate_setting",
        "the Authorization header is set twice",
        span,
        "set again here",
    )
    .with_label(first, "first set here")
    .with_help("`auth` writes the Authorization header: keep the `auth` line or the `header Authorization:` line")
}

/// Credentials `auth basic` cannot send.
pub fn invalid_auth(span: Span, reason: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_auth",
        "invalid credentials",
        span,
        reason.to_string(),
    )
    .with_help(help.to_string())
}

/// `repeat 0`, `repeat 1.5`.
pub fn invalid_repeat(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_number",
        format!("`repeat` cannot be `{text}`"),
        span,
        "expected a whole number of at least 1",
    )
    .with_help("write how many times to run the steps, as in `repeat 3 { ... }`")
}

pub fn invalid_weight(what: &str, text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kload::invalid_weight", format!("invalid {what} `{text}`"), span, "must be a whole number of 1 or more")
        .with_help("weights are relative shares like Locust's: `weight 10` next to `weight 1` runs ten times as often")
}

/// Labels the option written second as the mistake.
pub fn weight_and_count(weight: Span, count: Span) -> Diagnostic {
    let (second, second_text, first, first_text) = if count.start > weight.start {
        (count, "`count` here", weight, "`weight` here")
    } else {
        (weight, "`weight` here", count, "`count` here")
    };
    Diagnostic::error(
        "kload::weight_and_count",
        "a user class has both `weight` and `count`",
        second,
        second_text,
    )
    .with_label(first, first_text)
    .with_help(
        "`count N` starts exactly N users of the class and ignores weights; keep one of them",
    )
}

pub fn invalid_duration(
    text: &str,
    span: Span,
    reason: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::invalid_duration",
        format!("invalid duration `{text}`"),
        span,
        reason.to_string(),
    )
    .with_help(suggest(
        suggestion,
        "write durations like `500ms`, `30s`, `5m` or `1h30m`",
    ));
    fix(d, span, suggestion.map(str::to_string))
}

/// `what` is the keyword (`users`); `example` a correct use (`users 10`).
pub fn invalid_number(
    what: &str,
    text: &str,
    span: Span,
    expected: &str,
    example: &str,
) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_number",
        format!("`{what}` cannot be `{text}`"),
        span,
        format!("expected {expected}"),
    )
    .with_help(format!("write {expected}, as in `{example}`"))
}

/// A number with a unit where a plain JSON or expression number stands.
pub fn number_with_unit(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_number",
        format!("`{text}` is not a number"),
        span,
        "units are not allowed here",
    )
    .with_help(format!(
        "write a plain number like `2048`, or quote it to send text: \"{text}\""
    ))
}

pub fn invalid_size(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kload::invalid_size", format!("invalid size `{text}`"), span, "not a size")
        .with_help("write sizes like `512B`, `200KB`, `1MB` (or `KiB`, `MiB` for powers of 1024), at most 100MB")
}

/// `between` with its bounds reversed, in a `wait` or a `sleep`.
pub fn invalid_wait(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_wait",
        format!("invalid {what}"),
        span,
        "the minimum is larger than the maximum",
    )
    .with_help("put the smaller bound first, as in `between 1s 3s`")
}

pub fn unknown_method(method: &str, span: Span, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::unknown_method",
        format!("unknown HTTP method `{method}`"),
        span,
        "not an HTTP method",
    )
    .with_help(suggest(
        suggestion,
        "use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or TRACE",
    ));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn invalid_url(url: &str, span: Span, reason: &str) -> Diagnostic {
    Diagnostic::error("kload::invalid_url", format!("invalid URL `{url}`"), span, reason.to_string())
        .with_help("hosts look like `http://127.0.0.1:8000`; request targets are a path like `/api/v1/` or a full http(s) URL")
}

pub fn invalid_header_name(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_header",
        format!("invalid header name `{name}`"),
        span,
        "not a valid HTTP header name",
    )
    .with_help("header names are letters, digits and `-`, like `Content-Type`")
}

/// A literal header value that HTTP cannot carry (the request would fail every time).
pub fn invalid_header_value(name: &str, span: Span, bad: char) -> Diagnostic {
    let what = match bad {
        '\n' | '\r' => "a line break".to_string(),
        c if c.is_control() => format!("the control character `{}`", c.escape_debug()),
        c => format!("`{c}`, which is not ASCII"),
    };
    Diagnostic::error(
        "kload::invalid_header",
        format!("header `{name}` has a value that cannot be sent"),
        span,
        format!("contains {what}"),
    )
    .with_help(
        "header values are printable ASCII: percent-encode other text (`Caf%C3%A9`) or send it in the body",
    )
}

pub fn invalid_jsonpath(path: &str, span: Span, reason: &str) -> Diagnostic {
    // The JSON path parser is generated by pest too: its end-of-input rule is `EOI`.
    let reason = reason.replace("EOI", "the end of the path");
    Diagnostic::error("kload::invalid_jsonpath", format!("invalid JSON path `{path}`"), span, reason)
        .with_help("JSON paths follow RFC 9535: `$.access`, `$.results[*].id`, `$.results[?@.status == 'Pending']`")
}

pub fn invalid_regex(pattern: &str, span: Span, reason: &str) -> Diagnostic {
    let reason = reason.lines().last().unwrap_or(reason).trim();
    let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_string();
    Diagnostic::error(
        "kload::invalid_regex",
        format!("invalid regular expression `{pattern}`"),
        span,
        reason,
    )
    .with_help("kload uses Rust regex syntax; backslashes in strings are written `\\\\`")
}

pub fn interpolation_not_allowed(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::interpolation_not_allowed",
        format!("{what} cannot contain `{{{{ }}}}`"),
        span,
        "interpolation here",
    )
    .with_help(format!(
        "{what} is checked when the scenario is compiled, so it must be written out"
    ))
}

pub fn unknown_function(name: &str, span: Span, suggestion: Option<&str>) -> Diagnostic {
    let all = crate::ir::FUNCTIONS
        .iter()
        .map(|f| f.signature)
        .collect::<Vec<_>>()
        .join(", ");
    let d = Diagnostic::error(
        "kload::unknown_function",
        format!("unknown function `{name}`"),
        span,
        "no such function",
    )
    .with_help(suggest(suggestion, format!("the functions are: {all}")));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn wrong_arity(name: &str, span: Span, given: usize, signature: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::wrong_arity",
        format!(
            "`{name}` called with {given} argument{}",
            if given == 1 { "" } else { "s" }
        ),
        span,
        "wrong number of arguments",
    )
    .with_help(format!("call it as `{signature}`"))
}

fn signature(name: &str) -> &'static str {
    crate::ir::FUNCTIONS
        .iter()
        .find(|f| f.name == name)
        .map_or("", |f| f.signature)
}

pub fn wrong_argument_type(name: &str, span: Span, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::wrong_argument_type",
        format!("wrong argument type for `{name}`"),
        span,
        format!("expected {expected}"),
    )
    .with_help(format!(
        "`{name}` takes {expected} here: `{}`",
        signature(name)
    ))
}

/// `random_int(10, 1)`.
pub fn reversed_bounds(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::wrong_argument_type",
        format!("the bounds of `{name}` are reversed"),
        span,
        "the minimum is larger than the maximum",
    )
    .with_help(format!(
        "put the smaller bound first: `{}`",
        signature(name)
    ))
}

pub fn missing_data_file(
    path: &str,
    span: Span,
    reason: &str,
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::missing_data_file",
        format!("cannot read data file `{path}`"),
        span,
        reason.to_string(),
    )
    .with_help(suggest(
        suggestion,
        "paths are relative to the scenario file; the file is CSV with a header row",
    ));
    fix(d, span, suggestion.map(quoted))
}

pub fn empty_data_file(path: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::empty_data_file",
        format!("data file `{path}` has no rows"),
        span,
        "no data under the header",
    )
    .with_help("add at least one row under the header")
}

pub fn unknown_feed(name: &str, span: Span, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::unknown_feed",
        format!("unknown data feed `{name}`"),
        span,
        "no `data` declaration has this name",
    )
    .with_help(suggest(
        suggestion,
        format!("declare it: data {name} from \"file.csv\" unique"),
    ));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn missing_file(path: &str, span: Span, reason: &str, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::error(
        "kload::missing_file",
        format!("cannot read file `{path}`"),
        span,
        reason.to_string(),
    )
    .with_help(suggest(
        suggestion,
        "paths are relative to the scenario file",
    ));
    fix(d, span, suggestion.map(quoted))
}

pub fn invalid_status(text: &str, span: Span, reason: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_status",
        format!("invalid status `{text}`"),
        span,
        reason.to_string(),
    )
    .with_help("write `status 200`, `status 200..299` (low to high) or `status in [200, 201]`")
}

pub fn conflicting_bodies(span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::conflicting_bodies",
        "a request has two bodies",
        span,
        "second body",
    )
    .with_label(first, "first body")
    .with_help("a request sends one of `json`, `form`, `multipart` or `body`")
}

pub fn comparison_type(span: Span, op: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::comparison_type",
        format!("`{op}` compares numbers"),
        span,
        "not a number",
    )
    .with_help("use `==`, `!=`, `contains` or `matches` for text")
}

/// `check duration == 200ms` or `p95 == 200ms`: a bound compared for equality.
pub fn equality_on_bound(what: &str, op: &str, span: Span, example: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::comparison_type",
        format!("{what} cannot use `{op}`"),
        span,
        "use `<`, `<=`, `>` or `>=`",
    )
    .with_help(format!(
        "measurements vary from one request or run to the next, so {what} sets a bound: `{example}`"
    ))
}

pub fn unknown_metric(name: &str, span: Span, suggestion: Option<&str>) -> Diagnostic {
    let d = Diagnostic::error("kload::unknown_metric", format!("unknown metric `{name}`"), span, "not a metric")
        .with_help(suggest(suggestion, "metrics: p50, p90, p95, p99, p99.9 (any pN), avg, med, min, max, error_rate, rps, requests"));
    fix(d, span, suggestion.map(str::to_string))
}

pub fn threshold_value(metric: &str, text: &str, span: Span, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::threshold_value",
        format!("`{metric}` cannot be compared with `{text}`"),
        span,
        format!("expected {expected}"),
    )
    .with_help(format!("`{metric}` is measured as {expected}"))
}

/// A bound written as a bare number where a unit is required (`error_rate < 1`,
/// `p95 < 200`): the fix is the same number with the unit.
pub fn bound_without_unit(
    metric: &str,
    text: &str,
    span: Span,
    measured: &str,
    fixed: &str,
    ambiguity: &str,
) -> Diagnostic {
    Diagnostic::error(
        "kload::threshold_value",
        format!("the bound `{text}` of `{metric}` has no unit"),
        span,
        format!("write `{fixed}`"),
    )
    .with_help(format!(
        "`{metric}` is measured as {measured}, and a bare number could mean {ambiguity}: write `{fixed}`"
    ))
    .with_suggestion(span, fixed)
}

pub fn unknown_threshold_target(
    kind: &str,
    name: &str,
    span: Span,
    suggestion: Option<&str>,
    known: &[&str],
) -> Diagnostic {
    let fallback = if known.is_empty() {
        format!("no request has a {kind} yet: give the requests to watch `tags {name}`")
    } else {
        let list: Vec<String> = known.iter().take(8).map(|k| format!("`{k}`")).collect();
        let more = if known.len() > 8 { ", ..." } else { "" };
        format!("the {kind}s in this scenario: {}{more}", list.join(", "))
    };
    Diagnostic::error(
        "kload::unknown_threshold_target",
        format!("no request has the {kind} `{name}`"),
        span,
        format!("no such {kind}"),
    )
    .with_help(suggest(suggestion, fallback))
}

pub fn invalid_load(span: Span, reason: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        "kload::invalid_load",
        "invalid load profile",
        span,
        reason.to_string(),
    )
    .with_help(help.to_string())
}

pub fn no_user_classes(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kload::no_user_classes",
        "the scenario has no user classes",
        span,
        "nothing to run",
    )
    .with_help("add one: user Visitor { task home { GET \"/\" } }")
}

pub fn unused_capture(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("kload::unused_capture", format!("`{name}` is captured but never used"), span, "never read")
        .with_help(format!("use it as `{{{{ {name} }}}}`, or drop the capture (a check verifies a value without keeping it)"))
}

pub fn short_secret(name: &str, span: Span, min_len: usize) -> Diagnostic {
    Diagnostic::warning(
        "kload::short_secret",
        format!("`{name}` is marked secret, but its value is too short to be masked"),
        span,
        format!("shorter than {min_len} characters"),
    )
    .with_help(format!(
        "kload replaces secrets of {min_len} characters or more with `***`; a shorter one \
         would blank out ordinary words, so it can show in what a response echoes \
         (checks that compare with it still hide it)"
    ))
}

pub fn class_without_tasks(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "kload::class_without_tasks",
        format!("user class `{name}` has no tasks"),
        span,
        "its users only run `on start`",
    )
    .with_help("add a task, or remove the class")
}

pub fn task_without_requests(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "kload::task_without_requests",
        format!("task `{name}` sends no requests"),
        span,
        "nothing is measured",
    )
    .with_help("add a request step")
}

pub fn unused_feed(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "kload::unused_feed",
        format!("data feed `{name}` is never used"),
        span,
        "declared here",
    )
    .with_help(format!(
        "use a column as `{{{{ {name}.column }}}}`, or remove the declaration"
    ))
}
