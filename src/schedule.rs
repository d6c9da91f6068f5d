//! The load schedule as a value: how many users should exist, and which arrivals are due, as
//! functions of run time. Pure arithmetic with no clock, so that it can be tested exactly and
//! split into segments: the runtime asks it what to do and when to look again.
//!
//! Three load models:
//! - **closed** (`users` + `spawn_rate`): a [`Ramp`] from the current population to a target,
//!   the first user at once and then one every `1/rate` seconds, as Locust does;
//! - **stages**: linear ramps and holds ([`Stage`]), the user count rounded to the nearest;
//! - **open** (`arrival_rate`): iteration `g` is due at `g / rate` seconds, whatever the server
//!   does, run by an idle user of a pool of at most `max_users`.
//!
//! Every quantity is *global*: the population of the whole run. A [`Segment`] says which part
//! of it one runner owns (arrival ids, user slots, data rows), so that N runners together do
//! exactly what one would.
//!
//! Live changes (a web UI or a controller editing users while a run goes, see
//! [`Schedule::retarget`]):
//! - closed: a new ramp from the current count to the new target at the new rate;
//! - stages: the run switches to the closed model with a fixed count (the remaining stages are
//!   dropped), and the change says so;
//! - open: the arrival rate is kept; the users edited are the cap of concurrent users
//!   (`max_users`); the spawn rate does not apply.

use std::time::Duration;

use crate::ir::Stage;

/// The load model of a run, as a function of run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// A fixed user count reached at a spawn rate (Locust's `-u`/`-r`).
    Closed(Ramp),
    /// A user count that follows ramps and holds; `None` once they are over (the run ends).
    Stages(Vec<Stage>),
    /// Iterations started at a fixed rate by a pool of users.
    Open(ArrivalRate),
}

/// From `from` users at run time `at`, towards `to` users at `rate` users per second: the
/// first change happens at `at` itself, the next ones every `1/rate` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    pub at: Duration,
    pub from: u32,
    pub to: u32,
    pub rate: f64,
}

/// The open model: `rate` iterations per second, at most `max_users` users busy at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrivalRate {
    pub rate: f64,
    pub max_users: u32,
}

/// What a live change of the user count did, in words for the person who asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Retarget {
    pub schedule: Schedule,
    pub message: String,
}

/// Tolerance for floating-point time arithmetic (a nanosecond of run time).
/// Tolerance for floating-point arithmetic on step counts (a millionth of a step), so that a
/// change computed for an instant has happened at that instant.
const EPSILON: f64 = 1e-6;

impl Ramp {
    /// A ramp starting from no users at time zero.
    pub fn new(users: u32, rate: f64) -> Ramp {
        Ramp {
            at: Duration::ZERO,
            from: 0,
            to: users,
            rate,
        }
    }

    /// Changes made by time `t` (inclusive): 0 before `at`, 1 at `at`, then one more every
    /// `1/rate` seconds, at most `|to - from|`.
    fn steps(&self, t: Duration) -> u32 {
        if t < self.at || self.from == self.to {
            return 0;
        }
        let total = self.from.abs_diff(self.to);
        let elapsed = (t - self.at).as_secs_f64();
        let done = 1.0 + (elapsed * self.rate + EPSILON).floor();
        if done >= f64::from(total) {
            total
        } else {
            done as u32
        }
    }

    /// The users the ramp asks for at run time `t`.
    pub fn users_at(&self, t: Duration) -> u32 {
        let steps = self.steps(t);
        if self.to >= self.from {
            self.from + steps
        } else {
            self.from - steps
        }
    }

    /// The first run time after `t` at which the count changes, if it still does.
    pub fn next_change_after(&self, t: Duration) -> Option<Duration> {
        let total = self.from.abs_diff(self.to);
        let done = self.steps(t);
        if done >= total {
            return None;
        }
        if t < self.at {
            return Some(self.at);
        }
        // Change number j (0-based) happens at `at + j / rate`; `done` of them have happened
        // by `t`, so the next is number `done`.
        Some(self.at + secs(f64::from(done) / self.rate))
    }
}

