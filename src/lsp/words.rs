//! What the editor says about the language's own words: keywords, metrics, methods and
//! functions. Which keyword is valid where comes from the grammar (`syntax::expected`);
//! this file only holds what each one means, as short excerpts of docs/language.md (a test
//! checks that every excerpt is still in the document and that every keyword of
//! `grammar/kload.pest` has a row). A new keyword needs one row here; a new function needs
//! its row in `ir::FUNCTIONS` and in the function table of docs/language.md, nothing else.

use crate::ir::{FUNCTIONS, FunctionSpec};

/// One meaning of a keyword.
pub struct Word {
    pub word: &'static str,
    /// Where this meaning applies: the first word of the statement it stands in (`check`,
    /// `capture`), or the kind of block around it (`request`, `user`, see
    /// `context::Block::kind`); empty for anywhere.
    pub place: &'static str,
    /// What it looks like in use, as in the quick reference.
    pub syntax: &'static str,
    /// An excerpt of docs/language.md.
    pub doc: &'static str,
    /// What completion inserts when the client takes snippets (`$1` placeholders).
    pub snippet: Option<&'static str>,
}

const fn w(word: &'static str, syntax: &'static str, doc: &'static str) -> Word {
    Word {
        word,
        place: "",
        syntax,
        doc,
        snippet: None,
    }
}

const fn at(
    place: &'static str,
    word: &'static str,
    syntax: &'static str,
    doc: &'static str,
) -> Word {
    Word {
        word,
        place,
        syntax,
        doc,
        snippet: None,
    }
}

const fn block(
    word: &'static str,
    syntax: &'static str,
    doc: &'static str,
    snippet: &'static str,
) -> Word {
    Word {
        word,
        place: "",
        syntax,
        doc,
        snippet: Some(snippet),
    }
}

