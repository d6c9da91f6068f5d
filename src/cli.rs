//! The command line: flag definitions, and one call into the library per command. What each
//! command prints is in `cli/`; the run itself is `kload::session`.

mod commands;
mod demo;
mod import;
mod k8s;
mod merge;
mod out;
mod run;
mod web;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kload::session;
#[cfg(test)]
use kload::session::exit;

#[derive(Parser, Debug)]
#[command(
    name = "kload",
    version,
    about = "Load tests written as plain .kload files",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and compile scenarios without touching the network.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `human` (rustc-like) or `json` (one object per line, for editors and CI).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Rewrite files to the canonical layout (comments kept); `--check` only reports.
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Exit 1 and list the files that are not formatted, without writing.
        #[arg(long)]
        check: bool,
    },
    /// Print the compiled plan: classes and their users, tasks and their odds, requests, thresholds.
    Inspect {
        file: PathBuf,
        /// Show the exact user count per class for this many users.
        #[arg(short, long, default_value_t = 100, value_parser = parse_users, allow_negative_numbers = true)]
        users: u32,
    },
    /// Run a scenario (Locust's flags and meanings).
    Run(Box<RunArgs>),
    /// Re-render reports from a result saved with `--json`.
    Report {
        result: PathBuf,
        #[command(flatten)]
        outputs: Outputs,
    },
    /// Compare two results saved with `--json`: exit 1 when a request regressed beyond the limit.
    Compare {
        baseline: PathBuf,
        current: PathBuf,
        /// Largest accepted regression, e.g. `20%`.
        #[arg(long, default_value = "20%", value_parser = parse_percent)]
        max_regression: f64,
    },
    /// Start the built-in Kibray-like target on 127.0.0.1 and load test it with scenarios/kibray.kload.
    Demo(DemoArgs),
    /// Print the Kubernetes manifests (ConfigMap and Indexed Job) of a distributed run.
    K8s(Box<k8s::K8sArgs>),
    /// Merge the results of every segment of a distributed run into one: the same reports,
    /// thresholds and exit code as `kload run`.
    Merge(merge::MergeArgs),
    /// Turn a recording into a scenario: `kload import har FILE.har -o OUT.kload`.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Language server for editors, on stdin/stdout: diagnostics, completion, hover,
    /// navigation, rename, formatting, quick fixes.
    Lsp,
    /// Run every request of every class once and list each with its status.
    Smoke {
        file: PathBuf,
        #[arg(short = 'H', long, env = "KLOAD_HOST")]
        host: Option<String>,
        #[arg(long, env = "KLOAD_INSECURE")]
        insecure: bool,
        /// Show the request and response of each failed step (-v), or of every step (-vv);
        /// credentials and secrets are masked.
        #[arg(short = 'v', long, action = clap::ArgAction::Count)]
        verbose: u8,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum LateStartArg {
    Fail,
    Join,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Only serve the target (for trying other scenarios) until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// Port to serve on (0 picks a free one; --serve defaults to 8000).
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(short = 'u', long, default_value_t = 100, value_parser = parse_users, allow_negative_numbers = true)]
    pub users: u32,
    #[arg(short = 'r', long, default_value_t = 10.0, value_parser = parse_rate, allow_negative_numbers = true)]
    pub spawn_rate: f64,
    #[arg(short = 't', long, default_value = "30s", value_parser = parse_run_time, allow_hyphen_values = true)]
    pub run_time: Duration,
    /// Scale the target's simulated latency (1.0 realistic, 0 none).
    #[arg(long, default_value_t = 1.0)]
    pub latency_scale: f64,
    /// Turn off the target's limit of 120 requests per account and minute (429 above it),
    /// e.g. to benchmark a scenario without waits.
    #[arg(long)]
    pub no_throttle: bool,
    #[arg(long)]
    pub only_summary: bool,
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    pub file: PathBuf,
    /// Host to load test, e.g. http://127.0.0.1:8000 (overrides the scenario's `host`).
    #[arg(short = 'H', long, env = "KLOAD_HOST")]
    pub host: Option<String>,
    /// Peak number of concurrent users (at least 1).
    #[arg(short = 'u', long, env = "KLOAD_USERS", value_parser = parse_users, allow_negative_numbers = true)]
    pub users: Option<u32>,
    /// Users started per second (more than 0; fractions allowed).
    #[arg(short = 'r', long, env = "KLOAD_SPAWN_RATE", value_parser = parse_rate, allow_negative_numbers = true)]
    pub spawn_rate: Option<f64>,
    /// Stop after this long: 30s, 5m, 1h30m (a bare number is seconds).
    #[arg(short = 't', long, env = "KLOAD_RUN_TIME", value_parser = parse_run_time, allow_hyphen_values = true)]
    pub run_time: Option<Duration>,
    /// Start at once without the web UI (the CI mode).
    #[arg(long, env = "KLOAD_HEADLESS")]
    pub headless: bool,
    /// Address the web UI listens on: an IP address, `localhost`, or `*` for every
    /// interface (which needs --web-login).
    #[arg(
        long,
        env = "KLOAD_WEB_HOST",
        default_value = "127.0.0.1",
        value_name = "ADDR"
    )]
    pub web_host: String,
    /// Port of the web UI (0 picks a free one).
    #[arg(short = 'P', long, env = "KLOAD_WEB_PORT", default_value_t = kload::web::DEFAULT_PORT, value_name = "PORT")]
    pub web_port: u16,
    /// HTTP basic authentication for the web UI; prefer the environment variable, which
    /// `ps` does not show.
    #[arg(
        long,
        env = "KLOAD_WEB_LOGIN",
        value_name = "USER:PASSWORD",
        hide_env_values = true
    )]
    pub web_login: Option<String>,
    /// Start the test at once with -u, -r, -t and -H, and keep the web UI.
    #[arg(long, env = "KLOAD_AUTOSTART")]
    pub autostart: bool,
    /// With --autostart: quit this many seconds after the test ends.
    #[arg(
        long,
        env = "KLOAD_AUTOQUIT",
        value_name = "SECONDS",
        requires = "autostart"
    )]
    pub autoquit: Option<u64>,
    /// Time running tasks get to finish when the run stops.
    #[arg(short = 's', long, env = "KLOAD_STOP_TIMEOUT", value_parser = parse_duration, allow_hyphen_values = true)]
    pub stop_timeout: Option<Duration>,
    /// Only run tasks and requests with any of these tags.
    #[arg(short = 'T', long, env = "KLOAD_TAGS", value_delimiter = ',', num_args = 1..)]
    pub tags: Vec<String>,
    /// Skip tasks and requests with any of these tags (wins over --tags).
    #[arg(short = 'E', long, env = "KLOAD_EXCLUDE_TAGS", value_delimiter = ',', num_args = 1..)]
    pub exclude_tags: Vec<String>,
    /// Print the live view (default).
    #[arg(long, env = "KLOAD_PRINT_STATS", conflicts_with = "only_summary")]
    pub print_stats: bool,
    /// Print only the final summary.
    #[arg(long, env = "KLOAD_ONLY_SUMMARY")]
    pub only_summary: bool,
    /// Exit code when any request failed.
    #[arg(long, env = "KLOAD_EXIT_CODE_ON_ERROR", default_value_t = 0)]
    pub exit_code_on_error: i32,
    /// Seed for every random choice, for reproducible runs.
    #[arg(long, env = "KLOAD_SEED")]
    pub seed: Option<u64>,
    /// Skip TLS certificate verification.
    #[arg(long, env = "KLOAD_INSECURE")]
    pub insecure: bool,
    /// An extra threshold, e.g. "p95(/api/v1/projects/) < 200ms" (repeatable).
    #[arg(long = "threshold", env = "KLOAD_THRESHOLD")]
    pub thresholds: Vec<String>,
    /// Run every request once and list its status instead of a load test.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub prometheus: kload::export::prometheus::PrometheusArgs,
    /// With --dry-run (`kload smoke`): how much of each exchange to print.
    #[arg(skip)]
    pub verbose: u8,
    #[command(flatten)]
    pub outputs: Outputs,
    /// Leave the scenario's source out of the JSON and HTML reports.
    #[arg(long, env = "KLOAD_NO_SOURCE")]
    pub no_source: bool,
    /// Start on this instant instead of now: RFC 3339 (`2026-12-05T12:00:00Z`) or `+30s`.
    /// Segments of a distributed run share one.
    #[arg(long, env = "KLOAD_START_AT", value_parser = parse_start_at)]
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Run segment I of N of a distributed run (I from 1), or `auto`: from the engine's
    /// environment (Kubernetes Indexed Job, Slurm job array, Cloud Run, GitLab CI).
    #[arg(long, env = "KLOAD_SEGMENT", value_name = "I/N|auto")]
    pub segment: Option<String>,
    /// When a segment starts more than 1 s after --start-at: `fail` (exit 3, the default) or
    /// `join` (run on the shared schedule; arrivals already due are counted as dropped).
    #[arg(long, env = "KLOAD_LATE_START", value_enum, default_value_t = LateStartArg::Fail)]
    pub late_start: LateStartArg,
    /// Compare the result with a saved `--json` result at the end of the run.
    #[arg(long, env = "KLOAD_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Largest accepted slowdown against the baseline, e.g. `20%`.
    #[arg(long, env = "KLOAD_MAX_REGRESSION", default_value = "20%", value_parser = parse_percent)]
    pub max_regression: f64,
}

