//! The compiled plan: what the interpreter runs. Everything here has been validated by
//! the compiler, names are resolved to indices (variables, feeds, statistics), JSON paths
//! and regexes are compiled, and each request keeps its span so that runtime errors can
//! point at the file.

use std::sync::Arc;
use std::time::Duration;

use jsonpath_rust::parser::model::JpQuery;
use regex::Regex;
use serde_json::Value;

use crate::metrics::{StatId, StatKey};
use crate::span::Span;
use crate::syntax::ast::{CaptureMode, CompareOp, FeedMode};

pub use crate::metrics::threshold::Threshold;

/// Index of a per-user variable slot.
pub type VarId = u16;
/// Index of a data feed.
pub type FeedId = u16;

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    /// The scenario's own default host; `--host` overrides it.
    pub host: Option<String>,
    pub default_timeout: Duration,
    pub classes: Vec<UserClass>,
    pub feeds: Vec<Feed>,
    /// Names of the per-user variable slots (for messages).
    pub variables: Vec<String>,
    /// How many requests the plan has (see `Request::index`).
    pub request_count: usize,
    /// The statistics table: one entry per (method, name).
    pub stats: Vec<StatKey>,
    pub thresholds: Vec<Threshold>,
    pub load: LoadProfile,
    /// Files the scenario reads (data feeds, multipart files), relative to it, as written:
    /// what must travel with it (a Kubernetes ConfigMap).
    pub files: Vec<String>,
    /// By `VarId`: the variable's values are secrets, never printed (used in an
    /// Authorization or Cookie header, or marked `secret`).
    pub secret_vars: Vec<bool>,
    /// Secrets written in the file (a `let secret` value, a password in a URL, a secret
    /// header written out): masked from the start of a run, in the source copied into
    /// reports too.
    pub secret_literals: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct LoadProfile {
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Duration>,
    pub stop_timeout: Option<Duration>,
    pub stages: Vec<Stage>,
    pub arrival: Option<Arrival>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Change the user count linearly to `to` over `over`.
    Ramp {
        to: u32,
        over: Duration,
    },
    Hold(Duration),
}

/// The open model: start `rate` iterations per second whatever the server does, with at
/// most `max_users` users busy at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub rate: f64,
    pub max_users: u32,
}

#[derive(Debug)]
pub struct Feed {
    pub name: String,
    pub mode: FeedMode,
    pub path: String,
    pub columns: Vec<String>,
    /// Every value a user draws is a secret (see `redact`).
    pub rows: Arc<Vec<Vec<String>>>,
}

