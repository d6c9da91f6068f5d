//! `kload k8s` as a function: golden manifests, the Job's invariants read back from the
//! YAML, and every refusal. `KLOAD_BLESS=1` rewrites `tests/golden/k8s/`.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use super::*;
use kload::golden;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The instant the tests generate at, and the start most of them ask for.
fn now() -> DateTime<Utc> {
    golden::utc("2026-11-27T11:58:00Z")
}

fn start() -> DateTime<Utc> {
    golden::utc("2026-11-27T12:00:00Z")
}

/// `kload k8s FILE --segments N --image IMAGE --start-at START` and the defaults.
fn args(file: impl Into<PathBuf>, segments: u32) -> K8sArgs {
    K8sArgs {
        file: file.into(),
        segments,
        image: "registry.example.com/kload:0.1.0".into(),
        name: None,
        namespace: None,
        start_in: Duration::from_secs(120),
        start_at: Some(start()),
        deadline: None,
        cpu: "1".into(),
        memory: "1Gi".into(),
        ttl: Duration::from_secs(86_400),
        output: None,
        run_args: vec![],
    }
}

fn run_args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The golden tests name files relative to the repository, as a user in it would; the
/// relative path is what the manifest's comment shows, so it must not depend on where
/// the tests run from.
fn relative(path: &str) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        cwd,
        repo(""),
        "unit tests run from the package root (cargo's rule)"
    );
    PathBuf::from(path)
}

fn documents(yaml: &str) -> (Yaml, Yaml) {
    let docs = YamlLoader::load_from_str(yaml).unwrap_or_else(|e| panic!("{e}:\n{yaml}"));
    assert_eq!(docs.len(), 2, "a ConfigMap and a Job");
    (docs[0].clone(), docs[1].clone())
}

fn strs(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn kibray_golden() {
    let mut a = args(relative("scenarios/kibray.kload"), 4);
    a.namespace = Some("load-tests".into());
    a.cpu = "2".into();
    a.memory = "2Gi".into();
    a.run_args = run_args(&[
        "--host",
        "https://staging.example.com",
        "--users",
        "200",
        "--spawn-rate",
        "20",
        "--threshold",
        "p99(tag list) < 500ms",
    ]);
    let g = generate(&a, now()).unwrap();
    golden::check("k8s", "kibray.yaml", g.yaml.as_bytes());
}

#[test]
fn files_beside_below_and_above_the_scenario_golden() {
    let mut a = args(relative("tests/golden/k8s/layout/s/upload.kload"), 1);
    a.start_at = None;
    a.output = Some("upload.yaml".into());
    let g = generate(&a, golden::utc("2026-11-27T11:58:00.250Z")).unwrap();
    golden::check("k8s", "layout.yaml", g.yaml.as_bytes());
}

#[test]
fn the_job_runs_every_segment_once_and_at_once() {
    for n in [1, 3, 64] {
        let g = generate(&args(repo("scenarios/kibray.kload"), n), now()).unwrap();
        let (_, job) = documents(&g.yaml);
        let spec = &job["spec"];
        assert_eq!(job["kind"].as_str(), Some("Job"));
        assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
        assert_eq!(spec["completions"].as_i64(), Some(i64::from(n)));
        assert_eq!(spec["parallelism"].as_i64(), Some(i64::from(n)));
        assert_eq!(spec["backoffLimit"].as_i64(), Some(0));
        let rules = spec["podFailurePolicy"]["rules"].as_vec().unwrap();
        assert!(
            rules
                .iter()
                .all(|r| r["action"].as_str() == Some("FailJob"))
        );
        assert_eq!(rules[0]["onExitCodes"]["operator"].as_str(), Some("NotIn"));
        assert_eq!(rules[0]["onExitCodes"]["values"][0].as_i64(), Some(0));
        assert_eq!(
            rules[1]["onPodConditions"][0]["type"].as_str(),
            Some("DisruptionTarget")
        );
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
        let c = &pod["containers"][0];
        assert_eq!(c["name"].as_str(), Some(CONTAINER));
        assert!(
            c["resources"]["limits"]["cpu"].is_badvalue(),
            "no CPU limit"
        );
        assert_eq!(c["resources"]["limits"]["memory"].as_str(), Some("1Gi"));
        let env: Vec<(&str, &str)> = c["env"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            env,
            [
                ("KLOAD_SEGMENT_COUNT", n.to_string().as_str()),
                ("KLOAD_START_AT", "2026-11-27T12:00:00Z")
            ]
        );
        let args = strs(&c["args"]).join(" ");
        assert_eq!(
            args,
            "run /scenario/kibray.kload --headless --segment auto \
             --start-at $(KLOAD_START_AT) --json -"
        );
    }
}

#[test]
fn the_config_map_holds_every_file_where_the_scenario_looks_for_it() {
    let g = generate(
        &args(repo("tests/golden/k8s/layout/s/upload.kload"), 2),
        now(),
    )
    .unwrap();
    let (cm, job) = documents(&g.yaml);
    let items = &job["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"];
    let mut seen = 0;
    for item in items.as_vec().unwrap() {
        let key = item["key"].as_str().unwrap();
        let path = item["path"].as_str().unwrap();
        let on_disk = std::fs::read(repo("tests/golden/k8s/layout").join(path)).unwrap();
        let shipped = match (cm["data"][key].as_str(), cm["binaryData"][key].as_str()) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
            other => panic!("{key} is in data and binaryData, or in neither: {other:?}"),
        };
        assert_eq!(shipped, on_disk, "{path}");
        seen += 1;
    }
    let keys = cm["data"].as_hash().map_or(0, |h| h.len())
        + cm["binaryData"].as_hash().map_or(0, |h| h.len());
    assert_eq!(seen, 4);
    assert_eq!(keys, 4, "every key is mounted");
    let scenario = strs(&job["spec"]["template"]["spec"]["containers"][0]["args"])[1];
    assert_eq!(scenario, "/scenario/s/upload.kload");
}

