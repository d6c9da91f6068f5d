//! The names of a scenario and every place they stand: variables (`let`, `capture`), data
//! feeds and their columns, tags, request names and function calls, each occurrence a
//! definition or a use. Go to definition, references, rename, hover and completion all
//! read this one index.
//!
//! Variables belong to a user class: a use in a class means the class's own `let` or
//! `capture` of that name, or else the scenario's `let`. Feeds, columns, tags and request
//! names belong to the whole file.

use crate::span::Span;
use crate::syntax::ast::{self, Expr, Item, Json, RequestItem, Setting, Step, Template, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Variable,
    Feed,
    /// `feed.column`; its definition is the CSV file's header.
    Column,
    Tag,
    /// The name a request is reported under (its `name`, or its URL as written).
    RequestName,
    Function,
}

/// Which user class a variable belongs to; `None` for the scenario's.
pub type Scope = Option<usize>;

#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub kind: SymbolKind,
    /// As written; a column is `feed.column`.
    pub name: String,
    pub scope: Scope,
}

/// Where a variable is set, which decides where it can be read (as the compiler does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefPlace {
    /// A `let` among the scenario's or a class's settings.
    Setting,
    /// A step of the `on start` block with this span: seen by the steps after it only.
    OnStart(Span),
    /// A step of a task, sequence or `on stop`: seen in the whole class.
    Step,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub symbol: usize,
    pub span: Span,
    pub definition: bool,
    pub place: DefPlace,
    /// The statement it stands in (`let api = "/v1"`, `data accounts from "a.csv"`).
    pub statement: Span,
}

/// A data feed's declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Feed {
    pub name: String,
    /// The CSV path as written (relative to the scenario), when it has no `{{ }}`.
    pub path: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    /// Sorted by position.
    pub occurrences: Vec<Occurrence>,
    pub feeds: Vec<Feed>,
    /// The span of each user class, by scope number.
    pub classes: Vec<Span>,
    /// The spans of the `on start` blocks.
    pub on_starts: Vec<Span>,
}

impl Index {
    pub fn build(file: &ast::File) -> Index {
        let mut b = Builder::default();
        b.file(file);
        b.finish()
    }

    /// The occurrence under (or just before) the cursor.
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.span.start <= offset && offset <= o.span.end && !o.span.is_empty())
    }

    pub fn symbol(&self, o: &Occurrence) -> &Symbol {
        &self.symbols[o.symbol]
    }

    pub fn occurrences_of(&self, symbol: usize) -> impl Iterator<Item = &Occurrence> {
        self.occurrences.iter().filter(move |o| o.symbol == symbol)
    }

    pub fn definitions_of(&self, symbol: usize) -> impl Iterator<Item = &Occurrence> {
        self.occurrences_of(symbol).filter(|o| o.definition)
    }

    /// The user class that holds `offset`, if any.
    pub fn scope_at(&self, offset: usize) -> Scope {
        self.classes.iter().position(|c| c.contains(offset))
    }

    /// Names of one kind, each once, in order of first appearance; variables only those
    /// visible in `scope` (its own and the scenario's).
    pub fn names(&self, kind: SymbolKind, scope: Scope) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (id, s) in self.symbols.iter().enumerate() {
            let variable = kind == SymbolKind::Variable;
            let visible = !variable
                || ((s.scope.is_none() || s.scope == scope)
                    && self.definitions_of(id).next().is_some());
            if s.kind == kind && visible && !out.contains(&s.name.as_str()) {
                out.push(&s.name);
            }
        }
        out
    }

    /// The variables a use at `offset` may read, by the compiler's rules: in a class, the
    /// scenario's and the class's; in `on start`, only the settings' and what the block
    /// itself set before `offset`.
    pub fn variables_at(&self, offset: usize) -> Vec<&str> {
        let scope = self.scope_at(offset);
        let on_start = self.on_starts.iter().find(|b| b.contains(offset)).copied();
        let mut out: Vec<&str> = Vec::new();
        for (id, s) in self.symbols.iter().enumerate() {
            if s.kind != SymbolKind::Variable || (s.scope.is_some() && s.scope != scope) {
                continue;
            }
            let visible = self.definitions_of(id).any(|d| match (on_start, d.place) {
                (None, _) | (_, DefPlace::Setting) => true,
                (Some(block), DefPlace::OnStart(b)) => b == block && d.span.start < offset,
                (Some(_), _) => false,
            });
            if visible && !out.contains(&s.name.as_str()) {
                out.push(&s.name);
            }
        }
        out
    }

    pub fn feed(&self, name: &str) -> Option<&Feed> {
        self.feeds.iter().find(|f| f.name == name)
    }
}

