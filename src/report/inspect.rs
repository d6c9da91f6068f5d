//! `kload inspect`: the compiled plan, for review.

use std::fmt::Write as _;

use crate::ir::{Body, Plan, Step, TaskBody, WaitTime, without_credentials};
use crate::runtime::{dispatch, user::TaskTable};

fn wait(w: &WaitTime) -> String {
    match w {
        WaitTime::Between(a, b) => format!("between {:?} and {:?}", a, b),
        WaitTime::Constant(d) => format!("constant {d:?}"),
        WaitTime::Pacing(d) => format!("pacing {d:?}"),
        WaitTime::Throughput(n) => format!("throughput {n} tasks/s"),
    }
}

/// "1 check", "2 checks".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn requests(steps: &[Step], plan: &Plan, indent: &str, out: &mut String) {
    for s in steps {
        match s {
            Step::Request(r) => {
                let key = &plan.stats[r.stat as usize];
                let body = match &r.body {
                    Body::None => "",
                    Body::Json(_) => " (json)",
                    Body::Form(_) => " (form)",
                    Body::Multipart(_) => " (multipart)",
                    Body::Raw { .. } => " (body)",
                };
                let _ = writeln!(
                    out,
                    "{indent}{} {}{body}  → \"{}\"  [{}, {}]",
                    r.method,
                    without_credentials(&r.url.source),
                    key.name,
                    count(r.checks.len(), "check", "checks"),
                    count(r.captures.len(), "capture", "captures")
                );
            }
            Step::Sleep(s) => {
                let _ = writeln!(out, "{indent}sleep {s:?}");
            }
            Step::Let(v, _) => {
                let _ = writeln!(out, "{indent}let {}", plan.variables[*v as usize]);
            }
            Step::If(first) => {
                let deeper = format!("{indent}  ");
                let _ = writeln!(out, "{indent}if {}", first.condition.source);
                let mut branch = first;
                loop {
                    requests(&branch.then, plan, &deeper, out);
                    match branch.otherwise.as_slice() {
                        [] => break,
                        [Step::If(next)] => {
                            let _ = writeln!(out, "{indent}else if {}", next.condition.source);
                            branch = next;
                        }
                        otherwise => {
                            let _ = writeln!(out, "{indent}else");
                            requests(otherwise, plan, &deeper, out);
                            break;
                        }
                    }
                }
            }
            Step::Repeat(n, body) => {
                let _ = writeln!(
                    out,
                    "{indent}repeat {}",
                    count(*n as usize, "time", "times")
                );
                requests(body, plan, &format!("{indent}  "), out);
            }
        }
    }
}

/// Classes with their share of users and exact counts for `users`, tasks with their
/// probability per iteration, requests with their statistics names, thresholds.
pub fn render(plan: &Plan, users: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario \"{}\"", plan.name);
    if let Some(h) = &plan.host {
        let _ = writeln!(out, "host {}", without_credentials(h));
    }
    let counts = dispatch::counts(&plan.classes, users);
    let total_weight: u32 = plan
        .classes
        .iter()
        .filter(|c| c.fixed_count.is_none())
        .map(|c| c.weight)
        .sum();
    let _ = writeln!(out, "\nusers: {users}");
    for (class, n) in plan.classes.iter().zip(&counts) {
        let share = match class.fixed_count {
            Some(c) => format!("count {c}"),
            None => format!(
                "weight {} ({:.1}%)",
                class.weight,
                f64::from(class.weight) * 100.0 / f64::from(total_weight.max(1))
            ),
        };
        let _ = writeln!(
            out,
            "\nuser {}  {share}  → {n} of {}, wait {}",
            class.name,
            count(users as usize, "user", "users"),
            wait(&class.wait)
        );
        if !class.on_start.is_empty() {
            let _ = writeln!(out, "  on start");
            requests(&class.on_start, plan, "    ", &mut out);
        }
        let table = TaskTable::new(class, &[], &[]);
        for (t, p) in table.shares() {
            let task = &class.tasks[t];
            let tags = if task.tags.is_empty() {
                String::new()
            } else {
                format!("  tags {}", task.tags.join(", "))
            };
            let _ = writeln!(
                out,
                "  task {} weight {} ({:.1}% of iterations){tags}",
                task.name,
                task.weight,
                p * 100.0
            );
            match &task.body {
                TaskBody::Steps(steps) => requests(steps, plan, "    ", &mut out),
                TaskBody::Sequence(inner) => {
                    for (name, steps) in inner {
                        let _ = writeln!(out, "    then {name}");
                        requests(steps, plan, "      ", &mut out);
                    }
                }
            }
        }
        if !class.on_stop.is_empty() {
            let _ = writeln!(out, "  on stop");
            requests(&class.on_stop, plan, "    ", &mut out);
        }
    }
    if !plan.thresholds.is_empty() {
        let _ = writeln!(out, "\nthresholds");
        for t in &plan.thresholds {
            let flag = if t.warn_only { "  (warn only)" } else { "" };
            let _ = writeln!(out, "  {}{flag}", t.source);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::compile::{Context, compile_source};

    fn plan(path: &Path, source: &str) -> crate::ir::Plan {
        compile_source(source, &Context::for_file(path))
            .plan
            .expect("compiles")
    }

    /// The plan review of the control-flow example, and of a file with credentials in its
    /// URLs (left out) and one of everything (singular words).
    #[test]
    fn golden_plan_review() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/17-control-flow.kload");
        let source = std::fs::read_to_string(&example).unwrap();
        let mut out = super::render(&plan(&example, &source), 3);
        let secret = r#"scenario "Secret" {
  host "http://admin:hunter2@127.0.0.1:8000"
}

user Only {
  task one {
    GET "http://ann:pw@127.0.0.1:9000/x" {
      check status 200
      capture id = jsonpath "$.id"
    }
    repeat 1 {
      GET "/{{ id }}"
    }
  }
}
"#;
        out.push_str("\n----\n\n");
        out.push_str(&super::render(&plan(&example, secret), 1));
        assert!(!out.contains("hunter2") && !out.contains("pw@"), "{out}");
        crate::report::golden::check("inspect.txt", out.as_bytes());
    }
}
