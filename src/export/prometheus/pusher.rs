//! The remote-write pusher: every interval it encodes the latest frame and POSTs it, in the
//! background, so that a slow or dead endpoint never slows the run.
//!
//! ```text
//! publish(frame) ──watch──▶ ticker (every interval: encode + snappy) ──▶ bounded queue
//!     ──▶ sender (POST; retry 5xx, 429 and network errors with capped exponential backoff)
//! ```
//!
//! Rules:
//! - Pushes go out in order, oldest first, so Prometheus never sees a sample older than one
//!   it already has (it would reject the whole request).
//! - The queue holds at most `queue` pending pushes; a new one makes room by dropping the
//!   oldest. A push being retried is dropped too as soon as the queue is full behind it: the
//!   newest data (cumulative, so nothing is lost for `rate()` but resolution) wins.
//! - 4xx answers other than 429 are not retried (the spec forbids it): failed and dropped.
//! - Every push gets a timestamp later than the previous one (the frame's own, or the
//!   previous + 1 ms), so a repeated frame is never a duplicate sample.
//! - At the end, [`RemoteWriter::finish`] queues one last push of the final frame and waits
//!   at most `final_timeout` for the queue to drain; what is left is counted as dropped.
//! - Counters: pushes queued, sent, dropped and failed attempts, and the last error's text
//!   (never a credential: the URL is shown without user info and headers are not shown).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, RETRY_AFTER, USER_AGENT};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::exposition::Exposition;
use super::options::{Header, RemoteUrl};
use super::remote_write;

/// How a remote-write target is pushed to.
#[derive(Debug, Clone)]
pub struct RemoteWriteConfig {
    /// The endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`.
    pub url: RemoteUrl,
    /// Extra headers for every push (authentication, tenant id).
    pub headers: Vec<Header>,
    /// Time between pushes.
    pub interval: Duration,
    /// Longest one POST may take (connect included).
    pub timeout: Duration,
    /// Pending pushes kept while the endpoint is slow or down.
    pub queue: usize,
    /// First retry delay; doubled after each failed attempt up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How long [`RemoteWriter::finish`] waits for the last pushes.
    pub final_timeout: Duration,
}

impl RemoteWriteConfig {
    /// Defaults: push every 5 s, 10 s per request, 4 pending pushes, backoff 250 ms → 5 s,
    /// 10 s for the final push.
    pub fn new(url: RemoteUrl) -> RemoteWriteConfig {
        RemoteWriteConfig {
            url,
            headers: Vec::new(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            queue: 4,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            final_timeout: Duration::from_secs(10),
        }
    }
}

/// What the pusher did, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushStats {
    /// The endpoint, without credentials.
    pub url: String,
    /// Pushes encoded and queued.
    pub queued: u64,
    /// Pushes the endpoint accepted.
    pub sent: u64,
    /// Pushes given up: pushed out of a full queue, rejected with a 4xx, or not sent by the
    /// end of the run.
    pub dropped: u64,
    /// POSTs that failed (each retry counts).
    pub failed_attempts: u64,
    /// Bytes of accepted pushes (compressed).
    pub bytes_sent: u64,
    /// The last failure, e.g. `HTTP 503: overloaded` or `timed out after 10s`.
    pub last_error: Option<String>,
}

impl fmt::Display for PushStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Prometheus remote write to {}: {} of {} pushes sent",
            self.url, self.sent, self.queued
        )?;
        if self.dropped > 0 {
            write!(f, ", {} dropped", self.dropped)?;
        }
        if self.failed_attempts > 0 {
            let s = if self.failed_attempts == 1 { "" } else { "s" };
            write!(f, ", {} failed attempt{s}", self.failed_attempts)?;
        }
        if let Some(e) = &self.last_error {
            write!(f, " (last error: {e})")?;
        }
        Ok(())
    }
}

