//! What the tests share: running the `kload` binary, scratch scenario files, and
//! [`TestServer`], an HTTP target on 127.0.0.1:0 that records every request it gets.

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode};
use kload::demo::{DemoConfig, DemoServer};
use serde_json::Value;

/// The exit code of a run stopped by Ctrl-C or SIGTERM (results written, run incomplete).
pub const INTERRUPTED: i32 = 130;

/// How long a test waits for something it expects before it gives up and fails. Generous:
/// it only bounds a broken run, it is never what a test measures.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn kload(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kload"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("kload runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn scratch(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    (dir, path)
}

/// The demo target without latency, errors or throttling.
pub fn demo() -> (tokio::runtime::Runtime, DemoServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = DemoConfig {
        latency_scale: 0.0,
        error_rate: 0.0,
        seed: 1,
        throttle_per_minute: None,
    };
    let server = rt
        .block_on(DemoServer::start("127.0.0.1:0".parse().unwrap(), config))
        .unwrap();
    (rt, server)
}

// ---------------------------------------------------------------------------------------
// Measurements that need the machine to themselves

/// Every `kload` process a test starts holds a share of the machine while it runs; a test that
/// compares timings with the truth takes it whole ([`alone`]), so that no other test's load
/// shares its two cores (tests run in parallel, and CI has two cores).
///
/// Not an `RwLock`: std's blocks new readers while a writer waits, so a test that starts a
/// second process while holding a share of its first would deadlock with a waiting timing
/// test. Here shares are only refused while the machine is actually held whole.
struct Machine {
    /// Running shares, and whether a test holds the machine whole.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

static MACHINE: Machine = Machine {
    state: Mutex::new((0, false)),
    changed: Condvar::new(),
};

thread_local! {
    /// Whether this test thread holds the machine whole (its own runs then take no share).
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

impl Machine {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_until(
        &self,
        ready: impl Fn(&(usize, bool)) -> bool,
    ) -> std::sync::MutexGuard<'_, (usize, bool)> {
        let mut state = self.lock();
        while !ready(&state) {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }
}

/// The machine to this test alone, until the guard is dropped: waits for the `kload`
/// processes of other tests to end, and keeps new ones from starting.
pub fn alone() -> Alone {
    MACHINE
        .wait_until(|&(shares, whole)| shares == 0 && !whole)
        .1 = true;
    ALONE.with(|a| a.set(true));
    Alone
}

pub struct Alone;

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.with(|a| a.set(false));
        MACHINE.lock().1 = false;
        MACHINE.changed.notify_all();
    }
}

/// A running process's share of the machine (see [`alone`]).
struct Share;

impl Drop for Share {
    fn drop(&mut self) {
        MACHINE.lock().0 -= 1;
        MACHINE.changed.notify_all();
    }
}

fn share_of_machine() -> Option<Share> {
    if ALONE.with(Cell::get) {
        return None;
    }
    MACHINE.wait_until(|&(_, whole)| !whole).0 += 1;
    Some(Share)
}

// ---------------------------------------------------------------------------------------
// Scenarios and runs of the binary

