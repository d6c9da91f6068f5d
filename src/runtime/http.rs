//! Sending one request of the plan for one virtual user: render, send, time, check,
//! capture, classify. An error of the system under test is a measurement, never a panic.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use serde_json::Value;

use super::eval::{self, EvalError, Globals, UserState, to_text};
use super::exchange::{self, Exchange};
pub use super::transport::ClientOptions;
use super::transport::{SendBody, Transport};
use crate::ir::{
    Body, CaptureSource, CheckKind, HeaderTemplate, Part, Predicate, PredicateKind, Request,
};
use crate::metrics::sample::{Failure, FailureKind};
use crate::syntax::ast::{CaptureMode, CompareOp};

/// Redirects a request follows before it fails with `too_many_redirects` (as browsers and
/// reqwest do).
pub const MAX_REDIRECTS: u32 = 10;

/// What a request produced, before it becomes a sample.
pub struct Outcome {
    /// When the request was started; `started + latency` is when it ended.
    pub started: Instant,
    pub latency: Duration,
    pub ttfb: Duration,
    pub bytes: usize,
    pub status: u16,
    pub failure: Option<Failure>,
}

impl Outcome {
    /// A request that failed before it got a whole response: no body, and `status` and
    /// `ttfb` only if the head had arrived.
    fn failed(
        started: Instant,
        latency: Duration,
        ttfb: Duration,
        status: u16,
        failure: Failure,
    ) -> Outcome {
        Outcome {
            started,
            latency,
            ttfb,
            bytes: 0,
            status,
            failure: Some(failure),
        }
    }
}

/// One user's HTTP session: its own connection and cookie jar, like a browser.
pub struct Session {
    pub transport: Transport,
    /// The host requests are relative to, without the credentials it was written with.
    pub base: Option<String>,
    /// `Authorization: Basic ...` from `http://user:password@host` in the host, sent with
    /// requests relative to it.
    base_auth: Option<HeaderValue>,
    /// The request timeout, reused from request to request.
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// Resolved URLs of requests whose URL has no interpolation, by request index.
    urls: Vec<Option<std::sync::Arc<reqwest::Url>>>,
    /// Set for smoke runs: each request leaves what was sent and received in `last`.
    pub record: bool,
    pub last: Option<Box<Exchange>>,
}

impl Session {
    pub fn new(options: &ClientOptions, base: Option<String>) -> Session {
        let mut base_auth = None;
        let base = base.map(|b| match reqwest::Url::parse(&b) {
            Ok(mut url) => match take_credentials(&mut url) {
                Some(auth) => {
                    base_auth = Some(auth);
                    url.to_string()
                }
                None => b,
            },
            Err(_) => b,
        });
        Session {
            transport: Transport::new(options.clone()),
            base,
            base_auth,
            urls: Vec::new(),
            timer: None,
            record: false,
            last: None,
        }
    }

    fn transport_timeout(&self) -> Duration {
        self.transport.timeout()
    }
}

/// The body as bytes, built once per request so that it can be re-sent on a 307/308.
enum Prepared {
    None,
    Bytes(Bytes, Option<String>),
    Multipart(reqwest::multipart::Form),
}

fn render_headers(
    headers: &[HeaderTemplate],
    out: &mut HeaderMap,
    user: &mut UserState,
    globals: &Globals,
) -> Result<(), EvalError> {
    for h in headers {
        let value = eval::render(&h.value, user, globals)?;
        // The whole value is the first part: once known, its parts are too.
        if h.secret && !user.secrets.knows(&value) {
            for part in crate::redact::header_parts(&value) {
                user.secret(&part, globals);
            }
        }
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            EvalError(format!(
                "header `{}` has a value that cannot be sent",
                h.name
            ))
        })?;
        value.set_sensitive(h.secret);
        out.insert(h.name.clone(), value);
    }
    Ok(())
}

