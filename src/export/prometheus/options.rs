//! The command-line options of the Prometheus exporter and the values they parse into.
//! Secrets (a URL's password, header values) are kept out of every `Debug` and `Display`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::native::{DEFAULT_SCHEMA, SCHEMA_RANGE};

/// Labels the exported metrics set themselves; `--prometheus-label` cannot use them.
pub const RESERVED_LABELS: [&str; 10] = [
    "run_id",
    "scenario",
    "segment",
    "name",
    "method",
    "status",
    "kind",
    "class",
    "threshold",
    "le",
];

/// The Prometheus exporter's flags, to be flattened into `kload run`'s.
#[derive(Args, Debug, Clone)]
pub struct PrometheusArgs {
    /// Serve the run's metrics at http://ADDR/metrics for Prometheus to scrape. ADDR is
    /// PORT (binds 127.0.0.1), HOST:PORT or [IPv6]:PORT; 0.0.0.0:PORT exposes it to the network.
    #[arg(long, env = "KLOAD_PROMETHEUS_LISTEN", value_name = "ADDR", value_parser = parse_listen_addr)]
    pub prometheus_listen: Option<SocketAddr>,
    /// Push the run's metrics to a Prometheus remote-write endpoint, e.g.
    /// http://127.0.0.1:9090/api/v1/write (user:password@ in the URL is sent as basic auth).
    #[arg(long, env = "KLOAD_PROMETHEUS_REMOTE_WRITE", value_name = "URL", value_parser = RemoteUrl::parse)]
    pub prometheus_remote_write: Option<RemoteUrl>,
    /// Time between remote-write pushes.
    #[arg(long, env = "KLOAD_PROMETHEUS_INTERVAL", value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub prometheus_interval: Duration,
    /// An extra label on every series, NAME=VALUE (repeatable), e.g. team=payments.
    #[arg(long = "prometheus-label", env = "KLOAD_PROMETHEUS_LABEL", value_name = "NAME=VALUE", value_parser = parse_label)]
    pub prometheus_labels: Vec<(String, String)>,
    /// A header sent with every push, "Name: value" (repeatable), e.g. an Authorization or
    /// X-Scope-OrgID header. Values are never printed; prefer the environment variable for
    /// tokens.
    #[arg(long = "prometheus-header", env = "KLOAD_PROMETHEUS_HEADER", value_name = "HEADER", value_parser = Header::parse)]
    pub prometheus_headers: Vec<Header>,
    /// Native histogram schema, -4 to 8: each power of two is split into 2^SCHEMA buckets
    /// (5: 2.2 % wide; 8: 0.27 %).
    #[arg(long, env = "KLOAD_PROMETHEUS_SCHEMA", value_name = "SCHEMA", default_value_t = DEFAULT_SCHEMA, value_parser = clap::value_parser!(i8).range(i64::from(*SCHEMA_RANGE.start())..=i64::from(*SCHEMA_RANGE.end())))]
    pub prometheus_schema: i8,
}

impl Default for PrometheusArgs {
    fn default() -> Self {
        PrometheusArgs {
            prometheus_listen: None,
            prometheus_remote_write: None,
            prometheus_interval: Duration::from_secs(5),
            prometheus_labels: Vec::new(),
            prometheus_headers: Vec::new(),
            prometheus_schema: DEFAULT_SCHEMA,
        }
    }
}

impl PrometheusArgs {
    /// True when any output is asked for.
    pub fn enabled(&self) -> bool {
        self.prometheus_listen.is_some() || self.prometheus_remote_write.is_some()
    }
}

/// A remote-write URL. The user info is taken out of the URL and sent as basic auth; the
/// `Display` shows neither it nor the query string (which may hold a token).
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    url: Url,
    credentials: Option<(String, String)>,
}