/// One encoded push.
struct Push {
    body: Bytes,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Push>,
    last_timestamp_ms: i64,
    closed: bool,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Notify,
    counters: Counters,
    last_error: Mutex<Option<String>>,
    capacity: usize,
    url: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Encodes `exposition` and queues it, dropping the oldest pending push when full. One
    /// caller at a time (the ticker, then `finish` once the ticker has stopped), so pushes
    /// are queued in timestamp order; the encoding happens outside the lock.
    fn enqueue(&self, exposition: &Exposition) {
        let timestamp = {
            let mut queue = lock(&self.queue);
            let t = exposition
                .timestamp_ms()
                .max(queue.last_timestamp_ms.saturating_add(1));
            queue.last_timestamp_ms = t;
            t
        };
        let body = Bytes::from(remote_write::body(exposition, timestamp));
        let mut queue = lock(&self.queue);
        if queue.pending.len() >= self.capacity {
            queue.pending.pop_front();
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.pending.push_back(Push { body });
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        drop(queue);
        self.wake.notify_one();
    }

    fn full(&self) -> bool {
        lock(&self.queue).pending.len() >= self.capacity
    }

    fn fail(&self, error: String) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(error);
    }

    fn drop_pushes(&self, n: u64) {
        self.counters.dropped.fetch_add(n, Ordering::Relaxed);
    }

    fn stats(&self) -> PushStats {
        let c = &self.counters;
        PushStats {
            url: self.url.clone(),
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed_attempts: c.failed.load(Ordering::Relaxed),
            bytes_sent: c.bytes.load(Ordering::Relaxed),
            last_error: lock(&self.last_error).clone(),
        }
    }
}

/// The background pusher of one remote-write target.
pub struct RemoteWriter {
    shared: Arc<Shared>,
    stop: CancellationToken,
    ticker: JoinHandle<()>,
    sender: Option<JoinHandle<()>>,
    final_timeout: Duration,
}

/// Why a push failed, and whether to try it again.
enum Attempt {
    Sent(u64),
    Retry(String, Option<Duration>),
    GiveUp(String),
}

impl RemoteWriter {
    /// Starts the ticker and the sender on the current tokio runtime. `latest` is the
    /// exporter's latest frame; nothing is pushed before there is one.
    pub fn start(
        config: RemoteWriteConfig,
        latest: watch::Receiver<Option<Arc<Exposition>>>,
    ) -> Result<RemoteWriter, reqwest::Error> {
        let mut headers = HeaderMap::new();
        for h in &config.headers {
            headers.append(h.name.clone(), h.value.clone());
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .default_headers(headers)
            .build()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
            counters: Counters::default(),
            last_error: Mutex::new(None),
            capacity: config.queue.max(1),
            url: config.url.to_string(),
        });
        let stop = CancellationToken::new();
        let ticker = tokio::spawn(tick(shared.clone(), latest, config.interval, stop.clone()));
        let final_timeout = config.final_timeout;
        let sender = tokio::spawn(send_all(shared.clone(), client, config, stop.clone()));
        Ok(RemoteWriter {
            shared,
            stop,
            ticker,
            sender: Some(sender),
            final_timeout,
        })
    }

    /// The counters so far.
    pub fn stats(&self) -> PushStats {
        self.shared.stats()
    }

    /// Pushes `last` (the final frame), waits up to the final timeout for every pending push,
    /// then stops. Returns the final counters: `queued == sent + dropped`.
    pub async fn finish(mut self, last: &Exposition) -> PushStats {
        self.ticker.abort();
        // Returns once the ticker is gone (an enqueue in progress completes first).
        let _ = (&mut self.ticker).await;
        self.shared.enqueue(last);
        lock(&self.shared.queue).closed = true;
        self.shared.wake.notify_one();
        if let Some(mut sender) = self.sender.take()
            && tokio::time::timeout(self.final_timeout, &mut sender)
                .await
                .is_err()
        {
            // Interrupts a POST or a backoff in progress; the sender counts its push.
            self.stop.cancel();
            let _ = sender.await;
        }
        let left = lock(&self.shared.queue).pending.len() as u64;
        self.shared.drop_pushes(left);
        lock(&self.shared.queue).pending.clear();
        self.shared.stats()
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        self.stop.cancel();
        self.ticker.abort();
    }
}

async fn tick(
    shared: Arc<Shared>,
    latest: watch::Receiver<Option<Arc<Exposition>>>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let frame = latest.borrow().clone();
                if let Some(frame) = frame {
                    shared.enqueue(&frame);
                }
            }
            () = stop.cancelled() => return,
        }
    }
}