fn prepare_body(
    body: &Body,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Prepared, EvalError> {
    Ok(match body {
        Body::None => Prepared::None,
        Body::Json(t) => {
            let v = eval::json(t, user, globals)?;
            let bytes = serde_json::to_vec(&v).map_err(|e| EvalError(e.to_string()))?;
            Prepared::Bytes(bytes.into(), Some("application/json".into()))
        }
        Body::Form(fields) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                form.append_pair(k, &eval::render(v, user, globals)?);
            }
            Prepared::Bytes(
                form.finish().into_bytes().into(),
                Some("application/x-www-form-urlencoded".into()),
            )
        }
        Body::Raw {
            content,
            content_type,
        } => Prepared::Bytes(
            eval::render(content, user, globals)?.into_bytes().into(),
            content_type.clone(),
        ),
        Body::Multipart(parts) => {
            let mut form = reqwest::multipart::Form::new();
            for p in parts {
                form = match p {
                    Part::Field { name, value } => {
                        form.text(name.clone(), eval::render(value, user, globals)?)
                    }
                    Part::File {
                        name,
                        file_name,
                        bytes,
                        content_type,
                    }
                    | Part::Generated {
                        name,
                        file_name,
                        bytes,
                        content_type,
                    } => {
                        let mut part =
                            reqwest::multipart::Part::stream(reqwest::Body::from(bytes.clone()))
                                .file_name(file_name.clone());
                        if let Some(ct) = content_type {
                            part = part
                                .mime_str(ct)
                                .map_err(|_| EvalError(format!("bad content type `{ct}`")))?;
                        }
                        form.part(name.clone(), part)
                    }
                };
            }
            Prepared::Multipart(form)
        }
    })
}

/// The URL of a request: `raw` itself when it is absolute, else joined to the host.
fn resolve_url(raw: &str, base: Option<&str>) -> Result<reqwest::Url, EvalError> {
    let invalid = |url: &str, e: url::ParseError| {
        EvalError(format!(
            "invalid URL `{}`: {e}",
            crate::ir::without_credentials(url)
        ))
    };
    if is_absolute(raw) {
        return reqwest::Url::parse(raw).map_err(|e| invalid(raw, e));
    }
    let Some(base) = base else {
        return Err(EvalError(
            "no host: set `host` in the scenario or pass --host".into(),
        ));
    };
    let joined = format!("{}{}", base.trim_end_matches('/'), raw);
    reqwest::Url::parse(&joined).map_err(|e| invalid(&joined, e))
}

fn is_absolute(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Takes `user:password@` out of a URL and gives it back as an `Authorization: Basic`
/// header (RFC 7617), which is what a browser or curl does with it.
fn take_credentials(url: &mut reqwest::Url) -> Option<HeaderValue> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or(""))
    );
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The request's URL, headers and body with the user's variables filled in.
fn render(
    req: &Request,
    class_headers: &[HeaderTemplate],
    session: &mut Session,
    user: &mut UserState,
    globals: &Globals,
) -> Result<(std::sync::Arc<reqwest::Url>, HeaderMap, Prepared), EvalError> {
    // Basic auth from credentials written in the URL, or in the host it is relative to.
    let mut url_auth = None;
    let (mut url, relative) = match req.url.as_literal() {
        Some(lit) => {
            if session.urls.len() <= req.index {
                session.urls.resize(req.index + 1, None);
            }
            let url = match &session.urls[req.index] {
                Some(u) => u.clone(),
                None => {
                    let mut u = resolve_url(lit, session.base.as_deref())?;
                    url_auth = take_credentials(&mut u);
                    let u = std::sync::Arc::new(u);
                    // A URL with credentials is rare: it is resolved again each time.
                    if url_auth.is_none() {
                        session.urls[req.index] = Some(u.clone());
                    }
                    u
                }
            };
            (url, !is_absolute(lit))
        }
        None => {
            let raw = eval::render(&req.url, user, globals)?;
            let mut u = resolve_url(&raw, session.base.as_deref())?;
            // Credentials filled into a URL are secrets (written out, the compiler knew).
            for secret in crate::redact::credentials_of(&u) {
                user.secret(&secret, globals);
            }
            url_auth = take_credentials(&mut u);
            (std::sync::Arc::new(u), !is_absolute(&raw))
        }
    };
    if relative && url_auth.is_none() {
        url_auth = session.base_auth.clone();
    }
    if !req.query.is_empty() {
        let mut pairs = std::sync::Arc::make_mut(&mut url).query_pairs_mut();
        for (k, v) in &req.query {
            pairs.append_pair(k, &eval::render(v, user, globals)?);
        }
    }
    let mut headers = HeaderMap::new();
    for h in class_headers {
        // A class header waits until the variables it uses are set (e.g. a token
        // captured by the login in `on start`).
        let _ = render_headers(std::slice::from_ref(h), &mut headers, user, globals);
    }
    render_headers(&req.headers, &mut headers, user, globals)?;
    // An `auth` or `header Authorization:` line wins over credentials in the URL.
    if let Some(auth) = url_auth
        && !headers.contains_key(AUTHORIZATION)
    {
        headers.insert(AUTHORIZATION, auth);
    }
    let body = prepare_body(&req.body, user, globals)?;
    Ok((url, headers, body))
}