#[test]
fn keys_are_made_of_allowed_characters_and_never_collide() {
    let mut taken = vec![];
    for path in [
        "data/a.csv",
        "data_a.csv",
        "data/a.csv",
        "é ü/x y.csv",
        ".hidden",
    ] {
        let key = config_map_key(path, &taken);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
                && !key.starts_with('.'),
            "{key}"
        );
        taken.push(key);
    }
    assert_eq!(
        taken,
        [
            "data_a.csv",
            "data_a.csv-2",
            "data_a.csv-3",
            "---_x-y.csv",
            "f.hidden"
        ]
    );
}

#[test]
fn the_deadline_covers_the_wait_the_run_and_the_stop() {
    let deadline = |a: &K8sArgs| {
        let (_, job) = documents(&generate(a, now()).unwrap().yaml);
        job["spec"]["activeDeadlineSeconds"].as_i64().unwrap()
    };
    let kibray = repo("scenarios/kibray.kload");
    // 2m to the start + run_time 5m + 5m.
    assert_eq!(deadline(&args(&kibray, 2)), 120 + 300 + 300);
    let mut a = args(&kibray, 2);
    a.run_args = run_args(&["-t", "1h", "--stop-timeout", "30s"]);
    assert_eq!(deadline(&a), 120 + 3600 + 30 + 300);
    a.deadline = Some(Duration::from_secs(99));
    assert_eq!(deadline(&a), 99);
    // Stages end the run: 30s + 1m, and the file's stop_timeout 10s.
    let stages = repo("tests/golden/k8s/layout/s/upload.kload");
    assert_eq!(deadline(&args(&stages, 2)), 120 + 90 + 10 + 300);
    // --start-in counts from now, rounded up to a whole second.
    let mut a = args(&kibray, 2);
    a.start_at = None;
    a.start_in = Duration::from_millis(30_500);
    let g = generate(&a, now()).unwrap();
    assert!(
        g.yaml.contains("value: \"2026-11-27T11:58:31Z\""),
        "{}",
        g.yaml
    );
}

#[test]
fn the_stop_timeout_fits_in_the_grace_period() {
    let mut a = args(repo("scenarios/kibray.kload"), 2);
    a.run_args = run_args(&["--stop-timeout", "2m"]);
    let (_, job) = documents(&generate(&a, now()).unwrap().yaml);
    let grace = &job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"];
    assert_eq!(grace.as_i64(), Some(150));
}

#[test]
fn the_default_name_comes_from_the_file_and_fits_the_pods_host_names() {
    assert_eq!(
        default_name(Path::new("a/Kibray API.kload"), 4),
        "kload-kibray-api"
    );
    assert_eq!(default_name(Path::new("__.kload"), 4), "kload");
    let long = default_name(Path::new(&format!("{}.kload", "x".repeat(80))), 100_000);
    assert_eq!(long.len(), 63 - 1 - 5);
    assert!(check_label("--name", &long, max_name_len(100_000)).is_ok());
}

#[test]
fn risky_choices_are_noted() {
    let notes = |change: &dyn Fn(&mut K8sArgs)| {
        let mut a = args(repo("scenarios/kibray.kload"), 2);
        a.run_args = run_args(&["-H", "https://staging.example.com"]);
        change(&mut a);
        generate(&a, now()).unwrap().notes
    };
    assert_eq!(notes(&|_| {}), Vec::<String>::new());
    let credentials = notes(&|a| a.run_args = run_args(&["-H", "https://u:pw@example.com"]));
    assert!(credentials[0].contains("credentials"), "{credentials:?}");
    // Kibray's own host is 127.0.0.1:8000: each pod would load test itself.
    let loopback = notes(&|a| a.run_args.clear());
    assert!(loopback[0].contains("each pod itself"), "{loopback:?}");
    let ttl = notes(&|a| a.ttl = Duration::from_secs(10));
    assert!(ttl[0].contains("deletes the pods"), "{ttl:?}");
}

