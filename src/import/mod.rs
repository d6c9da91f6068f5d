//! `kload import har`: a recording (HAR from a browser, a proxy or Playwright) → a readable
//! scenario.
//!
//! The steps, one file each: [`har`] reads the file; [`filter`] keeps the application's own
//! requests (no static assets, no other sites); [`recording`] turns them into values that can
//! hold variables; [`correlate`] finds values a response gave (in JSON, headers, cookies, or
//! an HTML page's fields, see [`html`]) and a later request sent back, and makes them captures; [`secrets`] replaces what must not be copied (passwords, tokens,
//! cookies) by columns of a data file of placeholders; [`journey`] lays the requests out as
//! `on start` and a `sequence` of one task per page, with the recorded pauses; [`emit`]
//! writes the text. The text then goes through the project's own parser and formatter, so it
//! is canonical by construction, and is compiled before anything is written: an import that
//! does not compile, or that would leak a recorded secret, is our bug and is reported so.

pub mod correlate;
pub mod emit;
pub mod filter;
pub mod har;
pub mod html;
pub mod journey;
pub mod naming;
pub mod recording;
pub mod secrets;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use crate::compile::{self, Context};
use crate::diagnostic::{self, Diagnostic};
pub use filter::Options;
use filter::Tally;
use recording::{Call, SlotKind};
use secrets::{FEED, Secrets};

/// What an import produced.
#[derive(Debug)]
pub struct Imported {
    /// The scenario, in the formatter's layout.
    pub scenario: String,
    /// The credentials data file: its path relative to the scenario and its contents (the
    /// columns and one row of placeholders), when the recording had secrets to replace.
    pub data_file: Option<(String, String)>,
    /// What was kept, dropped, correlated and replaced, as lines (also the comment at the top
    /// of the scenario).
    pub notes: Vec<String>,
}

/// Why an import failed.
#[derive(Debug)]
pub enum ImportError {
    /// The file is not a HAR file; the diagnostic points into it.
    Har(Diagnostic),
    /// Nothing in the recording could be imported.
    Nothing { message: String, help: String },
    /// The generated scenario is wrong: a bug of the import, never of the recording.
    Bug {
        message: String,
        /// The generated text, for the report.
        scenario: String,
    },
}

/// Names taken from the files involved.
pub struct Names<'a> {
    /// The recording's file name, for the comment at the top (`checkout.har`).
    pub source: &'a str,
    /// The scenario's file stem, which names the scenario, its user class and its data file
    /// (`checkout` → `Checkout`, `data/checkout.credentials.csv`).
    pub stem: &'a str,
}

/// Turns a HAR file's text into a scenario. Does no I/O: see [`Imported::verify`] and
/// [`main`] for checking and writing it.
pub fn import_har(source: &str, names: &Names, options: &Options) -> Result<Imported, ImportError> {
    let har = har::parse(source).map_err(ImportError::Har)?;
    let entries = &har.log.entries;
    let selection = filter::select(entries, options);
    let tally = selection.tally();
    let timings = journey::timings(entries);
    // In the order they were sent, when the recording says (recorders write entries as they
    // finish, or in any order).
    let mut kept = selection.kept.clone();
    if kept.iter().all(|&i| timings[i].is_some()) {
        kept.sort_by(|&a, &b| {
            let start = |i: usize| timings[i].map_or(0.0, |t| t.0);
            start(a).total_cmp(&start(b))
        });
    }
    let mut calls = recording::calls(&har, &kept, selection.main_origin.as_deref());
    if calls.is_empty() {
        return Err(nothing(entries.len(), &tally));
    }

    let password_login = calls.iter_mut().position(sends_password);
    let correlation = correlate::correlate(&mut calls, &[FEED, "true", "false", "null"]);
    let login = password_login.or_else(|| token_issuer(&calls, &correlation));
    let mut secrets = Secrets::find(&mut calls);
    secrets.replace(&mut calls);

    let journey = journey::plan(&calls, &timings, login);
    let data_path =
        (!secrets.columns().is_empty()).then(|| format!("data/{}.{FEED}.csv", names.stem));
    let notes = notes(
        &har,
        names,
        &calls,
        &tally,
        &correlation,
        &secrets,
        &journey,
        data_path.as_deref(),
    );
    let text = emit::emit(&emit::Scenario {
        title: names.stem,
        class: &naming::class_name(names.stem),
        host: selection.main_origin.as_deref(),
        notes: &notes,
        data_path: data_path.as_deref(),
        calls: &calls,
        captures: &correlation.captures,
        journey: &journey,
    });
    let data_file = data_path.map(|p| (p, secrets.data_file()));
    let written = format!(
        "{text}{}",
        data_file.as_ref().map_or("", |(_, d)| d.as_str())
    );
    if let Some(value) = secrets.leaked(&written) {
        // Never print the value, nor the text that holds it.
        return Err(ImportError::Bug {
            message: format!(
                "a recorded secret ({} characters) would be written to the scenario",
                value.chars().count()
            ),
            scenario: String::new(),
        });
    }
    let file = crate::syntax::parse(&text).map_err(|d| ImportError::Bug {
        message: diagnostic::render(&d, "imported.kload", &text, false, 100),
        scenario: text.clone(),
    })?;
    let scenario = crate::syntax::format::format(&file, &text);
    Ok(Imported {
        scenario,
        data_file,
        notes,
    })
}

