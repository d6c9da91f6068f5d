//! `kload run FILE` without `--headless`: serves the web UI for the scenario and waits for
//! the person at the page (or `--autostart`). Each test's result is printed and written when
//! it ends, as a headless run's is; Ctrl-C stops the test that runs, if one does, and quits.

use std::sync::Arc;
use std::time::Duration;

use kload::session::{Options, Run, Scenario, exit};
use kload::web::{self, SessionController, StartRequest, WebError, WebLogin, WebOptions};
use tokio::time::Instant;

use super::RunArgs;
use super::out::note;
use super::run::{Signals, interrupt, kill, print_finished};

/// The first flag given that only means something for one headless run: the Prometheus
/// exporter follows one run to its end, `--json -` frames one result, segments share one
/// start.
pub fn headless_only(args: &RunArgs) -> Option<&'static str> {
    if args.prometheus.prometheus_listen.is_some() {
        Some("--prometheus-listen")
    } else if args.prometheus.prometheus_remote_write.is_some() {
        Some("--prometheus-remote-write")
    } else if args.json_to_stdout() {
        Some("--json -")
    } else if args.segment.is_some() {
        Some("--segment")
    } else if args.start_at.is_some() {
        Some("--start-at")
    } else {
        None
    }
}

/// Serves the web UI until Ctrl-C (or `--autoquit`); returns the exit code of the last test
/// (0 when none ran). `options` are the flags' (checked), the base of each test.
pub async fn serve(scenario: Arc<Scenario>, options: Options, args: &RunArgs) -> i32 {
    let login = match args.web_login.as_deref().map(str::parse::<WebLogin>) {
        None => None,
        Some(Ok(login)) => Some(login),
        // The reason never quotes the value: it holds a password.
        Some(Err(reason)) => {
            note!("error: --web-login: {reason}");
            return exit::USAGE;
        }
    };
    let controller = SessionController::new(scenario, options, tokio::runtime::Handle::current());
    let options = WebOptions {
        host: args.web_host.clone(),
        port: args.web_port,
        login,
    };
    let server = match web::serve(controller.clone(), options).await {
        Ok(server) => server,
        Err(e) => {
            note!("error: {e}");
            return match e {
                WebError::Bind { .. } => exit::COULD_NOT_RUN,
                _ => exit::USAGE,
            };
        }
    };
    // Signals are caught from here on: Ctrl-C quits through the loop below.
    let mut signals = Signals::new();
    let url = server.url();
    note!("web UI: {} (Ctrl-C to quit)", url.trim_end_matches('/'));
    let mut runs = controller.runs();
    if args.autostart {
        // No field given: the test the flags and the file describe, as --headless runs it.
        let flags = StartRequest {
            users: None,
            spawn_rate: None,
            host: None,
            run_time: None,
            classes: Vec::new(),
        };
        if let Err(e) = web::Controller::start(controller.as_ref(), flags) {
            note!("error: {e}");
            server.shutdown().await;
            return exit::USAGE;
        }
    }
    let mut code = exit::OK;
    // The test whose end is awaited, and whether Ctrl-C asked to quit.
    let mut current: Option<Run> = None;
    let mut quitting = false;
    let mut quit_at: Option<Instant> = None;
    loop {
        let waiting = current.clone();
        let ends = async move {
            match waiting {
                Some(run) => run.finish().await,
                None => std::future::pending().await,
            }
        };
        let autoquit = async move {
            match quit_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = runs.changed() => {
                if changed.is_err() {
                    break;
                }
                let next = runs.borrow_and_update().clone();
                // A new test starts only once the last one ended: print it first.
                if let Some(last) = current.take() {
                    code = print_finished(&last, &*last.finish().await);
                }
                current = next;
                quit_at = None;
            }
            finished = ends => {
                if let Some(run) = current.take() {
                    code = print_finished(&run, &finished);
                }
                if quitting {
                    break;
                }
                if let Some(seconds) = args.autoquit {
                    quit_at = Some(Instant::now() + Duration::from_secs(seconds));
                }
            }
            () = autoquit => {
                note!("--autoquit: {} s after the test ended, quitting", args.autoquit.unwrap_or(0));
                break;
            }
            () = signals.recv() => {
                match current.as_ref().filter(|run| !run.is_done()) {
                    None => break,
                    Some(run) if !quitting => {
                        quitting = true;
                        interrupt(run);
                    }
                    Some(run) => kill(run),
                }
            }
        }
    }
    // A test that ended just before the quit is printed too.
    if let Some(run) = current.take().filter(Run::is_done) {
        code = print_finished(&run, &*run.finish().await);
    }
    server.shutdown().await;
    code
}
