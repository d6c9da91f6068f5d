//! What users see when a scenario is wrong: golden diagnostics for every code, their JSON
//! form, and a property test that no input makes parse or compile panic.
//!
//! Re-bless the goldens with `KLOAD_BLESS=1 cargo test --lib compile::tests`, then review
//! the diff of `tests/golden/diagnostics/*.txt` like code.
//!
//! The panic test is deterministic (a fixed xorshift seed), so a failure replays exactly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Context, Output, compile_source};
use crate::diagnostic::{self, Diagnostic};

fn repo_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    repo_dir().join("tests/golden/diagnostics")
}

/// The `.kload` files of a folder, sorted by name.
fn kload_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "kload"))
        .collect();
    files.sort();
    files
}

/// Every diagnostic rendered without colour at 80 columns, in order.
fn render_all(out: &Output, name: &str, source: &str) -> String {
    out.diagnostics
        .iter()
        .map(|d| diagnostic::render(d, name, source, false, 80))
        .collect()
}

/// The codes worded in error.rs, read from its source so that a new one needs a golden.
fn codes_in_error_rs() -> BTreeSet<&'static str> {
    include_str!("error.rs")
        .split('"')
        .filter(|s| s.starts_with("kload::"))
        .collect()
}

#[test]
fn golden_diagnostics() {
    let dir = golden_dir();
    let ctx = Context {
        base_dir: dir.clone(),
        files: Vec::new(),
    };
    let bless = std::env::var_os("KLOAD_BLESS").is_some();
    let mut failures = Vec::new();
    let mut seen_codes = BTreeSet::new();
    let files = kload_files(&dir);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(path).unwrap();
        let out = compile_source(&source, &ctx);
        assert!(
            !out.diagnostics.is_empty(),
            "{name}: a golden case must produce a diagnostic"
        );
        seen_codes.extend(out.diagnostics.iter().map(|d| d.code));
        let actual = render_all(&out, &name, &source);
        let expected_path = path.with_extension("txt");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "── {name}: expected ({})\n{expected}\n── actual\n{actual}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden(s) differ; re-bless with KLOAD_BLESS=1 and review the diff\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(files.len() >= 30, "only {} golden cases", files.len());
    let mut wanted = codes_in_error_rs();
    wanted.insert("kload::syntax");
    let missing: Vec<_> = wanted.difference(&seen_codes).collect();
    assert!(
        missing.is_empty(),
        "codes without a golden case: {missing:?}"
    );
}

#[test]
fn a_jsonpath_error_at_a_wide_character_spans_the_whole_character() {
    let src = "user V { task t { GET \"/\" { check jsonpath \"$☕\" exists } } }";
    let ctx = Context {
        base_dir: golden_dir(),
        files: Vec::new(),
    };
    let out = compile_source(src, &ctx);
    let d = &out.diagnostics[0];
    assert_eq!(d.code, "kload::invalid_jsonpath");
    assert_eq!(&src[d.primary.span.start..d.primary.span.end], "☕");
}

#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string(repo_dir().join("docs/diagnostics.md")).unwrap();
    let mut wanted = codes_in_error_rs();
    wanted.insert("kload::syntax");
    let missing: Vec<_> = wanted
        .iter()
        .filter(|c| !docs.contains(&format!("### `{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a section in docs/diagnostics.md: {missing:?}"
    );
}

#[test]
fn json_form_of_a_diagnostic() {
    let dir = golden_dir();
    let source = std::fs::read_to_string(dir.join("unknown_variable.kload")).unwrap();
    let out = compile_source(
        &source,
        &Context {
            base_dir: dir,
            files: Vec::new(),
        },
    );
    let json: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::to_string(&diagnostic::to_json(d, "unknown_variable.kload", &source))
                .unwrap()
        })
        .collect();
    assert_eq!(
        json,
        [concat!(
            r#"{"file":"unknown_variable.kload","line":8,"column":30,"end_line":8,"end_column":39,"#,
            r#""severity":"error","code":"kload::unknown_variable","message":"unknown variable `projct_id`","#,
            r#""label":"nothing sets this before it is used","help":"did you mean `project_id`?"}"#
        )]
    );
}

// ---------------------------------------------------------------- panic freedom

