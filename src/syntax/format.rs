//! AST → canonical text: the one layout `kload fmt` writes, so reviewers never argue about
//! layout.
//!
//! Formatting happens in two passes. [`Printer`] walks the tree and lays out lines of code,
//! each remembering the source position of its first construct (its anchor). [`weave`] then
//! puts every comment back next to the line it was written next to, using only comment spans
//! and anchors: an own-line comment goes before the first line anchored after it, a comment
//! after code on the same line stays trailing. Comments are never reordered, so the
//! formatted file has the same comments in the same order as the source.
//!
//! The layout:
//! - two spaces per level, one statement per line, `{` on the header line, `}` alone;
//! - exactly one blank line between top-level items, except that consecutive `data` lines
//!   may stay together; elsewhere one blank line is kept where the author left one or more,
//!   never right after `{` or right before `}`;
//! - an empty block is `{}` unless a comment is written inside it;
//! - options in a fixed order: `weight`, `count`, then `tags a, b`;
//! - JSON objects always have one member per line; arrays of plain values stay on one line
//!   when it fits in [`MAX_WIDTH`] columns and holds no comment, otherwise one item per line;
//!   no trailing commas;
//! - strings are printed raw (escapes as written), quantities as written, interpolations as
//!   `{{ expr }}`.

use super::ast::*;

/// The column limit for keeping a JSON array on one line.
pub const MAX_WIDTH: usize = 80;

/// Formats a parsed file in the canonical layout. `source` is the text `file` was parsed from:
/// comments and blank lines are placed by their byte positions in it.
pub fn format(file: &File, source: &str) -> String {
    let mut printer = Printer {
        source,
        comments: &file.comments,
        lines: Vec::new(),
        indent: 0,
    };
    let mut previous: Option<&Item> = None;
    for item in &file.items {
        let first = printer.lines.len();
        printer.item(item);
        // Consecutive `data` lines may stay together, like a block's statements.
        let grouped = matches!((previous, item), (Some(Item::Data(_)), Item::Data(_)));
        if let Some(line) = printer.lines.get_mut(first) {
            line.item_start = !grouped;
        }
        previous = Some(item);
    }
    weave(&printer.lines, &file.comments, source)
}

/// One line of code in the output, before comments are woven in.
struct Line {
    indent: usize,
    text: String,
    /// Source position of the line's first construct.
    anchor: usize,
    kind: LineKind,
    /// The author left a blank line above this line's construct.
    blank_above: bool,
    /// The first line of a top-level item: one blank line always separates it from the
    /// previous item.
    item_start: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// Ends with `{` or `[`: no blank line may follow.
    Open,
    /// Starts with `}` or `]`: no blank line may precede it, and comments before it are
    /// indented one level deeper, inside the block.
    Close,
    /// `} else {`: closes one block and opens the next, so no blank line on either side.
    CloseOpen,
    Plain,
}

struct Printer<'a> {
    source: &'a str,
    comments: &'a [Comment],
    lines: Vec<Line>,
    indent: usize,
}

