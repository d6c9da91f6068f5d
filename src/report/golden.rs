//! The report fixtures (a deterministic run) and their golden files under
//! `tests/golden/report/`; `KLOAD_BLESS=1 cargo test` rewrites them (see `crate::golden`).

use chrono::{DateTime, Utc};

/// Compares `actual` with the golden file `tests/golden/report/<name>`.
pub(crate) fn check(name: &str, actual: &[u8]) {
    crate::golden::check("report", name, actual)
}

/// A fixed instant for reproducible reports.
pub(crate) fn utc(text: &str) -> DateTime<Utc> {
    crate::golden::utc(text)
}

use std::time::Duration;

use crate::metrics::{
    Backfill, ClassInfo, Failure, FailureKind, Metric, Metrics, Note, Outcome, RunInfo, Sample,
    Selector, StatKey, Summary, Threshold,
};

/// The scenario the fixture's numbers pretend to come from: reports show it, and its line
/// numbers are the ones the fixture's scenario error points at.
pub(crate) const SOURCE: &str = r#"scenario "kibray" {
  host "https://staging.kibray.example"
  timeout 30s
}

load {
  users 10
  spawn_rate 2
  run_time 12s
}

# Browses projects four times a second: paced, so it has a latency from the intended start.
user KibrayUser weight 1 {
  wait pacing 250ms

  task list_projects weight 5 {
    GET "/api/v1/projects/" {
      tags list
      check status 200
      capture project_id = jsonpath "$.results[*].id" random
    }
  }

  task view_project weight 2 {
    GET "/api/v1/projects/{{ project_id }}/" {
      name "/api/v1/projects/{id}/"
      tags detail
      check status 200
    }
  }
}

user APIOnlyUser weight 2 {
  wait between 100ms 300ms

  task create_task {
    POST "/api/v1/tasks/" {
      tags create
      json { "title": "Load test task {{ seq() }}" }
      check status 201
      capture task_id = jsonpath "$.id"
    }
    if "{{ task_id }}" matches "^[0-9]+$" {
      GET "/api/v1/dashboard/"
    }
  }
}

user AdminUser count 1 {
  wait between 1s 2s

  task health {
    GET "/health/"
  }
}

thresholds {
  p95("/api/v1/projects/") < 200ms
  p95(tag detail) < 150ms
  p99("/api/v1/tasks/") < 1s warn
  error_rate < 1%
  rps >= 40
}
"#;

/// The line of `SOURCE` that holds `needle` (1-based).
pub(crate) fn line_of(needle: &str) -> u32 {
    let index = SOURCE
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| unreachable!("the fixture source holds {needle}"));
    index as u32 + 1
}

/// Pacing interval of the fixture's paced class (`KibrayUser`), µs.
const PACING_US: u32 = 250_000;

/// How late the generator started the paced task of request `i` in second `sec`, µs: about
/// a millisecond, and 12 to 33 ms for eight tasks of second 6 (a pause of the machine
/// running kload), enough for the report to call the numbers suspect.
fn lateness_us(stat: usize, sec: u32, i: u32) -> u32 {
    if stat == 0 && sec == 6 && i % 25 < 8 {
        12_000 + (i % 25) * 3_000
    } else {
        150 + (i * 389) % 1_400
    }
}

/// splitmix64: a fixed pseudo-random sequence, independent of any crate's version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` microseconds.
    fn us(&mut self, lo_ms: u32, hi_ms: u32) -> u32 {
        lo_ms * 1000 + (self.next() % u64::from((hi_ms - lo_ms) * 1000)) as u32
    }
}

/// How the synthetic system under test behaves.
struct Profile {
    seed: u64,
    /// Multiplies every latency.
    slowdown: f64,
    /// Every n-th projects request fails with HTTP 500.
    projects_500_every: u32,
    with_dashboard: bool,
    with_health: bool,
    started_at: &'static str,
}