#[derive(Debug)]
pub struct UserClass {
    pub name: String,
    pub weight: u32,
    pub fixed_count: Option<u32>,
    pub tags: Vec<String>,
    pub wait: WaitTime,
    pub host: Option<Template>,
    pub headers: Vec<HeaderTemplate>,
    /// Scenario and class `let`s, evaluated once when a user starts.
    pub lets: Vec<(VarId, Expr)>,
    pub feeds: Vec<FeedId>,
    pub on_start: Vec<Step>,
    pub on_stop: Vec<Step>,
    pub tasks: Vec<Task>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitTime {
    Between(Duration, Duration),
    Constant(Duration),
    /// Locust's constant_pacing: the task plus its wait take this long.
    Pacing(Duration),
    /// Locust's constant_throughput: tasks per second per user (pacing of 1/n).
    Throughput(f64),
}

#[derive(Debug)]
pub struct Task {
    pub name: String,
    pub weight: u32,
    pub tags: Vec<String>,
    pub body: TaskBody,
    pub span: Span,
}

#[derive(Debug)]
pub enum TaskBody {
    Steps(Vec<Step>),
    /// Locust's SequentialTaskSet: the inner tasks in order, waiting between them.
    Sequence(Vec<(String, Vec<Step>)>),
}

#[derive(Debug)]
pub enum Step {
    Let(VarId, Expr),
    Sleep(Sleep),
    /// `if`: the steps of the branch the condition picks (an `else if` is an `If` alone in
    /// `otherwise`).
    If(Box<If>),
    /// `repeat N { ... }`: the steps N times in a row.
    Repeat(u32, Vec<Step>),
    Request(Box<Request>),
}

#[derive(Debug)]
pub struct If {
    pub condition: Condition,
    pub then: Vec<Step>,
    pub otherwise: Vec<Step>,
}

/// What an `if` tests: a value's truthiness, or a check's predicate on the value.
#[derive(Debug)]
pub struct Condition {
    pub value: Expr,
    pub test: ConditionTest,
    /// As written, for the plan review.
    pub source: String,
    pub span: Span,
}

#[derive(Debug)]
pub enum ConditionTest {
    /// `if {{ x }}` (or `if not {{ x }}` when negated): false for null, false, 0, empty
    /// text, an empty list or object, and a variable that has no value yet.
    Truthy {
        negated: bool,
    },
    Predicate(Predicate),
}

#[derive(Debug, Clone, Copy)]
pub enum Sleep {
    Fixed(Duration),
    Between(Duration, Duration),
}

#[derive(Debug, Clone)]
pub struct HeaderTemplate {
    pub name: reqwest::header::HeaderName,
    pub value: Template,
    /// Authorization, Cookie and similar: never shown in logs or reports.
    pub secret: bool,
}

#[derive(Debug)]
pub struct Request {
    /// Position among the plan's requests (indexes per-user caches).
    pub index: usize,
    pub method: reqwest::Method,
    pub url: Template,
    pub stat: StatId,
    /// Its class's, task's and own tags (`--exclude-tags` leaves out a request with any).
    pub tags: Vec<String>,
    pub headers: Vec<HeaderTemplate>,
    pub query: Vec<(String, Template)>,
    pub body: Body,
    pub timeout: Option<Duration>,
    pub redirects: Option<bool>,
    pub checks: Vec<Check>,
    pub captures: Vec<Capture>,
    pub span: Span,
    /// `line:column` of the request, for runtime messages.
    pub line: String,
    /// Whether the response body must be read as JSON (a JSON path check or capture).
    pub needs_json: bool,
    /// What of the JSON body those checks and captures read: only that is built as values
    /// (`runtime::json`).
    pub json_shape: JsonShape,
}

/// The parts of a JSON document a set of JSON paths can reach, as a tree: reading a
/// response into values only where the request's paths look makes the common case (`$.id`,
/// `$.results[*].id` on a page of objects) a fraction of the allocations of the whole
/// document, with the same results for those paths.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JsonShape {
    /// The whole value is needed (a path ends here, or a filter or `..` looks anywhere).
    pub whole: bool,
    /// Only whether the value is there and not null (an `exists` check ends here).
    pub present: bool,
    /// Object members by name.
    pub keys: Vec<(String, JsonShape)>,
    /// Every member of an object (`*`); already merged into `keys`.
    pub members: Option<Box<JsonShape>>,
    /// Every element of an array (`*`, an index, a slice).
    pub items: Option<Box<JsonShape>>,
}

impl JsonShape {
    /// Adds what `query` reads; `presence`: the value it ends at is only tested for
    /// existence (a positive `exists` check).
    pub fn add(&mut self, query: &JpQuery, presence: bool) {
        self.add_segments(&query.segments, presence);
        self.settle();
    }

    fn add_segments(&mut self, segments: &[jsonpath_rust::parser::model::Segment], presence: bool) {
        use jsonpath_rust::parser::model::Segment;
        if self.whole {
            return;
        }
        let Some((first, rest)) = segments.split_first() else {
            if presence {
                self.present = true;
            } else {
                self.whole = true;
            }
            return;
        };
        match first {
            Segment::Descendant(_) => self.whole = true,
            Segment::Selector(s) => self.add_selector(s, rest, presence),
            Segment::Selectors(list) => {
                for s in list {
                    self.add_selector(s, rest, presence);
                }
            }
        }
    }

