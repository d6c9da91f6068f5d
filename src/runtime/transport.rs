//! How one virtual user's requests reach the server.
//!
//! Requests go over the user's own keep-alive connection: no connection pool. `http://` is
//! HTTP/1.1 ([`super::h1`], a client with no task or buffers of its own between requests);
//! `https://` is TLS with the run's shared configuration ([`super::tls`]), then HTTP/2
//! (hyper) when the server picks it in the handshake (ALPN), HTTP/1.1 otherwise. That keeps
//! a mostly idle user to a socket and a few hundred bytes, and a request to a handful of
//! allocations, which is what lets one core drive as many requests as oha. Multipart uploads go through a reqwest client that the user creates
//! the first time it needs one (with the same TLS configuration). Both paths share the
//! user's cookie jar.

use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, COOKIE, HOST, HeaderMap, HeaderName, HeaderValue,
    SET_COOKIE, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};

use super::h1::{self, Io};
use super::tls::{self, Tls};
use crate::metrics::sample::{Failure, FailureKind};

const AGENT: &str = concat!("kload/", env!("CARGO_PKG_VERSION"));

/// Settings every user's transport is built with.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: std::time::Duration,
    /// The run's TLS configuration, shared by every user (made on first use).
    pub tls: Arc<Tls>,
}

impl ClientOptions {
    /// `insecure`: accept any certificate (`--insecure`).
    pub fn new(timeout: std::time::Duration, insecure: bool) -> ClientOptions {
        ClientOptions {
            timeout,
            tls: Arc::new(Tls::new(insecure)),
        }
    }
}

/// A body ready to send.
pub enum SendBody {
    Empty,
    Bytes(Bytes),
    Multipart(Box<reqwest::multipart::Form>),
}

/// Status and headers of a response whose body is still to be read.
pub struct Head {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// When the head arrived, if the body was read with it (HTTP/1.1); otherwise it
    /// arrives now.
    pub head_at: Option<std::time::Instant>,
    pub body: BodyStream,
}

pub enum BodyStream {
    /// HTTP/1.1: read with the head.
    Ready(Result<Bytes, Failure>),
    Hyper(hyper::body::Incoming),
    /// Boxed: the HTTPS path is rarer, and its large response would make every request's
    /// state larger.
    Reqwest(Box<reqwest::Response>),
}

/// The user's connection: HTTP/1.1 (plain or over TLS) or HTTP/2 (over TLS).
struct Conn {
    sender: Sender,
    https: bool,
    host: String,
    port: u16,
    /// The headers every request on this connection starts from (Host, User-Agent, ...).
    base_headers: HeaderMap,
}

enum Sender {
    H1(h1::Connection),
    /// HTTP/2 requests carry the scheme and authority in the URI (`:scheme`, `:authority`).
    H2(http2::SendRequest<Full<Bytes>>, hyper::http::uri::Authority),
}

/// One user's connections and cookie jar, like a browser session.
pub struct Transport {
    options: ClientOptions,
    pub jar: Arc<Jar>,
    conn: Option<Conn>,
    client: Option<reqwest::Client>,
    /// Recently used request targets, parsed.
    targets: Vec<(String, hyper::Uri)>,
    /// Whether a response on the HTTP/1 path ever set a cookie.
    has_cookies: bool,
}

impl Transport {
    pub fn new(options: ClientOptions) -> Transport {
        Transport {
            options,
            jar: Arc::new(Jar::default()),
            conn: None,
            client: None,
            targets: Vec::new(),
            has_cookies: false,
        }
    }

    /// The request target (`/path?query`) of a URL, parsed once per distinct target.
    fn target(&mut self, url: &Url) -> Result<hyper::Uri, Failure> {
        let text = &url[url::Position::BeforePath..url::Position::AfterQuery];
        if let Some((_, uri)) = self.targets.iter().find(|(t, _)| t == text) {
            return Ok(uri.clone());
        }
        let uri: hyper::Uri = text.parse().map_err(|_| {
            Failure::new(
                FailureKind::Other,
                format!("invalid request target in `{url}`"),
            )
        })?;
        if self.targets.len() >= 8 {
            self.targets.remove(0);
        }
        self.targets.push((text.to_string(), uri.clone()));
        Ok(uri)
    }

