//! `kload run` feeding Prometheus, hermetically: `/metrics` scraped while the run goes, and
//! remote-write pushes received by an in-process endpoint, decoded and compared with the
//! run's own `--json` result. (The exporter against a real Prometheus: `prometheus.rs`.)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;

use crate::support::{Scenario, TestServer};

const READER: &str = r#"
scenario "exported" {
  wait constant 20ms
}

user Reader {
  task get {
    GET "/sleep/2" {
      name "get"
    }
  }
}

user Writer {
  task post {
    POST "/status/500" {
      name "post"
    }
  }
}

thresholds {
  error_rate < 1%
}
"#;

/// A tiny protobuf reader for the remote-write `WriteRequest`: each series as its labels
/// and its float samples (native histograms are skipped).
fn decode_write_request(bytes: &[u8]) -> Vec<(BTreeMap<String, String>, Vec<f64>)> {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    /// (field number, wire type, payload) of each field of a message.
    fn fields(b: &[u8]) -> Vec<(u64, u64, &[u8])> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i);
            let (field, wire) = (key >> 3, key & 7);
            let payload = match wire {
                0 => {
                    let start = i;
                    varint(b, &mut i);
                    &b[start..i]
                }
                1 => {
                    i += 8;
                    &b[i - 8..i]
                }
                2 => {
                    let len = varint(b, &mut i) as usize;
                    i += len;
                    &b[i - len..i]
                }
                5 => {
                    i += 4;
                    &b[i - 4..i]
                }
                other => panic!("unexpected wire type {other}"),
            };
            out.push((field, wire, payload));
        }
        out
    }
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    fields(bytes)
        .into_iter()
        .filter(|(f, _, _)| *f == 1)
        .map(|(_, _, series)| {
            let mut labels = BTreeMap::new();
            let mut samples = Vec::new();
            for (f, _, p) in fields(series) {
                match f {
                    1 => {
                        let parts = fields(p);
                        let get = |n| parts.iter().find(|(f, _, _)| *f == n).map(|x| text(x.2));
                        labels.insert(get(1).unwrap(), get(2).unwrap_or_default());
                    }
                    2 => {
                        for (sf, _, sp) in fields(p) {
                            if sf == 1 {
                                samples.push(f64::from_le_bytes(sp.try_into().unwrap()));
                            }
                        }
                    }
                    _ => {}
                }
            }
            (labels, samples)
        })
        .collect()
}

#[derive(Default)]
struct Received {
    pushes: Mutex<Vec<(HeaderMap, Bytes)>>,
}

