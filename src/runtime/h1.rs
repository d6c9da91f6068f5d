//! HTTP/1.1 on a user's own connection, written for a load generator.
//!
//! A user sends one request at a time and waits for its answer, so the client needs no
//! dispatch channel, no connection task and no buffers between requests: the request head
//! is written in one `write`, the response is read into a buffer that lives for that
//! exchange only, and an idle user holds a socket and nothing else. (hyper's client keeps a
//! connection task, a 32-slot request channel and two 8 KiB buffers per connection: about
//! 25 KiB for each mostly idle user.)
//!
//! What it implements of RFC 9112: `Content-Length`, chunked and close-delimited bodies
//! (chunk extensions and trailers are read and dropped), bodiless responses (HEAD, 1xx, 204,
//! 304), interim 1xx responses skipped, keep-alive by version and `Connection`, an answer
//! sent before the server read the whole request (a 413 to an upload, then a close) taken as
//! the response, and a connection the server closed while idle retried once on a new one
//! (the caller decides: [`Error::Stale`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::metrics::sample::{Failure, FailureKind};

/// The largest response head accepted (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// How much is read at a time when the size of what comes is unknown.
const READ_CHUNK: usize = 8 * 1024;
/// Bodies up to this size are written in the same `write` as the head.
pub(super) const COALESCE: usize = 16 * 1024;

/// A plain or TLS stream.
pub enum Io {
    Tcp(TcpStream),
    /// Boxed: the TLS state is large, and plain connections are the common case.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// One HTTP/1.1 connection.
pub struct Connection {
    io: Io,
    /// Set while an exchange is under way: a connection whose exchange was abandoned
    /// (a timeout, a stop) is in an unknown state and is not used again.
    busy: bool,
    /// Whether the last response left the connection fit for another request.
    reusable: bool,
}

/// A response, its body already read (or the reason it could not be).
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// When the head had arrived (time to first byte, for the reports).
    pub head_at: Instant,
    pub body: Result<Bytes, Failure>,
}

pub enum Error {
    /// The connection was closed before any byte of a response arrived: on a kept-alive
    /// connection, the server had closed it while idle; the request may be retried once on a
    /// new connection.
    Stale,
    Failed(Failure),
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        Error::Failed(f)
    }
}

impl Connection {
    pub fn new(io: Io) -> Connection {
        Connection {
            io,
            busy: false,
            reusable: true,
        }
    }

    /// Whether another request may be sent: the last exchange finished cleanly and, on a
    /// plain socket, nothing arrived since (a server that closed an idle connection makes it
    /// readable). That is the readiness the runtime already knows from the OS, not a system
    /// call. Over TLS the socket is not looked at: a server may send session tickets after
    /// the handshake, which are not a close; a closed TLS connection shows as
    /// [`Error::Stale`] once the request is sent.
    pub fn usable(&self) -> bool {
        if self.busy || !self.reusable {
            return false;
        }
        match &self.io {
            Io::Tcp(s) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                // Readiness can be left over from the last response when its final read
                // filled the buffer exactly; then one look at the socket says (and a
                // `WouldBlock` clears it).
                s.poll_read_ready(&mut cx).is_pending()
                    || matches!(s.try_read(&mut [0u8; 1]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            Io::Tls(_) => true,
        }
    }

    /// Writes the request (`head` ends with the blank line; a small body is sent in the same
    /// write, appended to it) and reads the response.
    /// `bodiless`: the request was HEAD, so the response has no body whatever it says.
    pub async fn exchange(
        &mut self,
        head: Vec<u8>,
        body: &[u8],
        bodiless: bool,
    ) -> Result<Response, Error> {
        self.busy = true;
        // A server may answer before it has read the whole request (413, 429, 401 to an
        // upload) and close: what it answered is read before the write's error is believed.
        let written = self.write(head, body).await;
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let (status, headers, version) = loop {
            let (status, headers, version) = match self.read_head(&mut buf).await {
                Ok(head) => head,
                // Nothing (more) to read: if the write failed, that is what happened.
                Err(e) => return Err(written.err().unwrap_or(e)),
            };
            // Interim responses (100 Continue, 103 Early Hints) come before the real one.
            if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
                continue;
            }
            break (status, headers, version);
        };
        let head_at = Instant::now();
        let mut keep = keep_alive(version, &headers);
        let framing = if bodiless
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            Framing::Length(0)
        } else {
            framing(&headers)?
        };
        let body = match framing {
            Framing::Length(n) => self.read_exact(&mut buf, n).await,
            Framing::Chunked => self.read_chunked(&mut buf).await,
            Framing::UntilClose => {
                keep = false;
                self.read_to_end(buf.split()).await
            }
        };
        // Bytes after the response were not asked for: the connection is out of step.
        self.reusable = keep && body.is_ok() && buf.is_empty() && written.is_ok();
        self.busy = false;
        Ok(Response {
            status,
            headers,
            head_at,
            body,
        })
    }

