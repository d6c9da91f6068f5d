//! `kload k8s`: the Kubernetes manifests of a distributed run. A ConfigMap holds the
//! scenario and every file it names; an Indexed Job runs one pod per segment, all at once,
//! each `kload run --segment auto --start-at T --json -`; `kload merge -` reads their logs.
//! Nothing here talks to a cluster: the output is reviewed, applied and watched with
//! kubectl (docs/distributed.md).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory};

use kload::compile::{self, Context};
use kload::diagnostic::{self, Diagnostic};
use kload::distributed::files::{self, GatherError, ShippedFile};
use kload::distributed::yaml::{self, Node};
use kload::ir::{Plan, Stage};
use kload::session::exit;

/// Where the ConfigMap is mounted in the pods.
pub const MOUNT: &str = "/scenario";
/// The container's name, which the pod failure policy refers to.
pub const CONTAINER: &str = "kload";
/// What Kubernetes accepts in one ConfigMap (the sum of its values).
pub const CONFIGMAP_LIMIT: usize = 1024 * 1024;
/// Added to the start delay and the run time for the Job's deadline: image pulls, the
/// stop timeout's overrun, writing the result.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5 * 60);
/// The user and group the pods run as (the Dockerfile's `USER`).
pub const RUN_AS: i64 = 10001;

/// `kload k8s FILE --segments N --image IMAGE [OPTIONS] [-- RUN_ARGS...]`.
#[derive(Args, Debug, Clone)]
pub struct K8sArgs {
    /// The scenario; it and every file it names go into the ConfigMap.
    pub file: PathBuf,
    /// How many pods run the scenario at once, each with its share of the load.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub segments: u32,
    /// The container image, with kload as its entry point (see the Dockerfile).
    #[arg(long)]
    pub image: String,
    /// Name of the Job (default: kload- and the scenario's file name); the ConfigMap is
    /// NAME-scenario.
    #[arg(long)]
    pub name: Option<String>,
    /// Namespace of the Job and the ConfigMap (default: kubectl's current one).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Start the load this long after the manifests are generated (time for kubectl apply,
    /// scheduling and image pulls).
    #[arg(long, value_parser = parse_duration, default_value = "2m", conflicts_with = "start_at")]
    pub start_in: Duration,
    /// Start the load at this instant, e.g. 2026-11-27T12:00:00Z (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub start_at: Option<DateTime<Utc>>,
    /// The Job's activeDeadlineSeconds (default: time until the start, plus the run time
    /// and stop timeout, plus 5m).
    #[arg(long, value_parser = parse_duration)]
    pub deadline: Option<Duration>,
    /// CPU each pod requests (there is no CPU limit: throttling would distort timings).
    #[arg(long, default_value = "1")]
    pub cpu: String,
    /// Memory each pod requests, also its limit.
    #[arg(long, default_value = "1Gi")]
    pub memory: String,
    /// How long Kubernetes keeps the finished Job and its pods' logs (ttlSecondsAfterFinished).
    #[arg(long, value_parser = parse_duration, default_value = "24h")]
    pub ttl: Duration,
    /// Write the manifests to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Extra `kload run` flags for every pod, after `--`: -- --users 1000 --threshold "...".
    #[arg(last = true, value_name = "RUN_ARGS")]
    pub run_args: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    compile::quantity::duration_text(s, true)
        .map_err(|(reason, _)| format!("{reason} (write 30s, 5m or 1h30m)"))
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: write an RFC 3339 instant like 2026-11-27T12:00:00Z"))
}

/// `kload run` flags that `kload k8s` sets itself or that would write where nobody reads.
const FORBIDDEN_RUN_FLAGS: &[(&str, &str)] = &[
    (
        "segment",
        "kload k8s sets it: every pod runs `--segment auto`",
    ),
    ("start_at", "use `kload k8s --start-at` or `--start-in`"),
    (
        "json",
        "every pod writes its result to its log; `kload merge` reads them",
    ),
    ("html", "write reports with `kload merge - --html FILE`"),
    ("csv", "write reports with `kload merge - --csv PREFIX`"),
    ("csv_full_history", "write reports with `kload merge`"),
    ("junit", "write reports with `kload merge - --junit FILE`"),
    (
        "baseline",
        "compare the merged result: `kload merge ... --json r.json`, then `kload compare`",
    ),
    (
        "dry_run",
        "run `kload smoke FILE` before the distributed run",
    ),
];

