//! Secrets never leave (issue #10): a scenario logs in, uses the token, and fails checks on
//! responses that echo the token, the password, an environment value and a value written in
//! the file. Every output of `kload run` (terminal, JSON, HTML, CSV, JUnit), of
//! `--dry-run` and `kload smoke` (with every exchange, `-vv`), and the snapshots a web UI reads are searched for them:
//! none may hold any, while the failures are still reported, with `***` where the value was.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode};
use base64::Engine as _;
use kload::compile::Context;
use kload::session::{self, Options};

use super::support::{PATIENCE, Scenario, refused_port};

/// What the server hands out at login.
const TOKEN: &str = "tok9f3a1c2b7d5e0011";
/// The password of the data file's rows (`/`, a space and a letter after the core).
const PASSWORD_CORE: &str = "CorrectHorse7";
/// The environment value (with characters that are encoded in a query).
const ENV_NAME: &str = "KLOAD_SECRETS_TEST_KEY";
const ENV_VALUE: &str = "envKey8d2f6a1b/+=";
/// `let secret signing = ...` in the file.
const LITERAL: &str = "litSign5e7c9a&<x";
/// A value written in a JSON member named like a token.
const JSON_LITERAL: &str = "litApi3b1d9e77";
/// The password of the host given with `-H`.
const HOST_PASSWORD: &str = "hostPass9c1e";
/// A basic-auth password: the default of an `env()` that is not set.
const BASIC_PASSWORD: &str = "basicPw4a8c0e";
/// A password written in a request's URL, which names the request.
const URL_PASSWORD: &str = "urlPw7e3b5d1a";

/// The parts of each secret that no output may contain (a part also catches a secret cut
/// short or encoded around its edges).
const NEEDLES: [&str; 8] = [
    "tok9f3a1c2b7d5e",
    PASSWORD_CORE,
    "envKey8d2f6a1b",
    "litSign5e7c9a",
    JSON_LITERAL,
    HOST_PASSWORD,
    BASIC_PASSWORD,
    URL_PASSWORD,
];

const ACCOUNTS: &str =
    "username,password\nloaduser01,pw/CorrectHorse7 x\nloaduser02,pw/CorrectHorse7 y\n";

/// The scenario; `key` is the expression of the key sent in a query (an `env()` call).
fn source(refused: u16, key: &str) -> String {
    format!(
        r#"# The secrets test: a login, a token, a password, an environment value, a written secret.
scenario "Secrets" {{
  let secret signing = "{LITERAL}"
}}

data accounts from "accounts.csv"

user Member {{
  auth bearer "{{{{ token }}}}"
  header X-Signature: "{{{{ signing }}}}"

  on start {{
    POST "/login" {{
      json {{
        "username": "{{{{ accounts.username }}}}",
        "password": "{{{{ accounts.password }}}}"
      }}
      check status 200
      capture token = jsonpath "$.access"
    }}
  }}

  task echoes {{
    GET "/me" {{
      name "auth echoed"
      check jsonpath "$.auth" == "Bearer expected"
    }}
    GET "/me" {{
      name "signature echoed"
      check jsonpath "$.signature" == "expected"
    }}
    GET "/me" {{
      name "key echoed"
      query key: "{{{{ {key} }}}}"
      check jsonpath "$.key" == "expected"
    }}
    GET "/me" {{
      name "header echoed"
      check header X-Echo-Auth == "expected"
    }}
    POST "/echo" {{
      name "password echoed"
      json {{
        "password": "{{{{ accounts.password }}}}"
      }}
      check jsonpath "$.echo" == "expected"
    }}
    POST "/echo" {{
      name "literal echoed"
      json {{
        "api_token": "{JSON_LITERAL}"
      }}
      check jsonpath "$.echo" == "expected"
    }}
    GET "/me" {{
      name "basic echoed"
      auth basic "load" "{{{{ env("KLOAD_SECRETS_TEST_UNSET", "{BASIC_PASSWORD}") }}}}"
      check jsonpath "$.basic" == "expected"
    }}
    GET "/me?password={URL_PASSWORD}" {{
      check jsonpath "$.key" == "expected"
    }}
    GET "/me" {{
      name "long echo"
      check jsonpath "$.long" == "expected"
    }}
    GET "/me" {{
      name "compared with the token"
      check jsonpath "$.auth" == "{{{{ token }}}}"
    }}
    GET "/loop/{{{{ token }}}}" {{
      name "redirect loop"
    }}
    POST "/echo" {{
      name "template error"
      json {{
        "api_token": "{JSON_LITERAL}",
        "n": {{{{ random_int(1, accounts.password) }}}}
      }}
    }}
    GET "http://127.0.0.1:{refused}/down/{{{{ token }}}}?key={{{{ {key} }}}}" {{
      name "refused"
    }}
  }}
}}

thresholds {{
  error_rate("/me?password={URL_PASSWORD}") < 1%
}}
"#
    )
}