/// Every keyword of the grammar, with one row per meaning.
pub const KEYWORDS: &[Word] = &[
    block(
        "scenario",
        "scenario \"NAME\" { ... }",
        "settings for the whole test: host, timeout, wait time, headers, variables",
        "scenario \"${1:Name}\" {\n\thost \"${2:http://127.0.0.1:8000}\"\n}",
    ),
    w(
        "host",
        "host \"URL\"",
        "the server under test; request paths are relative to it. `--host` on the command line wins over it.",
    ),
    w(
        "timeout",
        "timeout DURATION",
        "how long a request may take before it fails (default 30s).",
    ),
    at(
        "request",
        "timeout",
        "timeout 5s",
        "this request's timeout, instead of the scenario's.",
    ),
    w(
        "wait",
        "wait between 1s 3s | constant 2s | pacing 5s | throughput 0.5",
        "After each task a virtual user waits before it picks the next one.",
    ),
    at(
        "wait",
        "between",
        "wait between 1s 3s",
        "a random time from 1 to 3 seconds, every value equally likely",
    ),
    at(
        "sleep",
        "between",
        "sleep between 1s 2s",
        "pause, a fixed or random time",
    ),
    w("constant", "wait constant 2s", "always 2 seconds"),
    w(
        "pacing",
        "wait pacing 5s",
        "a task starts every 5 seconds: the wait is 5 seconds minus the time the task took (no wait if it took longer)",
    ),
    w(
        "throughput",
        "wait throughput 0.5",
        "at most 0.5 tasks per second per user; the same as `pacing 2s`",
    ),
    w(
        "header",
        "header Name: value",
        "a header sent with every request of every class.",
    ),
    at(
        "request",
        "header",
        "header Name: value",
        "a header for this request; it wins over class and scenario headers.",
    ),
    at(
        "check",
        "header",
        "check header NAME PREDICATE",
        "a response header",
    ),
    at(
        "capture",
        "header",
        "capture etag = header ETag",
        "a response header",
    ),
    w(
        "auth",
        "auth basic USER PASSWORD | auth bearer TOKEN",
        "the `Authorization` header of every request (see Authentication).",
    ),
    at(
        "user",
        "auth",
        "auth basic USER PASSWORD | auth bearer TOKEN",
        "`auth` stands in the scenario, a class or a request, like a header; the nearest wins (a request's over its class's, a class's over the scenario's)",
    ),
    at(
        "request",
        "auth",
        "auth basic USER PASSWORD | auth bearer TOKEN",
        "this request's `Authorization` header (see Authentication).",
    ),
    w(
        "basic",
        "auth basic USER PASSWORD",
        "`auth basic USER PASSWORD` sends `Authorization: Basic` with the user and password joined by `:` and base64-encoded (RFC 7617), from any values",
    ),
    w(
        "bearer",
        "auth bearer TOKEN",
        "`auth bearer \"{{ token }}\"` is the same as `header Authorization: \"Bearer {{ token }}\"`.",
    ),
    w(
        "let",
        "let name = expression",
        "A variable gets its value from a `let` or a `capture`. Every virtual user has its own copy.",
    ),
    block(
        "data",
        "data NAME from \"file.csv\" [unique | cycle | random]",
        "A data feed gives each virtual user a row of a CSV file, e.g. its own login.",
        "data ${1:accounts} from \"${2:data/accounts.csv}\" ${3|unique,cycle,random|}",
    ),
    w(
        "from",
        "data NAME from \"file.csv\"",
        "The file is CSV with a header row; its path is relative to the `.kload` file",
    ),
    w(
        "unique",
        "data NAME from \"file.csv\" unique",
        "every user gets a row of its own, in file order.",
    ),
    w(
        "cycle",
        "data NAME from \"file.csv\" cycle",
        "rows in file order, starting again from the top after the last one.",
    ),
    at(
        "data",
        "random",
        "data NAME from \"file.csv\" random",
        "a row picked at random for each user; rows may repeat.",
    ),
    at(
        "capture",
        "random",
        "capture id = jsonpath \"$.results[*].id\" random",
        "one of the matches, at random",
    ),
    at(
        "file",
        "random",
        "file name: random 200KB named \"file.bin\"",
        "generated bytes of that size, sent under that file name",
    ),
    block(
        "load",
        "load { ... }",
        "how many users, how fast they start, how long the test runs",
        "load {\n\tusers ${1:100}\n\tspawn_rate ${2:10}\n\trun_time ${3:5m}\n}",
    ),
    w(
        "users",
        "users 100",
        "the number of concurrent virtual users to reach.",
    ),
    w(
        "spawn_rate",
        "spawn_rate 10",
        "users started per second until `users` is reached: the first at once, the next every 1/N s (as Locust does).",
    ),
    w(
        "run_time",
        "run_time 5m",
        "stop the test after this long (without it, run until Ctrl-C, or until the stages end).",
    ),
    w(
        "stop_timeout",
        "stop_timeout 30s",
        "when the test stops, how long running tasks get to finish.",
    ),
    w(
        "arrival_rate",
        "arrival_rate 20/s",
        "`arrival_rate` starts tasks on a fixed schedule instead, whatever the server does (an open model)",
    ),
    w(
        "max_users",
        "max_users 50",
        "new users (which run their `on start` first) are created as needed up to `max_users`.",
    ),
    block(
        "stages",
        "stages { ramp to 50 over 1m  hold 5m }",
        "Stages change the number of users over time, one stage after the other",
        "stages {\n\tramp to ${1:50} over ${2:1m}\n\thold ${3:5m}\n}",
    ),
    w(
        "ramp",
        "ramp to N over DURATION",
        "`ramp to N over DURATION` moves the user count evenly to N over that time; `hold DURATION` keeps it.",
    ),
    w(
        "to",
        "ramp to N over DURATION",
        "`ramp to N over DURATION` moves the user count evenly to N over that time",
    ),
    w(
        "over",
        "ramp to N over DURATION",
        "`ramp to N over DURATION` moves the user count evenly to N over that time",
    ),
    w(
        "hold",
        "hold DURATION",
        "`ramp to N over DURATION` moves the user count evenly to N over that time; `hold DURATION` keeps it.",
    ),
    block(
        "user",
        "user NAME [weight N | count N] [tags a, b] { ... }",
        "A `user` block is a class of virtual users.",
        "user ${1:Visitor} {\n\twait between ${2:1s} ${3:3s}\n\n\ttask ${4:home} {\n\t\tGET \"${5:/}\"\n\t}\n}",
    ),
    w(
        "weight",
        "weight N",
        "`weight N` (default 1) shares the remaining users in proportion to the weights.",
    ),
    at(
        "task",
        "weight",
        "task NAME weight N",
        "a task with `weight 3` is picked three times as often as one with `weight 1` (the default)",
    ),
    at(
        "sequence",
        "weight",
        "sequence NAME weight N",
        "a task with `weight 3` is picked three times as often as one with `weight 1` (the default)",
    ),
    w(
        "count",
        "count N",
        "`count N` gives the class exactly N users, whatever the total.",
    ),
    w(
        "tags",
        "tags a, b",
        "Classes, tasks, sequences and requests can carry tags: `tags list, read`.",
    ),
    w(
        "tag",
        "METRIC(tag NAME)",
        "a threshold like `p95(tag list) < 200ms` covers every request with that tag",
    ),
    block(
        "on",
        "on start { STEPS }",
        "`on start { ... }` runs once when a virtual user starts, before its first task; typically a login.",
        "on ${1|start,stop|} {\n\t$0\n}",
    ),
    at(
        "redirects",
        "on",
        "redirects on | off",
        "return 3xx responses instead of following them (`redirects on` is the default).",
    ),
    w(
        "start",
        "on start { STEPS }",
        "`on start { ... }` runs once when a virtual user starts, before its first task; typically a login.",
    ),
    w(
        "stop",
        "on stop { STEPS }",
        "`on stop { ... }` runs once when the test ends.",
    ),
    block(
        "task",
        "task NAME [weight N] [tags a, b] { STEPS }",
        "A task is a list of steps that a virtual user runs from top to bottom.",
        "task ${1:name} {\n\t$0\n}",
    ),
    block(
        "sequence",
        "sequence NAME [weight N] [tags a, b] { task ... }",
        "A `sequence` is a task whose inner tasks always run in order, like Locust's `SequentialTaskSet`.",
        "sequence ${1:name} {\n\ttask ${2:first} {\n\t\t$0\n\t}\n}",
    ),
    w(
        "sleep",
        "sleep 1s | sleep between 1s 2s",
        "pause, a fixed or random time",
    ),
    block(
        "if",
        "if CONDITION { STEPS } [else if CONDITION { STEPS }] [else { STEPS }]",
        "`if CONDITION { STEPS }` runs the steps when the condition holds.",
        "if {{ ${1:condition} }} {\n\t$0\n}",
    ),
    block(
        "else",
        "} else { STEPS } | } else if CONDITION { STEPS }",
        "It may be followed by `else if CONDITION { STEPS }`, as many as needed, and one `else { STEPS }`: the first branch whose condition holds runs, or the `else`.",
        "else {\n\t$0\n}",
    ),
    block(
        "repeat",
        "repeat N { STEPS }",
        "`repeat N { STEPS }` runs the steps N times in a row (N a whole number, 1 or more).",
        "repeat ${1:3} {\n\t$0\n}",
    ),
    w(
        "name",
        "name \"...\"",
        "the name the request is reported under; by default the URL as written.",
    ),
    w(
        "query",
        "query name: value",
        "a query parameter, encoded and added to the URL.",
    ),
    block(
        "json",
        "json { \"key\": value } | json [ ... ]",
        "Written like JSON, with `{{ }}` allowed.",
        "json {\n\t\"${1:key}\": ${2:\"value\"}\n}",
    ),
    block(
        "form",
        "form { name: value, name: value }",
        "`name: value` pairs separated by commas, sent URL-encoded (`application/x-www-form-urlencoded`).",
        "form {\n\t${1:name}: \"${2:value}\"\n}",
    ),
    block(
        "multipart",
        "multipart { field name: value  file name: \"path\" }",
        "`json`, `form`, `multipart` or `body`; at most one",
        "multipart {\n\tfield ${1:name}: \"${2:value}\"\n}",
    ),
    w("field", "field name: value", "a text field"),
    w(
        "file",
        "file name: \"path\" [type \"...\"]",
        "a file read from disk, relative to the `.kload` file",
    ),
    w(
        "named",
        "file name: random 200KB named \"file.jpg\"",
        "generated bytes of that size, sent under that file name",
    ),
    w(
        "type",
        "type \"...\"",
        "Add `type \"...\"` to set a file part's content type.",
    ),
    at(
        "body",
        "type",
        "body \"...\" type \"...\"",
        "`type` sets the `Content-Type` header (a `header Content-Type: ...` line wins over it).",
    ),
    w(
        "body",
        "body \"...\" [type \"...\"]",
        "Raw text, sent exactly as written after escapes are decoded and `{{ }}` is filled in.",
    ),
    at(
        "check",
        "body",
        "check body PREDICATE",
        "the whole body as text",
    ),
    w(
        "redirects",
        "redirects on | off",
        "return 3xx responses instead of following them (`redirects on` is the default).",
    ),
    w(
        "off",
        "redirects off",
        "return 3xx responses instead of following them (`redirects on` is the default).",
    ),
    w(
        "check",
        "check status | header | jsonpath | body | duration ...",
        "A check states what a good response looks like.",
    ),
    w(
        "status",
        "check status 200 | 200..299 | in [200, 201]",
        "the status code: one code, a range `200..299`, or a list `in [200, 201, 300..399]`",
    ),
    w(
        "in",
        "check status in [200, 201]",
        "the status code: one code, a range `200..299`, or a list `in [200, 201, 300..399]`",
    ),
    w(
        "jsonpath",
        "check jsonpath \"PATH\" PREDICATE",
        "a value found in the JSON body by a JSONPath like `\"$.results[0].id\"`; several matches form a list",
    ),
    at(
        "capture",
        "jsonpath",
        "capture name = jsonpath \"PATH\" [first | all | random]",
        "the first match of the JSONPath",
    ),
    w(
        "duration",
        "check duration < 500ms",
        "the response time (`<`, `<=`, `>` or `>=`)",
    ),
    w("exists", "exists", "is there (and not `null`)"),
    w(
        "contains",
        "contains VALUE",
        "contains the text; for a list, has an item equal to the value",
    ),
    w(
        "matches",
        "matches \"REGEX\"",
        "matches the regular expression",
    ),
    w(
        "not",
        "not PREDICATE",
        "any predicate, negated: `not exists`, `not contains \"error\"`",
    ),
    w(
        "capture",
        "capture name = jsonpath | header | cookie | regex ...",
        "A capture takes a value from the response and keeps it in a variable of the virtual user.",
    ),
    w(
        "secret",
        "let secret name = EXPR | capture secret name = ...",
        "A variable marked (or used as a secret) anywhere in the file is a secret everywhere: every value it takes, in every user.",
    ),
    w(
        "first",
        "capture id = jsonpath \"$.results[*].id\" first",
        "the first match of the JSONPath",
    ),
    w(
        "all",
        "capture ids = jsonpath \"$.results[*].id\" all",
        "every match, as a list",
    ),
    w(
        "cookie",
        "capture session = cookie sessionid",
        "a cookie set by the server",
    ),
    w(
        "regex",
        "capture order = regex \"order-([0-9]+)\"",
        "from the body as text: the first group in parentheses, or the whole match without one",
    ),
    block(
        "thresholds",
        "thresholds { METRIC[(SELECTOR)] OPERATOR VALUE [warn] [abort after N] }",
        "Thresholds are the pass/fail targets of the test, checked when the run ends.",
        "thresholds {\n\t${1:p95} < ${2:500ms}\n\terror_rate < ${3:1%}\n}",
    ),
    w("warn", "warn", "report a miss, but do not fail the run."),
    w(
        "optional",
        "optional",
        "with nothing to measure, pass (shown as SKIP, `<skipped>` in JUnit) instead of failing. A measured value is judged as usual.",
    ),
    w(
        "abort",
        "abort after N",
        "judge the threshold while the test runs, once at least N matching requests were made, and stop the run early if it does not hold.",
    ),
    w(
        "after",
        "abort after N",
        "judge the threshold while the test runs, once at least N matching requests were made, and stop the run early if it does not hold.",
    ),
    w("true", "true | false", "yes/no, nothing"),
    w("false", "true | false", "yes/no, nothing"),
    w("null", "null", "yes/no, nothing"),
];

