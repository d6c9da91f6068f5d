//! kload: load tests written as plain `.kload` files.
//!
//! The pipeline, one module per stage:
//! `syntax` (pest grammar → AST) → `compile` (AST → validated IR, diagnostics) →
//! `runtime` (tokio interpreter) → `metrics` (per-user recorders, aggregator, summary) →
//! `report` (text, CSV, JSON, JUnit, HTML, compare). `demo` is the built-in target server.

// Diagnostics are returned on the cold path only; boxing them everywhere buys nothing.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod compile;
pub mod demo;
pub mod diagnostic;
pub mod ir;
pub mod lsp;
pub mod metrics;
pub mod report;
pub mod runtime;
pub mod span;
pub mod syntax;
