//! The report's tables: request statistics, percentiles, the latency from the intended
//! start, status codes, failures, errors by kind and run details.

use std::fmt::Write as _;

use crate::metrics::entry::EntrySummary;
use crate::metrics::{FailureKind, Summary};

use super::{
    count, empty_note, escape, ms, or_dash, percent, plural, section_start, shell_words, time_html,
};
use crate::report::format::clock;

/// Locust's `PERCENTILES_FOR_HTML_REPORT`: the columns of the response time table.
const HTML_PERCENTILES: [(f64, &str); 8] = [
    (0.50, "50%"),
    (0.60, "60%"),
    (0.70, "70%"),
    (0.80, "80%"),
    (0.90, "90%"),
    (0.95, "95%"),
    (0.99, "99%"),
    (1.00, "100%"),
];

pub(super) fn request_table(s: &Summary, page: &mut String) {
    section_start(
        page,
        "requests",
        "Request statistics",
        "Locust's columns; rates are totals over the time of the last request. Average, min and max are exact.",
    );
    let rows = s.sorted_entries();
    if rows.is_empty() {
        empty_note(page, "No request completed.");
        page.push_str("</section>\n");
        return;
    }
    page.push_str(
        r#"<div class="table-wrap"><table>
<thead><tr><th>Type</th><th>Name</th><th class="num"># Requests</th><th class="num"># Fails</th><th class="num">Average (ms)</th><th class="num">Min (ms)</th><th class="num">Max (ms)</th><th class="num">Average size (bytes)</th><th class="num">RPS</th><th class="num">Failures/s</th></tr></thead>
<tbody>
"#,
    );
    entry_rows(page, &rows, &s.aggregated, |e, page, class| {
        request_row(s, e, page, class)
    });
}

/// The body of an entry table: one row per request, the Aggregated row as its footer, and the
/// end of the table and its section.
fn entry_rows(
    page: &mut String,
    rows: &[&EntrySummary],
    aggregated: &EntrySummary,
    row: impl Fn(&EntrySummary, &mut String, &str),
) {
    for e in rows {
        row(e, page, "");
    }
    page.push_str("</tbody><tfoot>");
    row(aggregated, page, "total");
    page.push_str("</tfoot></table></div>\n</section>\n");
}

fn request_row(s: &Summary, e: &EntrySummary, page: &mut String, class: &str) {
    let fails = if e.failures > 0 {
        format!(
            r#"<span class="bad">{}</span> <small>{}</small>"#,
            count(e.failures),
            percent(e.fail_ratio())
        )
    } else {
        "0".to_owned()
    };
    let _ = writeln!(
        page,
        r#"<tr class="{class}">{}<td class="num">{}</td><td class="num">{fails}</td><td class="num">{:.2}</td><td class="num">{:.2}</td><td class="num">{:.2}</td><td class="num">{:.2}</td><td class="num">{:.2}</td><td class="num">{:.2}</td></tr>"#,
        name_cells(e),
        count(e.requests),
        e.avg_ms(),
        e.min_ms(),
        e.max_ms(),
        e.avg_content_size(),
        s.total_rps(e),
        s.total_fail_per_sec(e),
    );
}

/// The Type and Name cells of a row.
fn name_cells(e: &EntrySummary) -> String {
    format!(
        r#"<td class="method">{}</td><td class="name">{}</td>"#,
        escape(&e.method),
        escape(&e.name)
    )
}

