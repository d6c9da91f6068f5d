//! Templates, expressions and function calls.

use base64::Engine as _;
use serde_json::Value;

use super::{Compiler, error, suggest};
use crate::ir::{self, FUNCTIONS, Function};
use crate::span::Span;
use crate::syntax::ast::{self, unescape};

impl Compiler<'_> {
    pub(super) fn template(&mut self, t: &ast::Template) -> ir::Template {
        let inner = Span::new(
            (t.span.start + 1).min(t.span.end),
            t.span.end.saturating_sub(1).max(t.span.start),
        );
        let source = self.text(inner).to_string();
        let mut segments = Vec::new();
        for part in &t.parts {
            match part {
                ast::TemplatePart::Text { raw, .. } => {
                    segments.push(ir::Segment::Text(unescape(raw)))
                }
                ast::TemplatePart::Expr(e) => {
                    let e = self.expr(e);
                    segments.push(ir::Segment::Expr(e));
                }
            }
        }
        ir::Template { segments, source }
    }

    /// A template that must be written out (JSON paths, regexes, file names).
    pub(super) fn literal(&mut self, t: &ast::Template, what: &str) -> Option<String> {
        let lit = t.literal();
        if lit.is_none() {
            let span = self.interpolation_span(t);
            self.error(error::interpolation_not_allowed(what, span));
        }
        lit
    }

    /// The first `{{ ... }}` of a template, braces included (the whole string if the
    /// braces cannot be found).
    pub(super) fn interpolation_span(&self, t: &ast::Template) -> Span {
        let Some(e) = t.parts.iter().find_map(|p| match p {
            ast::TemplatePart::Expr(e) => Some(e.span()),
            ast::TemplatePart::Text { .. } => None,
        }) else {
            return t.span;
        };
        let open = self
            .source
            .get(t.span.start..e.start)
            .and_then(|s| s.rfind("{{"))
            .map(|i| t.span.start + i);
        let close = self
            .source
            .get(e.end..t.span.end)
            .and_then(|s| s.find("}}"))
            .map(|i| e.end + i + 2);
        match (open, close) {
            (Some(start), Some(end)) => Span::new(start, end),
            _ => t.span,
        }
    }

    pub(super) fn value(&mut self, v: &ast::Value) -> ir::Expr {
        match v {
            ast::Value::Str(t) => self.template_expr(t),
            ast::Value::Interp { expr, .. } => self.expr(expr),
            ast::Value::Bool { value, .. } => ir::Expr::Literal(Value::Bool(*value)),
            ast::Value::Null { .. } => ir::Expr::Literal(Value::Null),
            ast::Value::Number(q) => self.number(q),
        }
    }

    fn template_expr(&mut self, t: &ast::Template) -> ir::Expr {
        let t = self.template(t);
        match t.as_literal() {
            Some(s) => ir::Expr::Literal(Value::String(s.to_string())),
            None => ir::Expr::Template(Box::new(t)),
        }
    }

    fn number(&mut self, q: &ast::Quantity) -> ir::Expr {
        if let Ok(i) = q.text.parse::<i64>() {
            return ir::Expr::Literal(Value::from(i));
        }
        match q
            .text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => ir::Expr::Literal(Value::Number(n)),
            None => {
                self.error(error::number_with_unit(&q.text, q.span));
                ir::Expr::Literal(Value::Null)
            }
        }
    }

    pub(super) fn expr(&mut self, e: &ast::Expr) -> ir::Expr {
        match e {
            ast::Expr::Str(t) => self.template_expr(t),
            ast::Expr::Bool { value, .. } => ir::Expr::Literal(Value::Bool(*value)),
            ast::Expr::Null { .. } => ir::Expr::Literal(Value::Null),
            ast::Expr::Number(q) => self.number(q),
            ast::Expr::List { items, .. } => {
                ir::Expr::List(items.iter().map(|i| self.expr(i)).collect())
            }
            ast::Expr::Var { path, span } => self.var_ref(path, *span),
            ast::Expr::Call { name, args, span } => self.call(name, args, *span),
        }
    }

    fn var_ref(&mut self, path: &[ast::Ident], span: Span) -> ir::Expr {
        let first = &path[0];
        if path.len() == 1 {
            self.used_vars.insert(first.name.clone());
            if self.scope.vars.contains(&first.name) {
                return ir::Expr::Var(self.var(&first.name));
            }
            let known: Vec<String> = self.scope.vars.iter().cloned().collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = suggest(&first.name, known.iter().copied())
                .or_else(|| suggest(&first.name, self.feeds.iter().map(|f| f.name.as_str())))
                .map(str::to_string);
            // The likely meaning counts as used: one mistake, one diagnostic.
            if let Some(h) = &hint {
                self.used_vars.insert(h.clone());
            }
            // `{{ username }}` for a feed's column: `{{ accounts.username }}`.
            let hint = match hint {
                Some(h) => Some(h),
                None => self.column_named(&first.name),
            };
            let d = error::unknown_variable(&first.name, span, hint.as_deref(), &known);
            self.error(d);
            return ir::Expr::Literal(Value::Null);
        }
        let Some(feed) = self.feeds.iter().position(|f| f.name == first.name) else {
            if self.scope.vars.contains(&first.name) {
                self.error(
                    error::unknown_feed(&first.name, first.span, None).with_help(format!(
                        "`{}` is a variable; only data feeds have columns (`feed.column`)",
                        first.name
                    )),
                );
            } else {
                let hint = suggest(&first.name, self.feeds.iter().map(|f| f.name.as_str()));
                if let Some(i) = hint.and_then(|h| self.feeds.iter().position(|f| f.name == h)) {
                    self.feed_info[i].used = true;
                }
                let d = error::unknown_feed(&first.name, first.span, hint);
                self.error(d);
            }
            return ir::Expr::Literal(Value::Null);
        };
        self.feed_info[feed].used = true;
        if self.feed_info[feed].broken {
            return ir::Expr::Literal(Value::Null);
        }
        self.class_feeds.insert(feed as ir::FeedId);
        let col = &path[1];
        let columns = &self.feeds[feed].columns;
        match columns.iter().position(|c| *c == col.name) {
            Some(column) if path.len() == 2 => ir::Expr::FeedColumn {
                feed: feed as ir::FeedId,
                column,
            },
            Some(_) => {
                let extra = path[2].span.to(path[path.len() - 1].span);
                self.error(error::unknown_feed_column(
                    &first.name,
                    &path[2].name,
                    extra,
                    None,
                    columns,
                ));
                ir::Expr::Literal(Value::Null)
            }
            None => {
                let hint = suggest(&col.name, columns.iter().map(String::as_str));
                let d = error::unknown_feed_column(&first.name, &col.name, col.span, hint, columns);
                self.error(d);
                ir::Expr::Literal(Value::Null)
            }
        }
    }

    /// `feed.column` for a data feed column with this name (or one close to it).
    fn column_named(&mut self, name: &str) -> Option<String> {
        let (feed, column) = self.feeds.iter().enumerate().find_map(|(i, f)| {
            let columns = f.columns.iter().map(String::as_str);
            let exact = f.columns.iter().find(|c| *c == name).map(String::as_str);
            exact
                .or_else(|| suggest(name, columns))
                .map(|c| (i, c.to_string()))
        })?;
        self.feed_info[feed].used = true;
        Some(format!("{}.{column}", self.feeds[feed].name))
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> ir::Expr {
        let compiled: Vec<ir::Expr> = args.iter().map(|a| self.expr(a)).collect();
        let Some(spec) = FUNCTIONS.iter().find(|f| f.name == name.name) else {
            let hint = suggest(&name.name, FUNCTIONS.iter().map(|f| f.name));
            self.error(error::unknown_function(&name.name, name.span, hint));
            return ir::Expr::Literal(Value::Null);
        };
        if args.len() < spec.min_args || spec.max_args.is_some_and(|m| args.len() > m) {
            self.error(error::wrong_arity(
                spec.name,
                span,
                args.len(),
                spec.signature,
            ));
            return ir::Expr::Literal(Value::Null);
        }
        // Literal arguments are checked now; variables are checked when they have a value.
        let is_text = |e: &ast::Expr| {
            !matches!(
                e,
                ast::Expr::Number(_)
                    | ast::Expr::Bool { .. }
                    | ast::Expr::Null { .. }
                    | ast::Expr::List { .. }
            )
        };
        let is_number = |e: &ast::Expr| {
            matches!(
                e,
                ast::Expr::Number(_) | ast::Expr::Var { .. } | ast::Expr::Call { .. }
            )
        };
        let is_int = |e: &ast::Expr| match e {
            ast::Expr::Number(q) => q.text.parse::<i64>().is_ok(),
            other => is_number(other),
        };
        match spec.function {
            Function::Env | Function::Now => {
                for a in args {
                    if !is_text(a) {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            a.span(),
                            "text in quotes",
                        ));
                    }
                }
                if spec.function == Function::Now
                    && let Some(ast::Expr::Str(t)) = args.first()
                    && let Some(fmt) = t.literal()
                {
                    let bad = chrono::format::StrftimeItems::new(&fmt)
                        .any(|i| matches!(i, chrono::format::Item::Error));
                    if bad {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            t.span,
                            "a strftime format like \"%Y-%m-%d\"",
                        ));
                    }
                }
            }
            Function::RandomInt => {
                for a in args {
                    if !is_int(a) {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            a.span(),
                            "a whole number",
                        ));
                    }
                }
                if let [ast::Expr::Number(a), ast::Expr::Number(b)] = args
                    && let (Ok(x), Ok(y)) = (a.text.parse::<i64>(), b.text.parse::<i64>())
                    && x > y
                {
                    self.error(error::reversed_bounds(spec.name, span));
                }
            }
            Function::RandomString => {
                if let Some(ast::Expr::Number(q)) = args.first() {
                    if q.text.parse::<u16>().map_or(true, |n| n == 0 || n > 4096) {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            q.span,
                            "a length from 1 to 4096",
                        ));
                    }
                } else if let Some(a) = args.first().filter(|a| !is_int(a)) {
                    self.error(error::wrong_argument_type(
                        spec.name,
                        a.span(),
                        "a whole number",
                    ));
                }
            }
            Function::Choice => {
                if let [single] = args {
                    if matches!(
                        single,
                        ast::Expr::Number(_) | ast::Expr::Bool { .. } | ast::Expr::Null { .. }
                    ) {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            single.span(),
                            "a list, or two values or more",
                        ));
                    }
                    if let ast::Expr::List { items, .. } = single
                        && items.is_empty()
                    {
                        self.error(error::wrong_argument_type(
                            spec.name,
                            single.span(),
                            "a list that is not empty",
                        ));
                    }
                }
            }
            Function::Base64 | Function::UrlEncode => {
                for a in args.iter().filter(|a| matches!(a, ast::Expr::List { .. })) {
                    self.error(error::wrong_argument_type(
                        spec.name,
                        a.span(),
                        "text, or a value read as text",
                    ));
                }
            }
            Function::Uuid | Function::Seq | Function::UserSeq | Function::UserId => {}
        }
        ir::Expr::Call(spec.function, compiled)
    }

    /// A value rendered as text (headers, query parameters, form fields).
    pub(super) fn value_template(&mut self, v: &ast::Value) -> ir::Template {
        match self.value(v) {
            ir::Expr::Template(t) => *t,
            ir::Expr::Literal(Value::String(s)) => ir::Template::literal(s),
            other => ir::Template {
                segments: vec![ir::Segment::Expr(other)],
                source: self.text(v.span()).to_string(),
            },
        }
    }

    pub(super) fn header(&mut self, h: &ast::Header) -> Option<ir::HeaderTemplate> {
        let template = self.value_template(&h.value);
        let name = match reqwest::header::HeaderName::from_bytes(h.name.name.as_bytes()) {
            Ok(n) => n,
            Err(_) => {
                self.error(error::invalid_header_name(&h.name.name, h.name.span));
                return None;
            }
        };
        // What HeaderValue accepts: visible ASCII, space and tab.
        if let Some(bad) = template
            .as_literal()
            .and_then(|v| v.chars().find(|c| *c != '\t' && !(' '..='~').contains(c)))
        {
            let d = error::invalid_header_value(&h.name.name, h.value.span(), bad);
            self.error(d);
            return None;
        }
        let secret = crate::redact::is_secret_header(name.as_str());
        if secret {
            // A variable sent in an Authorization or Cookie header is a secret wherever else
            // it would be printed (a captured token, a password); so is a value written out.
            match template.as_literal() {
                Some(text) => {
                    for part in crate::redact::header_parts(text) {
                        self.secret_literal(&part);
                    }
                }
                None => self.secret_template(&template),
            }
        }
        Some(ir::HeaderTemplate {
            name,
            value: template,
            secret,
        })
    }
}

