//! The command line: `check`, `inspect`, `run` (with Locust's flags) and `smoke`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::compile::{self, Context};
use crate::diagnostic::{self, Diagnostic};
use crate::ir::Plan;
use crate::metrics::Metrics;
use crate::report;
use crate::runtime::{self, Control, RunConfig, http::ClientOptions};

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const COULD_NOT_RUN: i32 = 3;
}

#[derive(Parser, Debug)]
#[command(
    name = "kload",
    version,
    about = "Load tests written as plain .kload files",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and compile scenarios without touching the network.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `human` (rustc-like) or `json` (one object per line, for editors and CI).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Rewrite files to the canonical layout (comments kept); `--check` only reports.
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Exit 1 and list the files that are not formatted, without writing.
        #[arg(long)]
        check: bool,
    },
    /// Print the compiled plan: classes and their users, tasks and their odds, requests, thresholds.
    Inspect {
        file: PathBuf,
        /// Show the exact user count per class for this many users.
        #[arg(short, long, default_value_t = 100)]
        users: u32,
    },
    /// Run a scenario (Locust's flags and meanings).
    Run(Box<RunArgs>),
    /// Re-render reports from a result saved with `--json`.
    Report {
        result: PathBuf,
        #[command(flatten)]
        outputs: Outputs,
    },
    /// Compare two results saved with `--json`: exit 1 when a request regressed beyond the limit.
    Compare {
        baseline: PathBuf,
        current: PathBuf,
        /// Largest accepted regression, e.g. `20%`.
        #[arg(long, default_value = "20%", value_parser = parse_percent)]
        max_regression: f64,
    },
    /// Start the built-in Kibray-like target on 127.0.0.1 and load test it with scenarios/kibray.kload.
    Demo {
        /// Only serve the target (for trying other scenarios) until Ctrl-C.
        #[arg(long)]
        serve: bool,
        /// Port to serve on (0 picks a free one; --serve defaults to 8000).
        #[arg(long)]
        port: Option<u16>,
        #[arg(short = 'u', long, default_value_t = 100)]
        users: u32,
        #[arg(short = 'r', long, default_value_t = 10.0)]
        spawn_rate: f64,
        #[arg(short = 't', long, default_value = "30s", value_parser = parse_duration)]
        run_time: Duration,
        /// Scale the target's simulated latency (1.0 realistic, 0 none).
        #[arg(long, default_value_t = 1.0)]
        latency_scale: f64,
        #[arg(long)]
        only_summary: bool,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Language server for editors, on stdin/stdout: diagnostics, completion, hover,
    /// navigation, rename, formatting, quick fixes.
    Lsp,
    /// Run every request of every class once and list each with its status.
    Smoke {
        file: PathBuf,
        #[arg(short = 'H', long, env = "KLOAD_HOST")]
        host: Option<String>,
        #[arg(long, env = "KLOAD_INSECURE")]
        insecure: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    pub file: PathBuf,
    /// Host to load test, e.g. http://127.0.0.1:8000 (overrides the scenario's `host`).
    #[arg(short = 'H', long, env = "KLOAD_HOST")]
    pub host: Option<String>,
    /// Peak number of concurrent users.
    #[arg(short = 'u', long, env = "KLOAD_USERS")]
    pub users: Option<u32>,
    /// Users started per second.
    #[arg(short = 'r', long, env = "KLOAD_SPAWN_RATE")]
    pub spawn_rate: Option<f64>,
    /// Stop after this long: 30s, 5m, 1h30m (a bare number is seconds).
    #[arg(short = 't', long, env = "KLOAD_RUN_TIME", value_parser = parse_duration)]
    pub run_time: Option<Duration>,
    /// Run without a web UI (the only mode for now).
    #[arg(long, env = "KLOAD_HEADLESS")]
    pub headless: bool,
    /// Time running tasks get to finish when the run stops.
    #[arg(short = 's', long, env = "KLOAD_STOP_TIMEOUT", value_parser = parse_duration)]
    pub stop_timeout: Option<Duration>,
    /// Only run tasks with any of these tags.
    #[arg(short = 'T', long, env = "KLOAD_TAGS", value_delimiter = ',', num_args = 1..)]
    pub tags: Vec<String>,
    /// Skip tasks with any of these tags (wins over --tags).
    #[arg(short = 'E', long, env = "KLOAD_EXCLUDE_TAGS", value_delimiter = ',', num_args = 1..)]
    pub exclude_tags: Vec<String>,
    /// Print the live view (default).
    #[arg(long, env = "KLOAD_PRINT_STATS", conflicts_with = "only_summary")]
    pub print_stats: bool,
    /// Print only the final summary.
    #[arg(long, env = "KLOAD_ONLY_SUMMARY")]
    pub only_summary: bool,
    /// Exit code when any request failed.
    #[arg(long, env = "KLOAD_EXIT_CODE_ON_ERROR", default_value_t = 0)]
    pub exit_code_on_error: i32,
    /// Seed for every random choice, for reproducible runs.
    #[arg(long, env = "KLOAD_SEED")]
    pub seed: Option<u64>,
    /// Skip TLS certificate verification.
    #[arg(long, env = "KLOAD_INSECURE")]
    pub insecure: bool,
    /// An extra threshold, e.g. "p95(/api/v1/projects/) < 200ms" (repeatable).
    #[arg(long = "threshold", env = "KLOAD_THRESHOLD")]
    pub thresholds: Vec<String>,
    /// Run every request once and list its status instead of a load test.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub outputs: Outputs,
    /// Compare the result with a saved `--json` result at the end of the run.
    #[arg(long, env = "KLOAD_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Largest accepted slowdown against the baseline, e.g. `20%`.
    #[arg(long, env = "KLOAD_MAX_REGRESSION", default_value = "20%", value_parser = parse_percent)]
    pub max_regression: f64,
}

impl RunArgs {
    /// A headless run of `file` with the scenario's own profile and no extras, as the
    /// `smoke` and `demo` commands start from.
    fn new(file: PathBuf) -> RunArgs {
        RunArgs {
            file,
            host: None,
            users: None,
            spawn_rate: None,
            run_time: None,
            headless: true,
            stop_timeout: None,
            tags: vec![],
            exclude_tags: vec![],
            print_stats: false,
            only_summary: false,
            exit_code_on_error: 0,
            seed: None,
            insecure: false,
            thresholds: vec![],
            dry_run: false,
            outputs: Outputs::default(),
            baseline: None,
            max_regression: 0.2,
        }
    }
}

/// Report files to write (at the end of a run, or from a saved result).
#[derive(Args, Debug, Default, Clone)]
pub struct Outputs {
    /// Write Locust-compatible PREFIX_stats.csv, PREFIX_stats_history.csv,
    /// PREFIX_failures.csv and PREFIX_exceptions.csv.
    #[arg(long, env = "KLOAD_CSV", value_name = "PREFIX")]
    pub csv: Option<PathBuf>,
    /// Also write one history row per request name each second (Locust's flag).
    #[arg(long, env = "KLOAD_CSV_FULL_HISTORY")]
    pub csv_full_history: bool,
    /// Write the complete result as JSON (docs/result.schema.json).
    #[arg(long, env = "KLOAD_JSON", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write thresholds and checks as JUnit XML.
    #[arg(long, env = "KLOAD_JUNIT", value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a self-contained HTML report (opens offline).
    #[arg(long, env = "KLOAD_HTML", value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let n = s.strip_suffix('%').unwrap_or(s);
    let v: f64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage like 20%"))?;
    if !(0.0..=1000.0).contains(&v) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(v / 100.0)
}

/// Writes every requested report; the first error is returned as a message.
fn write_outputs(
    summary: &crate::metrics::Summary,
    outputs: &Outputs,
) -> Result<Vec<String>, String> {
    let mut written = Vec::new();
    if let Some(prefix) = &outputs.csv {
        let files = report::csv::write_files(summary, prefix, outputs.csv_full_history)
            .map_err(|e| e.to_string())?;
        written.extend(files.iter().map(|f| f.display().to_string()));
    }
    if let Some(path) = &outputs.json {
        report::write_file(path, |w| report::json::render(summary, w))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &outputs.html {
        report::write_file(path, |w| Ok(report::html::render(summary, w)?))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &outputs.junit {
        report::write_file(path, |w| report::junit::render(summary, w))
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    compile::quantity::duration_text(s, true)
        .map_err(|(reason, _)| format!("{reason} (write 30s, 5m or 1h30m)"))
}

/// Runs the command line and returns the exit code.
pub fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { files, format } => check(&files, format),
        Command::Report { result, outputs } => report_command(&result, &outputs),
        Command::Compare {
            baseline,
            current,
            max_regression,
        } => compare_command(&baseline, &current, max_regression),
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Inspect { file, users } => inspect(&file, users),
        Command::Run(args) => run(*args),
        Command::Demo {
            serve,
            port,
            users,
            spawn_rate,
            run_time,
            latency_scale,
            only_summary,
            seed,
        } => demo(
            serve,
            port,
            users,
            spawn_rate,
            run_time,
            latency_scale,
            only_summary,
            seed,
        ),
        Command::Lsp => crate::lsp::serve_stdio(),
        Command::Smoke {
            file,
            host,
            insecure,
        } => {
            let args = RunArgs {
                host,
                insecure,
                only_summary: true,
                dry_run: true,
                ..RunArgs::new(file)
            };
            run(args)
        }
    }
}

fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads and compiles a file, printing its diagnostics; `None` on errors.
fn load(path: &Path, format: Format) -> Option<(Plan, String)> {
    let name = path.display().to_string();
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            return None;
        }
    };
    let out = compile::compile_source(&source, &Context::for_file(path));
    print_diagnostics(&out.diagnostics, &name, &source, format);
    out.plan.map(|p| (p, source))
}

