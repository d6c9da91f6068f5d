//! The run as a library value: started in-process through `kload::session`, changed while it
//! goes, watched through snapshots, finished with a summary and a verdict — what the command
//! line, the web UI and a distributed runner all do.

use std::path::Path;
use std::sync::Arc;

use kload::compile::Context;
use kload::runtime::RunState;
use kload::session::{self, Options, Scenario, exit};

use super::support::{PATIENCE, TestServer};

fn scenario(source: &str) -> Arc<Scenario> {
    Arc::new(
        Scenario::from_source(Path::new("session.kload"), source, &Context::default())
            .unwrap_or_else(|e| panic!("{e:?}")),
    )
}

const WALKERS: &str = r#"
user Walker weight 3 {
  wait constant 50ms

  task walk {
    GET "/walk"
  }
}

user Runner weight 1 {
  wait constant 50ms

  task run {
    GET "/run"
  }
}

thresholds {
  error_rate < 1%
}
"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Waits (on the run's own snapshots) until `pred` holds.
async fn until(run: &session::Run, what: &str, pred: impl Fn(&session::Snapshot) -> bool) {
    let mut snapshots = run.subscribe();
    let wait = async {
        loop {
            if pred(&run.snapshot()) {
                return;
            }
            if snapshots.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}: {:?}", run.snapshot()));
}

#[test]
fn a_run_started_through_the_library_changes_users_and_ends_with_a_verdict() {
    let server = TestServer::start();
    let rt = runtime();
    let options = Options {
        host: Some(server.url()),
        users: Some(4),
        spawn_rate: Some(100.0),
        ..Options::default()
    };
    let prepared = session::prepare(scenario(WALKERS), options).unwrap();
    assert_eq!(
        prepared.describe(),
        "closed model: 4 users, spawn rate 100/s"
    );
    rt.block_on(async {
        let run = prepared.start();
        until(&run, "4 users running", |s| s.users == 4).await;
        let snap = run.snapshot();
        // Locust's dispatch for weights 3/1: 3 walkers and 1 runner.
        assert_eq!(snap.class_users, [3, 1]);
        assert_eq!(snap.target_users, 4);

        // A controller asks for more users while the run goes on.
        let said = run.retarget(8, 100.0).unwrap();
        assert_eq!(said, "changing to 8 users at 100 per second");
        until(&run, "8 users running", |s| {
            s.users == 8 && s.state == RunState::Running
        })
        .await;
        assert_eq!(run.snapshot().class_users, [6, 2]);
        until(&run, "requests counted", |s| {
            s.table
                .rows
                .iter()
                .any(|r| r.name == "/walk" && r.requests >= 10)
        })
        .await;

        // Results taken while the run goes on only read: counts never go back.
        let a = run.summary();
        let b = run.summary();
        assert!(a.aggregated.requests <= b.aggregated.requests);
        assert!(a.series.as_ref().unwrap().rows.len() <= b.series.as_ref().unwrap().rows.len());
        let table = run.snapshot().table.clone();
        let total = table.rows.last().unwrap();
        assert_eq!(total.name, "Aggregated");
        assert_eq!(table.thresholds.len(), 1);
        assert!(table.thresholds[0].passed, "{:?}", table.thresholds);

        // Down to 2, then stop.
        run.retarget(2, 100.0).unwrap();
        until(&run, "2 users running", |s| s.users == 2).await;
        // Ramping down stops the newest users first: the first two of Locust's sequence stay.
        let first_two = kload::runtime::dispatch::counts(&run.scenario().plan.classes, 2);
        assert_eq!(run.snapshot().class_users, first_two);
        run.stop();
        let finished = run.finish().await;
        assert_eq!(
            finished.verdict.exit_code,
            exit::OK,
            "{:?}",
            finished.verdict
        );
        let s = &finished.summary;
        assert_eq!(s.info.users, 8, "the peak the schedule reached");
        assert!(s.aggregated.requests >= 10);
        assert_eq!(
            s.aggregated.requests as usize,
            server.count("/walk") + server.count("/run")
        );
        // The users over time followed the changes, and the run ended with none.
        let users: Vec<usize> = s.time_series().iter().map(|p| p.users).collect();
        assert!(users.contains(&8), "{users:?}");
        assert_eq!(users.last(), Some(&0), "{users:?}");
        assert_eq!(run.state(), RunState::Stopped);
        // Every caller of finish gets the same result.
        assert!(Arc::ptr_eq(&finished, &run.finish().await));
    });
}

#[test]
fn resetting_statistics_starts_the_counts_over_while_the_run_goes_on() {
    let server = TestServer::start();
    let rt = runtime();
    let options = Options {
        host: Some(server.url()),
        users: Some(2),
        spawn_rate: Some(100.0),
        ..Options::default()
    };
    let prepared = session::prepare(scenario(WALKERS), options).unwrap();
    rt.block_on(async {
        let run = prepared.start();
        until(&run, "some requests", |s| s.live.requests >= 10).await;
        run.reset_stats();
        let after = run.summary();
        assert!(
            after.aggregated.requests < 10,
            "{}",
            after.aggregated.requests
        );
        let sent_before_reset = server.count("/walk") + server.count("/run");
        until(&run, "new requests after the reset", |s| {
            s.live.requests >= 5
        })
        .await;
        run.stop();
        let finished = run.finish().await;
        // Only what completed after the reset counts, whatever the users still held.
        let counted = finished.summary.aggregated.requests as usize;
        let sent = server.count("/walk") + server.count("/run");
        assert!(
            counted <= sent - sent_before_reset + 2,
            "{counted} of {sent}"
        );
        assert!(counted >= 5);
    });
}

#[test]
fn live_changes_follow_the_rule_of_each_load_model() {
    let server = TestServer::start();
    let rt = runtime();
    // Stages: editing users switches to a fixed count.
    let staged = scenario(
        r#"
load {
  stages {
    ramp to 50 over 60s
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
    let options = Options {
        host: Some(server.url()),
        ..Options::default()
    };
    let prepared = session::prepare(staged, options.clone()).unwrap();
    rt.block_on(async {
        let run = prepared.start();
        until(&run, "a first user", |s| s.users >= 1).await;
        let said = run.retarget(3, 50.0).unwrap();
        assert!(
            said.starts_with("stages replaced by a fixed count"),
            "{said}"
        );
        until(&run, "3 users", |s| s.users == 3).await;
        assert!(run.snapshot().schedule.starts_with("closed model: 3 users"));
        assert!(run.retarget(0, 1.0).is_err());
        assert!(run.retarget(3, 0.0).is_err());
        run.stop();
        run.finish().await;
    });
    // Arrival rate: users are the cap of busy users.
    let open = scenario(
        r#"
load {
  arrival_rate 20/s
  max_users 10
}

user Visitor {
  task walk {
    GET "/walk"
  }
}
"#,
    );
    let prepared = session::prepare(open, options).unwrap();
    rt.block_on(async {
        let run = prepared.start();
        until(&run, "requests", |s| s.live.requests >= 5).await;
        let said = run.retarget(2, 1.0).unwrap();
        assert!(said.contains("at most 2 users busy at once"), "{said}");
        assert_eq!(run.snapshot().target_users, 2);
        run.stop();
        let finished = run.finish().await;
        assert!(
            finished
                .summary
                .info
                .load_model
                .starts_with("open model: 20/s")
        );
    });
}

#[test]
fn options_that_cannot_run_are_refused_before_anything_starts() {
    let s = scenario(WALKERS);
    let bad = [
        Options {
            users: Some(0),
            ..Options::default()
        },
        Options {
            thresholds: vec!["p95(tag nope) < 1s".into()],
            ..Options::default()
        },
        Options {
            host: Some("not a url".into()),
            ..Options::default()
        },
    ];
    for options in bad {
        assert!(session::prepare(s.clone(), options).is_err());
    }
}
