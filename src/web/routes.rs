//! The routes: the page and its assets, Locust's endpoints, and kload's additions
//! (`/events`, `/snapshot`, `/plan`, `/split`, `/stats/json`).

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Local, Utc};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::controller::{Controller, Download, LoadModel, PlanView};
use super::guard::Guard;
use super::locust;
use super::snapshot::{PageView, UiSnapshot, redact_url};

/// Largest `POST /swarm` body read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The page's policy: nothing but this server's own files and connections.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The HTML report is one self-contained file with inline style and one inline script.
const REPORT_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'";

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const CHART_JS: &str = include_str!("assets/chart.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// Shared by every handler.
struct App {
    controller: Arc<dyn Controller>,
    guard: Guard,
    shutdown: CancellationToken,
    /// The page JSON of the latest snapshot, made once however many pages listen.
    page_cache: Mutex<Option<(Arc<UiSnapshot>, Arc<str>)>>,
    hostname: String,
}

impl App {
    fn page_json(&self, snapshot: &Arc<UiSnapshot>) -> Arc<str> {
        let mut cache = self
            .page_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, json)) = cache.as_ref()
            && Arc::ptr_eq(cached, snapshot)
        {
            return Arc::clone(json);
        }
        let json: Arc<str> = serde_json::to_string(&PageView::of(snapshot))
            .unwrap_or_else(|e| unreachable!("a PageView always serializes: {e}"))
            .into();
        *cache = Some((Arc::clone(snapshot), Arc::clone(&json)));
        json
    }
}