fn print_diagnostics(diags: &[Diagnostic], name: &str, source: &str, format: Format) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        match format {
            Format::Human => {
                let _ = write!(
                    err,
                    "{}",
                    diagnostic::render(d, name, source, color_stderr(), 100)
                );
            }
            Format::Json => {
                let json = serde_json::to_string(&diagnostic::to_json(d, name, source))
                    .unwrap_or_default();
                let _ = writeln!(std::io::stdout(), "{json}");
            }
        }
    }
}

fn check(files: &[PathBuf], format: Format) -> i32 {
    let mut failed = false;
    for f in files {
        match load(f, format) {
            Some(_) => {
                if format == Format::Human {
                    eprintln!("{}: ok", f.display());
                }
            }
            None => failed = true,
        }
    }
    if failed { exit::USAGE } else { exit::OK }
}

fn fmt(files: &[PathBuf], check: bool) -> i32 {
    let mut code = exit::OK;
    for path in files {
        let name = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot read {name}: {e}");
                code = exit::USAGE;
                continue;
            }
        };
        let file = match crate::syntax::parse(&source) {
            Ok(f) => f,
            Err(d) => {
                print_diagnostics(&[d], &name, &source, Format::Human);
                code = exit::USAGE;
                continue;
            }
        };
        let formatted = crate::syntax::format::format(&file, &source);
        if formatted == source {
            continue;
        }
        if check {
            eprintln!("{name}: not formatted (run `kload fmt {name}`)");
            if code == exit::OK {
                code = exit::FAILED;
            }
        } else if let Err(e) = std::fs::write(path, formatted) {
            eprintln!("error: cannot write {name}: {e}");
            code = exit::USAGE;
        } else {
            eprintln!("{name}: formatted");
        }
    }
    code
}

