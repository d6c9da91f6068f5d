//! Evaluating expressions and rendering templates for one virtual user.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::Value;

use crate::ir::{Expr, Function, JsonTemplate, Plan, Segment, Template};

/// A template or expression that could not be evaluated at run time (a variable that a
/// failed capture never set, `choice` of an empty list, a missing environment variable).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError(pub String);

/// Per-user state an expression can read and change.
pub struct UserState {
    pub user_id: u64,
    pub vars: Vec<Option<Value>>,
    /// This user's secrets (its data-feed values, secret variables, auth headers, cookies).
    pub secrets: crate::redact::UserSecrets,
    /// The data-feed row this user drew, per feed (`None` for feeds the class doesn't use).
    pub rows: Vec<Option<Arc<[String]>>>,
    pub rng: SmallRng,
    pub user_seq: u64,
}

/// State shared by every user of a run.
pub struct Globals {
    pub plan: Arc<Plan>,
    pub seq: AtomicU64,
    /// Every secret of the run (see `redact`).
    pub secrets: Arc<crate::redact::Secrets>,
}

impl UserState {
    /// Remembers a secret value of this user (and for the run's final scrub).
    pub fn secret(&mut self, value: &str, globals: &Globals) {
        if self.secrets.add(value) {
            globals.secrets.remember(value);
        }
    }

    /// Sets variable `var`; a secret variable's value is remembered as a secret.
    pub fn set_var(&mut self, var: crate::ir::VarId, value: Value, globals: &Globals) {
        if globals
            .plan
            .secret_vars
            .get(var as usize)
            .copied()
            .unwrap_or(false)
        {
            self.secret(&to_text(&value), globals);
        }
        if let Some(slot) = self.vars.get_mut(var as usize) {
            *slot = Some(value);
        }
    }

    /// `text` without any secret this user or the run knows of.
    pub fn redact(&self, text: &str, globals: &Globals) -> String {
        let mine = self.secrets.redact(text);
        globals.secrets.redact_shared(&mine).into_owned()
    }
}

pub fn eval(expr: &Expr, user: &mut UserState, globals: &Globals) -> Result<Value, EvalError> {
    Ok(match expr {
        Expr::Literal(v) => v.clone(),
        Expr::Var(id) => match user.vars.get(*id as usize).and_then(Option::as_ref) {
            Some(v) => v.clone(),
            None => {
                let name = globals
                    .plan
                    .variables
                    .get(*id as usize)
                    .map_or("?", String::as_str);
                return Err(EvalError(format!(
                    "variable `{name}` is not set (did a capture fail?)"
                )));
            }
        },
        Expr::FeedColumn { feed, column } => {
            match user.rows.get(*feed as usize).and_then(Option::as_ref) {
                Some(row) => Value::String(row.get(*column).cloned().unwrap_or_default()),
                None => return Err(EvalError("this user has no data-feed row".into())),
            }
        }
        Expr::List(items) => Value::Array(
            items
                .iter()
                .map(|i| eval(i, user, globals))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Template(t) => Value::String(render(t, user, globals)?),
        Expr::Call(f, args) => call(*f, args, user, globals)?,
    })
}

fn call(
    f: Function,
    args: &[Expr],
    user: &mut UserState,
    globals: &Globals,
) -> Result<Value, EvalError> {
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        values.push(eval(a, user, globals)?);
    }
    Ok(match f {
        Function::Env => {
            let name = to_text(&values[0]);
            match std::env::var(&name) {
                Ok(v) => {
                    // An environment variable may hold a credential: never printed.
                    globals.secrets.add_shared(&v);
                    Value::String(v)
                }
                Err(_) => match values.get(1) {
                    Some(d) => d.clone(),
                    None => {
                        return Err(EvalError(format!(
                            "environment variable `{name}` is not set"
                        )));
                    }
                },
            }
        }
        Function::RandomInt => {
            let (a, b) = (int(&values[0])?, int(&values[1])?);
            if a > b {
                return Err(EvalError(format!(
                    "random_int({a}, {b}): the smaller bound goes first"
                )));
            }
            Value::from(user.rng.random_range(a..=b))
        }
        Function::Choice => {
            let pool: Vec<Value> = match values.as_slice() {
                [Value::Array(items)] => items.clone(),
                other => other.to_vec(),
            };
            if pool.is_empty() {
                return Err(EvalError("choice() of an empty list".into()));
            }
            let i = user.rng.random_range(0..pool.len());
            pool.into_iter().nth(i).unwrap_or(Value::Null)
        }
        Function::Uuid => {
            let bytes: [u8; 16] = user.rng.random();
            Value::String(
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string(),
            )
        }
        Function::Now => {
            let now = chrono::Local::now();
            match values.first() {
                Some(fmt) => {
                    let mut out = String::new();
                    if write!(out, "{}", now.format(&to_text(fmt))).is_err() {
                        return Err(EvalError("now(): invalid format".into()));
                    }
                    Value::String(out)
                }
                None => Value::String(now.to_rfc3339()),
            }
        }
        Function::RandomString => {
            let len = int(&values[0])?.clamp(0, 4096) as usize;
            const ALPHABET: &[u8] =
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let s: String = (0..len)
                .map(|_| ALPHABET[user.rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            Value::String(s)
        }
        Function::Seq => Value::from(globals.seq.fetch_add(1, Ordering::Relaxed) + 1),
        Function::UserSeq => {
            user.user_seq += 1;
            Value::from(user.user_seq)
        }
        Function::UserId => Value::from(user.user_id),
        Function::Base64 => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(to_text(&values[0])))
        }
        Function::UrlEncode => {
            Value::String(utf8_percent_encode(&to_text(&values[0]), COMPONENT).to_string())
        }
    })
}

