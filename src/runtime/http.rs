//! Sending one request of the plan for one virtual user: render, send, time, check,
//! capture, classify. An error of the system under test is a measurement, never a panic.

use std::error::Error as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use serde_json::Value;

use super::eval::{self, EvalError, Globals, UserState, to_text};
use crate::ir::{
    Body, CaptureSource, CheckKind, HeaderTemplate, Part, Predicate, PredicateKind, Request,
};
use crate::metrics::sample::{Failure, FailureKind};
use crate::syntax::ast::{CaptureMode, CompareOp};

/// What a request produced, before it becomes a sample.
pub struct Outcome {
    pub latency: Duration,
    pub ttfb: Duration,
    pub bytes: usize,
    pub status: u16,
    pub failure: Option<Failure>,
}

/// One user's HTTP session: its own connections and cookie jar, like a browser.
pub struct Session {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: Option<String>,
}

/// Settings every user's client is built with.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub insecure: bool,
}

impl Session {
    pub fn new(options: &ClientOptions, base: Option<String>) -> Result<Session, reqwest::Error> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .user_agent(concat!("kload/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(4)
            .tls_danger_accept_invalid_certs(options.insecure)
            .build()?;
        Ok(Session { client, jar, base })
    }
}

/// The body as bytes, built once per request so that it can be re-sent on a 307/308.
enum Prepared {
    None,
    Bytes(Bytes, Option<String>),
    Form(Vec<(String, String)>),
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
            let mut out = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                out.push((k.clone(), eval::render(v, user, globals)?));
            }
            Prepared::Form(out)
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

fn resolve_url(raw: &str, base: Option<&str>) -> Result<reqwest::Url, EvalError> {
    if raw.starts_with("http://") || raw.starts_with("https://") {
        return reqwest::Url::parse(raw)
            .map_err(|e| EvalError(format!("invalid URL `{raw}`: {e}")));
    }
    let Some(base) = base else {
        return Err(EvalError(
            "no host: set `host` in the scenario or pass --host".into(),
        ));
    };
    let joined = format!("{}{}", base.trim_end_matches('/'), raw);
    reqwest::Url::parse(&joined).map_err(|e| EvalError(format!("invalid URL `{joined}`: {e}")))
}

/// Sends the request and evaluates its checks and captures.
pub async fn execute(
    req: &Request,
    class_headers: &[HeaderTemplate],
    session: &Session,
    user: &mut UserState,
    globals: &Globals,
) -> Outcome {
    let start = Instant::now();
    let template_failure = |e: EvalError| Outcome {
        latency: Duration::ZERO,
        ttfb: Duration::ZERO,
        bytes: 0,
        status: 0,
        failure: Some(Failure::new(FailureKind::Template, e.0)),
    };
    let prepared = (|| -> Result<_, EvalError> {
        let raw = eval::render(&req.url, user, globals)?;
        let mut url = resolve_url(&raw, session.base.as_deref())?;
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
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
        let body = prepare_body(&req.body, user, globals)?;
        Ok((url, headers, body))
    })();
    let (mut url, headers, body) = match prepared {
        Ok(p) => p,
        Err(e) => return template_failure(e),
    };

    let follow = req.redirects.unwrap_or(true);
    let mut method = req.method.clone();
    let mut body = Some(body);
    let mut redirects = 0;
    let response = loop {
        let mut builder = session
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(t) = req.timeout {
            builder = builder.timeout(t);
        }
        let resend = match body.take() {
            Some(Prepared::Bytes(b, ct)) => {
                if let Some(ct) = &ct
                    && !headers.contains_key(CONTENT_TYPE)
                {
                    builder = builder.header(CONTENT_TYPE, ct.as_str());
                }
                builder = builder.body(b.clone());
                Some(Prepared::Bytes(b, ct))
            }
            Some(Prepared::Form(f)) => {
                builder = builder.form(&f);
                Some(Prepared::Form(f))
            }
            Some(Prepared::Multipart(m)) => {
                builder = builder.multipart(m);
                None
            }
            Some(Prepared::None) | None => None,
        };
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                return Outcome {
                    latency: start.elapsed(),
                    ttfb: Duration::ZERO,
                    bytes: 0,
                    status: 0,
                    failure: Some(classify(&e)),
                };
            }
        };
        let status = response.status();
        if follow
            && status.is_redirection()
            && redirects < 10
            && let Some(next) = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
        {
            let keep = matches!(status.as_u16(), 307 | 308);
            if keep
                && resend.is_none()
                && !matches!(method, reqwest::Method::GET | reqwest::Method::HEAD)
            {
                break response; // a streamed body cannot be sent twice
            }
            redirects += 1;
            url = next;
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
        break response;
    };