impl RemoteUrl {
    /// Parses an `http://` or `https://` URL.
    pub fn parse(text: &str) -> Result<RemoteUrl, String> {
        let mut url = Url::parse(text.trim()).map_err(|e| {
            format!("not a URL ({e}); write e.g. http://127.0.0.1:9090/api/v1/write")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{}:` is not http or https", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".into());
        }
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let user = percent_decode(url.username());
            let password = percent_decode(url.password().unwrap_or(""));
            // Cannot fail: the URL has a host (checked above).
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Some((user, password))
        };
        url.set_fragment(None);
        Ok(RemoteUrl { url, credentials })
    }

    /// The URL to POST to (without user info).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// User and password for basic auth, when the URL had them.
    pub fn basic_auth(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        let hidden_query = shown.query().is_some();
        shown.set_query(None);
        write!(f, "{shown}")?;
        if hidden_query {
            f.write_str("?…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteUrl({self})")
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) = (
                bytes.get(i + 1).map(|&b| hex(b)),
                bytes.get(i + 2).map(|&b| hex(b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP header for every push. `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name.
    pub name: HeaderName,
    /// Header value (marked sensitive).
    pub value: HeaderValue,
}

impl Header {
    /// Parses `Name: value`.
    pub fn parse(text: &str) -> Result<Header, String> {
        let (name, value) = text
            .split_once(':')
            .ok_or("write the header as \"Name: value\"")?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("`{}` is not a valid header name", name.trim()))?;
        let mut value = HeaderValue::from_str(value.trim())
            .map_err(|_| "the header value has characters HTTP does not allow".to_owned())?;
        value.set_sensitive(true);
        Ok(Header { name, value })
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <hidden>", self.name)
    }
}

/// `PORT`, `:PORT`, `HOST:PORT`, `localhost:PORT` or `[IPv6]:PORT`; a bare port binds
/// 127.0.0.1 (never every interface unless asked).
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = text.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| format!("`{text}` is not an address like 9464, 127.0.0.1:9464 or [::1]:9464"))
}

