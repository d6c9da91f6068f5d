//! `kload run` with its web UI, end to end through the binary: the URL it prints (port 0
//! picks a free one), a test started from the form (`POST /swarm`) and printed and written
//! when it ends, Ctrl-C with and without a test running, `--autostart` and `--autoquit`,
//! and the refusals: every interface without a login, a malformed login (never echoed), a
//! port already taken.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::{INTERRUPTED, PATIENCE, Scenario, Spawned, TestServer, kload, text};

const SCENARIO: &str = r#"
user Reader {
  wait constant 50ms

  task read {
    GET "/json" {
      check status 200
    }
  }
}
"#;

/// An answer of the web UI.
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.0 request (the answer ends with the connection), as a script would send it.
fn http(url: &str, method: &str, path: &str, body: &str, auth: Option<&str>) -> Reply {
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(&authority).expect("the web UI accepts connections");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {authority}\r\n");
    if let Some(basic) = auth {
        request.push_str(&format!("Authorization: Basic {basic}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer}"));
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

fn get(url: &str, path: &str) -> Reply {
    http(url, "GET", path, "", None)
}

/// The URL kload printed, once it printed it.
fn web_url(ui: &mut Spawned) -> String {
    ui.wait_for_stderr("(Ctrl-C to quit)");
    let stderr = ui.stderr_so_far();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("web UI: "))
        .unwrap_or_else(|| panic!("no URL printed:\n{stderr}"));
    let url = line["web UI: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(!url.ends_with(":0"), "port 0 prints the real port: {line}");
    url
}

/// Polls `GET /stats/requests` until its `state` is `state`.
fn wait_for_state(url: &str, state: &str) -> Value {
    let start = Instant::now();
    loop {
        let stats = get(url, "/stats/requests").json();
        if stats["state"] == state {
            return stats;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "gave up waiting for state {state}: {stats}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_test_started_from_the_page_is_printed_and_written_and_ctrl_c_quits() {
    let server = TestServer::start();
    let scenario = Scenario::new(SCENARIO);
    let mut ui = scenario.spawn_ui(&[], &["-H", &server.url(), "-P", "0", "-u", "7"]);
    let url = web_url(&mut ui);

    let ready = get(&url, "/stats/requests").json();
    assert_eq!(ready["state"], "ready");
    assert_eq!(ready["user_count"], 0);
    let plan = get(&url, "/plan").json();
    assert_eq!(plan["users"], 7, "-u fills the form");
    assert_eq!(plan["host"], server.url());
    assert_eq!(server.log().len(), 0, "nothing is sent before Start");

    let started = http(
        &url,
        "POST",
        "/swarm",
        "user_count=2&spawn_rate=20&run_time=1s",
        None,
    );
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.json()["success"], true);
    let stopped = wait_for_state(&url, "stopped");
    assert!(server.count("/json") > 0);
    let rows = stopped["stats"].as_array().unwrap();
    assert_eq!(rows[0]["name"], "/json");
    assert!(rows[0]["num_requests"].as_u64().unwrap() > 0);
    let csv = get(&url, "/stats/requests/csv");
    assert!(
        csv.headers
            .contains("content-disposition: attachment; filename=\"kload_"),
        "{}",
        csv.headers
    );
    assert!(
        csv.body.starts_with("Type,Name,Request Count,"),
        "{}",
        csv.body
    );

    // The test's end is printed and written as a headless run's.
    ui.interrupt();
    let finished = ui.wait();
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert_eq!(finished.json()["info"]["users"], 2);
    assert!(
        finished.stdout.contains("Aggregated"),
        "{}",
        finished.text()
    );
}

#[test]
fn ctrl_c_stops_the_running_test_writes_it_and_exits_as_interrupted() {
    let server = TestServer::start();
    let scenario = Scenario::new(SCENARIO);
    let mut ui = scenario.spawn_ui(
        &[],
        &[
            "-H",
            &server.url(),
            "-P",
            "0",
            "--autostart",
            "-u",
            "2",
            "-r",
            "20",
        ],
    );
    let url = web_url(&mut ui);
    ui.wait_for(&server, "requests", |hits| hits.len() >= 5);
    let running = get(&url, "/stats/requests").json();
    assert!(
        running["state"] == "running" || running["state"] == "spawning",
        "{running}"
    );
    ui.interrupt();
    let finished = ui.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    assert!(
        finished
            .stderr
            .contains("stopping: letting running tasks finish")
    );
    assert!(finished.json()["info"]["outcome"]["interrupted"] == true);
    assert!(finished.requests("/json") > 0);
}

#[test]
fn autostart_and_autoquit_run_the_flags_test_then_quit() {
    let server = TestServer::start();
    let scenario = Scenario::new(SCENARIO);
    let mut ui = scenario.spawn_ui(
        &[("KLOAD_AUTOQUIT", "0")],
        &[
            "-H",
            &server.url(),
            "-P",
            "0",
            "--autostart",
            "-u",
            "3",
            "-r",
            "30",
            "-t",
            "1s",
        ],
    );
    let finished = ui.wait();
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert!(finished.stderr.contains("web UI: http://127.0.0.1:"));
    assert!(
        finished.stderr.contains("--autoquit"),
        "{}",
        finished.text()
    );
    assert_eq!(finished.json()["info"]["users"], 3);
    assert!(finished.requests("/json") > 0);

    // --autoquit means nothing without --autostart: clap says so.
    let o = kload(&["run", "x.kload", "--autoquit", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--autostart"), "{}", text(&o));
}

#[test]
fn the_web_ui_needs_a_login_off_loopback_and_never_echoes_it() {
    let scenario = Scenario::new(SCENARIO);
    let path = scenario.path.to_str().unwrap();
    let o = kload(&["run", path, "--web-host", "0.0.0.0", "-P", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("refusing to serve the web UI on 0.0.0.0 without a login"));

    let o = kload(&["run", path, "-P", "0", "--web-login", "hunter2-no-colon"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--web-login"), "{}", text(&o));
    assert!(!text(&o).contains("hunter2"), "the password was printed");
    // Nor does --help show the environment's value.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(["run", "--help"])
        .env("KLOAD_WEB_LOGIN", "ann:hunter2-in-env")
        .output()
        .unwrap();
    assert!(
        !text(&help).contains("hunter2"),
        "--help shows the password"
    );

    // With a login, every interface; the page asks for it.
    let mut ui = scenario.spawn_ui(
        &[("KLOAD_WEB_LOGIN", "ann:hunter2-in-env")],
        &["--web-host", "0.0.0.0", "-P", "0"],
    );
    let url = web_url(&mut ui);
    let refused = get(&url, "/stats/requests");
    assert_eq!(refused.status, 401);
    assert!(
        refused.headers.contains("www-authenticate: basic"),
        "{}",
        refused.headers
    );
    // base64("ann:hunter2-in-env")
    let allowed = http(
        &url,
        "GET",
        "/stats/requests",
        "",
        Some("YW5uOmh1bnRlcjItaW4tZW52"),
    );
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(!ui.stderr_so_far().contains("hunter2"));
    ui.interrupt();
    let finished = ui.wait();
    assert_eq!(finished.code(), Some(0), "no test ran: {}", finished.text());
}

#[test]
fn a_taken_port_is_refused_with_a_hint() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let scenario = Scenario::new(SCENARIO);
    let o = kload(&["run", scenario.path.to_str().unwrap(), "-P", &port]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("cannot listen on 127.0.0.1:"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("-P/--web-port"), "{}", text(&o));
}

#[test]
fn flags_that_follow_one_headless_run_are_refused_with_the_web_ui() {
    let scenario = Scenario::new(SCENARIO);
    let file = scenario.path.to_str().unwrap();
    for (flags, named) in [
        (
            &["--prometheus-listen", "127.0.0.1:0"][..],
            "--prometheus-listen",
        ),
        (&["--json", "-"][..], "--json -"),
        (
            &["--segment", "1/2", "--start-at", "2026-12-05T10:00:00Z"][..],
            "--segment",
        ),
    ] {
        let mut args = vec!["run", file, "-P", "0"];
        args.extend_from_slice(flags);
        let o = kload(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o));
        let expected = format!("error: {named} needs --headless");
        assert!(text(&o).contains(&expected), "{flags:?}: {}", text(&o));
        // Refused before serving anything.
        assert!(
            !text(&o).contains("web UI: http"),
            "{flags:?}: {}",
            text(&o)
        );
    }
}
