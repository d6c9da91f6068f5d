//! HTTPS on the users' own connections, against an in-process TLS target
//! ([`TlsServer`], certificate from `tests/fixtures/tls`): certificates are verified by
//! default (and trusted from `SSL_CERT_FILE`), `--insecure` skips that, each user keeps
//! one TLS connection, HTTP/2 is spoken when the server picks it, and `Connection: close`
//! costs a new handshake per request without a failure.

use std::collections::BTreeSet;

use axum::http::Version;

use crate::support::{Scenario, TlsServer, tls_fixture};

/// Two users, each a GET and a JSON POST every 20 ms, for 1.5 s; no failure allowed.
const SCENARIO: &str = r#"
scenario "HTTPS" {
  timeout 5s
}

user Browser {
  wait constant 20ms
  task browse {
    GET "/page" {
      check status 200
      check body == "ok"
    }
    POST "/echo" {
      json { "n": 7 }
      check status 200
      check jsonpath "$.n" == 7
    }
  }
}

thresholds {
  error_rate < 1%
}
"#;

const FLAGS: [&str; 6] = ["-u", "2", "-r", "100", "-t", "1500ms"];

fn run(server: &TlsServer, env: &[(&str, &str)], extra: &[&str]) -> crate::support::Finished {
    let url = server.url();
    let mut args = vec!["-H", url.as_str()];
    args.extend_from_slice(&FLAGS);
    args.extend_from_slice(extra);
    Scenario::new(SCENARIO).run_with_env(env, &args)
}

fn connections(server: &TlsServer) -> BTreeSet<u64> {
    server.log().iter().map(|h| h.connection).collect()
}

#[test]
fn each_user_keeps_one_tls_connection_over_http1() {
    let server = TlsServer::start(&["http/1.1"]);
    let finished = run(&server, &[], &["--insecure"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let log = server.log();
    assert!(log.len() >= 20, "only {} requests", log.len());
    // A request in flight when the run time ends reached the server but is not counted.
    let counted = finished.requests("/page") + finished.requests("/echo");
    assert!(
        counted <= log.len() as u64 && counted + 2 >= log.len() as u64,
        "kload counted {counted}, the server saw {}",
        log.len()
    );
    assert_eq!(finished.failures("/page") + finished.failures("/echo"), 0);
    assert_eq!(connections(&server).len(), 2, "one connection per user");
    assert!(log.iter().all(|h| h.version == Version::HTTP_11), "{log:?}");
    let authority = format!("127.0.0.1:{}", server.port());
    assert!(log.iter().all(|h| h.authority == authority), "{log:?}");
    let echo = log.iter().find(|h| h.path == "/echo").unwrap();
    assert_eq!(
        (echo.method.as_str(), echo.body.as_str()),
        ("POST", r#"{"n":7}"#)
    );
}

#[test]
fn http2_is_spoken_when_the_server_picks_it() {
    let server = TlsServer::start(&["h2", "http/1.1"]);
    let finished = run(&server, &[], &["--insecure"]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let log = server.log();
    assert!(log.len() >= 20, "only {} requests", log.len());
    assert!(log.iter().all(|h| h.version == Version::HTTP_2), "{log:?}");
    assert_eq!(connections(&server).len(), 2, "one connection per user");
    let authority = format!("127.0.0.1:{}", server.port());
    assert!(log.iter().all(|h| h.authority == authority), "{log:?}");
    assert_eq!(finished.failures("/page") + finished.failures("/echo"), 0);
}

#[test]
fn certificates_are_verified_unless_insecure() {
    let server = TlsServer::start(&["http/1.1"]);
    // The test CA is not among the system's roots: every request fails, as TLS.
    let finished = run(&server, &[], &[]);
    assert_eq!(finished.code(), Some(1), "{}", finished.text());
    assert!(server.log().is_empty(), "a request got through");
    let rows = finished.failure_rows("/page");
    assert!(!rows.is_empty(), "{}", finished.text());
    for (kind, message) in rows {
        assert_eq!(kind, "tls", "{message}");
        assert!(message.contains("certificate"), "{message}");
    }
    // Trusted through SSL_CERT_FILE, the same server passes without --insecure.
    let ca = tls_fixture("ca.pem");
    let finished = run(&server, &[("SSL_CERT_FILE", ca.to_str().unwrap())], &[]);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    assert!(!server.log().is_empty());
}

#[test]
fn the_name_must_match_the_certificate() {
    let server = TlsServer::start(&["http/1.1"]);
    // Issued for IP 127.0.0.1 only: `localhost` is another name.
    let url = format!("https://localhost:{}", server.port());
    let ca = tls_fixture("ca.pem");
    let mut args = vec!["-H", url.as_str()];
    args.extend_from_slice(&FLAGS);
    let finished =
        Scenario::new(SCENARIO).run_with_env(&[("SSL_CERT_FILE", ca.to_str().unwrap())], &args);
    assert_eq!(finished.code(), Some(1), "{}", finished.text());
    let rows = finished.failure_rows("/page");
    assert!(!rows.is_empty(), "{}", finished.text());
    for (kind, message) in rows {
        assert_eq!(kind, "tls", "{message}");
        assert!(message.contains("not valid for name"), "{message}");
    }
}

#[test]
fn connection_close_costs_a_handshake_per_request_not_a_failure() {
    let server = TlsServer::start(&["http/1.1"]);
    let source = SCENARIO.replace(
        "  wait constant 20ms\n",
        "  wait constant 20ms\n  header Connection: \"close\"\n",
    );
    let url = server.url();
    let mut args = vec!["-H", url.as_str(), "--insecure"];
    args.extend_from_slice(&FLAGS);
    let finished = Scenario::new(&source).run(&args);
    assert_eq!(finished.code(), Some(0), "{}", finished.text());
    let log = server.log();
    assert!(log.len() >= 20, "only {} requests", log.len());
    assert_eq!(
        connections(&server).len(),
        log.len(),
        "a connection per request"
    );
    assert_eq!(finished.failures("/page") + finished.failures("/echo"), 0);
}
