//! `kload k8s` end to end, and a run of its Job without a cluster: [`emulate`] reads the
//! generated manifests the way the Job controller and the kubelet would and starts one
//! local `kload` process per index, with the pod's arguments and environment and the
//! ConfigMap's files in a folder standing in for the mount, then `kload merge -` reads
//! their logs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::Engine as _;
use yaml_rust2::{Yaml, YamlLoader};

use super::support::{PATIENCE, TestServer, kload, scratch, text};

const IMAGE: &str = "registry.example.com/kload:0.1.0";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn manifests(args: &[&str]) -> (Yaml, Yaml) {
    let o = kload(&[&["k8s"], args].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let yaml = String::from_utf8(o.stdout).unwrap();
    let docs = YamlLoader::load_from_str(&yaml).unwrap();
    assert_eq!(docs.len(), 2, "{yaml}");
    (docs[0].clone(), docs[1].clone())
}

#[test]
fn k8s_prints_a_config_map_and_an_indexed_job() {
    let kibray = repo("scenarios/kibray.kload");
    let (cm, job) = manifests(&[
        kibray.to_str().unwrap(),
        "--segments",
        "3",
        "--image",
        IMAGE,
    ]);
    assert_eq!(cm["kind"].as_str(), Some("ConfigMap"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    assert_eq!(job["metadata"]["name"].as_str(), Some("kload-kibray"));
    assert_eq!(job["spec"]["completions"].as_i64(), Some(3));
    let source = std::fs::read_to_string(&kibray).unwrap();
    assert_eq!(cm["data"]["kibray.kload"].as_str(), Some(source.as_str()));
    // --start-in 2m by default, from now.
    let env = &job["spec"]["template"]["spec"]["containers"][0]["env"];
    let start = env[1]["value"].as_str().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let ahead = start
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!((100..=121).contains(&ahead), "starts in {ahead} s");
}

#[test]
fn k8s_writes_a_file_and_says_how_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.yaml");
    let o = kload(&[
        "k8s",
        repo("scenarios/kibray.kload").to_str().unwrap(),
        "--segments",
        "2",
        "--image",
        IMAGE,
        "--namespace",
        "load",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("kubectl apply -n load -f {}", out.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "kubectl logs -n load -l batch.kubernetes.io/job-name=kload-kibray --tail=-1"
        ),
        "{stderr}"
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert_eq!(YamlLoader::load_from_str(&yaml).unwrap().len(), 2);
}

#[test]
fn k8s_refuses_bad_input_with_exit_2() {
    let (_d, bad) = scratch("bad.kload", "user U {\n  task t {\n    GTE \"/\"\n  }\n}\n");
    let kibray = repo("scenarios/kibray.kload");
    let kibray = kibray.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[bad.to_str().unwrap(), "--segments", "2", "--image", IMAGE],
            "kload::unknown_method",
        ),
        (&[kibray, "--segments", "2"], "--image <IMAGE>"),
        (
            &[kibray, "--segments", "0", "--image", IMAGE],
            "0 is not in 1..=100000",
        ),
        (
            &[
                kibray,
                "--segments",
                "2",
                "--image",
                IMAGE,
                "--start-in",
                "1m",
                "--start-at",
                "2099-01-01T00:00:00Z",
            ],
            "cannot be used with",
        ),
        (
            &[
                kibray,
                "--segments",
                "2",
                "--image",
                IMAGE,
                "--start-at",
                "tomorrow",
            ],
            "RFC 3339",
        ),
        (
            &[
                kibray,
                "--segments",
                "2",
                "--image",
                IMAGE,
                "--",
                "--csv",
                "x",
            ],
            "`--csv` cannot be passed to the pods",
        ),
    ];
    for (args, expected) in cases {
        let o = kload(&[&["k8s"], *args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(expected), "{args:?}: {}", text(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed a manifest");
    }
}

#[test]
fn k8s_prints_the_scenarios_warnings_and_still_generates() {
    let dir = scenario_dir();
    let file = dir.path().join("warned.kload");
    std::fs::write(
        &file,
        "data unused from \"data/accounts.csv\"\nload {\n  run_time 1m\n}\n\
         user U {\n  task t {\n    GET \"/\"\n  }\n}\n",
    )
    .unwrap();
    let o = kload(&[
        "k8s",
        file.to_str().unwrap(),
        "--segments",
        "2",
        "--image",
        IMAGE,
        "--",
        "--host",
        "http://target.example:8080",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("kload::unused_feed"), "{stderr}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("kind: Job"));
}

/// The Dockerfile builds the image the manifests assume: kload as the entry point, the
/// user the pods run as, a toolchain new enough for the crate, one Debian release for the
/// build and the run (the binary links the build's glibc).
#[test]
fn the_dockerfile_matches_the_manifests_and_the_crate() {
    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let from: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    assert_eq!(from.len(), 2, "a build stage and a runtime stage");
    let (rust, build_os) = from[0]
        .strip_prefix("rust:")
        .and_then(|r| r.split_once(' '))
        .map(|(tag, _)| tag.split_once('-').unwrap())
        .expect("the build stage is FROM rust:VERSION-DEBIAN AS build");
    let run_os = from[1]
        .strip_prefix("debian:")
        .and_then(|t| t.strip_suffix("-slim"))
        .expect("the runtime stage is FROM debian:RELEASE-slim");
    assert_eq!(build_os, run_os);
    let manifest = std::fs::read_to_string(repo("Cargo.toml")).unwrap();
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    assert!(version(rust) >= version(msrv), "rust:{rust} < {msrv}");
    let user = format!("USER {0}:{0}", 10001);
    assert!(dockerfile.lines().any(|l| l == user), "no `{user}`");
    assert!(dockerfile.contains("ENTRYPOINT [\"kload\"]"));
}

// ---------------------------------------------------------------------------------------
// The Job, emulated

/// One pod of the Job as the kubelet would start it.
#[derive(Debug)]
struct Pod {
    index: usize,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// The Job's pods, and the folder holding the ConfigMap's files (the mount).
struct Emulated {
    pods: Vec<Pod>,
    mount: tempfile::TempDir,
    /// The container's mount path, replaced by the folder in arguments.
    mount_path: String,
}

/// Kubernetes' `$(VAR)` expansion in `args` and `env` values: a defined variable is
/// replaced, an undefined reference is kept as written, `$$` is a `$`.
fn expand(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(close) = inner.find(')')
        {
            let name = &inner[..close];
            match vars.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &inner[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn expansion_follows_kubernetes() {
    let vars = vec![
        ("A".to_string(), "1".to_string()),
        ("B".to_string(), "x$(A)".to_string()),
    ];
    assert_eq!(expand("$(A)-$(B)", &vars), "1-x$(A)");
    assert_eq!(expand("$(C) $$(A) $ $(", &vars), "$(C) $(A) $ $(");
}

/// Reads the ConfigMap and the Job, refuses what the Job controller or `--segment auto`
/// would refuse, writes the ConfigMap's files where the Job mounts them, and lists the pods.
fn emulate(config_map: &Yaml, job: &Yaml) -> Result<Emulated, String> {
    let spec = &job["spec"];
    if spec["completionMode"].as_str() != Some("Indexed") {
        return Err("not an Indexed Job".into());
    }
    let completions = spec["completions"].as_i64().ok_or("no completions")?;
    if spec["parallelism"].as_i64() != Some(completions) {
        return Err("parallelism differs from completions: segments would not run at once".into());
    }
    let pod = &spec["template"]["spec"];
    let containers = pod["containers"].as_vec().ok_or("no containers")?;
    let [container] = containers.as_slice() else {
        return Err("one container expected".into());
    };
    let mut env = Vec::new();
    for e in container["env"].as_vec().into_iter().flatten() {
        let name = e["name"].as_str().ok_or("env without a name")?.to_string();
        let value = e["value"].as_str().ok_or("env without a plain value")?;
        let value = expand(value, &env);
        env.push((name, value));
    }
    let count = env
        .iter()
        .find(|(k, _)| k == "KLOAD_SEGMENT_COUNT")
        .map(|(_, v)| v.clone());
    if count != Some(completions.to_string()) {
        return Err(format!(
            "KLOAD_SEGMENT_COUNT is {count:?} but the Job has {completions} completions"
        ));
    }

    // The mount: the ConfigMap's items at their paths.
    let mount = tempfile::tempdir().unwrap();
    let mounts = container["volumeMounts"]
        .as_vec()
        .ok_or("no volume mount")?;
    let [volume_mount] = mounts.as_slice() else {
        return Err("one volume mount expected".into());
    };
    let mount_path = volume_mount["mountPath"].as_str().unwrap().to_string();
    let volume = &pod["volumes"][0];
    if volume["name"].as_str() != volume_mount["name"].as_str()
        || volume["configMap"]["name"].as_str() != config_map["metadata"]["name"].as_str()
    {
        return Err("the volume is not the ConfigMap".into());
    }
    for item in volume["configMap"]["items"].as_vec().ok_or("no items")? {
        let key = item["key"].as_str().unwrap();
        let path = item["path"].as_str().unwrap();
        let bytes = match (
            config_map["data"][key].as_str(),
            config_map["binaryData"][key].as_str(),
        ) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| e.to_string())?,
            _ => return Err(format!("key {key} missing from the ConfigMap")),
        };
        let file = mount.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    let job_name = job["metadata"]["name"].as_str().unwrap();
    let raw_args: Vec<&str> = container["args"]
        .as_vec()
        .ok_or("no args")?
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let pods = (0..completions as usize)
        .map(|index| {
            // What the Job controller adds to each pod.
            let mut env = env.clone();
            env.push(("JOB_COMPLETION_INDEX".into(), index.to_string()));
            env.push(("HOSTNAME".into(), format!("{job_name}-{index}")));
            let args = raw_args
                .iter()
                .map(|a| {
                    let a = expand(a, &env);
                    match a.strip_prefix(&mount_path) {
                        Some(rest) => format!("{}{rest}", mount.path().display()),
                        None => a,
                    }
                })
                .collect();
            Pod { index, args, env }
        })
        .collect();
    Ok(Emulated {
        pods,
        mount,
        mount_path,
    })
}

/// A scenario with a unique data feed and an exact number of requests: an arrival every
/// 100 ms for 1.25 s (the end falls between two arrivals), each one request carrying its
/// user's id and account.
const SCENARIO: &str = r#"
data accounts from "data/accounts.csv" unique

load {
  arrival_rate 10/s
  max_users 12
  run_time 1250ms
}

user Member {
  task ping {
    GET "/ping" {
      query account: "{{ accounts.username }}"
      query uid: "{{ user_id() }}"
      check status 200
    }
  }
}
"#;

fn scenario_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let rows: String = (1..=40).map(|i| format!("user{i:02}\n")).collect();
    std::fs::write(
        dir.path().join("data/accounts.csv"),
        format!("username\n{rows}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("test.kload"), SCENARIO).unwrap();
    dir
}

fn generate(dir: &Path, segments: u32, extra: &[&str]) -> (Yaml, Yaml) {
    let file = dir.join("test.kload");
    let segments = segments.to_string();
    let mut args = vec![
        file.to_str().unwrap(),
        "--segments",
        &segments,
        "--image",
        IMAGE,
        "--start-in",
        "3s",
    ];
    if !extra.is_empty() {
        args.push("--");
        args.extend(extra);
    }
    manifests(&args)
}

#[test]
fn emulated_pods_get_their_index_the_start_and_the_files() {
    let dir = scenario_dir();
    let (cm, job) = generate(dir.path(), 3, &["--host", "http://127.0.0.1:9"]);
    let e = emulate(&cm, &job).unwrap();
    assert_eq!(e.pods.len(), 3);
    assert_eq!(e.mount_path, "/scenario");
    let start = cm_start(&job);
    let scenario = e.mount.path().join("test.kload");
    for pod in &e.pods {
        let env: BTreeMap<&str, &str> = pod
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(env["JOB_COMPLETION_INDEX"], pod.index.to_string());
        assert_eq!(env["KLOAD_SEGMENT_COUNT"], "3");
        assert_eq!(env["HOSTNAME"], format!("kload-test-{}", pod.index));
        assert_eq!(
            pod.args,
            [
                "run",
                scenario.to_str().unwrap(),
                "--headless",
                "--segment",
                "auto",
                "--start-at",
                &start,
                "--json",
                "-",
                "--host",
                "http://127.0.0.1:9"
            ]
        );
    }
    // The files are where the scenario looks for them: it compiles from the mount.
    assert_eq!(
        std::fs::read(e.mount.path().join("data/accounts.csv")).unwrap(),
        std::fs::read(dir.path().join("data/accounts.csv")).unwrap()
    );
    let o = kload(&["check", scenario.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

fn cm_start(job: &Yaml) -> String {
    job["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn emulation_refuses_a_job_whose_segment_count_is_not_its_completions() {
    let dir = scenario_dir();
    let (cm, job) = generate(dir.path(), 3, &[]);
    let mut text = String::new();
    yaml_rust2::YamlEmitter::new(&mut text).dump(&job).unwrap();
    let edited = text.replace("completions: 3", "completions: 4");
    let job = YamlLoader::load_from_str(&edited).unwrap().remove(0);
    let err = emulate(&cm, &job).err().unwrap();
    assert!(err.contains("parallelism"), "{err}");
    let edited = edited.replace("parallelism: 3", "parallelism: 4");
    let job = YamlLoader::load_from_str(&edited).unwrap().remove(0);
    let err = emulate(&cm, &job).err().unwrap();
    assert!(err.contains("KLOAD_SEGMENT_COUNT"), "{err}");
}

/// Starts every pod at once, each logging standard output and error into one file as a
/// container runtime does; any non-zero exit fails the run (podFailurePolicy FailJob).
/// Returns the logs, one per pod.
fn run_pods(e: &Emulated) -> Vec<String> {
    let logs: Vec<PathBuf> = e
        .pods
        .iter()
        .map(|p| e.mount.path().join(format!("pod-{}.log", p.index)))
        .collect();
    let mut children: Vec<_> = e
        .pods
        .iter()
        .zip(&logs)
        .map(|(pod, log)| {
            let file = File::create(log).unwrap();
            let workdir = tempfile::tempdir().unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_kload"))
                .args(&pod.args)
                .env_clear()
                .envs(pod.env.iter().map(|(k, v)| (k, v)))
                .current_dir(workdir.path())
                .stdin(Stdio::null())
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .unwrap();
            (pod.index, child, workdir)
        })
        .collect();
    let started = Instant::now();
    for (index, child, _) in &mut children {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&logs[*index]).unwrap_or_default();
                assert!(status.success(), "pod {index} failed ({status}):\n{log}");
                break;
            }
            assert!(started.elapsed() < PATIENCE, "pod {index} never finished");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    logs.iter()
        .map(|l| std::fs::read_to_string(l).unwrap())
        .collect()
}

/// The logs as `kubectl logs -l ... --follow` may print them: lines of different pods
/// interleaved.
fn interleave(logs: &[String]) -> String {
    let mut lines: Vec<std::str::Lines> = logs.iter().map(|l| l.lines()).collect();
    let mut out = String::new();
    loop {
        let mut any = false;
        for l in &mut lines {
            if let Some(line) = l.next() {
                out.push_str(line);
                out.push('\n');
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Request and failure counts per (type, name) in a Locust stats CSV.
fn stats_counts(path: &Path) -> BTreeMap<(String, String), (u64, u64)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (t, n, r, f) = (
        col("Type"),
        col("Name"),
        col("Request Count"),
        col("Failure Count"),
    );
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (
                (row[t].to_string(), row[n].to_string()),
                (row[r].parse().unwrap(), row[f].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
fn the_emulated_job_merges_to_the_single_process_run() {
    let dir = scenario_dir();
    let server = TestServer::start();
    let url = server.url();

    // One process, the reference.
    let single = dir.path().join("single");
    let o = Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(["run", dir.path().join("test.kload").to_str().unwrap()])
        .args(["--headless", "--only-summary", "--host", &url, "--csv"])
        .arg(&single)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let single_requests = server.count("/ping");
    assert!(
        (12..=13).contains(&single_requests),
        "the reference run sent {single_requests} requests, not one per arrival"
    );

    for segments in [1, 2, 3] {
        let before = server.count("/ping");
        let (cm, job) = generate(dir.path(), segments, &["--host", &url]);
        let e = emulate(&cm, &job).unwrap();
        let logs = run_pods(&e);
        let merged = dir.path().join(format!("merged-{segments}"));
        let mut merge = Command::new(env!("CARGO_BIN_EXE_kload"))
            .args(["merge", "-", "--csv"])
            .arg(&merged)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        merge
            .stdin
            .take()
            .unwrap()
            .write_all(interleave(&logs).as_bytes())
            .unwrap();
        let o = merge.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{segments} segments: {}",
            text(&o)
        );
        assert_eq!(
            stats_counts(&merged.with_file_name(format!("merged-{segments}_stats.csv"))),
            stats_counts(&single.with_file_name("single_stats.csv")),
            "{segments} segments"
        );

        // The target saw the same requests, and no account was used by two users, even
        // across pods (`unique` rows are never reused across segments).
        let hits: Vec<_> = server.hits("/ping").into_iter().skip(before).collect();
        assert_eq!(hits.len(), single_requests, "{segments} segments");
        let mut account_of: BTreeMap<String, String> = BTreeMap::new();
        for h in &hits {
            let (uid, account) = (h.param("uid").unwrap(), h.param("account").unwrap());
            let first = account_of
                .entry(uid.to_string())
                .or_insert(account.to_string());
            assert_eq!(first, account, "user {uid} changed accounts");
        }
        let accounts: BTreeSet<&String> = account_of.values().collect();
        assert_eq!(accounts.len(), account_of.len(), "an account was shared");
    }
}
