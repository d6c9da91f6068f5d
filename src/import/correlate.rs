//! Correlation: a value a response gave the client and a later request sent back (the JWT of a
//! login in an `Authorization` header, an id from a list in a detail URL) becomes a `capture`
//! on the response and a `{{ variable }}` in the request, so a replay uses fresh values.
//!
//! Responses are indexed as they come: JSON leaves, headers other than the standard ones,
//! cookies set, and the hidden fields and `<meta>` values of HTML pages. A value is only a
//! candidate when it could not be a coincidence: an integer of two digits or more under an id
//! key (`id`, `project_id`), or a text of six characters or more without spaces that has a
//! digit or is at least twelve long, that the client had not sent before the response (then
//! the client chose it, and it is data, not a server's id).
//! Later requests are searched for candidates in path segments, query values, headers, JSON
//! leaves and form fields, as the whole value or, for long values (tokens), as a word inside
//! one (`Bearer <token>`). The first response that gave a value is its source.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::naming::{Namer, ident, is_id_key, resource, singular};
use super::recording::{Call, Slot, SlotKind};

/// Where a captured value comes from in its response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Extractor {
    Json(Vec<Step>),
    Header(String),
    Cookie(String),
    /// A field of an HTML page, found by a regular expression whose first group is its value.
    Regex {
        name: String,
        pattern: String,
    },
}

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Key(String),
    /// An array item: the recorded index and the array's length.
    Index {
        index: usize,
        len: usize,
    },
}

/// A capture to add to a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    pub var: String,
    pub extractor: Extractor,
    /// Use the recorded array indexes rather than any item (set when several captures take
    /// values from the same item, which must stay together).
    pub fixed: bool,
}

impl Capture {
    /// The capture as written after `capture NAME = `: `jsonpath "$.results[*].id" random`.
    /// Lists of more than one item become `[*]` with `random`: the recorded user picked one,
    /// a replay picks any. The returned path is not yet quoted.
    pub fn source(&self) -> (&'static str, String, bool) {
        match &self.extractor {
            Extractor::Json(steps) => {
                let mut path = "$".to_string();
                let mut random = false;
                for step in steps {
                    match step {
                        Step::Key(k) if is_plain_key(k) => {
                            path.push('.');
                            path.push_str(k);
                        }
                        Step::Key(k) => {
                            path.push_str("['");
                            path.push_str(&k.replace('\\', "\\\\").replace('\'', "\\'"));
                            path.push_str("']");
                        }
                        Step::Index { index, .. } if self.fixed => {
                            path.push_str(&format!("[{index}]"));
                        }
                        Step::Index { len: 1, .. } => path.push_str("[0]"),
                        Step::Index { .. } => {
                            path.push_str("[*]");
                            random = true;
                        }
                    }
                }
                ("jsonpath", path, random)
            }
            Extractor::Header(name) => ("header", name.clone(), false),
            Extractor::Cookie(name) => ("cookie", name.clone(), false),
            Extractor::Regex { pattern, .. } => ("regex", pattern.clone(), false),
        }
    }
}

fn is_plain_key(k: &str) -> bool {
    k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What correlation found: the captures of each call (same order as the calls).
#[derive(Debug, Default)]
pub struct Correlation {
    pub captures: Vec<Vec<Capture>>,
}

impl Correlation {
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.captures.iter().flatten().map(|c| c.var.as_str())
    }
}

/// A place in a response where a value was found. JSON paths are worked out only for the
/// values that are used: a recording's responses hold far more values than its requests send
/// back.
#[derive(Clone, Debug)]
struct Candidate {
    call: usize,
    source: Source,
    number: bool,
    /// Position in the response (the leaf's number for JSON), for preferring the first of
    /// equals.
    order: usize,
}

#[derive(Clone, Debug)]
enum Source {
    /// The JSON leaf numbered `order`.
    Leaf,
    Header(String),
    Cookie(String),
    Html(super::html::Field),
}