/// Sends the request and evaluates its checks and captures.
pub async fn execute(
    req: &Request,
    class_headers: &[HeaderTemplate],
    session: &mut Session,
    user: &mut UserState,
    globals: &Globals,
) -> Outcome {
    let start = Instant::now();
    let template_failure = |e: EvalError| {
        let failure = Failure::new(FailureKind::Template, e.0);
        Outcome::failed(start, Duration::ZERO, Duration::ZERO, 0, failure)
    };
    // Rendered by a plain function: a value that lived in this async function would be
    // kept in the request's state for the whole exchange.
    session.last = None;
    let (mut url, headers, body) = match render(req, class_headers, session, user, globals) {
        Ok(p) => p,
        Err(e) => return template_failure(e),
    };
    if session.record {
        let shown = match &body {
            Prepared::None => None,
            Prepared::Bytes(b, _) => Some(exchange::Body::Bytes(b)),
            Prepared::Multipart(_) => Some(exchange::Body::Multipart),
        };
        let mut x = Exchange::request(&req.method, &url, &headers, shown);
        if let Prepared::Bytes(_, Some(ct)) = &body
            && !headers.contains_key(CONTENT_TYPE)
        {
            x.request_headers
                .push((CONTENT_TYPE.to_string(), ct.clone()));
        }
        session.last = Some(Box::new(x));
    }

    let follow = req.redirects.unwrap_or(true);
    let limit = req.timeout.unwrap_or(session.transport_timeout());
    let transport = &mut session.transport;
    // Kept outside the exchange, which only borrows them: moved in, they would be stored
    // twice in its state.
    let mut method = req.method.clone();
    let mut body = Some(body);
    let mut redirects = 0;
    let exchange = async {
        loop {
            let mut send_headers = headers.clone();
            let (send, resend) = match body.take() {
                Some(Prepared::Bytes(b, ct)) => {
                    if let Some(ct) = &ct
                        && !send_headers.contains_key(CONTENT_TYPE)
                        && let Ok(v) = HeaderValue::from_str(ct)
                    {
                        send_headers.insert(CONTENT_TYPE, v);
                    }
                    (SendBody::Bytes(b.clone()), Some(Prepared::Bytes(b, ct)))
                }
                Some(Prepared::Multipart(m)) => (SendBody::Multipart(Box::new(m)), None),
                Some(Prepared::None) | None => (SendBody::Empty, None),
            };
            let head = transport
                .send(method.clone(), &url, send_headers, send)
                .await?;
            let status = head.status;
            if follow
                && status.is_redirection()
                && redirects >= MAX_REDIRECTS
                && head.headers.contains_key(LOCATION)
            {
                // A redirect loop (or a very long chain) is a failure, not a success with
                // the last 3xx.
                return Err(Failure::new(
                    FailureKind::TooManyRedirects,
                    format!("more than {MAX_REDIRECTS} redirects"),
                )
                .with_detail(format!("last went to {}", url.path())));
            }
            if follow
                && status.is_redirection()
                && let Some(next) = head
                    .headers
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
            {
                let keep = matches!(status.as_u16(), 307 | 308);
                if !(keep
                    && resend.is_none()
                    && !matches!(method, reqwest::Method::GET | reqwest::Method::HEAD))
                {
                    // Drain the redirect's body so the connection can be reused.
                    let _ = head.body.read(&head.headers).await;
                    redirects += 1;
                    url = std::sync::Arc::new(next);
                    if keep {
                        body = resend;
                    } else {
                        if method != reqwest::Method::HEAD {
                            method = reqwest::Method::GET;
                        }
                        body = None;
                    }
                    continue;
                }
            }
            let ttfb = head
                .head_at
                .map_or_else(|| start.elapsed(), |at| at.saturating_duration_since(start));
            let bytes = head.body.read(&head.headers).await;
            return Ok((head.status, head.headers, ttfb, bytes, url));
        }
    };
    // One timer per user, moved to each request's deadline: cheaper than a new timer per
    // request (which registers and deregisters itself in the timer wheel every time).
    let deadline = tokio::time::Instant::from_std(start) + limit;
    let timer = session
        .timer
        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    timer.as_mut().reset(deadline);
    let result = tokio::select! {
        biased;
        r = exchange => Ok(r),
        _ = timer.as_mut() => Err(()),
    };
    let (status, response_headers, ttfb, body, final_url) = match result {
        Ok(Ok(r)) => r,
        Ok(Err(failure)) => {
            return Outcome::failed(start, start.elapsed(), Duration::ZERO, 0, failure);
        }
        Err(_) => {
            session.transport.reset();
            let failure = Failure::new(FailureKind::Timeout, "timeout");
            return Outcome::failed(start, start.elapsed(), Duration::ZERO, 0, failure);
        }
    };
    let status = status.as_u16();
    if let Some(x) = session.last.as_mut() {
        x.respond(status, &final_url, &response_headers, body.as_deref().ok());
    }
    // A cookie the server sets is a credential: never printed.
    for set in response_headers.get_all(reqwest::header::SET_COOKIE) {
        if let Some((_, value)) = set
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .and_then(|kv| kv.split_once('='))
        {
            user.secret(value.trim(), globals);
        }
    }
    let body = match body {
        Ok(b) => b,
        Err(failure) => {
            return Outcome::failed(start, start.elapsed(), ttfb, status, failure);
        }
    };
    let latency = start.elapsed();
    let mut outcome = Outcome {
        started: start,
        latency,
        ttfb,
        bytes: body.len(),
        status,
        failure: None,
    };

    let json = if req.needs_json {
        super::json::parse(&body, &req.json_shape)
    } else {
        None
    };
    let view = Response {
        status,
        headers: &response_headers,
        body: &body,
        json: json.as_ref(),
        latency,
    };

    let has_status_check = req
        .checks
        .iter()
        .any(|c| matches!(c.kind, CheckKind::Status(_)));
    if !has_status_check && status >= 400 {
        outcome.failure = Some(Failure::http(status));
    }
    for check in &req.checks {
        if outcome.failure.is_some() {
            break;
        }
        match run_check(&check.kind, &view, check.secret, user, globals) {
            Ok(None) => {}
            Ok(Some(Mismatch { got, expected })) => {
                // Named with the value compared with, once interpolated (never a secret's,
                // see `compile::secret`).
                let named = match (check.operand_at, expected) {
                    (Some(at), Some(v)) => {
                        format!("{}{}", &check.source[..at], shown(&v, user, globals))
                    }
                    _ => check.source.clone(),
                };
                // What failed is the row of the error report; what was found varies.
                let mut f = Failure::check(format!("`{named}`")).with_detail(got);
                if let CheckKind::Status(_) = check.kind {
                    // A wrong status is counted under its HTTP class (429 apart), named by the check.
                    if let Some(kind) = FailureKind::from_status(status) {
                        f.kind = kind;
                    }
                }
                outcome.failure = Some(f);
            }
            Err(e) => outcome.failure = Some(Failure::new(FailureKind::Template, e.0)),
        }
    }
    for capture in &req.captures {
        let value = match &capture.source {
            CaptureSource::JsonPath { query, mode } => json.as_ref().and_then(|j| {
                let hits: Vec<Value> = jsonpath_rust::query::js_path_process(query, j)
                    .map(|r| r.into_iter().map(|q| q.val().clone()).collect())
                    .unwrap_or_default();
                match mode {
                    CaptureMode::First => hits.into_iter().next(),
                    CaptureMode::All => Some(Value::Array(hits)),
                    CaptureMode::Random if hits.is_empty() => None,
                    CaptureMode::Random => {
                        let i = user.rng.random_range(0..hits.len());
                        hits.into_iter().nth(i)
                    }
                }
            }),
            CaptureSource::Header(name) => response_headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| Value::String(s.to_string())),
            CaptureSource::Cookie(name) => set_cookie(&response_headers, name)
                .or_else(|| jar_cookie(session, &final_url, name))
                .map(Value::String),
            CaptureSource::Regex(re) => {
                let text = String::from_utf8_lossy(&body);
                re.captures(&text)
                    .and_then(|c| c.get(1).or_else(|| c.get(0)))
                    .map(|m| Value::String(m.as_str().to_string()))
            }
        };
        match value {
            Some(v) => user.set_var(capture.var, v, globals),
            None => {
                if outcome.failure.is_none() {
                    outcome.failure = Some(Failure::new(
                        FailureKind::Capture,
                        format!("`{}` found nothing", capture.source_text),
                    ));
                }
            }
        }
    }
    outcome
}