impl Printer<'_> {
    fn push(&mut self, anchor: usize, text: String, kind: LineKind) {
        let blank_above = blank_line_before(self.source, anchor);
        let line = Line {
            indent: self.indent,
            text,
            anchor,
            kind,
            blank_above,
            item_start: false,
        };
        self.lines.push(line);
    }

    fn line(&mut self, anchor: usize, text: String) {
        self.push(anchor, text, LineKind::Plain);
    }

    fn open(&mut self, anchor: usize, text: String) {
        self.push(anchor, text, LineKind::Open);
        self.indent += 1;
    }

    /// Closes the block whose span ends at `end`: its `}` is the span's last byte.
    fn close(&mut self, end: usize, text: String) {
        self.indent -= 1;
        self.push(end.saturating_sub(1), text, LineKind::Close);
    }

    /// `} else {`: closes the block whose span ends at `end` and opens the next.
    fn close_open(&mut self, end: usize, text: String) {
        self.indent -= 1;
        self.push(end.saturating_sub(1), text, LineKind::CloseOpen);
        self.indent += 1;
    }

    fn has_comment_inside(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| span.start < c.span.start && c.span.end <= span.end)
    }

    /// `header {`, one line or more per child, `}`; `header {}` when there is nothing inside.
    fn block<T>(
        &mut self,
        header: String,
        span: Span,
        children: &[T],
        mut child: impl FnMut(&mut Self, &T),
    ) {
        if children.is_empty() && !self.has_comment_inside(span) {
            self.line(span.start, format!("{header} {{}}"));
            return;
        }
        self.open(span.start, format!("{header} {{"));
        for c in children {
            child(self, c);
        }
        self.close(span.end, "}".to_string());
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Scenario(s) => {
                let header = format!("scenario {}", template(&s.name));
                self.block(header, s.span, &s.settings, Self::setting);
            }
            Item::Data(d) => {
                let mut text = format!("data {} from {}", d.name.name, template(&d.path));
                if let Some((mode, _)) = d.mode {
                    text.push(' ');
                    text.push_str(match mode {
                        FeedMode::Unique => "unique",
                        FeedMode::Cycle => "cycle",
                        FeedMode::Random => "random",
                    });
                }
                self.line(d.span.start, text);
            }
            Item::Load(l) => {
                self.block("load".to_string(), l.span, &l.settings, Self::load_setting)
            }
            Item::User(u) => {
                let header = format!("user {}{}", u.name.name, options(&u.options));
                self.block(header, u.span, &u.items, Self::user_item);
            }
            Item::Thresholds(t) => {
                self.block("thresholds".to_string(), t.span, &t.thresholds, |p, t| {
                    p.line(t.span.start, threshold(t))
                });
            }
        }
    }

    fn setting(&mut self, setting: &Setting) {
        let text = match setting {
            Setting::Host { url, .. } => format!("host {}", template(url)),
            Setting::Timeout { value, .. } => format!("timeout {}", value.text),
            Setting::Wait(w) => wait(w),
            Setting::Header(h) => header(h),
            Setting::Auth(a) => auth(a),
            Setting::Let(l) => let_stmt(l),
        };
        self.line(setting.span().start, text);
    }

    fn load_setting(&mut self, setting: &LoadSetting) {
        match setting {
            LoadSetting::Value { key, value, span } => {
                self.line(span.start, format!("{} {}", key.keyword(), value.text))
            }
            LoadSetting::Stages { stages, span } => {
                self.block("stages".to_string(), *span, stages, |p, stage| {
                    let text = match stage {
                        Stage::Ramp { to, over, .. } => {
                            format!("ramp to {} over {}", to.text, over.text)
                        }
                        Stage::Hold { duration, .. } => format!("hold {}", duration.text),
                    };
                    p.line(stage.span().start, text);
                });
            }
        }
    }

    fn user_item(&mut self, item: &UserItem) {
        match item {
            UserItem::Setting(s) => self.setting(s),
            UserItem::OnStart(b) => {
                self.block("on start".to_string(), b.span, &b.steps, Self::step)
            }
            UserItem::OnStop(b) => self.block("on stop".to_string(), b.span, &b.steps, Self::step),
            UserItem::Task(t) => self.task(t),
            UserItem::Sequence(s) => {
                let header = format!("sequence {}{}", s.name.name, options(&s.options));
                self.block(header, s.span, &s.tasks, Self::task);
            }
        }
    }

    fn task(&mut self, task: &Task) {
        let header = format!("task {}{}", task.name.name, options(&task.options));
        self.block(header, task.span, &task.steps, Self::step);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Let(l) => self.line(l.span.start, let_stmt(l)),
            Step::Sleep(s) => {
                let text = match &s.kind {
                    SleepKind::Fixed(q) => format!("sleep {}", q.text),
                    SleepKind::Between(a, b) => format!("sleep between {} {}", a.text, b.text),
                };
                self.line(s.span.start, text);
            }
            Step::If(i) => self.if_step(i),
            Step::Repeat(r) => {
                let header = format!("repeat {}", r.count.text);
                self.block(header, r.span, &r.body.steps, Self::step);
            }
            Step::Request(r) => {
                let header = format!("{} {}", r.method.name, template(&r.url));
                match &r.items {
                    None => self.line(r.span.start, header),
                    Some(items) => self.block(header, r.span, items, Self::request_item),
                }
            }
        }
    }

    /// `if C {`, its steps, then `} else if C {` or `} else {` for each branch, and `}`.
    /// A lone `if` with nothing inside is `if C {}`, like any empty block.
    fn if_step(&mut self, first: &If) {
        let header = format!("if {}", condition(&first.condition));
        if first.otherwise.is_none() {
            return self.block(header, first.span, &first.then.steps, Self::step);
        }
        self.open(first.span.start, format!("{header} {{"));
        let mut current = first;
        loop {
            for step in &current.then.steps {
                self.step(step);
            }
            let end = current.then.span.end;
            match &current.otherwise {
                None => return self.close(end, "}".to_string()),
                Some(Else::Block(b)) => {
                    self.close_open(end, "} else {".to_string());
                    for step in &b.steps {
                        self.step(step);
                    }
                    return self.close(b.span.end, "}".to_string());
                }
                Some(Else::If(next)) => {
                    let text = format!("}} else if {} {{", condition(&next.condition));
                    self.close_open(end, text);
                    current = next;
                }
            }
        }
    }

    fn request_item(&mut self, item: &RequestItem) {
        let text = match item {
            RequestItem::Name { name, .. } => format!("name {}", template(name)),
            RequestItem::Header(h) => header(h),
            RequestItem::Auth(a) => auth(a),
            RequestItem::Query(p) => format!("query {}", param(p)),
            RequestItem::Json { body, span } => {
                return self.json(span.start, "json ".to_string(), body, "");
            }
            RequestItem::Form { fields, span } => {
                if fields.is_empty() && !self.has_comment_inside(*span) {
                    return self.line(span.start, "form {}".to_string());
                }
                self.open(span.start, "form {".to_string());
                for (i, field) in fields.iter().enumerate() {
                    let comma = if i + 1 < fields.len() { "," } else { "" };
                    self.line(field.span.start, format!("{}{comma}", param(field)));
                }
                return self.close(span.end, "}".to_string());
            }
            RequestItem::Multipart { parts, span } => {
                return self.block("multipart".to_string(), *span, parts, |p, part| {
                    p.line(part.span().start, multipart_part(part))
                });
            }
            RequestItem::Body {
                content,
                content_type,
                ..
            } => {
                format!("body {}{}", template(content), type_suffix(content_type))
            }
            RequestItem::Timeout { value, .. } => format!("timeout {}", value.text),
            RequestItem::Redirects { follow, .. } => {
                format!("redirects {}", if *follow { "on" } else { "off" })
            }
            RequestItem::Tags { tags, .. } => format!("tags {}", tag_list(tags)),
            RequestItem::Check(c) => check(c),
            RequestItem::Capture(c) => capture(c),
        };
        self.line(item.span().start, text);
    }

    /// Lays out a JSON value that follows `prefix` on a line anchored at `anchor`; `suffix`
    /// (a separating comma) goes after its last character.
    fn json(&mut self, anchor: usize, prefix: String, json: &Json, suffix: &str) {
        match json {
            Json::Scalar(v) => self.line(anchor, format!("{prefix}{}{suffix}", value(v))),
            Json::Object { members, span } => {
                if members.is_empty() && !self.has_comment_inside(*span) {
                    return self.line(anchor, format!("{prefix}{{}}{suffix}"));
                }
                self.open(anchor, format!("{prefix}{{"));
                for (i, (key, member)) in members.iter().enumerate() {
                    let comma = if i + 1 < members.len() { "," } else { "" };
                    self.json(
                        key.span.start,
                        format!("{}: ", template(key)),
                        member,
                        comma,
                    );
                }
                self.close(span.end, format!("}}{suffix}"));
            }
            Json::Array { items, span } => {
                let flat = items.iter().all(|i| matches!(i, Json::Scalar(_)));
                if flat && !self.has_comment_inside(*span) {
                    let inline = format!("{prefix}{}{suffix}", json_inline(json));
                    if self.indent * 2 + inline.chars().count() <= MAX_WIDTH {
                        return self.line(anchor, inline);
                    }
                }
                self.open(anchor, format!("{prefix}["));
                for (i, item) in items.iter().enumerate() {
                    let comma = if i + 1 < items.len() { "," } else { "" };
                    self.json(item.span().start, String::new(), item, comma);
                }
                self.close(span.end, format!("]{suffix}"));
            }
        }
    }
}