// ---------------------------------------------------------------------------------------
// The target: a login that hands out a token, and endpoints that echo what they were sent

struct Target {
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
    /// Requests that followed the redirect loop: the last but two of the task.
    loops: Arc<AtomicUsize>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::from(value.to_string()))
        .unwrap()
}

async fn answer(
    State(loops): State<Arc<AtomicUsize>>,
    request: axum::extract::Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let header = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let path = parts.uri.path().to_string();
    match (parts.method.as_str(), path.as_str()) {
        ("POST", "/login") => {
            let login: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let accounts: Vec<(String, String)> = ACCOUNTS
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(','))
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect();
            let known = accounts
                .iter()
                .any(|(u, p)| login["username"] == u.as_str() && login["password"] == p.as_str());
            if known {
                json(StatusCode::OK, serde_json::json!({ "access": TOKEN }))
            } else {
                json(
                    StatusCode::UNAUTHORIZED,
                    serde_json::json!({ "detail": "bad login" }),
                )
            }
        }
        ("GET", "/me") => {
            let key = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "key")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let auth = header(&parts.headers, "authorization");
            let basic = auth
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let mut response = json(
                StatusCode::OK,
                serde_json::json!({
                    "auth": auth,
                    "signature": header(&parts.headers, "x-signature"),
                    "key": key,
                    "basic": basic,
                    // Long enough that a message quoting it is cut inside the token.
                    "long": format!("{}{auth}", ".".repeat(96)),
                }),
            );
            response
                .headers_mut()
                .insert("X-Echo-Auth", auth.parse().unwrap());
            response
        }
        ("POST", "/echo") => json(StatusCode::OK, serde_json::json!({ "echo": body })),
        // A redirect to itself, forever: the token is in the path it names.
        ("GET", p) if p.starts_with("/loop/") => {
            loops.fetch_add(1, Ordering::SeqCst);
            Response::builder()
                .status(StatusCode::FOUND)
                .header("Location", p)
                .body(Body::empty())
                .unwrap()
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap(),
    }
}

fn target() -> Target {
    let (runtime, listener) = super::support::server_runtime();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let loops = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(loops.clone());
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Target {
        runtime: Some(runtime),
        url,
        loops,
    }
}

// ---------------------------------------------------------------------------------------

/// Every file under `dir`, with its text.
fn files_in(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
    out.sort();
    out
}