/// Threshold metrics (their names are checked by the compiler's own list).
pub const METRICS: &[Word] = &[
    w(
        "p50",
        "p50(SELECTOR) < 200ms",
        "that percentile of response times",
    ),
    w(
        "avg",
        "avg(SELECTOR) < 200ms",
        "average, median, fastest, slowest response",
    ),
    w(
        "med",
        "med(SELECTOR) < 200ms",
        "average, median, fastest, slowest response",
    ),
    w(
        "min",
        "min(SELECTOR) < 200ms",
        "average, median, fastest, slowest response",
    ),
    w(
        "max",
        "max(SELECTOR) < 200ms",
        "average, median, fastest, slowest response",
    ),
    w(
        "error_rate",
        "error_rate(SELECTOR) < 1%",
        "the share of failed requests",
    ),
    w("rps", "rps(SELECTOR) >= 100", "requests per second"),
    w(
        "requests",
        "requests(SELECTOR) >= 1000",
        "the number of requests",
    ),
    w(
        "corrected_p95",
        "corrected_p95(SELECTOR) < 500ms",
        "the same, measured from each request's intended start",
    ),
];

/// What an HTTP method means, for any of them.
pub const METHOD: Word = w(
    "GET",
    "METHOD \"URL\" { ... }",
    "A request is an HTTP method in capitals (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`, `TRACE`) and a URL in quotes",
);

