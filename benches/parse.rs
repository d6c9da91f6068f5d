//! How long parsing and compiling a large scenario takes: a generated, valid scenario
//! of about 10,000 lines (many user classes, tasks and requests with checks, captures,
//! JSON bodies, a data feed and thresholds), timed over several runs.
//!
//! Run with `cargo bench --bench parse` (release profile). The goal is under 50 ms for
//! parse plus compile; docs/diagnostics.md records the figure measured.

use std::path::Path;
use std::time::{Duration, Instant};

use kload::compile::{self, Context};
use kload::syntax;

mod generated;
use generated::scenario;

const LINES: usize = 10_000;
const RUNS: usize = 31;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let source = scenario(LINES);
    let ctx = Context {
        base_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
    };
    let out = compile::compile_source(&source, &ctx);
    assert!(
        out.plan.is_some() && out.diagnostics.is_empty(),
        "the generated scenario must compile cleanly: {:?}",
        out.diagnostics.first()
    );

    let (mut parse, mut compile, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let start = Instant::now();
        let file = syntax::parse(&source).expect("valid");
        let parsed = Instant::now();
        let out = compile::compile(&file, &source, &ctx);
        let compiled = Instant::now();
        assert!(out.plan.is_some());
        parse.push(parsed - start);
        compile.push(compiled - parsed);
        total.push(compiled - start);
        drop((file, out));
    }
    let plan = out.plan.expect("checked above");
    println!(
        "scenario: {} lines, {} KB, {} user classes, {} request statistics",
        source.lines().count(),
        source.len() / 1024,
        plan.classes.len(),
        plan.stats.len()
    );
    println!(
        "median of {RUNS} runs: parse {:.1} ms, compile {:.1} ms, total {:.1} ms (goal < 50 ms)",
        median(parse).as_secs_f64() * 1e3,
        median(compile).as_secs_f64() * 1e3,
        median(total).as_secs_f64() * 1e3,
    );
}