/// Whether the author left a blank line between the code or comment before `pos` and `pos`.
fn blank_line_before(source: &str, pos: usize) -> bool {
    gap_before(source, pos).matches('\n').count() >= 2
}

/// Whether the comment starting at `pos` stands on a line of its own.
fn stands_alone(source: &str, pos: usize) -> bool {
    let gap = gap_before(source, pos);
    gap.len() == pos || gap.contains('\n')
}

/// The whitespace just before `pos`.
fn gap_before(source: &str, pos: usize) -> &str {
    let before = &source[..pos];
    &before[before.trim_end().len()..]
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Before,
    After,
}

/// Where one comment goes in the output.
struct Placed<'c> {
    comment: &'c Comment,
    blank_above: bool,
}

/// Puts the comments back among the lines and renders the whole file.
fn weave(lines: &[Line], comments: &[Comment], source: &str) -> String {
    let mut before: Vec<Vec<Placed>> = (0..=lines.len()).map(|_| Vec::new()).collect();
    let mut after: Vec<Vec<&Comment>> = (0..lines.len()).map(|_| Vec::new()).collect();
    let mut last = (0, Slot::Before);
    for comment in comments {
        let slot = if stands_alone(source, comment.span.start) {
            (
                lines.partition_point(|l| l.anchor < comment.span.end),
                Slot::Before,
            )
        } else {
            match lines.partition_point(|l| l.anchor < comment.span.start) {
                0 => (0, Slot::Before),
                n => (n - 1, Slot::After),
            }
        };
        // Never move a comment above one written before it.
        let slot = slot.max(last);
        last = slot;
        match slot {
            (i, Slot::Before) => {
                let blank_above = blank_line_before(source, comment.span.start);
                before[i].push(Placed {
                    comment,
                    blank_above,
                });
            }
            (i, Slot::After) => after[i].push(comment),
        }
    }

    let mut out = Output::default();
    for (i, line) in lines.iter().enumerate() {
        let closes = matches!(line.kind, LineKind::Close | LineKind::CloseOpen);
        let comment_indent = line.indent + usize::from(closes);
        let mut force_blank = line.item_start;
        for placed in &before[i] {
            let blank = force_blank || placed.blank_above;
            out.emit(
                comment_indent,
                &format!("#{}", placed.comment.text),
                LineKind::Plain,
                blank,
            );
            force_blank = false;
        }
        // A line keeps one trailing comment; any others go on their own lines above it.
        let (trailing, others) = match after[i].split_last() {
            Some((last, others)) => (Some(*last), others),
            None => (None, &[][..]),
        };
        let mut blank = force_blank || (line.blank_above && !closes);
        for comment in others {
            out.emit(
                comment_indent,
                &format!("#{}", comment.text),
                LineKind::Plain,
                blank,
            );
            blank = false;
        }
        let text = match trailing {
            Some(c) => format!("{} #{}", line.text, c.text),
            None => line.text.clone(),
        };
        out.emit(line.indent, &text, line.kind, blank);
    }
    for placed in &before[lines.len()] {
        out.emit(
            0,
            &format!("#{}", placed.comment.text),
            LineKind::Plain,
            placed.blank_above,
        );
    }
    out.text
}