/// The meaning of `word` where it stands: a row for the statement's first word, else for
/// the block around it, else the general one.
pub fn keyword(word: &str, statement: &str, block: &str) -> Option<&'static Word> {
    let rows = || KEYWORDS.iter().filter(move |k| k.word == word);
    rows()
        .find(|k| !k.place.is_empty() && k.place == statement && statement != word)
        .or_else(|| rows().find(|k| !k.place.is_empty() && k.place == block))
        .or_else(|| rows().find(|k| k.place.is_empty()))
        .or_else(|| rows().next())
}

/// A metric by name: `p95` and any `pNN` read as percentiles; `corrected_` before a
/// latency metric is the latency from the intended start.
pub fn metric(name: &str) -> Option<&'static Word> {
    if let Some(rest) = name.strip_prefix("corrected_") {
        // As the compiler reads it: the prefix once, before a response-time metric.
        const LATENCIES: &[&str] = &["p50", "avg", "med", "min", "max"];
        metric(rest).filter(|m| LATENCIES.contains(&m.word))?;
        return METRICS.iter().find(|m| m.word == "corrected_p95");
    }
    let percentile = name
        .strip_prefix('p')
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|p| p > 0.0 && p <= 100.0);
    if percentile {
        return METRICS.first();
    }
    METRICS.iter().find(|m| m.word == name)
}

pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The rows of the function table of docs/language.md that describe `name`, as
/// (how it is called, what it gives).
pub fn function_docs(name: &str) -> Vec<(String, String)> {
    const LANGUAGE: &str = include_str!("../../docs/language.md");
    let call = format!("`{name}(");
    LANGUAGE
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split(" | ")
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [usage, result] if usage.starts_with(&call) => {
                    Some((usage.trim_matches('`').to_string(), result.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Markdown for a hover or a completion's documentation.
pub fn markdown(syntax: &str, doc: &str) -> String {
    format!("```kload\n{syntax}\n```\n{doc}")
}

/// Markdown describing a function: its signature and what docs/language.md says.
pub fn function_markdown(spec: &FunctionSpec) -> String {
    let docs = function_docs(spec.name);
    let mut out = format!("```kload\n{}\n```", spec.signature);
    for (usage, result) in docs {
        out.push_str(&format!("\n- `{usage}`: {result}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/language.md as prose: links reduced to their text, white space to single spaces.
    fn language_text() -> String {
        let raw = include_str!("../../docs/language.md");
        let links = regex::Regex::new(r"\[([^\]]+)\]\(#[^)]*\)").unwrap();
        let text = links.replace_all(raw, "$1");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn every_excerpt_is_in_the_language_reference() {
        let text = language_text();
        let rows = KEYWORDS.iter().chain(METRICS).chain([&METHOD]);
        let missing: Vec<String> = rows
            .filter(|r| !text.contains(r.doc))
            .map(|r| format!("{} ({}): {}", r.word, r.place, r.doc))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/language.md:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_keyword_of_the_grammar_has_a_meaning() {
        let grammar = include_str!("../../grammar/kload.pest");
        let keyword = regex::Regex::new(r#"(?m)^kw_\w+\s*=\s*@\{\s*"(\w+)""#).unwrap();
        let words: Vec<&str> = keyword
            .captures_iter(grammar)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert!(words.len() > 50, "the keyword rules were found: {words:?}");
        let missing: Vec<&&str> = words
            .iter()
            .filter(|w| !KEYWORDS.iter().any(|k| k.word == **w))
            .collect();
        assert!(
            missing.is_empty(),
            "keywords without a row in KEYWORDS: {missing:?}"
        );
    }

    #[test]
    fn every_metric_of_the_compiler_has_a_meaning() {
        let missing: Vec<&&str> = crate::compile::METRICS
            .iter()
            .filter(|m| metric(m).is_none())
            .collect();
        assert!(missing.is_empty(), "metrics without a row: {missing:?}");
    }

    #[test]
    fn every_function_is_documented_in_the_language_reference() {
        for f in FUNCTIONS {
            assert!(
                !function_docs(f.name).is_empty(),
                "`{}` has no row in the function table of docs/language.md",
                f.name
            );
        }
        let env = function_docs("env");
        assert_eq!(env.len(), 2, "{env:?}");
        assert_eq!(env[1].0, "env(\"NAME\", \"default\")");
        assert!(function_markdown(function("now").unwrap()).contains("strftime"));
    }

    #[test]
    fn meanings_depend_on_the_place() {
        assert_eq!(keyword("random", "data", "").unwrap().place, "data");
        assert_eq!(
            keyword("random", "capture", "request").unwrap().place,
            "capture"
        );
        assert_eq!(
            keyword("timeout", "timeout", "request").unwrap().place,
            "request"
        );
        assert_eq!(keyword("timeout", "timeout", "scenario").unwrap().place, "");
        assert_eq!(
            keyword("header", "check", "request").unwrap().place,
            "check"
        );
        assert!(keyword("nonsense", "", "").is_none());
        assert_eq!(metric("p99.9").unwrap().word, "p50");
        assert_eq!(metric("error_rate").unwrap().word, "error_rate");
        assert!(metric("p0").is_none());
        assert_eq!(metric("corrected_p99.9").unwrap().word, "corrected_p95");
        assert_eq!(metric("corrected_max").unwrap().word, "corrected_p95");
        assert!(metric("corrected_rps").is_none());
        assert!(metric("corrected_corrected_p95").is_none());
    }
}
