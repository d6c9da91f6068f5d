//! Who may use the web UI, decided before any handler runs.
//!
//! - **Exposure**: the UI binds 127.0.0.1 by default. Any other address needs a login
//!   ([`check_exposure`]): the page starts load tests from this machine.
//! - **Login**: HTTP basic authentication with the `--web-login USER:PASSWORD` pair, compared
//!   in constant time; the browser asks for it once and sends it with every request.
//! - **DNS rebinding**: without a login, a request must name a loopback host (`localhost`,
//!   `127.0.0.1`, `[::1]`), so a web site whose name resolves to 127.0.0.1 cannot read it.
//! - **Cross-site requests**: a browser request made by another site (`Sec-Fetch-Site` other
//!   than `same-origin`/`none`, or an `Origin` that is not this server) may only navigate to
//!   a page; it cannot POST, stop, reset or fetch data. Scripts (curl, Python) send neither
//!   header and are not affected.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::WebError;

/// The user name and password of `--web-login USER:PASSWORD`. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct WebLogin {
    user: String,
    password: String,
}

impl WebLogin {
    /// A login from its parts; both must be non-empty and the user may not contain `:`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Result<WebLogin, String> {
        let (user, password) = (user.into(), password.into());
        if user.is_empty() || password.is_empty() {
            return Err("the web login needs a user name and a password: USER:PASSWORD".into());
        }
        if user.contains(':') {
            return Err("the web login's user name cannot contain `:`".into());
        }
        Ok(WebLogin { user, password })
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether an `Authorization` header carries this login.
    fn accepts(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(value) = authorization.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, encoded)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(encoded.trim()) else {
            return false;
        };
        let expected = format!("{}:{}", self.user, self.password);
        constant_time_eq(&decoded, expected.as_bytes())
    }
}

impl FromStr for WebLogin {
    type Err = String;

    /// `USER:PASSWORD` (the password may contain `:`).
    fn from_str(text: &str) -> Result<WebLogin, String> {
        let (user, password) = text
            .split_once(':')
            .ok_or_else(|| "the web login is USER:PASSWORD, with a colon".to_owned())?;
        WebLogin::new(user, password)
    }
}

impl fmt::Debug for WebLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebLogin")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The address `--web-host` names: an IP address, `localhost` (127.0.0.1), or `*` / empty
/// for every interface (0.0.0.0, as Locust writes it).
pub fn parse_host(host: &str) -> Result<IpAddr, WebError> {
    match host.trim() {
        "" | "*" => Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "localhost" => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        text => text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| WebError::BadHost {
                host: text.to_owned(),
            }),
    }
}

/// Whether the UI may listen on `ip`: always on a loopback address, elsewhere only with a
/// login.
pub fn check_exposure(ip: IpAddr, login: Option<&WebLogin>) -> Result<(), WebError> {
    if ip.is_loopback() || login.is_some() {
        Ok(())
    } else {
        Err(WebError::LoginRequired { ip })
    }
}

/// Why a request was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 400, 401 or 403.
    pub status: StatusCode,
    /// What the client is told.
    pub message: &'static str,
}

/// The checks of every request, set up once per server.
#[derive(Debug, Clone)]
pub struct Guard {
    login: Option<WebLogin>,
}

impl Guard {
    /// Checks for a server with this login (or none: then it listens on loopback only).
    pub fn new(login: Option<WebLogin>) -> Guard {
        Guard { login }
    }

    /// Whether the request may go on.
    pub fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), Rejection> {
        match &self.login {
            None => {
                if !host_is_loopback(headers) {
                    return Err(Rejection {
                        status: StatusCode::FORBIDDEN,
                        message: "this kload web UI only answers requests for localhost, 127.0.0.1 or [::1]",
                    });
                }
            }
            Some(login) => {
                if !login.accepts(headers.get(header::AUTHORIZATION)) {
                    return Err(Rejection {
                        status: StatusCode::UNAUTHORIZED,
                        message: "log in with the user and password given to --web-login",
                    });
                }
            }
        }
        let changes = !matches!(*method, Method::GET | Method::HEAD)
            || matches!(path, "/stop" | "/stats/reset");
        if is_cross_site(headers) {
            let navigates = header_is(headers, "sec-fetch-mode", "navigate");
            if changes || !navigates {
                return Err(Rejection {
                    status: StatusCode::FORBIDDEN,
                    message: "cross-site requests to the kload web UI are refused",
                });
            }
        }
        Ok(())
    }

    /// Whether failed requests should ask the browser for a login.
    pub fn asks_for_login(&self) -> bool {
        self.login.is_some()
    }
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
}

