//! `kload import har FILE [-o OUT]`: the command around `kload::import` (reading and writing
//! the files, the exit code, the messages).

use std::path::{Path, PathBuf};

use kload::diagnostic;
use kload::import::{ImportError, Imported, Names, Options, import_har};
use kload::session::exit;

/// `kload import ...`: the kinds of recording kload reads.
#[derive(clap::Subcommand, Debug)]
pub enum ImportCommand {
    /// A HAR file (browser network panel, proxy, Playwright's recordHar) → a scenario.
    Har(HarArgs),
}

#[derive(clap::Args, Debug)]
pub struct HarArgs {
    /// The recording: HAR 1.2 JSON.
    pub file: PathBuf,
    /// Write the scenario to this file (and its credentials data file under `data/` beside
    /// it) instead of printing it.
    #[arg(short, long, value_name = "OUT.kload")]
    pub output: Option<PathBuf>,
    /// Keep images, stylesheets, scripts, fonts and media files.
    #[arg(long)]
    pub keep_static: bool,
    /// Keep the requests to this host as well (repeatable): `cdn.example.com`, `host:port`.
    #[arg(long = "keep-host", value_name = "HOST")]
    pub keep_hosts: Vec<String>,
}

/// Runs `kload import ...` and returns the exit code: 0 when the scenario was written (or
/// printed), 2 when the recording could not be imported or the files not read or written.
pub fn command(command: ImportCommand) -> i32 {
    match command {
        ImportCommand::Har(args) => har_command(&args),
    }
}

const OK: i32 = exit::OK;
const FAILED: i32 = exit::USAGE;

fn har_command(args: &HarArgs) -> i32 {
    let name = args.file.display().to_string();
    let source = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return FAILED;
        }
    };
    let stem_of = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recording".to_string())
    };
    let stem = stem_of(args.output.as_deref().unwrap_or(&args.file));
    let source_name = args
        .file
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let options = Options {
        keep_static: args.keep_static,
        keep_hosts: args.keep_hosts.clone(),
    };
    let names = Names {
        source: &source_name,
        stem: &stem,
    };
    let imported = match import_har(&source, &names, &options).and_then(|i| i.verify().map(|()| i))
    {
        Ok(i) => i,
        Err(e) => {
            report_error(&e, &name, &source);
            return FAILED;
        }
    };
    let code = match &args.output {
        None => {
            print!("{}", imported.scenario);
            if let Some((path, contents)) = &imported.data_file {
                let columns = contents.lines().next().unwrap_or_default();
                eprintln!(
                    "note: the scenario reads {path} (columns {columns}); create it beside the \
                     scenario, or import with -o OUT.kload to have it written"
                );
            }
            OK
        }
        Some(out) => write(&imported, out),
    };
    if code == OK {
        for note in &imported.notes {
            if !note.is_empty() {
                eprintln!("  {note}");
            }
        }
    }
    code
}

/// Writes the scenario and, unless one with the same columns is there already (perhaps filled
/// in), its data file.
fn write(imported: &Imported, out: &Path) -> i32 {
    let dir = out.parent().unwrap_or(Path::new(""));
    if !dir.as_os_str().is_empty() && !dir.is_dir() {
        eprintln!(
            "error: cannot write {}: no folder {}",
            out.display(),
            dir.display()
        );
        return FAILED;
    }
    if let Some((path, contents)) = &imported.data_file {
        let full = dir.join(path);
        let columns = contents.lines().next().unwrap_or_default();
        match std::fs::read_to_string(&full) {
            Ok(existing) if existing.lines().next().unwrap_or_default().trim() == columns => {
                eprintln!(
                    "kept {} (it has the columns the scenario reads)",
                    full.display()
                );
            }
            Ok(existing) => {
                eprintln!(
                    "error: {} exists with the columns {}, but the scenario reads {columns}: move \
                     it away, or write the scenario elsewhere",
                    full.display(),
                    existing.lines().next().unwrap_or_default().trim()
                );
                return FAILED;
            }
            Err(_) => {
                let written = full
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&full, contents));
                if let Err(e) = written {
                    eprintln!("error: cannot write {}: {e}", full.display());
                    return FAILED;
                }
                eprintln!(
                    "wrote {} (placeholders: fill it in before running)",
                    full.display()
                );
            }
        }
    }
    if let Err(e) = std::fs::write(out, &imported.scenario) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return FAILED;
    }
    eprintln!("wrote {}", out.display());
    OK
}

fn report_error(e: &ImportError, name: &str, source: &str) {
    match e {
        ImportError::Har(d) => {
            // A minified HAR is one long line: show the position, not the line.
            let line_len = source[..d.primary.span.start.min(source.len())]
                .rsplit('\n')
                .next()
                .map_or(0, str::len)
                + source[d.primary.span.start.min(source.len())..]
                    .split('\n')
                    .next()
                    .map_or(0, str::len);
            if line_len <= 300 {
                eprint!("{}", diagnostic::render(d, name, source, false, 100));
            } else {
                let (line, column) = kload::span::line_col(source, d.primary.span.start);
                eprintln!(
                    "error[{}]: {}: {name}:{line}:{column}: {}",
                    d.code, d.message, d.primary.text
                );
                if let Some(help) = &d.help {
                    eprintln!("  help: {help}");
                }
            }
        }
        ImportError::Nothing { message, help } => {
            eprintln!("error: {name}: {message}");
            eprintln!("  help: {help}");
        }
        ImportError::Bug { message, scenario } => {
            eprintln!(
                "error: the scenario imported from {name} is wrong. This is a bug in `kload \
                 import har`; please report it with the recording (or the part of it that \
                 causes it)."
            );
            eprintln!("{message}");
            if !scenario.is_empty() {
                eprintln!("--- the generated scenario:\n{scenario}");
            }
        }
    }
}
