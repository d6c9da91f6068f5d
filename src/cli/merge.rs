//! `kload merge RESULT... | -`: the results of every segment of a distributed run (files
//! written with `--json FILE`, or framed records found in logs), checked to belong together,
//! merged exactly, judged by the scenario's thresholds once, on the whole, and written as
//! every report a single run writes.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use kload::distributed::frame;
use kload::metrics::{Summary, merge};
use kload::report;
use kload::session::{self, exit, verdict};

use super::Outputs;
use super::commands::print_comparison;
use super::out::{self, note, sayln};

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Result files (`--json FILE` of each segment, or logs with framed records); `-` reads
    /// standard input (e.g. `kubectl logs -l ... | kload merge -`).
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    #[command(flatten)]
    pub outputs: Outputs,
    /// Compare the merged result with a saved `--json` result.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Largest accepted slowdown against the baseline, e.g. `20%`.
    #[arg(long, default_value = "20%", value_parser = super::parse_percent)]
    pub max_regression: f64,
}

/// Reads every result the inputs hold, named for messages.
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<(String, Summary)>, String> {
    let mut parts = Vec::new();
    for path in paths {
        let (name, text) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            ("standard input".to_string(), text)
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (path.display().to_string(), text)
        };
        let records = frame::decode(&text);
        if records.is_empty() {
            // A plain result document.
            let summary = report::json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
            parts.push((name, summary));
            continue;
        }
        for r in records {
            let label = format!("segment {} in {name}", r.segment);
            let json = r.json.map_err(|why| format!("{label}: {why}"))?;
            let summary = report::json::from_str(&json).map_err(|e| format!("{label}: {e}"))?;
            parts.push((label, summary));
        }
    }
    Ok(parts)
}

pub fn merge(args: MergeArgs) -> i32 {
    let parts = match read_inputs(&args.results) {
        Ok(p) if p.is_empty() => {
            note!("error: no result found in the inputs");
            return exit::USAGE;
        }
        Ok(p) => p,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    let count = parts.len();
    let mut merged = match merge::segments(parts) {
        Ok(m) => m,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    // Judged once, on the whole run, by the thresholds the segments carried.
    let thresholds: Vec<_> = merged
        .info
        .thresholds
        .iter()
        .map(|r| r.threshold.clone())
        .collect();
    merged.apply_thresholds(&thresholds);
    note!("merged {count} segments");
    sayln!();
    let _ = report::text::render(&merged, &mut out::stdout(), out::color_stdout());
    match session::write_outputs(&merged, &args.outputs.to_session()) {
        Ok(files) => {
            for f in files {
                note!("wrote {f}");
            }
        }
        Err(e) => note!("error: {e}"),
    }
    let mut regressed = false;
    if let Some(path) = &args.baseline {
        match report::json::load(path) {
            Ok(base) => {
                sayln!();
                let cmp = report::compare::compare(&base, &merged, args.max_regression);
                regressed = print_comparison(&cmp) != exit::OK;
            }
            Err(e) => note!("error: baseline: {e}"),
        }
    }
    let verdict = verdict::decide(&merged, regressed, 0);
    for reason in &verdict.reasons {
        note!("error: {reason}");
    }
    verdict.exit_code
}