/// A remote-write endpoint on 127.0.0.1 that keeps every push.
fn receiver() -> (tokio::runtime::Runtime, SocketAddr, Arc<Received>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let received = Arc::new(Received::default());
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                keep.pushes.lock().unwrap().push((headers, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (rt, addr, received)
}

#[test]
fn remote_write_pushes_end_with_the_run_s_exact_counts() {
    let server = TestServer::start();
    let (_rt, addr, received) = receiver();
    let scenario = Scenario::new(READER);
    let finished = scenario.run(&[
        "-H",
        &server.url(),
        "-u",
        "4",
        "-r",
        "100",
        "-t",
        "2500ms",
        "--prometheus-remote-write",
        &format!("http://{addr}/api/v1/write"),
        "--prometheus-interval",
        "500ms",
        "--prometheus-label",
        "team=payments",
    ]);
    // The error-rate threshold fails (every POST is a 500): exit 1, pushes still made.
    assert_eq!(finished.code(), Some(1), "{}", finished.text());
    assert!(
        finished.stderr.contains("pushes sent"),
        "the exporter says what it did:\n{}",
        finished.text()
    );
    let pushes = received.pushes.lock().unwrap();
    assert!(pushes.len() >= 3, "pushes: {}", pushes.len());
    for (headers, _) in pushes.iter() {
        assert_eq!(headers["content-encoding"], "snappy");
        assert_eq!(headers["content-type"], "application/x-protobuf");
        assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    }
    let series = |body: &Bytes| {
        let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
        decode_write_request(&raw)
    };
    let value = |all: &[(BTreeMap<String, String>, Vec<f64>)], metric: &str, name: &str| -> f64 {
        all.iter()
            .filter(|(l, _)| {
                l["__name__"] == metric && l.get("name").map(String::as_str) == Some(name)
            })
            .map(|(_, s)| *s.last().unwrap())
            .sum()
    };
    // The last push carries the final result: the same counts as the JSON.
    let last = series(&pushes.last().unwrap().1);
    let json = finished.json();
    let entry = |name: &str| {
        json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    for name in ["get", "post"] {
        let requests = entry(name)["requests"].as_u64().unwrap() as f64;
        assert!(requests > 0.0);
        assert_eq!(
            value(&last, "kload_requests_total", name),
            requests,
            "{name}"
        );
    }
    assert_eq!(
        value(&last, "kload_request_failures_total", "post"),
        entry("post")["failures"].as_u64().unwrap() as f64
    );
    // Every series carries the run's labels; the threshold's verdict is exported too.
    let labels = &last[0].0;
    assert_eq!(labels["scenario"], "exported");
    assert_eq!(labels["segment"], "1/1");
    assert_eq!(labels["team"], "payments");
    let sha = json["info"]["scenario_sha256"].as_str().unwrap();
    assert!(labels["run_id"].starts_with(&sha[..12]), "{labels:?}");
    let verdict: Vec<f64> = last
        .iter()
        .filter(|(l, _)| l["__name__"] == "kload_threshold_ok")
        .map(|(_, s)| *s.last().unwrap())
        .collect();
    assert_eq!(verdict, [0.0], "error_rate < 1% fails");
    // Earlier pushes were taken while the run went: counts grow and never pass the end.
    let first = series(&pushes[0].1);
    let get_first = value(&first, "kload_requests_total", "get");
    assert!(get_first <= value(&last, "kload_requests_total", "get"));
}

#[test]
fn metrics_are_served_while_the_run_goes() {
    let server = TestServer::start();
    let scenario = Scenario::new(READER);
    let mut run = scenario.spawn(&[
        "-H",
        &server.url(),
        "-u",
        "4",
        "-r",
        "100",
        "-t",
        "30s",
        "--prometheus-listen",
        "127.0.0.1:0",
    ]);
    run.wait_for_stderr("/metrics");
    let stderr = run.stderr_so_far();
    let url = stderr
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/metrics"))
        .unwrap_or_else(|| panic!("no URL in:\n{stderr}"))
        .to_string();
    run.wait_for(&server, "40 GETs", |hits| {
        hits.iter().filter(|h| h.path == "/sleep/2").count() >= 40
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A frame is published on each snapshot (about once a second): poll for one that has
    // counted GETs.
    let text = rt.block_on(async {
        for _ in 0..100 {
            let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
            let counted = body
                .lines()
                .any(|l| l.starts_with("kload_requests_total{") && l.contains(r#"name="get""#));
            if counted {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no request counts served at {url}");
    });
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix) && l.contains(r#"name="get""#))
            .unwrap_or_else(|| panic!("no {prefix} line for get:\n{text}"))
            .to_string()
    };
    let requests: f64 = line("kload_requests_total{")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(requests > 0.0, "{text}");
    assert!(line("kload_requests_total{").contains(r#"segment="1/1""#));
    // Users are the ones running now, by class.
    let users: f64 = text
        .lines()
        .filter(|l| l.starts_with("kload_users{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(users, 4.0, "{text}");
    run.interrupt();
    let finished = run.wait();
    assert_eq!(finished.code(), Some(130), "{}", finished.text());
    assert!(finished.stderr.contains("scrape"), "{}", finished.text());
}