impl Candidate {
    fn extractor(&self, calls: &[Call]) -> Extractor {
        match &self.source {
            Source::Leaf => Extractor::Json(
                calls[self.call]
                    .response
                    .as_ref()
                    .and_then(|v| path_of(v, self.order))
                    .unwrap_or_default(),
            ),
            Source::Header(name) => Extractor::Header(name.clone()),
            Source::Cookie(name) => Extractor::Cookie(name.clone()),
            Source::Html(field) => Extractor::Regex {
                name: field.name.clone(),
                pattern: field.pattern.clone(),
            },
        }
    }
}

/// One step of a JSON path while walking a response, borrowing its key.
#[derive(Clone, Copy, Debug)]
enum Walk<'a> {
    Key(&'a str),
    Index { index: usize, len: usize },
}

impl Walk<'_> {
    fn owned(self) -> Step {
        match self {
            Walk::Key(k) => Step::Key(k.to_string()),
            Walk::Index { index, len } => Step::Index { index, len },
        }
    }
}

/// Response headers that carry no value a client sends back.
const STANDARD_HEADERS: &[&str] = &[
    "date",
    "server",
    "vary",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "set-cookie",
    "location",
    "expires",
    "last-modified",
    "age",
    "via",
    "alt-svc",
    "report-to",
    "nel",
    "pragma",
    "link",
    "retry-after",
    "accept-ranges",
    "x-powered-by",
    "x-request-id",
    "x-correlation-id",
    "x-trace-id",
    "traceparent",
];

/// Query and body keys whose numbers are sizes and positions, never ids.
const COUNT_KEYS: &[&str] = &[
    "page",
    "page_size",
    "pagesize",
    "per_page",
    "limit",
    "offset",
    "size",
    "count",
    "skip",
    "take",
    "start",
    "end",
];

/// Most leaves indexed in one response; huge responses beyond that are not searched further.
const MAX_LEAVES: usize = 50_000;

/// Texts at least this long are also found inside a longer value, as a word of it.
const INSIDE_MIN: usize = 16;

/// Finds the correlations in `calls`, puts the variables into the later requests, and returns
/// the captures to add. `reserved` are names variables must not take.
pub fn correlate(calls: &mut [Call], reserved: &[&str]) -> Correlation {
    let atoms: Vec<Vec<String>> = calls.iter_mut().map(Call::atoms).collect();
    let mut known: HashSet<String> = HashSet::new();
    let mut index: HashMap<String, Vec<Candidate>> = HashMap::new();
    let mut bindings: HashMap<(usize, Extractor), String> = HashMap::new();
    let mut namer = Namer::reserving(reserved);
    let mut captures: Vec<Vec<Capture>> = vec![Vec::new(); calls.len()];

    for j in 0..calls.len() {
        // Values this request sends back.
        let (before, rest) = calls.split_at_mut(j);
        let mut state = Bind {
            before,
            bindings: &mut bindings,
            namer: &mut namer,
            captures: &mut captures,
        };
        rest[0].each_slot(&mut |slot, t| {
            let Some(text) = t.as_text() else { return };
            if text.is_empty() {
                return;
            }
            if let Some(cands) = index.get(&text)
                && let Some((call, extractor)) = best(cands, slot, state.before)
            {
                let var = state.var(call, extractor);
                t.replace(&text, &var, true);
                return;
            }
            // A long value (a token) inside a longer one: `Bearer <token>`, an attribute of
            // an XML body. Looked up word by word, the words being what URLs leave unescaped.
            if text.len() > INSIDE_MIN {
                let words: Vec<&str> = text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.~".contains(c)))
                    .chain(std::iter::once(super::secrets::split_scheme(&text).1))
                    .filter(|w| w.len() >= INSIDE_MIN && *w != text)
                    .collect();
                for word in words {
                    if let Some(cands) = index.get(word)
                        && !cands[0].number
                        && let Some((call, extractor)) = best(cands, slot, state.before)
                    {
                        let var = state.var(call, extractor);
                        t.replace(word, &var, false);
                    }
                }
            }
        });

        // What this response gives, unless an earlier one gave it or the client sent it.
        known.extend(atoms[j].iter().cloned());
        let fresh = |text: &str, number: bool| {
            !index.contains_key(text) && (number || !known.contains(text))
        };
        for (text, cand) in values(&calls[j], j, &fresh) {
            index.entry(text).or_default().push(cand);
        }
    }

    keep_items_together(&mut captures);
    Correlation { captures }
}

