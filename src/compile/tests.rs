//! What users see when a scenario is wrong: golden diagnostics for every code, their JSON
//! form, and a property test that no input makes parse or compile panic.
//!
//! Re-bless the goldens with `KLOAD_BLESS=1 cargo test --lib compile::tests`, then review
//! the diff of `tests/golden/diagnostics/*.txt` like code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Context, Output, compile_source};
use crate::diagnostic::{self, Diagnostic};

fn repo_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    repo_dir().join("tests/golden/diagnostics")
}

/// The `.kload` files of a folder, sorted by name.
fn kload_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "kload"))
        .collect();
    files.sort();
    files
}

/// Every diagnostic rendered without colour at 80 columns, in order.
fn render_all(out: &Output, name: &str, source: &str) -> String {
    out.diagnostics
        .iter()
        .map(|d| diagnostic::render(d, name, source, false, 80))
        .collect()
}

/// The codes worded in error.rs, read from its source so that a new one needs a golden.
fn codes_in_error_rs() -> BTreeSet<&'static str> {
    include_str!("error.rs")
        .split('"')
        .filter(|s| s.starts_with("kload::"))
        .collect()
}

#[test]
fn golden_diagnostics() {
    let dir = golden_dir();
    let ctx = Context {
        base_dir: dir.clone(),
    };
    let bless = std::env::var_os("KLOAD_BLESS").is_some();
    let mut failures = Vec::new();
    let mut seen_codes = BTreeSet::new();
    let files = kload_files(&dir);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(path).unwrap();
        let out = compile_source(&source, &ctx);
        assert!(
            !out.diagnostics.is_empty(),
            "{name}: a golden case must produce a diagnostic"
        );
        seen_codes.extend(out.diagnostics.iter().map(|d| d.code));
        let actual = render_all(&out, &name, &source);
        let expected_path = path.with_extension("txt");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "── {name}: expected ({})\n{expected}\n── actual\n{actual}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden(s) differ; re-bless with KLOAD_BLESS=1 and review the diff\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(files.len() >= 30, "only {} golden cases", files.len());
    let mut wanted = codes_in_error_rs();
    wanted.insert("kload::syntax");
    let missing: Vec<_> = wanted.difference(&seen_codes).collect();
    assert!(
        missing.is_empty(),
        "codes without a golden case: {missing:?}"
    );
}

#[test]
fn a_jsonpath_error_at_a_wide_character_spans_the_whole_character() {
    let src = "user V { task t { GET \"/\" { check jsonpath \"$☕\" exists } } }";
    let ctx = Context {
        base_dir: golden_dir(),
    };
    let out = compile_source(src, &ctx);
    let d = &out.diagnostics[0];
    assert_eq!(d.code, "kload::invalid_jsonpath");
    assert_eq!(&src[d.primary.span.start..d.primary.span.end], "☕");
}

#[test]
fn json_form_of_a_diagnostic() {
    let dir = golden_dir();
    let source = std::fs::read_to_string(dir.join("unknown_variable.kload")).unwrap();
    let out = compile_source(&source, &Context { base_dir: dir });
    let json: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::to_string(&diagnostic::to_json(d, "unknown_variable.kload", &source))
                .unwrap()
        })
        .collect();
    assert_eq!(
        json,
        [concat!(
            r#"{"file":"unknown_variable.kload","line":8,"column":30,"end_line":8,"end_column":39,"#,
            r#""severity":"error","code":"kload::unknown_variable","message":"unknown variable `projct_id`","#,
            r#""label":"nothing sets this before it is used","help":"did you mean `project_id`?"}"#
        )]
    );
}