/// Why no manifest was generated.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// The scenario (or a `--threshold`) has errors; they are printed as diagnostics.
    #[error("{path} has errors")]
    Scenario {
        path: String,
        source_text: String,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("invalid {flag} `{value}`: {reason}")]
    Invalid {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "--start-at {start} is not in the future (now is {now}); use --start-in 2m, or a later instant"
    )]
    StartInPast { start: String, now: String },
    #[error(
        "the run has no end: a distributed run must stop by itself\n  \
         help: add `run_time 10m` (or stages) to the scenario's load block, or pass it to \
         every pod: kload k8s ... -- --run-time 10m"
    )]
    NoRunTime,
    #[error(
        "the flags after `--` are passed to `kload run` in every pod, and these are not valid:\n{0}"
    )]
    RunArgs(String),
    #[error("`--{flag}` cannot be passed to the pods: {why}")]
    ForbiddenRunArg { flag: String, why: &'static str },
    #[error("invalid --threshold `{text}`")]
    Threshold {
        text: String,
        diagnostic: Diagnostic,
    },
    #[error(
        "the scenario and its files take {total} bytes, more than a ConfigMap holds ({limit} bytes): {list}\n  \
         help: build the large files into the image and refer to them with a path that \
         exists there, or mount them from a volume with a kustomize patch"
    )]
    TooLarge {
        total: usize,
        limit: usize,
        list: String,
    },
    #[error("cannot ship {path}: {reason}")]
    Unshippable { path: String, reason: String },
}

