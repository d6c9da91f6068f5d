//! Merging the results of parts of one run (segments of a distributed run) into the result of
//! the whole: counts, sums, extremes and histograms add exactly, so the merged result is the
//! one a single process would have produced for the same requests.

use std::collections::BTreeMap;

use super::failures;
use super::summary::{Note, Summary};

/// Why results cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("no results to merge")]
    Empty,
    #[error(
        "{which} is a version 1 result: only version 2 results (kload 0.2 and later) keep the raw series that merging needs"
    )]
    Version1 { which: String },
    #[error("{which} is not a segment of a distributed run (it was not run with --segment)")]
    NotASegment { which: String },
    #[error(
        "{which} {what} differs: `{theirs}`, where {first} has `{ours}`; these results are not parts of one run"
    )]
    Mismatch {
        which: String,
        first: String,
        what: &'static str,
        ours: String,
        theirs: String,
    },
    #[error("segment {segment} is missing (expected {count} results, one per segment)")]
    Missing { segment: String, count: u32 },
    #[error("segment {segment} appears twice: in {first} and in {second}")]
    Duplicate {
        segment: String,
        first: String,
        second: String,
    },
}

/// Adds `other`'s numbers into `into`. Both must come from the same scenario (the same
/// request table) and be version 2 results; `info` stays `into`'s.
pub fn absorb(into: &mut Summary, other: &Summary, names: (&str, &str)) -> Result<(), MergeError> {
    let (first, which) = names;
    let keys = |s: &Summary| -> Vec<(String, String)> {
        s.entries
            .iter()
            .map(|e| (e.method.clone(), e.name.clone()))
            .collect()
    };
    if keys(into) != keys(other) {
        return Err(MergeError::Mismatch {
            which: which.to_string(),
            first: first.to_string(),
            what: "request table",
            ours: format!("{} requests", into.entries.len()),
            theirs: format!("{} requests", other.entries.len()),
        });
    }
    let (Some(ours), Some(theirs)) = (into.series.as_mut(), other.series.as_ref()) else {
        return Err(MergeError::Version1 {
            which: if into.series.is_none() { first } else { which }.to_string(),
        });
    };
    ours.absorb(theirs);
    for (a, b) in into.entries.iter_mut().zip(&other.entries) {
        a.absorb(b);
    }
    into.aggregated.absorb(&other.aggregated);
    into.elapsed_ms = into.elapsed_ms.max(other.elapsed_ms);
    into.last_request_ms = into.last_request_ms.max(other.last_request_ms);
    into.failures = failures::merge(&[&into.failures, &other.failures]);
    for (kind, n) in &other.errors_by_kind {
        *into.errors_by_kind.entry(*kind).or_default() += n;
    }
    into.dropped_iterations += other.dropped_iterations;
    into.generator.lateness.add(&other.generator.lateness);
    let (a, b) = (&mut into.info, &other.info);
    a.started_at = a.started_at.min(b.started_at);
    a.ended_at = a.ended_at.max(b.ended_at);
    for (ca, cb) in a.classes.iter_mut().zip(&b.classes) {
        ca.users += cb.users;
    }
    let o = &mut a.outcome;
    o.interrupted |= b.outcome.interrupted;
    o.killed |= b.outcome.killed;
    if o.aborted_by.is_none() {
        o.aborted_by.clone_from(&b.outcome.aborted_by);
    }
    o.not_started = add_notes(&o.not_started, &b.outcome.not_started);
    o.scenario_errors = add_notes(&o.scenario_errors, &b.outcome.scenario_errors);
    Ok(())
}

fn add_notes(a: &[Note], b: &[Note]) -> Vec<Note> {
    let mut by_key: BTreeMap<(Option<u32>, String), u64> = BTreeMap::new();
    let mut order = Vec::new();
    for n in a.iter().chain(b) {
        let key = (n.line, n.message.clone());
        if !by_key.contains_key(&key) {
            order.push(key.clone());
        }
        *by_key.entry(key).or_default() += n.count;
    }
    order
        .into_iter()
        .map(|key| Note {
            count: by_key[&key],
            line: key.0,
            message: key.1,
        })
        .collect()
}