/// xorshift64*: a small deterministic generator, so that a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces of the language that random bytes rarely produce, to get past the first token.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "{{",
    "}}",
    "\"",
    "\\",
    "\\u{",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "..",
    "-",
    "%",
    "/s",
    "#",
    "\n",
    "\t",
    " ",
    "é",
    "☕",
    "\u{0}",
    "\r\n",
    "user",
    "task",
    "GET",
    "POST",
    "get",
    "check",
    "status",
    "capture",
    "jsonpath",
    "json",
    "form",
    "multipart",
    "file",
    "random",
    "named",
    "data",
    "from",
    "load",
    "users",
    "stages",
    "ramp",
    "to",
    "over",
    "hold",
    "thresholds",
    "p95",
    "p99.9",
    "error_rate",
    "tag",
    "let",
    "sleep",
    "between",
    "wait",
    "header",
    "X-A",
    "on",
    "start",
    "stop",
    "sequence",
    "weight",
    "count",
    "tags",
    "200",
    "200..299",
    "30s",
    "1h30m",
    "-1",
    "1.5",
    "2KB",
    "20/s",
    "1%",
    "\"/\"",
    "\"$.a\"",
    "choice(",
    "uuid()",
    "x",
    "accounts.username",
    "<",
    "==",
    "warn",
    "optional",
    "abort",
    "after",
];