impl K8sError {
    fn invalid(flag: &'static str, value: &str, reason: impl Into<String>) -> K8sError {
        K8sError::Invalid {
            flag,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// The generated manifests and what else a user should see.
#[derive(Debug)]
pub struct Generated {
    /// The ConfigMap and the Job, as one YAML stream with the commands in a comment.
    pub yaml: String,
    /// The commands that run it and collect the result, one per line.
    pub commands: Vec<String>,
    /// Warnings from compiling the scenario (printed, not fatal).
    pub warnings: Vec<Diagnostic>,
    /// Notes about the manifests (e.g. credentials that end up in them).
    pub notes: Vec<String>,
    /// The scenario's text, to render the warnings.
    pub source_text: String,
}

/// What a `kload run` would run, from the scenario and the flags passed through.
struct RunShape {
    run_time: Duration,
    stop_timeout: Duration,
}

/// Generates the manifests for `args` as of `now` (the instant `--start-in` counts from).
pub fn generate(args: &K8sArgs, now: DateTime<Utc>) -> Result<Generated, K8sError> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => default_name(&args.file, args.segments),
    };
    check_label("--name", &name, max_name_len(args.segments))?;
    if let Some(ns) = &args.namespace {
        check_label("--namespace", ns, 63)?;
    }
    check_image(&args.image)?;
    check_quantity("--cpu", &args.cpu)?;
    check_quantity("--memory", &args.memory)?;
    let start = match args.start_at {
        Some(t) if t <= now => {
            return Err(K8sError::StartInPast {
                start: instant(t),
                now: instant(now),
            });
        }
        Some(t) => t,
        None => whole_second_after(now + args.start_in),
    };

    let path = args.file.display().to_string();
    let source = std::fs::read_to_string(&args.file).map_err(|e| K8sError::Read {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let scenario_error = |diagnostics| K8sError::Scenario {
        path: path.clone(),
        source_text: source.clone(),
        diagnostics,
    };
    let ast = kload::syntax::parse(&source).map_err(|d| scenario_error(vec![d]))?;
    let compile::Output { plan, diagnostics } =
        compile::compile(&ast, &source, &Context::for_file(&args.file));
    let Some(plan) = plan else {
        return Err(scenario_error(diagnostics));
    };
    // Without errors, what the compiler said is warnings.
    let warnings = diagnostics;

    let mut notes = Vec::new();
    let shape = check_run_args(args, &plan, &mut notes)?;
    let files = files::gather(&args.file, &ast).map_err(|e| match e {
        GatherError::Diagnostics(d) => scenario_error(d),
        GatherError::Io(reason) => K8sError::Unshippable {
            path: path.clone(),
            reason,
        },
    })?;
    check_size(&files)?;

    let start_delay = (start - now).to_std().unwrap_or_default();
    let deadline = args
        .deadline
        .unwrap_or(start_delay + shape.run_time + shape.stop_timeout + DEADLINE_MARGIN);
    let manifest = Manifest {
        args,
        name: &name,
        start: instant(start),
        deadline: whole_seconds(deadline).max(1),
        grace: whole_seconds(shape.stop_timeout) + 30,
        keys: keys(&files)?,
        files: &files,
    };
    let commands = manifest.commands();
    let mut yaml = String::new();
    let _ = writeln!(
        yaml,
        "# kload k8s: {} in {}, starting at {}.",
        files[0].path,
        if args.segments == 1 {
            "1 segment".to_string()
        } else {
            format!("{} segments", args.segments)
        },
        manifest.start
    );
    yaml.push_str("# Apply it well before then: every pod must be running at that instant.\n#\n");
    for c in &commands {
        let _ = writeln!(yaml, "#   {c}");
    }
    yaml.push_str("#\n# docs/distributed.md explains each step.\n---\n");
    yaml::render(&manifest.config_map(), &mut yaml);
    yaml.push_str("---\n");
    yaml::render(&manifest.job(), &mut yaml);
    Ok(Generated {
        yaml,
        commands,
        warnings,
        notes,
        source_text: source,
    })
}

/// The instant as Kubernetes and `--start-at` write it: UTC, `Z`, fractions only if any.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn whole_second_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

fn whole_seconds(d: Duration) -> i64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)) as i64
}

/// The Job's name must leave room for `-INDEX` in the pods' host names (63 characters).
fn max_name_len(segments: u32) -> usize {
    63 - 1 - (segments.saturating_sub(1)).to_string().len()
}

/// `kload-` and the scenario's file name, in the characters Kubernetes accepts.
fn default_name(file: &Path, segments: u32) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut name = String::from("kload");
    for word in stem.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !word.is_empty() {
            name.push('-');
            name.push_str(word);
        }
    }
    name.truncate(max_name_len(segments));
    name.trim_end_matches('-').to_string()
}

/// A DNS-1123 label: lower-case letters, digits and `-`, a letter or digit at both ends.
fn check_label(flag: &'static str, value: &str, max: usize) -> Result<(), K8sError> {
    static LABEL: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").unwrap());
    if !LABEL.is_match(value) {
        return Err(K8sError::invalid(
            flag,
            value,
            "use lower-case letters, digits and `-`, starting and ending with a letter or digit",
        ));
    }
    if value.len() > max {
        return Err(K8sError::invalid(
            flag,
            value,
            format!("at most {max} characters here (the pods are named NAME-INDEX, 63 at most)"),
        ));
    }
    Ok(())
}

fn check_image(image: &str) -> Result<(), K8sError> {
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(K8sError::invalid(
            "--image",
            image,
            "an image reference like registry.example.com/kload:0.1.0",
        ));
    }
    Ok(())
}

/// A Kubernetes quantity: `2`, `500m`, `1.5`, `512Mi`, `2Gi`, `1e3`.
fn check_quantity(flag: &'static str, value: &str) -> Result<(), K8sError> {
    static QUANTITY: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
            .unwrap()
    });
    if !QUANTITY.is_match(value) {
        return Err(K8sError::invalid(
            flag,
            value,
            "a Kubernetes quantity like 2, 500m, 512Mi or 2Gi",
        ));
    }
    Ok(())
}

