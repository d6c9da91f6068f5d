//! The error report, bounded: failures are grouped by what failed (request, kind, message),
//! a few examples of what differed are kept per group, and past a fixed number of groups the
//! rest is counted in one "other" row. Memory stays flat however long the run and however
//! many distinct values a failing check sees.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::sample::{Failure, FailureKind, StatId, StatKey};
use super::summary::FailureSummary;

/// Most groups kept; later distinct failures go to the "other" row.
pub const MAX_GROUPS: usize = 250;
/// Distinct examples of the varying part kept per group.
pub const MAX_EXAMPLES: usize = 3;
/// Longest example kept, in bytes (cut at a character boundary, marked with `…`).
pub const MAX_EXAMPLE_LEN: usize = 200;

/// Failures of one request with one kind and message.
#[derive(Debug, Clone)]
struct Group {
    stat: Option<StatId>,
    kind: FailureKind,
    message: String,
    occurrences: u64,
    first_ms: u64,
    last_ms: u64,
    examples: Vec<String>,
    /// Occurrences whose detail is not among `examples`.
    other_values: u64,
}

impl Group {
    fn new(stat: Option<StatId>, kind: FailureKind, message: String, ms: u64) -> Group {
        Group {
            stat,
            kind,
            message,
            occurrences: 0,
            first_ms: ms,
            last_ms: ms,
            examples: Vec::new(),
            other_values: 0,
        }
    }

    fn count(&mut self, ms: u64, n: u64, detail: Option<&str>) {
        self.occurrences += n;
        self.first_ms = self.first_ms.min(ms);
        self.last_ms = self.last_ms.max(ms);
        if let Some(detail) = detail {
            if self.examples.iter().any(|e| e == detail) {
                return;
            }
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(cut(detail));
            } else {
                self.other_values += n;
            }
        }
    }
}

/// A value shortened to [`MAX_EXAMPLE_LEN`] bytes.
pub fn cut(text: &str) -> String {
    if text.len() <= MAX_EXAMPLE_LEN {
        return text.to_string();
    }
    let end = (0..=MAX_EXAMPLE_LEN)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &text[..end])
}

/// Every failure of a run, grouped and bounded.
#[derive(Debug, Clone, Default)]
pub(crate) struct FailureBook {
    groups: Vec<Group>,
    /// (stat, kind) → message → index into `groups`; nested so a look-up needs no owned key.
    index: HashMap<(StatId, FailureKind), HashMap<String, usize>>,
    /// Everything past [`MAX_GROUPS`].
    other: Option<Group>,
}

impl FailureBook {
    /// Counts one failure of request `stat` completed `ms` after the start.
    pub(crate) fn add(&mut self, stat: StatId, failure: &Failure, ms: u64) {
        let message = if failure.message.is_empty() {
            failure.kind.to_string()
        } else {
            failure.message.clone()
        };
        self.add_group(
            Some(stat),
            failure.kind,
            message,
            ms,
            1,
            failure.detail.as_deref(),
        );
    }

    fn add_group(
        &mut self,
        stat: Option<StatId>,
        kind: FailureKind,
        message: String,
        ms: u64,
        n: u64,
        detail: Option<&str>,
    ) {
        let Some(stat) = stat else {
            self.count_other(ms, n);
            return;
        };
        let by_message = self.index.entry((stat, kind)).or_default();
        if let Some(&i) = by_message.get(&message) {
            self.groups[i].count(ms, n, detail);
            return;
        }
        if self.groups.len() >= MAX_GROUPS {
            self.count_other(ms, n);
            return;
        }
        by_message.insert(message.clone(), self.groups.len());
        let mut group = Group::new(Some(stat), kind, message, ms);
        group.count(ms, n, detail);
        self.groups.push(group);
    }

    fn count_other(&mut self, ms: u64, n: u64) {
        self.other
            .get_or_insert_with(|| {
                Group::new(
                    None,
                    FailureKind::Other,
                    format!(
                        "failures beyond the first {MAX_GROUPS} distinct rows (their kinds are \
                         counted in the errors by kind)"
                    ),
                    ms,
                )
            })
            .count(ms, n, None);
    }

    /// The rows of the error report, most frequent first, then by method, name and message;
    /// the "other" row last.
    pub(crate) fn summaries(
        &self,
        keys: &[StatKey],
        started_at: DateTime<Utc>,
    ) -> Vec<FailureSummary> {
        let row = |g: &Group| {
            let key = g.stat.and_then(|s| keys.get(s as usize));
            FailureSummary {
                method: key.map_or_else(String::new, |k| k.method.clone()),
                name: key.map_or_else(|| OTHER_NAME.to_string(), |k| k.name.clone()),
                kind: g.kind,
                message: g.message.clone(),
                examples: g.examples.clone(),
                other_values: g.other_values,
                occurrences: g.occurrences,
                first_seen: at(started_at, g.first_ms),
                last_seen: at(started_at, g.last_ms),
            }
        };
        let mut rows: Vec<FailureSummary> = self.groups.iter().map(row).collect();
        sort(&mut rows);
        rows.extend(self.other.iter().map(row));
        rows
    }
}

/// Name of the row that counts the failures past [`MAX_GROUPS`].
pub const OTHER_NAME: &str = "(other failures)";

/// Sorts rows like the error report: most frequent first, then by method, name and message;
/// the "other" row last.
pub fn sort(rows: &mut [FailureSummary]) {
    rows.sort_by(|a, b| {
        (a.name == OTHER_NAME)
            .cmp(&(b.name == OTHER_NAME))
            .then_with(|| b.occurrences.cmp(&a.occurrences))
            .then_with(|| (&a.method, &a.name, &a.message).cmp(&(&b.method, &b.name, &b.message)))
    });
}

