//! Writing the scenario text. The text is then parsed and laid out by the formatter, so only
//! its content matters here, not its spacing; what matters is that every value is quoted and
//! escaped exactly as the language reads it.

use std::collections::HashMap;
use std::fmt::Write;

use super::correlate::Capture;
use super::journey::{Journey, Step, duration_text};
use super::recording::{Body, Call, Json, Part, Piece, Template};
use super::secrets::FEED;

/// Everything the scenario is written from.
pub struct Scenario<'a> {
    pub title: &'a str,
    pub class: &'a str,
    pub host: Option<&'a str>,
    /// Lines of the comment at the top.
    pub notes: &'a [String],
    /// The credentials data file, as the scenario refers to it, when there is one.
    pub data_path: Option<&'a str>,
    pub calls: &'a [Call],
    pub captures: &'a [Vec<Capture>],
    pub journey: &'a Journey,
}

/// The scenario as text (not yet in the formatter's layout).
pub fn emit(s: &Scenario) -> String {
    let shared = hoist(s.calls, s.captures);
    let mut out = String::new();
    for note in s.notes {
        if note.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {note}");
        }
    }
    let _ = writeln!(out, "scenario {} {{", quoted_text(s.title));
    if let Some(host) = s.host {
        let _ = writeln!(out, "host {}", quoted_text(host));
    }
    for (name, value) in &shared.scenario {
        let _ = writeln!(out, "header {name}: {}", quoted(value));
    }
    out.push_str("}\n\n");
    if let Some(path) = s.data_path {
        let _ = writeln!(
            out,
            "data {FEED} from {} # placeholders: fill in before running\n",
            quoted_text(path)
        );
    }
    let _ = writeln!(out, "user {} {{", s.class);
    for (name, value) in &shared.class {
        let _ = writeln!(out, "header {name}: {}", quoted(value));
    }
    out.push('\n');
    if !s.journey.on_start.is_empty() {
        out.push_str("on start {\n");
        steps(&mut out, s, &shared, &s.journey.on_start);
        out.push_str("}\n\n");
    }
    out.push_str("sequence journey {\n");
    for (i, task) in s.journey.tasks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "task {} {{", task.name);
        steps(&mut out, s, &shared, &task.steps);
        out.push_str("}\n");
    }
    out.push_str("}\n}\n");
    out
}

fn steps(out: &mut String, s: &Scenario, shared: &Shared, steps: &[Step]) {
    for step in steps {
        match step {
            Step::Sleep { ms, recorded: None } => {
                let _ = writeln!(out, "sleep {}", duration_text(*ms));
            }
            Step::Sleep {
                ms,
                recorded: Some(r),
            } => {
                let _ = writeln!(
                    out,
                    "sleep {} # shortened: the recording paused {}",
                    duration_text(*ms),
                    long_duration(*r)
                );
            }
            Step::Request(i) => request(out, &s.calls[*i], &s.captures[*i], |h| {
                !shared.removed.contains(&(*i, h))
            }),
        }
    }
}