/// Checks the flags passed through to `kload run` with kload's own parser (a mistake shows
/// here, not in N pod logs) and reads from them what the deadline needs.
fn check_run_args(
    args: &K8sArgs,
    plan: &Plan,
    notes: &mut Vec<String>,
) -> Result<RunShape, K8sError> {
    let argv = ["kload", "run", "scenario.kload"]
        .into_iter()
        .map(String::from)
        .chain(args.run_args.iter().cloned());
    let matches = super::Cli::command()
        .try_get_matches_from(argv)
        .map_err(|e| {
            let text = e.render().to_string();
            K8sError::RunArgs(text.trim_start_matches("error: ").trim_end().to_string())
        })?;
    let Some(("run", run)) = matches.subcommand() else {
        unreachable!("the argument list starts with `run`")
    };
    // Only what is on the command line counts: the pods do not have this shell's KLOAD_*.
    let given = |id: &str| {
        run.ids().any(|i| i.as_str() == id)
            && run.value_source(id) == Some(ValueSource::CommandLine)
    };
    for (id, why) in FORBIDDEN_RUN_FLAGS {
        if given(id) {
            return Err(K8sError::ForbiddenRunArg {
                flag: id.replace('_', "-"),
                why,
            });
        }
    }
    if given("thresholds") {
        for text in run.get_many::<String>("thresholds").into_iter().flatten() {
            if let Err(diagnostic) = compile::compile_threshold_line(text, plan) {
                return Err(K8sError::Threshold {
                    text: text.clone(),
                    diagnostic,
                });
            }
        }
    }
    if given("host")
        && let Some(host) = run.get_one::<String>("host")
    {
        compile::check_host(host).map_err(|reason| K8sError::invalid("--host", host, reason))?;
        if let Ok(url) = reqwest::Url::parse(host)
            && (!url.username().is_empty() || url.password().is_some())
        {
            notes.push(
                "--host has credentials in it: they are stored in the Job's spec, readable by \
                 anyone who may read Jobs in the namespace (docs/distributed.md shows how to \
                 take them from a Secret)"
                    .to_string(),
            );
        }
    } else if let Some(host) = &plan.host
        && reqwest::Url::parse(host).is_ok_and(|u| match u.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        })
    {
        notes.push(format!(
            "the pods will load test {host}, the scenario's host, which is each pod itself; \
             pass the target after `--`: kload k8s ... -- --host https://staging.example.com"
        ));
    }
    if args.ttl < Duration::from_secs(60) {
        notes.push(format!(
            "--ttl {}s: Kubernetes deletes the pods, and their logs, that soon after the run; \
             `kload merge` must have read them by then",
            args.ttl.as_secs()
        ));
    }
    let flag_duration = |id: &str| {
        given(id)
            .then(|| run.get_one::<Duration>(id).copied())
            .flatten()
    };
    let users_given = given("users");
    let stages: Duration = plan
        .load
        .stages
        .iter()
        .map(|s| match s {
            Stage::Ramp { over, .. } => *over,
            Stage::Hold(d) => *d,
        })
        .sum();
    // `--users` replaces the file's stages (kload run's rule), so they no longer end the run.
    let run_time = flag_duration("run_time")
        .or(plan.load.run_time)
        .or((!users_given && !plan.load.stages.is_empty()).then_some(stages))
        .ok_or(K8sError::NoRunTime)?;
    let stop_timeout = flag_duration("stop_timeout")
        .or(plan.load.stop_timeout)
        .unwrap_or_default();
    Ok(RunShape {
        run_time,
        stop_timeout,
    })
}