#[derive(Default)]
struct Output {
    text: String,
    previous: Option<LineKind>,
}

impl Output {
    fn emit(&mut self, indent: usize, text: &str, kind: LineKind, blank_above: bool) {
        let allowed = !matches!(
            self.previous,
            None | Some(LineKind::Open | LineKind::CloseOpen)
        ) && !matches!(kind, LineKind::Close | LineKind::CloseOpen);
        if blank_above && allowed {
            self.text.push('\n');
        }
        for _ in 0..indent {
            self.text.push_str("  ");
        }
        self.text.push_str(text);
        self.text.push('\n');
        self.previous = Some(kind);
    }
}

// ---------------------------------------------------------------- one-line constructs

fn options(options: &[ClassOption]) -> String {
    let rank = |o: &&ClassOption| match o {
        ClassOption::Weight { .. } => 0,
        ClassOption::Count { .. } => 1,
        ClassOption::Tags { .. } => 2,
    };
    let mut sorted: Vec<&ClassOption> = options.iter().collect();
    sorted.sort_by_key(rank);
    let mut out = String::new();
    for option in sorted {
        match option {
            ClassOption::Weight { value, .. } => out.push_str(&format!(" weight {}", value.text)),
            ClassOption::Count { value, .. } => out.push_str(&format!(" count {}", value.text)),
            ClassOption::Tags { tags, .. } => out.push_str(&format!(" tags {}", tag_list(tags))),
        }
    }
    out
}