fn key(method: &str, name: &str, tags: &[&str]) -> StatKey {
    StatKey {
        method: method.into(),
        name: name.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn keys() -> Vec<StatKey> {
    vec![
        key("GET", "/api/v1/projects/", &["list"]),
        key("GET", "/api/v1/projects/{id}/", &["detail"]),
        key("POST", "/api/v1/tasks/", &["create"]),
        key("GET", "/api/v1/dashboard/", &[]),
        key("GET", "/health/", &[]),
    ]
}

pub(crate) fn thresholds() -> Vec<Threshold> {
    let t = |metric, selector, cmp, value: f64, source: &str| Threshold {
        metric,
        selector,
        cmp,
        value,
        source: source.into(),
        warn_only: false,
        abort_after: None,
        view: crate::metrics::threshold::LatencyView::Response,
        allow_no_data: false,
    };
    use crate::metrics::Comparison::{Ge, Lt};
    vec![
        t(
            Metric::Percentile(95.0),
            Selector::Name("/api/v1/projects/".into()),
            Lt,
            200_000.0,
            r#"p95("/api/v1/projects/") < 200ms"#,
        ),
        t(
            Metric::Percentile(95.0),
            Selector::Tag("detail".into()),
            Lt,
            150_000.0,
            "p95(tag detail) < 150ms",
        ),
        Threshold {
            warn_only: true,
            ..t(
                Metric::Percentile(99.0),
                Selector::Name("/api/v1/tasks/".into()),
                Lt,
                1_000_000.0,
                r#"p99("/api/v1/tasks/") < 1s warn"#,
            )
        },
        t(
            Metric::ErrorRate,
            Selector::All,
            Lt,
            0.01,
            "error_rate < 1%",
        ),
        t(Metric::Rps, Selector::All, Ge, 40.0, "rps >= 40"),
        // /health/ is never requested in the fixture: skipped, as allowed.
        Threshold {
            allow_no_data: true,
            ..t(
                Metric::Percentile(95.0),
                Selector::Name("/health/".into()),
                Lt,
                50_000.0,
                r#"p95("/health/") < 50ms optional"#,
            )
        },
    ]
}

fn run(profile: &Profile) -> Summary {
    let started_at = utc(profile.started_at);
    let metrics = Metrics::starting_at(keys(), started_at);
    let mut rng = Rng(profile.seed);
    let slow = |us: u32| (f64::from(us) * profile.slowdown) as u32;
    let mut counters = [0u32; 5];
    let mut users = metrics.recorder(0);
    for sec in 0..12u32 {
        // (stat, requests this second)
        let mut plan = vec![(0, 25), (1, 10), (2, 4)];
        if profile.with_dashboard {
            plan.push((3, 6));
        }
        if profile.with_health {
            plan.push((4, 1));
        }
        for (stat, per_sec) in plan {
            for j in 0..per_sec {
                let i = counters[stat];
                counters[stat] += 1;
                let elapsed_ms = sec * 1000 + j * 1000 / per_sec + stat as u32 * 7;
                let (latency_us, status, failure) = match stat {
                    0 if i % 50 == 49 => (slow(823_412), 200, None),
                    0 if i % profile.projects_500_every == 7 => {
                        (slow(rng.us(5, 20)), 500, Some(Failure::http(500)))
                    }
                    0 => (slow(rng.us(40, 200)), 200, None),
                    1 => (slow(rng.us(20, 120)), 200, None),
                    2 if i % 15 == 3 => (
                        slow(rng.us(30, 60)),
                        400,
                        Some(Failure::check("status 201 expected, got 400")),
                    ),
                    2 if i == 20 => (
                        30_000_000,
                        0,
                        Some(Failure::new(FailureKind::Timeout, "timeout after 30s")),
                    ),
                    2 if i == 30 => (
                        slow(rng.us(98, 400)),
                        201,
                        Some(Failure::new(
                            FailureKind::Capture,
                            "capture task_id: $.id matched nothing",
                        )),
                    ),
                    2 => (slow(rng.us(98, 1200)), 201, None),
                    3 if i % 20 == 5 => (rng.us(1, 3), 429, Some(Failure::http(429))),
                    3 => (slow(rng.us(10, 60)), 200, None),
                    _ => (rng.us(1, 4), 200, None),
                };
                // The paced class's requests had a schedule; the others a random think
                // time (no intended start).
                let scheduled = stat <= 1;
                let lag_us = if scheduled {
                    lateness_us(stat, sec, i)
                } else {
                    0
                };
                if scheduled {
                    users.lateness(elapsed_ms, lag_us);
                }
                users.record(Sample {
                    stat: stat as u32,
                    elapsed_ms,
                    latency_us,
                    ttfb_us: latency_us / 3,
                    bytes: 512 + (i % 7) * 100,
                    status,
                    lag_us,
                    scheduled,
                    failure: failure.map(Box::new),
                });
                // A paced user held up by a slow response missed the slots of its grid
                // that passed meanwhile: each counts with the latency it would have had.
                let corrected_us = latency_us + lag_us;
                if scheduled && corrected_us > PACING_US {
                    users.backfill(Backfill {
                        stat: stat as u32,
                        elapsed_ms,
                        top_us: corrected_us,
                        step_us: PACING_US,
                        count: corrected_us / PACING_US,
                    });
                }
            }
        }
        users.flush();
        let running = (2 * (sec as usize + 1)).min(10);
        metrics.tick_at(
            Duration::from_millis(u64::from(sec + 1) * 1000),
            &[(running) as u32],
        );
    }
    // The run time ended with two task creations still waiting for an answer.
    users.abandoned(2);
    users.abandoned(2);
    drop(users);
    let info = RunInfo {
        scenario_path: "scenarios/kibray.kload".into(),
        scenario_source: SOURCE.into(),
        host: "https://staging.kibray.example".into(),
        users: 10,
        spawn_rate: 2.0,
        run_time_ms: Some(12_000),
        seed: Some(profile.seed),
        kload_version: "0.1.0".into(),
        command_line: vec![
            "kload".into(),
            "run".into(),
            "scenarios/kibray.kload".into(),
            "--csv".into(),
            "results/prod-test".into(),
        ],
        started_at,
        ended_at: started_at + chrono::TimeDelta::milliseconds(12_250),
        classes: vec![
            ClassInfo {
                name: "APIOnlyUser".into(),
                weight: 2,
                fixed_count: None,
                users: 5,
            },
            ClassInfo {
                name: "AdminUser".into(),
                weight: 1,
                fixed_count: Some(1),
                users: 1,
            },
            ClassInfo {
                name: "KibrayUser".into(),
                weight: 1,
                fixed_count: None,
                users: 4,
            },
        ],
        thresholds: Vec::new(),
        load_model: "closed model: 10 users, spawn rate 2/s".into(),
        scenario_sha256: "0".repeat(64),
        segment: None,
        outcome: Outcome {
            // The failed capture of `task_id` left the `if` after it nothing to test.
            scenario_errors: vec![Note {
                message: "in the condition of an `if`: variable `task_id` is not set (did a \
                          capture fail?)"
                    .into(),
                count: 1,
                line: Some(line_of("if \"{{ task_id }}\"")),
            }],
            ..Outcome::default()
        },
    };
    let mut summary = metrics.summary_at(info, Duration::from_millis(12_250));
    summary.apply_thresholds(&thresholds());
    summary
}

/// The run every golden report renders.
pub(crate) fn fixture() -> Summary {
    run(&Profile {
        seed: 7,
        slowdown: 1.0,
        projects_500_every: 40,
        with_dashboard: true,
        with_health: false,
        started_at: "2026-11-27T08:00:00Z",
    })
}

/// The fixture's run as it would read had it gone wrong in every way at once (a merged
/// result of segments that ended differently can): interrupted and killed, aborted by a
/// threshold, merged from three segments of an open model that ran out of users and could
/// not start one.
pub(crate) fn troubled() -> Summary {
    let mut s = fixture();
    // Task creations have no schedule: a threshold on their corrected latency has no data.
    let mut thresholds = thresholds();
    thresholds.push(Threshold {
        metric: Metric::Percentile(95.0),
        selector: Selector::Tag("create".into()),
        cmp: crate::metrics::Comparison::Lt,
        value: 500_000.0,
        source: "corrected_p95(tag create) < 500ms".into(),
        warn_only: false,
        abort_after: None,
        view: crate::metrics::LatencyView::Corrected,
        allow_no_data: false,
    });
    s.apply_thresholds(&thresholds);
    s.info.load_model = "open model: 45/s arrivals, at most 10 users".into();
    s.info.spawn_rate = 0.0;
    s.dropped_iterations = 3;
    let o = &mut s.info.outcome;
    o.interrupted = true;
    o.killed = true;
    o.aborted_by = Some("error_rate < 1%".into());
    o.merged_segments = 3;
    o.not_started.push(Note {
        message: "data feed `accounts` has no rows left (9 rows, mode unique): a user of \
                  KibrayUser was not started"
            .into(),
        count: 1,
        line: None,
    });
    s
}

/// Last week's run: faster, fewer errors, a health check, no dashboard.
pub(crate) fn baseline() -> Summary {
    run(&Profile {
        seed: 11,
        slowdown: 0.8,
        projects_500_every: 1000,
        with_dashboard: false,
        with_health: true,
        started_at: "2026-11-20T08:00:00Z",
    })
}

/// Locust's reference vectors (§7), one request name each, plus a single 147 ms request whose
/// median is clamped to the exact max.
pub(crate) fn locust_vectors() -> Summary {
    let vectors: Vec<(&str, Vec<f64>)> = vec![
        ("/one-to-hundred", (1..=100).map(f64::from).collect()),
        (
            "/nine-and-slow",
            vec![1., 2., 3., 4., 5., 6., 7., 8., 9., 1000.],
        ),
        ("/three", vec![147., 153., 3432.]),
        ("/five", vec![5.]),
        ("/single-147", vec![147.]),
    ];
    let keys = vectors
        .iter()
        .map(|(n, _)| StatKey::new("GET", *n))
        .collect();
    let metrics = Metrics::starting_at(keys, utc("2026-11-27T08:00:00Z"));
    let mut rec = metrics.recorder(0);
    for (stat, (_, samples)) in vectors.iter().enumerate() {
        for (i, ms) in samples.iter().enumerate() {
            rec.record(Sample {
                stat: stat as u32,
                elapsed_ms: (i as u32 * 97) % 10_000,
                latency_us: (ms * 1000.0) as u32,
                ttfb_us: 0,
                bytes: 1000,
                status: 200,
                lag_us: 0,
                scheduled: false,
                failure: None,
            });
        }
    }
    // The newest request completes at 10 s: rates divide by 10.
    rec.record(Sample {
        stat: 3,
        elapsed_ms: 10_000,
        latency_us: 5_000,
        ttfb_us: 0,
        bytes: 1000,
        status: 200,
        lag_us: 0,
        scheduled: false,
        failure: None,
    });
    drop(rec);
    metrics.summary_at(
        RunInfo {
            started_at: utc("2026-11-27T08:00:00Z"),
            ended_at: utc("2026-11-27T08:00:10Z"),
            ..RunInfo::default()
        },
        Duration::from_secs(10),
    )
}

fn render(f: impl FnOnce(&mut dyn std::io::Write) -> Result<(), super::ReportError>) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out).unwrap();
    out
}

