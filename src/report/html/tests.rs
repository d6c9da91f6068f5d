//! Tests of the HTML report: escaping, sections, the corrected view, the generator panel,
//! how the run ended, goldens, and the pages the browser test opens.

use std::time::Duration;

use super::*;
use crate::metrics::{Failure, FailureKind, Metrics, Sample, StatKey};
use crate::report::golden::{check, fixture, troubled, utc};

fn html(s: &Summary) -> String {
    let mut out = Vec::new();
    render(s, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A run of `ticks` one-second ticks with two requests per second on two names, one of
/// which (`name`) can be hostile markup.
fn run(name: &str, ticks: u64) -> Summary {
    let keys = vec![StatKey::new("GET", name), StatKey::new("POST", "/b")];
    let metrics = Metrics::starting_at(keys, utc("2026-11-27T08:00:00Z"));
    let mut rec = metrics.recorder(0);
    for sec in 0..ticks {
        for stat in 0..2u32 {
            rec.record(Sample {
                stat,
                elapsed_ms: (sec * 1000 + 100) as u32,
                latency_us: 20_000 + stat * 10_000,
                ttfb_us: 5_000,
                bytes: 100,
                status: if stat == 0 { 500 } else { 201 },
                lag_us: 0,
                scheduled: false,
                failure: (stat == 0).then(|| {
                    Box::new(Failure::new(
                        FailureKind::Check,
                        "body <b>did not</b> match & \"quote\"",
                    ))
                }),
            });
        }
        rec.flush();
        metrics.tick_at(Duration::from_secs(sec + 1), &[1]);
    }
    drop(rec);
    let info = RunInfo {
        scenario_path: "x<y>.kload".into(),
        scenario_source: "scenario \"Shop <&> more\" {\n  host \"http://127.0.0.1:1\"\n}\n".into(),
        started_at: utc("2026-11-27T08:00:00Z"),
        ended_at: utc("2026-11-27T08:00:05Z"),
        ..RunInfo::default()
    };
    metrics.summary_at(info, Duration::from_secs(ticks.max(1)))
}

#[test]
fn escapes_markup() {
    assert_eq!(
        escape(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(escape("a\tb\nc\u{0}d\u{7f}é"), "a\tb\nc\u{FFFD}d\u{FFFD}é");
}

#[test]
fn run_text_is_escaped_everywhere() {
    let page = html(&run("/search?q=<script>alert(1)</script>", 5));
    assert!(!page.contains("<script>alert"), "unescaped name");
    assert!(page.contains("/search?q=&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("body &lt;b&gt;did not&lt;/b&gt; match &amp; &quot;quote&quot;"));
    assert!(
        page.contains("<h1>Shop &lt;&amp;&gt; more</h1>"),
        "name from the source"
    );
    assert!(page.contains("x&lt;y&gt;.kload"));
    // The only script is ours.
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn the_document_has_every_section() {
    let page = html(&fixture());
    for id in [
        "thresholds",
        "charts",
        "requests",
        "percentiles",
        "status-codes",
        "failures",
        "errors",
        "details",
        "source",
        "corrected",
        "generator",
        "outcome",
    ] {
        assert!(page.contains(&format!(r#"id="{id}""#)), "section {id}");
    }
    for chart in ["chart-rps", "chart-latency", "chart-users"] {
        assert!(
            page.contains(&format!(r#"<svg class="chart" id="{chart}""#)),
            "{chart}"
        );
    }
    for text in [
        "Thresholds FAILED",
        r#"<span class="badge pass">PASS</span>"#,
        r#"<span class="badge fail">FAIL</span>"#,
        r#"<span class="badge warn">WARN</span>"#,
        r#"<span class="badge skip">SKIP</span>"#,
        "Aggregated",
        "<th class=\"num\">60%</th>",
        "HTTP 500 Internal Server Error",
        "rate_limited",
        "Latency from the intended start",
        "The numbers are suspect",
        "Abandoned",
        "Load model",
        "<details>",
        "https://staging.kibray.example",
        "APIOnlyUser",
        "<time datetime=\"2026-11-27T08:00:00.000Z\">2026-11-27 08:00:00 UTC</time>",
    ] {
        assert!(page.contains(text), "missing {text}");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.ends_with("</html>\n"));
    // Offline: nothing in the page points elsewhere.
    assert!(!page.contains("src="), "no external resources");
    assert!(!page.contains("<link"));
}

/// The text of the table row whose name cell is `name` in the section `id`.
fn row<'a>(page: &'a str, id: &str, name: &str) -> &'a str {
    let section = &page[page.find(&format!(r#"id="{id}""#)).unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let cell = format!(r#"<td class="name">{name}</td>"#);
    let start = section
        .find(&cell)
        .unwrap_or_else(|| panic!("no row {name} in #{id}"));
    let row = &section[start..];
    &row[..row.find("</tr>").unwrap()]
}

#[test]
fn the_corrected_view_has_a_table_and_dashed_lines() {
    let s = fixture();
    let page = html(&s);
    // Paced requests only, with the HDR figures and the back-filled values.
    let projects = s.entry("/api/v1/projects/", "GET").unwrap();
    let corrected = projects.corrected.as_ref().unwrap();
    assert_eq!(
        projects.backfilled, 18,
        "six 823 ms stalls, three 250 ms slots each"
    );
    assert_eq!(corrected.len(), projects.requests + 18);
    let r = row(&page, "corrected", "/api/v1/projects/");
    for p in [50.0, 90.0, 95.0, 99.0, 100.0] {
        let cell = format!(
            r#"<td class="num">{}</td>"#,
            ms(projects.corrected_percentile_us(p).unwrap())
        );
        assert!(r.contains(&cell), "p{p} {cell} in {r}");
    }
    assert!(
        r.contains(r#"<td class="num">318</td><td class="num">18</td>"#),
        "{r}"
    );
    // The corrected p95 shows the stalls the response time hides.
    assert!(projects.corrected_percentile_us(95.0) > Some(300_000));
    assert!(projects.percentile_us(95.0) < Some(200_000));
    let total = row(&page, "corrected", "Aggregated");
    assert!(total.contains(">18</td>"), "{total}");
    let corrected_section = &page[page.find(r#"id="corrected""#).unwrap()..];
    assert!(
        !corrected_section[..corrected_section.find("</section>").unwrap()]
            .contains("/api/v1/tasks/"),
        "unscheduled requests have no row"
    );
    assert!(page.contains("<strong>18</strong> of the values are back-filled"));
    // Three dashed lines on the response-time chart, labelled, and a key number.
    let chart = &page[page.find(r#"id="chart-latency""#).unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches(r#"class="line dashed""#).count(), 3);
    for label in ["corrected p50", "corrected p95", "corrected p99"] {
        assert!(chart.contains(&format!(">{label}</text>")), "{label}");
    }
    assert!(page.contains("99th from intended start"));

    // Without a schedule: a note, no dashed line, no key number.
    let plain = html(&run("/a", 5));
    assert!(plain.contains("No request had an intended start"));
    assert!(!plain.contains("line dashed"));
    assert!(!plain.contains("99th from intended start"));
}

#[test]
fn the_generator_panel_says_whether_kload_kept_up() {
    let s = fixture();
    let page = html(&s);
    let lateness = &s.generator.lateness;
    assert!(lateness.percentile(99.0) > 10_000, "the fixture's pause");
    assert!(page.contains(&format!(
        "<dt>Lateness p99</dt><dd class=\"bad\">{} <small>ms</small></dd>",
        ms(lateness.percentile(99.0))
    )));
    assert!(page.contains("kload itself was late: it started scheduled requests up to"));
    assert!(page.contains(r##"see <a href="#suspect">the warning at the top</a>"##));
    // The warning comes before any table: near the verdict.
    assert!(page.find(r#"id="suspect""#) < page.find("<nav>"));

    // A generator that kept up says so, with its figure.
    let mut calm = fixture();
    calm.generator.lateness = crate::metrics::LatencyHistogram::new();
    calm.generator.lateness.record(800);
    let page = html(&calm);
    assert!(page.contains("<strong>kload kept up</strong>: it started scheduled work 0.8 ms"));
    assert!(!page.contains("The numbers are suspect"));

    // Nothing scheduled: nothing to be late for.
    let page = html(&run("/a", 5));
    assert!(page.contains("Nothing was scheduled"));
    assert!(page.contains("<dt>Lateness p99</dt><dd>–</dd>"));
}

#[test]
fn how_the_run_ended_is_said_near_the_verdict() {
    let page = html(&troubled());
    let head = &page[..page.find("<nav>").unwrap()];
    for text in [
        "Run INTERRUPTED",
        "Run ABORTED",
        "Thresholds FAILED",
        "<strong>Run interrupted (Ctrl-C or SIGTERM)</strong>: these results cover only part of the run",
        "<strong>Run killed</strong>",
        "<strong>Run aborted early</strong>: threshold <code>error_rate &lt; 1%</code> failed",
        "<strong>Abandoned</strong>: 2 requests were still in flight when the run stopped",
        "POST /api/v1/tasks/ ×2",
        "kload ran out of users: 3 iterations",
        "a user of KibrayUser was not started (1×)",
        "<strong>Merged from 3 segments of a distributed run</strong>",
        "open model: 45/s arrivals, at most 10 users",
    ] {
        assert!(head.contains(text), "{text} not in\n{head}");
    }
    assert!(head.contains(r#"<p class="callout fail"><strong>Run interrupted"#));
    // The scenario error links to its line in the source.
    let line = crate::report::golden::SOURCE
        .lines()
        .position(|l| l.contains("if \"{{ task_id }}\""))
        .unwrap()
        + 1;
    assert!(head.contains(&format!(
        r##"<a href="#L{line}">line {line}</a>: in the condition of an <code>if</code>"##
    )));
    assert!(page.contains(&format!(
        r#"<span class="ln" id="L{line}">    if &quot;{{{{ task_id }}}}&quot;"#
    )));
    // The generator panel counts what the warnings say.
    assert!(page.contains(r#"<dt>Dropped iterations</dt><dd class="bad">3</dd>"#));
    assert!(page.contains(r#"<dt>Users not started</dt><dd class="bad">1</dd>"#));

    // Thresholds without data: a failure says so, an optional one is a SKIP.
    let r = row_of_threshold(&page, "corrected_p95(tag create) &lt; 500ms");
    assert!(r.contains(r#"<span class="badge fail">FAIL</span>"#), "{r}");
    assert!(r.contains(r#"<span class="nodata">no data</span> <small>no scheduled requests</small><small class="why">a target never measured is not met</small>"#), "{r}");
    let r = row_of_threshold(&page, "p95(&quot;/health/&quot;) &lt; 50ms optional");
    assert!(r.contains(r#"<span class="badge skip">SKIP</span>"#), "{r}");
    assert!(r.contains("optional: allowed to have none"), "{r}");

    // A run that ended as planned has no notes and no run badge.
    let mut clean = fixture();
    clean.info.outcome = Default::default();
    clean.generator = Default::default();
    for e in clean.entries.iter_mut().chain([&mut clean.aggregated]) {
        e.abandoned = 0;
    }
    let page = html(&clean);
    assert!(!page.contains(r#"id="outcome""#));
    assert!(!page.contains("Run INTERRUPTED"));
    // Passing thresholds of an interrupted run say the run was partial.
    let mut partial = run("/a", 5);
    partial.info.outcome.interrupted = true;
    partial.apply_thresholds(&[crate::metrics::Threshold {
        metric: crate::metrics::Metric::Requests,
        selector: crate::metrics::Selector::All,
        cmp: crate::metrics::Comparison::Ge,
        value: 1.0,
        source: "requests >= 1".into(),
        warn_only: false,
        abort_after: None,
        view: crate::metrics::LatencyView::Response,
        allow_no_data: false,
    }]);
    let page = html(&partial);
    assert!(page.contains("Run INTERRUPTED"));
    assert!(page.contains("Thresholds PASSED<span>all 1 held (partial run)</span>"));
}

fn row_of_threshold<'a>(page: &'a str, source: &str) -> &'a str {
    let cell = format!("<td><code>{source}</code></td>");
    let at = page
        .find(&cell)
        .unwrap_or_else(|| panic!("no threshold {source}"));
    let start = page[..at].rfind("<tr").unwrap();
    let row = &page[start..];
    &row[..row.find("</tr>").unwrap()]
}

#[test]
fn golden_head_of_a_troubled_run() {
    // The header, the notes on how the run ended and the generator panel.
    let page = html(&troubled());
    let head =
        &page[page.find(r#"<header class="page-head">"#).unwrap()..page.find("<nav>").unwrap()];
    let generator = &page[page
        .find(r#"<section class="panel" id="generator">"#)
        .unwrap()..];
    let generator = &generator[..generator.find("</section>").unwrap() + "</section>\n".len()];
    check(
        "report_troubled_head.html",
        format!("{head}{generator}").as_bytes(),
    );
}

#[test]
fn zero_and_one_point_runs_get_notes() {
    let empty = Metrics::starting_at(vec![StatKey::new("GET", "/")], utc("2026-11-27T08:00:00Z"))
        .summary_at(RunInfo::default(), Duration::from_millis(500));
    let page = html(&empty);
    assert_eq!(page.matches(r#"<p class="chart-note">"#).count(), 3);
    assert!(!page.contains("<svg"));
    assert!(page.contains("No request completed."));
    assert!(page.contains("<h1>kload run</h1>"));
    let one = html(&run("/a", 1));
    assert_eq!(one.matches("Only one point in time (00:01)").count(), 3);
    let many = html(&run("/a", 5));
    assert_eq!(many.matches("<svg").count(), 3);
}

#[test]
fn numbers_for_people() {
    assert_eq!(count(0), "0");
    assert_eq!(count(999), "999");
    assert_eq!(count(1_234_567), "1,234,567");
    assert_eq!(duration(12_250), "12.25 s");
    assert_eq!(duration(59_999), "59.999 s");
    assert_eq!(duration(12_000), "12 s");
    assert_eq!(duration(303_000), "5 min 03 s");
    assert_eq!(duration(3_725_000), "1 h 02 min 05 s");
    assert_eq!(trim_float(2.0, 2), "2");
    assert_eq!(trim_float(0.5, 2), "0.5");
    assert_eq!(
        shell_words(&[
            "kload".into(),
            "run".into(),
            "a b.kload".into(),
            "it's".into()
        ]),
        r"kload run 'a b.kload' 'it'\''s'"
    );
}

#[test]
fn golden_report() {
    check("report.html", html(&fixture()).as_bytes());
}

/// Writes the pages `tests/browser/run.sh` opens in Chromium into `$KLOAD_BROWSER_DIR`;
/// does nothing without it.
#[test]
fn write_browser_fixture() {
    let Some(dir) = std::env::var_os("KLOAD_BROWSER_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let empty = Metrics::starting_at(vec![StatKey::new("GET", "/")], utc("2026-11-27T08:00:00Z"))
        .summary_at(RunInfo::default(), Duration::from_millis(500));
    let pages = [
        ("report.html", fixture()),
        (
            "hostile.html",
            run(r#"/q?<img src=x onerror="alert(1)">"#, 8),
        ),
        ("single-point.html", run("/a", 1)),
        ("troubled.html", troubled()),
        ("empty.html", empty),
    ];
    for (name, summary) in pages {
        std::fs::write(dir.join(name), html(&summary)).unwrap();
    }
}
