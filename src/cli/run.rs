//! `kload run` (and `smoke`, and the demo's run): flags → options → one session → printing.

use std::sync::Arc;
use std::time::Duration;

use kload::diagnostic::{self, Diagnostic};
use kload::export::prometheus::{self, Exporter};
use kload::report;
use kload::session::{self, Finished, Prepared, Run, Scenario, StartError, exit};

use super::commands::{load, print_comparison};
use super::out::{self, note, say, sayln};
use super::{Format, RunArgs};

pub fn run(args: RunArgs) -> i32 {
    let Some(scenario) = load(&args.file, Format::Human) else {
        return exit::USAGE;
    };
    run_scenario(scenario, &args)
}

/// Runs a loaded scenario with the flags in `args`.
pub fn run_scenario(scenario: Arc<Scenario>, args: &RunArgs) -> i32 {
    let plan = scenario.plan.clone();
    let options = match args.options() {
        Ok(o) => o,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    let prepared = match session::prepare(scenario.clone(), options.clone()) {
        Ok(p) => p,
        Err(StartError::Threshold { text, diagnostic }) => {
            let text =
                diagnostic::render(&diagnostic, "--threshold", &text, out::color_stderr(), 100);
            use std::io::Write as _;
            let _ = write!(std::io::stderr().lock(), "{text}");
            return exit::USAGE;
        }
        Err(StartError::Config(e)) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    if plan.host.is_none() && args.host.is_none() && plan.classes.iter().all(|c| c.host.is_none()) {
        note!(
            "note: the scenario has no `host` and none was given with --host; requests with a path will fail"
        );
    }
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(e) => {
            note!("error: cannot start the runtime: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    if args.dry_run {
        return runtime.block_on(smoke(&prepared, args.verbose));
    }
    if !args.headless {
        // Flags that follow one run have no meaning for a UI that runs test after test.
        if let Some(flag) = super::web::headless_only(args) {
            note!("error: {flag} needs --headless (the web UI runs one test after another)");
            return exit::USAGE;
        }
        // The options were checked; each test started from the page prepares its own.
        drop(prepared);
        return runtime.block_on(super::web::serve(scenario, options, args));
    }
    let exporter = match runtime.block_on(Exporter::start(&args.prometheus)) {
        Ok(e) => e,
        Err(e) => {
            note!("error: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    let exporter = exporter.map(|e| {
        if let Some(addr) = e.listen_addr() {
            note!("Prometheus metrics at http://{addr}/metrics");
        }
        let start = args.start_at.unwrap_or_else(chrono::Utc::now);
        (e, start, args.prometheus.prometheus_labels.clone())
    });
    runtime.block_on(load_test(
        prepared,
        !args.only_summary,
        args.json_to_stdout(),
        exporter,
    ))
}

/// A Prometheus exporter, the run's start (for its `run_id`) and the extra labels.
pub type Export = (
    Exporter,
    chrono::DateTime<chrono::Utc>,
    Vec<(String, String)>,
);

/// The runtime that drives the users: one worker thread per CPU kload may use (tokio sizes
/// itself from the CPU affinity).
pub fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Starts the run, prints the live line every 2 s unless `live` is off, feeds the
/// Prometheus exporter if any, and on the end the report (and the result as a framed record
/// when `json_out`); returns the verdict's exit code.
pub async fn load_test(
    prepared: Prepared,
    live: bool,
    json_out: bool,
    exporter: Option<Export>,
) -> i32 {
    let run = prepared.start();
    let signals = tokio::spawn(watch_signals(run.clone()));
    let printer = live.then(|| tokio::spawn(print_live(run.clone())));
    let export = exporter.map(|(exporter, start, extra)| {
        let labels = prometheus::labels_of(&run, start, &extra);
        tokio::spawn(prometheus::follow(run.clone(), exporter, labels))
    });
    let finished = run.finish().await;
    signals.abort();
    if let Some(p) = printer {
        p.abort();
    }
    let code = print_finished(&run, &finished);
    if let Some(export) = export
        && let Ok(report) = export.await
    {
        let report = report.to_string();
        if !report.is_empty() {
            note!("{report}");
        }
    }
    if json_out && finished.not_started.is_none() {
        let mut json = Vec::new();
        if report::json::render(&finished.summary, &mut json).is_ok() {
            let segment = run.config().segment.label();
            let record =
                kload::distributed::frame::encode(&String::from_utf8_lossy(&json), &segment);
            say!("{record}");
        }
    }
    code
}

async fn print_live(run: Run) {
    let mut snapshots = run.subscribe();
    let mut last = Duration::ZERO;
    while snapshots.changed().await.is_ok() {
        let snap = snapshots.borrow_and_update().clone();
        // Every 2 s of run time, like Locust's console.
        if snap.elapsed >= last + Duration::from_secs(2) {
            last = snap.elapsed;
            note!("{}", report::text::live_line(&snap.live, snap.run_time));
        }
    }
}

/// Prints the end of a run (report, scenario errors, files written, comparison, why it
/// failed) and returns its exit code.
pub fn print_finished(run: &Run, finished: &Finished) -> i32 {
    if let Some(why) = &finished.not_started {
        note!("error: {why}");
        return finished.verdict.exit_code;
    }
    let summary = &finished.summary;
    let color = out::color_stdout();
    sayln!();
    let _ = report::text::render(summary, &mut out::stdout(), color);
    let scenario = run.scenario();
    let source = run.source_for_messages();
    for (span, message, count) in &finished.scenario_errors {
        let Some(span) = span else {
            sayln!("\nwarning: {message} ({count}×)");
            continue;
        };
        let d = Diagnostic::error(
            "kload::runtime_template",
            format!("template error at run time: {message}"),
            *span,
            "in this request",
        )
        .with_help(format!(
            "{count} {} counted as failed; check the capture that should set the variable",
            if *count == 1 {
                "request was"
            } else {
                "requests were"
            }
        ));
        sayln!(
            "\n{}",
            diagnostic::render(&d, &scenario.name(), &source, color, 100)
        );
    }
    match &finished.written {
        Ok(files) => {
            for f in files {
                note!("wrote {f}");
            }
        }
        Err(e) => note!("error: {e}"),
    }
    if let Some(e) = &finished.baseline_error {
        note!("error: {e}");
    }
    if let Some(cmp) = &finished.comparison {
        sayln!();
        print_comparison(cmp);
    }
    let verdict = &finished.verdict;
    if !verdict.passed() {
        for reason in &verdict.reasons {
            note!("error: {reason}");
        }
    }
    verdict.exit_code
}

/// Ctrl-C (SIGINT) and SIGTERM, one listener for the whole run: a signal that comes while
/// no listener exists is lost, and a second Ctrl-C often follows the first within
/// milliseconds.
pub struct Signals {
    #[cfg(unix)]
    listeners: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Starts listening (on the current tokio runtime).
    pub fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                listeners: match (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) {
                    (Ok(i), Ok(t)) => Some((i, t)),
                    _ => None,
                },
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal; never returns when signals cannot be listened to.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let Some((interrupt, term)) = self.listeners.as_mut() else {
                return std::future::pending().await;
            };
            let received = tokio::select! {
                r = interrupt.recv() => r,
                r = term.recv() => r,
            };
            if received.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// First Ctrl-C or SIGTERM: graceful stop, reported as interrupted. Second: stop at once.
async fn watch_signals(run: Run) {
    let mut signals = Signals::new();
    signals.recv().await;
    interrupt(&run);
    signals.recv().await;
    kill(&run);
}

/// The first Ctrl-C of a run: stop gracefully, reported as interrupted.
pub fn interrupt(run: &Run) {
    note!("\nstopping: letting running tasks finish (Ctrl-C again to stop at once)");
    run.interrupt();
}

/// The second Ctrl-C of a run: stop at once.
pub fn kill(run: &Run) {
    note!("\nstopping now");
    run.kill();
}

/// `--dry-run` / `kload smoke`: every request of every class once, in order, one user per class.
/// `verbose`: 1 prints the exchange of each failed step, 2 of every step.
async fn smoke(prepared: &Prepared, verbose: u8) -> i32 {
    let results = prepared.smoke().await;
    let mut failed = 0;
    sayln!(
        "{:<14} {:<7} {:<44} {:>6} {:>9}  result",
        "class",
        "method",
        "name",
        "status",
        "time"
    );
    let mut dumped = false;
    for r in &results {
        let verdict = match &r.failure {
            None => "ok".to_string(),
            Some(f) => {
                failed += 1;
                f.clone()
            }
        };
        sayln!(
            "{:<14} {:<7} {:<44} {:>6} {:>7}ms  {verdict}",
            r.class,
            r.method,
            r.name,
            r.status,
            r.millis
        );
        dumped = false;
        if let Some(x) = &r.exchange
            && (verbose >= 2 || (verbose == 1 && r.failure.is_some()))
        {
            for line in x.render().lines() {
                sayln!("    {line}");
            }
            sayln!("");
            dumped = true;
        }
    }
    let sent = results.len();
    let requests = if sent == 1 { "request" } else { "requests" };
    let gap = if dumped { "" } else { "\n" };
    sayln!("{gap}{sent} {requests}, {failed} failed");
    if failed > 0 { exit::FAILED } else { exit::OK }
}