mod tests {
    use super::*;
    use crate::report::{compare, csv, junit, text};

    #[test]
    fn text_report() {
        let s = fixture();
        check("text.txt", &render(|w| text::render(&s, w, false)));
    }

    #[test]
    fn text_report_in_colour() {
        let s = fixture();
        let out = render(|w| text::render(&s, w, true));
        assert!(out.contains(&0x1b));
        check("text_color.txt", &out);
    }

    #[test]
    fn threshold_block() {
        let s = fixture();
        check(
            "thresholds.txt",
            &render(|w| text::render_thresholds(s.thresholds(), w, false)),
        );
    }

    #[test]
    fn text_report_of_locust_vectors() {
        let s = locust_vectors();
        check(
            "locust_vectors.txt",
            &render(|w| text::render(&s, w, false)),
        );
    }

    #[test]
    fn csv_stats_of_locust_vectors() {
        let s = locust_vectors();
        check(
            "locust_vectors_stats.csv",
            &render(|w| csv::render_stats(&s, w)),
        );
    }

    #[test]
    fn csv_files() {
        let s = fixture();
        check("stats.csv", &render(|w| csv::render_stats(&s, w)));
        check(
            "stats_history.csv",
            &render(|w| csv::render_history(&s, w, false)),
        );
        check(
            "stats_history_full.csv",
            &render(|w| csv::render_history(&s, w, true)),
        );
        check("failures.csv", &render(|w| csv::render_failures(&s, w)));
        check("exceptions.csv", &render(|w| csv::render_exceptions(&s, w)));
    }

