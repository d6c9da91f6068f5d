//! One measured request, as a virtual user produces it, and the names it is counted under.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Index into the [`StatKey`] table that the compiler fixes before the run starts.
pub type StatId = u32;

/// One measured request. Built by a virtual user after each request and handed to its
/// [`Recorder`](super::Recorder); kept small so that buffering it costs a few bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Which request this was (index into the `StatKey` table given to `Metrics::new`).
    pub stat: StatId,
    /// Completion time in milliseconds since the run started (monotonic clock).
    pub elapsed_ms: u32,
    /// Full response time in microseconds, body included (Locust's "response time").
    pub latency_us: u32,
    /// Time to first byte (response headers) in microseconds; 0 when there was no response.
    pub ttfb_us: u32,
    /// Response body length in bytes.
    pub bytes: u32,
    /// Time between the request's intended start and its actual start, in µs: how late the
    /// schedule was (the open model's arrival, a paced task). `latency_us + lag_us` is the
    /// latency from the intended start, the view without coordinated omission.
    pub lag_us: u32,
    /// HTTP status code; 0 when there was no response.
    pub status: u16,
    /// The request had an intended start (open model, or a class that paces its tasks), so it
    /// counts in the corrected latency view.
    pub scheduled: bool,
    /// `None` for a success; boxed so a success stays small.
    pub failure: Option<Box<Failure>>,
}

impl Sample {
    /// Latency from the intended start, µs (saturating).
    pub fn corrected_us(&self) -> u32 {
        self.latency_us.saturating_add(self.lag_us)
    }
}

/// Requests a paced user would have made while it was busy with a slow one (coordinated
/// omission, filled in as HdrHistogram's expected-interval correction does): `count` values
/// for the corrected view, `top_us`, `top_us - step_us`, ... down to the last positive one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    pub stat: StatId,
    /// Completion time of the slow request, ms since the start.
    pub elapsed_ms: u32,
    pub top_us: u32,
    pub step_us: u32,
    pub count: u32,
}

impl Backfill {
    /// The synthetic values, µs.
    pub fn values(&self) -> impl Iterator<Item = u32> + Clone + '_ {
        (1..=self.count).filter_map(|k| {
            self.top_us
                .checked_sub(self.step_us.saturating_mul(k))
                .filter(|v| *v > 0)
        })
    }
}

/// Why a request counts as failed: a classification for grouping plus the text shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The class of failure, counted in the summary's errors-by-kind table.
    pub kind: FailureKind,
    /// What failed, e.g. ``check failed: `status 201` ``: failures of one request with equal
    /// kinds and messages are one row of the error report.
    pub message: String,
    /// What differs from one such failure to the next (`got 400`, a server's error text): a
    /// few examples are kept per row, never one row per value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The classes of failure kload tells apart. An error of the system under test is a
/// measurement: it is counted under one of these, never a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The TCP connection was refused.
    ConnectionRefused,
    /// The connection was reset or closed mid-request.
    ConnectionReset,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The reply was not HTTP (or not valid HTTP).
    Protocol,
    /// The request did not complete within its timeout.
    Timeout,
    /// A 4xx status other than 429.
    Http4xx,
    /// Status 429 Too Many Requests.
    RateLimited,
    /// A 5xx status.
    Http5xx,
    /// A response check (assertion) of the scenario failed.
    Check,
    /// More redirects than a request may follow.
    TooManyRedirects,
    /// A capture (e.g. a JSONPath into the body) found nothing.
    Capture,
    /// A template could not be rendered (e.g. an unset variable at run time).
    Template,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Every kind, in declaration order (for tables that list all kinds).
    pub const ALL: [FailureKind; 14] = [
        FailureKind::ConnectionRefused,
        FailureKind::ConnectionReset,
        FailureKind::Dns,
        FailureKind::Tls,
        FailureKind::Protocol,
        FailureKind::Timeout,
        FailureKind::Http4xx,
        FailureKind::RateLimited,
        FailureKind::Http5xx,
        FailureKind::Check,
        FailureKind::TooManyRedirects,
        FailureKind::Capture,
        FailureKind::Template,
        FailureKind::Other,
    ];

    /// The kind an HTTP status counts as when the scenario treats it as a failure:
    /// 429 → `RateLimited`, other 4xx → `Http4xx`, 5xx → `Http5xx`, anything else `None`.
    pub fn from_status(status: u16) -> Option<FailureKind> {
        match status {
            429 => Some(FailureKind::RateLimited),
            400..=499 => Some(FailureKind::Http4xx),
            500..=599 => Some(FailureKind::Http5xx),
            _ => None,
        }
    }

    /// The stable snake_case name used in JSON and CSV (`connection_refused`, `http_5xx`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::ConnectionRefused => "connection_refused",
            FailureKind::ConnectionReset => "connection_reset",
            FailureKind::Dns => "dns",
            FailureKind::Tls => "tls",
            FailureKind::Protocol => "protocol",
            FailureKind::Timeout => "timeout",
            FailureKind::Http4xx => "http4xx",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::Http5xx => "http5xx",
            FailureKind::Check => "check",
            FailureKind::TooManyRedirects => "too_many_redirects",
            FailureKind::Capture => "capture",
            FailureKind::Template => "template",
            FailureKind::Other => "other",
        }
    }
}

