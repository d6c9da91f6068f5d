//! The integration tests, one binary (STYLE: one test binary under `tests/`).
//!
//! Everything is hermetic: the targets are in-process servers on 127.0.0.1 port 0 (the demo
//! target, or the recording server in `support`), random choices are seeded with `--seed`,
//! and no test asserts on a duration: a run is stopped when the server has seen what the
//! test needs, and statistical checks state their tolerance.

mod cli;
mod demo;
mod distributed;
mod export;
mod import;
mod k8s;
mod language;
mod load;
mod lsp;
mod prometheus;
mod requests;
mod secrets;
mod session;
mod stopping;
mod support;
mod timing;
mod tls;
mod users;
mod webui;