/// The candidate values of call `j`'s response that `fresh` lets through: JSON leaves, headers
/// and cookies set.
fn values(call: &Call, j: usize, fresh: &dyn Fn(&str, bool) -> bool) -> Vec<(String, Candidate)> {
    let mut found: Vec<(String, Candidate)> = Vec::new();
    let mut add = |text: String, source: Source, number: bool, order: usize| {
        if fresh(&text, number) {
            let cand = Candidate {
                call: j,
                source,
                number,
                order,
            };
            found.push((text, cand));
        }
    };
    if let Some(body) = &call.response {
        leaves(
            body,
            &mut Vec::new(),
            &mut 0,
            &mut |path, value, order| match value {
                Value::Number(n) => {
                    let key = path.iter().rev().find_map(|s| match s {
                        Walk::Key(k) => Some(*k),
                        Walk::Index { .. } => None,
                    });
                    let id = n.as_i64().is_some_and(|i| i.abs() >= 10)
                        || n.as_u64().is_some_and(|u| u >= 10);
                    if id && key.is_some_and(is_id_key) {
                        add(n.to_string(), Source::Leaf, true, order);
                    }
                }
                Value::String(s) if is_candidate_text(s) => {
                    add(s.clone(), Source::Leaf, false, order)
                }
                _ => {}
            },
        );
    }
    for (name, value) in &call.response_headers {
        let lower = name.to_ascii_lowercase();
        let writable = lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let standard = STANDARD_HEADERS.contains(&lower.as_str())
            || [
                "content-",
                "access-control-",
                "cross-origin-",
                "x-ratelimit",
            ]
            .iter()
            .any(|p| lower.starts_with(p));
        let value = value.trim();
        if writable && !standard && is_candidate_text(value) {
            add(
                value.to_string(),
                Source::Header(name.clone()),
                false,
                usize::MAX / 2,
            );
        }
    }
    for (name, value) in &call.set_cookies {
        if is_candidate_text(value) {
            add(
                value.clone(),
                Source::Cookie(name.clone()),
                false,
                usize::MAX,
            );
        }
    }
    if let Some(page) = &call.page {
        for field in super::html::fields(page) {
            if is_candidate_text(&field.value) {
                add(
                    field.value.clone(),
                    Source::Html(field),
                    false,
                    usize::MAX / 4,
                );
            }
        }
    }
    found
}

/// Hands out the variable of a source, adding its capture the first time.
struct Bind<'a> {
    /// The calls before the one being searched: the sources.
    before: &'a [Call],
    bindings: &'a mut HashMap<(usize, Extractor), String>,
    namer: &'a mut Namer,
    captures: &'a mut [Vec<Capture>],
}

impl Bind<'_> {
    fn var(&mut self, call: usize, extractor: Extractor) -> String {
        let key = (call, extractor);
        if let Some(v) = self.bindings.get(&key) {
            return v.clone();
        }
        let v = self.namer.fresh(&var_hint(&self.before[call], &key.1));
        self.captures[call].push(Capture {
            var: v.clone(),
            extractor: key.1.clone(),
            fixed: false,
        });
        self.bindings.insert(key, v.clone());
        v
    }
}

/// A text worth correlating: long enough and specific enough not to match by chance.
fn is_candidate_text(s: &str) -> bool {
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    s.len() >= 6
        && s.len() <= 8192
        && !s.contains(char::is_whitespace)
        && (has_digit || s.len() >= 12)
        && !s.starts_with("http://")
        && !s.starts_with("https://")
        && !s.starts_with('/')
        && !is_date(s)
}

/// `2025-06-02` or a timestamp starting so: computed by clients, not handed out.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// Walks the leaves of a JSON value with their paths, numbering them from 1.
fn leaves<'a>(
    v: &'a Value,
    path: &mut Vec<Walk<'a>>,
    order: &mut usize,
    f: &mut dyn FnMut(&[Walk<'a>], &'a Value, usize),
) {
    if *order >= MAX_LEAVES {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(Walk::Key(k));
                leaves(child, path, order, f);
                path.pop();
            }
        }
        Value::Array(items) => {
            let len = items.len();
            for (index, child) in items.iter().enumerate() {
                path.push(Walk::Index { index, len });
                leaves(child, path, order, f);
                path.pop();
            }
        }
        leaf => {
            *order += 1;
            f(path, leaf, *order);
        }
    }
}