/// A scenario file in a temporary directory, with room for data files beside it.
pub struct Scenario {
    dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Scenario {
    pub fn new(source: &str) -> Scenario {
        let (dir, path) = scratch("test.kload", source);
        Scenario { dir, path }
    }

    /// Writes a file next to the scenario (a data feed).
    pub fn with_file(self, name: &str, contents: &str) -> Scenario {
        std::fs::write(self.dir.path().join(name), contents).unwrap();
        self
    }

    fn command(&self, args: &[&str]) -> (Command, PathBuf) {
        let (mut command, json) = self.command_with_ui(args);
        command.arg("--headless");
        (command, json)
    }

    /// `kload run FILE --only-summary --json ... ARGS`: the web UI unless ARGS say
    /// `--headless`.
    fn command_with_ui(&self, args: &[&str]) -> (Command, PathBuf) {
        let json = self.dir.path().join("result.json");
        let _ = std::fs::remove_file(&json);
        let mut command = Command::new(env!("CARGO_BIN_EXE_kload"));
        command
            .arg("run")
            .arg(&self.path)
            .args(["--only-summary", "--json"])
            .arg(&json)
            .args(args)
            .env("NO_COLOR", "1");
        (command, json)
    }

    /// Runs `kload run FILE --headless --only-summary --json ... ARGS` to the end.
    pub fn run(&self, args: &[&str]) -> Finished {
        let (mut command, json) = self.command(args);
        let mut child = Spawned::spawn(&mut command, json);
        child.wait()
    }

    /// [`run`](Self::run) with extra environment variables.
    pub fn run_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> Finished {
        let (mut command, json) = self.command(args);
        command.envs(env.iter().copied());
        let mut child = Spawned::spawn(&mut command, json);
        child.wait()
    }

    /// Starts the same command and returns at once, to be stopped by the test.
    pub fn spawn(&self, args: &[&str]) -> Spawned {
        self.spawn_with_env(&[], args)
    }

    /// [`spawn`](Self::spawn) with extra environment variables.
    pub fn spawn_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> Spawned {
        let (mut command, json) = self.command(args);
        command.envs(env.iter().copied());
        Spawned::spawn(&mut command, json)
    }

    /// The folder the scenario is in (for report files next to it).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts `kload run` with its web UI (no `--headless`), with extra environment
    /// variables, and returns at once.
    pub fn spawn_ui(&self, env: &[(&str, &str)], args: &[&str]) -> Spawned {
        let (mut command, json) = self.command_with_ui(args);
        command.envs(env.iter().copied());
        Spawned::spawn(&mut command, json)
    }
}

/// The distinct paths a run of `source` with these flags (tag filters, say) requested from a
/// [`TestServer`] in its first 60 requests: 2 users, seed 3, stopped with Ctrl-C.
pub fn paths_requested(source: &str, flags: &[&str]) -> std::collections::BTreeSet<String> {
    let server = TestServer::start();
    let scenario = Scenario::new(source);
    let url = server.url();
    let mut args = vec!["-H", &url, "-u", "2", "-r", "100", "--seed", "3"];
    args.extend_from_slice(flags);
    let mut run = scenario.spawn(&args);
    run.wait_for(&server, "60 requests", |log| log.len() >= 60);
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(INTERRUPTED), "{}", finished.text());
    server.log().into_iter().map(|h| h.path).collect()
}

/// A running `kload` process whose output is collected as it comes.
pub struct Spawned {
    child: Child,
    json: PathBuf,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    /// Held while the process may run (see [`alone`]).
    _share: Option<Share>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

impl Spawned {
    fn spawn(command: &mut Command, json: PathBuf) -> Spawned {
        let share = share_of_machine();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kload starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Spawned {
            child,
            json,
            stdout,
            stderr,
            readers,
            _share: share,
        }
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -INT failed");
    }

