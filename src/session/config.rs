//! Options plus the scenario's own load profile → what the engine runs: one place decides
//! which setting wins (a flag over the file, `--users` over `stages`), and checks the
//! combination makes sense.

use std::time::Duration;

use crate::compile;
use crate::ir::Plan;
use crate::runtime::{RunConfig, http::ClientOptions};
use crate::schedule::{ArrivalRate, Ramp, Schedule};

use super::Options;

/// Why options cannot run this scenario: a usage error (exit 2), in words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Resolves the options against the plan. Precedence: an option given beats the file's
/// `load` block beats the default (1 user at 1/s, no time limit). Users given as an option
/// replace the file's `stages` (Locust's `-u` wins) but not its `arrival_rate`, where they
/// are the cap of concurrent users.
pub fn resolve(plan: &Plan, options: &Options) -> Result<RunConfig, ConfigError> {
    if let Some(host) = &options.host {
        compile::check_host(host).map_err(|reason| {
            let host = crate::ir::without_credentials(host);
            ConfigError(format!("invalid host `{host}`: {reason}"))
        })?;
    }
    if options.users == Some(0) {
        return Err(ConfigError(
            "the user count must be at least 1 (to run nothing, don't run)".into(),
        ));
    }
    if let Some(rate) = options.spawn_rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(ConfigError(format!(
            "the spawn rate must be a positive number of users per second, not {rate}"
        )));
    }
    if options.run_time.is_some_and(|d| d.is_zero()) {
        return Err(ConfigError("the run time must be longer than zero".into()));
    }
    let load = &plan.load;
    let spawn_rate = options.spawn_rate.or(load.spawn_rate).unwrap_or(1.0);
    let schedule = if let Some(arrival) = load.arrival {
        Schedule::Open(ArrivalRate {
            rate: arrival.rate,
            max_users: options.users.unwrap_or(arrival.max_users),
        })
    } else if options.users.is_none() && !load.stages.is_empty() {
        Schedule::Stages(load.stages.clone())
    } else {
        let users = options.users.or(load.users).unwrap_or(1);
        Schedule::Closed(Ramp::new(users, spawn_rate))
    };
    let enabled_classes = if options.classes.is_empty() {
        Vec::new()
    } else {
        for wanted in &options.classes {
            if !plan.classes.iter().any(|c| &c.name == wanted) {
                let known: Vec<&str> = plan.classes.iter().map(|c| c.name.as_str()).collect();
                return Err(ConfigError(format!(
                    "no user class `{wanted}` in the scenario (it has {})",
                    known.join(", ")
                )));
            }
        }
        plan.classes
            .iter()
            .map(|c| options.classes.contains(&c.name))
            .collect()
    };
    Ok(RunConfig {
        host: options.host.clone(),
        schedule,
        run_time: options.run_time.or(load.run_time),
        stop_timeout: options
            .stop_timeout
            .or(load.stop_timeout)
            .unwrap_or(Duration::ZERO),
        tags: options.tags.clone(),
        exclude_tags: options.exclude_tags.clone(),
        seed: options.seed,
        client: ClientOptions::new(plan.default_timeout, options.insecure),
        segment: options.segment.unwrap_or_default(),
        enabled_classes,
        secrets: std::sync::Arc::new(secrets(plan, options)),
    })
}

/// The secrets a run knows before its first request: those written in the file, and the
/// password of `--host`.
fn secrets(plan: &Plan, options: &Options) -> crate::redact::Secrets {
    let secrets = crate::redact::Secrets::new();
    for value in &plan.secret_literals {
        secrets.add_shared(value);
    }
    for value in options
        .host
        .iter()
        .flat_map(|h| crate::redact::url_credentials(h))
    {
        secrets.add_shared(&value);
    }
    secrets
}

/// The load model in words, for reports: `closed: 100 users, spawn rate 10/s`.
pub fn describe(config: &RunConfig) -> String {
    let mut text = match &config.schedule {
        Schedule::Closed(r) => format!(
            "closed model: {} {}, spawn rate {}/s",
            r.to,
            if r.to == 1 { "user" } else { "users" },
            number(r.rate)
        ),
        Schedule::Stages(stages) => format!(
            "stages: {} (peak {} users)",
            stages
                .iter()
                .map(|s| match s {
                    crate::ir::Stage::Ramp { to, over } => format!("ramp to {to} over {over:?}"),
                    crate::ir::Stage::Hold(d) => format!("hold {d:?}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
            config.schedule.peak_users()
        ),
        Schedule::Open(a) => format!(
            "open model: {}/s arrivals, at most {} users",
            number(a.rate),
            a.max_users
        ),
    };
    if !config.segment.is_whole() {
        text.push_str(&format!(", segment {}", config.segment.label()));
    }
    text
}

fn number(x: f64) -> String {
    crate::metrics::threshold::trim_decimals(x, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Context, compile_source};
    use crate::ir::Stage;

    fn plan(load: &str) -> Plan {
        let src = format!(
            "scenario \"s\" {{ host \"http://127.0.0.1:1\" }}\n{load}\nuser U {{ task t {{ GET \"/\" }} }}\n"
        );
        compile_source(&src, &Context::default())
            .plan
            .expect("compiles")
    }

    #[test]
    fn options_beat_the_file_and_the_file_beats_defaults() {
        let p = plan("load { users 50 spawn_rate 5 run_time 30s }");
        let c = resolve(&p, &Options::default()).unwrap();
        assert_eq!(c.schedule, Schedule::closed(50, 5.0));
        assert_eq!(c.run_time, Some(Duration::from_secs(30)));
        let o = Options {
            users: Some(3),
            spawn_rate: Some(1.5),
            run_time: Some(Duration::from_secs(2)),
            ..Options::default()
        };
        let c = resolve(&p, &o).unwrap();
        assert_eq!(c.schedule, Schedule::closed(3, 1.5));
        assert_eq!(c.run_time, Some(Duration::from_secs(2)));
        let c = resolve(&plan(""), &Options::default()).unwrap();
        assert_eq!(c.schedule, Schedule::closed(1, 1.0));
        assert_eq!(c.run_time, None);
    }

    #[test]
    fn users_replace_stages_but_cap_the_arrival_rate() {
        let p = plan("load { stages { ramp to 10 over 10s } }");
        assert!(matches!(
            resolve(&p, &Options::default()).unwrap().schedule,
            Schedule::Stages(ref s) if s == &[Stage::Ramp { to: 10, over: Duration::from_secs(10) }]
        ));
        let o = Options {
            users: Some(4),
            ..Options::default()
        };
        assert_eq!(resolve(&p, &o).unwrap().schedule, Schedule::closed(4, 1.0));
        let open = plan("load { arrival_rate 20/s max_users 30 }");
        assert_eq!(
            resolve(&open, &o).unwrap().schedule,
            Schedule::Open(ArrivalRate {
                rate: 20.0,
                max_users: 4
            })
        );
    }

    #[test]
    fn impossible_values_are_usage_errors() {
        let p = plan("");
        for o in [
            Options {
                users: Some(0),
                ..Options::default()
            },
            Options {
                spawn_rate: Some(0.0),
                ..Options::default()
            },
            Options {
                spawn_rate: Some(f64::NAN),
                ..Options::default()
            },
            Options {
                run_time: Some(Duration::ZERO),
                ..Options::default()
            },
            Options {
                host: Some("ftp://x".into()),
                ..Options::default()
            },
            Options {
                classes: vec!["Nobody".into()],
                ..Options::default()
            },
        ] {
            assert!(resolve(&p, &o).is_err(), "{o:?}");
        }
    }
}
