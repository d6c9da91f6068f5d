//! Virtual users: how many of each class, which tasks they pick, `on start` and `on stop`,
//! their own cookie jars, data-feed rows and tag filters.

use std::collections::{BTreeMap, BTreeSet};

use super::support::{Hit, INTERRUPTED, Scenario, TestServer};

/// A class whose users announce themselves: `/start?class=NAME&user=ID` in `on start`.
fn announcing_class(name: &str, options: &str) -> String {
    r#"
user NAME OPTIONS {
  on start {
    GET "/start" {
      query class: "NAME"
      query user: "{{ user_id() }}"
    }
  }

  task idle {
    sleep 1s
  }
}
"#
    .replace("NAME", name)
    .replace("OPTIONS", options)
}

/// Starts `users` users at once, waits until each has run `on start`, stops the run, and
/// returns the users of each class as `(class, user ids)`.
fn users_per_class(scenario: &Scenario, users: usize) -> BTreeMap<String, BTreeSet<u64>> {
    let server = TestServer::start();
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", &users.to_string(), "-r", "1000"]);
    run.wait_for(&server, "every user's on start", |log| {
        log.iter().filter(|h| h.path == "/start").count() >= users
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let mut classes: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for hit in server.hits("/start") {
        let user = hit.param("user").unwrap().parse().unwrap();
        classes
            .entry(hit.param("class").unwrap().to_string())
            .or_default()
            .insert(user);
    }
    assert_eq!(
        classes.values().map(BTreeSet::len).sum::<usize>(),
        users,
        "every user ran on start once: {classes:?}"
    );
    classes
}

fn sizes(classes: &BTreeMap<String, BTreeSet<u64>>) -> Vec<(&str, usize)> {
    classes.iter().map(|(c, u)| (c.as_str(), u.len())).collect()
}

#[test]
fn users_are_split_between_classes_by_weight_like_locust() {
    let scenario = Scenario::new(
        &[
            announcing_class("KibrayUser", "weight 10"),
            announcing_class("AdminUser", "weight 1"),
            announcing_class("APIOnlyUser", "weight 2"),
        ]
        .concat(),
    );
    // Exact, not statistical: the split is Locust's deterministic interleaving.
    assert_eq!(
        sizes(&users_per_class(&scenario, 13)),
        [("APIOnlyUser", 2), ("AdminUser", 1), ("KibrayUser", 10)]
    );
    assert_eq!(
        sizes(&users_per_class(&scenario, 100)),
        [("APIOnlyUser", 15), ("AdminUser", 8), ("KibrayUser", 77)]
    );
}

#[test]
fn classes_with_a_count_get_their_users_first() {
    let scenario = Scenario::new(
        &[
            announcing_class("Visitor", "weight 3"),
            announcing_class("Admin", "count 2"),
            announcing_class("Reader", "weight 1"),
        ]
        .concat(),
    );
    let classes = users_per_class(&scenario, 6);
    assert_eq!(
        sizes(&classes),
        [("Admin", 2), ("Reader", 1), ("Visitor", 3)]
    );
    // The first two users started are the fixed-count class's.
    assert_eq!(classes["Admin"], BTreeSet::from([1, 2]));
}

const WEIGHTED_TASKS: &str = r#"
scenario "Task weights" {
  wait constant 0s
}

user Picker {
  task often weight 5 {
    GET "/task/often"
  }

  task sometimes weight 3 {
    GET "/task/sometimes"
  }

  task rarely weight 1 {
    GET "/task/rarely"
  }
}
"#;

/// The tasks one user ran, in order, until at least `n` had reached the server.
fn task_sequence(seed: &str, n: usize) -> Vec<String> {
    let server = TestServer::start();
    let scenario = Scenario::new(WEIGHTED_TASKS);
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "1", "-r", "10", "--seed", seed]);
    run.wait_for(&server, "enough tasks", |log| log.len() >= n);
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    // One user sends one request at a time: the server sees the order the user picked.
    server.log().into_iter().take(n).map(|h| h.path).collect()
}