async fn send_all(
    shared: Arc<Shared>,
    client: reqwest::Client,
    config: RemoteWriteConfig,
    stop: CancellationToken,
) {
    loop {
        let (next, closed) = {
            let mut queue = lock(&shared.queue);
            (queue.pending.pop_front(), queue.closed)
        };
        let push = match next {
            Some(push) => push,
            None if closed => return,
            None => {
                // `notify_one` keeps a permit, so a push queued since the check is not missed.
                tokio::select! {
                    () = shared.wake.notified() => continue,
                    () = stop.cancelled() => return,
                }
            }
        };
        let mut backoff = config.min_backoff;
        loop {
            let attempt = tokio::select! {
                a = post(&client, &config, &push) => a,
                () = stop.cancelled() => {
                    shared.drop_pushes(1);
                    return;
                }
            };
            match attempt {
                Attempt::Sent(bytes) => {
                    shared.counters.sent.fetch_add(1, Ordering::Relaxed);
                    shared.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
                    break;
                }
                Attempt::GiveUp(error) => {
                    shared.fail(error);
                    shared.drop_pushes(1);
                    break;
                }
                Attempt::Retry(error, retry_after) => {
                    shared.fail(error);
                    if shared.full() {
                        // Newer data is waiting and there is no room: let this one go.
                        shared.drop_pushes(1);
                        break;
                    }
                    let delay = retry_after.unwrap_or(backoff).min(config.max_backoff);
                    backoff = (backoff * 2).min(config.max_backoff);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = stop.cancelled() => {
                            shared.drop_pushes(1);
                            return;
                        }
                    }
                }
            }
        }
    }
}

async fn post(client: &reqwest::Client, config: &RemoteWriteConfig, push: &Push) -> Attempt {
    let mut request = client
        .post(config.url.url().clone())
        .header(CONTENT_ENCODING, remote_write::CONTENT_ENCODING)
        .header(CONTENT_TYPE, remote_write::CONTENT_TYPE)
        .header("X-Prometheus-Remote-Write-Version", remote_write::VERSION)
        .header(USER_AGENT, concat!("kload/", env!("CARGO_PKG_VERSION")))
        .body(push.body.clone());
    if let Some((user, password)) = config.url.basic_auth() {
        request = request.basic_auth(user, Some(password));
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(describe(&e, config.timeout), None),
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Sent(push.body.len() as u64);
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let error = status_error(status, &text);
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry(error, retry_after)
    } else {
        Attempt::GiveUp(error)
    }
}

/// `HTTP 400 Bad Request: <first line of the body, at most 200 characters>`.
fn status_error(status: StatusCode, body: &str) -> String {
    let first: String = body
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let first = first.trim();
    if first.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {first}")
    }
}

/// A network error in words, without the URL (it may carry a token in its query).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return format!("timed out after {}", humanize(timeout));
    }
    let mut text = if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause is the useful part ("Connection refused (os error 111)").
    let mut source = e.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_read_as_one_line() {
        let mut s = PushStats {
            url: "http://127.0.0.1:9090/api/v1/write".into(),
            queued: 13,
            sent: 13,
            ..PushStats::default()
        };
        assert_eq!(
            s.to_string(),
            "Prometheus remote write to http://127.0.0.1:9090/api/v1/write: 13 of 13 pushes sent"
        );
        s.sent = 11;
        s.dropped = 2;
        s.failed_attempts = 1;
        s.last_error = Some("HTTP 503 Service Unavailable".into());
        assert_eq!(
            s.to_string(),
            "Prometheus remote write to http://127.0.0.1:9090/api/v1/write: 11 of 13 pushes \
             sent, 2 dropped, 1 failed attempt (last error: HTTP 503 Service Unavailable)"
        );
    }

    #[test]
    fn status_errors_keep_the_first_line_of_the_body() {
        assert_eq!(
            status_error(StatusCode::BAD_REQUEST, "out of order sample\nmore"),
            "HTTP 400 Bad Request: out of order sample"
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, "  \n"),
            "HTTP 502 Bad Gateway"
        );
        assert_eq!(
            status_error(StatusCode::BAD_REQUEST, &"x".repeat(500)).len(),
            222
        );
    }
}
