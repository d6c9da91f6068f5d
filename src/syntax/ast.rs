//! The syntax tree of a `.kload` file: what was written, with byte spans, before any
//! validation. No pest types and no borrowed source text live here.
//!
//! Spans compare by position; [`File::same_meaning`] compares two trees by what they say,
//! wherever it stands in the file (the formatter's tests use it).

pub use crate::span::Span;

/// A name as written: a class, task, variable, header or metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A number with an optional unit (`10`, `2.5`, `30s`, `1h30m`, `200KB`, `1%`, `20/s`),
/// kept as text: the compiler decides what it may mean where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub text: String,
    pub span: Span,
}

/// A quoted string with `{{ expr }}` interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text exactly as written, escapes not yet decoded (the formatter prints it
    /// back verbatim; the compiler decodes it).
    Text {
        raw: String,
        span: Span,
    },
    Expr(Expr),
}

impl Template {
    /// The literal text if the template has no interpolation, escapes decoded.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text { raw, .. } => out.push_str(&unescape(raw)),
                TemplatePart::Expr(_) => return None,
            }
        }
        Some(out)
    }
}

/// Decodes the escapes the grammar allows in string text.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Call {
        name: Ident,
        args: Vec<Expr>,
        span: Span,
    },
    List {
        items: Vec<Expr>,
        span: Span,
    },
    Str(Template),
    Bool {
        value: bool,
        span: Span,
    },
    Null {
        span: Span,
    },
    Number(Quantity),
    /// `token` or `accounts.username`.
    Var {
        path: Vec<Ident>,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Call { span, .. }
            | Expr::List { span, .. }
            | Expr::Bool { span, .. }
            | Expr::Null { span }
            | Expr::Var { span, .. } => *span,
            Expr::Str(t) => t.span,
            Expr::Number(q) => q.span,
        }
    }
}

/// A scalar where a value is written: header and query values, check operands.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Template),
    /// A bare `{{ expr }}`, which keeps the expression's type.
    Interp {
        expr: Expr,
        span: Span,
    },
    Bool {
        value: bool,
        span: Span,
    },
    Null {
        span: Span,
    },
    Number(Quantity),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(t) => t.span,
            Value::Interp { span, .. } | Value::Bool { span, .. } | Value::Null { span } => *span,
            Value::Number(q) => q.span,
        }
    }
}

/// A JSON body as written, with interpolations.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Object {
        members: Vec<(Template, Json)>,
        span: Span,
    },
    Array {
        items: Vec<Json>,
        span: Span,
    },
    Scalar(Value),
}

impl Json {
    pub fn span(&self) -> Span {
        match self {
            Json::Object { span, .. } | Json::Array { span, .. } => *span,
            Json::Scalar(v) => v.span(),
        }
    }
}

/// A parsed file: its items in order and every comment with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

impl File {
    /// Whether two trees say the same thing, wherever it stands in the file: equal once
    /// every span is left out (the formatter must never change what a file means).
    pub fn same_meaning(&self, other: &File) -> bool {
        without_spans(&format!("{self:?}")) == without_spans(&format!("{other:?}"))
    }
}

/// Debug output with every span (`@start..end`, see `Span`'s `Debug`) removed.
fn without_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let a = digits(after);
        let span_len = if a > 0 && after[a..].starts_with("..") {
            let b = digits(&after[a + 2..]);
            (b > 0).then_some(a + 2 + b)
        } else {
            None
        };
        match span_len {
            Some(n) => rest = &after[n..],
            None => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    /// The text after `#`, as written.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Scenario(Scenario),
    Data(DataDecl),
    Load(LoadBlock),
    User(UserClass),
    Thresholds(ThresholdsBlock),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Scenario(s) => s.span,
            Item::Data(d) => d.span,
            Item::Load(l) => l.span,
            Item::User(u) => u.span,
            Item::Thresholds(t) => t.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: Template,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// Settings shared by the scenario, user classes and (some of them) requests.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    Host { url: Template, span: Span },
    Timeout { value: Quantity, span: Span },
    Wait(Wait),
    Header(Header),
    Auth(Auth),
    Let(Let),
}

impl Setting {
    pub fn span(&self) -> Span {
        match self {
            Setting::Host { span, .. } | Setting::Timeout { span, .. } => *span,
            Setting::Wait(w) => w.span,
            Setting::Header(h) => h.span,
            Setting::Auth(a) => a.span,
            Setting::Let(l) => l.span,
        }
    }
}

