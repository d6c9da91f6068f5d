//! Which values of a scenario are secret (see [`crate::redact`] for what happens to them).
//!
//! The compiler decides two things. Which *variables* hold secrets: those marked
//! `let secret` or `capture secret`, and those sent in an `Authorization`, `Cookie` or
//! similar header, in `auth`, or in a field named like a password (`password`, `api_key`,
//! `token`...). And which *literal values written in the file* are secrets: the value of a
//! `let secret`, a secret header or `auth` written out in full, the password of a URL, a
//! password field's value. The run masks those from its first request, in the scenario
//! source copied into reports too. Data-feed values and `env()` values are secrets at run
//! time whatever their names.
//!
//! Once the plan is complete, [`hide_secret_checks`] makes the checks that compare with a
//! secret name themselves as written and never show what they got: that holds by
//! construction, even for a value too short to be masked.

use serde_json::Value;

use super::{Compiler, error};
use crate::ir::{self, Function, VarId};
use crate::redact::MIN_LEN;
use crate::span::Span;

impl Compiler<'_> {
    /// `let secret NAME = VALUE` or `capture secret NAME = ...` (`marker` is the span of
    /// `secret`); `value` is the `let`'s expression.
    pub(super) fn secret_var(
        &mut self,
        marker: Option<Span>,
        var: VarId,
        value: Option<&ir::Expr>,
    ) {
        let Some(marker) = marker else {
            return;
        };
        self.secret_vars.insert(var);
        let Some(text) = value.and_then(literal_text) else {
            return;
        };
        if text.chars().count() < MIN_LEN {
            let name = &self.var_names[var as usize];
            self.diags.push(error::short_secret(name, marker, MIN_LEN));
        }
        self.secret_literal(&text);
    }

    /// A value written in the file that is a secret.
    pub(super) fn secret_literal(&mut self, text: &str) {
        if text.chars().count() >= MIN_LEN {
            self.secret_literals.insert(text.to_string());
        }
    }

    /// A secret value: written out in full, it is a literal secret; otherwise the variables
    /// it reads are secret.
    pub(super) fn secret_template(&mut self, t: &ir::Template) {
        match t.as_literal() {
            Some(text) => {
                let text = text.to_string();
                self.secret_literal(&text);
            }
            None => {
                for segment in &t.segments {
                    if let ir::Segment::Expr(e) = segment {
                        super::expr::mark_vars(e, &mut self.secret_vars);
                    }
                }
            }
        }
    }

    /// The value of a JSON member whose name is a secret's (`"password": ...`).
    pub(super) fn secret_json(&mut self, v: &ir::JsonTemplate) {
        match v {
            ir::JsonTemplate::Static(v) => {
                if let Some(text) = literal_value(v) {
                    self.secret_literal(&text);
                }
            }
            ir::JsonTemplate::Text(t) => self.secret_template(t),
            ir::JsonTemplate::Typed(e) => super::expr::mark_vars(e, &mut self.secret_vars),
            ir::JsonTemplate::Object(_) | ir::JsonTemplate::Array(_) => {}
        }
    }

    /// The credentials of a URL written out in the file (`http://user:password@host`).
    pub(super) fn url_credentials(&mut self, url: &str) {
        for secret in crate::redact::url_credentials(url) {
            self.secret_literal(&secret);
        }
    }

    /// The query parameters of a URL written out in full, named like a password
    /// (`/login?password=...`): their values as written and decoded.
    pub(super) fn url_query_secrets(&mut self, url: &str) {
        let Some((_, query)) = url.split_once('?') else {
            return;
        };
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            let Some((name, raw)) = pair.split_once('=') else {
                continue;
            };
            let decoded = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if is_secret_name(&decoded(name)) {
                self.secret_literal(raw);
                self.secret_literal(&decoded(raw));
            }
        }
    }
}

/// Whether a field, parameter or JSON member with this name holds a secret: a password, a
/// token, an API key, a PIN...
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if [
        "passw",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return true;
    }
    // Whole words only: `pin` but not `shipping`, `api_key` but not `sort_key`.
    let words: Vec<String> = words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    ["pass", "pwd", "pin", "otp", "cvv", "cvc", "ssn"]
        .iter()
        .any(|w| has(w))
        || words.windows(2).any(|pair| {
            pair[1] == "key" && matches!(pair[0].as_str(), "api" | "private" | "access" | "secret")
        })
}

/// `api_key`, `apiKey`, `API-Key` → `["api", "key"]`.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The text of a literal expression (text or a number), as it would be sent.
fn literal_text(e: &ir::Expr) -> Option<String> {
    match e {
        ir::Expr::Literal(v) => literal_value(v),
        _ => None,
    }
}

fn literal_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether evaluating `e` reads a secret: a secret variable, a data-feed column or `env()`.
pub fn reads_secret(e: &ir::Expr, secret_vars: &[bool]) -> bool {
    match e {
        ir::Expr::Var(id) => secret_vars.get(*id as usize).copied().unwrap_or(false),
        ir::Expr::FeedColumn { .. } => true,
        ir::Expr::Call(Function::Env, _) => true,
        ir::Expr::Call(_, args) | ir::Expr::List(args) => {
            args.iter().any(|a| reads_secret(a, secret_vars))
        }
        ir::Expr::Template(t) => t.segments.iter().any(|s| match s {
            ir::Segment::Expr(e) => reads_secret(e, secret_vars),
            ir::Segment::Text(_) => false,
        }),
        ir::Expr::Literal(_) => false,
    }
}

