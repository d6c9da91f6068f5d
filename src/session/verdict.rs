//! The verdict of a run and its exit code, decided in one place for `kload run`, `kload
//! merge` and any other controller. The codes are documented in the README.

use crate::metrics::{FailureKind, Summary};

/// Exit codes.
pub mod exit {
    /// The run finished and every threshold held.
    pub const OK: i32 = 0;
    /// A threshold failed (or aborted the run), a threshold had no data, no request
    /// completed, or the baseline comparison found a regression.
    pub const FAILED: i32 = 1;
    /// Bad scenario or bad usage.
    pub const USAGE: i32 = 2;
    /// No connection to the target could ever be made.
    pub const COULD_NOT_RUN: i32 = 3;
    /// Stopped by Ctrl-C or SIGTERM before its end: results were written and thresholds
    /// evaluated on what was recorded, but the run is incomplete. (128 + SIGINT, as shells
    /// report an interrupted command.)
    pub const INTERRUPTED: i32 = 130;
}

/// Why a run passed or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub exit_code: i32,
    /// One line per reason the run did not pass, most important first (empty when it
    /// passed).
    pub reasons: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.exit_code == exit::OK
    }
}

/// Decides the verdict of a finished run whose thresholds were applied to `summary`.
/// `regressed` tells a baseline comparison failed; `exit_code_on_error` is Locust's option
/// (the code when any request failed, 0 to ignore failures).
pub fn decide(summary: &Summary, regressed: bool, exit_code_on_error: i32) -> Verdict {
    if summary.info.segment.is_some() {
        return decide_segment(summary);
    }
    let total = &summary.aggregated;
    let outcome = &summary.info.outcome;
    let mut reasons = Vec::new();
    let mut code = exit::OK;
    let mut raise = |c: i32, reason: String, reasons: &mut Vec<String>| {
        if code == exit::OK || priority(c) > priority(code) {
            code = c;
        }
        reasons.push(reason);
    };
    if unreachable(summary) {
        raise(
            exit::COULD_NOT_RUN,
            "the host could not be reached: no connection could be made".into(),
            &mut reasons,
        );
    }
    if outcome.interrupted {
        raise(
            exit::INTERRUPTED,
            "the run was interrupted (Ctrl-C or SIGTERM): the results cover only part of it".into(),
            &mut reasons,
        );
    }
    if let Some(t) = &outcome.aborted_by {
        raise(
            exit::FAILED,
            format!("the run was aborted early: threshold `{t}` failed"),
            &mut reasons,
        );
    }
    if total.requests == 0 {
        let why = if total.abandoned > 0 {
            format!(
                "no request completed: {} {} still waiting for an answer when the run stopped",
                total.abandoned,
                if total.abandoned == 1 { "was" } else { "were" }
            )
        } else {
            "no request completed".to_string()
        };
        raise(exit::FAILED, why, &mut reasons);
    }
    for r in summary.thresholds() {
        if r.is_failure() {
            let why = if r.has_no_data() {
                format!(
                    "threshold `{}` had no data ({})",
                    r.threshold.source,
                    r.measured_text()
                )
            } else {
                format!(
                    "threshold `{}` failed: measured {}",
                    r.threshold.source,
                    r.measured_text()
                )
            };
            raise(exit::FAILED, why, &mut reasons);
        }
    }
    if regressed {
        raise(
            exit::FAILED,
            "slower than the baseline allows".into(),
            &mut reasons,
        );
    }
    if code == exit::OK && total.failures > 0 && exit_code_on_error != 0 {
        code = exit_code_on_error;
        reasons.push(format!(
            "{} requests failed (--exit-code-on-error {exit_code_on_error})",
            total.failures
        ));
    }
    Verdict {
        exit_code: code,
        reasons,
    }
}

/// A segment of a distributed run is judged by `kload merge`, on the whole run: it exits 0
/// when it ran its share, whatever its own thresholds say (an engine fails the whole run when
/// any copy exits non-zero). It fails only when it could not do its part: the target was never
/// reached (3), or it was interrupted (130).
fn decide_segment(summary: &Summary) -> Verdict {
    let mut reasons = Vec::new();
    let code = if unreachable(summary) {
        reasons.push("the host could not be reached: no connection could be made".into());
        exit::COULD_NOT_RUN
    } else if summary.info.outcome.interrupted {
        reasons.push("the segment was interrupted (Ctrl-C or SIGTERM)".into());
        exit::INTERRUPTED
    } else {
        exit::OK
    };
    Verdict {
        exit_code: code,
        reasons,
    }
}

/// Which of two codes wins: not reachable, then interrupted, then failed.
fn priority(code: i32) -> u8 {
    match code {
        exit::COULD_NOT_RUN => 3,
        exit::INTERRUPTED => 2,
        exit::FAILED => 1,
        _ => 0,
    }
}

