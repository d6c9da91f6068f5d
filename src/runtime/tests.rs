//! The runtime's user, HTTP and evaluation code, in process: a scenario compiled from text,
//! one virtual user running its tasks against an axum server on 127.0.0.1 port 0, and the
//! samples, failures and variables it leaves, looked at directly (no binary, no reports).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::signal::Signal;
use super::smoke_shared;
use super::user::{StopTokens, VirtualUser};
use crate::compile::{Context, compile_source};
use crate::metrics::Metrics;
use crate::metrics::sample::{FailureKind, Sample};
use crate::session::{Options, config};

/// What the server saw: (method, path, Cookie header, body) per request.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

async fn record(seen: &Seen, method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push((
        method.to_string(),
        path.to_string(),
        cookie,
        String::from_utf8_lossy(body).into_owned(),
    ));
}

/// The server every test talks to:
///
/// | route | answer |
/// |---|---|
/// | `/json` | `{"items": [{"id": 1}, {"id": 2}, {"id": 3}], "count": 3, "token": "t-1"}`, `ETag: "v7"`, `Set-Cookie: sid=s-42` |
/// | `/status/N` | status N |
/// | `/redirect/N` | 302 to `/redirect/N-1`; `/redirect/0` answers 200 `landed` |
/// | `/loop` | 302 to itself |
/// | `/keep` | 307 to `/echo` |
/// | `/echo` | the method and body, as `METHOD BODY` |
/// | `/text` | `order-1234 shipped` |
async fn start_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn json_route(State(seen): State<Seen>, method: Method, headers: HeaderMap) -> Response {
        record(&seen, &method, "/json", &headers, b"").await;
        (
            [
                (header::SET_COOKIE, "sid=s-42; Path=/"),
                (header::ETAG, "\"v7\""),
            ],
            axum::Json(
                json!({"items": [{"id": 1}, {"id": 2}, {"id": 3}], "count": 3, "token": "t-1"}),
            ),
        )
            .into_response()
    }
    async fn status(
        State(seen): State<Seen>,
        Path(code): Path<u16>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        record(&seen, &method, &format!("/status/{code}"), &headers, b"").await;
        StatusCode::from_u16(code)
            .unwrap_or(StatusCode::BAD_REQUEST)
            .into_response()
    }
    async fn redirect(
        State(seen): State<Seen>,
        Path(n): Path<u32>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        record(&seen, &method, &format!("/redirect/{n}"), &headers, b"").await;
        if n == 0 {
            return "landed".into_response();
        }
        (
            StatusCode::FOUND,
            [(header::LOCATION, format!("/redirect/{}", n - 1))],
        )
            .into_response()
    }
    async fn looping(State(seen): State<Seen>, method: Method, headers: HeaderMap) -> Response {
        record(&seen, &method, "/loop", &headers, b"").await;
        (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response()
    }
    async fn keep(
        State(seen): State<Seen>,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        record(&seen, &method, "/keep", &headers, &body).await;
        (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/echo")],
        )
            .into_response()
    }
    async fn echo(
        State(seen): State<Seen>,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        record(&seen, &method, "/echo", &headers, &body).await;
        format!("{method} {}", String::from_utf8_lossy(&body)).into_response()
    }
    async fn text(State(seen): State<Seen>, method: Method, headers: HeaderMap) -> Response {
        record(&seen, &method, "/text", &headers, b"").await;
        "order-1234 shipped".into_response()
    }
    let app = axum::Router::new()
        .route("/json", get(json_route))
        .route("/status/{code}", any(status))
        .route("/redirect/{n}", get(redirect))
        .route("/loop", get(looping))
        .route("/keep", any(keep))
        .route("/echo", any(echo))
        .route("/text", get(text))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

/// One user of the scenario's first class after `on start` and each task once, in order.
struct Ran {
    samples: Vec<Sample>,
    user: VirtualUser,
    names: Vec<String>,
}

impl Ran {
    /// The value of variable `name` (`None`: never set).
    fn var(&self, name: &str) -> Option<Value> {
        let id = self
            .names
            .iter()
            .position(|n| n == name)
            .expect("a variable");
        self.user.state.vars.get(id).cloned().flatten()
    }

    fn failure(&self, i: usize) -> Option<(FailureKind, String)> {
        self.samples[i]
            .failure
            .as_ref()
            .map(|f| (f.kind, f.to_string()))
    }
}

async fn run_user(source: &str, host: &str) -> Ran {
    let compiled = compile_source(source, &Context::for_file(std::path::Path::new("t.kload")));
    let plan = Arc::new(
        compiled
            .plan
            .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics)),
    );
    let options = Options {
        host: Some(host.to_string()),
        ..Options::default()
    };
    let config = config::resolve(&plan, &options).unwrap();
    let metrics = Metrics::new(plan.stats.clone());
    let shared = smoke_shared(plan.clone(), &config, metrics);
    let mut user = VirtualUser::new(shared, 0, 1)
        .ok()
        .expect("the user starts");
    user.trace = Some(Vec::new());
    let never = Signal::new();
    let tokens = StopTokens {
        stop: never.clone(),
        interrupt: never.clone(),
        kill: never,
    };
    assert!(user.start(&tokens).await);
    for t in 0..plan.classes[0].tasks.len() {
        user.run_task(t, &tokens, None).await;
    }
    let samples = user
        .trace
        .take()
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    Ran {
        samples,
        user,
        names: plan.variables.clone(),
    }
}