    async fn write(&mut self, mut head: Vec<u8>, body: &[u8]) -> Result<(), Error> {
        let result = if body.len() <= COALESCE {
            head.extend_from_slice(body);
            self.io.write_all(&head).await
        } else {
            match self.io.write_all(&head).await {
                Ok(()) => self.io.write_all(body).await,
                r => r,
            }
        };
        match result.and(self.io.flush().await) {
            Ok(()) => Ok(()),
            // The server closed the connection: nothing of this request was answered.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                ) =>
            {
                Err(Error::Stale)
            }
            Err(e) => Err(Error::Failed(read_failure(&e))),
        }
    }

    /// Reads more into `buf`, at least `want` bytes of room; 0 means the server closed.
    async fn fill(&mut self, buf: &mut BytesMut, want: usize) -> io::Result<usize> {
        buf.reserve(want);
        self.io.read_buf(buf).await
    }

    /// Reads a response head and takes it off the front of `buf`.
    async fn read_head(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<(StatusCode, HeaderMap, u8), Error> {
        loop {
            if !buf.is_empty()
                && let Some(parsed) = parse_head(buf)?
            {
                return Ok(parsed);
            }
            if buf.len() > MAX_HEAD {
                return Err(Error::Failed(protocol(format!(
                    "the response head is over {} KiB",
                    MAX_HEAD / 1024
                ))));
            }
            match self.fill(buf, READ_CHUNK).await {
                Ok(0) if buf.is_empty() => return Err(Error::Stale),
                Ok(0) => {
                    return Err(Error::Failed(reset(
                        "the connection closed before the response head was complete",
                    )));
                }
                Ok(_) => {}
                Err(e) if buf.is_empty() && is_reset(&e) => return Err(Error::Stale),
                Err(e) => return Err(Error::Failed(read_failure(&e))),
            }
        }
    }

    async fn read_exact(&mut self, buf: &mut BytesMut, n: u64) -> Result<Bytes, Failure> {
        let n = usize::try_from(n).map_err(|_| protocol("the body is too large".into()))?;
        self.fill_to(buf, n).await?;
        Ok(buf.split_to(n).freeze())
    }

    async fn read_chunked(&mut self, buf: &mut BytesMut) -> Result<Bytes, Failure> {
        let mut body: Option<BytesMut> = None;
        loop {
            let size = match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((used, size))) => {
                    buf.advance(used);
                    size
                }
                Ok(httparse::Status::Partial) => {
                    self.fill_to(buf, buf.len() + 1).await?;
                    continue;
                }
                Err(_) => return Err(protocol("invalid chunk size".into())),
            };
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    match buf.windows(2).position(|w| w == b"\r\n") {
                        Some(0) => {
                            buf.advance(2);
                            return Ok(body.map(BytesMut::freeze).unwrap_or_default());
                        }
                        Some(at) => buf.advance(at + 2),
                        None => self.fill_to(buf, buf.len() + 1).await?,
                    }
                }
            }
            let size = usize::try_from(size)
                .ok()
                .filter(|s| *s <= 1 << 30)
                .ok_or_else(|| protocol("a chunk is over 1 GiB".into()))?;
            self.fill_to(buf, size + 2).await?;
            if &buf[size..size + 2] != b"\r\n" {
                return Err(protocol("a chunk does not end with CRLF".into()));
            }
            let data = buf.split_to(size);
            buf.advance(2);
            match &mut body {
                None => body = Some(data),
                Some(all) => all.extend_from_slice(&data),
            }
        }
    }

    /// Reads until `buf` holds at least `n` bytes of the body; the server closing first is
    /// an error. Each read asks for at least 8 KiB, so that a read rarely fills the buffer
    /// exactly (see [`usable`](Self::usable)).
    async fn fill_to(&mut self, buf: &mut BytesMut, n: usize) -> Result<(), Failure> {
        while buf.len() < n {
            let missing = n - buf.len();
            match self.fill(buf, missing.clamp(READ_CHUNK, 1 << 20)).await {
                Ok(0) => return Err(reset("the connection closed before the body was complete")),
                Ok(_) => {}
                Err(e) => return Err(read_failure(&e)),
            }
        }
        Ok(())
    }

    async fn read_to_end(&mut self, mut buf: BytesMut) -> Result<Bytes, Failure> {
        loop {
            match self.fill(&mut buf, READ_CHUNK).await {
                Ok(0) => return Ok(buf.freeze()),
                Ok(_) => {}
                Err(e) => return Err(read_failure(&e)),
            }
        }
    }
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// How the body is delimited (RFC 9112 §6.3): chunked wins over a length.
fn framing(headers: &HeaderMap) -> Result<Framing, Failure> {
    if let Some(te) = headers
        .get_all(reqwest::header::TRANSFER_ENCODING)
        .iter()
        .next_back()
    {
        let last = te
            .as_bytes()
            .rsplit(|b| *b == b',')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        return Ok(if last.eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut lengths = headers.get_all(CONTENT_LENGTH).iter();
    match lengths.next() {
        None => Ok(Framing::UntilClose),
        Some(first) => {
            let n = std::str::from_utf8(first.as_bytes())
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| protocol("invalid Content-Length".into()))?;
            if lengths.any(|other| other != first) {
                return Err(protocol("conflicting Content-Length headers".into()));
            }
            Ok(Framing::Length(n))
        }
    }
}

fn keep_alive(version: u8, headers: &HeaderMap) -> bool {
    let says = |word: &[u8]| {
        headers.get_all(CONNECTION).iter().any(|v| {
            v.as_bytes()
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(word))
        })
    };
    if version >= 1 {
        !says(b"close")
    } else {
        says(b"keep-alive")
    }
}