/// The path of the leaf numbered `order`.
fn path_of(v: &Value, order: usize) -> Option<Vec<Step>> {
    let mut found = None;
    leaves(v, &mut Vec::new(), &mut 0, &mut |path, _, o| {
        if o == order {
            found = Some(path.iter().map(|w| w.owned()).collect());
        }
    });
    found
}

/// The best source for a value used in `slot` and how to capture it, or `None` if none fits
/// there (a number where a JSON text is, a text where a JSON number is, a number as a page
/// size).
fn best(cands: &[Candidate], slot: &Slot, calls: &[Call]) -> Option<(usize, Extractor)> {
    let usage = usage_key(slot);
    cands
        .iter()
        .filter(|c| fits(c, slot))
        .map(|c| (c, c.extractor(calls)))
        .min_by_key(|(c, extractor)| {
            let (wildcards, length) = match extractor {
                Extractor::Json(steps) => (
                    steps
                        .iter()
                        .filter(|s| matches!(s, Step::Index { len, .. } if *len > 1))
                        .count(),
                    steps.len(),
                ),
                _ => (0, 1),
            };
            (
                tier(extractor, usage.as_deref()),
                wildcards,
                length,
                c.order,
            )
        })
        .map(|(c, extractor)| (c.call, extractor))
}

fn fits(c: &Candidate, slot: &Slot) -> bool {
    match &slot.kind {
        SlotKind::Json { number: true, .. } => c.number,
        SlotKind::Json { number: false, .. } if c.number => false,
        SlotKind::Query { key } | SlotKind::Form { key } if c.number => {
            !COUNT_KEYS.contains(&key.to_ascii_lowercase().as_str())
        }
        _ => true,
    }
}

/// The name the value is used under: its key, or for a path segment the singular of the
/// segment before it (`project` for `/projects/12/`).
fn usage_key(slot: &Slot) -> Option<String> {
    match &slot.kind {
        SlotKind::Path { previous } => Some(singular(&ident(previous))),
        _ => slot.key().map(|k| ident(&k)),
    }
}

/// How well a source's key matches the use: the same name, then an id of the resource the use
/// names, then any id, then anything else.
fn tier(extractor: &Extractor, usage: Option<&str>) -> u8 {
    let Extractor::Json(steps) = extractor else {
        return 3;
    };
    let keys: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(ident(k)),
            Step::Index { .. } => None,
        })
        .collect();
    let Some(last) = keys.last() else { return 3 };
    if let Some(u) = usage {
        let bare = u.strip_suffix("_id").unwrap_or(u);
        if last == u || *last == format!("{bare}_id") || last == bare {
            return 0;
        }
        let parent = keys.iter().rev().nth(1).map(|p| singular(p));
        if matches!(last.as_str(), "id" | "pk" | "uuid") && parent.as_deref() == Some(bare) {
            return 1;
        }
    }
    if is_id_key(last) { 2 } else { 3 }
}

/// Container keys that say nothing about what their items are.
const GENERIC_KEYS: &[&str] = &[
    "results", "data", "items", "content", "records", "rows", "list", "objects", "entries", "hits",
    "nodes", "edges", "node", "result", "payload", "response", "value", "values",
];