#[test]
fn tasks_are_picked_by_weight_and_the_seed_repeats_the_picks() {
    const N: usize = 3000;
    let picks = task_sequence("11", N);
    // Tolerance ±3 percentage points: with 3000 picks the standard deviation of a share
    // is at most √(0.25/3000) ≈ 0.9 points, so 3 points is more than 3 σ for every task
    // (5 σ for the rare one), yet a weight off by one fails: 4/3/1 would give 50%, 37.5%
    // and 12.5% instead of 55.6%, 33.3% and 11.1%.
    for (path, weight) in [
        ("/task/often", 5.0),
        ("/task/sometimes", 3.0),
        ("/task/rarely", 1.0),
    ] {
        let share = picks.iter().filter(|p| *p == path).count() as f64 / N as f64;
        let expected = weight / 9.0;
        assert!(
            (share - expected).abs() <= 0.03,
            "{path}: share {share:.3}, expected {expected:.3} ± 0.03"
        );
    }
    // Seeded runs pick the same tasks in the same order; another seed does not.
    assert_eq!(task_sequence("11", 300), picks[..300]);
    assert_ne!(task_sequence("12", 300), picks[..300]);
}

#[test]
fn on_start_and_on_stop_run_once_per_user() {
    let scenario = Scenario::new(
        r#"
user Member {
  wait constant 20ms

  on start {
    GET "/start" {
      query user: "{{ user_id() }}"
    }
  }

  on stop {
    GET "/stop" {
      query user: "{{ user_id() }}"
    }
  }

  task work {
    GET "/work" {
      query user: "{{ user_id() }}"
    }
  }
}
"#,
    );
    let each_user_worked = |log: &[Hit]| {
        (1..=5).all(|u| {
            let u = u.to_string();
            log.iter()
                .filter(|h| h.path == "/work" && h.param("user") == Some(&u))
                .count()
                >= 3
        })
    };
    // Stopped by Ctrl-C, then by the end of the run time.
    for how in ["interrupt", "run time"] {
        let server = TestServer::start();
        let mut args = vec!["-H".to_string(), server.url()];
        args.extend(["-u", "5", "-r", "100"].map(String::from));
        if how == "run time" {
            args.extend(["-t", "2s"].map(String::from));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut run = scenario.spawn(&args);
        if how == "interrupt" {
            run.wait_for(&server, "three tasks per user", each_user_worked);
            run.interrupt();
        }
        let finished = run.wait();
        let expected = if how == "interrupt" { INTERRUPTED } else { 0 };
        assert_eq!(
            finished.code(),
            Some(expected),
            "{how}: {}",
            finished.text()
        );
        let log = server.log();
        let of = |path: &str, user: &str| -> Vec<usize> {
            log.iter()
                .enumerate()
                .filter(|(_, h)| h.path == path && h.param("user") == Some(user))
                .map(|(i, _)| i)
                .collect()
        };
        let users: BTreeSet<&str> = log.iter().filter_map(|h| h.param("user")).collect();
        assert_eq!(users.len(), 5, "{how}: {users:?}");
        for user in users {
            let (start, work, stop) = (of("/start", user), of("/work", user), of("/stop", user));
            assert_eq!(start.len(), 1, "{how}: user {user} ran on start {start:?}");
            assert_eq!(stop.len(), 1, "{how}: user {user} ran on stop {stop:?}");
            assert!(
                work.iter().all(|w| start[0] < *w && *w < stop[0]),
                "{how}: user {user}: on start at {start:?}, tasks at {work:?}, on stop at {stop:?}"
            );
        }
    }
}

#[test]
fn every_user_has_its_own_cookie_jar() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Browser {
  wait constant 10ms

  on start {
    GET "/cookie" {
      capture sid = cookie sid
    }
  }

  task echo {
    GET "/echo" {
      header X-Sid: "{{ sid }}"
    }
  }
}
"#,
    );
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "4", "-r", "100"]);
    run.wait_for(&server, "every user's echoes", |log| {
        let senders: BTreeSet<_> = log
            .iter()
            .filter(|h| h.path == "/echo")
            .filter_map(|h| h.header("x-sid"))
            .collect();
        senders.len() == 4 && log.iter().filter(|h| h.path == "/echo").count() >= 40
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.failures("/echo"), 0, "{}", finished.text());
    // The server numbers the cookies it sets: 1 to 4, one per user's on start.
    let issued: BTreeSet<String> = (1..=server.count("/cookie"))
        .map(|n| n.to_string())
        .collect();
    assert_eq!(issued.len(), 4);
    let mut seen = BTreeSet::new();
    for hit in server.hits("/echo") {
        // X-Sid is the cookie this user captured; its jar must send exactly that one.
        let sid = hit.header("x-sid").unwrap();
        assert_eq!(
            hit.header("cookie"),
            Some(&*format!("sid={sid}")),
            "{hit:?}"
        );
        seen.insert(sid.to_string());
    }
    assert_eq!(seen, issued, "each of the 4 users sends its own cookie");
}

