//! The shape of the scenario: one user's journey. The requests up to the login go in `on
//! start` (once per virtual user, like a person signing in once); the rest, grouped by page,
//! become the tasks of one `sequence`, run in the recorded order again and again. The pauses
//! of the recorded person between requests are kept as `sleep` steps.

use chrono::DateTime;

use super::har::Entry;
use super::naming::{Namer, task_base};
use super::recording::Call;

/// Pauses shorter than this are the browser's own work, not a person thinking.
pub const THINK_MIN_MS: u64 = 500;
/// Longer pauses (a person away from the keyboard) are shortened to this.
pub const THINK_MAX_MS: u64 = 60_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Pause, in milliseconds (a multiple of 100); `recorded` when it was shortened.
    Sleep { ms: u64, recorded: Option<u64> },
    /// The call with this index.
    Request(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Journey {
    pub on_start: Vec<Step>,
    pub tasks: Vec<Task>,
}

/// When each entry started and ended, in milliseconds since the epoch (`None` when the
/// recording does not say).
pub fn timings(entries: &[Entry]) -> Vec<Option<(f64, f64)>> {
    entries
        .iter()
        .map(|e| {
            let start = DateTime::parse_from_rfc3339(e.started_date_time.as_deref()?).ok()?;
            let start = start.timestamp_micros() as f64 / 1000.0;
            let time = e.time.filter(|t| t.is_finite() && *t >= 0.0).unwrap_or(0.0);
            Some((start, start + time))
        })
        .collect()
}

/// For each entry, the end of everything that started before it (kept or not), when known.
fn previous_ends(timings: &[Option<(f64, f64)>]) -> Vec<Option<f64>> {
    let mut order: Vec<(f64, f64, usize)> = timings
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|(s, e)| (s, e, i)))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = vec![None; timings.len()];
    let mut latest = f64::NEG_INFINITY;
    let mut k = 0;
    while k < order.len() {
        // Entries that started at the same moment do not wait for each other.
        let start = order[k].0;
        let same: Vec<(f64, f64, usize)> = order[k..]
            .iter()
            .take_while(|o| o.0 == start)
            .copied()
            .collect();
        for (_, _, i) in &same {
            out[*i] = latest.is_finite().then_some(latest);
        }
        for (_, end, _) in &same {
            latest = latest.max(*end);
        }
        k += same.len();
    }
    out
}

/// The pause before `entry` started: from the end of everything that started before it to its
/// start, rounded to 100 ms; `None` when too short to be a person's.
fn think_before(
    entry: usize,
    timings: &[Option<(f64, f64)>],
    previous: &[Option<f64>],
) -> Option<Step> {
    let (start, _) = timings[entry]?;
    let previous_end = previous[entry]?;
    let ms = ((start - previous_end).max(0.0) / 100.0).round() as u64 * 100;
    if ms < THINK_MIN_MS {
        return None;
    }
    Some(if ms > THINK_MAX_MS {
        Step::Sleep {
            ms: THINK_MAX_MS,
            recorded: Some(ms),
        }
    } else {
        Step::Sleep { ms, recorded: None }
    })
}

/// Lays the calls out: `on start` up to and including `login` (when requests follow it), then
/// one task per page.
pub fn plan(calls: &[Call], timings: &[Option<(f64, f64)>], login: Option<usize>) -> Journey {
    let previous = previous_ends(timings);
    let steps_of = |range: std::ops::Range<usize>, first_pause: bool| {
        let mut steps = Vec::new();
        for i in range.clone() {
            if (i > range.start || first_pause)
                && let Some(sleep) = think_before(calls[i].entry, timings, &previous)
            {
                steps.push(sleep);
            }
            steps.push(Step::Request(i));
        }
        steps
    };
    let start_end = match login {
        Some(l) if l + 1 < calls.len() => l + 1,
        _ => 0,
    };
    let mut journey = Journey {
        on_start: steps_of(0..start_end, false),
        tasks: Vec::new(),
    };
    let mut names = Namer::default();
    let mut group_start = start_end;
    for i in start_end..calls.len() {
        let last = i + 1 == calls.len();
        if last || starts_page(&calls[i + 1], &calls[i]) {
            let group = &calls[group_start..=i];
            // A page is named after its HTML document, or else its first API request.
            let named = group
                .iter()
                .find(|c| c.document && c.html)
                .or_else(|| group.iter().find(|c| !c.document))
                .unwrap_or(&group[0]);
            journey.tasks.push(Task {
                name: names.fresh(&task_base(named)),
                steps: steps_of(group_start..i + 1, journey.tasks.len() + start_end > 0),
            });
            group_start = i + 1;
        }
    }
    journey
}