/// `3m16s`, `1h2m`.
fn long_duration(ms: u64) -> String {
    let secs = (ms + 500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

fn request(
    out: &mut String,
    call: &Call,
    captures: &[Capture],
    keep_header: impl Fn(usize) -> bool,
) {
    let mut url = Template::text(call.origin.clone().unwrap_or_default());
    url.0.extend(call.path_template().0);
    let _ = writeln!(out, "{} {} {{", call.method, quoted(&url));
    if let Some(name) = super::naming::stat_name(call) {
        let _ = writeln!(out, "name {}", quoted_text(&name));
    }
    for (i, (name, value)) in call.headers.iter().enumerate() {
        if keep_header(i) {
            let _ = writeln!(out, "header {name}: {}", quoted(value));
        }
    }
    for (key, value) in &call.query {
        let _ = writeln!(out, "query {}: {}", param_name(key), quoted(value));
    }
    match &call.body {
        Body::None => {}
        Body::Json(j) => {
            out.push_str("json ");
            json(out, j);
            out.push('\n');
        }
        Body::Form(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", param_name(k), quoted(v)))
                .collect();
            let _ = writeln!(out, "form {{ {} }}", fields.join(", "));
        }
        Body::Multipart(parts) => {
            out.push_str("multipart {\n");
            for p in parts {
                match p {
                    Part::Field(k, v) => {
                        let _ = writeln!(out, "field {}: {}", param_name(k), quoted(v));
                    }
                    Part::File {
                        name,
                        file_name,
                        content_type,
                        size,
                    } => {
                        let _ = write!(
                            out,
                            "file {}: random {}B named {}",
                            param_name(name),
                            size.min(&100_000_000),
                            quoted_text(file_name)
                        );
                        if let Some(t) = content_type {
                            let _ = write!(out, " type {}", quoted_text(t));
                        }
                        out.push('\n');
                    }
                }
            }
            out.push_str("}\n");
        }
        Body::Raw { text, content_type } => {
            let _ = write!(out, "body {}", quoted(text));
            if let Some(t) = content_type {
                let _ = write!(out, " type {}", quoted_text(t));
            }
            out.push('\n');
        }
    }
    // A redirect is replayed as recorded: the request that follows it is in the recording too.
    let status = match call.status {
        // The conditional headers that got a 304 are not replayed: a replay gets the page.
        304 => 200,
        s => s,
    };
    if (300..400).contains(&status) {
        out.push_str("redirects off\n");
    }
    // A status outside HTTP's range (some recorders write their own) cannot be checked.
    if (100..=599).contains(&status) {
        let _ = writeln!(out, "check status {status}");
    }
    for c in captures {
        let (kind, what, random) = c.source();
        let what = match kind {
            "jsonpath" | "regex" => quoted_text(&what),
            "cookie" => param_name(&what),
            _ => what,
        };
        let _ = writeln!(
            out,
            "capture {} = {kind} {what}{}",
            c.var,
            if random { " random" } else { "" }
        );
    }
    out.push_str("}\n");
}

fn json(out: &mut String, j: &Json) {
    match j {
        Json::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&quoted_text(k));
                out.push_str(": ");
                json(out, v);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json(out, v);
            }
            out.push(']');
        }
        Json::String(t) => out.push_str(&quoted(t)),
        Json::Number(t) => match (t.sole_var(), t.as_text()) {
            (Some(var), _) => {
                let _ = write!(out, "{{{{ {var} }}}}");
            }
            (None, Some(text)) => out.push_str(&text),
            // A number is a whole value, never partly a variable; keep it as text if it is.
            (None, None) => out.push_str(&quoted(t)),
        },
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Null => out.push_str("null"),
    }
}

/// A query, form or multipart name: bare when the language allows, else in quotes.
fn param_name(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.[]".contains(c));
    if bare {
        name.to_string()
    } else {
        quoted_text(name)
    }
}

/// Plain text in quotes.
pub fn quoted_text(s: &str) -> String {
    quoted(&Template::text(s))
}

/// A value in quotes: text escaped, variables as `{{ name }}`.
pub fn quoted(t: &Template) -> String {
    let mut out = String::from("\"");
    for (i, p) in t.0.iter().enumerate() {
        match p {
            Piece::Text(s) => {
                let var_follows = matches!(t.0.get(i + 1), Some(Piece::Var(_)));
                escape_into(s, var_follows, &mut out);
            }
            Piece::Var(v) => {
                let _ = write!(out, "{{{{ {v} }}}}");
            }
        }
    }
    out.push('"');
    out
}

