//! `kload import har` from the command line: the imported Chromium recording of the demo
//! passes `check` and `fmt --check` and, with the credentials filled in, `smoke` against the
//! demo target; files are written, kept and refused as documented.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::support::{demo, kload, scratch, text};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/import")
        .join(name)
}

fn run(args: &[&str]) -> (Output, String) {
    let o = kload(args);
    let t = text(&o);
    (o, t)
}

/// Imports `har` to `dir/demo.kload`, then checks, formats, and smokes it against the demo
/// target with and without real credentials.
fn import_check_and_smoke(har: &Path, dir: &Path) {
    let out = dir.join("demo.kload");
    let (o, t) = run(&[
        "import",
        "har",
        har.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("wrote"), "{t}");
    let csv = dir.join("data/demo.credentials.csv");
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "username,password\nCHANGE_ME,CHANGE_ME\n"
    );

    let (o, t) = run(&["check", out.to_str().unwrap()]);
    assert!(o.status.success() && !t.contains('⚠'), "{t}");
    let (o, t) = run(&["fmt", "--check", out.to_str().unwrap()]);
    assert!(o.status.success(), "{t}");

    let (_rt, server) = demo();
    let smoke = || run(&["smoke", out.to_str().unwrap(), "-H", &server.base_url()]);
    // The placeholders do not log in, and nothing after the login gets through.
    let (o, t) = smoke();
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("401"), "{t}");

    std::fs::write(&csv, "username,password\nloaduser001,loadpass123\n").unwrap();
    let (o, t) = smoke();
    assert!(o.status.success(), "{t}");
    assert!(t.contains(" 0 failed"), "{t}");
    for name in [
        "/api/v1/auth/login/",
        "/api/v1/projects/[id]/",
        "/api/v1/tasks/[id]/",
    ] {
        assert!(t.contains(name), "{name}: {t}");
    }
    assert!(t.contains("PATCH") && t.contains(" 201 "), "{t}");
}

#[test]
fn the_imported_chromium_recording_runs_against_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    import_check_and_smoke(&fixture("chromium-demo.har"), dir.path());
}

/// Records a fresh HAR with headless Chromium (tests/browser/record-har.mjs) and imports it:
/// run by tests/browser/run.sh, which installs Chromium and playwright-core. With
/// `KLOAD_BROWSER_DIR`, the recording and the scenario are left there.
#[test]
#[ignore = "needs Chromium and node: run by tests/browser/run.sh"]
fn a_fresh_chromium_recording_imports_and_runs() {
    let (_rt, server) = demo();
    let scratch_dir = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("KLOAD_BROWSER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| scratch_dir.path().to_path_buf());
    let _ = std::fs::remove_dir_all(dir.join("data"));
    let har = dir.join("recorded.har");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/record-har.mjs");
    let o = Command::new("node")
        .arg(&script)
        .arg(server.base_url())
        .arg(&har)
        .output()
        .expect("node runs");
    assert!(o.status.success(), "{}", text(&o));
    drop(server);
    import_check_and_smoke(&har, &dir);
}

#[test]
fn without_o_the_scenario_goes_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(["import", "har"])
        .arg(fixture("shop.har"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stdout,
        std::fs::read_to_string(fixture("shop.kload")).unwrap()
    );
    assert!(
        stderr.contains("the scenario reads data/shop.credentials.csv (columns username,password,client_secret,x_api_key)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Correlated: csrfmiddlewaretoken, csrftoken, access_token"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn a_filled_data_file_is_kept_and_a_different_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shop.kload");
    let import = || {
        run(&[
            "import",
            "har",
            fixture("shop.har").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let (o, t) = import();
    assert!(o.status.success(), "{t}");
    let csv = dir.path().join("data/shop.credentials.csv");
    let filled = "username,password,client_secret,x_api_key\nbob,pw,cs,ak\n";
    std::fs::write(&csv, filled).unwrap();

    let (o, t) = import();
    assert!(o.status.success(), "{t}");
    assert!(t.contains("kept"), "{t}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), filled);

    std::fs::write(&csv, "user,pass\nbob,pw\n").unwrap();
    std::fs::remove_file(&out).unwrap();
    let (o, t) = import();
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("exists with the columns user,pass"), "{t}");
    assert!(!out.exists(), "no scenario without its data file");
}

#[test]
fn bad_recordings_exit_2_with_a_diagnostic() {
    let (_d, path) = scratch(
        "bad.har",
        "{\n  \"log\": {\n    \"entries\": [\n      {\"request\": 5}\n    ]\n  }\n}\n",
    );
    let (o, t) = run(&["import", "har", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("kload::invalid_har"), "{t}");
    assert!(t.contains("bad.har:4:19"), "{t}");
    assert!(t.contains("help: a HAR file is JSON"), "{t}");

    // A minified file is one long line: the position is given without the line.
    let long = format!(
        "{{\"log\": {{\"entries\": [{}{{\"request\": 5}}]}}}}",
        "{\"request\": {\"method\": \"GET\", \"url\": \"http://a/\"}},".repeat(20)
    );
    let (_d, path) = scratch("min.har", &long);
    let (o, t) = run(&["import", "har", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("error[kload::invalid_har]: not a HAR file: "),
        "{t}"
    );
    assert!(t.lines().all(|l| l.len() < 400), "{t}");

    let (_d, path) = scratch("none.har", "{\"log\": {\"entries\": []}}");
    let (o, t) = run(&["import", "har", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("the recording has no requests"), "{t}");

    let (o, t) = run(&["import", "har", "/nonexistent/x.har"]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("cannot read /nonexistent/x.har"), "{t}");

    let (o, t) = run(&["import", "har"]);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("<FILE>"), "{t}");
}