/// A request another site made a browser send: `Sec-Fetch-Site` says so, or the `Origin`
/// is not the host the request is for.
fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("cross-site").trim();
        if !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none")) {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let origin = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok());
    let Some(origin) = origin.filter(|o| o.scheme() == "http") else {
        // "null" (sandboxed frames, file: pages), garbage, or https: this server is http.
        return true;
    };
    let origin_authority = match (origin.host_str(), origin.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        _ => return true,
    };
    let host_authority = if authority_has_port(host) {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    !origin_authority.eq_ignore_ascii_case(&host_authority)
}

/// `host:port` or `[v6]:port` has a port; `host` and `[v6]` do not.
fn authority_has_port(authority: &str) -> bool {
    if authority.starts_with('[') {
        authority.contains("]:")
    } else {
        authority.contains(':')
    }
}

/// The `Host` header names a loopback host (or is missing, as from HTTP/1.0 clients, which
/// are not browsers).
fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, _)) => v6,
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// The address to listen on, for `--web-host` and `-P`.
pub fn bind_address(host: &str, port: u16) -> Result<SocketAddr, WebError> {
    Ok(SocketAddr::new(parse_host(host)?, port))
}

/// The URL to print for a server listening on `addr` (loopback when it listens on every
/// interface, since that is where the person running kload opens it).
pub fn url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn login() -> WebLogin {
        "ana:s3cret:pw".parse().unwrap()
    }

    #[test]
    fn exposure_needs_a_login_off_loopback() {
        let table: &[(&str, bool, bool)] = &[
            ("127.0.0.1", false, true),
            ("localhost", false, true),
            ("127.0.0.2", false, true),
            ("::1", false, true),
            ("[::1]", false, true),
            ("0.0.0.0", false, false),
            ("*", false, false),
            ("", false, false),
            ("192.168.1.20", false, false),
            ("::", false, false),
            ("0.0.0.0", true, true),
            ("10.0.0.1", true, true),
        ];
        for &(host, with_login, ok) in table {
            let ip = parse_host(host).unwrap();
            let login = with_login.then(login);
            let result = check_exposure(ip, login.as_ref());
            assert_eq!(result.is_ok(), ok, "{host} login={with_login}: {result:?}");
            if let Err(e) = result {
                assert!(e.to_string().contains("--web-login"), "{e}");
            }
        }
        assert!(matches!(
            parse_host("example.com"),
            Err(WebError::BadHost { .. })
        ));
    }

    #[test]
    fn login_parses_and_hides_its_password() {
        let l = login();
        assert_eq!(l.user(), "ana");
        assert!(!format!("{l:?}").contains("s3cret"));
        for bad in ["ana", ":pw", "ana:", ""] {
            assert!(bad.parse::<WebLogin>().is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_is_checked() {
        let guard = Guard::new(Some(login()));
        let ok = format!("Basic {}", BASE64.encode("ana:s3cret:pw"));
        let wrong = format!("Basic {}", BASE64.encode("ana:s3cret"));
        let get = Method::GET;
        assert!(
            guard
                .check(&get, "/", &headers(&[("authorization", &ok)]))
                .is_ok()
        );
        for h in [
            headers(&[]),
            headers(&[("authorization", &wrong)]),
            headers(&[("authorization", "Basic !!!")]),
            headers(&[("authorization", "Bearer s3cret:pw")]),
        ] {
            let err = guard.check(&get, "/", &h).unwrap_err();
            assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        }
        // With a login, any Host is fine (the server may be reached by name).
        let h = headers(&[("authorization", &ok), ("host", "loadgen.internal:8089")]);
        assert!(guard.check(&get, "/", &h).is_ok());
    }

    #[test]
    fn without_a_login_only_loopback_hosts_are_answered() {
        let guard = Guard::new(None);
        for host in [
            "127.0.0.1:8089",
            "localhost:8089",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8089",
            "127.0.0.5",
        ] {
            let h = headers(&[("host", host)]);
            assert!(guard.check(&Method::GET, "/", &h).is_ok(), "{host}");
        }
        for host in [
            "evil.example:8089",
            "192.168.1.2:8089",
            "localhost.evil.example",
            "[::2]:80",
            "[::1",
        ] {
            let h = headers(&[("host", host)]);
            let err = guard.check(&Method::GET, "/", &h).unwrap_err();
            assert_eq!(err.status, StatusCode::FORBIDDEN, "{host}");
        }
    }

    #[test]
    fn cross_site_requests_cannot_change_anything() {
        let guard = Guard::new(None);
        let host = ("host", "127.0.0.1:8089");
        type Pairs<'a> = &'a [(&'a str, &'a str)];
        let table: &[(&Method, &str, Pairs, bool)] = &[
            // Scripts: no browser headers.
            (&Method::POST, "/swarm", &[host], true),
            (&Method::GET, "/stop", &[host], true),
            // The page itself.
            (
                &Method::POST,
                "/swarm",
                &[
                    host,
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "http://127.0.0.1:8089"),
                ],
                true,
            ),
            (
                &Method::GET,
                "/stop",
                &[host, ("sec-fetch-site", "same-origin")],
                true,
            ),
            // Typed into the address bar.
            (
                &Method::GET,
                "/stop",
                &[
                    host,
                    ("sec-fetch-site", "none"),
                    ("sec-fetch-mode", "navigate"),
                ],
                true,
            ),
            // Another site.
            (
                &Method::POST,
                "/swarm",
                &[host, ("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                &Method::POST,
                "/swarm",
                &[host, ("sec-fetch-site", "same-site")],
                false,
            ),
            (
                &Method::POST,
                "/swarm",
                &[host, ("origin", "http://evil.example")],
                false,
            ),
            (
                &Method::POST,
                "/swarm",
                &[host, ("origin", "http://127.0.0.1:9999")],
                false,
            ),
            (&Method::POST, "/swarm", &[host, ("origin", "null")], false),
            (
                &Method::GET,
                "/stop",
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate"),
                ],
                false,
            ),
            (
                &Method::GET,
                "/stats/reset",
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "no-cors"),
                ],
                false,
            ),
            (
                &Method::GET,
                "/stats/requests",
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "cors"),
                ],
                false,
            ),
            // A link from elsewhere may open the page.
            (
                &Method::GET,
                "/",
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate"),
                ],
                true,
            ),
        ];
        for &(method, path, pairs, ok) in table {
            let result = guard.check(method, path, &headers(pairs));
            assert_eq!(result.is_ok(), ok, "{method} {path} {pairs:?}: {result:?}");
        }
    }

    #[test]
    fn origin_matches_host_with_default_ports() {
        assert!(!is_cross_site(&headers(&[
            ("host", "localhost"),
            ("origin", "http://localhost")
        ])));
        assert!(!is_cross_site(&headers(&[
            ("host", "[::1]:8089"),
            ("origin", "http://[::1]:8089")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "localhost"),
            ("origin", "https://localhost")
        ])));
        assert!(is_cross_site(&headers(&[("origin", "http://localhost")])));
    }

    #[test]
    fn printed_url_is_openable() {
        let url = |s: &str| url_for(s.parse().unwrap());
        assert_eq!(url("127.0.0.1:8089"), "http://127.0.0.1:8089/");
        assert_eq!(url("0.0.0.0:8089"), "http://127.0.0.1:8089/");
        assert_eq!(url("[::]:8089"), "http://[::1]:8089/");
        assert_eq!(url("10.1.2.3:80"), "http://10.1.2.3:80/");
    }
}