fn inspect(path: &Path, users: u32) -> i32 {
    let Some((plan, _)) = load(path, Format::Human) else {
        return exit::USAGE;
    };
    print!("{}", report::inspect::render(&plan, users));
    exit::OK
}

fn run(args: RunArgs) -> i32 {
    let Some((plan, _source)) = load(&args.file, Format::Human) else {
        return exit::USAGE;
    };
    let mut plan = plan;
    for t in &args.thresholds {
        match compile::compile_threshold_line(t, &plan) {
            Ok(th) => plan.thresholds.push(th),
            Err(d) => {
                eprint!(
                    "{}",
                    diagnostic::render(&d, "--threshold", t, color_stderr(), 100)
                );
                return exit::USAGE;
            }
        }
    }
    if let Some(h) = &args.host
        && let Err(reason) = compile::check_host(h)
    {
        eprintln!("error: invalid --host `{h}`: {reason}");
        return exit::USAGE;
    }
    if plan.host.is_none() && args.host.is_none() && plan.classes.iter().all(|c| c.host.is_none()) {
        eprintln!(
            "note: the scenario has no `host` and none was given with --host; requests with a path will fail"
        );
    }
    if !args.headless && !args.dry_run {
        eprintln!(
            "note: kload runs headless: the web UI is not available yet (pass --headless to silence this)"
        );
    }
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    let plan = Arc::new(plan);
    if args.dry_run {
        return runtime.block_on(smoke(plan, &args));
    }
    runtime.block_on(load_test(plan, args))
}

