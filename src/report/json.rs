//! `--json`: the versioned result document, which is the [`Summary`] serialized
//! (`"schema_version": 2`, described by `docs/result.schema.json`), and reading it back for
//! re-rendering, baseline comparison and merging. Version 1 documents are still read.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use crate::metrics::summary::READABLE_VERSIONS;
use crate::metrics::{SCHEMA_VERSION, Summary};

use super::ReportError;

/// Writes the result document (pretty-printed, newline at the end).
pub fn render(summary: &Summary, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a result document (version 1 or 2), refusing other schema versions.
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
    if !READABLE_VERSIONS.iter().any(|v| u64::from(*v) == found) {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{Metrics, RunInfo, StatKey};
    use crate::report::{csv, golden};

    fn to_json(summary: &Summary) -> String {
        let mut out = Vec::new();
        render(summary, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn validator() -> (boon::Schemas, boon::SchemaIndex) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/result.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource("file:///result.schema.json", schema)
            .unwrap();
        let index = compiler
            .compile("file:///result.schema.json", &mut schemas)
            .unwrap();
        (schemas, index)
    }

    fn empty_run() -> Summary {
        Metrics::new(vec![StatKey::new("GET", "/")]).summary_at(RunInfo::default(), Duration::ZERO)
    }

    /// The JSON pointer of the first difference between two documents.
    fn first_difference(
        a: &serde_json::Value,
        b: &serde_json::Value,
        at: String,
    ) -> Option<String> {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Object(x), Object(y)) if x.len() == y.len() => x
                .iter()
                .find_map(|(k, v)| first_difference(v, y.get(k)?, format!("{at}/{k}")))
                .or_else(|| {
                    x.keys()
                        .find(|k| !y.contains_key(*k))
                        .map(|k| format!("{at}/{k}"))
                }),
            (Array(x), Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}/{i}"))),
            _ => (a != b).then(|| format!("{at}: {a} != {b}")),
        }
    }

    #[test]
    fn round_trip_keeps_everything_including_histograms() {
        for summary in [
            golden::fixture(),
            golden::troubled(),
            golden::locust_vectors(),
            empty_run(),
        ] {
            let json = to_json(&summary);
            let back = from_str(&json).unwrap();
            assert_eq!(back.aggregated.latency, summary.aggregated.latency);
            assert_eq!(back.entries[0].ttfb, summary.entries[0].ttfb);
            if back != summary {
                let again: serde_json::Value = serde_json::from_str(&to_json(&back)).unwrap();
                let first: serde_json::Value = serde_json::from_str(&json).unwrap();
                panic!(
                    "round trip changed the summary at {:?}",
                    first_difference(&first, &again, String::new())
                );
            }
        }
    }

    #[test]
    fn documents_match_the_schema() {
        let (schemas, index) = validator();
        for summary in [
            golden::fixture(),
            golden::troubled(),
            golden::locust_vectors(),
            empty_run(),
        ] {
            let doc: serde_json::Value = serde_json::from_str(&to_json(&summary)).unwrap();
            if let Err(e) = schemas.validate(&doc, index) {
                panic!("{e:#}");
            }
        }
    }

    #[test]
    fn schema_rejects_drift() {
        let (schemas, index) = validator();
        let good: serde_json::Value = serde_json::from_str(&to_json(&golden::fixture())).unwrap();
        let broken = [
            ("/schema_version", serde_json::json!(1)),
            ("/aggregated/latency", serde_json::json!("not a histogram")),
            ("/failures/0/kind", serde_json::json!("http_5xx")),
            ("/info/started_at", serde_json::json!("yesterday")),
            ("/series/rows/0/total/requests", serde_json::json!(-1)),
            (
                "/failures/0/examples",
                serde_json::json!(["a", "b", "c", "d"]),
            ),
        ];
        for (pointer, value) in broken {
            let mut doc = good.clone();
            match doc.pointer_mut(pointer) {
                Some(v) => *v = value,
                None => {
                    let (parent, key) = pointer.rsplit_once('/').unwrap();
                    doc.pointer_mut(parent).unwrap()[key] = value;
                }
            }
            assert!(schemas.validate(&doc, index).is_err(), "{pointer} accepted");
        }
        let mut extra = good.clone();
        extra["aggregated"]["surprise"] = serde_json::json!(1);
        assert!(
            schemas.validate(&extra, index).is_err(),
            "unknown field accepted"
        );
    }

    #[test]
    fn other_schema_versions_are_refused() {
        let mut doc: serde_json::Value = serde_json::from_str(&to_json(&empty_run())).unwrap();
        doc["schema_version"] = serde_json::json!(3);
        let err = from_str(&doc.to_string()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "result document has schema_version 3, this kload reads versions 1 and 2"
        );
        let err = from_str("{}").unwrap_err();
        assert!(matches!(err, ReportError::SchemaVersion { found: 0, .. }));
    }

    /// A result written by kload 0.1 (schema version 1, `tests/golden/report/v1_result.json`):
    /// still rendered and compared; not merged.
    #[test]
    fn version_1_documents_are_still_read() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/report/v1_result.json"
        );
        let v1 = load(Path::new(path)).unwrap();
        assert_eq!(v1.schema_version, 1);
        assert!(v1.series.is_none());
        let points = v1.time_series();
        assert!(points.len() >= 3, "{}", points.len());
        assert!(points.last().unwrap().total.requests > 0);
        let mut text = Vec::new();
        crate::report::text::render(&v1, &mut text, false).unwrap();
        assert!(String::from_utf8(text).unwrap().contains("Aggregated"));
        let cmp = crate::report::compare::compare(&v1, &v1, 0.2);
        assert!(!cmp.regressed());
        let mut into = v1.clone();
        let err = crate::metrics::merge::absorb(&mut into, &v1, ("a", "b")).unwrap_err();
        assert!(err.to_string().contains("version 1"), "{err}");
    }

    #[test]
    fn files_are_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let summary = golden::fixture();
        let path = dir.path().join("results/nested/run.json");
        crate::report::write_file(&path, |w| render(&summary, w)).unwrap();
        assert_eq!(load(&path).unwrap(), summary);

        let written = csv::write_files(&summary, &dir.path().join("csv/prod-test"), false).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "prod-test_stats.csv",
                "prod-test_stats_history.csv",
                "prod-test_failures.csv",
                "prod-test_exceptions.csv"
            ]
        );
        let stats = fs::read_to_string(&written[0]).unwrap();
        assert!(stats.starts_with("Type,Name,Request Count,"));

        let missing = dir.path().join("missing.json");
        let err = load(&missing).unwrap_err().to_string();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
    }
}