/// True when no request got any response and every failure was a failure to connect
/// (refused, or a name that does not resolve): the target was never reached.
pub fn unreachable(summary: &Summary) -> bool {
    let total = &summary.aggregated;
    total.requests > 0
        && total.abandoned == 0
        && total.status_codes.get(&0).copied().unwrap_or(0) == total.requests
        && !summary.errors_by_kind.is_empty()
        && summary
            .errors_by_kind
            .keys()
            .all(|k| matches!(k, FailureKind::ConnectionRefused | FailureKind::Dns))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{
        Failure, LatencyView, Metric, Metrics, RunInfo, Sample, Selector, StatKey, Threshold,
    };

    fn summary(samples: &[(u16, Option<FailureKind>)], abandoned: usize) -> Summary {
        let metrics = Metrics::new(vec![StatKey::new("GET", "/")]);
        let mut rec = metrics.recorder(0);
        for (i, (status, kind)) in samples.iter().enumerate() {
            rec.record(Sample {
                stat: 0,
                elapsed_ms: i as u32,
                latency_us: 1000,
                ttfb_us: 0,
                bytes: 0,
                lag_us: 0,
                status: *status,
                scheduled: false,
                failure: kind.map(|k| Box::new(Failure::new(k, ""))),
            });
        }
        for _ in 0..abandoned {
            rec.abandoned(0);
        }
        drop(rec);
        metrics.summary_at(RunInfo::default(), Duration::from_secs(1))
    }

    fn threshold(metric: Metric, value: f64) -> Threshold {
        Threshold {
            metric,
            selector: Selector::All,
            cmp: crate::metrics::Comparison::Lt,
            value,
            source: "t".into(),
            warn_only: false,
            abort_after: None,
            view: LatencyView::Response,
            allow_no_data: false,
        }
    }

    #[test]
    fn a_clean_run_passes() {
        let s = summary(&[(200, None); 3], 0);
        assert_eq!(decide(&s, false, 0).exit_code, exit::OK);
    }

    #[test]
    fn refused_connections_only_mean_unreachable_but_tls_or_protocol_errors_do_not() {
        let refused = summary(&[(0, Some(FailureKind::ConnectionRefused)); 4], 0);
        assert_eq!(decide(&refused, false, 0).exit_code, exit::COULD_NOT_RUN);
        for kind in [
            FailureKind::Tls,
            FailureKind::Protocol,
            FailureKind::Timeout,
        ] {
            let s = summary(&[(0, Some(kind)); 4], 0);
            assert_ne!(
                decide(&s, false, 0).exit_code,
                exit::COULD_NOT_RUN,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_run_where_nothing_completed_fails() {
        let hung = summary(&[], 12);
        let v = decide(&hung, false, 0);
        assert_eq!(v.exit_code, exit::FAILED);
        assert!(v.reasons[0].contains("12 were still waiting"), "{v:?}");
        assert_eq!(decide(&summary(&[], 0), false, 0).exit_code, exit::FAILED);
    }

    #[test]
    fn thresholds_without_data_fail_unless_allowed() {
        let mut s = summary(&[], 0);
        s.apply_thresholds(&[threshold(Metric::Percentile(95.0), 1000.0)]);
        let v = decide(&s, false, 0);
        assert!(v.reasons.iter().any(|r| r.contains("had no data")), "{v:?}");
        let mut ok = summary(&[(200, None)], 0);
        let mut t = threshold(Metric::Percentile(95.0), 1000.0);
        t.view = LatencyView::Corrected;
        t.allow_no_data = true;
        ok.apply_thresholds(&[t]);
        assert!(ok.thresholds()[0].is_skipped());
        assert_eq!(decide(&ok, false, 0).exit_code, exit::OK);
    }

    #[test]
    fn an_interrupted_run_is_not_a_pass_and_outranks_a_failed_threshold() {
        let mut s = summary(&[(200, None)], 0);
        s.info.outcome.interrupted = true;
        assert_eq!(decide(&s, false, 0).exit_code, exit::INTERRUPTED);
        s.apply_thresholds(&[threshold(Metric::Max, 1.0)]);
        assert_eq!(decide(&s, true, 0).exit_code, exit::INTERRUPTED);
    }

    #[test]
    fn a_segment_leaves_the_verdict_to_the_merge() {
        let mut s = summary(&[(500, Some(FailureKind::Http5xx))], 0);
        s.info.segment = Some(crate::metrics::SegmentInfo {
            index: 0,
            count: 2,
            start_at: chrono::Utc::now(),
            late_ms: 0,
        });
        s.apply_thresholds(&[threshold(Metric::ErrorRate, 0.01)]);
        assert_eq!(decide(&s, true, 7).exit_code, exit::OK);
        s.info.outcome.interrupted = true;
        assert_eq!(decide(&s, false, 0).exit_code, exit::INTERRUPTED);
        let mut refused = summary(&[(0, Some(FailureKind::ConnectionRefused)); 2], 0);
        refused.info.segment = s.info.segment.clone();
        assert_eq!(decide(&refused, false, 0).exit_code, exit::COULD_NOT_RUN);
    }

    #[test]
    fn failures_and_the_exit_code_on_error() {
        let s = summary(&[(200, None), (500, Some(FailureKind::Http5xx))], 0);
        assert_eq!(decide(&s, false, 0).exit_code, exit::OK);
        assert_eq!(decide(&s, false, 3).exit_code, 3);
        assert_eq!(decide(&s, true, 3).exit_code, exit::FAILED);
    }
}