fn config(plan: &Plan, args: &RunArgs) -> RunConfig {
    let users = args.users.or(plan.load.users).unwrap_or(1);
    RunConfig {
        host: args.host.clone(),
        users,
        spawn_rate: args.spawn_rate.or(plan.load.spawn_rate).unwrap_or(1.0),
        run_time: args.run_time.or(plan.load.run_time),
        stop_timeout: args
            .stop_timeout
            .or(plan.load.stop_timeout)
            .unwrap_or(Duration::ZERO),
        // Users given on the command line replace the file's stages (Locust's -u wins).
        stages: if args.users.is_some() {
            vec![]
        } else {
            plan.load.stages.clone()
        },
        arrival: plan.load.arrival,
        tags: args.tags.clone(),
        exclude_tags: args.exclude_tags.clone(),
        seed: args.seed,
        client: ClientOptions {
            timeout: plan.default_timeout,
            insecure: args.insecure,
        },
    }
}

async fn load_test(plan: Arc<Plan>, args: RunArgs) -> i32 {
    let config = config(&plan, &args);
    let metrics = Metrics::new(plan.stats.clone());
    let control = Control::new(config.users, config.spawn_rate);
    let signals = tokio::spawn(watch_signals(control.clone()));
    let live = !args.only_summary;
    let mut err = std::io::stderr();
    let outcome = runtime::run(
        plan.clone(),
        config,
        metrics.clone(),
        control.clone(),
        |l, run_time| {
            if live {
                let _ = writeln!(err, "{}", report::text::live_line(l, run_time));
            }
        },
    )
    .await;
    signals.abort();
    let info = run_info(&plan, &args, &metrics, outcome.peak_users);
    let mut summary = metrics.summary(info);
    summary.apply_thresholds(&plan.thresholds);
    let mut out = std::io::stdout().lock();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = writeln!(out);
    let _ = report::text::render(&summary, &mut out, color);
    for (message, n) in &outcome.problems.not_started {
        let _ = writeln!(out, "\nwarning: {message} ({n}×)");
    }
    if let Some((span, message)) = &outcome.problems.first_template_error
        && let Some(span) = span
        && let Ok(source) = std::fs::read_to_string(&args.file)
    {
        let d = Diagnostic::error(
            "kload::runtime_template",
            format!("template error at run time: {message}"),
            *span,
            "in this request",
        )
        .with_help(
            "the request was counted as failed; check the capture that should set the variable",
        );
        let _ = write!(
            out,
            "\n{}",
            diagnostic::render(&d, &args.file.display().to_string(), &source, color, 100)
        );
    }
    if let Some(source) = &outcome.aborted {
        let _ = writeln!(out, "\nrun aborted early: threshold `{source}` failed");
    }
    if outcome.killed {
        let _ = writeln!(out, "\nrun killed: in-flight requests were abandoned");
    }
    let _ = out.flush();
    drop(out);
    // Reports are written whatever happened: a killed run keeps what it recorded.
    match write_outputs(&summary, &args.outputs) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {f}");
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
    let mut regressed = false;
    if let Some(path) = &args.baseline {
        match report::json::load(path) {
            Ok(base) => {
                println!();
                regressed = print_comparison(&base, &summary, args.max_regression) != exit::OK;
            }
            Err(e) => eprintln!("error: baseline: {e}"),
        }
    }

    let failed_threshold = !summary.thresholds_passed() || regressed;
    let total = &summary.aggregated;
    let unreachable = total.requests > 0
        && total.status_codes.get(&0).copied().unwrap_or(0) == total.requests
        && summary.errors_by_kind.keys().all(|k| {
            matches!(
                k,
                crate::metrics::sample::FailureKind::ConnectionRefused
                    | crate::metrics::sample::FailureKind::Dns
                    | crate::metrics::sample::FailureKind::Tls
            )
        });
    if unreachable {
        eprintln!("error: the host could not be reached: no request got a response");
        return exit::COULD_NOT_RUN;
    }
    if failed_threshold || outcome.aborted.is_some() {
        return exit::FAILED;
    }
    if total.failures > 0 && args.exit_code_on_error != 0 {
        return args.exit_code_on_error;
    }
    exit::OK
}