/// Fails with where each secret was found, if anywhere.
fn assert_no_secret(outputs: &[(String, String)]) {
    let mut leaks = Vec::new();
    for (what, text) in outputs {
        for needle in NEEDLES {
            for (at, _) in text.match_indices(needle) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(60)
                    .map_or(0, |(i, _)| i);
                let to = text[at..]
                    .char_indices()
                    .nth(60 + needle.len())
                    .map_or(text.len(), |(i, _)| at + i);
                leaks.push(format!("{what}: `{needle}` in …{}…", &text[from..to]));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// The exposition at `url` once it counts failed requests (a frame is published on each
/// snapshot, about once a second).
fn scrape_failures(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let started = Instant::now();
        loop {
            let body = reqwest::get(url).await.unwrap().text().await.unwrap();
            let counted = body.lines().any(|l| {
                l.starts_with("kload_request_failures_total{")
                    && l.contains(r#"name="redirect loop""#)
            });
            if counted {
                return body;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "no failures at {url}:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// `kload ARGS` with the environment value set; (stdout, stderr).
fn kload_with_env(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(args)
        .env("NO_COLOR", "1")
        .env(ENV_NAME, ENV_VALUE)
        .output()
        .expect("kload runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn secrets_never_leave_any_output() {
    let server = target();
    let key = format!("env(\"{ENV_NAME}\")");
    let scenario = Scenario::new(&source(refused_port(), &key)).with_file("accounts.csv", ACCOUNTS);
    let reports = tempfile::tempdir().unwrap();
    let at = |name: &str| reports.path().join(name).display().to_string();
    let host = server
        .url
        .replace("http://", &format!("http://load:{HOST_PASSWORD}@"));
    let mut run = scenario.spawn_with_env(
        &[(ENV_NAME, ENV_VALUE)],
        &[
            "-H",
            &host,
            "-u",
            "2",
            "-r",
            "10",
            "--html",
            &at("report.html"),
            "--csv",
            &at("run"),
            "--junit",
            &at("junit.xml"),
            "--prometheus-listen",
            "127.0.0.1:0",
        ],
    );
    run.wait_for_stderr("/metrics");
    let stderr = run.stderr_so_far();
    let metrics = stderr
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/metrics"))
        .unwrap_or_else(|| panic!("no /metrics URL in:\n{stderr}"))
        .to_string();
    // Three times through the redirect loop (11 requests each): every request of the task
    // before it failed at least three times, and those after it at least twice.
    let started = Instant::now();
    while server.loops.load(Ordering::SeqCst) < 33 {
        assert!(!run.has_exited(), "kload exited early");
        assert!(started.elapsed() < PATIENCE, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What Prometheus scrapes meanwhile: failures by kind, labelled with request names.
    let scraped = scrape_failures(&metrics);
    run.interrupt();
    let finished = run.wait();
    assert_eq!(
        finished.code(),
        Some(super::support::INTERRUPTED),
        "{}",
        finished.text()
    );

    // The checks failed and are reported, with `***` where the secret was.
    let rows = |name: &str| {
        finished
            .failure_rows(name)
            .into_iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (name, shown) in [
        // The header's whole value is a secret, scheme included.
        ("auth echoed", "\"Bearer expected\"`: got ***"),
        ("signature echoed", "got ***"),
        ("key echoed", "got ***"),
        ("header echoed", "header got ***"),
        ("password echoed", r#"got {"password":"***"}"#),
        ("literal echoed", r#"got {"api_token":"***"}"#),
        ("long echo", "got ........"),
        // The user and password the header encodes are a secret, and so is the password.
        ("basic echoed", "\"expected\"`: got ***"),
        (
            "compared with the token",
            r#"`check jsonpath "$.auth" == "{{ token }}"`: got ***"#,
        ),
        ("redirect loop", "/loop/***"),
        // Named by its URL as written, the password in it masked.
        ("/me?password=***", "\"expected\"`: got"),
        ("template error", r#"expected a whole number, got "***""#),
    ] {
        assert!(finished.failures(name) > 0, "{name}: {}", finished.text());
        assert!(
            rows(name).contains(shown),
            "{name}: `{shown}` in\n{}",
            rows(name)
        );
    }
    assert!(finished.failures("refused") > 0, "{}", finished.text());
    // The source is in the result, the secret written in it masked.
    let recorded = finished.json()["info"]["scenario_source"].as_str().unwrap();
    assert!(
        recorded.contains(r#"let secret signing = "***""#),
        "{recorded}"
    );
    // The terminal shows the failures and the scenario error, masked.
    assert!(
        finished.stdout.contains(r#"got {"password":"***"}"#),
        "{}",
        finished.stdout
    );
    assert!(
        finished.stdout.contains("template error at run time"),
        "{}",
        finished.stdout
    );
    // The request it points at is shown with the secret written in it masked.
    let masked = format!(r#""api_token": "{}""#, "*".repeat(JSON_LITERAL.len()));
    assert!(finished.stdout.contains(&masked), "{}", finished.stdout);

    let mut outputs = vec![
        ("run stdout".to_string(), finished.stdout.clone()),
        ("run stderr".to_string(), finished.stderr.clone()),
        ("/metrics".to_string(), scraped),
    ];
    let written = files_in(reports.path());
    let names: Vec<&str> = written
        .iter()
        .filter_map(|(p, _)| Path::new(p).file_name()?.to_str())
        .collect();
    assert_eq!(
        names,
        [
            "junit.xml",
            "report.html",
            "run_exceptions.csv",
            "run_failures.csv",
            "run_stats.csv",
            "run_stats_history.csv"
        ]
    );
    for (path, text) in &written {
        if path.ends_with(".xml") || path.ends_with("_failures.csv") || path.ends_with(".html") {
            assert!(
                text.contains("***"),
                "{path} shows the masked failures:\n{text}"
            );
        }
    }
    outputs.extend(written);
    outputs.extend(
        files_in(scenario.dir())
            .into_iter()
            .filter(|(p, _)| p.ends_with(".json")),
    );

    // One request of each: a dry run and `kload smoke`.
    let path = scenario.path.display().to_string();
    // `smoke -vv` prints every request as sent and every response as received.
    for args in [
        vec!["smoke", &path, "-H", &host],
        vec!["smoke", &path, "-H", &host, "-vv"],
        vec!["run", &path, "-H", &host, "--dry-run"],
    ] {
        let (stdout, stderr) = kload_with_env(&args);
        assert!(
            stdout.contains(r#"got {"password":"***"}"#),
            "{args:?}:\n{stdout}{stderr}"
        );
        if args.contains(&"-vv") {
            // Exchanges were printed: a header that is secret by its value only is masked.
            assert!(
                stdout.contains("> x-signature: ***"),
                "{args:?}:\n{stdout}{stderr}"
            );
        }
        outputs.push((format!("{args:?} stdout"), stdout));
        outputs.push((format!("{args:?} stderr"), stderr));
    }
    assert_no_secret(&outputs);
}

#[test]
fn no_source_leaves_the_source_out_of_json_and_html() {
    let server = target();
    let key = format!("env(\"{ENV_NAME}\")");
    let scenario = Scenario::new(&source(refused_port(), &key)).with_file("accounts.csv", ACCOUNTS);
    let reports = tempfile::tempdir().unwrap();
    let html = reports.path().join("report.html").display().to_string();
    let marker = "# The secrets test";
    for (flags, kept) in [(vec![], true), (vec!["--no-source"], false)] {
        let mut args = vec!["-H", server.url.as_str(), "-t", "1s", "--html", &html];
        args.extend(flags);
        let finished = scenario.run_with_env(&[(ENV_NAME, ENV_VALUE)], &args);
        let recorded = finished.json()["info"]["scenario_source"].as_str().unwrap();
        let page = std::fs::read_to_string(&html).unwrap();
        assert_eq!(recorded.contains(marker), kept, "{args:?}: {recorded}");
        assert_eq!(page.contains(marker), kept, "{args:?}");
        // The fingerprint of the scenario is kept either way.
        assert_eq!(
            finished.json()["info"]["scenario_sha256"]
                .as_str()
                .map(str::len),
            Some(64)
        );
    }
}

/// What a web UI shows while the run goes on (the session's snapshots) holds no secret
/// either, and neither does the result of the library call.
#[test]
fn snapshots_and_the_result_of_a_session_hold_no_secret() {
    let server = target();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.csv"), ACCOUNTS).unwrap();
    let path = dir.path().join("secrets.kload");
    // In process, without touching the environment: the key is a data-feed value here.
    let text = source(refused_port(), "accounts.username");
    let scenario = Arc::new(
        session::Scenario::from_source(&path, &text, &Context::for_file(&path))
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    let options = Options {
        host: Some(server.url.clone()),
        users: Some(2),
        spawn_rate: Some(10.0),
        ..Options::default()
    };
    let prepared = session::prepare(scenario, options).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let run = prepared.start();
        let every_kind = |s: &session::Snapshot| {
            [
                "auth echoed",
                "password echoed",
                "template error",
                "key echoed",
            ]
            .iter()
            .all(|n| s.table.failures.iter().any(|f| f.name == *n))
        };
        tokio::time::timeout(PATIENCE, async {
            while !every_kind(&run.snapshot()) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no failures: {:?}", run.snapshot().table.failures));
        let snapshot = format!("{:?}", run.snapshot());
        assert!(snapshot.contains("***"), "{snapshot}");
        let live = format!("{:?}", run.summary());
        run.stop();
        let finished = run.finish().await;
        let outputs = vec![
            ("snapshot".to_string(), snapshot),
            ("summary while running".to_string(), live),
            (
                "final summary".to_string(),
                format!("{:?}", finished.summary),
            ),
            (
                "scenario errors".to_string(),
                format!("{:?}", finished.scenario_errors),
            ),
            ("source for messages".to_string(), run.source_for_messages()),
        ];
        assert_no_secret(&outputs);
    });
}