/// The value of cookie `name` set by this response.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let first = v.to_str().ok()?.split(';').next()?;
            let (k, value) = first.split_once('=')?;
            (k.trim() == name).then(|| value.trim().to_string())
        })
}

fn jar_cookie(session: &Session, url: &reqwest::Url, name: &str) -> Option<String> {
    use reqwest::cookie::CookieStore;
    let header = session.transport.jar.cookies(url)?;
    let text = header.to_str().ok()?;
    text.split(';').map(str::trim).find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

struct Response<'a> {
    status: u16,
    headers: &'a HeaderMap,
    body: &'a [u8],
    json: Option<&'a Value>,
    latency: Duration,
}

/// How a check failed: what was found, and the value it was compared with.
struct Mismatch {
    got: String,
    expected: Option<Value>,
}

/// `Ok(None)` when the check passes, `Ok(Some(what was found))` when it fails.
///
/// A `secret` check (it compares with a secret) says what it found as `***`.
fn run_check(
    kind: &CheckKind,
    r: &Response<'_>,
    secret: bool,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<Mismatch>, EvalError> {
    let plain = |got: String| Mismatch {
        got,
        expected: None,
    };
    Ok(match kind {
        CheckKind::Status(ranges) => (!ranges.iter().any(|(a, b)| (*a..=*b).contains(&r.status)))
            .then(|| plain(format!("got status {}", r.status))),
        CheckKind::Header { name, predicate } => {
            let value = r
                .headers
                .get(name)
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()));
            compare(predicate, value.as_ref(), secret, user, globals)?.map(|m| Mismatch {
                got: format!("header {}", m.got),
                ..m
            })
        }
        CheckKind::JsonPath { query, predicate } => {
            let Some(json) = r.json else {
                return Ok(Some(plain("the body is not JSON".into())));
            };
            let hits: Vec<Value> = jsonpath_rust::query::js_path_process(query, json)
                .map(|r| r.into_iter().map(|q| q.val().clone()).collect())
                .unwrap_or_default();
            let value = match hits.len() {
                0 => None,
                1 => hits.into_iter().next(),
                _ => Some(Value::Array(hits)),
            };
            compare(predicate, value.as_ref(), secret, user, globals)?
        }
        CheckKind::Body { predicate } => {
            let text = Value::String(String::from_utf8_lossy(r.body).into_owned());
            compare(predicate, Some(&text), secret, user, globals)?.map(|m| Mismatch {
                got: "the body did not match".to_string(),
                ..m
            })
        }
        CheckKind::Duration { op, bound } => {
            let ok = compare_f64(r.latency.as_secs_f64(), *op, bound.as_secs_f64());
            (!ok).then(|| plain(format!("took {} ms", r.latency.as_millis())))
        }
    })
}