pub(super) fn percentile_table(s: &Summary, page: &mut String) {
    section_start(
        page,
        "percentiles",
        "Response time percentiles (approximated)",
        "In ms, from Locust's buckets (1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s), so they match Locust's report.",
    );
    let rows = s.sorted_entries();
    if rows.is_empty() {
        empty_note(page, "No request completed.");
        page.push_str("</section>\n");
        return;
    }
    page.push_str(r#"<div class="table-wrap"><table><thead><tr><th>Type</th><th>Name</th>"#);
    for (_, label) in HTML_PERCENTILES {
        let _ = write!(page, r#"<th class="num">{label}</th>"#);
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    let row = |e: &EntrySummary, page: &mut String, class: &str| {
        let _ = write!(page, r#"<tr class="{class}">{}"#, name_cells(e));
        for (p, _) in HTML_PERCENTILES {
            let v = e
                .locust_percentile(p)
                .map_or_else(|| "–".to_owned(), |v| count(u64::from(v)));
            let _ = write!(page, r#"<td class="num">{v}</td>"#);
        }
        page.push_str("</tr>\n");
    };
    entry_rows(page, &rows, &s.aggregated, row);
}

/// The HDR percentiles of the corrected view: (percentile, column).
const CORRECTED_PERCENTILES: [(f64, &str); 5] = [
    (50.0, "50%"),
    (90.0, "90%"),
    (95.0, "95%"),
    (99.0, "99%"),
    (100.0, "Max"),
];

/// The latency from the intended start of the requests that had a schedule, next to the
/// response time of the tables above, and what the two views mean.
pub(super) fn corrected_table(s: &Summary, page: &mut String) {
    section_start(
        page,
        "corrected",
        "Latency from the intended start",
        "Corrected for coordinated omission, as wrk2 reports it. In ms, from HDR histograms (at most 0.1 % above the sample).",
    );
    page.push_str(
        r#"<p class="explain"><strong>Response time</strong> (every other table, and the solid lines of the chart; Locust's meaning): from sending the request to its last byte. <strong>Latency from the intended start</strong> (this table, and the dashed lines): from when the schedule meant the request to be sent to its last byte, so a stall of the server or of kload counts against every request it held up, not only the one that was waiting. Only requests with a schedule have it: those of an arrival rate (<code>arrival_rate</code>) and of paced classes (<code>wait pacing</code>, <code>wait throughput</code>, <code>wait constant</code>). See “Two latency views” in <code>docs/reports.md</code>.</p>
"#,
    );
    let rows: Vec<&EntrySummary> = s
        .sorted_entries()
        .into_iter()
        .filter(|e| e.corrected_percentile_us(50.0).is_some())
        .collect();
    if rows.is_empty() {
        empty_note(
            page,
            "No request had an intended start: the users think for a random time after each answer (or not at all), which is the workload itself, so only the response time applies. Use an arrival rate or wait pacing to measure what a fixed rate would have seen.",
        );
        page.push_str("</section>\n");
        return;
    }
    page.push_str(r#"<div class="table-wrap"><table><thead><tr><th>Type</th><th>Name</th>"#);
    for (_, label) in CORRECTED_PERCENTILES {
        let _ = write!(page, r#"<th class="num">{label}</th>"#);
    }
    page.push_str(
        r#"<th class="num"># Values</th><th class="num">Back-filled</th></tr></thead>
<tbody>
"#,
    );
    let row = |e: &EntrySummary, page: &mut String, class: &str| {
        let _ = write!(page, r#"<tr class="{class}">{}"#, name_cells(e));
        for (p, _) in CORRECTED_PERCENTILES {
            let v = e
                .corrected_percentile_us(p)
                .map_or_else(|| "–".to_owned(), ms);
            let _ = write!(page, r#"<td class="num">{v}</td>"#);
        }
        let values = e.corrected.as_ref().map_or(0, |h| h.len());
        let _ = writeln!(
            page,
            r#"<td class="num">{}</td><td class="num">{}</td></tr>"#,
            count(values),
            count(e.backfilled)
        );
    };
    for e in &rows {
        row(e, page, "");
    }
    page.push_str("</tbody><tfoot>");
    row(&s.aggregated, page, "total");
    page.push_str("</tfoot></table></div>\n");
    let backfilled = s.aggregated.backfilled;
    if backfilled > 0 {
        let _ = writeln!(
            page,
            r#"<p class="after"><strong>{}</strong> of the values are back-filled: {} paced users could not send while a slow response held them up, each counted with the latency it would have had (sent on its slot of the schedule, answered when the slow one was).</p>"#,
            count(backfilled),
            plural(backfilled as usize, "a request", "requests"),
        );
    }
    page.push_str("</section>\n");
}

pub(super) fn status_codes(s: &Summary, page: &mut String) {
    section_start(
        page,
        "status-codes",
        "Status codes",
        "Responses per HTTP status for each request; “none” counts requests that got no response.",
    );
    let rows = s.sorted_entries();
    let mut codes: Vec<u16> = s.aggregated.status_codes.keys().copied().collect();
    for e in &rows {
        codes.extend(e.status_codes.keys());
    }
    codes.sort_unstable();
    codes.dedup();
    if rows.is_empty() || codes.is_empty() {
        empty_note(page, "No request completed.");
        page.push_str("</section>\n");
        return;
    }
    page.push_str(r#"<div class="table-wrap"><table><thead><tr><th>Type</th><th>Name</th>"#);
    for &code in &codes {
        let (class, label) = match code {
            0 => ("s0", "none".to_owned()),
            c => (
                match c / 100 {
                    2 => "s2",
                    3 => "s3",
                    4 => "s4",
                    5 => "s5",
                    _ => "s1",
                },
                c.to_string(),
            ),
        };
        let _ = write!(
            page,
            r#"<th class="num"><span class="code {class}">{label}</span></th>"#
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    let row = |e: &EntrySummary, page: &mut String, class: &str| {
        let _ = write!(page, r#"<tr class="{class}">{}"#, name_cells(e));
        for code in &codes {
            match e.status_codes.get(code) {
                Some(&n) if n > 0 => {
                    let _ = write!(page, r#"<td class="num">{}</td>"#, count(n));
                }
                _ => page.push_str(r#"<td class="num muted">–</td>"#),
            }
        }
        page.push_str("</tr>\n");
    };
    entry_rows(page, &rows, &s.aggregated, row);
}

pub(super) fn failures(s: &Summary, page: &mut String) {
    section_start(
        page,
        "failures",
        "Failures",
        "Failed requests grouped by request and message, most frequent first. Times are UTC.",
    );
    if s.failures.is_empty() {
        empty_note(page, "No request failed.");
        page.push_str("</section>\n");
        return;
    }
    page.push_str(
        r#"<div class="table-wrap"><table>
<thead><tr><th>Type</th><th>Name</th><th>Error</th><th>Kind</th><th class="num">Occurrences</th><th class="num">First seen</th><th class="num">Last seen</th></tr></thead>
<tbody>
"#,
    );
    for f in &s.failures {
        let _ = writeln!(
            page,
            r#"<tr><td class="method">{}</td><td class="name">{}</td><td class="message">{}</td><td><span class="kind">{}</span></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(&f.method),
            escape(&f.name),
            escape(&f.error_text()),
            f.kind.as_str(),
            count(f.occurrences),
            time_html(f.first_seen, false),
            time_html(f.last_seen, false),
        );
    }
    page.push_str("</tbody></table></div>\n</section>\n");
}

pub(super) fn errors_by_kind(s: &Summary, page: &mut String) {
    section_start(
        page,
        "errors",
        "Errors by kind",
        "Every failed request counts under one kind.",
    );
    let mut kinds: Vec<(FailureKind, u64)> = s
        .errors_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (*k, *n))
        .collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if kinds.is_empty() {
        empty_note(page, "No errors.");
    } else {
        let all: u64 = kinds.iter().map(|(_, n)| n).sum();
        let most = kinds[0].1;
        page.push_str(
            r#"<div class="table-wrap"><table class="narrow">
<thead><tr><th>Kind</th><th>Meaning</th><th class="num">Failures</th><th class="num">Share</th><th class="bar-cell"></th></tr></thead>
<tbody>
"#,
        );
        for (kind, n) in kinds {
            let share = n as f64 / all as f64;
            let _ = writeln!(
                page,
                r#"<tr><td><span class="kind">{}</span></td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="bar-cell"><span class="bar" style="width:{:.1}%"></span></td></tr>"#,
                kind.as_str(),
                escape(&kind.to_string()),
                count(n),
                percent(share),
                n as f64 * 100.0 / most as f64
            );
        }
        page.push_str("</tbody></table></div>\n");
    }
    page.push_str("</section>\n");
}

pub(super) fn run_details(s: &Summary, page: &mut String) {
    let info = &s.info;
    section_start(page, "details", "Run details", "");
    let command = if info.command_line.is_empty() {
        "–".to_owned()
    } else {
        format!("<code>{}</code>", escape(&shell_words(&info.command_line)))
    };
    let sha = if info.scenario_sha256.is_empty() {
        String::new()
    } else {
        format!(
            "<div><dt>Scenario SHA-256</dt><dd><code>{}</code></dd></div>",
            escape(&info.scenario_sha256)
        )
    };
    let _ = writeln!(
        page,
        r#"<dl class="meta wide"><div><dt>Scenario file</dt><dd><code>{}</code></dd></div>{sha}<div><dt>Command line</dt><dd>{command}</dd></div><div><dt>Last request at</dt><dd>{}</dd></div></dl>"#,
        escape(or_dash(&info.scenario_path)),
        clock(s.last_request_ms),
    );
    if info.classes.is_empty() {
        page.push_str("</section>\n");
        return;
    }
    page.push_str(
        r#"<h3>User classes</h3>
<div class="table-wrap"><table class="narrow">
<thead><tr><th>Class</th><th class="num">Weight</th><th class="num">Fixed count</th><th class="num">Users at peak</th><th class="num">Share</th></tr></thead>
<tbody>
"#,
    );
    let total: usize = info.classes.iter().map(|c| c.users).sum();
    for c in &info.classes {
        let share = if total == 0 {
            0.0
        } else {
            c.users as f64 / total as f64
        };
        let _ = writeln!(
            page,
            r#"<tr><td class="name">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(&c.name),
            c.weight,
            c.fixed_count
                .map_or_else(|| "–".to_owned(), |n| n.to_string()),
            count(c.users as u64),
            percent(share),
        );
    }
    page.push_str("</tbody></table></div>\n</section>\n");
}
