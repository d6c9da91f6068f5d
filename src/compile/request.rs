//! Requests: method, URL, headers, bodies, checks and captures.

use serde_json::Value;

use super::{Compiler, error, quantity, secret, suggest};
use crate::ir;
use crate::span::Span;
use crate::syntax::ast::{self, CaptureMode, CompareOp};

/// The HTTP methods a request may use.
pub const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

impl Compiler<'_> {
    pub(super) fn request(
        &mut self,
        r: &ast::Request,
        inherited_tags: &[String],
    ) -> Option<ir::Request> {
        let method = if METHODS.contains(&r.method.name.as_str()) {
            reqwest::Method::from_bytes(r.method.name.as_bytes()).ok()
        } else {
            let hint = suggest(&r.method.name, METHODS.iter().copied());
            self.error(error::unknown_method(&r.method.name, r.method.span, hint));
            None
        };
        let url = self.template(&r.url);
        if let Some(lit) = url.as_literal() {
            self.check_target(lit, r.url.span);
            let lit = lit.to_string();
            self.url_credentials(&lit);
            self.url_query_secrets(&lit);
        } else if let Some(ir::Segment::Text(first)) = url.segments.first()
            && !(first.starts_with('/')
                || first.starts_with("http://")
                || first.starts_with("https://"))
        {
            self.error(error::invalid_url(
                &url.source,
                r.url.span,
                "must start with `/` or `http(s)://`",
            ));
        }

        let mut name = None;
        let mut headers = Vec::new();
        let mut query = Vec::new();
        let mut body = ir::Body::None;
        let mut body_span: Option<Span> = None;
        let mut timeout = None;
        let mut redirects = None;
        let mut tags = inherited_tags.to_vec();
        let mut checks = Vec::new();
        let mut captures = Vec::new();
        let mut needs_json = false;
        let mut json_shape = ir::JsonShape::default();
        let mut authorization = super::AuthorizationSpans::default();
        let items = r.items.as_deref().unwrap_or(&[]);
        // Tags first, so that the statistics entry gets them whatever the order.
        for item in items {
            if let ast::RequestItem::Tags { tags: t, .. } = item {
                for i in t {
                    if !tags.contains(&i.name) {
                        tags.push(i.name.clone());
                    }
                }
            }
        }
        // Checks see variables captured by the same request only after it: compile
        // checks before captures are added to the scope.
        let mut new_vars = Vec::new();
        for item in items {
            let item_span = item.span();
            let mut set_body = |c: &mut Self, b: ir::Body| {
                if let Some(first) = body_span {
                    c.error(error::conflicting_bodies(item_span, first));
                } else {
                    body_span = Some(item_span);
                    body = b;
                }
            };
            match item {
                ast::RequestItem::Name { name: n, .. } => {
                    name = self.literal(n, "a statistics name");
                }
                ast::RequestItem::Header(h) => {
                    if h.name.name.eq_ignore_ascii_case("authorization") {
                        authorization.header(self, h.span);
                    }
                    headers.extend(self.header(h));
                }
                ast::RequestItem::Auth(a) => {
                    authorization.auth(self, a.span);
                    headers.extend(self.auth(a));
                }
                ast::RequestItem::Query(p) => {
                    let key = self.param_name(&p.name);
                    let value = self.value_template(&p.value);
                    if secret::is_secret_name(&key) {
                        self.secret_template(&value);
                    }
                    query.push((key, value));
                }
                ast::RequestItem::Json { body: j, .. } => {
                    let b = ir::Body::Json(self.json(j));
                    set_body(self, b);
                }
                ast::RequestItem::Form { fields, .. } => {
                    let fields = fields
                        .iter()
                        .map(|p| {
                            let name = self.param_name(&p.name);
                            let value = self.value_template(&p.value);
                            if secret::is_secret_name(&name) {
                                self.secret_template(&value);
                            }
                            (name, value)
                        })
                        .collect();
                    set_body(self, ir::Body::Form(fields));
                }
                ast::RequestItem::Multipart { parts, .. } => {
                    let parts = parts.iter().filter_map(|p| self.part(p)).collect();
                    set_body(self, ir::Body::Multipart(parts));
                }
                ast::RequestItem::Body {
                    content,
                    content_type,
                    ..
                } => {
                    let content = self.template(content);
                    let content_type = content_type
                        .as_ref()
                        .and_then(|t| self.literal(t, "a content type"));
                    set_body(
                        self,
                        ir::Body::Raw {
                            content,
                            content_type,
                        },
                    );
                }
                ast::RequestItem::Timeout { value, .. } => {
                    timeout = self.ok(quantity::duration(value))
                }
                ast::RequestItem::Redirects { follow, .. } => redirects = Some(*follow),
                ast::RequestItem::Tags { .. } => {}
                ast::RequestItem::Check(c) => {
                    if let Some(check) = self.check(c) {
                        if let ir::CheckKind::JsonPath { query, predicate } = &check.kind {
                            needs_json = true;
                            let presence = !predicate.negated
                                && matches!(predicate.kind, ir::PredicateKind::Exists);
                            json_shape.add(query, presence);
                        }
                        checks.push(check);
                    }
                }
                ast::RequestItem::Capture(c) => {
                    if let Some(capture) = self.capture(c) {
                        if let ir::CaptureSource::JsonPath { query, .. } = &capture.source {
                            needs_json = true;
                            json_shape.add(query, false);
                        }
                        captures.push(capture);
                    }
                    new_vars.push(c.name.name.clone());
                }
            }
        }
        self.scope.vars.extend(new_vars);
        let method = method?;
        // Credentials in a URL become basic auth at run time; they never name a statistic.
        let stat_name = name.unwrap_or_else(|| ir::without_credentials(&url.source));
        let stat = self.stat(method.as_str(), &stat_name, &tags);
        self.request_count += 1;
        Some(ir::Request {
            index: self.request_count - 1,
            method,
            url,
            stat,
            tags,
            headers,
            query,
            body,
            timeout,
            redirects,
            checks,
            captures,
            span: r.span,
            line: {
                let (l, c) = self.lines.line_col(self.source, r.span.start);
                format!("{l}:{c}")
            },
            needs_json,
            json_shape,
        })
    }

    fn check_target(&mut self, lit: &str, span: Span) {
        if lit.starts_with("http://") || lit.starts_with("https://") {
            if let Err(reason) = super::check_host(lit) {
                self.error(error::invalid_url(lit, span, &reason));
            }
        } else if !lit.starts_with('/') {
            self.error(error::invalid_url(
                lit,
                span,
                "must start with `/` or `http(s)://`",
            ));
        } else if lit.contains(char::is_whitespace) {
            self.error(error::invalid_url(
                lit,
                span,
                "contains a space (write it as %20)",
            ));
        } else if let Err(e) = reqwest::Url::parse("http://h").and_then(|b| b.join(lit)) {
            self.error(error::invalid_url(lit, span, &e.to_string()));
        }
    }

    fn param_name(&mut self, p: &ast::ParamName) -> String {
        match p {
            ast::ParamName::Word(i) => i.name.clone(),
            ast::ParamName::Quoted(t) => self.literal(t, "a parameter name").unwrap_or_default(),
        }
    }

    fn part(&mut self, p: &ast::Part) -> Option<ir::Part> {
        match p {
            ast::Part::Field(f) => {
                let name = self.param_name(&f.name);
                let value = self.value_template(&f.value);
                if secret::is_secret_name(&name) {
                    self.secret_template(&value);
                }
                Some(ir::Part::Field { name, value })
            }
            ast::Part::File {
                name,
                path,
                content_type,
                ..
            } => {
                let name = self.param_name(name);
                let file = self.literal(path, "a file path")?;
                let content_type = content_type
                    .as_ref()
                    .and_then(|t| self.literal(t, "a content type"));
                match self.ctx.read(&file) {
                    Ok(bytes) => {
                        self.files.insert(file.clone());
                        let file_name = std::path::Path::new(&file)
                            .file_name()
                            .map_or_else(|| file.clone(), |f| f.to_string_lossy().into_owned());
                        Some(ir::Part::File {
                            name,
                            file_name,
                            bytes: bytes.into(),
                            content_type,
                        })
                    }
                    Err(e) => {
                        let similar = self.similar_file(&file);
                        self.error(error::missing_file(
                            &file,
                            path.span,
                            &super::io_reason(&e.to_string()),
                            similar.as_deref(),
                        ));
                        None
                    }
                }
            }
            ast::Part::Bytes {
                name,
                size,
                filename,
                content_type,
                ..
            } => {
                let name = self.param_name(name);
                let size = self.ok(quantity::size(size))?;
                let file_name = self.literal(filename, "a file name")?;
                let content_type = content_type
                    .as_ref()
                    .and_then(|t| self.literal(t, "a content type"));
                // Random-looking but reproducible content, made once.
                let mut state = 0x9E37_79B9_7F4A_7C15u64;
                let bytes: Vec<u8> = (0..size)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                Some(ir::Part::Generated {
                    name,
                    file_name,
                    bytes: bytes.into(),
                    content_type,
                })
            }
        }
    }

    fn json(&mut self, j: &ast::Json) -> ir::JsonTemplate {
        let t = match j {
            ast::Json::Object { members, .. } => ir::JsonTemplate::Object(
                members
                    .iter()
                    .map(|(k, v)| {
                        let key = self.template(k);
                        let value = self.json(v);
                        if key.as_literal().is_some_and(secret::is_secret_name) {
                            self.secret_json(&value);
                        }
                        (key, value)
                    })
                    .collect(),
            ),
            ast::Json::Array { items, .. } => {
                ir::JsonTemplate::Array(items.iter().map(|i| self.json(i)).collect())
            }
            ast::Json::Scalar(ast::Value::Str(t)) => {
                let t = self.template(t);
                match t.as_literal() {
                    Some(s) => ir::JsonTemplate::Static(Value::String(s.to_string())),
                    None => ir::JsonTemplate::Text(t),
                }
            }
            ast::Json::Scalar(v) => match self.value(v) {
                ir::Expr::Literal(v) => ir::JsonTemplate::Static(v),
                e => ir::JsonTemplate::Typed(e),
            },
        };
        fold_static(t)
    }

    fn check(&mut self, c: &ast::Check) -> Option<ir::Check> {
        let source = self.text(c.span).trim().to_string();
        let kind = match &c.kind {
            ast::CheckKind::Status { items, .. } => {
                // Every item is checked, so that each mistake in a list is reported.
                let mut ranges = Vec::new();
                let mut failed = false;
                for item in items {
                    let range = match item {
                        ast::StatusItem::Code(q) => self.status_code(q).map(|c| (c, c)),
                        ast::StatusItem::Range(a, b) => {
                            match (self.status_code(a), self.status_code(b)) {
                                (Some(x), Some(y)) if x > y => {
                                    self.error(error::invalid_status(
                                        &format!("{}..{}", a.text, b.text),
                                        a.span.to(b.span),
                                        "the range runs from high to low",
                                    ));
                                    None
                                }
                                (Some(x), Some(y)) => Some((x, y)),
                                _ => None,
                            }
                        }
                    };
                    failed |= range.is_none();
                    ranges.extend(range);
                }
                if failed {
                    return None;
                }
                ir::CheckKind::Status(ranges)
            }
            ast::CheckKind::Header { name, predicate } => {
                let Ok(header) = reqwest::header::HeaderName::from_bytes(name.name.as_bytes())
                else {
                    self.error(error::invalid_header_name(&name.name, name.span));
                    return None;
                };
                ir::CheckKind::Header {
                    name: header,
                    predicate: self.predicate(predicate)?,
                }
            }
            ast::CheckKind::JsonPath { path, predicate } => {
                // Both halves are compiled, so that a mistake in each is reported.
                let query = self.jsonpath(path);
                let predicate = self.predicate(predicate);
                ir::CheckKind::JsonPath {
                    query: Box::new(query?),
                    predicate: predicate?,
                }
            }
            ast::CheckKind::Body { predicate } => ir::CheckKind::Body {
                predicate: self.predicate(predicate)?,
            },
            ast::CheckKind::Duration { op, op_span, bound } => {
                if matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    self.error(error::equality_on_bound(
                        "a duration check",
                        op.symbol(),
                        *op_span,
                        "check duration < 500ms",
                    ));
                    return None;
                }
                ir::CheckKind::Duration {
                    op: *op,
                    bound: self.ok(quantity::response_time(bound))?,
                }
            }
        };
        let operand = match &c.kind {
            ast::CheckKind::Header { predicate, .. }
            | ast::CheckKind::JsonPath { predicate, .. }
            | ast::CheckKind::Body { predicate } => match &predicate.kind {
                ast::PredicateKind::Contains(v) | ast::PredicateKind::Compare { value: v, .. } => {
                    Some(v)
                }
                ast::PredicateKind::Exists | ast::PredicateKind::Matches(_) => None,
            },
            ast::CheckKind::Status { .. } | ast::CheckKind::Duration { .. } => None,
        };
        let operand_at = operand
            .filter(|v| match v {
                ast::Value::Interp { .. } => true,
                ast::Value::Str(t) => t.literal().is_none(),
                _ => false,
            })
            .map(|v| v.span().start - c.span.start)
            .filter(|at| source.is_char_boundary(*at) && *at <= source.len());
        Some(ir::Check {
            kind,
            source,
            operand_at,
            // Decided once every secret variable is known (`secret::hide_secret_checks`).
            secret: false,
        })
    }

    fn status_code(&mut self, q: &ast::Quantity) -> Option<u16> {
        match q.text.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Some(c),
            _ => {
                self.error(error::invalid_status(
                    &q.text,
                    q.span,
                    "status codes are 100 to 599",
                ));
                None
            }
        }
    }

    fn jsonpath(&mut self, path: &ast::Template) -> Option<jsonpath_rust::parser::model::JpQuery> {
        let text = self.literal(path, "a JSON path")?;
        match jsonpath_rust::parser::parse_json_path(&text) {
            Ok(q) => Some(q),
            Err(e) => {
                let (span, reason) = match &e {
                    jsonpath_rust::parser::errors::JsonPathError::PestError(pe) => {
                        let pos = match pe.location {
                            pest::error::InputLocation::Pos(p) => p,
                            pest::error::InputLocation::Span((s, _)) => s,
                        };
                        // Offsets into the decoded path are offsets into the file only
                        // when nothing was escaped; then point at the character there.
                        let inner = Span::new(
                            (path.span.start + 1).min(path.span.end),
                            path.span.end.saturating_sub(1).max(path.span.start),
                        );
                        let raw = self.text(inner);
                        let span = match raw.get(pos..).filter(|_| raw == text) {
                            Some(rest) => {
                                let width = rest.chars().next().map_or(1, char::len_utf8);
                                let start = inner.start + pos;
                                Span::new(start, (start + width).min(path.span.end))
                            }
                            None => path.span,
                        };
                        (span, pe.variant.message().into_owned())
                    }
                    other => (path.span, other.to_string()),
                };
                self.error(error::invalid_jsonpath(&text, span, &reason));
                None
            }
        }
    }

    fn regex(&mut self, t: &ast::Template) -> Option<regex::Regex> {
        let text = self.literal(t, "a regular expression")?;
        match regex::Regex::new(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(error::invalid_regex(&text, t.span, &e.to_string()));
                None
            }
        }
    }

    pub(super) fn predicate(&mut self, p: &ast::Predicate) -> Option<ir::Predicate> {
        let kind = match &p.kind {
            ast::PredicateKind::Exists => ir::PredicateKind::Exists,
            ast::PredicateKind::Contains(v) => ir::PredicateKind::Contains(self.value(v)),
            ast::PredicateKind::Matches(t) => ir::PredicateKind::Matches(self.regex(t)?),
            ast::PredicateKind::Compare { op, value } => {
                let ordered = matches!(
                    op,
                    CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
                );
                if ordered
                    && matches!(
                        value,
                        ast::Value::Str(_) | ast::Value::Bool { .. } | ast::Value::Null { .. }
                    )
                {
                    self.error(error::comparison_type(value.span(), op.symbol()));
                    return None;
                }
                ir::PredicateKind::Compare(*op, self.value(value))
            }
        };
        Some(ir::Predicate {
            negated: p.negated,
            kind,
        })
    }

    fn capture(&mut self, c: &ast::Capture) -> Option<ir::Capture> {
        let source_text = self.text(c.span).trim().to_string();
        if !self.captures.iter().any(|(n, _)| *n == c.name.name) {
            self.captures.push((c.name.name.clone(), c.name.span));
        }
        let source = match &c.source {
            ast::CaptureSource::JsonPath { path, mode } => ir::CaptureSource::JsonPath {
                query: Box::new(self.jsonpath(path)?),
                mode: mode.unwrap_or(CaptureMode::First),
            },
            ast::CaptureSource::Header { name } => {
                match reqwest::header::HeaderName::from_bytes(name.name.as_bytes()) {
                    Ok(h) => ir::CaptureSource::Header(h),
                    Err(_) => {
                        self.error(error::invalid_header_name(&name.name, name.span));
                        return None;
                    }
                }
            }
            ast::CaptureSource::Cookie { name } => ir::CaptureSource::Cookie(self.param_name(name)),
            ast::CaptureSource::Regex { pattern } => ir::CaptureSource::Regex(self.regex(pattern)?),
        };
        let var = self.var(&c.name.name);
        self.secret_var(c.secret, var, None);
        Some(ir::Capture {
            var,
            source,
            source_text,
        })
    }
}