/// An occurrence before its symbol is known: variables are resolved once every class's
/// definitions are collected.
struct Raw {
    kind: SymbolKind,
    name: String,
    class: Scope,
    span: Span,
    definition: bool,
    statement: Span,
    place: DefPlace,
}

struct Builder {
    raw: Vec<Raw>,
    feeds: Vec<Feed>,
    classes: Vec<Span>,
    on_starts: Vec<Span>,
    class: Scope,
    statement: Span,
    place: DefPlace,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            raw: Vec::new(),
            feeds: Vec::new(),
            classes: Vec::new(),
            on_starts: Vec::new(),
            class: None,
            statement: Span::default(),
            place: DefPlace::Setting,
        }
    }
}

impl Builder {
    fn add(&mut self, kind: SymbolKind, name: &str, span: Span, definition: bool) {
        self.raw.push(Raw {
            kind,
            name: name.to_string(),
            class: self.class,
            span,
            definition,
            statement: self.statement,
            place: self.place,
        });
    }

    fn finish(self) -> Index {
        let mut index = Index {
            feeds: self.feeds,
            classes: self.classes,
            on_starts: self.on_starts,
            ..Index::default()
        };
        let defined = |name: &str, scope: Scope| {
            self.raw.iter().any(|r| {
                r.kind == SymbolKind::Variable && r.definition && r.class == scope && r.name == name
            })
        };
        for r in &self.raw {
            let scope = match r.kind {
                SymbolKind::Variable if r.definition => r.class,
                // A use means the class's own variable, else the scenario's; one that
                // nothing defines stays with its class.
                SymbolKind::Variable if r.class.is_some() && defined(&r.name, r.class) => r.class,
                SymbolKind::Variable if defined(&r.name, None) => None,
                SymbolKind::Variable => r.class,
                _ => None,
            };
            let symbol = Symbol {
                kind: r.kind,
                name: r.name.clone(),
                scope,
            };
            let id = match index.symbols.iter().position(|s| *s == symbol) {
                Some(id) => id,
                None => {
                    index.symbols.push(symbol);
                    index.symbols.len() - 1
                }
            };
            index.occurrences.push(Occurrence {
                symbol: id,
                span: r.span,
                definition: r.definition,
                statement: r.statement,
                place: r.place,
            });
        }
        index
            .occurrences
            .sort_by_key(|o| (o.span.start, o.span.end));
        index
    }

    fn file(&mut self, file: &ast::File) {
        for item in &file.items {
            self.statement = item.span();
            match item {
                Item::Scenario(s) => {
                    self.class = None;
                    self.settings(&s.settings);
                }
                Item::Data(d) => {
                    self.feeds.push(Feed {
                        name: d.name.name.clone(),
                        path: d.path.literal(),
                    });
                    self.add(SymbolKind::Feed, &d.name.name, d.name.span, true);
                }
                Item::Load(_) => {}
                Item::User(u) => {
                    self.class = Some(self.classes.len());
                    self.classes.push(u.span);
                    self.options(&u.options);
                    for item in &u.items {
                        self.statement = item.span();
                        match item {
                            ast::UserItem::Setting(s) => {
                                self.place = DefPlace::Setting;
                                self.settings(std::slice::from_ref(s))
                            }
                            ast::UserItem::OnStart(b) => {
                                self.on_starts.push(b.span);
                                self.place = DefPlace::OnStart(b.span);
                                self.steps(&b.steps)
                            }
                            ast::UserItem::OnStop(b) => {
                                self.place = DefPlace::Step;
                                self.steps(&b.steps)
                            }
                            ast::UserItem::Task(t) => {
                                self.place = DefPlace::Step;
                                self.task(t)
                            }
                            ast::UserItem::Sequence(s) => {
                                self.place = DefPlace::Step;
                                self.options(&s.options);
                                for t in &s.tasks {
                                    self.task(t);
                                }
                            }
                        }
                    }
                    self.class = None;
                    self.place = DefPlace::Setting;
                }
                Item::Thresholds(t) => {
                    for th in &t.thresholds {
                        self.statement = th.span;
                        match &th.selector {
                            Some(ast::Selector::Tag(tag)) => {
                                self.add(SymbolKind::Tag, &tag.name, tag.span, false)
                            }
                            Some(ast::Selector::Name(name)) => {
                                if let Some(text) = name.literal() {
                                    self.add(SymbolKind::RequestName, &text, name.span, false);
                                }
                            }
                            Some(ast::Selector::Bare(name)) => {
                                self.add(SymbolKind::RequestName, &name.name, name.span, false)
                            }
                            None => {}
                        }
                    }
                }
            }
        }
    }