/// The files the language is shown with: shipped scenarios, examples and golden inputs.
fn seed_files() -> Vec<(PathBuf, String)> {
    ["scenarios", "examples", "tests/golden/diagnostics"]
        .iter()
        .flat_map(|dir| kload_files(&repo_dir().join(dir)))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// Compiles `source` and checks what every input must give: no panic, a diagnostic
/// whenever there is no plan, and spans that lie inside the source on character
/// boundaries. With `render`, the text and JSON forms are made too, since users see them.
fn check_no_panic(source: &str, ctx: &Context, render: bool) -> Result<(), String> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let out = compile_source(source, ctx);
        if out.plan.is_none() && !out.diagnostics.iter().any(Diagnostic::is_error) {
            return Err("no plan and no error".to_string());
        }
        for d in &out.diagnostics {
            for label in std::iter::once(&d.primary).chain(&d.secondary) {
                let s = label.span;
                if !(s.start <= s.end
                    && s.end <= source.len()
                    && source.is_char_boundary(s.start)
                    && source.is_char_boundary(s.end))
                {
                    return Err(format!("{}: span {s:?} outside the source", d.code));
                }
            }
            if render {
                diagnostic::render(d, "fuzz.kload", source, false, 80);
                diagnostic::to_json(d, "fuzz.kload", source);
            }
        }
        Ok(())
    }));
    match result {
        Ok(r) => r,
        Err(panic) => Err(format!(
            "panic: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

/// Applies one to four random edits: flipped bits, inserted bytes or tokens, deleted or
/// repeated ranges. The result is made valid UTF-8 the way a lossy reader would.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, rng.next() as u8),
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let end = (at + rng.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Pieces of a seed to cut at every character boundary, with the first cut to make:
/// each line before the first block (a file's opening comments), each top-level block
/// with the comments after it, and a user class once per item, after its header. A cut
/// fails the same way whatever complete blocks precede it, and cutting small pieces
/// rather than whole files keeps the test fast in debug builds.
fn chunks(text: &str) -> Vec<(String, usize)> {
    let Ok(file) = crate::syntax::parse(text) else {
        return vec![(text.to_string(), 0)];
    };
    let mut starts: Vec<usize> = file.items.iter().map(|i| i.span().start).collect();
    let opening = &text[..starts.first().copied().unwrap_or(text.len())];
    let mut out: Vec<(String, usize)> = opening
        .split_inclusive('\n')
        .map(|line| (line.to_string(), 0))
        .collect();
    starts.push(text.len());
    for (item, w) in file.items.iter().zip(starts.windows(2)) {
        let (start, end) = (w[0], w[1]);
        let user_items = match item {
            crate::syntax::ast::Item::User(u) if !u.items.is_empty() => &u.items,
            _ => {
                out.push((text[start..end].to_string(), 0));
                continue;
            }
        };
        let head = &text[start..user_items[0].span().start];
        let mut bounds: Vec<usize> = user_items.iter().map(|i| i.span().start).collect();
        bounds.push(end);
        for (k, b) in bounds.windows(2).enumerate() {
            let first_cut = if k == 0 { 0 } else { head.len() };
            out.push((format!("{head}{}", &text[b[0]..b[1]]), first_cut));
        }
    }
    out
}

/// Runs `check` over `jobs` on a few threads and returns the first failures.
fn run_all<T: Sync>(jobs: &[T], check: impl Fn(&T) -> Vec<String> + Sync) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let check = &check;
                scope.spawn(move || {
                    jobs.iter()
                        .skip(t)
                        .step_by(threads)
                        .flat_map(check)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .take(10)
            .collect()
    })
}

#[test]
fn no_input_panics() {
    let seeds = seed_files();
    let report = |what: String, source: &str, ctx: &Context, render: bool| -> Option<String> {
        check_no_panic(source, ctx, render)
            .err()
            .map(|e| format!("{what}: {e}\n  input: {source:?}"))
    };

    // Every piece of every seed, cut at each character boundary. Seeds share much text
    // (a login block, `user Visitor {`), so each cut is tried once per folder.
    let pieces: Vec<(&PathBuf, String, usize)> = seeds
        .iter()
        .flat_map(|(path, text)| {
            chunks(text)
                .into_iter()
                .map(move |(chunk, first)| (path, chunk, first))
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut cuts: Vec<(&PathBuf, &str)> = Vec::new();
    for (path, piece, first_cut) in &pieces {
        for (cut, _) in piece.char_indices().chain([(piece.len(), ' ')]) {
            if cut >= *first_cut && seen.insert((path.parent(), &piece[..cut])) {
                cuts.push((*path, &piece[..cut]));
            }
        }
    }
    let mut failures = run_all(&cuts, |(path, source)| {
        let name = path.file_name().unwrap().to_string_lossy();
        let what = format!("{name} cut to {} bytes", source.len());
        // Rendering is the slow part in debug builds: every fifth cut is rendered.
        report(
            what,
            source,
            &Context::for_file(path),
            source.len() % 5 == 0,
        )
        .into_iter()
        .collect()
    });

    // Mutated seeds, then random bytes and random runs of tokens.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut inputs: Vec<(String, String, &Path)> = Vec::new();
    for i in 0..1500 {
        let (path, text) = &seeds[rng.below(seeds.len())];
        inputs.push((format!("mutation {i}"), mutate(&mut rng, text), path));
    }
    let golden = golden_dir().join("x.kload");
    for i in 0..1000 {
        let len = rng.below(80);
        let source = if i % 2 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..len).map(|_| TOKENS[rng.below(TOKENS.len())]).collect()
        };
        inputs.push((format!("random {i}"), source, &golden));
    }
    failures.extend(run_all(&inputs, |(what, source, path)| {
        report(what.clone(), source, &Context::for_file(path), true)
            .into_iter()
            .collect()
    }));

    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn no_threshold_line_panics() {
    let path = repo_dir().join("scenarios/kibray.kload");
    let text = std::fs::read_to_string(&path).unwrap();
    let plan = compile_source(&text, &Context::for_file(&path))
        .plan
        .expect("kibray compiles");
    let deep = format!(
        "p95(\"{{{{ {}1{} }}}}\") < 1s",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let mut lines: Vec<String> = vec![deep];
    let mut rng = Rng(7);
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("thresholds"))
        .skip(1)
    {
        let line = line.trim();
        for (cut, _) in line.char_indices() {
            lines.push(line[..cut].to_string());
        }
        for _ in 0..50 {
            lines.push(mutate(&mut rng, line));
        }
    }
    for line in &lines {
        let result = std::panic::catch_unwind(|| super::compile_threshold_line(line, &plan));
        match result {
            Err(_) => panic!("panic on --threshold {line:?}"),
            Ok(Err(d)) => {
                let s = d.primary.span;
                assert!(s.start <= s.end && s.end <= line.len(), "{line:?}: {s:?}");
                diagnostic::render(&d, "--threshold", line, false, 80);
            }
            Ok(Ok(_)) => {}
        }
    }
}

// ---------------------------------------------------------------- control flow and auth

/// Compiles a file and gives its diagnostic codes, in order.
fn codes(source: &str) -> Vec<&'static str> {
    let ctx = Context {
        base_dir: golden_dir(),
        files: Vec::new(),
    };
    compile_source(source, &ctx)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn control_flow_and_auth_table() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a variable set in a branch is known after the if, and in the other tasks",
            r#"user U {
  task a {
    GET "/" { capture ids = jsonpath "$[*]" all }
    if {{ ids }} { let first = choice(ids) } else if {{ ids }} == 0 { let first = 0 }
    GET "/{{ first }}"
  }
  task b { GET "/{{ first }}" }
}"#,
            &[],
        ),
        (
            "a variable set inside repeat is known after it",
            r#"user U { task a { repeat 2 { let page = user_seq() } GET "/{{ page }}" } }"#,
            &[],
        ),
        (
            "a condition's variables are checked",
            r#"user U { task a { if {{ idz }} { GET "/" } } }"#,
            &["kload::unknown_variable"],
        ),
        (
            "a condition's ordered comparison wants a number",
            r#"user U { task a { let x = 1 if {{ x }} < "a" { GET "/" } } }"#,
            &["kload::comparison_type"],
        ),
        (
            "a request inside an if or a repeat is a request of the task",
            r#"user U { task a { let x = 1 if {{ x }} { repeat 2 { GET "/" } } } }"#,
            &[],
        ),
        (
            "a task with steps but no request anywhere is still warned about",
            r#"user U { task a { if true { sleep 1s } else { repeat 2 { let x = 1 } } } }"#,
            &["kload::task_without_requests"],
        ),
        (
            "repeat needs a whole number of at least 1",
            r#"user U { task a { repeat 0 { GET "/" } } }"#,
            &["kload::invalid_number"],
        ),
        (
            "auth in a request, twice",
            r#"user U { task a { GET "/" { auth basic "a" "b" auth bearer "t" } } }"#,
            &["kload::duplicate_setting"],
        ),
        (
            "auth and an Authorization header in one request",
            r#"user U { task a { GET "/" { header authorization: "x" auth bearer "t" } } }"#,
            &["kload::duplicate_setting"],
        ),
        (
            "a class's auth over the scenario's is no conflict, nor two headers",
            r#"scenario "s" { auth basic "a" "b" }
user U {
  auth bearer "t"
  task a { GET "/" { header Authorization: "x" header Authorization: "y" } }
}"#,
            &[],
        ),
        (
            "credentials are text",
            r#"user U { task a { GET "/" { auth basic null "p" } } }"#,
            &["kload::invalid_auth"],
        ),
        (
            "base64 and url_encode take text",
            r#"user U { task a { GET "/{{ base64([1]) }}/{{ url_encode(1) }}/{{ base64() }}" } }"#,
            &["kload::wrong_argument_type", "kload::wrong_arity"],
        ),
    ];
    for (what, source, expected) in cases {
        assert_eq!(codes(source), *expected, "{what}");
    }
}