#[tokio::test]
async fn checks_pass_and_fail_with_what_they_found() {
    let (url, _) = start_server().await;
    let ran = run_user(
        r#"
user U {
  task t {
    let want = 4
    GET "/json" {
      check status 200
      check header ETag contains "v7"
      check jsonpath "$.count" == 3
      check jsonpath "$.items[*].id" contains 2
      check body contains "token"
    }
    GET "/json" {
      check jsonpath "$.count" == {{ want }}
    }
    GET "/status/404" {
      check status 200
    }
    GET "/status/404" {
      check status 404
    }
    GET "/status/503"
    GET "/json" {
      check jsonpath "$.missing" exists
    }
  }
}
"#,
        &url,
    )
    .await;
    assert_eq!(ran.samples.len(), 6);
    assert_eq!(ran.failure(0), None);
    // The expected value is shown once interpolated, with what was found.
    let (kind, text) = ran.failure(1).unwrap();
    assert_eq!(kind, FailureKind::Check);
    assert!(
        text.contains(r#"`check jsonpath "$.count" == 4`"#),
        "{text}"
    );
    assert!(text.contains("got 3"), "{text}");
    // A wrong status is counted under its HTTP class; a check for 404 makes it a success.
    assert_eq!(ran.failure(2).unwrap().0, FailureKind::Http4xx);
    assert_eq!(ran.failure(3), None);
    assert_eq!(ran.samples[3].status, 404);
    // Without a status check, 5xx fails by itself.
    assert_eq!(ran.failure(4).unwrap().0, FailureKind::Http5xx);
    assert_eq!(ran.failure(5).unwrap().0, FailureKind::Check);
}

#[tokio::test]
async fn captures_take_values_and_a_capture_that_finds_nothing_fails() {
    let (url, _) = start_server().await;
    let ran = run_user(
        r#"
user U {
  task t {
    GET "/json" {
      capture first_id = jsonpath "$.items[*].id"
      capture ids = jsonpath "$.items[*].id" all
      capture etag = header ETag
      capture sid = cookie sid
    }
    GET "/text" {
      capture order = regex "order-([0-9]+)"
    }
    GET "/json" {
      capture nothing = jsonpath "$.nope"
    }
    GET "/echo?ids={{ ids }}&first={{ first_id }}&order={{ order }}&sid={{ sid }}&etag={{ etag }}&n={{ nothing }}"
  }
}
"#,
        &url,
    )
    .await;
    assert_eq!(ran.var("first_id"), Some(json!(1)));
    assert_eq!(ran.var("ids"), Some(json!([1, 2, 3])));
    assert_eq!(ran.var("etag"), Some(json!("\"v7\"")));
    assert_eq!(ran.var("sid"), Some(json!("s-42")));
    assert_eq!(ran.var("order"), Some(json!("1234")));
    assert_eq!(ran.var("nothing"), None);
    let (kind, text) = ran.failure(2).unwrap();
    assert_eq!(kind, FailureKind::Capture);
    assert!(
        text.contains(r#"`capture nothing = jsonpath "$.nope"` found nothing"#),
        "{text}"
    );
    // A variable without a value is a template error: the request is not sent.
    let (kind, text) = ran.failure(3).unwrap();
    assert_eq!(kind, FailureKind::Template);
    assert!(text.contains("nothing"), "{text}");
    assert_eq!(ran.samples[3].status, 0);
}

#[tokio::test]
async fn redirects_are_followed_up_to_a_limit_or_returned_when_off() {
    let (url, seen) = start_server().await;
    let ran = run_user(
        r#"
user U {
  task t {
    GET "/redirect/3" {
      check body == "landed"
    }
    GET "/redirect/2" {
      redirects off
      check status 302
      check header Location == "/redirect/1"
    }
    GET "/loop"
    POST "/keep" {
      body "payload" type "text/plain"
      check body == "POST payload"
    }
  }
}
"#,
        &url,
    )
    .await;
    assert_eq!(ran.failure(0), None);
    assert_eq!(ran.samples[0].status, 200);
    assert_eq!(ran.failure(1), None);
    assert_eq!(ran.samples[1].status, 302);
    let (kind, text) = ran.failure(2).unwrap();
    assert_eq!(kind, FailureKind::TooManyRedirects);
    assert!(text.contains("more than 10 redirects"), "{text}");
    // 307 keeps the method and the body.
    assert_eq!(ran.failure(3), None);
    let seen = seen.lock().unwrap();
    let loops = seen.iter().filter(|s| s.1 == "/loop").count();
    assert_eq!(loops, 11, "the first request and 10 redirects");
    let echo = seen.iter().find(|s| s.1 == "/echo").unwrap();
    assert_eq!((echo.0.as_str(), echo.3.as_str()), ("POST", "payload"));
}

#[tokio::test]
async fn a_user_keeps_its_cookies_and_sends_them_back() {
    let (url, seen) = start_server().await;
    let source = r#"
user U {
  task t {
    GET "/status/200"
    GET "/json"
    GET "/status/201"
  }
}
"#;
    run_user(source, &url).await;
    run_user(source, &url).await;
    let seen = seen.lock().unwrap();
    let cookies: Vec<&str> = seen
        .iter()
        .filter(|s| s.1.starts_with("/status/"))
        .map(|s| s.2.as_str())
        .collect();
    // Each user: no cookie before the server sets one, its own after; a new user starts
    // with an empty jar.
    assert_eq!(cookies, ["", "sid=s-42", "", "sid=s-42"]);
}

#[tokio::test]
async fn template_errors_fail_the_request_without_sending_it() {
    let (url, seen) = start_server().await;
    let ran = run_user(
        r#"
user U {
  task t {
    if false {
      let never_set = 1
    }
    GET "/status/200?x={{ never_set }}" {
      name "unsent"
    }
    POST "/echo" {
      json { "n": {{ env("KLOAD_TEST_NEVER_SET_VARIABLE") }} }
    }
    GET "/status/204"
  }
}
"#,
        &url,
    )
    .await;
    let (kind, text) = ran.failure(0).unwrap();
    assert_eq!(kind, FailureKind::Template);
    assert!(text.contains("never_set"), "{text}");
    assert_eq!(ran.failure(1).unwrap().0, FailureKind::Template);
    // The task goes on after a template error.
    assert_eq!(ran.failure(2), None);
    let paths: Vec<String> = seen.lock().unwrap().iter().map(|s| s.1.clone()).collect();
    assert_eq!(paths, ["/status/204"]);
}
