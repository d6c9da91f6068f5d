//! How one virtual user's requests reach the server.
//!
//! Plain `http://` requests go over the user's own HTTP/1.1 keep-alive connection, driven
//! by hyper directly: no connection pool, no TLS set-up, one small connection task. That
//! keeps a mostly idle user to a few kilobytes and a request to a handful of allocations,
//! which is what lets one core drive as many requests as oha. HTTPS (and HTTP/2 where the
//! server offers it) and multipart uploads go through a reqwest client that the user
//! creates the first time it needs one. Both paths share the user's cookie jar.

use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, COOKIE, HOST, HeaderMap, HeaderValue, SET_COOKIE,
    USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};

use crate::metrics::sample::{Failure, FailureKind};

const AGENT: &str = concat!("kload/", env!("CARGO_PKG_VERSION"));

/// Settings every user's transport is built with.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: std::time::Duration,
    pub insecure: bool,
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
    pub body: BodyStream,
}

pub enum BodyStream {
    Hyper(hyper::body::Incoming),
    /// Boxed: the HTTPS path is rarer, and its large response would make every request's
    /// state larger.
    Reqwest(Box<reqwest::Response>),
}

struct H1 {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    port: u16,
    /// The headers every request on this connection starts from (Host, User-Agent, ...).
    base_headers: HeaderMap,
}

/// One user's connections and cookie jar, like a browser session.
pub struct Transport {
    options: ClientOptions,
    pub jar: Arc<Jar>,
    h1: Option<H1>,
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
            h1: None,
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