impl ArrivalRate {
    /// When arrival `g` (0-based, global) is due: `g / rate` seconds into the run.
    pub fn due(&self, g: u64) -> Duration {
        secs(g as f64 / self.rate)
    }

    /// Arrivals due by run time `t` (inclusive): the first `n` arrivals, `0..n`.
    pub fn due_by(&self, t: Duration) -> u64 {
        (t.as_secs_f64() * self.rate + EPSILON).floor() as u64 + 1
    }
}

impl Schedule {
    /// The model a plan's load profile and the options give (see `session::config`).
    pub fn closed(users: u32, spawn_rate: f64) -> Schedule {
        Schedule::Closed(Ramp::new(users, spawn_rate))
    }

    /// The users (global, all segments) the schedule asks for at run time `t`; for the open
    /// model, the cap of the user pool.
    pub fn users_at(&self, t: Duration) -> u32 {
        match self {
            Schedule::Closed(ramp) => ramp.users_at(t),
            Schedule::Stages(stages) => stage_users(stages, t),
            Schedule::Open(a) => a.max_users,
        }
    }

    /// The first run time after `t` at which [`users_at`](Self::users_at) changes, if any.
    pub fn next_change_after(&self, t: Duration) -> Option<Duration> {
        match self {
            Schedule::Closed(ramp) => ramp.next_change_after(t),
            Schedule::Stages(stages) => stage_next_change(stages, t),
            Schedule::Open(_) => None,
        }
    }

    /// The run time the schedule itself ends at (stages); `None` when it runs until stopped.
    pub fn natural_end(&self) -> Option<Duration> {
        match self {
            Schedule::Stages(stages) => Some(stages.iter().map(stage_length).sum()),
            _ => None,
        }
    }

    /// The highest user count the schedule can reach (the peak a report names).
    pub fn peak_users(&self) -> u32 {
        match self {
            Schedule::Closed(r) => r.from.max(r.to),
            Schedule::Stages(stages) => stages
                .iter()
                .filter_map(|s| match s {
                    Stage::Ramp { to, .. } => Some(*to),
                    Stage::Hold(_) => None,
                })
                .max()
                .unwrap_or(0),
            Schedule::Open(a) => a.max_users,
        }
    }

    /// The schedule after a controller asked for `users` at `spawn_rate` at run time `now`,
    /// `current` users running. See the module documentation for the rule of each model.
    pub fn retarget(&self, now: Duration, current: u32, users: u32, spawn_rate: f64) -> Retarget {
        let ramp = |message: String| Retarget {
            schedule: Schedule::Closed(Ramp {
                at: now,
                from: current,
                to: users,
                rate: spawn_rate,
            }),
            message,
        };
        match self {
            Schedule::Closed(_) => ramp(format!(
                "changing to {users} {} at {} per second",
                plural(users, "user", "users"),
                rate_text(spawn_rate)
            )),
            Schedule::Stages(_) => ramp(format!(
                "stages replaced by a fixed count: {users} {} at {} per second; the remaining \
                 stages will not run",
                plural(users, "user", "users"),
                rate_text(spawn_rate)
            )),
            Schedule::Open(a) => Retarget {
                schedule: Schedule::Open(ArrivalRate {
                    rate: a.rate,
                    max_users: users,
                }),
                message: format!(
                    "arrival rate {}/s kept; at most {users} {} busy at once (the spawn rate does \
                     not apply to the open model)",
                    rate_text(a.rate),
                    plural(users, "user", "users")
                ),
            },
        }
    }
}

