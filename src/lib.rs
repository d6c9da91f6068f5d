//! kload: load tests written as plain `.kload` files.
//!
//! The pipeline, one module per stage:
//! `syntax` (pest grammar → AST) → `compile` (AST → validated IR, diagnostics) →
//! `session` (a run as a value: options, schedule, handle, verdict) → `runtime` (tokio
//! interpreter) → `metrics` (per-user recorders, aggregator, summary) → `report` (text, CSV,
//! JSON, JUnit, HTML, compare). `schedule` is the load model as arithmetic, `span` source
//! positions, `demo` the built-in target server (cargo feature `demo`, on by default). The
//! command line is the binary's (`src/main.rs`, `src/cli.rs`), a client of `session`;
//! `web` is the web UI, another controller of a run.
//! `export` sends a run's metrics to monitoring systems while it goes (Prometheus).
//! `import` turns recordings (HAR) into scenarios.

// Diagnostics are returned on the cold path only; boxing them everywhere buys nothing.
#![allow(clippy::result_large_err)]

pub mod compile;
#[cfg(feature = "demo")]
pub mod demo;
pub mod diagnostic;
pub mod distributed;
pub mod export;
pub mod golden;
pub mod import;
pub mod ir;
pub mod lsp;
pub mod metrics;
pub mod redact;
pub mod report;
pub mod runtime;
pub mod schedule;
pub mod serve;
pub mod session;
pub mod span;
pub mod syntax;
pub mod web;