/// `Ok(None)` when the predicate holds for `actual` (`None`: nothing was found), else
/// what was found. An `if` tests its condition with it.
pub(super) fn test(
    p: &Predicate,
    actual: Option<&Value>,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<String>, EvalError> {
    Ok(compare(p, actual, false, user, globals)?.map(|m| m.got))
}

/// `hide`: say what was found as `***`.
fn compare(
    p: &Predicate,
    actual: Option<&Value>,
    hide: bool,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<Mismatch>, EvalError> {
    let mut expected = None;
    let passed = match (&p.kind, actual) {
        (PredicateKind::Exists, a) => a.is_some_and(|v| !v.is_null()),
        (_, None) => false,
        (PredicateKind::Matches(re), Some(a)) => re.is_match(&to_text(a)),
        (PredicateKind::Contains(e), Some(a)) => {
            let needle = eval::eval(e, user, globals)?;
            let found = match a {
                Value::Array(items) => items.iter().any(|i| loosely_equal(i, &needle)),
                Value::String(s) => s.contains(&to_text(&needle)),
                other => other.to_string().contains(&to_text(&needle)),
            };
            expected = Some(needle);
            found
        }
        (PredicateKind::Compare(op, e), Some(a)) => {
            let wanted = eval::eval(e, user, globals)?;
            let holds = match op {
                CompareOp::Eq => loosely_equal(a, &wanted),
                CompareOp::Ne => !loosely_equal(a, &wanted),
                _ => match (number(a), number(&wanted)) {
                    (Some(x), Some(y)) => compare_f64(x, *op, y),
                    _ => false,
                },
            };
            expected = Some(wanted);
            holds
        }
    };
    if passed != p.negated {
        return Ok(None);
    }
    let got = match actual {
        None => "found nothing".to_string(),
        Some(_) if hide => format!("got {}", crate::redact::MASK),
        // Secrets are masked before the text is cut: a cut secret would not be recognised.
        Some(v) => format!("got {}", truncated(user.redact(&to_text(v), globals))),
    };
    Ok(Some(Mismatch { got, expected }))
}

/// A value compared with, as it would be written in a check: text in quotes, the rest as
/// JSON; secrets masked before it is cut.
fn shown(v: &Value, user: &UserState, globals: &Globals) -> String {
    truncated(user.redact(&v.to_string(), globals))
}

/// At most 120 bytes of `text`, cut at a character boundary, with `…` when cut.
fn truncated(mut text: String) -> String {
    if text.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), _) | (_, Value::Number(_)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        (Value::String(x), other) | (other, Value::String(x)) if !other.is_string() => {
            *x == to_text(other)
        }
        _ => a == b,
    }
}

fn compare_f64(a: f64, op: CompareOp, b: f64) -> bool {
    match op {
        CompareOp::Eq => a == b,
        CompareOp::Ne => a != b,
        CompareOp::Lt => a < b,
        CompareOp::Le => a <= b,
        CompareOp::Gt => a > b,
        CompareOp::Ge => a >= b,
    }
}