#[test]
fn a_unique_feed_gives_each_user_its_own_row_and_leaves_extra_users_out() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
data accounts from "accounts.csv" unique

user Member {
  wait constant 20ms

  on start {
    GET "/login" {
      query name: "{{ accounts.username }}"
    }
  }

  task work {
    GET "/work"
  }
}
"#,
    )
    .with_file("accounts.csv", "username\nada\nbob\ncy\n");
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "5", "-r", "100"]);
    run.wait_for(&server, "the three members' work", |log| {
        log.iter().filter(|h| h.path == "/work").count() >= 20
    });
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let names: Vec<String> = server
        .hits("/login")
        .iter()
        .map(|h| h.param("name").unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(distinct, BTreeSet::from(["ada", "bob", "cy"]));
    assert!(
        finished.stdout.contains(
            "warning: the numbers are suspect: data feed `accounts` has no rows left (3 rows, mode unique): a user of Member was not started (2×)"
        ),
        "{}",
        finished.text()
    );
}

#[test]
fn a_cycle_feed_starts_again_from_the_top() {
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
data accounts from "accounts.csv" cycle

user Member {
  on start {
    GET "/login" {
      query name: "{{ accounts.username }}"
    }
  }

  task idle {
    sleep 1s
  }
}
"#,
    )
    .with_file("accounts.csv", "username\nada\nbob\ncy\n");
    let mut run = scenario.spawn(&["-H", &server.url(), "-u", "7", "-r", "100"]);
    run.wait_for(&server, "seven logins", |log| log.len() >= 7);
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    for hit in server.hits("/login") {
        *rows
            .entry(hit.param("name").unwrap().to_string())
            .or_default() += 1;
    }
    // Concurrently started users may take their rows in any order: the count of each row is
    // what is fixed.
    assert_eq!(
        rows,
        BTreeMap::from([("ada".into(), 3), ("bob".into(), 2), ("cy".into(), 2)])
    );
}

const TAGGED: &str = r#"
scenario "Tags" {
  wait constant 5ms
}

user Reader tags web {
  task read tags read {
    GET "/read"
  }

  task read_slowly tags read, slow {
    GET "/read-slowly"
  }

  task write tags write {
    GET "/write"
  }

  task plain {
    GET "/plain"
  }
}
"#;

/// The paths requested by a run with these tag flags, after 60 tasks.
fn tagged_paths(flags: &[&str]) -> BTreeSet<String> {
    super::support::paths_requested(TAGGED, flags)
}

#[test]
fn tags_choose_the_tasks_and_exclusion_wins() {
    let set = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>();
    // With two to four tasks of equal weight, each is missing from 60 seeded picks with a
    // probability below 4 · (3/4)^60 ≈ 1e-7.
    assert_eq!(
        tagged_paths(&["-T", "read"]),
        set(&["/read", "/read-slowly"])
    );
    assert_eq!(tagged_paths(&["-T", "read", "-E", "slow"]), set(&["/read"]));
    assert_eq!(
        tagged_paths(&["-E", "slow,write"]),
        set(&["/plain", "/read"])
    );
    // A task has its class's tags.
    assert_eq!(
        tagged_paths(&["-T", "web", "-E", "read"]),
        set(&["/plain", "/write"])
    );
}

#[test]
fn a_user_with_no_wait_and_no_requests_does_not_starve_the_others() {
    // On one worker thread, a user whose task never waits for anything must still give the
    // scheduler back, or the other user never runs and the run never ends.
    let server = TestServer::start();
    let scenario = Scenario::new(
        r#"
user Spinner {
  task spin {
    let x = 1
  }
}

user Worker {
  wait constant 100ms

  task work {
    GET "/work"
  }
}
"#,
    );
    let finished = scenario.run_with_env(
        &[("TOKIO_WORKER_THREADS", "1")],
        &["-H", &server.url(), "-u", "2", "-r", "10", "-t", "2s"],
    );
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    // About 20 in 2 s; the bound only says the worker was not starved.
    let hits = server.count("/work");
    assert!(
        hits >= 5,
        "the worker sent {hits} requests: {}",
        finished.text()
    );
}