/// Adds the variables `e` reads to `into`.
pub(super) fn mark_vars(e: &ir::Expr, into: &mut std::collections::BTreeSet<ir::VarId>) {
    match e {
        ir::Expr::Var(id) => {
            into.insert(*id);
        }
        ir::Expr::Call(_, args) | ir::Expr::List(args) => {
            args.iter().for_each(|a| mark_vars(a, into));
        }
        ir::Expr::Template(t) => {
            for s in &t.segments {
                if let ir::Segment::Expr(e) = s {
                    mark_vars(e, into);
                }
            }
        }
        ir::Expr::Literal(_) | ir::Expr::FeedColumn { .. } => {}
    }
}

impl Compiler<'_> {
    /// `auth basic USER PASSWORD` → `Authorization: Basic base64(USER:PASSWORD)`;
    /// `auth bearer TOKEN` → `Authorization: Bearer TOKEN`. Written out once when every
    /// part is literal; otherwise encoded each time it is sent, like any header.
    pub(super) fn auth(&mut self, a: &ast::Auth) -> Option<ir::HeaderTemplate> {
        let credential = |c: &mut Self, v: &ast::Value, what: &str| -> Option<ir::Template> {
            if matches!(v, ast::Value::Bool { .. } | ast::Value::Null { .. }) {
                c.error(error::invalid_auth(
                    v.span(),
                    &format!("the {what} must be text"),
                    &format!("write the {what} in quotes, or as `{{{{ variable }}}}`"),
                ));
                return None;
            }
            Some(c.value_template(v))
        };
        let (value, source) = match &a.kind {
            ast::AuthKind::Basic { user, password } => {
                let u = credential(self, user, "user name");
                let p = credential(self, password, "password");
                let (u, p) = (u?, p?);
                self.secret_template(&p);
                if let Some(text) = u.as_literal()
                    && text.contains(':')
                {
                    self.error(error::invalid_auth(
                        user.span(),
                        "a basic-auth user name cannot contain `:`",
                        "the user name and the password are sent joined by `:` (RFC 7617); \
                         use `header Authorization:` for a scheme that allows it",
                    ));
                    return None;
                }
                let mut segments = u.segments;
                segments.push(ir::Segment::Text(":".to_string()));
                segments.extend(p.segments);
                let pair = ir::Template {
                    segments,
                    source: format!("{}:{}", u.source, p.source),
                };
                let value = match pair.as_literal_joined() {
                    Some(text) => ir::Template::literal(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(text)
                    )),
                    None => ir::Template {
                        segments: vec![
                            ir::Segment::Text("Basic ".to_string()),
                            ir::Segment::Expr(ir::Expr::Call(
                                Function::Base64,
                                vec![ir::Expr::Template(Box::new(pair))],
                            )),
                        ],
                        source: String::new(),
                    },
                };
                (value, "auth basic")
            }
            ast::AuthKind::Bearer { token } => {
                let t = credential(self, token, "token")?;
                self.secret_template(&t);
                let mut segments = vec![ir::Segment::Text("Bearer ".to_string())];
                segments.extend(t.segments);
                let value = ir::Template {
                    segments,
                    source: String::new(),
                };
                let value = match value.as_literal_joined() {
                    Some(text) => ir::Template::literal(text),
                    None => value,
                };
                (value, "auth bearer")
            }
        };
        if let Some(bad) = value
            .as_literal()
            .and_then(|v| v.chars().find(|c| *c != '\t' && !(' '..='~').contains(c)))
        {
            self.error(error::invalid_header_value("Authorization", a.span, bad));
            return None;
        }
        // The variables in the credentials are secrets wherever else they would be printed.
        for segment in &value.segments {
            if let ir::Segment::Expr(e) = segment {
                mark_vars(e, &mut self.secret_vars);
            }
        }
        Some(ir::HeaderTemplate {
            name: reqwest::header::AUTHORIZATION,
            // The credentials are secret: messages name the setting, never its value.
            value: ir::Template {
                source: source.to_string(),
                ..value
            },
            secret: true,
        })
    }
}