    /// Waits until `ready` holds for the server's log; fails the test if kload exits first
    /// or nothing happens within [`PATIENCE`].
    pub fn wait_for(&mut self, server: &TestServer, what: &str, ready: impl Fn(&[Hit]) -> bool) {
        let start = Instant::now();
        loop {
            if ready(&server.log()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "kload exited ({status}) before {what}:\n{}",
                    self.output_so_far()
                );
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("gave up waiting for {what}:\n{}", self.output_so_far());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until kload's standard error contains `needle`.
    pub fn wait_for_stderr(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.stderr.lock().unwrap().contains(needle) {
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("gave up waiting for `{needle}`:\n{}", self.output_so_far());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// kload's standard error so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn output_so_far(&self) -> String {
        format!(
            "{}{}",
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }

    /// Whether the process has ended.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for the process to end (killing it and failing after [`PATIENCE`]).
    pub fn wait(&mut self) -> Finished {
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status;
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("kload did not exit:\n{}", self.output_so_far());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let json = std::fs::read_to_string(&self.json).ok().map(|t| {
            serde_json::from_str(&t).unwrap_or_else(|e| {
                let end = t.len().min(400);
                panic!(
                    "the result is not JSON ({e}; {} bytes): {}...\n{}",
                    t.len(),
                    &t[..end],
                    self.output_so_far()
                )
            })
        });
        Finished {
            status,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
            json,
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // A failed test must not leave a load generator running.
        if !self.has_exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A finished run: exit status, output and the `--json` result, if one was written.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub json: Option<Value>,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output and standard error, for assertion messages.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    pub fn json(&self) -> &Value {
        self.json
            .as_ref()
            .unwrap_or_else(|| panic!("no --json result:\n{}", self.text()))
    }

    /// Users at each second of the run (the raw series' ticks, each holding until the next).
    pub fn users_over_time(&self) -> Vec<u64> {
        let mut current = 0;
        self.json()["series"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                if let Some(u) = row["users"].as_u64() {
                    current = u;
                }
                current
            })
            .collect()
    }

    /// The result entry of the request reported under `name`.
    pub fn entry(&self, name: &str) -> &Value {
        self.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no entry `{name}`:\n{}", self.text()))
    }

    /// Requests made under `name`.
    pub fn requests(&self, name: &str) -> u64 {
        self.entry(name)["requests"].as_u64().unwrap()
    }

    /// Failed requests under `name`.
    pub fn failures(&self, name: &str) -> u64 {
        self.entry(name)["failures"].as_u64().unwrap()
    }

    /// `errors_by_kind[kind]`, 0 when absent.
    pub fn errors_of_kind(&self, kind: &str) -> u64 {
        self.json()["errors_by_kind"][kind].as_u64().unwrap_or(0)
    }

    /// The (kind, message) rows of the failures table for the request `name`.
    pub fn failure_rows(&self, name: &str) -> Vec<(String, String)> {
        self.json()["failures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["name"] == name)
            .map(|f| {
                // As the reports show a row: what failed, then examples of what differed.
                let mut text = f["message"].as_str().unwrap().to_string();
                if let Some(examples) = f["examples"].as_array() {
                    let examples: Vec<&str> =
                        examples.iter().map(|e| e.as_str().unwrap()).collect();
                    text = format!("{text}: {}", examples.join(" | "));
                }
                (f["kind"].as_str().unwrap().to_string(), text)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The recording target

/// One request the test server received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: String,
    /// When the request came, as a count of the server's events (arrivals and answers).
    pub arrived: u64,
    /// When the server had its answer ready, on the same count; `None` while a `/sleep`
    /// is still sleeping, or when the client went away first.
    pub answered: Option<u64>,
}

impl Hit {
    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the server answered.
    pub fn done(&self) -> bool {
        self.answered.is_some()
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Log {
    hits: Mutex<Vec<Hit>>,
    cookies: AtomicU64,
    events: AtomicU64,
}

/// An HTTP/1 server on 127.0.0.1:0 that records every request (see [`Hit`]) and answers by
/// path:
///
/// | path | answer |
/// |---|---|
/// | `/status/N` | status N |
/// | `/sleep/MS` | 200 after MS milliseconds |
/// | `/cookie` | 200, `Set-Cookie: sid=N` with N unique per request, N as the body |
/// | `/json` | `{"items": [{"id": 1}, {"id": 2}, {"id": 3}], "token": "abc", "note": "order-42"}`, header `X-Token: h-7`, cookie `flavour=oat` |
/// | `/echo/N` | status N, the request's body as the body |
/// | `/redirect-loop` | 302 to itself |
/// | anything else | 200 `ok` |
pub struct TestServer {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    log: Arc<Log>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let (runtime, listener) = server_runtime();
        let log = Arc::new(Log::default());
        let app = axum::Router::new().fallback(answer).with_state(log.clone());
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer {
            runtime: Some(runtime),
            addr,
            log,
        }
    }

    /// `http://127.0.0.1:PORT`, for `-H`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in the order they arrived.
    pub fn log(&self) -> Vec<Hit> {
        self.log.hits.lock().unwrap().clone()
    }

    /// The requests to exactly this path.
    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.log().into_iter().filter(|h| h.path == path).collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.hits(path).len()
    }
}

/// A one-thread runtime for an in-process target, and its listener on 127.0.0.1, port 0.
pub fn server_runtime() -> (tokio::runtime::Runtime, tokio::net::TcpListener) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    (runtime, listener)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Handlers may still be sleeping; do not wait for them.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn answer(State(log): State<Arc<Log>>, request: axum::extract::Request) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let query = reqwest::Url::parse(&format!(
        "http://x/?{}",
        parts.uri.query().unwrap_or_default()
    ))
    .map(|u| u.query_pairs().into_owned().collect())
    .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let index = {
        let mut hits = log.hits.lock().unwrap();
        hits.push(Hit {
            path: path.clone(),
            query,
            headers: parts.headers.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            arrived: log.events.fetch_add(1, Ordering::SeqCst),
            answered: None,
        });
        hits.len() - 1
    };
    let response = Response::builder();
    let number = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|n| n.parse::<u64>().ok())
    };
    let response = if let Some(code) = number("/status/") {
        response
            .status(StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST))
            .body(Body::from(format!("status {code}")))
    } else if let Some(code) = number("/echo/") {
        response
            .status(StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST))
            .header("Content-Type", "application/json")
            .body(Body::from(body.clone()))
    } else if let Some(ms) = number("/sleep/") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        response.body(Body::from("slept"))
    } else if path == "/redirect-loop" {
        response
            .status(StatusCode::FOUND)
            .header("Location", "/redirect-loop")
            .body(Body::from("again"))
    } else if path == "/cookie" {
        let n = log.cookies.fetch_add(1, Ordering::Relaxed) + 1;
        response
            .header("Set-Cookie", format!("sid={n}; Path=/"))
            .body(Body::from(n.to_string()))
    } else if path == "/json" {
        response
            .header("Content-Type", "application/json")
            .header("X-Token", "h-7")
            .header("Set-Cookie", "flavour=oat; Path=/")
            .body(Body::from(
                r#"{"items": [{"id": 1}, {"id": 2}, {"id": 3}], "token": "abc", "note": "order-42"}"#,
            ))
    } else {
        response.body(Body::from("ok"))
    };
    log.hits.lock().unwrap()[index].answered = Some(log.events.fetch_add(1, Ordering::SeqCst));
    response.unwrap()
}

// ---------------------------------------------------------------------------------------
// Targets that misbehave at the TCP level

/// A port nothing listens on: connecting is refused.
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A port that accepts, reads the request and closes without answering.
pub fn closing_port() -> u16 {
    raw_target(|_| {})
}

/// A port that answers every request with something that is not HTTP (an SSH banner).
pub fn garbage_port() -> u16 {
    raw_target(|stream| {
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
        let _ = stream.flush();
    })
}

/// A port that accepts, reads the request and never answers (the connection stays open).
pub fn hanging_port() -> u16 {
    raw_target(|stream| {
        let _ = stream.set_read_timeout(None);
        let mut buf = [0u8; 1024];
        // Blocks until the client goes away.
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    })
}

/// A port that answers with the headers and a part of the promised body, then closes.
pub fn truncating_port() -> u16 {
    raw_target(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part");
        let _ = stream.flush();
    })
}

/// A port that answers one request per connection, then closes it without saying so
/// (no `Connection: close`), like a server whose keep-alive timeout just ran out.
pub fn one_answer_per_connection_port() -> u16 {
    raw_target(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let _ = stream.flush();
    })
}

fn raw_target(respond: fn(&mut TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The thread lives as long as the test binary; it only ever blocks in accept.
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            respond(&mut stream);
        }
    });
    port
}