#[test]
fn auth_becomes_an_authorization_header() {
    let source = r#"scenario "s" { auth basic "Aladdin" "open sesame" }
user U {
  auth bearer "{{ env("TOKEN") }}"
  task a { GET "/" { auth basic "{{ env("USER") }}" "x" } }
}"#;
    let ctx = Context {
        base_dir: golden_dir(),
        files: Vec::new(),
    };
    let plan = compile_source(source, &ctx).plan.expect("compiles");
    let class = &plan.classes[0];
    // The class's auth replaced the scenario's: one Authorization header, a secret.
    assert_eq!(class.headers.len(), 1);
    let header = &class.headers[0];
    assert_eq!(header.name, "authorization");
    assert!(header.secret);
    // Credentials never show where the header is named.
    assert_eq!(header.value.source, "auth bearer");
    let crate::ir::TaskBody::Steps(steps) = &class.tasks[0].body else {
        panic!("a task of steps")
    };
    let crate::ir::Step::Request(request) = &steps[0] else {
        panic!("a request")
    };
    assert_eq!(request.headers[0].value.source, "auth basic");
    // RFC 7617's example, written out once at compile time.
    let plan = compile_source(
        r#"user U { auth basic "Aladdin" "open sesame" task a { GET "/" } }"#,
        &ctx,
    )
    .plan
    .expect("compiles");
    assert_eq!(
        plan.classes[0].headers[0].value.as_literal(),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
}

#[test]
fn credentials_never_name_a_statistic() {
    let ctx = Context {
        base_dir: golden_dir(),
        files: Vec::new(),
    };
    let plan = compile_source(
        r#"user U { task a { GET "http://ann:pw@127.0.0.1:9/x" GET "http://{{ env("U") }}@127.0.0.1:9/y" } }"#,
        &ctx,
    )
    .plan
    .expect("compiles");
    let names: Vec<&str> = plan.stats.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["http://127.0.0.1:9/x", "http://127.0.0.1:9/y"]);
}