    /// The default request timeout.
    pub fn timeout(&self) -> std::time::Duration {
        self.options.timeout
    }

    /// Forgets the connection (after a timeout its state is unknown).
    pub fn reset(&mut self) {
        self.conn = None;
    }

    /// Sends a request and waits for the response's head.
    ///
    /// Not an `async fn` itself: it only picks the future to await, so its arguments are not
    /// stored a second time in the request's state (which is boxed and copied per request).
    pub fn send<'a>(
        &'a mut self,
        method: Method,
        url: &'a Url,
        headers: HeaderMap,
        body: SendBody,
    ) -> impl Future<Output = Result<Head, Failure>> + Send + 'a {
        // The reqwest path is boxed: it is rare, and keeping its large state out of the
        // per-request future keeps every request cheap to start.
        type Rare<'a> = Pin<Box<dyn Future<Output = Result<Head, Failure>> + Send + 'a>>;
        let bytes = match body {
            SendBody::Multipart(form) => {
                return Either::Right(
                    Box::pin(self.send_reqwest(method, url, headers, *form)) as Rare<'a>
                );
            }
            SendBody::Bytes(b) => b,
            SendBody::Empty => Bytes::new(),
        };
        Either::Left(self.send_own(method, url, headers, bytes))
    }

    async fn connect(&mut self, url: &Url, host: &str, port: u16) -> Result<(), Failure> {
        let https = url.scheme() == "https";
        if !https && url.scheme() != "http" {
            return Err(Failure::new(
                FailureKind::Other,
                format!("unsupported URL scheme `{}` (http or https)", url.scheme()),
            ));
        }
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| io_failure(&e, host))?;
        let _ = stream.set_nodelay(true);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let sender = if https {
            let config = self.options.tls.config()?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(tls::server_name(host)?, stream)
                .await
                .map_err(|e| classify_error(&e, false, true))?;
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                let authority = authority.parse().map_err(|_| {
                    Failure::new(FailureKind::Other, format!("invalid host `{authority}`"))
                })?;
                let io = hyper_util::rt::TokioIo::new(stream);
                Sender::H2(handshake_h2(io).await?, authority)
            } else {
                Sender::H1(h1::Connection::new(Io::Tls(Box::new(stream))))
            }
        } else {
            Sender::H1(h1::Connection::new(Io::Tcp(stream)))
        };
        let mut base_headers = HeaderMap::with_capacity(4);
        if let Sender::H1(_) = sender
            && let Ok(v) = HeaderValue::from_str(&authority)
        {
            base_headers.insert(HOST, v);
        }
        base_headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        base_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        base_headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        self.conn = Some(Conn {
            sender,
            https,
            host: host.to_string(),
            port,
            base_headers,
        });
        Ok(())
    }

    /// The request as hyper sends it over HTTP/2: this connection's base headers, the
    /// request's own, and the jar's cookies.
    fn request(
        base: &HeaderMap,
        method: &Method,
        target: hyper::Uri,
        headers: &HeaderMap,
        cookie: Option<&HeaderValue>,
        body: &Bytes,
    ) -> hyper::Request<Full<Bytes>> {
        let mut all = base.clone();
        for (name, value) in headers {
            all.insert(name, value.clone());
        }
        if let Some(c) = cookie
            && !headers.contains_key(COOKIE)
        {
            all.insert(COOKIE, c.clone());
        }
        let mut request = hyper::Request::new(Full::new(body.clone()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = target;
        *request.headers_mut() = all;
        request
    }

    /// Sends over the user's own connection. A plain function around an `async move`
    /// block, so that its arguments are kept once.
    // An `async fn` would store its arguments a second time (see above).
    #[allow(clippy::manual_async_fn)]
    fn send_own<'a>(
        &'a mut self,
        method: Method,
        url: &'a Url,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl Future<Output = Result<Head, Failure>> + Send + 'a {
        async move {
            let https = url.scheme() == "https";
            let host = url.host_str().unwrap_or_default();
            let port = url.port_or_known_default().unwrap_or(80);
            // A kept-alive connection the server has closed fails on first use; one new
            // connection is tried before the request counts as failed.
            for attempt in 0..2 {
                let reused = match &mut self.conn {
                    Some(c) if c.host == host && c.port == port && c.https == https => {
                        match &mut c.sender {
                            Sender::H1(h) => h.usable(),
                            Sender::H2(s, _) => s.ready().await.is_ok(),
                        }
                    }
                    _ => false,
                };
                if !reused {
                    self.conn = None;
                    Box::pin(self.connect(url, host, port)).await?;
                }
                // The jar is only consulted once some response has set a cookie.
                let cookie = if self.has_cookies {
                    self.jar.cookies(url)
                } else {
                    None
                };
                let h2_target = match self.conn.as_ref().map(|c| &c.sender) {
                    Some(Sender::H2(_, authority)) => {
                        let authority = authority.clone();
                        Some(absolute(self.target(url)?, &authority)?)
                    }
                    _ => None,
                };
                let Some(conn) = self.conn.as_mut() else {
                    unreachable!("connected above")
                };
                let head = match (&mut conn.sender, h2_target) {
                    (Sender::H1(h), _) => {
                        let head = h1_head(
                            &conn.base_headers,
                            &method,
                            &url[url::Position::BeforePath..url::Position::AfterQuery],
                            &headers,
                            cookie.as_ref(),
                            body.len(),
                        );
                        match h.exchange(head, &body, method == Method::HEAD).await {
                            Ok(r) => Head {
                                status: r.status,
                                headers: r.headers,
                                head_at: Some(r.head_at),
                                body: BodyStream::Ready(r.body),
                            },
                            Err(h1::Error::Stale) => {
                                self.conn = None;
                                if reused && attempt == 0 {
                                    continue;
                                }
                                return Err(Failure::new(
                                    FailureKind::ConnectionReset,
                                    "connection reset",
                                )
                                .with_detail(
                                    "the server closed the connection without answering"
                                        .to_string(),
                                ));
                            }
                            Err(h1::Error::Failed(f)) => {
                                self.conn = None;
                                return Err(f);
                            }
                        }
                    }
                    (Sender::H2(s, _), Some(target)) => {
                        let request = Self::request(
                            &conn.base_headers,
                            &method,
                            target,
                            &headers,
                            cookie.as_ref(),
                            &body,
                        );
                        match s.send_request(request).await {
                            Ok(response) => {
                                let (parts, body) = response.into_parts();
                                Head {
                                    status: parts.status,
                                    headers: parts.headers,
                                    head_at: None,
                                    body: BodyStream::Hyper(body),
                                }
                            }
                            Err(e) => {
                                self.conn = None;
                                if reused
                                    && attempt == 0
                                    && (e.is_incomplete_message()
                                        || e.is_canceled()
                                        || e.is_closed())
                                {
                                    continue;
                                }
                                return Err(classify_error(&e, false, https));
                            }
                        }
                    }
                    (Sender::H2(..), None) => unreachable!("an HTTP/2 target is made above"),
                };
                if head.headers.contains_key(SET_COOKIE) {
                    self.has_cookies = true;
                    self.jar
                        .set_cookies(&mut head.headers.get_all(SET_COOKIE).iter(), url);
                }
                return Ok(head);
            }
            Err(Failure::new(
                FailureKind::ConnectionReset,
                "connection reset",
            ))
        }
    }

    fn client(&mut self) -> Result<&reqwest::Client, Failure> {
        // reqwest fills the same jar itself: from now on the jar is always consulted.
        self.has_cookies = true;
        if self.client.is_none() {
            let tls = (*self.options.tls.config()?).clone();
            let client = reqwest::Client::builder()
                .cookie_provider(self.jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(AGENT)
                .pool_max_idle_per_host(4)
                .tls_backend_preconfigured(tls)
                .build()
                .map_err(|e| {
                    Failure::new(
                        FailureKind::Tls,
                        format!("cannot build an HTTPS client: {e}"),
                    )
                })?;
            self.client = Some(client);
        }
        Ok(self
            .client
            .as_ref()
            .unwrap_or_else(|| unreachable!("set above")))
    }

    /// A multipart upload, through reqwest (it streams the form).
    async fn send_reqwest(
        &mut self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        form: reqwest::multipart::Form,
    ) -> Result<Head, Failure> {
        let builder = self
            .client()?
            .request(method, url.clone())
            .headers(headers)
            .multipart(form);
        let https = url.scheme() == "https";
        let response = builder
            .send()
            .await
            .map_err(|e| classify_error(&e, e.is_timeout(), https))?;
        Ok(Head {
            status: response.status(),
            headers: response.headers().clone(),
            head_at: None,
            body: BodyStream::Reqwest(Box::new(response)),
        })
    }
}

/// HTTP/2 over TLS, after the server chose `h2`; the connection runs in a task of its own
/// until the user drops its sender or the server closes.
async fn handshake_h2(
    io: hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
) -> Result<http2::SendRequest<Full<Bytes>>, Failure> {
    let (sender, conn) = http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .handshake(io)
        .await
        .map_err(|e| classify_error(&e, false, true))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// An HTTP/1.1 request head: the request line, this connection's base headers unless the
/// request sets the same ones, the request's headers, the jar's cookies unless the request
/// sets `Cookie`, and the body's length (always computed here, never taken from the
/// scenario: a wrong one would desynchronise the connection).
fn h1_head(
    base: &HeaderMap,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    cookie: Option<&HeaderValue>,
    body_len: usize,
) -> Vec<u8> {
    use reqwest::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    // Room for the body too when it goes out in the same write (`h1::COALESCE`).
    let inline = if body_len <= h1::COALESCE {
        body_len
    } else {
        0
    };
    let mut out = Vec::with_capacity(256 + inline);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(if target.is_empty() {
        b"/"
    } else {
        target.as_bytes()
    });
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut put = |name: &HeaderName, value: &HeaderValue| {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    for (name, value) in base {
        if !headers.contains_key(name) {
            put(name, value);
        }
    }
    for (name, value) in headers {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            put(name, value);
        }
    }
    if let Some(c) = cookie
        && !headers.contains_key(COOKIE)
    {
        put(&COOKIE, c);
    }
    if body_len > 0 || matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        put(&CONTENT_LENGTH, &HeaderValue::from(body_len));
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `https://authority/path?query` from the origin-form target, for HTTP/2.
fn absolute(
    target: hyper::Uri,
    authority: &hyper::http::uri::Authority,
) -> Result<hyper::Uri, Failure> {
    let mut parts = target.into_parts();
    parts.scheme = Some(hyper::http::uri::Scheme::HTTPS);
    parts.authority = Some(authority.clone());
    hyper::Uri::from_parts(parts)
        .map_err(|e| Failure::new(FailureKind::Other, format!("invalid request URI: {e}")))
}

impl BodyStream {
    /// The whole body, decompressed when the server sent gzip (reqwest decompresses its
    /// own).
    pub async fn read(self, headers: &HeaderMap) -> Result<Bytes, Failure> {
        let bytes = match self {
            BodyStream::Reqwest(r) => {
                let https = r.url().scheme() == "https";
                return Box::pin(r.bytes())
                    .await
                    .map_err(|e| classify_error(&e, e.is_timeout(), https));
            }
            BodyStream::Ready(b) => b?,
            BodyStream::Hyper(b) => collect(b).await?,
        };
        let gzip = headers
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if !gzip {
            return Ok(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Failure::new(FailureKind::Other, format!("invalid gzip body: {e}")))?;
        Ok(out.into())
    }
}

/// The body's data frames as one buffer. A body that arrives in one frame (the common
/// case for API responses) is returned as is, without copying or a list of chunks.
async fn collect(mut body: hyper::body::Incoming) -> Result<Bytes, Failure> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify_error(&e, false, false))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(f), None) => {
                let mut all = bytes::BytesMut::with_capacity(f.len() + data.len());
                all.extend_from_slice(f);
                all.extend_from_slice(&data);
                rest = Some(all);
            }
            (Some(_), Some(all)) => all.extend_from_slice(&data),
        }
    }
    Ok(match (first, rest) {
        (_, Some(all)) => all.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

fn io_failure(e: &std::io::Error, host: &str) -> Failure {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Failure::new(FailureKind::ConnectionRefused, "connection refused"),
        K::TimedOut => Failure::new(FailureKind::Timeout, "timeout"),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            Failure::new(FailureKind::ConnectionReset, "connection reset")
        }
        _ if e.to_string().contains("lookup") || e.to_string().contains("Name or service") => {
            Failure::new(
                FailureKind::Dns,
                format!("DNS lookup failed for `{host}`: {e}"),
            )
        }
        _ => Failure::new(FailureKind::Other, e.to_string()),
    }
}

/// Sorts a transport error into the failure kinds of the error report.
/// `https` tells the request used TLS: only then can a malformed reply be a TLS failure.
pub fn classify_error(
    e: &(dyn std::error::Error + 'static),
    timed_out: bool,
    https: bool,
) -> Failure {
    use std::io::ErrorKind as K;
    let mut chain = String::new();
    let mut io_kinds = Vec::new();
    // The innermost error says what happened; the outer ones say where ("client error
    // (Connect)").
    let mut cause = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
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
    let kind = if timed_out || io(K::TimedOut) {
        FailureKind::Timeout
    } else if io(K::ConnectionRefused) || chain.contains("connection refused") {
        FailureKind::ConnectionRefused
    } else if chain.contains("dns error")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        FailureKind::Dns
    } else if https
        && (io(K::InvalidData)
            || chain.contains("certificate")
            || chain.contains("tls")
            || chain.contains("handshake")
            || chain.contains("corrupt message")
            || chain.contains("alert"))
    {
        // rustls says what went wrong in its errors (e.g. a plain-HTTP answer to its
        // ClientHello is "received corrupt message" inside a TLS error).
        FailureKind::Tls
    } else if io(K::InvalidData)
        || chain.contains("invalid http")
        || chain.contains("parse")
        || chain.contains("invalid status")
        || chain.contains("invalid header")
        || chain.contains("message head")
        || chain.contains("unexpected message")
    {
        // The answer is not HTTP (hyper could not parse it): the server or the port is not
        // what the scenario thinks, which is not a TLS matter.
        FailureKind::Protocol
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
        || chain.contains("connection closed")
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
        FailureKind::Protocol => format!("protocol error (the reply is not valid HTTP): {cause}"),
        _ => cause,
    };
    Failure::new(kind, message)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn failure_of(client: reqwest::Client, url: &str) -> Failure {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let e = client.get(url).send().await.unwrap_err();
            classify_error(&e, e.is_timeout(), url.starts_with("https:"))
        })
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
        let f = failure_of(client, "https://kload.invalid/");
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

    #[test]
    fn a_reply_that_is_not_http_is_a_protocol_error_not_tls() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0u8; 1024]);
                let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
            }
        });
        let f = failure_of(reqwest::Client::new(), &format!("http://127.0.0.1:{port}/"));
        assert_eq!(f.kind, FailureKind::Protocol, "{}", f.message);
        assert!(f.message.starts_with("protocol error"), "{}", f.message);
    }
}