/// Merges the error reports of parts of one run (segments): groups with the same request,
/// kind and message add up, examples are pooled (at most [`MAX_EXAMPLES`]), and the bound on
/// rows still holds.
pub fn merge(parts: &[&[FailureSummary]]) -> Vec<FailureSummary> {
    let mut rows: Vec<FailureSummary> = Vec::new();
    let mut index: HashMap<(String, String, FailureKind, String), usize> = HashMap::new();
    for part in parts {
        for f in part.iter() {
            let key = (f.method.clone(), f.name.clone(), f.kind, f.message.clone());
            match index.get(&key) {
                Some(&i) => {
                    let row = &mut rows[i];
                    row.occurrences += f.occurrences;
                    row.first_seen = row.first_seen.min(f.first_seen);
                    row.last_seen = row.last_seen.max(f.last_seen);
                    row.other_values += f.other_values;
                    for e in &f.examples {
                        if row.examples.contains(e) {
                            continue;
                        }
                        if row.examples.len() < MAX_EXAMPLES {
                            row.examples.push(e.clone());
                        } else {
                            // Not knowing how many failures had that value, count one.
                            row.other_values += 1;
                        }
                    }
                }
                None => {
                    index.insert(key, rows.len());
                    rows.push(f.clone());
                }
            }
        }
    }
    sort(&mut rows);
    let others: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| *i >= MAX_GROUPS || r.name == OTHER_NAME)
        .map(|(i, _)| i)
        .collect();
    if others.len() > 1 || others.first().is_some_and(|i| rows[*i].name != OTHER_NAME) {
        let folded: Vec<FailureSummary> = others.iter().rev().map(|&i| rows.remove(i)).collect();
        let mut other = FailureSummary {
            method: String::new(),
            name: OTHER_NAME.to_string(),
            kind: FailureKind::Other,
            message: format!(
                "failures beyond the first {MAX_GROUPS} distinct rows (their kinds are counted \
                 in the errors by kind)"
            ),
            examples: Vec::new(),
            other_values: 0,
            occurrences: 0,
            first_seen: folded[0].first_seen,
            last_seen: folded[0].last_seen,
        };
        for f in &folded {
            other.occurrences += f.occurrences;
            other.first_seen = other.first_seen.min(f.first_seen);
            other.last_seen = other.last_seen.max(f.last_seen);
        }
        rows.push(other);
    }
    rows
}

/// The wall-clock time `elapsed_ms` after `started_at`.
pub(crate) fn at(started_at: DateTime<Utc>, elapsed_ms: u64) -> DateTime<Utc> {
    let delta = TimeDelta::try_milliseconds(i64::try_from(elapsed_ms).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::MAX);
    started_at.checked_add_signed(delta).unwrap_or(started_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<StatKey> {
        (0..400)
            .map(|i| StatKey::new("GET", format!("/r{i}")))
            .collect()
    }

    #[test]
    fn a_check_that_sees_a_new_value_every_time_stays_one_row() {
        let mut book = FailureBook::default();
        for i in 0..100_000u64 {
            let f = Failure::check("`jsonpath \"$.id\" == 1`").with_detail(format!("got {i}"));
            book.add(0, &f, i);
        }
        let rows = book.summaries(&keys(), Utc::now());
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.occurrences, 100_000);
        assert_eq!(r.examples, ["got 0", "got 1", "got 2"]);
        assert_eq!(r.other_values, 99_997);
        assert_eq!(
            r.error_text(),
            "check failed: `jsonpath \"$.id\" == 1`: got 0 | got 1 | got 2 (and 99997 more)"
        );
    }

    #[test]
    fn rows_are_bounded_and_the_rest_is_counted() {
        let mut book = FailureBook::default();
        for i in 0..1000u32 {
            let f = Failure::new(FailureKind::Http5xx, format!("HTTP 500 on {i}"));
            book.add(i % 400, &f, u64::from(i));
        }
        let rows = book.summaries(&keys(), Utc::now());
        assert_eq!(rows.len(), MAX_GROUPS + 1);
        let other = rows.last().unwrap();
        assert_eq!(other.name, OTHER_NAME);
        assert_eq!(other.occurrences, 1000 - MAX_GROUPS as u64);
        assert_eq!(rows.iter().map(|r| r.occurrences).sum::<u64>(), 1000);
    }

    #[test]
    fn examples_are_cut() {
        let long = "é".repeat(500);
        let c = cut(&long);
        assert!(c.len() <= MAX_EXAMPLE_LEN + '…'.len_utf8());
        assert!(c.ends_with('…'));
    }

    #[test]
    fn merging_parts_adds_rows_and_keeps_the_bound() {
        let mut a = FailureBook::default();
        let mut b = FailureBook::default();
        for i in 0..200u32 {
            a.add(i, &Failure::http(500), 1);
            b.add(i + 100, &Failure::http(500), 2);
        }
        let t0 = Utc::now();
        let (ra, rb) = (a.summaries(&keys(), t0), b.summaries(&keys(), t0));
        let merged = merge(&[&ra, &rb]);
        assert_eq!(merged.len(), MAX_GROUPS + 1);
        assert_eq!(merged.iter().map(|r| r.occurrences).sum::<u64>(), 400);
        assert_eq!(
            merged[0].occurrences, 2,
            "requests 100..200 failed in both parts"
        );
    }
}
