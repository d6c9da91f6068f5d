//! How long `kload lsp` takes from an edit to its diagnostics, on the generated
//! 10,000-line scenario: the release binary is started as an editor would start it, the
//! file is opened, then edits are sent one at a time and each is timed from writing the
//! `didChange` to reading the `publishDiagnostics` for that version (JSON on both sides
//! included). Half the edits make a mistake and half undo it, so every measurement is a
//! full compile whose result is checked.
//!
//! Run with `cargo bench --bench lsp`. The goal is under 50 ms per edit; docs/diagnostics.md
//! records the figures measured.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod generated;
use generated::scenario;

const LINES: usize = 10_000;
const RUNS: usize = 41;

struct Client {
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn next(&mut self) -> Value {
        self.incoming
            .recv_timeout(Duration::from_secs(60))
            .expect("kload lsp answers")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.next();
            if m["id"] == id {
                return m["result"].clone();
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The diagnostics published for `version`.
    fn diagnostics(&mut self, version: i64) -> Vec<Value> {
        loop {
            let m = self.next();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
            {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }
}

fn start() -> (std::process::Child, Client) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kload"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("kload lsp starts");
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, incoming) = channel();
    std::thread::spawn(move || {
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                match line.trim_end() {
                    "" => break,
                    l => {
                        if let Some(n) = l.strip_prefix("Content-Length: ") {
                            length = n.parse().unwrap();
                        }
                    }
                }
            }
            let mut body = vec![0; length];
            stdout.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    (
        child,
        Client {
            stdin,
            incoming,
            next_id: 1,
        },
    )
}

fn position(text: &str, offset: usize) -> Value {
    let line = text[..offset].matches('\n').count();
    let character = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

/// Replaces `len` bytes at `offset` with `with` in the editor and in `text`.
fn edit(
    client: &mut Client,
    uri: &str,
    text: &mut String,
    version: i64,
    offset: usize,
    len: usize,
    with: &str,
) {
    let range = json!({ "start": position(text, offset), "end": position(text, offset + len) });
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "range": range, "text": with }]
        }),
    );
    text.replace_range(offset..offset + len, with);
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let mut text = scenario(LINES);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let uri = format!("file://{}/generated.kload", dir.display());
    let (mut child, mut client) = start();
    client.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "kload", "version": 0, "text": text } }),
    );
    assert!(
        client.diagnostics(0).is_empty(),
        "the generated scenario compiles cleanly"
    );

    // In the middle of the file: a variable in a class header, and a wait time.
    let middle = text.len() / 2;
    let variable = middle + text[middle..].find("{{ token }}").unwrap() + 3;
    let wait = middle + text[middle..].find("wait between").unwrap() + 5;
    // A new request being typed before a `sleep`: `GET "/{{ ` and no more.
    let typing = middle + text[middle..].find("    sleep between").unwrap();
    let half_typed = "    GET \"/{{ \n";

    let mut version = 0;
    let mut semantic = Vec::new();
    let mut syntax = Vec::new();
    let mut completion = Vec::new();
    let mut broken_completion = Vec::new();
    for run in 0..RUNS {
        // A misspelt variable (one diagnostic), then its fix (none).
        for (len, with, expected) in [(5, "tokn", 1), (4, "token", 0)] {
            version += 1;
            let start = Instant::now();
            edit(&mut client, &uri, &mut text, version, variable, len, with);
            let got = client.diagnostics(version);
            semantic.push(start.elapsed());
            assert_eq!(got.len(), expected, "version {version}: {got:?}");
        }
        // A misspelt keyword (a syntax error), then its fix.
        for (len, with, expected) in [(7, "betwen", 1), (6, "between", 0)] {
            version += 1;
            let start = Instant::now();
            edit(&mut client, &uri, &mut text, version, wait, len, with);
            let got = client.diagnostics(version);
            syntax.push(start.elapsed());
            assert_eq!(got.len(), expected, "version {version}: {got:?}");
        }
        // Completion in an expression right after an edit: the index is rebuilt.
        if run % 2 == 0 {
            version += 1;
            edit(&mut client, &uri, &mut text, version, variable, 0, "");
            let start = Instant::now();
            let items = client.request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": uri }, "position": position(&text, variable) }),
            );
            completion.push(start.elapsed());
            assert!(items.as_array().is_some_and(|i| i.len() > 5), "{items}");
        } else {
            // The file does not parse while the line is half typed: the names come from a
            // repaired copy.
            version += 1;
            edit(&mut client, &uri, &mut text, version, typing, 0, half_typed);
            let start = Instant::now();
            let items = client.request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": uri }, "position": position(&text, typing + half_typed.len() - 1) }),
            );
            broken_completion.push(start.elapsed());
            let labels: Vec<&str> = items
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["label"].as_str().unwrap())
                .collect();
            assert!(
                labels.contains(&"project_ids") && labels.contains(&"uuid"),
                "{labels:?}"
            );
            version += 1;
            edit(
                &mut client,
                &uri,
                &mut text,
                version,
                typing,
                half_typed.len(),
                "",
            );
            assert!(client.diagnostics(version).is_empty());
        }
    }
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    child.wait().unwrap();

    // For reference, the same work in process: what `kload check` does for this text.
    let ctx = kload::compile::Context {
        base_dir: dir,
        ..Default::default()
    };
    let check: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let out = kload::compile::compile_source(&text, &ctx);
            let took = start.elapsed();
            assert!(out.diagnostics.is_empty());
            took
        })
        .collect();

    println!(
        "scenario: {} lines, {} KB; {} edits of each kind",
        text.lines().count(),
        text.len() / 1024,
        semantic.len()
    );
    let worst = |t: &[Duration]| t.iter().max().copied().unwrap_or_default();
    println!(
        "edit -> diagnostics, a variable misspelt and fixed: median {:.1} ms, worst {:.1} ms (goal < 50 ms)",
        ms(median(semantic.clone())),
        ms(worst(&semantic))
    );
    println!(
        "edit -> diagnostics, a keyword misspelt and fixed:  median {:.1} ms, worst {:.1} ms (goal < 50 ms)",
        ms(median(syntax.clone())),
        ms(worst(&syntax))
    );
    println!(
        "completion right after an edit:                     median {:.1} ms, worst {:.1} ms",
        ms(median(completion.clone())),
        ms(worst(&completion))
    );
    println!(
        "completion in a half-typed line (file repaired):    median {:.1} ms, worst {:.1} ms",
        ms(median(broken_completion.clone())),
        ms(worst(&broken_completion))
    );
    println!(
        "for reference, parse + compile in process:          median {:.1} ms",
        ms(median(check))
    );
}