    #[test]
    fn junit_report() {
        let s = fixture();
        check("junit.xml", &render(|w| junit::render(&s, w)));
    }

    #[test]
    fn reports_of_a_troubled_run() {
        let s = troubled();
        check("junit_troubled.xml", &render(|w| junit::render(&s, w)));
        check("text_troubled.txt", &render(|w| text::render(&s, w, false)));
    }

    #[test]
    fn the_fixture_source_compiles_to_the_fixture_requests() {
        let out = crate::compile::compile_source(SOURCE, &crate::compile::Context::default());
        let plan = out.plan.unwrap_or_else(|| panic!("{:#?}", out.diagnostics));
        for key in keys() {
            assert!(
                plan.stats
                    .iter()
                    .any(|k| k.method == key.method && k.name == key.name && k.tags == key.tags),
                "{key:?} not in {:#?}",
                plan.stats
            );
        }
        let classes: Vec<&str> = plan.classes.iter().map(|c| c.name.as_str()).collect();
        let mut expected: Vec<String> = fixture()
            .info
            .classes
            .iter()
            .map(|c| c.name.clone())
            .collect();
        expected.sort();
        let mut classes: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
        classes.sort();
        assert_eq!(classes, expected);
    }

    #[test]
    fn comparison() {
        let c: compare::Comparison = compare::compare(&baseline(), &fixture(), 0.2);
        assert!(c.regressed());
        check("compare.txt", &render(|w| compare::render(&c, w, false)));
    }

    #[test]
    fn comparison_with_itself_passes() {
        let s = fixture();
        let c = compare::compare(&s, &s, 0.2);
        assert!(!c.regressed());
        assert!(c.added.is_empty() && c.removed.is_empty());
        check(
            "compare_same.txt",
            &render(|w| compare::render(&c, w, false)),
        );
    }

    #[test]
    fn a_run_without_requests_renders() {
        let started_at = utc("2026-11-27T08:00:00Z");
        let info = RunInfo {
            started_at,
            ..RunInfo::default()
        };
        let s =
            Metrics::starting_at(keys(), started_at).summary_at(info, Duration::from_millis(500));
        let mut out = render(|w| text::render(&s, w, false));
        out.extend(render(|w| csv::render_stats(&s, w)));
        out.extend(render(|w| csv::render_history(&s, w, true)));
        out.extend(render(|w| junit::render(&s, w)));
        out.extend(render(|w| {
            compare::render(&compare::compare(&s, &s, 0.2), w, false)
        }));
        check("empty_run.txt", &out);
    }
}