#[test]
fn a_threshold_line_wants_units() {
    let path = repo_dir().join("scenarios/kibray.kload");
    let text = std::fs::read_to_string(&path).unwrap();
    let plan = compile_source(&text, &Context::for_file(&path))
        .plan
        .expect("kibray compiles");
    for (line, message) in [
        ("p95 < 200 ms", "a space between `200` and its unit `ms`"),
        (
            "error_rate < 1",
            "the bound `1` of `error_rate` has no unit",
        ),
        ("p95 < 200", "the bound `200` of `p95` has no unit"),
    ] {
        let d = super::compile_threshold_line(line, &plan).unwrap_err();
        assert_eq!(d.message, message, "{line}");
    }
    let t = super::compile_threshold_line("error_rate < 0.5%", &plan).unwrap();
    assert_eq!(t.value, 0.005);
}

/// The variables and written values a plan treats as secret, and the checks that compare
/// with one.
mod secrets {
    use super::*;
    use crate::ir::{Plan, Step, TaskBody};

    fn plan(source: &str) -> Plan {
        let ctx = Context {
            base_dir: golden_dir(),
            files: Vec::new(),
        };
        let out = compile_source(source, &ctx);
        out.plan.unwrap_or_else(|| {
            panic!("compiles: {:?}", out.diagnostics);
        })
    }

    fn secret_vars(plan: &Plan) -> Vec<&str> {
        plan.variables
            .iter()
            .zip(&plan.secret_vars)
            .filter(|(_, s)| **s)
            .map(|(v, _)| v.as_str())
            .collect()
    }