/// The head at the start of `buf`, if it is all there, taken off it: (status, headers,
/// minor version). Header values are slices of the head's bytes, not copies.
fn parse_head(buf: &mut BytesMut) -> Result<Option<(StatusCode, HeaderMap, u8)>, Error> {
    let mut few = [httparse::EMPTY_HEADER; 64];
    let mut many;
    let mut response = httparse::Response::new(&mut few);
    let mut parsed = response.parse(buf);
    if let Err(httparse::Error::TooManyHeaders) = parsed {
        many = vec![httparse::EMPTY_HEADER; 1024];
        response = httparse::Response::new(&mut many);
        parsed = response.parse(buf);
    }
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Error::Failed(protocol(e.to_string()))),
    };
    let status = response
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| Error::Failed(protocol("invalid status code".into())))?;
    let version = response.version.unwrap_or(1);
    // Where each header's value is in the head, to slice it out of the head below.
    let start = buf.as_ptr() as usize;
    let mut places = Vec::with_capacity(response.headers.len());
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| Error::Failed(protocol(format!("invalid header `{}`", h.name))))?;
        let at = h.value.as_ptr() as usize - start;
        places.push((name, at..at + h.value.len()));
    }
    let head = buf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(places.len());
    for (name, range) in places {
        let value = HeaderValue::from_maybe_shared(head.slice(range))
            .map_err(|_| Error::Failed(protocol(format!("invalid value of header `{name}`"))))?;
        headers.append(name, value);
    }
    Ok(Some((status, headers, version)))
}

fn protocol(what: String) -> Failure {
    Failure::new(
        FailureKind::Protocol,
        format!("protocol error (the reply is not valid HTTP): {what}"),
    )
}