/// What the result document says about the run (`metrics::RunInfo`).
fn run_info(
    plan: &Plan,
    args: &RunArgs,
    metrics: &Metrics,
    peak_users: usize,
) -> crate::metrics::RunInfo {
    let config = config(plan, args);
    crate::metrics::RunInfo {
        scenario_path: args.file.display().to_string(),
        scenario_source: std::fs::read_to_string(&args.file).unwrap_or_default(),
        host: config
            .host
            .or_else(|| plan.host.clone())
            .map(|h| redact_url(&h))
            .unwrap_or_default(),
        users: config.users as usize,
        spawn_rate: config.spawn_rate,
        run_time_ms: config.run_time.map(|d| d.as_millis() as u64),
        seed: config.seed,
        kload_version: env!("CARGO_PKG_VERSION").to_owned(),
        command_line: std::env::args().map(|a| redact_url(&a)).collect(),
        started_at: metrics.started_at(),
        ended_at: chrono::Utc::now(),
        classes: plan
            .classes
            .iter()
            .zip(crate::runtime::dispatch::counts(
                &plan.classes,
                peak_users as u32,
            ))
            .map(|(c, users)| crate::metrics::summary::ClassInfo {
                name: c.name.clone(),
                weight: c.weight,
                fixed_count: c.fixed_count,
                users: users as usize,
            })
            .collect(),
        thresholds: Vec::new(),
    }
}