/// `NAME=VALUE`, with a valid, unreserved label name and a non-empty value.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or("write the label as NAME=VALUE, e.g. team=payments")?;
    let name = name.trim();
    if !is_valid_label_name(name) {
        return Err(format!(
            "`{name}` is not a label name: letters, digits and _, not starting with a digit or __"
        ));
    }
    if RESERVED_LABELS.contains(&name) {
        return Err(format!(
            "`{name}` is a label kload sets itself; choose another name"
        ));
    }
    if value.is_empty() {
        return Err(format!("the label `{name}` needs a value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for
/// Prometheus' own labels).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// 100 ms to 5 min: Prometheus considers a series stale after 5 minutes without a sample.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = crate::compile::quantity::duration_text(text, true)
        .map_err(|(reason, _)| format!("{reason} (write 5s, 500ms or 1m)"))?;
    if d < Duration::from_millis(100) {
        return Err("the interval must be at least 100ms".into());
    }
    if d > Duration::from_secs(300) {
        return Err(
            "the interval must be at most 5m (Prometheus marks series stale after 5 minutes)"
                .into(),
        );
    }
    Ok(d)
}

/// The labels on every series of a run: `run_id`, `scenario` (the scenario's name),
/// `segment` (`INDEX/COUNT`, `0/1` for a single machine), then the extra labels.
pub fn common_labels(
    run_id: &str,
    scenario: &str,
    segment: &str,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut labels = vec![
        ("run_id".to_owned(), run_id.to_owned()),
        ("scenario".to_owned(), scenario.to_owned()),
        ("segment".to_owned(), segment.to_owned()),
    ];
    labels.extend(extra.iter().cloned());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        prometheus: PrometheusArgs,
    }

    fn parse(args: &[&str]) -> Result<PrometheusArgs, String> {
        Cli::try_parse_from(std::iter::once("kload").chain(args.iter().copied()))
            .map(|c| c.prometheus)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_parse_with_defaults() {
        let a = parse(&[]).unwrap();
        assert!(!a.enabled());
        assert_eq!(a.prometheus_interval, Duration::from_secs(5));
        assert_eq!(a.prometheus_schema, 5);
        let a = parse(&[
            "--prometheus-listen",
            "9464",
            "--prometheus-remote-write",
            "https://u%40x:p%3Ass@example.com/api/prom/push?token=abc#frag",
            "--prometheus-interval",
            "1s",
            "--prometheus-label",
            "team=payments",
            "--prometheus-label",
            "env=staging=2",
            "--prometheus-header",
            "X-Scope-OrgID: tenant-1",
            "--prometheus-schema=-2",
        ])
        .unwrap();
        assert!(a.enabled());
        assert_eq!(a.prometheus_listen, Some("127.0.0.1:9464".parse().unwrap()));
        let url = a.prometheus_remote_write.as_ref().unwrap();
        assert_eq!(url.basic_auth(), Some(("u@x", "p:ss")));
        assert_eq!(
            url.url().as_str(),
            "https://example.com/api/prom/push?token=abc"
        );
        assert_eq!(url.to_string(), "https://example.com/api/prom/push?…");
        assert_eq!(a.prometheus_interval, Duration::from_secs(1));
        assert_eq!(
            a.prometheus_labels,
            [
                ("team".into(), "payments".into()),
                ("env".into(), "staging=2".into())
            ]
        );
        assert_eq!(a.prometheus_headers[0].name, "x-scope-orgid");
        assert_eq!(a.prometheus_schema, -2);
        // Nothing secret in the debug output.
        let debug = format!("{a:?}");
        assert!(
            !debug.contains("p:ss") && !debug.contains("p%3Ass") && !debug.contains("abc"),
            "{debug}"
        );
        assert!(!debug.contains("tenant-1"), "{debug}");
    }

    #[test]
    fn bad_flags_are_clap_errors() {
        for (args, expected) in [
            (&["--prometheus-listen", "nowhere"][..], "not an address"),
            (
                &["--prometheus-remote-write", "ftp://x/"],
                "not http or https",
            ),
            (&["--prometheus-remote-write", "not a url"], "not a URL"),
            (&["--prometheus-interval", "10ms"], "at least 100ms"),
            (&["--prometheus-interval", "1h"], "at most 5m"),
            (&["--prometheus-interval", "5 parsecs"], "write 5s"),
            (&["--prometheus-label", "team"], "NAME=VALUE"),
            (&["--prometheus-label", "1team=x"], "not a label name"),
            (&["--prometheus-label", "__name__=x"], "not a label name"),
            (&["--prometheus-label", "status=x"], "kload sets itself"),
            (&["--prometheus-label", "team="], "needs a value"),
            (&["--prometheus-header", "Authorization"], "Name: value"),
            (
                &["--prometheus-header", "Bad Name: x"],
                "not a valid header name",
            ),
            (&["--prometheus-schema", "9"], "9"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(expected), "{args:?}: {e}");
        }
    }

    #[test]
    fn listen_addresses_default_to_loopback() {
        let ok = |t: &str| parse_listen_addr(t).unwrap().to_string();
        assert_eq!(ok("9464"), "127.0.0.1:9464");
        assert_eq!(ok(":9464"), "127.0.0.1:9464");
        assert_eq!(ok("localhost:0"), "127.0.0.1:0");
        assert_eq!(ok("0.0.0.0:9464"), "0.0.0.0:9464");
        assert_eq!(ok("[::1]:9464"), "[::1]:9464");
        assert!(parse_listen_addr("70000").is_err());
    }

    #[test]
    fn label_names_follow_prometheus() {
        for good in ["a", "_x", "team_2", "Team"] {
            assert!(is_valid_label_name(good), "{good}");
        }
        for bad in ["", "2x", "a-b", "é", "__x", "a b"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
        for reserved in RESERVED_LABELS {
            assert!(is_valid_label_name(reserved));
        }
        let labels = common_labels("r", "S", "0/1", &[("team".into(), "t".into())]);
        let names: Vec<_> = labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["run_id", "scenario", "segment", "team"]);
    }
}
