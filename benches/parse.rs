//! How long parsing and compiling a large scenario takes: a generated, valid scenario
//! of about 10,000 lines (many user classes, tasks and requests with checks, captures,
//! JSON bodies, a data feed and thresholds), timed over several runs.
//!
//! Run with `cargo bench --bench parse` (release profile). The goal is under 50 ms for
//! parse plus compile; docs/diagnostics.md records the figure measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kload::compile::{self, Context};
use kload::syntax;

mod generated;
use generated::scenario;

const LINES: usize = 10_000;

/// Counts the bytes allocated now and at most, to measure what each stage keeps.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What parsing and compiling a scenario of `lines` lines keeps in memory, at each stage
/// and at most, against the size of its text.
fn memory(lines: usize, ctx: &Context) {
    let source = scenario(lines);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let file = syntax::parse(&source).expect("valid");
    let parsed = LIVE.load(Ordering::Relaxed) - base;
    let parse_peak = PEAK.load(Ordering::Relaxed) - base;
    let out = compile::compile(&file, &source, ctx);
    let with_plan = LIVE.load(Ordering::Relaxed) - base;
    let peak = PEAK.load(Ordering::Relaxed) - base;
    drop(file);
    let plan_only = LIVE.load(Ordering::Relaxed) - base;
    assert!(out.plan.is_some());
    let text = source.len() as f64;
    println!(
        "memory for {:.1} MiB of scenario: tree {:.1} MiB ({:.1}x), tree + plan {:.1} MiB, plan \
         alone {:.1} MiB, peak {:.1} MiB ({:.1}x the text; parsing alone peaked at {:.1}x)",
        mib(source.len()),
        mib(parsed),
        parsed as f64 / text,
        mib(with_plan),
        mib(plan_only),
        mib(peak),
        peak as f64 / text,
        parse_peak as f64 / text,
    );
}
const RUNS: usize = 31;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let source = scenario(LINES);
    let ctx = Context::for_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/x.kload"));
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
    memory(LINES, &ctx);
    memory(LINES * 40, &ctx);
}