fn check_size(files: &[ShippedFile]) -> Result<(), K8sError> {
    let total: usize = files.iter().map(|f| f.contents.len()).sum();
    if total <= CONFIGMAP_LIMIT {
        return Ok(());
    }
    let mut by_size: Vec<&ShippedFile> = files.iter().collect();
    by_size.sort_by_key(|f| std::cmp::Reverse(f.contents.len()));
    let list = by_size
        .iter()
        .map(|f| format!("{} ({} bytes)", f.path, f.contents.len()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(K8sError::TooLarge {
        total,
        limit: CONFIGMAP_LIMIT,
        list,
    })
}

/// The ConfigMap key of a file: its path in the characters keys allow, `/` as `_`.
fn config_map_key(path: &str, taken: &[String]) -> String {
    let base: String = path
        .chars()
        .map(|c| match c {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') => c,
            _ => '-',
        })
        .collect();
    let base = if base.starts_with('.') {
        format!("f{base}")
    } else {
        base
    };
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}-{n}");
        n += 1;
    }
    key
}

/// `(key, path)` of every file, in the order of `files`.
fn keys(files: &[ShippedFile]) -> Result<Vec<(String, String)>, K8sError> {
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for f in files {
        if f.path.starts_with("..") || f.path.len() > 253 {
            return Err(K8sError::Unshippable {
                path: f.path.clone(),
                reason: "Kubernetes does not accept this file name in a ConfigMap \
                         (it starts with `..` or is longer than 253 characters)"
                    .into(),
            });
        }
        let key = config_map_key(&f.path, &keys);
        keys.push(key.clone());
        out.push((key, f.path.clone()));
    }
    Ok(out)
}

/// Everything the two objects are made from.
struct Manifest<'a> {
    args: &'a K8sArgs,
    name: &'a str,
    start: String,
    deadline: i64,
    grace: i64,
    /// The ConfigMap key and mount path of each of `files`.
    keys: Vec<(String, String)>,
    files: &'a [ShippedFile],
}

