//! What the tests share: running the `kload` binary, scratch files, the demo target.

use std::path::PathBuf;
use std::process::{Command, Output};

use kload::demo::{DemoConfig, DemoServer};

pub fn kload(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("kload runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn scratch(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    (dir, path)
}

/// The demo target without latency, errors or throttling.
pub fn demo() -> (tokio::runtime::Runtime, DemoServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = DemoConfig {
        latency_scale: 0.0,
        error_rate: 0.0,
        seed: 1,
        throttle_per_minute: None,
    };
    let server = rt
        .block_on(DemoServer::start("127.0.0.1:0".parse().unwrap(), config))
        .unwrap();
    (rt, server)
}