pub(super) fn router(
    controller: Arc<dyn Controller>,
    guard: Guard,
    shutdown: CancellationToken,
) -> Router {
    let app = Arc::new(App {
        controller,
        guard,
        shutdown,
        page_cache: Mutex::new(None),
        hostname: hostname(),
    });
    Router::new()
        .route("/", get(index))
        .route(
            "/assets/app.js",
            get(|| asset(APP_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/chart.js",
            get(|| asset(CHART_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/app.css",
            get(|| asset(APP_CSS, "text/css; charset=utf-8")),
        )
        .route(
            "/assets/favicon.svg",
            get(|| asset(FAVICON_SVG, "image/svg+xml")),
        )
        // Locust's endpoints.
        .route("/swarm", post(swarm))
        .route("/stop", get(stop))
        .route("/stats/reset", get(reset))
        .route("/stats/requests", get(request_stats))
        .route(
            "/stats/requests/csv",
            get(|s| download(s, Download::RequestsCsv)),
        )
        .route(
            "/stats/requests_full_history/csv",
            get(|s| download(s, Download::FullHistoryCsv)),
        )
        .route(
            "/stats/failures/csv",
            get(|s| download(s, Download::FailuresCsv)),
        )
        .route("/stats/report", get(report))
        .route("/exceptions", get(exceptions))
        .route(
            "/exceptions/csv",
            get(|s| download(s, Download::ExceptionsCsv)),
        )
        .route("/tasks", get(tasks))
        .route("/logs", get(logs))
        .route(
            "/worker-count",
            get(|| async { json_response(&json!({ "worker_count": 0 })) }),
        )
        // kload's additions.
        .route("/events", get(events))
        .route("/snapshot", get(snapshot))
        .route("/plan", get(plan))
        .route("/split", get(split))
        .route("/stats/json", get(|s| download(s, Download::Json)))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page in the kload web UI\n") })
        .layer(middleware::from_fn_with_state(Arc::clone(&app), protect))
        .with_state(app)
}

/// The guard's checks before every route, and the security headers after.
async fn protect(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let mut response =
        match app
            .guard
            .check(request.method(), request.uri().path(), request.headers())
        {
            Ok(()) => next.run(request).await,
            Err(rejection) => {
                let mut response =
                    (rejection.status, format!("{}\n", rejection.message)).into_response();
                if rejection.status == StatusCode::UNAUTHORIZED && app.guard.asks_for_login() {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Basic realm="kload", charset="UTF-8""#),
                    );
                }
                response
            }
        };
    let headers = response.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response()
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn json_response(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => unreachable!("web views always serialize: {e}"),
    }
}

/// The plan with the host URL's password hidden.
fn plan_view(controller: &dyn Controller) -> PlanView {
    let mut plan = controller.plan();
    plan.host = redact_url(&plan.host);
    plan
}

/// The fields of a form body: URL-encoded (what browsers, `requests` and `curl -d` send)
/// or multipart (`curl -F`).
async fn form_fields(request: Request) -> Result<Vec<(String, String)>, String> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    if multipart {
        let mut form = Multipart::from_request(request, &())
            .await
            .map_err(|e| format!("unreadable multipart form: {}", e.body_text()))?;
        let mut fields = Vec::new();
        let mut size = 0;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| format!("unreadable multipart form: {}", e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let value = field
                .text()
                .await
                .map_err(|e| format!("unreadable multipart form: {}", e.body_text()))?;
            size += name.len() + value.len();
            if size > MAX_FORM_BYTES {
                return Err("form too large".to_owned());
            }
            fields.push((name, value));
        }
        Ok(fields)
    } else {
        let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| "form too large or unreadable".to_owned())?;
        Ok(url::form_urlencoded::parse(&body).into_owned().collect())
    }
}

/// `POST /swarm`: starts a test, or changes users and spawn rate of the running one (what
/// Locust's "Edit" does). Answers Locust's `{"success", "message", "host"}`.
async fn swarm(State(app): State<Arc<App>>, request: Request) -> Response {
    let controller = app.controller.as_ref();
    let plan = plan_view(controller);
    let state = controller.snapshot().state;
    let failed = |status: StatusCode, message: String, host: &str| {
        (
            status,
            json_response(&json!({ "success": false, "message": message, "host": host })),
        )
            .into_response()
    };
    let fields = match form_fields(request).await {
        Ok(fields) => fields,
        Err(message) => return failed(StatusCode::BAD_REQUEST, message, &plan.host),
    };
    let optional_users = !matches!(plan.load, LoadModel::Closed) && !state.is_active();
    let mut request = match locust::parse_swarm(&fields, optional_users) {
        Ok(request) => request,
        Err(message) => return failed(StatusCode::BAD_REQUEST, message, &plan.host),
    };
    // The form shows the plan's host with its password as `***`; sent back unchanged, it
    // means the plan's host, password included.
    if request
        .host
        .as_deref()
        .is_some_and(|host| same_url(host, &plan.host))
    {
        request.host = None;
    }
    if let Some(unknown) = request
        .classes
        .iter()
        .find(|name| !plan.classes.iter().any(|c| &c.name == *name))
    {
        let known: Vec<&str> = plan.classes.iter().map(|c| c.name.as_str()).collect();
        let message = format!(
            "unknown user class \"{}\" (the scenario has {})",
            super::snapshot::clip(unknown, 200),
            known.join(", ")
        );
        return failed(StatusCode::BAD_REQUEST, message, &plan.host);
    }
    if state.is_active() {
        let host = redact_url(&controller.snapshot().host);
        let (Some(users), Some(rate)) = (request.users, request.spawn_rate) else {
            return failed(
                StatusCode::BAD_REQUEST,
                "Missing user_count or spawn_rate from /swarm request".to_owned(),
                &host,
            );
        };
        return match controller.set_users(users, rate) {
            Ok(message) => {
                json_response(&json!({ "success": true, "message": message, "host": host }))
            }
            Err(message) => failed(StatusCode::CONFLICT, message, &host),
        };
    }
    let host = redact_url(request.host.as_deref().unwrap_or(&plan.host));
    let run_time = request.run_time;
    match controller.start(request) {
        Ok(()) => {
            let mut body = json!({ "success": true, "message": "Swarming started", "host": host });
            if let Some(run_time) = run_time {
                body["run_time"] = json!(run_time.as_secs());
            }
            json_response(&body)
        }
        Err(message) => failed(StatusCode::CONFLICT, message, &host),
    }
}

/// Whether two URLs are the same once parsed (`http://a` and `http://a/`).
fn same_url(a: &str, b: &str) -> bool {
    matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(a), Ok(b)) if a == b)
}

async fn stop(State(app): State<Arc<App>>) -> Response {
    app.controller.stop();
    json_response(&json!({ "success": true, "message": "Test stopped" }))
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    app.controller.reset_stats();
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}

async fn request_stats(State(app): State<Arc<App>>) -> Response {
    json_response(&locust::request_stats(&app.controller.snapshot()))
}

async fn exceptions(State(app): State<Arc<App>>) -> Response {
    json_response(&locust::exceptions(&app.controller.snapshot()))
}

async fn tasks(State(app): State<Arc<App>>) -> Response {
    json_response(&locust::tasks(&app.controller.snapshot()))
}

async fn logs(State(app): State<Arc<App>>) -> Response {
    json_response(&locust::logs(&app.controller.snapshot(), &app.hostname))
}