/// Escapes text for the inside of a string: quotes, backslashes, control characters, and a
/// `{` that would start `{{` with the character after it.
fn escape_into(s: &str, var_follows: bool, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '{' if chars.peek() == Some(&'{') || (chars.peek().is_none() && var_follows) => {
                out.push_str("\\{")
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Headers moved out of the requests: to the scenario when every request sends the same
/// value, to the user class when they carry a variable that every request sends from the
/// moment it has a value (an `Authorization: Bearer {{ access }}` after the login).
#[derive(Default)]
struct Shared {
    scenario: Vec<(String, Template)>,
    class: Vec<(String, Template)>,
    /// (call, header index) pairs no longer written in the request.
    removed: std::collections::HashSet<(usize, usize)>,
}

fn hoist(calls: &[Call], captures: &[Vec<Capture>]) -> Shared {
    let mut shared = Shared::default();
    if calls.len() < 2 {
        return shared;
    }
    let source: HashMap<&str, usize> = captures
        .iter()
        .enumerate()
        .flat_map(|(i, cs)| cs.iter().map(move |c| (c.var.as_str(), i)))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for call in calls {
        for (name, _) in &call.headers {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
    }
    for name in names {
        // Which calls send it, and how.
        let sent: Vec<Option<(usize, &Template)>> = calls
            .iter()
            .map(|c| {
                let mut found = c
                    .headers
                    .iter()
                    .enumerate()
                    .filter(|(_, (n, _))| n.eq_ignore_ascii_case(&name));
                match (found.next(), found.next()) {
                    (Some((i, (_, t))), None) => Some((i, t)),
                    _ => None,
                }
            })
            .collect();
        let Some(first) = sent.iter().position(Option::is_some) else {
            continue;
        };
        let Some((_, value)) = sent[first] else {
            continue;
        };
        let none_before = calls[..first]
            .iter()
            .all(|c| !c.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)));
        let everywhere = sent.iter().all(|s| s.is_some_and(|(_, t)| t == value));
        // A page load (a navigation) never carries the application's own headers; a class
        // header with a variable may be added to it without changing what the server does.
        let from_first = sent[first..]
            .iter()
            .zip(&calls[first..])
            .all(|(s, c)| match s {
                Some((_, t)) => *t == value,
                None => c.document,
            });
        if !(none_before && (everywhere || (value.has_var() && from_first))) {
            continue;
        }
        // A class header with a variable is left out until the variable has a value: the
        // calls before `first` must be exactly those without it.
        let vars_start_at_first = value.0.iter().all(|p| match p {
            Piece::Text(_) => true,
            Piece::Var(v) if v.starts_with(&format!("{FEED}.")) => first == 0,
            Piece::Var(v) => source.get(v.as_str()).is_some_and(|&s| s + 1 == first),
        });
        let target = if first == 0 && !value.has_var() {
            &mut shared.scenario
        } else if value.has_var() && vars_start_at_first {
            &mut shared.class
        } else {
            continue;
        };
        target.push((name.clone(), value.clone()));
        for (call, s) in sent.iter().enumerate() {
            if let Some((h, _)) = s {
                shared.removed.insert((call, *h));
            }
        }
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quoted_text(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(quoted_text("{{x}} {y}"), r#""\{{x}} {y}""#);
        assert_eq!(quoted_text("line\nnext\u{1}"), r#""line\nnext\u{1}""#);
        let t = Template(vec![
            Piece::Text("{".to_string()),
            Piece::Var("id".to_string()),
            Piece::Text("}".to_string()),
        ]);
        assert_eq!(quoted(&t), r#""\{{{ id }}}""#);
        assert_eq!(param_name("filter[name]"), "filter[name]");
        assert_eq!(param_name("a b"), "\"a b\"");
    }

    /// Every quoted value reads back as the text it was made from.
    #[test]
    fn quoted_text_round_trips_through_the_parser() {
        for text in [
            "plain", "{{", "{{{", "a{", "}}", "\\{", "\"", "é ☕", "\u{7f}\t",
        ] {
            let src = format!(
                "user U {{\n  task t {{\n    GET \"/\" {{\n      name {}\n    }}\n  }}\n}}\n",
                quoted_text(text)
            );
            let file = crate::syntax::parse(&src).unwrap_or_else(|d| panic!("{text:?}: {d:?}"));
            let crate::syntax::ast::Item::User(u) = &file.items[0] else {
                panic!()
            };
            let crate::syntax::ast::UserItem::Task(t) = &u.items[0] else {
                panic!()
            };
            let crate::syntax::ast::Step::Request(r) = &t.steps[0] else {
                panic!()
            };
            let Some(crate::syntax::ast::RequestItem::Name { name, .. }) =
                r.items.as_ref().and_then(|i| i.first())
            else {
                panic!()
            };
            assert_eq!(name.literal().as_deref(), Some(text), "{src}");
        }
    }

    #[test]
    fn long_pauses() {
        assert_eq!(long_duration(195_800), "3m16s");
        assert_eq!(long_duration(120_000), "2m");
        assert_eq!(long_duration(3_725_000), "1h2m");
    }
}
