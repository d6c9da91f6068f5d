//! `check`, `fmt`, `inspect`, `report` and `compare`: one library call each, then printing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kload::diagnostic::{self, Diagnostic};
use kload::report;
use kload::session::{self, LoadError, Scenario, exit};

use super::Format;
use super::out::{self, note, say, sayln};

/// Reads and compiles a file, printing its diagnostics (warnings too); `None` on errors.
pub fn load(path: &Path, format: Format) -> Option<Arc<Scenario>> {
    match Scenario::load(path) {
        Ok(scenario) => {
            print_diagnostics(
                &scenario.warnings,
                &scenario.name(),
                &scenario.source_for_messages(),
                format,
            );
            Some(Arc::new(scenario))
        }
        Err(LoadError::Read { path, error }) => {
            note!("error: cannot read {}: {error}", path.display());
            None
        }
        Err(LoadError::Invalid {
            path,
            source,
            diagnostics,
        }) => {
            print_diagnostics(&diagnostics, &path.display().to_string(), &source, format);
            None
        }
    }
}

pub fn print_diagnostics(diags: &[Diagnostic], name: &str, source: &str, format: Format) {
    for d in diags {
        match format {
            Format::Human => {
                let text = diagnostic::render(d, name, source, out::color_stderr(), 100);
                use std::io::Write as _;
                let _ = write!(std::io::stderr().lock(), "{text}");
            }
            Format::Json => {
                let json = serde_json::to_string(&diagnostic::to_json(d, name, source))
                    .unwrap_or_default();
                sayln!("{json}");
            }
        }
    }
}

pub fn check(files: &[PathBuf], format: Format) -> i32 {
    let mut failed = false;
    for f in files {
        match load(f, format) {
            Some(_) => {
                if format == Format::Human {
                    note!("{}: ok", f.display());
                }
            }
            None => failed = true,
        }
    }
    if failed { exit::USAGE } else { exit::OK }
}

pub fn fmt(files: &[PathBuf], check: bool) -> i32 {
    let mut code = exit::OK;
    for path in files {
        let name = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                note!("error: cannot read {name}: {e}");
                code = exit::USAGE;
                continue;
            }
        };
        let file = match kload::syntax::parse(&source) {
            Ok(f) => f,
            Err(d) => {
                print_diagnostics(&[d], &name, &source, Format::Human);
                code = exit::USAGE;
                continue;
            }
        };
        let formatted = kload::syntax::format::format(&file, &source);
        if formatted == source {
            continue;
        }
        if check {
            note!("{name}: not formatted (run `kload fmt {name}`)");
            if code == exit::OK {
                code = exit::FAILED;
            }
        } else if let Err(e) = std::fs::write(path, formatted) {
            note!("error: cannot write {name}: {e}");
            code = exit::USAGE;
        } else {
            note!("{name}: formatted");
        }
    }
    code
}

pub fn inspect(path: &Path, users: u32) -> i32 {
    let Some(scenario) = load(path, Format::Human) else {
        return exit::USAGE;
    };
    say!("{}", report::inspect::render(&scenario.plan, users));
    exit::OK
}

pub fn report(result: &Path, outputs: &session::Outputs) -> i32 {
    let summary = match report::json::load(result) {
        Ok(s) => s,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    let _ = report::text::render(&summary, &mut out::stdout(), out::color_stdout());
    match session::write_outputs(&summary, outputs) {
        Ok(files) => {
            for f in files {
                note!("wrote {f}");
            }
            exit::OK
        }
        Err(e) => {
            note!("error: {e}");
            exit::COULD_NOT_RUN
        }
    }
}

pub fn compare(baseline: &Path, current: &Path, max_regression: f64) -> i32 {
    let load = |p: &Path| report::json::load(p).map_err(|e| note!("error: {e}"));
    let (Ok(base), Ok(cur)) = (load(baseline), load(current)) else {
        return exit::USAGE;
    };
    let cmp = report::compare::compare(&base, &cur, max_regression);
    print_comparison(&cmp)
}

/// Prints a comparison; its exit code.
pub fn print_comparison(cmp: &report::compare::Comparison) -> i32 {
    let _ = report::compare::render(cmp, &mut out::stdout(), out::color_stdout());
    if cmp.regressed() {
        exit::FAILED
    } else {
        exit::OK
    }
}