/// `auth basic USER PASSWORD` or `auth bearer TOKEN` in the scenario, a class or a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Auth {
    pub kind: AuthKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthKind {
    Basic { user: Value, password: Value },
    Bearer { token: Value },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Wait {
    pub kind: WaitKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WaitKind {
    Between(Quantity, Quantity),
    Constant(Quantity),
    Pacing(Quantity),
    Throughput(Quantity),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub name: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// `let secret NAME`: the span of `secret`; the variable's values are never printed.
    pub secret: Option<Span>,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedMode {
    Unique,
    Cycle,
    Random,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub name: Ident,
    pub path: Template,
    pub mode: Option<(FeedMode, Span)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadBlock {
    pub settings: Vec<LoadSetting>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKey {
    Users,
    SpawnRate,
    RunTime,
    StopTimeout,
    ArrivalRate,
    MaxUsers,
}

impl LoadKey {
    pub fn keyword(self) -> &'static str {
        match self {
            LoadKey::Users => "users",
            LoadKey::SpawnRate => "spawn_rate",
            LoadKey::RunTime => "run_time",
            LoadKey::StopTimeout => "stop_timeout",
            LoadKey::ArrivalRate => "arrival_rate",
            LoadKey::MaxUsers => "max_users",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum LoadSetting {
    Value {
        key: LoadKey,
        value: Quantity,
        span: Span,
    },
    Stages {
        stages: Vec<Stage>,
        span: Span,
    },
}

impl LoadSetting {
    pub fn span(&self) -> Span {
        match self {
            LoadSetting::Value { span, .. } | LoadSetting::Stages { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    Ramp {
        to: Quantity,
        over: Quantity,
        span: Span,
    },
    Hold {
        duration: Quantity,
        span: Span,
    },
}

impl Stage {
    pub fn span(&self) -> Span {
        match self {
            Stage::Ramp { span, .. } | Stage::Hold { span, .. } => *span,
        }
    }
}

/// `weight 10`, `count 2`, `tags list, read` on a user class, task or sequence.
#[derive(Clone, Debug, PartialEq)]
pub enum ClassOption {
    Weight { value: Quantity, span: Span },
    Count { value: Quantity, span: Span },
    Tags { tags: Vec<Ident>, span: Span },
}

impl ClassOption {
    pub fn span(&self) -> Span {
        match self {
            ClassOption::Weight { span, .. }
            | ClassOption::Count { span, .. }
            | ClassOption::Tags { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserClass {
    pub name: Ident,
    pub options: Vec<ClassOption>,
    pub items: Vec<UserItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UserItem {
    Setting(Setting),
    OnStart(Block),
    OnStop(Block),
    Task(Task),
    Sequence(Sequence),
}

impl UserItem {
    pub fn span(&self) -> Span {
        match self {
            UserItem::Setting(s) => s.span(),
            UserItem::OnStart(b) | UserItem::OnStop(b) => b.span,
            UserItem::Task(t) => t.span,
            UserItem::Sequence(s) => s.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub name: Ident,
    pub options: Vec<ClassOption>,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub name: Ident,
    pub options: Vec<ClassOption>,
    pub tasks: Vec<Task>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Let(Let),
    Sleep(Sleep),
    If(Box<If>),
    Repeat(Repeat),
    Request(Request),
}

impl Step {
    pub fn span(&self) -> Span {
        match self {
            Step::Let(l) => l.span,
            Step::Sleep(s) => s.span,
            Step::If(i) => i.span,
            Step::Repeat(r) => r.span,
            Step::Request(r) => r.span,
        }
    }
}

/// `if CONDITION { ... }`, optionally followed by `else { ... }` or `else if ...`.
#[derive(Clone, Debug, PartialEq)]
pub struct If {
    pub condition: Condition,
    /// The steps in braces; the block's span covers the braces.
    pub then: Block,
    pub otherwise: Option<Else>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Else {
    If(Box<If>),
    Block(Block),
}

/// `{{ ids }}`, `not {{ ids }}`, or a value with a check's predicate: `{{ count }} > 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// `not VALUE`: the value's truthiness, negated.
    pub negated: bool,
    pub value: Value,
    pub predicate: Option<Predicate>,
    pub span: Span,
}

/// `repeat 3 { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Repeat {
    pub count: Quantity,
    /// The steps in braces; the block's span covers the braces.
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sleep {
    pub kind: SleepKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SleepKind {
    Fixed(Quantity),
    Between(Quantity, Quantity),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Ident,
    pub url: Template,
    /// `None` when written without a `{ ... }` block.
    pub items: Option<Vec<RequestItem>>,
    pub span: Span,
}

/// A query parameter, form field or multipart field name.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamName {
    Word(Ident),
    Quoted(Template),
}

impl ParamName {
    pub fn span(&self) -> Span {
        match self {
            ParamName::Word(i) => i.span,
            ParamName::Quoted(t) => t.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: ParamName,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Field(Param),
    File {
        name: ParamName,
        path: Template,
        content_type: Option<Template>,
        span: Span,
    },
    Bytes {
        name: ParamName,
        size: Quantity,
        filename: Template,
        content_type: Option<Template>,
        span: Span,
    },
}

impl Part {
    pub fn span(&self) -> Span {
        match self {
            Part::Field(p) => p.span,
            Part::File { span, .. } | Part::Bytes { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RequestItem {
    Name {
        name: Template,
        span: Span,
    },
    Header(Header),
    Auth(Auth),
    Query(Param),
    Json {
        body: Json,
        span: Span,
    },
    Form {
        fields: Vec<Param>,
        span: Span,
    },
    Multipart {
        parts: Vec<Part>,
        span: Span,
    },
    Body {
        content: Template,
        content_type: Option<Template>,
        span: Span,
    },
    Timeout {
        value: Quantity,
        span: Span,
    },
    Redirects {
        follow: bool,
        span: Span,
    },
    Tags {
        tags: Vec<Ident>,
        span: Span,
    },
    Check(Check),
    Capture(Capture),
}

impl RequestItem {
    pub fn span(&self) -> Span {
        match self {
            RequestItem::Name { span, .. }
            | RequestItem::Json { span, .. }
            | RequestItem::Form { span, .. }
            | RequestItem::Multipart { span, .. }
            | RequestItem::Body { span, .. }
            | RequestItem::Timeout { span, .. }
            | RequestItem::Redirects { span, .. }
            | RequestItem::Tags { span, .. } => *span,
            RequestItem::Header(h) => h.span,
            RequestItem::Auth(a) => a.span,
            RequestItem::Query(p) => p.span,
            RequestItem::Check(c) => c.span,
            RequestItem::Capture(c) => c.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatusItem {
    Code(Quantity),
    Range(Quantity, Quantity),
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckKind {
    /// `status 200`, `status 200..299` or `status in [200, 201]` (`list` tells which was written).
    Status {
        items: Vec<StatusItem>,
        list: bool,
    },
    Header {
        name: Ident,
        predicate: Predicate,
    },
    JsonPath {
        path: Template,
        predicate: Predicate,
    },
    Body {
        predicate: Predicate,
    },
    Duration {
        op: CompareOp,
        op_span: Span,
        bound: Quantity,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    pub negated: bool,
    pub kind: PredicateKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PredicateKind {
    Exists,
    Contains(Value),
    Matches(Template),
    Compare { op: CompareOp, value: Value },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureMode {
    First,
    All,
    Random,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    /// `capture secret NAME`: the span of `secret`; the variable's values are never printed.
    pub secret: Option<Span>,
    pub name: Ident,
    pub source: CaptureSource,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CaptureSource {
    JsonPath {
        path: Template,
        mode: Option<CaptureMode>,
    },
    Header {
        name: Ident,
    },
    Cookie {
        name: ParamName,
    },
    Regex {
        pattern: Template,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdsBlock {
    pub thresholds: Vec<Threshold>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Selector {
    Tag(Ident),
    Name(Template),
    /// `p95(/api/v1/projects/)`, the unquoted form used on the command line.
    Bare(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub metric: Ident,
    pub selector: Option<Selector>,
    pub op: CompareOp,
    pub op_span: Span,
    pub value: Quantity,
    pub warn: bool,
    /// `optional`: no data passes (shown as skipped) instead of failing.
    pub optional: bool,
    pub abort_after: Option<Quantity>,
    pub span: Span,
}