fn tag_list(tags: &[Ident]) -> String {
    tags.iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn wait(w: &Wait) -> String {
    match &w.kind {
        WaitKind::Between(a, b) => format!("wait between {} {}", a.text, b.text),
        WaitKind::Constant(q) => format!("wait constant {}", q.text),
        WaitKind::Pacing(q) => format!("wait pacing {}", q.text),
        WaitKind::Throughput(q) => format!("wait throughput {}", q.text),
    }
}

fn header(h: &Header) -> String {
    format!("header {}: {}", h.name.name, value(&h.value))
}

fn auth(a: &Auth) -> String {
    match &a.kind {
        AuthKind::Basic { user, password } => {
            format!("auth basic {} {}", value(user), value(password))
        }
        AuthKind::Bearer { token } => format!("auth bearer {}", value(token)),
    }
}

fn condition(c: &Condition) -> String {
    match (&c.predicate, c.negated) {
        (_, true) => format!("not {}", value(&c.value)),
        (Some(p), false) => format!("{} {}", value(&c.value), predicate(p)),
        (None, false) => value(&c.value),
    }
}

fn let_stmt(l: &Let) -> String {
    let secret = if l.secret.is_some() { "secret " } else { "" };
    format!("let {secret}{} = {}", l.name.name, expr(&l.value))
}

fn param_name(name: &ParamName) -> String {
    match name {
        ParamName::Word(w) => w.name.clone(),
        ParamName::Quoted(t) => template(t),
    }
}

fn param(p: &Param) -> String {
    format!("{}: {}", param_name(&p.name), value(&p.value))
}

fn type_suffix(content_type: &Option<Template>) -> String {
    match content_type {
        Some(t) => format!(" type {}", template(t)),
        None => String::new(),
    }
}

fn multipart_part(part: &Part) -> String {
    match part {
        Part::Field(p) => format!("field {}", param(p)),
        Part::File {
            name,
            path,
            content_type,
            ..
        } => {
            format!(
                "file {}: {}{}",
                param_name(name),
                template(path),
                type_suffix(content_type)
            )
        }
        Part::Bytes {
            name,
            size,
            filename,
            content_type,
            ..
        } => format!(
            "file {}: random {} named {}{}",
            param_name(name),
            size.text,
            template(filename),
            type_suffix(content_type)
        ),
    }
}

fn check(c: &Check) -> String {
    let target = match &c.kind {
        CheckKind::Status { items, list } => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    StatusItem::Code(q) => q.text.clone(),
                    StatusItem::Range(a, b) => format!("{}..{}", a.text, b.text),
                })
                .collect();
            if *list {
                format!("status in [{}]", items.join(", "))
            } else {
                format!("status {}", items.join(" "))
            }
        }
        CheckKind::Header { name, predicate: p } => {
            format!("header {} {}", name.name, predicate(p))
        }
        CheckKind::JsonPath { path, predicate: p } => {
            format!("jsonpath {} {}", template(path), predicate(p))
        }
        CheckKind::Body { predicate: p } => format!("body {}", predicate(p)),
        CheckKind::Duration { op, bound, .. } => format!("duration {} {}", op.symbol(), bound.text),
    };
    format!("check {target}")
}