    fn add_selector(
        &mut self,
        selector: &jsonpath_rust::parser::model::Selector,
        rest: &[jsonpath_rust::parser::model::Segment],
        presence: bool,
    ) {
        use jsonpath_rust::parser::model::Selector;
        match selector {
            Selector::Name(name) => {
                let at = match self.keys.iter().position(|(k, _)| k == name) {
                    Some(at) => at,
                    None => {
                        self.keys.push((name.clone(), JsonShape::default()));
                        self.keys.len() - 1
                    }
                };
                self.keys[at].1.add_segments(rest, presence);
            }
            Selector::Wildcard => {
                self.members
                    .get_or_insert_default()
                    .add_segments(rest, presence);
                self.items
                    .get_or_insert_default()
                    .add_segments(rest, presence);
            }
            Selector::Index(_) | Selector::Slice(..) => {
                self.items
                    .get_or_insert_default()
                    .add_segments(rest, presence);
            }
            // A filter reads the children it tests anywhere below them.
            Selector::Filter(_) => self.whole = true,
        }
    }

    /// Merges `other` into this shape.
    fn merge(&mut self, other: &JsonShape) {
        self.whole |= other.whole;
        self.present |= other.present;
        for (name, shape) in &other.keys {
            match self.keys.iter_mut().find(|(k, _)| k == name) {
                Some((_, mine)) => mine.merge(shape),
                None => self.keys.push((name.clone(), shape.clone())),
            }
        }
        if let Some(m) = &other.members {
            self.members.get_or_insert_default().merge(m);
        }
        if let Some(i) = &other.items {
            self.items.get_or_insert_default().merge(i);
        }
    }

    /// Folds `members` into each named key (a name is also a member), below as well, and
    /// drops what a `whole` makes moot.
    fn settle(&mut self) {
        if self.whole {
            self.present = false;
            self.keys.clear();
            self.members = None;
            self.items = None;
            return;
        }
        if let Some(m) = self.members.as_deref_mut() {
            m.settle();
        }
        if let Some(i) = self.items.as_deref_mut() {
            i.settle();
        }
        let members = self.members.clone();
        for (_, shape) in &mut self.keys {
            if let Some(m) = &members {
                shape.merge(m);
            }
            shape.settle();
        }
    }
}

#[derive(Debug)]
pub enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
    Multipart(Vec<Part>),
    Raw {
        content: Template,
        content_type: Option<String>,
    },
}

#[derive(Debug)]
pub enum Part {
    Field {
        name: String,
        value: Template,
    },
    File {
        name: String,
        file_name: String,
        bytes: bytes::Bytes,
        content_type: Option<String>,
    },
    /// Generated bytes of a given size (random content, made once).
    Generated {
        name: String,
        file_name: String,
        bytes: bytes::Bytes,
        content_type: Option<String>,
    },
}

#[derive(Debug)]
pub enum JsonTemplate {
    /// A part with no interpolation, built once.
    Static(Value),
    Object(Vec<(Template, JsonTemplate)>),
    Array(Vec<JsonTemplate>),
    /// `"text {{ x }}"`: always a string.
    Text(Template),
    /// `{{ x }}` standing alone: keeps the type of x.
    Typed(Expr),
}

#[derive(Debug)]
pub struct Check {
    pub kind: CheckKind,
    /// The check as written, to name it when it fails.
    pub source: String,
    /// Where the compared value starts in `source`, when it has an interpolation: a failed
    /// check is named with the value it was compared with (`== 7`, not `== {{ id }}`).
    /// Never for a value that is a secret.
    pub operand_at: Option<usize>,
    /// The check compares with a secret or looks at a secret header: a failure shows what
    /// was found as `***` (see `compile::secret`).
    pub secret: bool,
}

#[derive(Debug)]
pub enum CheckKind {
    Status(Vec<(u16, u16)>),
    Header {
        name: reqwest::header::HeaderName,
        predicate: Predicate,
    },
    JsonPath {
        query: Box<JpQuery>,
        predicate: Predicate,
    },
    Body {
        predicate: Predicate,
    },
    Duration {
        op: CompareOp,
        bound: Duration,
    },
}

#[derive(Debug)]
pub struct Predicate {
    pub negated: bool,
    pub kind: PredicateKind,
}

#[derive(Debug)]
pub enum PredicateKind {
    Exists,
    Contains(Expr),
    Matches(Regex),
    Compare(CompareOp, Expr),
}

#[derive(Debug)]
pub struct Capture {
    pub var: VarId,
    pub source: CaptureSource,
    pub source_text: String,
}

#[derive(Debug)]
pub enum CaptureSource {
    JsonPath {
        query: Box<JpQuery>,
        mode: CaptureMode,
    },
    Header(reqwest::header::HeaderName),
    Cookie(String),
    Regex(Regex),
}