/// Every refusal, as the user reads it.
#[test]
fn refusals_golden() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let endless = write(
        "endless.kload",
        "user U {\n  task t {\n    GET \"/\"\n  }\n}\n",
    );
    let kibray = relative("scenarios/kibray.kload");
    let big_csv = format!("x\n{}", "0123456789abcdef\n".repeat(70_000));
    std::fs::write(dir.path().join("big.csv"), &big_csv).unwrap();
    let big = write(
        "big.kload",
        "data d from \"big.csv\"\nload {\n  run_time 1m\n}\nuser U {\n  task t {\n    GET \"/{{ d.x }}\"\n  }\n}\n",
    );
    // A fixed absolute path, so that the golden file does not depend on the temp folder.
    let users = Path::new("/tmp/kload-k8s-golden/users.csv");
    std::fs::create_dir_all(users.parent().unwrap()).unwrap();
    std::fs::write(users, "x\n1\n").unwrap();
    let absolute = write(
        "absolute.kload",
        &format!(
            "data d from \"{}\"\nload {{\n  run_time 1m\n}}\nuser U {{\n  task t {{\n    GET \"/{{{{ d.x }}}}\"\n  }}\n}}\n",
            users.display()
        ),
    );
    let broken = write(
        "broken.kload",
        "user U {\n  task t {\n    GTE \"/\"\n  }\n}\n",
    );

    type Change = Box<dyn Fn(&mut K8sArgs)>;
    let cases: Vec<(&str, PathBuf, Change)> = vec![
        ("no run time", endless.clone(), Box::new(|_| {})),
        (
            "--users replaces the stages, which no longer end the run",
            relative("tests/golden/k8s/layout/s/upload.kload"),
            Box::new(|a| a.run_args = run_args(&["--users", "10"])),
        ),
        ("a file too large for a ConfigMap", big, Box::new(|_| {})),
        ("an absolute path", absolute, Box::new(|_| {})),
        ("a scenario with errors", broken, Box::new(|_| {})),
        (
            "a missing scenario",
            PathBuf::from("missing/nothing.kload"),
            Box::new(|_| {}),
        ),
        (
            "a bad name",
            kibray.clone(),
            Box::new(|a| a.name = Some("Load_Test".into())),
        ),
        (
            "a name too long for 1000 pods",
            kibray.clone(),
            Box::new(|a| {
                a.segments = 1000;
                a.name = Some("n".repeat(60));
            }),
        ),
        (
            "a bad namespace",
            kibray.clone(),
            Box::new(|a| a.namespace = Some("-ns".into())),
        ),
        (
            "a bad image",
            kibray.clone(),
            Box::new(|a| a.image = "my image".into()),
        ),
        (
            "a bad CPU quantity",
            kibray.clone(),
            Box::new(|a| a.cpu = "two".into()),
        ),
        (
            "a bad memory quantity",
            kibray.clone(),
            Box::new(|a| a.memory = "1GB".into()),
        ),
        (
            "a start in the past",
            kibray.clone(),
            Box::new(|a| a.start_at = Some(golden::utc("2026-11-27T11:00:00Z"))),
        ),
        (
            "a run flag that is not one",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--user", "10"])),
        ),
        (
            "a run flag with a bad value",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--run-time", "10 minutes"])),
        ),
        (
            "a result file in the pods",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--json", "out.json"])),
        ),
        (
            "an HTML report in the pods",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--html=r.html"])),
        ),
        (
            "a dry run",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--dry-run"])),
        ),
        (
            "a threshold on an unknown request",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--threshold", "p95(/nope/) < 1s"])),
        ),
        (
            "a bad host",
            kibray.clone(),
            Box::new(|a| a.run_args = run_args(&["--host", "ftp://example.com"])),
        ),
    ];
    let mut out = String::new();
    for (what, file, change) in &cases {
        let mut a = args(file, 4);
        change(&mut a);
        let e = generate(&a, now()).expect_err(what);
        let text = render_error(&e, false).replace(&dir.path().display().to_string(), "TMP");
        out.push_str(&format!("=== {what}\n{text}\n"));
    }
    golden::check("k8s", "refusals.txt", out.as_bytes());
}

#[test]
fn the_size_limit_is_the_config_maps() {
    let files = |n: usize| {
        vec![ShippedFile {
            path: "a".into(),
            contents: vec![b'x'; n],
        }]
    };
    assert!(check_size(&files(CONFIGMAP_LIMIT)).is_ok());
    assert!(matches!(
        check_size(&files(CONFIGMAP_LIMIT + 1)),
        Err(K8sError::TooLarge { .. })
    ));
}

#[test]
fn quantities() {
    for ok in [
        "1", "500m", "1.5", "0.25", ".5", "512Mi", "2Gi", "1e3", "100k",
    ] {
        assert!(check_quantity("--cpu", ok).is_ok(), "{ok}");
    }
    for bad in ["", "-1", "1GB", "two", "1 Gi", "1.2.3", "Gi"] {
        assert!(check_quantity("--cpu", bad).is_err(), "{bad}");
    }
}
