//! `kload demo`: the built-in Kibray-like target on 127.0.0.1, alone (`--serve`) or load
//! tested by the scenario shipped inside the binary, through the same session as `kload run`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kload::compile::Context;
use kload::demo::{DemoConfig, DemoServer};
use kload::session::{LoadError, Scenario, exit};

use super::commands::print_diagnostics;
use super::out::note;
use super::run::{build_runtime, run_scenario};
use super::{DemoArgs, Format, RunArgs};

/// The scenario and the data files it reads, as shipped in `scenarios/`.
const SCENARIO_PATH: &str = "scenarios/kibray.kload";
const SCENARIO: &str = include_str!("../../scenarios/kibray.kload");
const FILES: &[(&str, &[u8])] = &[
    (
        "data/accounts.csv",
        include_bytes!("../../scenarios/data/accounts.csv"),
    ),
    (
        "data/admins.csv",
        include_bytes!("../../scenarios/data/admins.csv"),
    ),
];

/// The shipped scenario, compiled from memory: `kload demo` works from any directory.
fn scenario() -> Result<Scenario, LoadError> {
    let ctx = Context {
        base_dir: PathBuf::new(),
        files: FILES
            .iter()
            .map(|(path, bytes)| (PathBuf::from(path), *bytes))
            .collect(),
    };
    Scenario::from_source(Path::new(SCENARIO_PATH), SCENARIO, &ctx)
}

pub fn demo(args: DemoArgs) -> i32 {
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(e) => {
            note!("error: cannot start the runtime: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    let port = args.port.unwrap_or(if args.serve { 8000 } else { 0 });
    let mut config = DemoConfig {
        latency_scale: args.latency_scale,
        ..DemoConfig::default()
    };
    if args.no_throttle {
        config.throttle_per_minute = None;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = match runtime.block_on(DemoServer::start(addr, config)) {
        Ok(s) => s,
        Err(e) => {
            note!("error: cannot start the demo target on {addr}: {e}");
            return exit::COULD_NOT_RUN;
        }
    };
    if args.serve {
        note!(
            "demo target serving the Kibray API at {} (Ctrl-C to stop)",
            server.base_url()
        );
        note!(
            "try: kload run scenarios/kibray.kload -H {} -u 20 -r 5 -t 20s --headless",
            server.base_url()
        );
        let _ = runtime.block_on(tokio::signal::ctrl_c());
        runtime.block_on(server.shutdown());
        return exit::OK;
    }
    let scenario = match scenario() {
        Ok(s) => Arc::new(s),
        Err(LoadError::Invalid {
            path,
            source,
            diagnostics,
        }) => {
            print_diagnostics(
                &diagnostics,
                &path.display().to_string(),
                &source,
                Format::Human,
            );
            return exit::USAGE;
        }
        Err(LoadError::Read { error, .. }) => {
            note!("error: {error}");
            return exit::USAGE;
        }
    };
    note!(
        "demo target at {}; running {SCENARIO_PATH}: {} users, spawn rate {}/s, {:?}",
        server.base_url(),
        args.users,
        args.spawn_rate,
        args.run_time
    );
    let run_args = RunArgs {
        host: Some(server.base_url()),
        users: Some(args.users),
        spawn_rate: Some(args.spawn_rate),
        run_time: Some(args.run_time),
        stop_timeout: Some(std::time::Duration::from_secs(5)),
        only_summary: args.only_summary,
        seed: args.seed,
        ..RunArgs::new(PathBuf::from(SCENARIO_PATH))
    };
    // The run gets its own runtime (as `kload run`); the target keeps serving on this one.
    let code = std::thread::scope(|s| {
        s.spawn(|| run_scenario(scenario, &run_args))
            .join()
            .unwrap_or(exit::COULD_NOT_RUN)
    });
    runtime.block_on(server.shutdown());
    code
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_scenario_compiles_from_memory() {
        let s = super::scenario().unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!s.plan.classes.is_empty());
        assert_eq!(s.plan.files, ["data/accounts.csv", "data/admins.csv"]);
    }
}