    fn options(&mut self, options: &[ast::ClassOption]) {
        for o in options {
            if let ast::ClassOption::Tags { tags, .. } = o {
                for t in tags {
                    self.add(SymbolKind::Tag, &t.name, t.span, true);
                }
            }
        }
    }

    fn task(&mut self, t: &ast::Task) {
        self.options(&t.options);
        self.steps(&t.steps);
    }

    fn settings(&mut self, settings: &[Setting]) {
        for s in settings {
            self.statement = s.span();
            match s {
                Setting::Host { url, .. } => self.template(url),
                Setting::Header(h) => self.value(&h.value),
                Setting::Auth(a) => self.auth(a),
                Setting::Let(l) => self.let_(l),
                Setting::Timeout { .. } | Setting::Wait(_) => {}
            }
        }
    }

    fn let_(&mut self, l: &ast::Let) {
        // The value is read before the name is set: `let n = n` reads the outer `n`.
        self.expr(&l.value);
        self.add(SymbolKind::Variable, &l.name.name, l.name.span, true);
    }

    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            self.statement = step.span();
            match step {
                Step::Let(l) => self.let_(l),
                Step::Sleep(_) => {}
                Step::If(i) => self.if_(i),
                Step::Repeat(r) => self.steps(&r.body.steps),
                Step::Request(r) => self.request(r),
            }
        }
    }

    /// The condition, then each branch (`else if` chains included).
    fn if_(&mut self, i: &ast::If) {
        let c = &i.condition;
        self.value(&c.value);
        if let Some(p) = &c.predicate {
            self.predicate(p);
        }
        self.steps(&i.then.steps);
        match &i.otherwise {
            Some(ast::Else::If(next)) => {
                self.statement = next.span;
                self.if_(next);
            }
            Some(ast::Else::Block(b)) => self.steps(&b.steps),
            None => {}
        }
    }

    fn auth(&mut self, a: &ast::Auth) {
        match &a.kind {
            ast::AuthKind::Basic { user, password } => {
                self.value(user);
                self.value(password);
            }
            ast::AuthKind::Bearer { token } => self.value(token),
        }
    }

    fn request(&mut self, r: &ast::Request) {
        self.template(&r.url);
        let items = r.items.as_deref().unwrap_or(&[]);
        let named = items.iter().find_map(|i| match i {
            RequestItem::Name { name, .. } => Some(name),
            _ => None,
        });
        match named {
            Some(name) => {
                if let Some(text) = name.literal() {
                    self.add(SymbolKind::RequestName, &text, name.span, true);
                }
            }
            // The URL as written is the statistics name (see compile::request).
            None => {
                if let Some(raw) = raw_text(&r.url) {
                    self.add(SymbolKind::RequestName, &raw, r.url.span, true);
                }
            }
        }
        for item in items {
            self.statement = item.span();
            match item {
                RequestItem::Name { .. }
                | RequestItem::Timeout { .. }
                | RequestItem::Redirects { .. } => {}
                RequestItem::Header(h) => self.value(&h.value),
                RequestItem::Auth(a) => self.auth(a),
                RequestItem::Query(p) => {
                    self.param_name(&p.name);
                    self.value(&p.value);
                }
                RequestItem::Json { body, .. } => self.json(body),
                RequestItem::Form { fields, .. } => {
                    for f in fields {
                        self.param_name(&f.name);
                        self.value(&f.value);
                    }
                }
                RequestItem::Multipart { parts, .. } => {
                    for p in parts {
                        match p {
                            ast::Part::Field(f) => {
                                self.param_name(&f.name);
                                self.value(&f.value);
                            }
                            ast::Part::File { path, .. } => self.template(path),
                            ast::Part::Bytes { filename, .. } => self.template(filename),
                        }
                    }
                }
                RequestItem::Body { content, .. } => self.template(content),
                RequestItem::Tags { tags, .. } => {
                    for t in tags {
                        self.add(SymbolKind::Tag, &t.name, t.span, true);
                    }
                }
                RequestItem::Check(c) => match &c.kind {
                    ast::CheckKind::Header { predicate, .. }
                    | ast::CheckKind::Body { predicate } => self.predicate(predicate),
                    ast::CheckKind::JsonPath { path, predicate } => {
                        self.template(path);
                        self.predicate(predicate);
                    }
                    ast::CheckKind::Status { .. } | ast::CheckKind::Duration { .. } => {}
                },
                RequestItem::Capture(c) => {
                    if let ast::CaptureSource::JsonPath { path: t, .. }
                    | ast::CaptureSource::Regex { pattern: t } = &c.source
                    {
                        self.template(t);
                    }
                    self.add(SymbolKind::Variable, &c.name.name, c.name.span, true);
                }
            }
        }
    }

    fn param_name(&mut self, p: &ast::ParamName) {
        if let ast::ParamName::Quoted(t) = p {
            self.template(t);
        }
    }

    fn predicate(&mut self, p: &ast::Predicate) {
        match &p.kind {
            ast::PredicateKind::Contains(v) | ast::PredicateKind::Compare { value: v, .. } => {
                self.value(v)
            }
            ast::PredicateKind::Matches(t) => self.template(t),
            ast::PredicateKind::Exists => {}
        }
    }

    fn json(&mut self, j: &Json) {
        match j {
            Json::Object { members, .. } => {
                for (key, value) in members {
                    self.template(key);
                    self.json(value);
                }
            }
            Json::Array { items, .. } => items.iter().for_each(|i| self.json(i)),
            Json::Scalar(v) => self.value(v),
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Str(t) => self.template(t),
            Value::Interp { expr, .. } => self.expr(expr),
            Value::Bool { .. } | Value::Null { .. } | Value::Number(_) => {}
        }
    }

    fn template(&mut self, t: &Template) {
        for p in &t.parts {
            if let ast::TemplatePart::Expr(e) = p {
                self.expr(e);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Call { name, args, .. } => {
                self.add(SymbolKind::Function, &name.name, name.span, false);
                args.iter().for_each(|a| self.expr(a));
            }
            Expr::List { items, .. } => items.iter().for_each(|i| self.expr(i)),
            Expr::Str(t) => self.template(t),
            Expr::Var { path, .. } => match path.as_slice() {
                [var] => self.add(SymbolKind::Variable, &var.name, var.span, false),
                [feed, column, ..] => {
                    self.add(SymbolKind::Feed, &feed.name, feed.span, false);
                    let name = format!("{}.{}", feed.name, column.name);
                    self.add(SymbolKind::Column, &name, column.span, false);
                }
                [] => {}
            },
            Expr::Bool { .. } | Expr::Null { .. } | Expr::Number(_) => {}
        }
    }
}