async fn snapshot(State(app): State<Arc<App>>) -> Response {
    let json = app.page_json(&app.controller.snapshot());
    (
        [(header::CONTENT_TYPE, "application/json")],
        json.to_string(),
    )
        .into_response()
}

async fn plan(State(app): State<Arc<App>>) -> Response {
    json_response(&plan_view(app.controller.as_ref()))
}

/// `GET /split?users=N&user_classes=A&user_classes=B`: users per class, as the start form
/// shows them.
async fn split(State(app): State<Arc<App>>, uri: axum::http::Uri) -> Response {
    let mut users = None;
    let mut classes = Vec::new();
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "users" => users = value.trim().parse::<u32>().ok(),
            "user_classes" => classes.push(value.into_owned()),
            _ => {}
        }
    }
    let Some(users) = users else {
        return (
            StatusCode::BAD_REQUEST,
            json_response(&json!({ "message": "users must be a whole number" })),
        )
            .into_response();
    };
    // Counting users one by one: keep it to what a form can mean.
    let users = users.min(1_000_000);
    let plan = app.controller.plan();
    let counts = app.controller.split(users, &classes);
    let rows: Vec<Value> = plan
        .classes
        .iter()
        .zip(counts.iter().chain(std::iter::repeat(&0)))
        .map(|(c, n)| json!({ "name": c.name, "users": n }))
        .collect();
    json_response(&json!({ "users": users, "classes": rows }))
}

#[derive(Deserialize)]
struct ReportQuery {
    download: Option<String>,
}

/// `GET /stats/report`: the HTML report, shown (or saved with `?download=1`).
async fn report(State(app): State<Arc<App>>, Query(query): Query<ReportQuery>) -> Response {
    let attachment = query.download.is_some_and(|d| !d.is_empty() && d != "0");
    let mut response = send(&app, Download::HtmlReport, attachment);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    response
}

async fn download(State(app): State<Arc<App>>, what: Download) -> Response {
    send(&app, what, true)
}

fn send(app: &App, what: Download, attachment: bool) -> Response {
    match app.controller.download(what) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(what.content_type()),
            );
            if attachment {
                let snapshot = app.controller.snapshot();
                let plan = app.controller.plan();
                let started = snapshot
                    .started_at
                    .and_then(|t| DateTime::<Utc>::from_timestamp_millis((t * 1000.0) as i64))
                    .unwrap_or_else(Utc::now)
                    .with_timezone(&Local);
                let name = file_name(&plan.file, &snapshot.host, started, what);
                if let Ok(value) =
                    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                {
                    headers.insert(header::CONTENT_DISPOSITION, value);
                }
            }
            response
        }
        Err(message) => (
            StatusCode::NOT_FOUND,
            format!("Error: {}\n", super::snapshot::clip(&message, 500)),
        )
            .into_response(),
    }
}

/// Locust's download names, `Locust_<YYYY-MM-DD-HhMM>_<locustfile>_<host>_<what>.csv`, with
/// kload's prefix and the scenario's file name; every character outside `A-Za-z0-9._-`
/// becomes `_` (the host's `://` and `:`).
pub(super) fn file_name(
    scenario_file: &str,
    host: &str,
    started: DateTime<Local>,
    what: Download,
) -> String {
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let file = scenario_file
        .rsplit(['/', '\\'])
        .next()
        .filter(|f| !f.is_empty())
        .unwrap_or("scenario");
    let host = url::Url::parse(host)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!("_{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_default();
    let mut name = format!("kload_{}_{}", started.format("%Y-%m-%d-%Hh%M"), safe(file));
    if !host.is_empty() {
        name.push('_');
        name.push_str(&safe(&host));
    }
    name.push('_');
    name.push_str(what.suffix());
    name
}

/// `GET /events`: a server-sent event `snapshot` with the [`PageView`] JSON at once and
/// after each new snapshot (about once a second). A slow reader skips to the newest.
async fn events(State(app): State<Arc<App>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.controller.subscribe();
    let stream = futures_util::stream::unfold(
        (receiver, true, app),
        |(mut receiver, first, app)| async move {
            if !first {
                tokio::select! {
                    changed = receiver.changed() => changed.ok()?,
                    () = app.shutdown.cancelled() => return None,
                }
            }
            let snapshot = Arc::clone(&receiver.borrow_and_update());
            let json = app.page_json(&snapshot);
            let event = Event::default().event("snapshot").data(&*json);
            Some((Ok(event), (receiver, false, app)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