/// What `url_encode()` leaves as it is: RFC 3986's unreserved characters. Everything
/// else, `/`, `&`, `=`, `+` and spaces included, is percent-encoded, so the result is safe
/// in a path segment or a query value.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The value an `if` tests. A variable standing alone that has no value yet (a capture
/// that failed, a branch that did not run) is `None` rather than an error: it reads as
/// nothing, so `if {{ ids }}` is false and `if {{ ids }} not exists` true.
pub fn condition_value(
    expr: &Expr,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<Value>, EvalError> {
    if let Expr::Var(id) = expr {
        return Ok(user.vars.get(*id as usize).cloned().flatten());
    }
    eval(expr, user, globals).map(Some)
}

/// Truthiness in an `if`: nothing, `null`, `false`, `0`, empty text, an empty list and an
/// empty object are false; everything else is true.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

fn int(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| EvalError(format!("expected a whole number, got {v}")))
}

/// How a value reads inside text: strings as they are, everything else as JSON.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn render(t: &Template, user: &mut UserState, globals: &Globals) -> Result<String, EvalError> {
    if let Some(lit) = t.as_literal() {
        return Ok(lit.to_string());
    }
    let mut out = String::new();
    for s in &t.segments {
        match s {
            Segment::Text(text) => out.push_str(text),
            Segment::Expr(e) => match eval(e, user, globals)? {
                Value::String(s) => out.push_str(&s),
                other => {
                    let _ = write!(out, "{other}");
                }
            },
        }
    }
    Ok(out)
}

pub fn json(t: &JsonTemplate, user: &mut UserState, globals: &Globals) -> Result<Value, EvalError> {
    Ok(match t {
        JsonTemplate::Static(v) => v.clone(),
        JsonTemplate::Object(members) => {
            let mut map = serde_json::Map::with_capacity(members.len());
            for (k, v) in members {
                map.insert(render(k, user, globals)?, json(v, user, globals)?);
            }
            Value::Object(map)
        }
        JsonTemplate::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| json(i, user, globals))
                .collect::<Result<_, _>>()?,
        ),
        JsonTemplate::Text(t) => Value::String(render(t, user, globals)?),
        JsonTemplate::Typed(e) => eval(e, user, globals)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(Some(&v)), "{v} is false");
        }
        for v in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!("0"),
            json!(" "),
            json!([0]),
            json!({"a": null}),
        ] {
            assert!(truthy(Some(&v)), "{v} is true");
        }
        assert!(!truthy(None));
    }

    #[test]
    fn url_encode_keeps_only_unreserved_characters() {
        let encoded = utf8_percent_encode("a b/c?d=e&f+g~h.i_j-k é", COMPONENT).to_string();
        assert_eq!(encoded, "a%20b%2Fc%3Fd%3De%26f%2Bg~h.i_j-k%20%C3%A9");
    }
}