/// A template's text as written, escapes kept, when it has no `{{ }}`.
fn raw_text(t: &Template) -> Option<String> {
    t.parts
        .iter()
        .map(|p| match p {
            ast::TemplatePart::Text { raw, .. } => Some(raw.as_str()),
            ast::TemplatePart::Expr(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"scenario "s" {
  let api = "/api"
}

data accounts from "accounts.csv" unique

user A {
  header Authorization: "Bearer {{ token }}"
  on start {
    POST "{{ api }}/login" {
      json { "u": "{{ accounts.username }}" }
      capture token = jsonpath "$.t"
    }
  }
  task t tags list {
    GET "/p/{{ token }}" {
      name "/p/[id]"
      tags read
    }
  }
}

user B {
  let api = "/v2"
  task u {
    GET "{{ api }}/x/{{ token }}"
    GET "/health"
  }
}

thresholds {
  p95(tag list) < 1s
  p95("/health") < 1s
}
"#;

    fn index() -> Index {
        Index::build(&crate::syntax::parse(SRC).unwrap())
    }

    /// The text of each occurrence of the symbol at the first `needle` after `after`.
    fn occurrences(index: &Index, after: &str, needle: &str) -> Vec<(String, bool)> {
        let from = SRC.find(after).unwrap();
        let at = from + SRC[from..].find(needle).unwrap();
        let o = index.at(at).unwrap();
        index
            .occurrences_of(o.symbol)
            .map(|o| {
                let (line, _) = crate::span::line_col(SRC, o.span.start);
                (
                    format!("{}:{}", line, &SRC[o.span.start..o.span.end]),
                    o.definition,
                )
            })
            .collect()
    }

    #[test]
    fn variables_belong_to_their_class() {
        let index = index();
        // Class A's token: its capture and its two uses, not class B's unknown `token`.
        assert_eq!(
            occurrences(&index, "Bearer", "token"),
            [
                ("8:token".to_string(), false),
                ("12:token".to_string(), true),
                ("16:token".to_string(), false)
            ]
        );
        // The scenario's `api` is A's; B has its own.
        assert_eq!(
            occurrences(&index, "let api", "api"),
            [("2:api".to_string(), true), ("10:api".to_string(), false)]
        );
        assert_eq!(
            occurrences(&index, "user B", "api"),
            [("24:api".to_string(), true), ("26:api".to_string(), false)]
        );
        let b_token = occurrences(&index, "x/{{", "token");
        assert_eq!(b_token, [("26:token".to_string(), false)]);
    }

    #[test]
    fn feeds_columns_tags_and_names() {
        let index = index();
        assert_eq!(
            occurrences(&index, "data", "accounts"),
            [
                ("5:accounts".to_string(), true),
                ("11:accounts".to_string(), false)
            ]
        );
        let column = index.at(SRC.find("username").unwrap()).unwrap();
        assert_eq!(index.symbol(column).name, "accounts.username");
        assert_eq!(
            occurrences(&index, "thresholds", "list"),
            [
                ("15:list".to_string(), true),
                ("32:list".to_string(), false)
            ]
        );
        assert_eq!(
            occurrences(&index, "thresholds", "/health"),
            [
                ("27:\"/health\"".to_string(), true),
                ("33:\"/health\"".to_string(), false)
            ]
        );
        assert_eq!(index.names(SymbolKind::Tag, None), ["list", "read"]);
        assert_eq!(
            index.names(SymbolKind::RequestName, None),
            ["/p/[id]", "/health"]
        );
        assert_eq!(
            index.feed("accounts").unwrap().path.as_deref(),
            Some("accounts.csv")
        );
    }

    #[test]
    fn names_in_scope() {
        let index = index();
        let a = index.scope_at(SRC.find("task t").unwrap());
        let b = index.scope_at(SRC.find("task u").unwrap());
        assert_eq!(a, Some(0));
        assert_eq!(index.names(SymbolKind::Variable, a), ["api", "token"]);
        assert_eq!(index.names(SymbolKind::Variable, b), ["api"]);
        assert_eq!(index.names(SymbolKind::Variable, None), ["api"]);
    }

    #[test]
    fn on_start_sees_settings_and_its_own_earlier_steps() {
        let src = "user A {\n  let base = 1\n  on start {\n    let a = 1\n    GET \"/{{ a }}\" { capture t = header X }\n  }\n  task u {\n    let later = 2\n    GET \"/{{ t }}\"\n  }\n}\n";
        let index = Index::build(&crate::syntax::parse(src).unwrap());
        let in_on_start = src.find("{{ a }}").unwrap();
        assert_eq!(index.variables_at(in_on_start), ["base", "a"]);
        assert_eq!(index.variables_at(src.find("let a").unwrap()), ["base"]);
        assert_eq!(
            index.variables_at(src.find("{{ t }}").unwrap()),
            ["base", "a", "t", "later"]
        );
    }
}