/// A URL with any `user:password@` removed, for reports and logs.
fn redact_url(text: &str) -> String {
    match reqwest::Url::parse(text) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// First Ctrl-C or SIGTERM: graceful stop. Second: stop at once.
async fn watch_signals(control: Arc<Control>) {
    // One listener for the whole run: a signal that comes while no listener exists is
    // lost, and a second Ctrl-C often follows the first within milliseconds.
    #[cfg(unix)]
    let (mut interrupt, mut term) = {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            _ => return,
        }
    };
    let mut count = 0;
    loop {
        #[cfg(unix)]
        {
            let received = tokio::select! {
                r = interrupt.recv() => r,
                r = term.recv() => r,
            };
            if received.is_none() {
                return;
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        count += 1;
        if count == 1 {
            eprintln!("\nstopping: letting running tasks finish (Ctrl-C again to stop at once)");
            control.stop();
        } else {
            eprintln!("\nstopping now");
            control.kill();
            return;
        }
    }
}

/// `--dry-run` / `kload smoke`: every request of every class once, in order, one user per class.
async fn smoke(plan: Arc<Plan>, args: &RunArgs) -> i32 {
    let config = config(&plan, args);
    let metrics = Metrics::new(plan.stats.clone());
    let shared = runtime::smoke_shared(plan.clone(), &config, metrics.clone());
    let results = runtime::smoke(shared).await;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    let _ = writeln!(
        out,
        "{:<14} {:<7} {:<44} {:>6} {:>9}  result",
        "class", "method", "name", "status", "time"
    );
    for r in &results {
        let verdict = match &r.failure {
            None => "ok".to_string(),
            Some(f) => {
                failed += 1;
                f.clone()
            }
        };
        let _ = writeln!(
            out,
            "{:<14} {:<7} {:<44} {:>6} {:>7}ms  {verdict}",
            r.class, r.method, r.name, r.status, r.millis
        );
    }
    let _ = writeln!(out, "\n{} requests, {} failed", results.len(), failed);
    if failed > 0 { exit::FAILED } else { exit::OK }
}

const DEMO_SCENARIO: &str = include_str!("../scenarios/kibray.kload");
const DEMO_ACCOUNTS: &str = include_str!("../scenarios/data/accounts.csv");

#[allow(clippy::too_many_arguments)]
fn demo(
    serve: bool,
    port: Option<u16>,
    users: u32,
    spawn_rate: f64,
    run_time: Duration,
    latency_scale: f64,
    only_summary: bool,
    seed: Option<u64>,
) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    let port = port.unwrap_or(if serve { 8000 } else { 0 });
    let config = crate::demo::DemoConfig {
        latency_scale,
        ..crate::demo::DemoConfig::default()
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let server = match runtime.block_on(crate::demo::DemoServer::start(addr, config)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the demo target on {addr}: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    if serve {
        eprintln!(
            "demo target serving the Kibray API at {} (Ctrl-C to stop)",
            server.base_url()
        );
        eprintln!(
            "try: kload run scenarios/kibray.kload -H {} -u 20 -r 5 -t 20s --headless",
            server.base_url()
        );
        let _ = runtime.block_on(tokio::signal::ctrl_c());
        runtime.block_on(server.shutdown());
        return exit::OK;
    }
    // The scenario ships inside the binary so that `kload demo` works from anywhere.
    let dir = std::env::temp_dir().join(format!("kload-demo-{}", std::process::id()));
    let file = dir.join("kibray.kload");
    let written = std::fs::create_dir_all(dir.join("data"))
        .and_then(|_| std::fs::write(&file, DEMO_SCENARIO))
        .and_then(|_| std::fs::write(dir.join("data/accounts.csv"), DEMO_ACCOUNTS));
    if let Err(e) = written {
        eprintln!(
            "error: cannot write the demo scenario to {}: {e}",
            dir.display()
        );
        return exit::COULD_NOT_RUN;
    }
    eprintln!(
        "demo target at {}; running scenarios/kibray.kload: {users} users, spawn rate {spawn_rate}/s, {run_time:?}",
        server.base_url()
    );
    let args = RunArgs {
        host: Some(server.base_url()),
        users: Some(users),
        spawn_rate: Some(spawn_rate),
        run_time: Some(run_time),
        stop_timeout: Some(Duration::from_secs(5)),
        only_summary,
        seed,
        ..RunArgs::new(file.clone())
    };
    let code = match load(&file, Format::Human) {
        Some((plan, _)) => runtime.block_on(load_test(Arc::new(plan), args)),
        None => exit::USAGE,
    };
    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
    code
}

fn report_command(result: &Path, outputs: &Outputs) -> i32 {
    let summary = match report::json::load(result) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let _ = report::text::render(&summary, &mut out, color);
    match write_outputs(&summary, outputs) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {f}");
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::COULD_NOT_RUN
        }
    }
}

fn compare_command(baseline: &Path, current: &Path, max_regression: f64) -> i32 {
    let load = |p: &Path| report::json::load(p).map_err(|e| eprintln!("error: {e}"));
    let (Ok(base), Ok(cur)) = (load(baseline), load(current)) else {
        return exit::USAGE;
    };
    print_comparison(&base, &cur, max_regression)
}

fn print_comparison(
    base: &crate::metrics::Summary,
    cur: &crate::metrics::Summary,
    max_regression: f64,
) -> i32 {
    let cmp = report::compare::compare(base, cur, max_regression);
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let _ = report::compare::render(&cmp, &mut out, color);
    if cmp.regressed() {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// The runtime that drives the users: one worker thread per CPU kload may use (tokio
/// sizes itself from the CPU affinity).
fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