    fn checks(plan: &Plan) -> Vec<&crate::ir::Check> {
        let mut out = Vec::new();
        for class in &plan.classes {
            for task in &class.tasks {
                let TaskBody::Steps(steps) = &task.body else {
                    continue;
                };
                for s in steps {
                    if let Step::Request(r) = s {
                        out.extend(r.checks.iter());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_marker_makes_variables_secret() {
        let plan = plan(
            r#"scenario "s" {
  let secret api_key = "k-123456"
  let secret = "not marked: a variable named secret"
}
user U {
  let secret short = "12"
  task t {
    let secret step_value = random_string(12)
    let plain = "visible value"
    GET "/{{ api_key }}/{{ secret }}/{{ short }}/{{ step_value }}/{{ plain }}" {
      capture secret token = jsonpath "$.token"
      capture seen = jsonpath "$.seen"
    }
    GET "/{{ token }}/{{ seen }}"
  }
}"#,
        );
        let mut vars = secret_vars(&plan);
        vars.sort();
        assert_eq!(vars, ["api_key", "short", "step_value", "token"]);
        // Written values are secret from the start; a value too short to mask is not.
        assert_eq!(plan.secret_literals, ["k-123456"]);
    }

    #[test]
    fn a_short_secret_is_a_warning() {
        let out = compile_source(
            r#"user U { let secret pin = "123" task t { GET "/{{ pin }}" } }"#,
            &Context::default(),
        );
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["kload::short_secret"]);
        assert!(out.plan.is_some(), "a warning only");
    }

    #[test]
    fn values_written_in_secret_places_are_secret() {
        let plan = plan(
            r#"scenario "s" {
  host "http://admin:hunter2%21@127.0.0.1:9"
  header X-Api-Key: "key-written-out"
  header Authorization: "Bearer bearer-written-out"
}
user U {
  auth basic "someone" "basic-password"
  let var_in_json = uuid()
  task t {
    GET "http://sk_live_username_only@127.0.0.1:9/x?api_key=query-key&page=2"
    POST "/login" {
      json {
        "username": "visible-user",
        "password": "json-password",
        "nested": { "client_secret": 123456789 },
        "token_of": "{{ var_in_json }}"
      }
    }
    POST "/form" {
      form { user: "visible-user", passwd: "form-password" }
      query otp: "query-otp-value"
    }
    POST "/multipart" {
      multipart {
        field pin: "multipart-pin"
        field note: "visible-note"
      }
    }
  }
}"#,
        );
        let mut expected = vec![
            "123456789",
            "Bearer bearer-written-out",
            "basic-password",
            "bearer-written-out",
            "form-password",
            "hunter2!",
            "hunter2%21",
            "json-password",
            "key-written-out",
            "multipart-pin",
            "query-key",
            "query-otp-value",
            "sk_live_username_only",
        ];
        expected.sort();
        assert_eq!(plan.secret_literals, expected);
        assert_eq!(secret_vars(&plan), ["var_in_json"]);
    }

    #[test]
    fn written_secrets_are_masked_in_names_thresholds_and_quoted_sources() {
        let plan = plan(
            r#"scenario "s" {
  let secret key = "sk-written-1234"
}
user U {
  task t {
    GET "/login?password=pw-in-the-url&page=2"
    if "{{ key }}" == "sk-written-1234" {
      GET "/keys/sk-written-1234"
    }
    GET "/plain"
  }
}
thresholds {
  p95("/login?password=pw-in-the-url&page=2") < 500ms
}"#,
        );
        let names: Vec<&str> = plan.stats.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["/login?password=***&page=2", "/keys/***", "/plain"]);
        let t = &plan.thresholds[0];
        assert_eq!(t.source, r#"p95("/login?password=***&page=2") < 500ms"#);
        assert_eq!(
            t.selector,
            crate::metrics::threshold::Selector::Name("/login?password=***&page=2".into())
        );
        // A threshold given on the command line names the request as written.
        for line in [
            "p95(/login?password=pw-in-the-url&page=2) < 1s",
            r#"p95("/login?password=pw-in-the-url&page=2") < 1s"#,
        ] {
            let t = crate::compile::compile_threshold_line(line, &plan)
                .unwrap_or_else(|d| panic!("{line}: {d:?}"));
            assert_eq!(t.selector, plan.thresholds[0].selector, "{line}");
            assert!(!t.source.contains("pw-in-the-url"), "{}", t.source);
        }
        let shown = crate::report::inspect::render(&plan, 1);
        for written in ["pw-in-the-url", "sk-written-1234"] {
            assert!(!shown.contains(written), "{written} in\n{shown}");
        }
        assert!(shown.contains("/keys/***"), "{shown}");
    }

    #[test]
    fn checks_that_compare_with_a_secret_never_show_it() {
        let plan = plan(
            r#"data accounts from "accounts.csv"
user U {
  let id = 7
  let secret later = "marked-after-use"
  task t {
    GET "/me" {
      check jsonpath "$.id" == {{ id }}
      check jsonpath "$.name" == {{ accounts.username }}
      check body contains "{{ env("TOKEN") }}"
      check jsonpath "$.t" == {{ token }}
      check jsonpath "$.l" != {{ later }}
      check header Set-Cookie exists
      check header Set-Cookie contains "x"
      check header Content-Type contains "json"
      capture token = jsonpath "$.token"
    }
    GET "/use" {
      auth bearer "{{ token }}"
    }
  }
}"#,
        );
        let shown: Vec<(bool, bool)> = checks(&plan)
            .iter()
            .map(|c| (c.operand_at.is_some(), c.secret))
            .collect();
        assert_eq!(
            shown,
            [
                (true, false),  // a plain variable is shown
                (false, true),  // a data-feed column
                (false, true),  // env()
                (false, true),  // made secret by a later `auth bearer`
                (false, true),  // marked secret
                (false, true),  // a secret header, even without a value compared
                (false, true),  // a secret header
                (false, false), // an ordinary header
            ]
        );
    }
}
