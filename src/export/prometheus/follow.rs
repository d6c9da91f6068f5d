//! Feeding an [`Exporter`] from a running session: a frame on every snapshot of the run
//! (about once a second), the final numbers once the run is over.

use chrono::{DateTime, Utc};

use super::{ExportReport, Exporter, MetricsFrame};
use crate::metrics::Summary;
use crate::session::Run;

/// The `run_id` label of a run: the scenario's hash and the instant the run starts. The
/// segments of a distributed run share `--start-at` and the scenario, so they share the id
/// (and are told apart by `segment`); two runs of one scenario started apart do not.
pub fn run_id(scenario_sha256: &str, start: DateTime<Utc>) -> String {
    let hash = scenario_sha256.get(..12).unwrap_or(scenario_sha256);
    format!("{hash}-{}", start.format("%Y%m%dT%H%M%SZ"))
}

/// The labels of a run's series: `run_id`, `scenario` (the scenario's name), `segment`
/// (`I/N`, `1/1` on one machine) and the user's extra labels.
pub fn labels_of(
    run: &Run,
    start: DateTime<Utc>,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let scenario = run.scenario();
    super::common_labels(
        &run_id(&scenario.sha256, start),
        &scenario.plan.name,
        &run.config().segment.label(),
        extra,
    )
}

/// Publishes a frame whenever the run makes a snapshot, until it ends; then publishes the
/// final result, lets the exporter finish (the last push, the server's shutdown) and says
/// what it did.
pub async fn follow(run: Run, exporter: Exporter, labels: Vec<(String, String)>) -> ExportReport {
    let mut snapshots = run.subscribe();
    let finished = run.finish();
    tokio::pin!(finished);
    let finished = loop {
        tokio::select! {
            biased;
            f = &mut finished => break f,
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break (&mut finished).await;
                }
                let users = snapshots.borrow_and_update().class_users.clone();
                let totals = run.totals();
                exporter.publish(&live_frame(&totals, &users, &labels));
            }
        }
    };
    let users = run.snapshot().class_users.clone();
    let frame = live_frame(&finished.summary, &users, &labels);
    exporter.finish(&frame).await
}

/// A frame of `summary` with the users running now (by class, in plan order).
fn live_frame<'a>(
    summary: &'a Summary,
    class_users: &[u32],
    labels: &'a [(String, String)],
) -> MetricsFrame<'a> {
    let mut frame = MetricsFrame::from_summary(summary, labels, Utc::now().timestamp_millis());
    for (i, (_, users)) in frame.users.iter_mut().enumerate() {
        *users = class_users.get(i).copied().map_or(0, u64::from);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_of_one_distributed_run_share_the_run_id() {
        let start: DateTime<Utc> = "2026-12-05T12:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-12-05T12:00:01Z".parse().unwrap();
        let sha = "0123456789abcdef0123";
        assert_eq!(run_id(sha, start), "0123456789ab-20261205T120000Z");
        assert_eq!(run_id(sha, start), run_id(sha, start));
        assert_ne!(run_id(sha, start), run_id(sha, later));
        assert_ne!(run_id(sha, start), run_id("fedcba9876543210", start));
    }
}