/// Words for a kind, used when a failure carries no message of its own.
impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::ConnectionRefused => "connection refused",
            FailureKind::ConnectionReset => "connection reset",
            FailureKind::Dns => "DNS lookup failed",
            FailureKind::Tls => "TLS handshake failed",
            FailureKind::Protocol => "protocol error (the reply is not valid HTTP)",
            FailureKind::Timeout => "timeout",
            FailureKind::Http4xx => "HTTP 4xx",
            FailureKind::RateLimited => "HTTP 429 Too Many Requests",
            FailureKind::Http5xx => "HTTP 5xx",
            FailureKind::Check => "check failed",
            FailureKind::TooManyRedirects => "too many redirects",
            FailureKind::Capture => "capture failed",
            FailureKind::Template => "template error",
            FailureKind::Other => "error",
        })
    }
}

impl Failure {
    /// A failure with its own message.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    /// The same failure with what differs from one occurrence to the next.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Failure {
        self.detail = Some(detail.into());
        self
    }

    /// A failure for an error status: kind from [`FailureKind::from_status`] (`Other` for a
    /// status that is not 4xx/5xx) and the message `HTTP 500 Internal Server Error`.
    pub fn http(status: u16) -> Failure {
        let kind = FailureKind::from_status(status).unwrap_or(FailureKind::Other);
        let message = match reason_phrase(status) {
            Some(reason) => format!("HTTP {status} {reason}"),
            None => format!("HTTP {status}"),
        };
        Failure::new(kind, message)
    }

    /// A failed check, message `check failed: {what}`.
    pub fn check(what: impl fmt::Display) -> Failure {
        Failure::new(FailureKind::Check, format!("check failed: {what}"))
    }

    /// What failed, without the detail: the message, or the kind's words when it is empty.
    pub fn headline(&self) -> String {
        if self.message.is_empty() {
            self.kind.to_string()
        } else {
            self.message.clone()
        }
    }
}

/// The error report's text: what failed, then the detail (`check failed: `status 201`: got 400`).
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            fmt::Display::fmt(&self.kind, f)?;
        } else {
            f.write_str(&self.message)?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// The name one request is counted under, like Locust's `(name, method)` stats key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatKey {
    /// HTTP method, upper case (`GET`).
    pub method: String,
    /// Display name: the path as written, or the `name` the scenario gave the request.
    pub name: String,
    /// Tags of the request, matched by `Selector::Tag` thresholds.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl StatKey {
    /// A key without tags.
    pub fn new(method: impl Into<String>, name: impl Into<String>) -> StatKey {
        StatKey {
            method: method.into(),
            name: name.into(),
            tags: Vec::new(),
        }
    }
}

/// Reason phrases for the statuses a load test meets (RFC 9110 and friends).
fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_stays_small() {
        assert_eq!(std::mem::size_of::<Sample>(), 40);
    }

    #[test]
    fn kinds_from_status() {
        assert_eq!(
            FailureKind::from_status(429),
            Some(FailureKind::RateLimited)
        );
        assert_eq!(FailureKind::from_status(404), Some(FailureKind::Http4xx));
        assert_eq!(FailureKind::from_status(503), Some(FailureKind::Http5xx));
        assert_eq!(FailureKind::from_status(200), None);
        assert_eq!(FailureKind::from_status(302), None);
    }

    #[test]
    fn failure_display() {
        assert_eq!(
            Failure::http(500).to_string(),
            "HTTP 500 Internal Server Error"
        );
        assert_eq!(Failure::http(500).kind, FailureKind::Http5xx);
        assert_eq!(Failure::http(429).to_string(), "HTTP 429 Too Many Requests");
        assert_eq!(Failure::http(599).to_string(), "HTTP 599");
        assert_eq!(
            Failure::check("status 201 expected, got 400").to_string(),
            "check failed: status 201 expected, got 400"
        );
        assert_eq!(
            Failure::new(FailureKind::ConnectionRefused, "").to_string(),
            "connection refused"
        );
    }

    #[test]
    fn kind_names_are_serde_names() {
        for kind in FailureKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