/// Whether a request sends a password (in its body or query).
fn sends_password(call: &mut Call) -> bool {
    let mut found = false;
    call.each_slot(&mut |slot, t| {
        if !matches!(slot.kind, SlotKind::Header { .. } | SlotKind::Path { .. })
            && slot.key().is_some_and(|k| secrets::is_password_key(&k))
            && t.as_text().is_some_and(|s| !s.is_empty())
        {
            found = true;
        }
    });
    found
}

/// Without a password, the login is the first request whose response gave a value later sent
/// in an `Authorization` header (a token endpoint called with a client secret, say).
fn token_issuer(calls: &[Call], correlation: &correlate::Correlation) -> Option<usize> {
    correlation
        .captures
        .iter()
        .enumerate()
        .find_map(|(i, caps)| {
            let used = calls[i + 1..].iter().any(|c| {
                c.headers.iter().any(|(n, t)| {
                    n.eq_ignore_ascii_case("authorization")
                    && t.0.iter().any(|p| {
                        matches!(p, recording::Piece::Var(v) if caps.iter().any(|c| &c.var == v))
                    })
                })
            });
            used.then_some(i)
        })
}

fn nothing(total: usize, tally: &Tally) -> ImportError {
    if total == 0 {
        return ImportError::Nothing {
            message: "the recording has no requests".to_string(),
            help: "record again with the network panel open (or Playwright's recordHar) while \
                   using the application"
                .to_string(),
        };
    }
    ImportError::Nothing {
        message: format!(
            "nothing to import: {} dropped ({})",
            plural(total, "request"),
            dropped_list(tally).join(", ")
        ),
        help: "--keep-static keeps static assets, --keep-host HOST the requests to a host"
            .to_string(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `2 static assets`, `3 requests to other hosts: a.com (2), b.com (1)`, ...
fn dropped_list(t: &Tally) -> Vec<String> {
    let mut out = Vec::new();
    if t.static_assets > 0 {
        out.push(format!(
            "{} (kept with --keep-static)",
            plural(t.static_assets, "static asset")
        ));
    }
    if !t.other_hosts.is_empty() {
        let n: usize = t.other_hosts.values().sum();
        let hosts: Vec<String> = t
            .other_hosts
            .iter()
            .map(|(h, n)| format!("{h} ({n})"))
            .collect();
        let to = if t.other_hosts.len() == 1 {
            "another host"
        } else {
            "other hosts"
        };
        out.push(format!(
            "{} to {to}: {} (kept with --keep-host HOST)",
            plural(n, "request"),
            hosts.join(", ")
        ));
    }
    if t.preflights > 0 {
        out.push(plural(t.preflights, "CORS preflight"));
    }
    if t.no_response > 0 {
        out.push(format!(
            "{} without a response",
            plural(t.no_response, "request")
        ));
    }
    if t.unsupported > 0 {
        out.push(format!(
            "{} kload cannot send (not HTTP, or an unknown method)",
            plural(t.unsupported, "request")
        ));
    }
    out
}

/// The comment at the top of the scenario: where it comes from and what the import did.
#[allow(clippy::too_many_arguments)]
fn notes(
    har: &har::Har,
    names: &Names,
    calls: &[Call],
    tally: &Tally,
    correlation: &correlate::Correlation,
    secrets: &Secrets,
    journey: &journey::Journey,
    data_path: Option<&str>,
) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let recorder = [&har.log.creator, &har.log.browser]
        .iter()
        .filter_map(|c| c.as_ref())
        .filter_map(|c| {
            let name = c.name.as_deref()?;
            Some(match c.version.as_deref() {
                Some(v) if !v.is_empty() => format!("{name} {v}"),
                _ => name.to_string(),
            })
        })
        .collect::<Vec<_>>();
    let recorded = if recorder.is_empty() {
        String::new()
    } else {
        format!(" (recorded with {})", recorder.join(" and "))
    };
    let requests = |steps: &[journey::Step]| {
        steps
            .iter()
            .filter(|s| matches!(s, journey::Step::Request(_)))
            .count()
    };
    let start = if journey.on_start.is_empty() {
        String::new()
    } else {
        format!(
            "{} up to the login in `on start`, then ",
            requests(&journey.on_start)
        )
    };
    paragraphs.push(format!(
        "Imported by `kload import har` from {}{recorded}. {}: {start}{} as the tasks of one \
         sequence, in the recorded order (see docs/import.md).",
        names.source,
        plural(calls.len(), "request"),
        plural(journey.tasks.len(), "page"),
    ));
    let dropped = dropped_list(tally);
    if !dropped.is_empty() {
        paragraphs.push(format!("Dropped: {}.", dropped.join("; ")));
    }
    let vars: Vec<&str> = correlation.vars().collect();
    if !vars.is_empty() {
        paragraphs.push(format!(
            "Correlated: {} captured from responses and sent back in later requests.",
            vars.join(", ")
        ));
    }
    if let Some(path) = data_path {
        paragraphs.push(format!(
            "Secrets are not copied: {} come from {path}, which holds placeholders; fill it in \
             (one row per account) before running.",
            secrets.columns().join(", ")
        ));
    }
    let mut unset: Vec<&str> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        for (name, _) in &call.sent_cookies {
            let set_before = calls[..i]
                .iter()
                .any(|c| c.set_cookies.iter().any(|(n, _)| n == name));
            if !set_before && !unset.contains(&name.as_str()) {
                unset.push(name);
            }
        }
    }
    if !unset.is_empty() {
        paragraphs.push(format!(
            "Cookies are not copied: each virtual user keeps the cookies its responses set. The \
             recording also sent cookies it had from before ({}); if the site needs them, \
             record from the login on.",
            unset.join(", ")
        ));
    }
    let shortened = journey
        .on_start
        .iter()
        .chain(journey.tasks.iter().flat_map(|t| &t.steps))
        .filter(|s| {
            matches!(
                s,
                journey::Step::Sleep {
                    recorded: Some(_),
                    ..
                }
            )
        })
        .count();
    if shortened > 0 {
        paragraphs.push(format!(
            "Pauses longer than {}s were shortened ({}).",
            journey::THINK_MAX_MS / 1000,
            shortened
        ));
    }
    let mut lines = Vec::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(wrap(p, 96));
    }
    lines
}

/// Breaks a paragraph into lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

impl Imported {
    /// Compiles the scenario as `kload check` would, with its data file beside it in a
    /// temporary folder. Any diagnostic, even a warning, is a bug of the import.
    pub fn verify(&self) -> Result<(), ImportError> {
        let bug = |message: String| ImportError::Bug {
            message,
            scenario: self.scenario.clone(),
        };
        let dir =
            tempfile::tempdir().map_err(|e| bug(format!("cannot make a temporary folder: {e}")))?;
        if let Some((path, contents)) = &self.data_file {
            let full = dir.path().join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(|e| bug(e.to_string()))?;
            }
            std::fs::write(&full, contents).map_err(|e| bug(e.to_string()))?;
        }
        let out = compile::compile_source(
            &self.scenario,
            &Context::for_file(&dir.path().join("x.kload")),
        );
        if out.diagnostics.is_empty() {
            return Ok(());
        }
        let mut message = String::new();
        for d in &out.diagnostics {
            let _ = write!(
                message,
                "{}",
                diagnostic::render(d, "imported.kload", &self.scenario, false, 100)
            );
        }
        Err(bug(message))
    }
}
