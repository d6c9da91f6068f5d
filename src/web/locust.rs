//! Locust's web API, same paths and JSON shapes (`locust/web.py` as of Locust 2.4x), so
//! scripts and dashboards written for Locust keep working against kload.
//!
//! Field names and types follow Locust's `StatsEntry.to_dict`, `StatsError.to_dict`,
//! `request_stats`, `tasks`, `exceptions` and `logs`; the fields Locust's older web UI read
//! (`safe_name`, `ninetieth_response_time`, `ninety_ninth_response_time`,
//! `current_response_time_percentile_1/2`) are kept for the scripts that still do.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::controller::StartRequest;
use super::snapshot::{MAX_FAILURES, MAX_ROWS, MAX_TEXT, StatRow, UiSnapshot, clip};
use crate::compile::quantity;

/// Locust's `StatsEntry.to_dict()` for a row.
fn stat(row: &StatRow) -> Value {
    let name = clip(&row.name, MAX_TEXT);
    json!({
        "method": clip(&row.method, MAX_TEXT),
        "name": name,
        "safe_name": html_escape(&name),
        "num_requests": row.num_requests,
        "num_failures": row.num_failures,
        // Locust's `proper_round`: halves up, to an int.
        "min_response_time": row.min_response_time.round() as u64,
        "max_response_time": row.max_response_time.round() as u64,
        "current_rps": row.current_rps,
        "current_fail_per_sec": row.current_fail_per_sec,
        "avg_response_time": row.avg_response_time,
        "median_response_time": row.median_response_time,
        "total_rps": row.total_rps,
        "total_fail_per_sec": row.total_fail_per_sec,
        "response_time_percentile_0.95": row.p95_response_time,
        "response_time_percentile_0.99": row.p99_response_time,
        "ninetieth_response_time": row.p90_response_time,
        "ninety_ninth_response_time": row.p99_response_time,
        "avg_content_length": row.avg_content_length,
    })
}

/// Python's `html.escape(s, quote=False)`.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `GET /stats/requests`: the rows sorted by (name, method) and cut at 500, then
/// Aggregated; the first 500 failure groups; totals, current percentiles, state and users.
pub fn request_stats(s: &UiSnapshot) -> Value {
    let mut rows: Vec<&StatRow> = s.stats.iter().collect();
    rows.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
    let mut stats: Vec<Value> = rows.into_iter().take(MAX_ROWS).map(stat).collect();
    stats.push(stat(&s.total));
    let errors: Vec<Value> = s
        .failures
        .iter()
        .take(MAX_FAILURES)
        .map(|f| {
            json!({
                "method": clip(&f.method, MAX_TEXT),
                "name": clip(&f.name, MAX_TEXT),
                "error": clip(&f.message, MAX_TEXT),
                "occurrences": f.occurrences,
                "first_seen": f.first_seen,
                "last_seen": f.last_seen,
            })
        })
        .collect();
    let total = &s.total;
    json!({
        "stats": stats,
        "errors": errors,
        "current_rps": total.current_rps,
        "current_fail_per_sec": total.current_fail_per_sec,
        "total_rps": total.total_rps,
        "total_fail_per_sec": total.total_fail_per_sec,
        "total_avg_response_time": total.avg_response_time,
        "fail_ratio": total.fail_ratio(),
        "current_response_time_percentiles": {
            "response_time_percentile_0.5": s.current.p50,
            "response_time_percentile_0.95": s.current.p95,
        },
        "current_response_time_percentile_1": s.current.p50,
        "current_response_time_percentile_2": s.current.p95,
        "state": s.state.as_str(),
        "user_count": s.user_count,
    })
}

/// `GET /tasks`: Locust's `get_ratio` for the running users, per class (task shares
/// within the class) and in total (task shares of all iterations).
pub fn tasks(s: &UiSnapshot) -> Value {
    let ratios = |total: bool| {
        let mut classes = Map::new();
        for class in &s.task_ratios {
            let mut tasks = Map::new();
            for task in &class.tasks {
                let share = if total {
                    task.ratio * class.ratio
                } else {
                    task.ratio
                };
                tasks.insert(task.name.clone(), json!({ "ratio": share }));
            }
            classes.insert(
                class.name.clone(),
                json!({ "ratio": class.ratio, "tasks": tasks }),
            );
        }
        Value::Object(classes)
    };
    json!({ "per_class": ratios(false), "total": ratios(true) })
}

/// Where a scenario error is, as the `traceback` of Locust's exceptions.
fn traceback(file: &str, line: u32, column: u32, source_line: &str) -> String {
    format!("{file}:{line}:{column}\n{line:>5} | {source_line}")
}

/// `GET /exceptions`: kload's scenario errors as Locust's exceptions.
pub fn exceptions(s: &UiSnapshot) -> Value {
    let rows: Vec<Value> = s
        .scenario_errors
        .iter()
        .take(MAX_FAILURES)
        .map(|e| {
            json!({
                "count": e.count,
                "msg": clip(&e.message, MAX_TEXT),
                "traceback": clip(&traceback(&e.file, e.line, e.column, &e.source_line), MAX_TEXT),
                "nodes": "local",
            })
        })
        .collect();
    json!({ "exceptions": rows })
}