/// Checks that compare with a secret (`check jsonpath "$.token" == {{ token }}`) or look at
/// a secret header are named as written, never with the value, and a failure says what was
/// found as `***`: what the response held is likely the same kind of secret.
pub(super) fn hide_secret_checks(plan: &mut ir::Plan) {
    let secret_vars = plan.secret_vars.clone();
    let hide = |steps: &mut [ir::Step]| for_each_check(steps, &mut |c| hide_check(c, &secret_vars));
    for class in &mut plan.classes {
        hide(&mut class.on_start);
        hide(&mut class.on_stop);
        for task in &mut class.tasks {
            match &mut task.body {
                ir::TaskBody::Steps(steps) => hide(steps),
                ir::TaskBody::Sequence(inner) => {
                    for (_, steps) in inner {
                        hide(steps);
                    }
                }
            }
        }
    }
}

/// The secrets written in the file are masked in what the plan shows as written: request
/// names (a URL as written, `/login?password=...`, names the request's statistics, so it is
/// in every report, snapshot and metric label), the thresholds that select those names, and
/// the URLs and conditions `kload inspect` and runtime messages quote. Done once here, so that
/// nothing downstream has to remember; names stay consistent between runs (the same `***`).
pub(super) fn mask_written_secrets(plan: &mut ir::Plan) {
    let Some(secrets) = written_secrets(plan) else {
        return;
    };
    let mask = |text: &mut String| {
        let masked = secrets.redact_all(text);
        if masked != *text {
            *text = masked;
        }
    };
    for stat in &mut plan.stats {
        mask(&mut stat.name);
    }
    for t in &mut plan.thresholds {
        mask(&mut t.source);
        if let crate::metrics::threshold::Selector::Name(name) = &mut t.selector {
            mask(name);
        }
    }
    let steps_of = |steps: &mut [ir::Step]| {
        for_each_step(steps, &mut |step| match step {
            ir::Step::Request(r) => mask(&mut r.url.source),
            ir::Step::If(i) => mask(&mut i.condition.source),
            _ => {}
        })
    };
    for class in &mut plan.classes {
        steps_of(&mut class.on_start);
        steps_of(&mut class.on_stop);
        for task in &mut class.tasks {
            match &mut task.body {
                ir::TaskBody::Steps(steps) => steps_of(steps),
                ir::TaskBody::Sequence(inner) => {
                    for (_, steps) in inner {
                        steps_of(steps);
                    }
                }
            }
        }
    }
}

/// The secrets written in the plan's file, to mask text with; `None` when there are none.
pub(super) fn written_secrets(plan: &ir::Plan) -> Option<crate::redact::Secrets> {
    if plan.secret_literals.is_empty() {
        return None;
    }
    let secrets = crate::redact::Secrets::new();
    for literal in &plan.secret_literals {
        secrets.remember(literal);
    }
    Some(secrets)
}

/// Every step, those inside `if` and `repeat` included, the outer one first.
fn for_each_step(steps: &mut [ir::Step], f: &mut impl FnMut(&mut ir::Step)) {
    for step in steps {
        f(step);
        match step {
            ir::Step::If(i) => {
                for_each_step(&mut i.then, f);
                for_each_step(&mut i.otherwise, f);
            }
            ir::Step::Repeat(_, body) => for_each_step(body, f),
            _ => {}
        }
    }
}

fn hide_check(c: &mut ir::Check, secret_vars: &[bool]) {
    let predicate = match &c.kind {
        ir::CheckKind::Header { name, predicate } => {
            if crate::redact::is_secret_header(name.as_str()) {
                c.secret = true;
            }
            predicate
        }
        ir::CheckKind::JsonPath { predicate, .. } | ir::CheckKind::Body { predicate } => predicate,
        ir::CheckKind::Status(_) | ir::CheckKind::Duration { .. } => return,
    };
    let operand = match &predicate.kind {
        ir::PredicateKind::Contains(e) | ir::PredicateKind::Compare(_, e) => e,
        ir::PredicateKind::Exists | ir::PredicateKind::Matches(_) => return,
    };
    if reads_secret(operand, secret_vars) {
        c.secret = true;
        c.operand_at = None;
    }
}

fn for_each_check(steps: &mut [ir::Step], f: &mut impl FnMut(&mut ir::Check)) {
    for step in steps {
        match step {
            ir::Step::Request(r) => r.checks.iter_mut().for_each(&mut *f),
            ir::Step::If(i) => {
                for_each_check(&mut i.then, f);
                for_each_check(&mut i.otherwise, f);
            }
            ir::Step::Repeat(_, body) => for_each_check(body, f),
            ir::Step::Let(..) | ir::Step::Sleep(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "password",
            "Password",
            "new_password",
            "passwd",
            "pass",
            "user_pass",
            "pwd",
            "client_secret",
            "access_token",
            "csrfmiddlewaretoken",
            "apiKey",
            "api_key",
            "API-Key",
            "x-api-key",
            "apikey",
            "private_key",
            "pin",
            "card_cvv",
            "otp",
            "credentials",
            "passphrase",
        ] {
            assert!(is_secret_name(name), "{name} is a secret's name");
        }
        for name in [
            "username",
            "email",
            "shipping",
            "passenger",
            "compass",
            "sort_key",
            "key",
            "monkey",
            "page",
            "pinned",
            "bypass_cache",
        ] {
            assert!(!is_secret_name(name), "{name} is not a secret's name");
        }
    }

    #[test]
    fn words_split_on_case_and_punctuation() {
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("API-Key"), ["api", "key"]);
        assert_eq!(words("x_api_key2"), ["x", "api", "key2"]);
        assert_eq!(words("HTTPServer"), ["httpserver"]);
    }
}