impl Manifest<'_> {
    fn config_map_name(&self) -> String {
        format!("{}-scenario", self.name)
    }

    fn labels(&self, component: &str) -> Node {
        Node::map([
            ("app.kubernetes.io/name", Node::str("kload")),
            ("app.kubernetes.io/instance", Node::str(self.name)),
            ("app.kubernetes.io/component", Node::str(component)),
        ])
    }

    fn metadata(&self, name: String, component: &str) -> Node {
        let mut m = vec![("name".to_string(), Node::Str(name))];
        if let Some(ns) = &self.args.namespace {
            m.push(("namespace".into(), Node::str(ns)));
        }
        m.push(("labels".into(), self.labels(component)));
        Node::Map(m)
    }

    fn config_map(&self) -> Node {
        let mut text = Vec::new();
        let mut binary = Vec::new();
        for ((key, _), f) in self.keys.iter().cloned().zip(self.files) {
            match std::str::from_utf8(&f.contents) {
                Ok(s) => text.push((key, Node::str(s))),
                Err(_) => binary.push((
                    key,
                    Node::Str(base64::engine::general_purpose::STANDARD.encode(&f.contents)),
                )),
            }
        }
        let mut m = vec![
            ("apiVersion".to_string(), Node::str("v1")),
            ("kind".into(), Node::str("ConfigMap")),
            (
                "metadata".into(),
                self.metadata(self.config_map_name(), "scenario"),
            ),
            // A run's files never change; immutable ConfigMaps also spare the API server.
            ("immutable".into(), Node::Bool(true)),
        ];
        if !text.is_empty() {
            m.push(("data".into(), Node::Map(text)));
        }
        if !binary.is_empty() {
            m.push(("binaryData".into(), Node::Map(binary)));
        }
        Node::Map(m)
    }

    fn container_args(&self) -> Vec<String> {
        let scenario = format!("{MOUNT}/{}", self.files[0].path);
        let mut args: Vec<String> = [
            "run",
            &scenario,
            "--headless",
            "--segment",
            "auto",
            "--start-at",
            "$(KLOAD_START_AT)",
            "--json",
            "-",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        args.extend(self.args.run_args.iter().cloned());
        args
    }

    fn job(&self) -> Node {
        let n = i64::from(self.args.segments);
        let pod_failure_policy = Node::map([(
            "rules",
            Node::Seq(vec![
                // Any pod that fails (crash, late start, bad data) fails the whole run.
                Node::map([
                    ("action", Node::str("FailJob")),
                    (
                        "onExitCodes",
                        Node::map([
                            ("containerName", Node::str(CONTAINER)),
                            ("operator", Node::str("NotIn")),
                            ("values", Node::Seq(vec![Node::Int(0)])),
                        ]),
                    ),
                ]),
                // An evicted or preempted pod took its segment's load with it.
                Node::map([
                    ("action", Node::str("FailJob")),
                    (
                        "onPodConditions",
                        Node::Seq(vec![Node::map([
                            ("type", Node::str("DisruptionTarget")),
                            ("status", Node::str("True")),
                        ])]),
                    ),
                ]),
            ]),
        )]);
        let runner_selector = Node::map([
            ("app.kubernetes.io/instance", Node::str(self.name)),
            ("app.kubernetes.io/component", Node::str("runner")),
        ]);
        let items = self
            .keys
            .iter()
            .map(|(key, path)| Node::map([("key", Node::str(key)), ("path", Node::str(path))]))
            .collect();
        let container = Node::map([
            ("name", Node::str(CONTAINER)),
            ("image", Node::str(&self.args.image)),
            ("args", Node::strs(self.container_args())),
            (
                "env",
                Node::Seq(vec![
                    Node::map([
                        ("name", Node::str("KLOAD_SEGMENT_COUNT")),
                        ("value", Node::Str(n.to_string())),
                    ]),
                    Node::map([
                        ("name", Node::str("KLOAD_START_AT")),
                        ("value", Node::str(&self.start)),
                    ]),
                ]),
            ),
            (
                "resources",
                Node::map([
                    (
                        "requests",
                        Node::map([
                            ("cpu", Node::str(&self.args.cpu)),
                            ("memory", Node::str(&self.args.memory)),
                        ]),
                    ),
                    // No CPU limit: CFS throttling would show up as server latency.
                    (
                        "limits",
                        Node::map([("memory", Node::str(&self.args.memory))]),
                    ),
                ]),
            ),
            (
                "securityContext",
                Node::map([
                    ("allowPrivilegeEscalation", Node::Bool(false)),
                    ("readOnlyRootFilesystem", Node::Bool(true)),
                    ("capabilities", Node::map([("drop", Node::strs(["ALL"]))])),
                ]),
            ),
            (
                "volumeMounts",
                Node::Seq(vec![Node::map([
                    ("name", Node::str("scenario")),
                    ("mountPath", Node::str(MOUNT)),
                    ("readOnly", Node::Bool(true)),
                ])]),
            ),
        ]);
        let pod_spec = Node::map([
            ("restartPolicy", Node::str("Never")),
            ("automountServiceAccountToken", Node::Bool(false)),
            ("enableServiceLinks", Node::Bool(false)),
            // SIGTERM stops the run gracefully: tasks get the stop timeout, then the result
            // is written.
            ("terminationGracePeriodSeconds", Node::Int(self.grace)),
            (
                "securityContext",
                Node::map([
                    ("runAsNonRoot", Node::Bool(true)),
                    ("runAsUser", Node::Int(RUN_AS)),
                    ("runAsGroup", Node::Int(RUN_AS)),
                    (
                        "seccompProfile",
                        Node::map([("type", Node::str("RuntimeDefault"))]),
                    ),
                ]),
            ),
            // One pod per node where the cluster has room: pods sharing a node share its
            // CPU and network.
            (
                "topologySpreadConstraints",
                Node::Seq(vec![Node::map([
                    ("maxSkew", Node::Int(1)),
                    ("topologyKey", Node::str("kubernetes.io/hostname")),
                    ("whenUnsatisfiable", Node::str("ScheduleAnyway")),
                    (
                        "labelSelector",
                        Node::map([("matchLabels", runner_selector)]),
                    ),
                ])]),
            ),
            ("containers", Node::Seq(vec![container])),
            (
                "volumes",
                Node::Seq(vec![Node::map([
                    ("name", Node::str("scenario")),
                    (
                        "configMap",
                        Node::map([
                            ("name", Node::Str(self.config_map_name())),
                            ("items", Node::Seq(items)),
                        ]),
                    ),
                ])]),
            ),
        ]);
        Node::map([
            ("apiVersion", Node::str("batch/v1")),
            ("kind", Node::str("Job")),
            ("metadata", self.metadata(self.name.to_string(), "runner")),
            (
                "spec",
                Node::map([
                    // JOB_COMPLETION_INDEX = 0..N-1 in the pods: the segment.
                    ("completionMode", Node::str("Indexed")),
                    ("completions", Node::Int(n)),
                    ("parallelism", Node::Int(n)),
                    // A segment re-run later would not be part of the same run.
                    ("backoffLimit", Node::Int(0)),
                    ("podFailurePolicy", pod_failure_policy),
                    ("activeDeadlineSeconds", Node::Int(self.deadline)),
                    // Keeps the pods, hence their logs, for `kload merge`.
                    (
                        "ttlSecondsAfterFinished",
                        Node::Int(whole_seconds(self.args.ttl)),
                    ),
                    (
                        "template",
                        Node::map([
                            ("metadata", Node::map([("labels", self.labels("runner"))])),
                            ("spec", pod_spec),
                        ]),
                    ),
                ]),
            ),
        ])
    }

    /// Apply, wait, merge, clean up.
    fn commands(&self) -> Vec<String> {
        let ns = self
            .args
            .namespace
            .as_ref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        let file = self
            .args
            .output
            .as_ref()
            .map_or("MANIFESTS.yaml".to_string(), |p| p.display().to_string());
        let name = self.name;
        vec![
            format!("kubectl apply{ns} -f {file}"),
            format!(
                "kubectl wait{ns} --for=condition=complete --timeout={}s job/{name}",
                self.deadline
            ),
            format!(
                "kubectl logs{ns} -l batch.kubernetes.io/job-name={name} --tail=-1 \
                 --max-log-requests={} | kload merge - --html report.html",
                self.args.segments.max(5)
            ),
            format!(
                "kubectl delete{ns} job/{name} configmap/{}",
                self.config_map_name()
            ),
        ]
    }
}