/// Collapses parts of a JSON template that hold no interpolation into one static value.
fn fold_static(t: ir::JsonTemplate) -> ir::JsonTemplate {
    match t {
        ir::JsonTemplate::Object(members) => {
            if members
                .iter()
                .all(|(k, v)| k.as_literal().is_some() && matches!(v, ir::JsonTemplate::Static(_)))
            {
                let map = members
                    .into_iter()
                    .map(|(k, v)| match v {
                        ir::JsonTemplate::Static(v) => {
                            (k.as_literal().unwrap_or_default().to_string(), v)
                        }
                        _ => unreachable!("checked above: every member is static"),
                    })
                    .collect();
                ir::JsonTemplate::Static(Value::Object(map))
            } else {
                ir::JsonTemplate::Object(members)
            }
        }
        ir::JsonTemplate::Array(items) => {
            if items
                .iter()
                .all(|v| matches!(v, ir::JsonTemplate::Static(_)))
            {
                let items = items
                    .into_iter()
                    .map(|v| match v {
                        ir::JsonTemplate::Static(v) => v,
                        _ => unreachable!("checked above: every item is static"),
                    })
                    .collect();
                ir::JsonTemplate::Static(Value::Array(items))
            } else {
                ir::JsonTemplate::Array(items)
            }
        }
        other => other,
    }
}