fn predicate(p: &Predicate) -> String {
    let kind = match &p.kind {
        PredicateKind::Exists => "exists".to_string(),
        PredicateKind::Contains(v) => format!("contains {}", value(v)),
        PredicateKind::Matches(t) => format!("matches {}", template(t)),
        PredicateKind::Compare { op, value: v } => format!("{} {}", op.symbol(), value(v)),
    };
    if p.negated {
        format!("not {kind}")
    } else {
        kind
    }
}

fn capture(c: &Capture) -> String {
    let source = match &c.source {
        CaptureSource::JsonPath { path, mode } => {
            let mode = match mode {
                None => "",
                Some(CaptureMode::First) => " first",
                Some(CaptureMode::All) => " all",
                Some(CaptureMode::Random) => " random",
            };
            format!("jsonpath {}{mode}", template(path))
        }
        CaptureSource::Header { name } => format!("header {}", name.name),
        CaptureSource::Cookie { name } => format!("cookie {}", param_name(name)),
        CaptureSource::Regex { pattern } => format!("regex {}", template(pattern)),
    };
    let secret = if c.secret.is_some() { "secret " } else { "" };
    format!("capture {secret}{} = {source}", c.name.name)
}

fn threshold(t: &Threshold) -> String {
    let mut out = t.metric.name.clone();
    match &t.selector {
        None => {}
        Some(Selector::Tag(tag)) => out.push_str(&format!("(tag {})", tag.name)),
        Some(Selector::Name(name)) => out.push_str(&format!("({})", template(name))),
        Some(Selector::Bare(bare)) => out.push_str(&format!("({})", bare.name)),
    }
    out.push_str(&format!(" {} {}", t.op.symbol(), t.value.text));
    if t.warn {
        out.push_str(" warn");
    }
    if t.optional {
        out.push_str(" optional");
    }
    if let Some(n) = &t.abort_after {
        out.push_str(&format!(" abort after {}", n.text));
    }
    out
}

// ---------------------------------------------------------------- values and expressions

fn json_inline(json: &Json) -> String {
    match json {
        Json::Scalar(v) => value(v),
        Json::Array { items, .. } => {
            let items: Vec<String> = items.iter().map(json_inline).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Object { members, .. } if members.is_empty() => "{}".to_string(),
        Json::Object { members, .. } => {
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", template(k), json_inline(v)))
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(t) => template(t),
        Value::Interp { expr: e, .. } => format!("{{{{ {} }}}}", expr(e)),
        Value::Bool { value, .. } => value.to_string(),
        Value::Null { .. } => "null".to_string(),
        Value::Number(q) => q.text.clone(),
    }
}

fn template(t: &Template) -> String {
    let mut out = String::from("\"");
    for part in &t.parts {
        match part {
            TemplatePart::Text { raw, .. } => out.push_str(raw),
            TemplatePart::Expr(e) => {
                out.push_str("{{ ");
                out.push_str(&expr(e));
                out.push_str(" }}");
            }
        }
    }
    out.push('"');
    out
}

fn expr(e: &Expr) -> String {
    match e {
        Expr::Call { name, args, .. } => {
            let args: Vec<String> = args.iter().map(expr).collect();
            format!("{}({})", name.name, args.join(", "))
        }
        Expr::List { items, .. } => {
            let items: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", items.join(", "))
        }
        Expr::Str(t) => template(t),
        Expr::Bool { value, .. } => value.to_string(),
        Expr::Null { .. } => "null".to_string(),
        Expr::Number(q) => q.text.clone(),
        Expr::Var { path, .. } => path
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join("."),
    }
}

#[cfg(test)]
mod tests;