impl RunArgs {
    /// A headless run of `file` with the scenario's own profile and no extras.
    fn new(file: PathBuf) -> RunArgs {
        RunArgs {
            file,
            host: None,
            users: None,
            spawn_rate: None,
            run_time: None,
            headless: true,
            web_host: "127.0.0.1".into(),
            web_port: kload::web::DEFAULT_PORT,
            web_login: None,
            autostart: false,
            autoquit: None,
            stop_timeout: None,
            tags: vec![],
            exclude_tags: vec![],
            print_stats: false,
            only_summary: false,
            exit_code_on_error: 0,
            seed: None,
            insecure: false,
            thresholds: vec![],
            dry_run: false,
            verbose: 0,
            prometheus: Default::default(),
            outputs: Outputs::default(),
            no_source: false,
            start_at: None,
            segment: None,
            late_start: LateStartArg::Fail,
            baseline: None,
            max_regression: 0.2,
        }
    }

    /// The library's options for these flags (`--json -` is the CLI's: a framed record on
    /// standard output, so the session gets no JSON path for it).
    fn options(&self) -> Result<session::Options, String> {
        let segment: Option<kload::schedule::Segment> = match self.segment.as_deref() {
            None => None,
            Some("auto") => {
                let (segment, engine) =
                    kload::distributed::segment::from_env(|k| std::env::var(k).ok())?;
                out::note!("segment {} of the {engine}", segment.label());
                Some(segment)
            }
            Some(text) => Some(text.parse()?),
        };
        if let Some(segment) = segment
            && self.start_at.is_none()
        {
            return Err(format!(
                "segment {}: segments of a distributed run need a shared --start-at",
                segment.label()
            ));
        }
        let mut outputs = self.outputs.to_session();
        if outputs.json.as_deref() == Some(std::path::Path::new("-")) {
            outputs.json = None;
        }
        Ok(session::Options {
            host: self.host.clone(),
            users: self.users,
            spawn_rate: self.spawn_rate,
            run_time: self.run_time,
            stop_timeout: self.stop_timeout,
            tags: self.tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
            seed: self.seed,
            insecure: self.insecure,
            thresholds: self.thresholds.clone(),
            outputs,
            baseline: self.baseline.clone().map(|path| session::Baseline {
                path,
                max_regression: self.max_regression,
            }),
            exit_code_on_error: self.exit_code_on_error,
            omit_source: self.no_source,
            start_at: self.start_at,
            segment,
            late_start: match self.late_start {
                LateStartArg::Fail => session::LateStart::Fail,
                LateStartArg::Join => session::LateStart::Join,
            },
            command_line: std::env::args().collect(),
            ..session::Options::default()
        })
    }