/// The variable's name: the key (`access`), or for an id the thing it identifies
/// (`project_id` for `$.results[*].id` of `GET /projects/`).
fn var_hint(source: &Call, extractor: &Extractor) -> String {
    match extractor {
        Extractor::Header(name) | Extractor::Cookie(name) => ident(name),
        Extractor::Regex { name, .. } => ident(name),
        Extractor::Json(steps) => {
            let keys: Vec<&str> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Key(k) => Some(k.as_str()),
                    Step::Index { .. } => None,
                })
                .collect();
            let Some(last) = keys.last() else {
                return resource(source).unwrap_or_else(|| "value".to_string());
            };
            if matches!(
                last.to_ascii_lowercase().as_str(),
                "id" | "pk" | "uuid" | "guid"
            ) {
                let owner = keys[..keys.len() - 1]
                    .iter()
                    .rev()
                    .find(|k| !GENERIC_KEYS.contains(&k.to_ascii_lowercase().as_str()))
                    .map(|k| singular(&ident(k)))
                    .or_else(|| resource(source));
                match owner {
                    Some(o) => format!("{o}_{}", ident(last)),
                    None => ident(last),
                }
            } else {
                ident(last)
            }
        }
    }
}

/// Captures taking several values from the same list item keep its recorded index, so the
/// values stay from one item (`$.results[3].id` and `$.results[3].slug`) instead of two
/// random ones.
fn keep_items_together(captures: &mut [Vec<Capture>]) {
    for list in captures.iter_mut() {
        let item_of = |c: &Capture| match &c.extractor {
            Extractor::Json(steps) => steps
                .iter()
                .position(|s| matches!(s, Step::Index { len, .. } if *len > 1))
                .map(|i| steps[..=i].to_vec()),
            _ => None,
        };
        let items: Vec<Option<Vec<Step>>> = list.iter().map(item_of).collect();
        for (i, c) in list.iter_mut().enumerate() {
            if let Some(item) = &items[i] {
                c.fixed = items
                    .iter()
                    .enumerate()
                    .any(|(k, other)| k != i && other.as_ref() == Some(item));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::recording::{Body, Json, Piece, Template};

    fn call(method: &str, path: &str, response: Option<Value>) -> Call {
        Call {
            response,
            ..Call::bare(method, path)
        }
    }

    fn var(name: &str) -> Template {
        Template(vec![Piece::Var(name.to_string())])
    }

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl";

    #[test]
    fn a_token_from_a_login_and_an_id_from_a_list() {
        let mut login = call(
            "POST",
            "/api/login/",
            Some(serde_json::json!({"access": JWT, "user": {"id": 7}})),
        );
        login.body = Body::Json(Json::Object(vec![(
            "username".to_string(),
            Json::String(Template::text("alice")),
        )]));
        let mut list = call(
            "GET",
            "/api/projects/",
            Some(serde_json::json!({"count": 57, "results": [{"id": 12}, {"id": 20}]})),
        );
        list.headers = vec![(
            "Authorization".to_string(),
            Template::text(format!("Bearer {JWT}")),
        )];
        let mut detail = call("GET", "/api/projects/20/", None);
        detail.query = vec![("page_size".to_string(), Template::text("20"))];
        let mut calls = vec![login, list, detail];
        let c = correlate(&mut calls, &["credentials"]);

        assert_eq!(c.captures[0].len(), 1);
        assert_eq!(c.captures[0][0].var, "access");
        assert_eq!(
            c.captures[0][0].source(),
            ("jsonpath", "$.access".to_string(), false)
        );
        assert_eq!(
            calls[1].headers[0].1,
            Template(vec![
                Piece::Text("Bearer ".to_string()),
                Piece::Var("access".to_string())
            ])
        );
        assert_eq!(c.captures[1][0].var, "project_id");
        assert_eq!(
            c.captures[1][0].source(),
            ("jsonpath", "$.results[*].id".to_string(), true)
        );
        assert_eq!(calls[2].path[3], var("project_id"));
        // A page size is not an id, even when it is the same number.
        assert_eq!(calls[2].query[0].1, Template::text("20"));
    }

    #[test]
    fn values_the_client_sent_first_are_not_correlated() {
        let mut create = call(
            "POST",
            "/api/tasks/",
            Some(serde_json::json!({"id": 481, "title": "Roof-2024-check"})),
        );
        create.body = Body::Json(Json::Object(vec![(
            "title".to_string(),
            Json::String(Template::text("Roof-2024-check")),
        )]));
        let mut update = call("PATCH", "/api/tasks/481/", None);
        update.body = Body::Json(Json::Object(vec![(
            "title".to_string(),
            Json::String(Template::text("Roof-2024-check")),
        )]));
        let mut calls = vec![create, update];
        let c = correlate(&mut calls, &[]);
        assert_eq!(c.captures[0].len(), 1);
        assert_eq!(c.captures[0][0].var, "task_id");
        assert_eq!(calls[1].path[3], var("task_id"));
        let Body::Json(Json::Object(members)) = &calls[1].body else {
            panic!()
        };
        assert_eq!(
            members[0].1,
            Json::String(Template::text("Roof-2024-check"))
        );
    }

    #[test]
    fn trivial_values_are_ignored() {
        let list = call(
            "GET",
            "/api/items/",
            Some(
                serde_json::json!({"results": [{"id": 1, "name": "roof", "done": true, "code": "ab1"}]}),
            ),
        );
        let mut next = call("GET", "/api/items/1/", None);
        next.query = vec![
            ("name".to_string(), Template::text("roof")),
            ("code".to_string(), Template::text("ab1")),
        ];
        let mut calls = vec![list, next];
        let c = correlate(&mut calls, &[]);
        assert!(c.captures.iter().all(Vec::is_empty), "{:?}", c.captures);
    }

    #[test]
    fn numbers_keep_their_type_and_items_stay_together() {
        let list = call(
            "GET",
            "/api/projects/",
            Some(serde_json::json!({"results": [
                {"id": 11, "slug": "alpha-site-01"},
                {"id": 12, "slug": "beta-site-02"}
            ]})),
        );
        let mut create = call("POST", "/api/projects/beta-site-02/tasks/", None);
        create.body = Body::Json(Json::Object(vec![
            ("project".to_string(), Json::Number(Template::text("12"))),
            ("ref".to_string(), Json::String(Template::text("12"))),
        ]));
        let mut calls = vec![list, create];
        let c = correlate(&mut calls, &[]);
        let sources: Vec<(String, String)> = c.captures[0]
            .iter()
            .map(|cap| (cap.var.clone(), cap.source().1))
            .collect();
        assert_eq!(
            sources,
            vec![
                ("slug".to_string(), "$.results[1].slug".to_string()),
                ("project_id".to_string(), "$.results[1].id".to_string()),
            ]
        );
        let Body::Json(Json::Object(members)) = &calls[1].body else {
            panic!()
        };
        assert_eq!(members[0].1, Json::Number(var("project_id")));
        // A JSON text is never given a number's variable.
        assert_eq!(members[1].1, Json::String(Template::text("12")));
    }

    #[test]
    fn headers_and_cookies_are_sources() {
        let mut form = call("GET", "/login/", None);
        form.set_cookies = vec![("csrftoken".to_string(), "k2Jd8aPq0ZxVb7Lm".to_string())];
        form.response_headers = vec![
            ("ETag".to_string(), "\"v42-abcdef\"".to_string()),
            (
                "Date".to_string(),
                "Mon, 02 Jun 2025 10:00:00 GMT".to_string(),
            ),
        ];
        let mut post = call("POST", "/login/", None);
        post.headers = vec![
            (
                "X-CSRFToken".to_string(),
                Template::text("k2Jd8aPq0ZxVb7Lm"),
            ),
            ("If-Match".to_string(), Template::text("\"v42-abcdef\"")),
        ];
        let mut calls = vec![form, post];
        let c = correlate(&mut calls, &[]);
        let sources: Vec<(&str, String)> = c.captures[0]
            .iter()
            .map(|cap| {
                let (kind, what, _) = cap.source();
                (kind, what)
            })
            .collect();
        assert_eq!(
            sources,
            vec![
                ("cookie", "csrftoken".to_string()),
                ("header", "ETag".to_string())
            ]
        );
        assert_eq!(calls[1].headers[0].1, var("csrftoken"));
        assert_eq!(calls[1].headers[1].1, var("etag"));
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        let cap = Capture {
            var: "x".to_string(),
            extractor: Extractor::Json(vec![
                Step::Key("data".to_string()),
                Step::Key("user-id".to_string()),
                Step::Key("it's".to_string()),
            ]),
            fixed: false,
        };
        assert_eq!(cap.source().1, "$.data['user-id']['it\\'s']");
    }
}