fn plural<'a>(n: u32, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A rate for people: `10`, `0.5`, `2.25`.
fn rate_text(rate: f64) -> String {
    let text = format!("{rate:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

fn stage_length(s: &Stage) -> Duration {
    match *s {
        Stage::Ramp { over, .. } => over,
        Stage::Hold(d) => d,
    }
}

/// The user count the stages ask for at `t`: linear within a ramp, rounded to the nearest.
pub fn stage_users(stages: &[Stage], t: Duration) -> u32 {
    let mut start = Duration::ZERO;
    let mut users = 0u32;
    for s in stages {
        match *s {
            Stage::Ramp { to, over } => {
                if t < start + over {
                    let f = (t - start).as_secs_f64() / over.as_secs_f64().max(EPSILON);
                    return (f64::from(users) + (f64::from(to) - f64::from(users)) * f).round()
                        as u32;
                }
                users = to;
                start += over;
            }
            Stage::Hold(d) => {
                if t < start + d {
                    return users;
                }
                start += d;
            }
        }
    }
    users
}

/// The first time after `t` at which [`stage_users`] changes.
fn stage_next_change(stages: &[Stage], t: Duration) -> Option<Duration> {
    let now = stage_users(stages, t);
    let mut start = Duration::ZERO;
    let mut from = 0u32;
    for s in stages {
        let end = start + stage_length(s);
        if let Stage::Ramp { to, over } = *s {
            if over.is_zero() {
                // A jump, applied at `start` itself.
                if start > t && to != now {
                    return Some(start);
                }
            } else if end > t && to != now {
                // Within this ramp the count is round(from + (to - from) * f): it changes
                // where the straight line crosses the next half-integer. `round` goes up at
                // .5 exactly; one nanosecond past the crossing the count has changed.
                let (a, b) = (f64::from(from), f64::from(to));
                let target = if b > a {
                    f64::from(now) + 0.5
                } else {
                    f64::from(now) - 0.5
                };
                let f = ((target - a) / (b - a)).clamp(0.0, 1.0);
                let at = start + secs(f * over.as_secs_f64()) + Duration::from_nanos(1);
                if at > t && at < end {
                    return Some(at);
                }
                // The last step lands on the stage's end.
                return Some(end.max(t + Duration::from_nanos(1)));
            }
            from = to;
        }
        start = end;
    }
    None
}

/// Which share of a run one runner owns: segment `index` (0-based) of `count`.
///
/// Global ids are striped: arrival `g` belongs to segment `g mod count`; user slots are
/// striped per class (the k-th user of class `c` belongs to `(k + c) mod count`), so every
/// runner gets the class mix and the union is the single-machine population; `unique` data
/// rows `r` belong to `r mod count`. Integer quantities (a user cap) are shared as
/// `floor(v / count)` plus one for the first `v mod count` segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Default for Segment {
    fn default() -> Segment {
        Segment::WHOLE
    }
}

impl Segment {
    /// The whole run (one runner).
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Segment `index` (0-based) of `count`; `None` unless `index < count`.
    pub fn new(index: u32, count: u32) -> Option<Segment> {
        (index < count).then_some(Segment { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Whether global arrival `g` is this segment's.
    pub fn owns_arrival(self, g: u64) -> bool {
        g % u64::from(self.count) == u64::from(self.index)
    }

    /// The first arrival id at or after `g` that this segment owns.
    pub fn next_owned_arrival(self, g: u64) -> u64 {
        let n = u64::from(self.count);
        let i = u64::from(self.index);
        let base = g - g % n;
        if base + i >= g {
            base + i
        } else {
            base + n + i
        }
    }

    /// Whether the `k`-th user (0-based) of class `class` is this segment's.
    pub fn owns_user(self, class: usize, k: u64) -> bool {
        (k + class as u64) % u64::from(self.count) == u64::from(self.index)
    }

    /// This segment's share of an integer quantity `v` (all shares sum to `v`, and a
    /// segment's share never shrinks when `v` grows).
    pub fn share(self, v: u32) -> u32 {
        v / self.count + u32::from(self.index < v % self.count)
    }

    /// The global row of the `k`-th `unique` row this segment takes (0-based).
    pub fn unique_row(self, k: usize) -> usize {
        k * self.count as usize + self.index as usize
    }

    /// `I/N` with I 1-based, as users write it.
    pub fn label(self) -> String {
        format!("{}/{}", self.index + 1, self.count)
    }
}

impl std::str::FromStr for Segment {
    type Err = String;

    /// `I/N`, I from 1 to N.
    fn from_str(s: &str) -> Result<Segment, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a segment like 2/3"))?;
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: the segment number is not a whole number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{s}`: the segment count is not a whole number"))?;
        if n == 0 || i == 0 || i > n {
            return Err(format!(
                "`{s}`: the segment must be 1 to {n} of {n} (written I/N, I from 1)"
            ));
        }
        Ok(Segment {
            index: i - 1,
            count: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Every change of a schedule between 0 and `end`, found only through
    /// `next_change_after`, as (time, users) pairs.
    fn changes(s: &Schedule, end: Duration) -> Vec<(Duration, u32)> {
        let mut out = vec![(Duration::ZERO, s.users_at(Duration::ZERO))];
        let mut t = Duration::ZERO;
        while let Some(next) = s.next_change_after(t) {
            assert!(next > t, "next change {next:?} not after {t:?}");
            if next > end {
                break;
            }
            out.push((next, s.users_at(next)));
            t = next;
        }
        out
    }

    #[test]
    fn a_ramp_starts_its_first_user_at_once() {
        let s = Schedule::closed(3, 1.0);
        assert_eq!(s.users_at(Duration::ZERO), 1);
        assert_eq!(s.users_at(ms(999)), 1);
        assert_eq!(s.users_at(ms(1000)), 2);
        assert_eq!(s.users_at(ms(2000)), 3);
        assert_eq!(s.users_at(ms(60_000)), 3);
        assert_eq!(
            changes(&s, ms(10_000)),
            vec![(ms(0), 1), (ms(1000), 2), (ms(2000), 3)]
        );
    }

    #[test]
    fn fractional_rates() {
        // 0.5 users per second: at 0, 2 s and 4 s.
        let s = Schedule::closed(3, 0.5);
        assert_eq!(
            changes(&s, ms(10_000)),
            vec![(ms(0), 1), (ms(2000), 2), (ms(4000), 3)]
        );
        // 3 per second: every third of a second, no drift after many steps.
        let s = Schedule::closed(301, 3.0);
        assert_eq!(s.users_at(secs(100.0)), 301);
        assert_eq!(s.users_at(secs(99.999)), 300);
        let all = changes(&s, secs(200.0));
        assert_eq!(all.len(), 301);
        assert_eq!(all[300], (secs(100.0), 301));
    }

    #[test]
    fn a_change_of_target_mid_run_ramps_from_the_current_count() {
        let s = Schedule::closed(10, 2.0);
        assert_eq!(s.users_at(ms(2000)), 5);
        let down = s.retarget(ms(2000), 5, 2, 1.0);
        assert!(
            down.message.contains("changing to 2 users"),
            "{}",
            down.message
        );
        let d = &down.schedule;
        assert_eq!(d.users_at(ms(2000)), 4, "the first step at once");
        assert_eq!(d.users_at(ms(3000)), 3);
        assert_eq!(d.users_at(ms(4000)), 2);
        assert_eq!(d.users_at(ms(9000)), 2);
        assert_eq!(d.next_change_after(ms(4000)), None);
        let up = d.retarget(ms(5000), 2, 4, 10.0);
        assert_eq!(
            changes(&up.schedule, ms(9000))[1..],
            [(ms(5000), 3), (ms(5100), 4)]
        );
        // Asking for what is running changes nothing.
        let same = d.retarget(ms(5000), 2, 2, 1.0).schedule;
        assert_eq!(same.next_change_after(ms(5000)), None);
        assert_eq!(same.users_at(ms(5000)), 2);
    }

    #[test]
    fn stages_ramp_hold_and_ramp_down() {
        let stages = vec![
            Stage::Ramp {
                to: 10,
                over: ms(10_000),
            },
            Stage::Hold(ms(5_000)),
            Stage::Ramp {
                to: 0,
                over: ms(5_000),
            },
        ];
        let s = Schedule::Stages(stages);
        assert_eq!(s.users_at(ms(0)), 0);
        assert_eq!(s.users_at(ms(5000)), 5);
        assert_eq!(s.users_at(ms(12_000)), 10);
        assert_eq!(s.users_at(ms(17_500)), 5);
        assert_eq!(s.users_at(ms(30_000)), 0);
        assert_eq!(s.natural_end(), Some(ms(20_000)));
        assert_eq!(s.peak_users(), 10);
        let all = changes(&s, ms(30_000));
        // Up one at a time to 10, then down one at a time to 0: 20 changes.
        assert_eq!(all.len(), 21, "{all:?}");
        for pair in all.windows(2) {
            assert_eq!(pair[0].1.abs_diff(pair[1].1), 1, "{all:?}");
        }
        // Each change happens exactly where the line crosses a half.
        assert_eq!(all[1], (ms(500) + Duration::from_nanos(1), 1));
        assert_eq!(all[10].1, 10);
        assert!(all[10].0 < ms(10_000));
        assert_eq!(all[20].1, 0);
        assert!(all[20].0 <= ms(20_000));
    }

    #[test]
    fn editing_users_during_stages_switches_to_a_fixed_count() {
        let s = Schedule::Stages(vec![Stage::Ramp {
            to: 100,
            over: ms(100_000),
        }]);
        let r = s.retarget(ms(10_000), 10, 20, 5.0);
        assert!(r.message.starts_with("stages replaced by a fixed count"));
        assert_eq!(r.schedule.users_at(ms(10_000)), 11);
        assert_eq!(r.schedule.users_at(ms(500_000)), 20);
        assert_eq!(r.schedule.natural_end(), None);
    }

    #[test]
    fn arrivals_are_due_from_time_zero() {
        let a = ArrivalRate {
            rate: 4.0,
            max_users: 10,
        };
        assert_eq!(a.due(0), Duration::ZERO);
        assert_eq!(a.due(1), ms(250));
        assert_eq!(a.due(4), ms(1000));
        assert_eq!(a.due_by(Duration::ZERO), 1);
        assert_eq!(a.due_by(ms(249)), 1);
        assert_eq!(a.due_by(ms(250)), 2);
        assert_eq!(a.due_by(ms(1000)), 5);
        // Fractional rate: one every 2 s.
        let slow = ArrivalRate {
            rate: 0.5,
            max_users: 1,
        };
        assert_eq!(slow.due(3), ms(6000));
        assert_eq!(slow.due_by(ms(5999)), 3);
        // A change of users in the open model changes the cap, not the rate.
        let r = Schedule::Open(a).retarget(ms(1000), 3, 7, 1.0);
        assert_eq!(
            r.schedule,
            Schedule::Open(ArrivalRate {
                rate: 4.0,
                max_users: 7
            })
        );
        assert!(r.message.contains("spawn rate does not apply"));
    }

    #[test]
    fn segments_split_arrivals_users_shares_and_rows_exactly() {
        for count in 1..=7u32 {
            let segments: Vec<Segment> = (0..count)
                .map(|i| Segment::new(i, count).unwrap())
                .collect();
            for g in 0..200u64 {
                let owners = segments.iter().filter(|s| s.owns_arrival(g)).count();
                assert_eq!(owners, 1, "arrival {g} of {count}");
            }
            for s in &segments {
                let mut g = 0;
                let mut owned = Vec::new();
                while g < 50 {
                    g = s.next_owned_arrival(g);
                    owned.push(g);
                    g += 1;
                }
                let expected: Vec<u64> = (0..g).filter(|g| s.owns_arrival(*g)).collect();
                assert_eq!(owned, expected);
            }
            for class in 0..3 {
                for k in 0..100 {
                    let owners = segments.iter().filter(|s| s.owns_user(class, k)).count();
                    assert_eq!(owners, 1);
                }
            }
            for v in 0..100 {
                let shares: Vec<u32> = segments.iter().map(|s| s.share(v)).collect();
                assert_eq!(shares.iter().sum::<u32>(), v);
                for s in &segments {
                    assert!(s.share(v + 1) >= s.share(v), "monotone");
                }
            }
            let mut rows: Vec<usize> = segments
                .iter()
                .flat_map(|s| (0..10).map(move |k| s.unique_row(k)))
                .collect();
            rows.sort_unstable();
            assert_eq!(rows, (0..10 * count as usize).collect::<Vec<_>>());
        }
    }

    #[test]
    fn segments_parse_one_based() {
        assert_eq!("2/3".parse(), Ok(Segment { index: 1, count: 3 }));
        assert_eq!(Segment { index: 1, count: 3 }.label(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Segment>().is_err(), "{bad}");
        }
    }
}