    let ttfb = start.elapsed();
    let status = response.status().as_u16();
    let response_headers = response.headers().clone();
    let set_cookies: Vec<(String, String)> = response
        .cookies()
        .map(|c| (c.name().to_string(), c.value().to_string()))
        .collect();
    let final_url = response.url().clone();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return Outcome {
                latency: start.elapsed(),
                ttfb,
                bytes: 0,
                status,
                failure: Some(classify(&e)),
            };
        }
    };
    let latency = start.elapsed();
    let mut outcome = Outcome {
        latency,
        ttfb,
        bytes: body.len(),
        status,
        failure: None,
    };

    let json = if req.needs_json {
        serde_json::from_slice::<Value>(&body).ok()
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
        match run_check(&check.kind, &view, user, globals) {
            Ok(None) => {}
            Ok(Some(got)) => {
                let mut f = Failure::check(format!("`{}`: {got}", check.source));
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
            CaptureSource::Cookie(name) => set_cookies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
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
            Some(v) => user.vars[capture.var as usize] = Some(v),
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

fn jar_cookie(session: &Session, url: &reqwest::Url, name: &str) -> Option<String> {
    use reqwest::cookie::CookieStore;
    let header = session.jar.cookies(url)?;
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

/// `Ok(None)` when the check passes, `Ok(Some(what was found))` when it fails.
fn run_check(
    kind: &CheckKind,
    r: &Response<'_>,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<String>, EvalError> {
    Ok(match kind {
        CheckKind::Status(ranges) => (!ranges.iter().any(|(a, b)| (*a..=*b).contains(&r.status)))
            .then(|| format!("got status {}", r.status)),
        CheckKind::Header { name, predicate } => {
            let value = r
                .headers
                .get(name)
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()));
            test(predicate, value.as_ref(), user, globals)?.map(|got| format!("header {got}"))
        }
        CheckKind::JsonPath { query, predicate } => {
            let Some(json) = r.json else {
                return Ok(Some("the body is not JSON".into()));
            };
            let hits: Vec<Value> = jsonpath_rust::query::js_path_process(query, json)
                .map(|r| r.into_iter().map(|q| q.val().clone()).collect())
                .unwrap_or_default();
            let value = match hits.len() {
                0 => None,
                1 => hits.into_iter().next(),
                _ => Some(Value::Array(hits)),
            };
            test(predicate, value.as_ref(), user, globals)?
        }
        CheckKind::Body { predicate } => {
            let text = Value::String(String::from_utf8_lossy(r.body).into_owned());
            test(predicate, Some(&text), user, globals)?
                .map(|_| "the body did not match".to_string())
        }
        CheckKind::Duration { op, bound } => {
            let ok = compare_f64(r.latency.as_secs_f64(), *op, bound.as_secs_f64());
            (!ok).then(|| format!("took {} ms", r.latency.as_millis()))
        }
    })
}

fn test(
    p: &Predicate,
    actual: Option<&Value>,
    user: &mut UserState,
    globals: &Globals,
) -> Result<Option<String>, EvalError> {
    let passed = match (&p.kind, actual) {
        (PredicateKind::Exists, a) => a.is_some_and(|v| !v.is_null()),
        (_, None) => false,
        (PredicateKind::Contains(e), Some(a)) => {
            let needle = eval::eval(e, user, globals)?;
            match a {
                Value::Array(items) => items.iter().any(|i| loosely_equal(i, &needle)),
                Value::String(s) => s.contains(&to_text(&needle)),
                other => other.to_string().contains(&to_text(&needle)),
            }
        }
        (PredicateKind::Matches(re), Some(a)) => re.is_match(&to_text(a)),
        (PredicateKind::Compare(op, e), Some(a)) => {
            let expected = eval::eval(e, user, globals)?;
            match op {
                CompareOp::Eq => loosely_equal(a, &expected),
                CompareOp::Ne => !loosely_equal(a, &expected),
                _ => match (number(a), number(&expected)) {
                    (Some(x), Some(y)) => compare_f64(x, *op, y),
                    _ => false,
                },
            }
        }
    };
    if passed != p.negated {
        return Ok(None);
    }
    Ok(Some(match actual {
        None => "found nothing".to_string(),
        Some(v) => {
            let mut text = to_text(v);
            if text.len() > 120 {
                let cut = (0..=120)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push('…');
            }
            format!("got {text}")
        }
    }))
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

/// Sorts a transport error into the failure kinds of the error report.
pub fn classify(e: &reqwest::Error) -> Failure {
    use std::io::ErrorKind as K;
    let mut chain = String::new();
    let mut io_kinds = Vec::new();
    // The innermost error says what happened; the outer ones say where ("client error
    // (Connect)").
    let mut cause = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        chain.push_str(&cause.to_ascii_lowercase());
        chain.push(' ');
        source = match s.downcast_ref::<std::io::Error>() {
            Some(io) => {
                io_kinds.push(io.kind());
                // An io::Error hides the error it wraps from `source()`; a TLS failure is
                // a rustls error inside one.
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => s.source(),
        };
    }
    let io = |kind: K| io_kinds.contains(&kind);
    let kind = if e.is_timeout() || io(K::TimedOut) {
        FailureKind::Timeout
    } else if io(K::ConnectionRefused) || chain.contains("connection refused") {
        FailureKind::ConnectionRefused
    } else if chain.contains("dns error")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        FailureKind::Dns
    } else if (e.is_connect() && io(K::InvalidData))
        || chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("handshake")
    {
        // Connecting over TCP never fails with invalid data; the TLS layer does (rustls
        // errors, e.g. a plain-HTTP answer to a ClientHello, come as InvalidData).
        FailureKind::Tls
    } else if [
        K::ConnectionReset,
        K::ConnectionAborted,
        K::BrokenPipe,
        K::UnexpectedEof,
    ]
    .into_iter()
    .any(io)
        || chain.contains("reset")
        || chain.contains("closed before")
        || chain.contains("incomplete")
    {
        FailureKind::ConnectionReset
    } else {
        FailureKind::Other
    };
    let message = match kind {
        FailureKind::Timeout => "timeout".to_string(),
        FailureKind::ConnectionRefused => "connection refused".to_string(),
        FailureKind::ConnectionReset => "connection reset".to_string(),
        FailureKind::Dns => format!("DNS lookup failed: {cause}"),
        FailureKind::Tls => format!("TLS error: {cause}"),
        _ => cause,
    };
    Failure::new(kind, message)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Arc;

    use super::*;

    fn failure_of(client: reqwest::Client, url: &str) -> Failure {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { classify(&client.get(url).send().await.unwrap_err()) })
    }

    /// A resolver that knows no name, so that no real DNS server is asked.
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            Box::pin(async { Err("no such host (test resolver)".into()) })
        }
    }

    #[test]
    fn a_name_that_does_not_resolve_is_a_dns_failure() {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(NoNames))
            .build()
            .unwrap();
        let f = failure_of(client, "http://kload.invalid/");
        assert_eq!(f.kind, FailureKind::Dns);
        assert_eq!(f.message, "DNS lookup failed: no such host (test resolver)");
    }

    #[test]
    fn a_plain_http_answer_to_https_is_a_tls_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Some(mut stream) = listener.incoming().flatten().next() {
                let _ = stream.read(&mut [0u8; 1024]);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let f = failure_of(
            reqwest::Client::new(),
            &format!("https://127.0.0.1:{port}/"),
        );
        assert_eq!(f.kind, FailureKind::Tls);
        assert_eq!(
            f.message,
            "TLS error: received corrupt message of type InvalidContentType"
        );
    }
}