/// A string with interpolations, pre-split at compile time.
#[derive(Debug, Clone)]
pub struct Template {
    pub segments: Vec<Segment>,
    /// As written, for statistics names and messages.
    pub source: String,
}

/// A URL as written with any `user:password@` left out (`http://u:p@host/x` →
/// `http://host/x`), for names and messages. Works on templates too, where the URL is not
/// yet a URL: only the text between `://` and the first `/`, `?` or `#` after it is looked at.
pub fn without_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub enum Segment {
    Text(String),
    Expr(Expr),
}

impl Template {
    pub fn literal(text: impl Into<String>) -> Template {
        let text = text.into();
        Template {
            source: text.clone(),
            segments: vec![Segment::Text(text)],
        }
    }

    /// The text if there is no interpolation.
    pub fn as_literal(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// The text if there is no interpolation, also when it is split in several segments.
    pub fn as_literal_joined(&self) -> Option<String> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => Some(t.as_str()),
                Segment::Expr(_) => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub enum Expr {
    Literal(Value),
    Var(VarId),
    FeedColumn { feed: FeedId, column: usize },
    Call(Function, Vec<Expr>),
    List(Vec<Expr>),
    Template(Box<Template>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Env,
    RandomInt,
    Choice,
    Uuid,
    Now,
    RandomString,
    Seq,
    UserSeq,
    UserId,
    Base64,
    UrlEncode,
}

/// What each function accepts, for the compiler's checks and the docs.
pub struct FunctionSpec {
    pub name: &'static str,
    pub function: Function,
    pub min_args: usize,
    pub max_args: Option<usize>,
    pub signature: &'static str,
}

pub const FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec {
        name: "env",
        function: Function::Env,
        min_args: 1,
        max_args: Some(2),
        signature: "env(\"NAME\", \"default\")",
    },
    FunctionSpec {
        name: "random_int",
        function: Function::RandomInt,
        min_args: 2,
        max_args: Some(2),
        signature: "random_int(min, max)",
    },
    FunctionSpec {
        name: "choice",
        function: Function::Choice,
        min_args: 1,
        max_args: None,
        signature: "choice(a, b, ...) or choice(list)",
    },
    FunctionSpec {
        name: "uuid",
        function: Function::Uuid,
        min_args: 0,
        max_args: Some(0),
        signature: "uuid()",
    },
    FunctionSpec {
        name: "now",
        function: Function::Now,
        min_args: 0,
        max_args: Some(1),
        signature: "now(\"%Y-%m-%d\")",
    },
    FunctionSpec {
        name: "random_string",
        function: Function::RandomString,
        min_args: 1,
        max_args: Some(1),
        signature: "random_string(length)",
    },
    FunctionSpec {
        name: "seq",
        function: Function::Seq,
        min_args: 0,
        max_args: Some(0),
        signature: "seq()",
    },
    FunctionSpec {
        name: "user_seq",
        function: Function::UserSeq,
        min_args: 0,
        max_args: Some(0),
        signature: "user_seq()",
    },
    FunctionSpec {
        name: "user_id",
        function: Function::UserId,
        min_args: 0,
        max_args: Some(0),
        signature: "user_id()",
    },
    FunctionSpec {
        name: "base64",
        function: Function::Base64,
        min_args: 1,
        max_args: Some(1),
        signature: "base64(\"text\")",
    },
    FunctionSpec {
        name: "url_encode",
        function: Function::UrlEncode,
        min_args: 1,
        max_args: Some(1),
        signature: "url_encode(\"text\")",
    },
];

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn credentials_are_left_out_of_urls() {
        let cases = [
            ("http://u:p@h:8000/x?a=b@c", "http://h:8000/x?a=b@c"),
            ("https://user@h/", "https://h/"),
            ("http://{{ u }}:{{ p }}@h/x", "http://h/x"),
            ("http://h/x@y", "http://h/x@y"),
            ("/api/v1/?mail=a@b", "/api/v1/?mail=a@b"),
            ("http://a:b@c@h", "http://h"),
        ];
        for (url, expected) in cases {
            assert_eq!(without_credentials(url), expected, "{url}");
        }
    }
}