/// Runs `kload k8s` and returns the exit code (2 for bad input, 3 when the output cannot
/// be written).
pub fn command(args: K8sArgs) -> i32 {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let name = args.file.display().to_string();
    let generated = match generate(&args, Utc::now()) {
        Ok(g) => g,
        Err(e) => {
            eprint!("{}", render_error(&e, color));
            return exit::USAGE;
        }
    };
    for w in &generated.warnings {
        eprint!(
            "{}",
            diagnostic::render(w, &name, &generated.source_text, color, 100)
        );
    }
    for n in &generated.notes {
        eprintln!("note: {n}");
    }
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(generated.yaml.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return exit::COULD_NOT_RUN;
            }
        }
        Some(path) => {
            if let Err(e) = std::fs::write(path, &generated.yaml) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::COULD_NOT_RUN;
            }
            eprintln!("wrote {}; to run it:\n", path.display());
            for c in &generated.commands {
                eprintln!("  {c}");
            }
        }
    }
    exit::OK
}

/// An error as `kload k8s` prints it: diagnostics with their source, the rest as one
/// `error:` message.
pub fn render_error(e: &K8sError, color: bool) -> String {
    match e {
        K8sError::Scenario {
            path,
            source_text,
            diagnostics,
        } => diagnostics
            .iter()
            .map(|d| diagnostic::render(d, path, source_text, color, 100))
            .collect(),
        K8sError::Threshold { text, diagnostic } => format!(
            "error: {e}\n{}",
            diagnostic::render(diagnostic, "--threshold", text, color, 100)
        ),
        other => format!("error: {other}\n"),
    }
}

#[cfg(test)]
mod tests;