    /// Forgets the HTTP/1 connection (after a timeout its state is unknown).
    pub fn reset(&mut self) {
        self.h1 = None;
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
        // The reqwest path and connecting are boxed: they are rare, and keeping their
        // large state out of the per-request future keeps every request cheap to start.
        type Rare<'a> = Pin<Box<dyn Future<Output = Result<Head, Failure>> + Send + 'a>>;
        match body {
            SendBody::Multipart(form) => {
                Either::Right(
                    Box::pin(self.send_reqwest(method, url, headers, Some(*form), None))
                        as Rare<'a>,
                )
            }
            body if url.scheme() == "http" => {
                let bytes = match body {
                    SendBody::Bytes(b) => b,
                    _ => Bytes::new(),
                };
                Either::Left(self.send_h1(method, url, headers, bytes))
            }
            SendBody::Bytes(b) => {
                Either::Right(
                    Box::pin(self.send_reqwest(method, url, headers, None, Some(b))) as Rare<'a>,
                )
            }
            SendBody::Empty => Either::Right(Box::pin(
                self.send_reqwest(method, url, headers, None, None),
            ) as Rare<'a>),
        }
    }

    async fn connect(&mut self, url: &Url, host: &str, port: u16) -> Result<(), Failure> {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| io_failure(&e, host))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| classify_error(&e, false, false))?;
        tokio::spawn(async move {
            // The connection ends when the user drops its sender or the server closes it.
            let _ = conn.await;
        });
        let mut base_headers = HeaderMap::with_capacity(4);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&authority) {
            base_headers.insert(HOST, v);
        }
        base_headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        base_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        base_headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        self.h1 = Some(H1 {
            sender,
            host: host.to_string(),
            port,
            base_headers,
        });
        Ok(())
    }

    /// The request as hyper sends it: this connection's base headers, the request's own,
    /// and the jar's cookies.
    fn h1_request(
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

    /// Sends over the user's HTTP/1.1 connection (`http://` only). A plain function around
    /// an `async move` block, so that its arguments are kept once, and the request is built
    /// by [`h1_request`](Self::h1_request) so that it is not kept beside hyper's copy.
    // An `async fn` would store its arguments a second time (see above).
    #[allow(clippy::manual_async_fn)]
    fn send_h1<'a>(
        &'a mut self,
        method: Method,
        url: &'a Url,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl Future<Output = Result<Head, Failure>> + Send + 'a {
        async move {
            // A kept-alive connection the server has closed fails on first use; one new
            // connection is tried before the request counts as failed.
            for attempt in 0..2 {
                let host = url.host_str().unwrap_or_default();
                let port = url.port_or_known_default().unwrap_or(80);
                let reused = matches!(&self.h1, Some(h) if h.host == host && h.port == port);
                if !reused {
                    self.h1 = None;
                    Box::pin(self.connect(url, host, port)).await?;
                }
                let ready = match self.h1.as_mut() {
                    Some(h1) => h1.sender.ready().await.is_ok(),
                    None => false,
                };
                if !ready {
                    self.h1 = None;
                    if attempt == 0 {
                        continue;
                    }
                    return Err(Failure::new(
                        FailureKind::ConnectionReset,
                        "connection reset",
                    ));
                }
                let target = self.target(url)?;
                // The jar is only consulted once some response has set a cookie.
                let cookie = if self.has_cookies {
                    self.jar.cookies(url)
                } else {
                    None
                };
                let Some(h1) = self.h1.as_mut() else {
                    unreachable!("connected above")
                };
                let request = Self::h1_request(
                    &h1.base_headers,
                    &method,
                    target,
                    &headers,
                    cookie.as_ref(),
                    &body,
                );
                match h1.sender.send_request(request).await {
                    Ok(response) => {
                        let (parts, body) = response.into_parts();
                        if parts.headers.contains_key(SET_COOKIE) {
                            self.has_cookies = true;
                            self.jar
                                .set_cookies(&mut parts.headers.get_all(SET_COOKIE).iter(), url);
                        }
                        return Ok(Head {
                            status: parts.status,
                            headers: parts.headers,
                            body: BodyStream::Hyper(body),
                        });
                    }
                    Err(e) => {
                        self.h1 = None;
                        if reused
                            && attempt == 0
                            && (e.is_incomplete_message() || e.is_canceled() || e.is_closed())
                        {
                            continue;
                        }
                        return Err(classify_error(&e, false, false));
                    }
                }
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
            let client = reqwest::Client::builder()
                .cookie_provider(self.jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(AGENT)
                .pool_max_idle_per_host(4)
                .tls_danger_accept_invalid_certs(self.options.insecure)
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

    async fn send_reqwest(
        &mut self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        form: Option<reqwest::multipart::Form>,
        bytes: Option<Bytes>,
    ) -> Result<Head, Failure> {
        let mut builder = self.client()?.request(method, url.clone()).headers(headers);
        if let Some(form) = form {
            builder = builder.multipart(form);
        }
        if let Some(b) = bytes {
            builder = builder.body(b);
        }
        let https = url.scheme() == "https";
        let response = builder
            .send()
            .await
            .map_err(|e| classify_error(&e, e.is_timeout(), https))?;
        Ok(Head {
            status: response.status(),
            headers: response.headers().clone(),
            body: BodyStream::Reqwest(Box::new(response)),
        })
    }
}

impl BodyStream {
    /// The whole body, decompressed when the server sent gzip on the HTTP/1 path.
    pub async fn read(self, headers: &HeaderMap) -> Result<Bytes, Failure> {
        match self {
            BodyStream::Reqwest(r) => {
                let https = r.url().scheme() == "https";
                Box::pin(r.bytes())
                    .await
                    .map_err(|e| classify_error(&e, e.is_timeout(), https))
            }
            BodyStream::Hyper(b) => {
                let bytes = collect(b).await?;
                let gzip = headers
                    .get(CONTENT_ENCODING)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
                if !gzip {
                    return Ok(bytes);
                }
                let mut out = Vec::with_capacity(bytes.len() * 4);
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        Failure::new(FailureKind::Other, format!("invalid gzip body: {e}"))
                    })?;
                Ok(out.into())
            }
        }
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