fn reset(what: &str) -> Failure {
    Failure::new(FailureKind::ConnectionReset, "connection reset").with_detail(what.to_string())
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// A read or write error: over TLS it may be the TLS layer's (a bad record, an alert).
fn read_failure(e: &io::Error) -> Failure {
    if is_reset(e) {
        return reset(&e.to_string());
    }
    super::transport::classify_error(e, false, e.get_ref().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> (usize, StatusCode, HeaderMap, u8) {
        let mut buf = BytesMut::from(text.as_bytes());
        match parse_head(&mut buf) {
            Ok(Some((status, headers, version))) => {
                (text.len() - buf.len(), status, headers, version)
            }
            Ok(None) => panic!("partial"),
            Err(Error::Failed(f)) => panic!("{}", f.message),
            Err(Error::Stale) => panic!("stale"),
        }
    }

    #[test]
    fn a_head_is_parsed_once_it_is_complete() {
        let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\nA: b\r\n"[..]);
        assert!(matches!(parse_head(&mut partial), Ok(None)));
        assert_eq!(partial.len(), 23, "nothing taken");
        let (len, status, headers, version) =
            head("HTTP/1.1 201 Created\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!((len, status.as_u16(), version), (59, 201, 1));
        let values: Vec<_> = headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert!(matches!(framing(&headers), Ok(Framing::Length(3))));
    }

    #[test]
    fn many_headers_are_not_an_error() {
        let mut text = "HTTP/1.1 200 OK\r\n".to_string();
        for i in 0..300 {
            text.push_str(&format!("X-H{i}: v\r\n"));
        }
        text.push_str("\r\n");
        assert_eq!(head(&text).2.len(), 300);
    }

    #[test]
    fn what_is_not_http_is_a_protocol_error() {
        match parse_head(&mut BytesMut::from(&b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..])) {
            Err(Error::Failed(f)) => {
                assert_eq!(f.kind, FailureKind::Protocol);
                assert!(f.message.starts_with("protocol error"), "{}", f.message);
            }
            _ => panic!("accepted"),
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let of = |lines: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in lines {
                h.append(
                    HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            framing(&h)
        };
        assert!(matches!(of(&[]), Ok(Framing::UntilClose)));
        assert!(matches!(
            of(&[
                ("transfer-encoding", "gzip, chunked"),
                ("content-length", "5")
            ]),
            Ok(Framing::Chunked)
        ));
        assert!(matches!(
            of(&[("transfer-encoding", "gzip")]),
            Ok(Framing::UntilClose)
        ));
        assert!(matches!(
            of(&[("content-length", "7"), ("content-length", "7")]),
            Ok(Framing::Length(7))
        ));
        assert!(of(&[("content-length", "7"), ("content-length", "8")]).is_err());
        assert!(of(&[("content-length", "-1")]).is_err());
    }

    #[test]
    fn keep_alive_by_version_and_connection() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONNECTION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(keep_alive(1, &HeaderMap::new()));
        assert!(!keep_alive(1, &with("Close")));
        assert!(!keep_alive(1, &with("upgrade, close")));
        assert!(!keep_alive(0, &HeaderMap::new()));
        assert!(keep_alive(0, &with("keep-alive")));
    }

    /// A server that answers each connection's requests with the given bytes, in order.
    async fn serve(answers: Vec<&'static [u8]>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            for answer in answers {
                let mut req = [0u8; 4096];
                let _ = s.read(&mut req).await;
                s.write_all(answer).await.unwrap();
            }
        });
        addr
    }

    async fn connect(addr: std::net::SocketAddr) -> Connection {
        Connection::new(Io::Tcp(TcpStream::connect(addr).await.unwrap()))
    }

    async fn get(c: &mut Connection) -> Response {
        match c
            .exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), b"", false)
            .await
        {
            Ok(r) => r,
            Err(Error::Stale) => panic!("stale"),
            Err(Error::Failed(f)) => panic!("{}", f.message),
        }
    }

    #[tokio::test]
    async fn chunked_interim_and_keep_alive_on_one_connection() {
        let addr = serve(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: t\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ])
        .await;
        let mut c = connect(addr).await;
        let r = get(&mut c).await;
        assert_eq!(
            (r.status.as_u16(), &r.body.unwrap()[..]),
            (200, &b"Wikipedia"[..])
        );
        assert!(c.usable());
        let r = get(&mut c).await;
        assert_eq!((r.status.as_u16(), r.body.unwrap().len()), (204, 0));
        let r = get(&mut c).await;
        assert_eq!(&r.body.unwrap()[..], b"ok");
    }

    #[tokio::test]
    async fn a_body_read_in_many_reads_leaves_the_connection_usable() {
        let answer: &'static [u8] = {
            let mut a = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
            a.resize(a.len() + 100_000, b'x');
            a.leak()
        };
        let addr = serve(vec![answer, answer]).await;
        let mut c = connect(addr).await;
        let r = get(&mut c).await;
        assert_eq!(r.body.unwrap().len(), 100_000);
        assert!(c.usable(), "the connection is kept");
        let r = get(&mut c).await;
        assert_eq!(r.body.unwrap().len(), 100_000);
    }

    #[tokio::test]
    async fn an_answer_before_the_upload_is_read_is_the_response() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 1024];
            let _ = s.read(&mut head).await;
            let _ = s
                .write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig")
                .await;
            // Closed with most of the upload unread: the client's writes are reset.
        });
        let mut c = connect(addr).await;
        let body = vec![b'x'; 8 << 20];
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        match c.exchange(head.into_bytes(), &body, false).await {
            Ok(r) => {
                assert_eq!(r.status.as_u16(), 413);
                assert_eq!(&r.body.unwrap()[..], b"big");
            }
            Err(Error::Stale) => panic!("stale"),
            Err(Error::Failed(f)) => panic!("{}", f.message),
        }
        assert!(!c.usable());
    }

    #[tokio::test]
    async fn a_body_until_close_and_a_closed_connection() {
        let addr = serve(vec![b"HTTP/1.0 200 OK\r\n\r\nall of it"]).await;
        let mut c = connect(addr).await;
        let r = get(&mut c).await;
        assert_eq!(&r.body.unwrap()[..], b"all of it");
        assert!(!c.usable(), "a body until close ends the connection");
    }

    #[tokio::test]
    async fn a_short_body_keeps_its_status_and_fails_as_a_reset() {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]).await;
        let mut c = connect(addr).await;
        let r = get(&mut c).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.body.unwrap_err().kind, FailureKind::ConnectionReset);
        assert!(!c.usable());
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_stale() {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]).await;
        let mut c = connect(addr).await;
        get(&mut c).await;
        // The server task has ended and closed its side.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!c.usable(), "the close is seen before sending");
        let r = c
            .exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), b"", false)
            .await;
        assert!(matches!(r, Err(Error::Stale)));
    }
}