/// Whether `next` begins a new page after `previous`: it loads a document, or the recording
/// says it belongs to another page.
fn starts_page(next: &Call, previous: &Call) -> bool {
    next.document || (next.pageref.is_some() && next.pageref != previous.pageref)
}

/// `1.5s`, `800ms`, `2s`.
pub fn duration_text(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(entry: usize, method: &str, path: &str, document: bool, page: &str) -> Call {
        Call {
            entry,
            document,
            html: document,
            pageref: Some(page.to_string()),
            ..Call::bare(method, path)
        }
    }

    fn sleep(ms: u64) -> Step {
        Step::Sleep { ms, recorded: None }
    }

    #[test]
    fn login_then_pages() {
        // entry: (start, end) in ms
        let t = |s: f64, e: f64| Some((s, e));
        let timings = vec![
            t(0.0, 100.0),           // 0 GET /app/ (document)
            t(120.0, 130.0),         // 1 image, dropped
            t(2_000.0, 2_200.0),     // 2 POST login
            t(2_250.0, 2_300.0),     // 3 GET projects
            t(4_000.0, 4_100.0),     // 4 GET /app/projects/20/ (document)
            t(4_150.0, 4_200.0),     // 5 GET /api/projects/20/
            t(200_000.0, 200_100.0), // 6 POST /api/tasks/ after a long pause
        ];
        let calls = vec![
            call(0, "GET", "/app/", true, "p1"),
            call(2, "POST", "/api/login/", false, "p1"),
            call(3, "GET", "/api/projects/", false, "p1"),
            call(4, "GET", "/app/projects/20/", true, "p1"),
            call(5, "GET", "/api/projects/20/", false, "p1"),
            call(6, "POST", "/api/tasks/", false, "p1"),
        ];
        let j = plan(&calls, &timings, Some(1));
        assert_eq!(
            j.on_start,
            vec![Step::Request(0), sleep(1900), Step::Request(1)]
        );
        assert_eq!(j.tasks.len(), 2);
        assert_eq!(j.tasks[0].name, "projects");
        assert_eq!(j.tasks[0].steps, vec![Step::Request(2)]);
        assert_eq!(j.tasks[1].name, "projects_detail");
        assert_eq!(
            j.tasks[1].steps,
            vec![
                sleep(1700),
                Step::Request(3),
                Step::Request(4),
                Step::Sleep {
                    ms: THINK_MAX_MS,
                    recorded: Some(195_800)
                },
                Step::Request(5),
            ]
        );
    }

    #[test]
    fn without_a_login_everything_is_a_task() {
        let calls = vec![
            call(0, "GET", "/api/a/", false, "p1"),
            call(1, "GET", "/api/b/", false, "p2"),
        ];
        let j = plan(&calls, &[None, None], None);
        assert!(j.on_start.is_empty());
        assert_eq!(
            j.tasks.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        // A login that is the last request stays in the tasks: a class needs one.
        let j = plan(&calls, &[None, None], Some(1));
        assert!(j.on_start.is_empty());
        assert_eq!(j.tasks.len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_text(1500), "1.5s");
        assert_eq!(duration_text(800), "800ms");
        assert_eq!(duration_text(2000), "2s");
        assert_eq!(duration_text(60_000), "60s");
    }
}