    /// `--json -`: the result goes to standard output as a framed record.
    fn json_to_stdout(&self) -> bool {
        self.outputs.json.as_deref() == Some(std::path::Path::new("-"))
    }
}

/// Report files to write (at the end of a run, or from a saved result).
#[derive(Args, Debug, Default, Clone)]
pub struct Outputs {
    /// Write Locust-compatible PREFIX_stats.csv, PREFIX_stats_history.csv,
    /// PREFIX_failures.csv and PREFIX_exceptions.csv.
    #[arg(long, env = "KLOAD_CSV", value_name = "PREFIX")]
    pub csv: Option<PathBuf>,
    /// Also write one history row per request name each second (Locust's flag).
    #[arg(long, env = "KLOAD_CSV_FULL_HISTORY")]
    pub csv_full_history: bool,
    /// Write the complete result as JSON (docs/result.schema.json); `-` writes it to
    /// standard output as a framed record that `kload merge -` finds in mixed logs.
    #[arg(long, env = "KLOAD_JSON", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write thresholds and checks as JUnit XML.
    #[arg(long, env = "KLOAD_JUNIT", value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a self-contained HTML report (opens offline).
    #[arg(long, env = "KLOAD_HTML", value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl Outputs {
    fn to_session(&self) -> session::Outputs {
        session::Outputs {
            csv: self.csv.clone(),
            csv_full_history: self.csv_full_history,
            json: self.json.clone(),
            junit: self.junit.clone(),
            html: self.html.clone(),
        }
    }
}

pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let n = s.strip_suffix('%').unwrap_or(s);
    let v: f64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage like 20%"))?;
    if !(0.0..=1000.0).contains(&v) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(v / 100.0)
}

fn parse_users(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 && n <= i64::from(u32::MAX) => Ok(n as u32),
        Ok(_) => Err(format!("`{s}`: the number of users must be at least 1")),
        Err(_) => Err(format!("`{s}` is not a whole number of users")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!("`{s}`: the rate must be more than 0 per second")),
        Err(_) => Err(format!(
            "`{s}` is not a number of users per second (like 10 or 0.5)"
        )),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.trim_start().starts_with('-') {
        return Err(format!("`{s}`: a duration cannot be negative"));
    }
    kload::compile::quantity::duration_text(s, true)
        .map_err(|(reason, _)| format!("{reason} (write 30s, 5m or 1h30m)"))
}

/// An instant: RFC 3339, or `+DURATION` from now.
fn parse_start_at(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Some(rest) = s.strip_prefix('+') {
        let d = parse_duration(rest)?;
        let d = chrono::TimeDelta::from_std(d).map_err(|_| format!("`{s}` is too far away"))?;
        return Ok(chrono::Utc::now() + d);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("`{s}` is not an instant like 2026-12-05T12:00:00Z or +30s ({e})"))
}

fn parse_run_time(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("`{s}`: the run time must be longer than zero"));
    }
    Ok(d)
}

/// Runs the command line and returns the exit code.
pub fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { files, format } => commands::check(&files, format),
        Command::Report { result, outputs } => commands::report(&result, &outputs.to_session()),
        Command::Compare {
            baseline,
            current,
            max_regression,
        } => commands::compare(&baseline, &current, max_regression),
        Command::Fmt { files, check } => commands::fmt(&files, check),
        Command::Inspect { file, users } => commands::inspect(&file, users),
        Command::Run(args) => run::run(*args),
        Command::Demo(args) => demo::demo(args),
        Command::K8s(args) => k8s::command(*args),
        Command::Merge(args) => merge::merge(args),
        Command::Import(command) => import::command(command),
        Command::Lsp => kload::lsp::serve_stdio(),
        Command::Smoke {
            file,
            host,
            insecure,
            verbose,
        } => run::run(RunArgs {
            host,
            insecure,
            only_summary: true,
            dry_run: true,
            verbose,
            ..RunArgs::new(file)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_numbers_are_refused_with_words() {
        assert!(parse_users("-5").unwrap_err().contains("at least 1"));
        assert!(parse_users("0").unwrap_err().contains("at least 1"));
        assert!(
            parse_users("ten")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert_eq!(parse_users("7"), Ok(7));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("inf").is_err());
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_run_time("0s").is_err());
        assert!(parse_run_time("-3s").is_err());
        assert!(parse_duration("-3s").unwrap_err().contains("negative"));
        assert_eq!(parse_run_time("1m"), Ok(Duration::from_secs(60)));
        let soon = parse_start_at("+30s").unwrap() - chrono::Utc::now();
        assert!((29..=30).contains(&soon.num_seconds()), "{soon}");
        assert_eq!(
            parse_start_at("2026-12-05T12:00:00Z").unwrap().to_rfc3339(),
            "2026-12-05T12:00:00+00:00"
        );
        assert!(parse_start_at("tomorrow").is_err());
    }

    #[test]
    fn the_flags_are_consistent() {
        use clap::CommandFactory;
        assert_eq!(exit::USAGE, 2);
        Cli::command().debug_assert();
    }
}