// ---------------------------------------------------------------------------------------
// An HTTPS target

/// What the HTTPS target saw of one request.
#[derive(Clone, Debug)]
pub struct TlsHit {
    /// The TLS connection it came on (numbered in accept order).
    pub connection: u64,
    pub version: axum::http::Version,
    pub method: String,
    pub path: String,
    /// The Host header, or HTTP/2's `:authority`.
    pub authority: String,
    pub body: String,
}

/// An HTTPS target on 127.0.0.1:0 with the certificate in `tests/fixtures/tls` (issued for
/// IP 127.0.0.1 by the test CA in `ca.pem`). It answers every request `200 ok` (`/echo`: the
/// request's body) and records it with the TLS connection it came on. `alpn` is what it
/// offers in the handshake: `["http/1.1"]`, or `["h2", "http/1.1"]` to speak HTTP/2 to
/// clients that offer it.
pub struct TlsServer {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<TlsHit>>>,
}

pub fn tls_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

impl TlsServer {
    pub fn start(alpn: &[&str]) -> TlsServer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let certs = CertificateDer::pem_file_iter(tls_fixture("server.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(tls_fixture("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let (runtime, listener) = server_runtime();
        let addr = listener.local_addr().unwrap();
        let log: Arc<Mutex<Vec<TlsHit>>> = Arc::default();
        let seen = log.clone();
        runtime.spawn(async move {
            let mut next = 0u64;
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                let connection = next;
                next += 1;
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: not an error here.
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let io = hyper_util::rt::TokioIo::new(tls);
                    let service = hyper::service::service_fn(move |request| {
                        tls_answer(seen.clone(), connection, request)
                    });
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(
                            hyper_util::rt::TokioExecutor::new(),
                        )
                        .serve_connection(io, service)
                        .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        TlsServer {
            runtime: Some(runtime),
            addr,
            log,
        }
    }

    /// `https://127.0.0.1:PORT`, for `-H`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in the order they arrived.
    pub fn log(&self) -> Vec<TlsHit> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn tls_answer(
    seen: Arc<Mutex<Vec<TlsHit>>>,
    connection: u64,
    request: axum::http::Request<hyper::body::Incoming>,
) -> Result<Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let authority = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    seen.lock().unwrap().push(TlsHit {
        connection,
        version: parts.version,
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        authority,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = if parts.uri.path() == "/echo" {
        body
    } else {
        bytes::Bytes::from_static(b"ok")
    };
    Ok(Response::new(http_body_util::Full::new(answer)))
}
