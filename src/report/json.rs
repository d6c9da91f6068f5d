//! `--json`: the versioned result document, which is the [`Summary`] serialized
//! (`"schema_version": 1`, described by `docs/result.schema.json`), and reading it back for
//! re-rendering and baseline comparison.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use crate::metrics::{SCHEMA_VERSION, Summary};

use super::ReportError;

/// Writes the result document (pretty-printed, newline at the end).
pub fn render(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a result document, refusing other schema versions.
pub fn from_reader(mut input: impl Read) -> Result<Summary, ReportError> {
    let mut text = String::new();
    input.read_to_string(&mut text)?;
    from_str(&text)
}

/// Parses a result document, refusing other schema versions.
pub fn from_str(text: &str) -> Result<Summary, ReportError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(SCHEMA_VERSION) {
        return Err(ReportError::SchemaVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(serde_json::from_value(value)?)
}

/// Reads the result document at `path`.
pub fn load(path: &Path) -> Result<Summary, ReportError> {
    let read = || -> Result<Summary, ReportError> { from_str(&fs::read_to_string(path)?) };
    read().map_err(|e| e.in_file(path))
}
