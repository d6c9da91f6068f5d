//! Load profiles: stages move the user count over time; an arrival rate starts tasks on a
//! schedule, drops what finds no free user, and times requests from when they were due.
//!
//! These runs last their planned time (a few seconds), so their checks are about counts and
//! shapes with a stated tolerance, never about how long something took.

use super::support::{Scenario, TestServer};

#[test]
fn stages_ramp_users_up_and_back_down() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
load {
  stages {
    ramp to 10 over 2s
    hold 2s
    ramp to 0 over 1s
    hold 2s
  }
}

user Walker {
  wait constant 50ms

  task walk {
    GET "/walk"
  }
}
"#,
    );
    let finished = scenario.run(&["-H", &server.url()]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let users = finished.users_over_time();
    // One point about every second: about 5, 10, 10, 10, 0, 0, 0. Timing decides the exact
    // values on the slopes, so the checks only need the shape: up, 10 at the top, and
    // down to 0 before the run's final point. Each hold lasts two seconds so that at least
    // one point falls well inside it.
    let peak = users.iter().position(|u| *u == 10);
    let peak = peak.unwrap_or_else(|| panic!("never reached 10 users: {users:?}"));
    assert!(users.iter().all(|u| *u <= 10), "{users:?}");
    assert!(
        users[..peak].iter().any(|u| (1..10).contains(u)),
        "no point on the way up: {users:?}"
    );
    let last_top = users.iter().rposition(|u| *u == 10).unwrap();
    let before_end = &users[last_top + 1..users.len() - 1];
    assert!(
        before_end.contains(&0),
        "users did not go back to 0 during the last hold: {users:?}"
    );
    assert_eq!(users.last(), Some(&0), "{users:?}");
}

#[test]
fn an_arrival_rate_drops_what_no_user_can_take() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
load {
  arrival_rate 20/s
  max_users 5
  run_time 3s
}

user Visitor {
  task slow {
    GET "/sleep/1000"
  }
}
"#,
    );
    // A stop timeout lets the last tasks finish, so every started task is counted.
    let finished = scenario.run(&["-H", &server.url(), "-s", "5s"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let started = finished.requests("/sleep/1000");
    let dropped = finished.json()["dropped_iterations"].as_u64().unwrap();
    assert_eq!(started as usize, server.count("/sleep/1000"));
    // Five users busy for a second each cannot take 20 tasks a second.
    assert!(dropped > 0, "{}", finished.text());
    assert!(started >= 5, "{}", finished.text());
    // Every due task was either started or dropped: 20/s × 3 s = 60 (arrivals at 0, 50 ms,
    // ..., 2950 ms; one at 3000 ms may or may not come before the run's end).
    let scheduled = started + dropped;
    assert!(
        (60..=61).contains(&scheduled),
        "{started} started + {dropped} dropped"
    );
    assert!(
        finished
            .stdout
            .contains(&format!("Dropped iterations: {dropped} ")),
        "{}",
        finished.text()
    );
    // Nothing was faster than the server's sleep.
    let entry = finished.entry("/sleep/1000");
    assert!(
        entry["latency_min_us"].as_u64().unwrap() >= 1_000_000,
        "{entry}"
    );
}

#[test]
fn an_arrival_rate_times_requests_from_their_send_and_from_their_intended_start() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
load {
  arrival_rate 10/s
  max_users 10
  run_time 2s
}

user Visitor {
  task late {
    sleep 300ms
    GET "/first"
  }
}
"#,
    );
    let finished = scenario.run(&["-H", &server.url(), "-s", "5s"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert!(finished.requests("/first") > 0, "{}", finished.text());
    // The server answers at once: the response time is short, and the scenario's own 300 ms
    // sleep is not charged to the server in either view.
    let entry = finished.entry("/first");
    let max = entry["latency_max_us"].as_u64().unwrap();
    assert!(max < 300_000, "{entry}");
    // Each arrival was due on the schedule and started on time: the latency from the
    // intended start is there, and barely longer.
    let corrected = kload::metrics::LatencyHistogram::from_base64(
        entry["corrected"].as_str().expect("a corrected histogram"),
    )
    .unwrap();
    assert_eq!(corrected.len(), finished.requests("/first"));
    assert!(corrected.max() < 300_000, "{}", corrected.max());
    assert!(
        finished.stdout.contains("Latency from the intended start"),
        "{}",
        finished.text()
    );
}

#[test]
fn an_arrival_rate_with_a_unique_feed_creates_only_the_users_it_has_rows_for() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
data accounts from "accounts.csv" unique

load {
  arrival_rate 20/s
  max_users 5
  run_time 2s
}

user Member {
  on start {
    GET "/login" {
      query name: "{{ accounts.username }}"
    }
  }

  task slow {
    GET "/sleep/1000"
  }
}
"#,
    )
    .with_file("accounts.csv", "username\nada\nbob\ncy\n");
    let finished = scenario.run(&["-H", &server.url(), "-s", "5s"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let mut names: Vec<String> = server
        .hits("/login")
        .iter()
        .map(|h| h.param("name").unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["ada", "bob", "cy"]);
    // Of the five users allowed, the two without a row are reported once each...
    assert!(
        finished.stdout.contains(
            "warning: the numbers are suspect: data feed `accounts` has no rows left (3 rows, mode unique): a user of Member was not started (2×)"
        ),
        "{}",
        finished.text()
    );
    // ...and every due task was started or counted as dropped (20/s × 2 s = 40, ±10% as
    // above).
    let started = finished.requests("/sleep/1000");
    let dropped = finished.json()["dropped_iterations"].as_u64().unwrap();
    assert!(
        (36..=44).contains(&(started + dropped)),
        "{started} started + {dropped} dropped"
    );
}

#[test]
fn arrival_rate_users_run_on_stop_together() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
load {
  arrival_rate 10/s
  max_users 3
  run_time 1s
}

user Visitor {
  on stop {
    GET "/sleep/1000" {
      name "log out"
      query user: "{{ user_id() }}"
    }
  }

  task busy {
    GET "/sleep/300"
  }
}
"#,
    );
    let finished = scenario.run(&["-H", &server.url()]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    // A task a tenth of a second that lasts three tenths keeps three users busy.
    let logouts = server.hits("/sleep/1000");
    assert_eq!(logouts.len(), 3, "{logouts:?}");
    assert_eq!(finished.requests("log out"), 3, "{}", finished.text());
    // Every user's on stop was sent before any was answered: they stop together, as in
    // the closed model, not one after the other.
    let last_sent = logouts.iter().map(|h| h.arrived).max().unwrap();
    let first_answered = logouts.iter().filter_map(|h| h.answered).min().unwrap();
    assert!(last_sent < first_answered, "{logouts:?}");
}

#[test]
fn a_ramp_starts_its_first_user_at_once_and_the_next_every_one_over_rate() {
    // Locust's spawning: one user at 0 s, the next at 1/rate, ... With 1 user per second
    // and 1.5 s, users start at 0 s and 1 s; each sends one request, then thinks for
    // longer than the run. Timing margins are half a second either way.
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Once {
  wait constant 30s

  task hello {
    GET "/first"
  }
}
"#,
    );
    let finished = scenario.run(&[
        "-H",
        &server.url(),
        "-u",
        "5",
        "-r",
        "1",
        "-t",
        "1500ms",
        "--stop-timeout",
        "0s",
    ]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert_eq!(server.count("/first"), 2, "{}", finished.text());
}