/// Merges the results of every segment of one distributed run, named for messages. Refuses
/// results that are not segments, do not belong together (scenario, seed, segment count,
/// start instant), or leave a segment missing or twice.
pub fn segments(parts: Vec<(String, Summary)>) -> Result<Summary, MergeError> {
    let Some((first_name, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let Some(first_segment) = first.info.segment.clone() else {
        return Err(MergeError::NotASegment {
            which: first_name.clone(),
        });
    };
    let count = first_segment.count;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, part) in &parts {
        if part.series.is_none() {
            return Err(MergeError::Version1 {
                which: name.clone(),
            });
        }
        let Some(seg) = &part.info.segment else {
            return Err(MergeError::NotASegment {
                which: name.clone(),
            });
        };
        let mismatch = |what: &'static str, ours: String, theirs: String| {
            Err(MergeError::Mismatch {
                which: name.clone(),
                first: first_name.clone(),
                what,
                ours,
                theirs,
            })
        };
        if part.info.scenario_sha256 != first.info.scenario_sha256 {
            return mismatch(
                "scenario (SHA-256)",
                first.info.scenario_sha256.clone(),
                part.info.scenario_sha256.clone(),
            );
        }
        if seg.count != count {
            return mismatch("segment count", count.to_string(), seg.count.to_string());
        }
        if part.info.seed != first.info.seed {
            return mismatch(
                "seed",
                format!("{:?}", first.info.seed),
                format!("{:?}", part.info.seed),
            );
        }
        if seg.start_at != first_segment.start_at {
            return mismatch(
                "start instant (--start-at)",
                first_segment.start_at.to_rfc3339(),
                seg.start_at.to_rfc3339(),
            );
        }
        if let Some(other) = seen.insert(seg.index, name) {
            return Err(MergeError::Duplicate {
                segment: format!("{}/{count}", seg.index + 1),
                first: other.to_string(),
                second: name.clone(),
            });
        }
    }
    if let Some(missing) = (0..count).find(|i| !seen.contains_key(i)) {
        return Err(MergeError::Missing {
            segment: format!("{}/{count}", missing + 1),
            count,
        });
    }
    let mut parts = parts.into_iter();
    let Some((first_name, mut merged)) = parts.next() else {
        return Err(MergeError::Empty);
    };
    for (name, part) in parts {
        absorb(&mut merged, &part, (&first_name, &name))?;
    }
    merged.info.segment = None;
    merged.info.started_at = first_segment.start_at;
    merged.info.outcome.merged_segments = count;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::metrics::sample::{Backfill, Failure, FailureKind, Sample, StatId, StatKey};
    use crate::metrics::summary::{RunInfo, SegmentInfo};
    use crate::metrics::{Metrics, Recorder};

    fn keys() -> Vec<StatKey> {
        vec![
            StatKey::new("GET", "/a"),
            StatKey::new("POST", "/b"),
            StatKey::new("GET", "/c"),
        ]
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A deterministic stream of what users record over 25 s: requests with varying
    /// latencies, statuses and failures (some with a varying detail), back-fills, lateness.
    fn user_traffic(user: u32, rec: &mut Recorder) {
        let mut x = 0x9E37_79B9u64 ^ (u64::from(user) * 0x2545_F491);
        for i in 0..600u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let elapsed_ms = i * 40 + user;
            let status = [200, 200, 200, 404, 500][(x % 5) as usize];
            let failure = (status >= 400).then(|| {
                Box::new(
                    Failure::check("`status 200`").with_detail(format!("got {status} #{}", x % 9)),
                )
            });
            let _ = FailureKind::Check;
            rec.record(Sample {
                stat: (x % 3) as StatId,
                elapsed_ms,
                latency_us: 300 + (x % 400_000) as u32,
                ttfb_us: 200,
                bytes: (x % 5000) as u32,
                lag_us: (x % 700) as u32,
                status,
                scheduled: user.is_multiple_of(2),
                failure,
            });
            if i % 97 == 0 {
                rec.backfill(Backfill {
                    stat: 1,
                    elapsed_ms,
                    top_us: 900_000,
                    step_us: 100_000,
                    count: 8,
                });
                rec.lateness(elapsed_ms, (x % 3000) as u32);
            }
        }
        rec.abandoned((user % 3) as StatId);
    }

    fn run(users: impl Iterator<Item = u32>) -> Summary {
        let metrics = Metrics::starting_at(keys(), start());
        for u in users {
            let mut rec = metrics.recorder(u as usize);
            user_traffic(u, &mut rec);
        }
        metrics.tick_at(Duration::from_millis(24_500), &[3, 4]);
        metrics.summary_at(RunInfo::default(), Duration::from_millis(25_000))
    }

    #[test]
    fn two_halves_of_a_run_merge_into_the_whole() {
        let whole = run(0..8);
        let mut merged = run(0..4);
        let half = run(4..8);
        absorb(&mut merged, &half, ("a", "b")).unwrap();
        assert_eq!(merged.entries, whole.entries);
        assert_eq!(merged.aggregated, whole.aggregated);
        assert_eq!(merged.errors_by_kind, whole.errors_by_kind);
        assert_eq!(merged.generator, whole.generator);
        assert_eq!(merged.last_request_ms, whole.last_request_ms);
        // Counts per second and per window add up exactly; the users of both halves were
        // noted at the same tick, so they add up to twice one half's.
        let (m, w) = (
            merged.series.as_ref().unwrap(),
            whole.series.as_ref().unwrap(),
        );
        assert_eq!(m.windows, w.windows);
        for (a, b) in m.rows.iter().zip(&w.rows) {
            assert_eq!((&a.total, &a.entries), (&b.total, &b.entries));
        }
        assert_eq!(m.rows[24].users, Some(14));
        assert_eq!(merged.failures.len(), whole.failures.len());
        for (a, b) in merged.failures.iter().zip(&whole.failures) {
            assert_eq!(
                (
                    &a.name,
                    &a.message,
                    a.occurrences,
                    a.first_seen,
                    a.last_seen
                ),
                (
                    &b.name,
                    &b.message,
                    b.occurrences,
                    b.first_seen,
                    b.last_seen
                )
            );
        }
        // The derived views agree too.
        let strip = |mut p: Vec<crate::metrics::TimePoint>| {
            for x in &mut p {
                x.users = 0;
                x.class_users.clear();
            }
            p
        };
        assert_eq!(strip(merged.time_series()), strip(whole.time_series()));
        assert!(whole.aggregated.corrected.is_some());
        assert_eq!(whole.aggregated.abandoned, 8);
    }

    fn segment(index: u32, count: u32) -> Summary {
        let mut s = run((index * 2)..(index * 2 + 2));
        s.info.segment = Some(SegmentInfo {
            index,
            count,
            start_at: start(),
            late_ms: 0,
        });
        s.info.scenario_sha256 = "abc".into();
        s
    }

    #[test]
    fn segments_merge_when_complete_and_refuse_every_mismatch() {
        let named = |parts: Vec<Summary>| -> Vec<(String, Summary)> {
            parts
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("r{i}.json"), s))
                .collect()
        };
        let merged = segments(named(vec![segment(0, 3), segment(1, 3), segment(2, 3)])).unwrap();
        assert_eq!(merged.aggregated, run(0..6).aggregated);
        assert_eq!(merged.info.outcome.merged_segments, 3);
        assert!(merged.info.segment.is_none());

        let missing = segments(named(vec![segment(0, 3), segment(2, 3)])).unwrap_err();
        assert!(
            missing.to_string().starts_with("segment 2/3 is missing"),
            "{missing}"
        );
        let twice = segments(named(vec![segment(0, 2), segment(0, 2)])).unwrap_err();
        assert!(twice.to_string().contains("appears twice"), "{twice}");
        let count = segments(named(vec![segment(0, 2), segment(1, 3)])).unwrap_err();
        assert!(count.to_string().contains("segment count"), "{count}");
        let mut other_seed = segment(1, 2);
        other_seed.info.seed = Some(7);
        let seed = segments(named(vec![segment(0, 2), other_seed])).unwrap_err();
        assert!(seed.to_string().contains("seed"), "{seed}");
        let mut other_start = segment(1, 2);
        other_start.info.segment.as_mut().unwrap().start_at = Utc::now();
        let s = segments(named(vec![segment(0, 2), other_start])).unwrap_err();
        assert!(s.to_string().contains("start instant"), "{s}");
        let mut other_scenario = segment(1, 2);
        other_scenario.info.scenario_sha256 = "def".into();
        let s = segments(named(vec![segment(0, 2), other_scenario])).unwrap_err();
        assert!(s.to_string().contains("scenario"), "{s}");
        let mut whole = segment(1, 2);
        whole.info.segment = None;
        let s = segments(named(vec![segment(0, 2), whole])).unwrap_err();
        assert!(s.to_string().contains("not a segment"), "{s}");
        assert_eq!(segments(vec![]).unwrap_err(), MergeError::Empty);
    }
}