/// `GET /logs`: Locust's `{"master": [lines], "workers": {}}`, lines formatted like
/// Locust's default log format.
pub fn logs(s: &UiSnapshot, hostname: &str) -> Value {
    let start = s.logs.len().saturating_sub(super::snapshot::MAX_LOG_LINES);
    let lines: Vec<String> = s.logs[start..]
        .iter()
        .map(|l| {
            let time = chrono::DateTime::from_timestamp_millis((l.time * 1000.0) as i64)
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M:%S,%3f")
                        .to_string()
                })
                .unwrap_or_default();
            format!(
                "[{time}] {hostname}/{}/kload: {}",
                l.level,
                clip(&l.message, MAX_TEXT)
            )
        })
        .collect();
    json!({ "master": lines, "workers": {} })
}

/// Reads `POST /swarm`'s form fields (`user_count`, `spawn_rate`, `host`, `run_time`,
/// `user_classes` repeated; others are ignored, as Locust ignores unknown options).
/// `user_count` and `spawn_rate` are required unless `optional_users` (a plan with stages
/// or an arrival rate). Errors are Locust's messages where Locust has one.
pub fn parse_swarm(
    fields: &[(String, String)],
    optional_users: bool,
) -> Result<StartRequest, String> {
    let mut users = None;
    let mut spawn_rate = None;
    let mut host = None;
    let mut run_time: Option<Duration> = None;
    let mut classes = Vec::new();
    for (key, value) in fields {
        let value = value.trim();
        match key.as_str() {
            "user_count" if !value.is_empty() => {
                users = Some(value.parse::<u32>().map_err(|_| {
                    format!("user_count must be a whole number of users, not \"{value}\"")
                })?);
            }
            "spawn_rate" if !value.is_empty() => {
                let rate = value
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| {
                        format!("spawn_rate must be a number of users per second above 0, not \"{value}\"")
                    })?;
                spawn_rate = Some(rate);
            }
            "host" if !value.is_empty() => {
                // Locust strips < and > against markup in the page; kload checks the URL.
                let parsed = url::Url::parse(value)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .ok_or_else(|| {
                        format!(
                            "host must be an http:// or https:// URL, not \"{}\"",
                            clip(value, 200)
                        )
                    })?;
                host = Some(parsed.as_str().trim_end_matches('/').to_owned());
            }
            "run_time" if !value.is_empty() => {
                run_time = Some(quantity::duration_text(value, true).map_err(|_| {
                    "Valid run_time formats are : 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.".to_owned()
                })?);
            }
            "user_classes" if !value.is_empty() => classes.push(value.to_owned()),
            _ => {}
        }
    }
    if !optional_users && (users.is_none() || spawn_rate.is_none()) {
        return Err("Missing user_count or spawn_rate from /swarm request".to_owned());
    }
    if users.is_some() != spawn_rate.is_some() {
        return Err("user_count and spawn_rate go together: give both or neither".to_owned());
    }
    Ok(StartRequest {
        users,
        spawn_rate,
        host,
        run_time,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn swarm_form_reads_locusts_fields() {
        let req = parse_swarm(
            &fields(&[
                ("user_count", "50"),
                ("spawn_rate", "2.5"),
                ("host", "http://127.0.0.1:8000/"),
                ("run_time", "1h30m"),
                ("user_classes", "KibrayUser"),
                ("user_classes", "AdminUser"),
                ("profile", "ignored"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(req.users, Some(50));
        assert_eq!(req.spawn_rate, Some(2.5));
        assert_eq!(req.host.as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(req.run_time, Some(Duration::from_secs(5400)));
        assert_eq!(req.classes, vec!["KibrayUser", "AdminUser"]);
        // A bare number is seconds, an empty run time is none.
        let req = parse_swarm(
            &fields(&[("user_count", "1"), ("spawn_rate", "1"), ("run_time", "20")]),
            false,
        )
        .unwrap();
        assert_eq!(req.run_time, Some(Duration::from_secs(20)));
        let req = parse_swarm(
            &fields(&[("user_count", "1"), ("spawn_rate", "1"), ("run_time", "")]),
            false,
        )
        .unwrap();
        assert_eq!(req.run_time, None);
    }

    #[test]
    fn swarm_form_errors() {
        type Pairs<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Pairs, bool, &str)] = &[
            (
                &[("spawn_rate", "1")],
                false,
                "Missing user_count or spawn_rate",
            ),
            (&[], false, "Missing user_count or spawn_rate"),
            (
                &[("user_count", "ten"), ("spawn_rate", "1")],
                false,
                "whole number",
            ),
            (
                &[("user_count", "-1"), ("spawn_rate", "1")],
                false,
                "whole number",
            ),
            (
                &[("user_count", "1"), ("spawn_rate", "0")],
                false,
                "above 0",
            ),
            (
                &[("user_count", "1"), ("spawn_rate", "NaN")],
                false,
                "above 0",
            ),
            (
                &[
                    ("user_count", "1"),
                    ("spawn_rate", "1"),
                    ("host", "ftp://x"),
                ],
                false,
                "http://",
            ),
            (
                &[("user_count", "1"), ("spawn_rate", "1"), ("host", "<b>")],
                false,
                "http://",
            ),
            (
                &[
                    ("user_count", "1"),
                    ("spawn_rate", "1"),
                    ("run_time", "5 min"),
                ],
                false,
                "Valid run_time",
            ),
            (&[("user_count", "1")], true, "go together"),
        ];
        for (pairs, optional, want) in cases {
            let err = parse_swarm(&fields(pairs), *optional).unwrap_err();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
        // With stages, both may be left out.
        let req = parse_swarm(&[], true).unwrap();
        assert_eq!((req.users, req.spawn_rate), (None, None));
    }

    #[test]
    fn safe_name_is_html_escaped_without_quotes() {
        assert_eq!(
            html_escape(r#"/q?a=<b>&c="d""#),
            r#"/q?a=&lt;b&gt;&amp;c="d""#
        );
    }
}
