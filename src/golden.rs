//! Golden files: everything a user sees is compared with a file under `tests/golden/`, and
//! `KLOAD_BLESS=1 cargo test` rewrites them; review the diff like code. Public so that the
//! binary's tests (the `kload k8s` manifests) use the same check as the library's.

use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// Compares `actual` with `tests/golden/<folder>/<name>`, or rewrites it when
/// `KLOAD_BLESS=1`. Panics with the first differing line.
pub fn check(folder: &str, name: &str, actual: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(folder)
        .join(name);
    if std::env::var_os("KLOAD_BLESS").is_some_and(|v| v == "1") {
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        if let Err(e) = fs::write(&path, actual) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let expected = fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {} ({e}); run with KLOAD_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let expected = String::from_utf8_lossy(&expected);
        let actual = String::from_utf8_lossy(actual);
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n--- expected\n{}\n--- actual\n{}\n\
             (KLOAD_BLESS=1 rewrites golden files)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of output>"),
        );
    }
}

/// A fixed instant for reproducible outputs (RFC 3339); panics on a bad literal.
pub fn utc(text: &str) -> DateTime<Utc> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => panic!("`{text}` is not an RFC 3339 instant: {e}"),
    }
}
