//! The integration tests, one binary (STYLE: one test binary under `tests/`).

mod cli;
mod support;
