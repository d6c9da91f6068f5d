//! `kload lsp` spoken to as an editor would: the binary is started as a process and every
//! message goes over its stdin and stdout as JSON-RPC with `Content-Length` headers.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

use serde_json::{Value, json};

use crate::support::PATIENCE;

/// A client session with a running `kload lsp`.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Notifications read while waiting for something else.
    held: Vec<Value>,
    next_id: i64,
}

impl Session {
    fn start() -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kload"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kload lsp starts");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                stdout.read_exact(&mut body).unwrap();
                let message: Value = serde_json::from_slice(&body).expect("JSON");
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        Session {
            child,
            stdin,
            incoming,
            held: Vec::new(),
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self) -> Value {
        self.incoming
            .recv_timeout(PATIENCE)
            .expect("kload lsp answers in time")
    }

    /// The whole response (`result` or `error`) to a request.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.next();
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.held.push(message);
        }
    }

    /// The result of a request, which must succeed.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next notification `method` whose parameters satisfy `wanted`.
    fn notification(&mut self, method: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .held
            .iter()
            .position(|m| m["method"] == method && wanted(&m["params"]))
        {
            return self.held.remove(i)["params"].clone();
        }
        loop {
            let message = self.next();
            if message["method"] == method && wanted(&message["params"]) {
                return message["params"].clone();
            }
            self.held.push(message);
        }
    }

    fn initialize(&mut self, capabilities: Value) -> Value {
        let result = self.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": capabilities }),
        );
        self.notify("initialized", json!({}));
        result
    }

    /// Sends `shutdown` and `exit`; the exit code of the server.
    fn finish(mut self) -> i32 {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        self.stdin.take();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

/// A scenario with a misspelt variable, a data feed and a tag, in a folder of its own.
const SCENARIO: &str = r#"data accounts from "accounts.csv" unique

user Member {
  header Authorization: "Bearer {{ token }}"

  on start {
    POST "/login" {
      json { "username": "{{ accounts.username }}" }
      capture token = jsonpath "$.access"
    }
  }

  task projects   tags list {
    GET "/projects/" {
      capture project_id = jsonpath "$[0].id"
    }
    GET "/projects/{{ projct_id }}/"
  }
}

thresholds {
  p95(tag list) < 500ms
}
"#;

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn position(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position(line, character) })
}

fn labels(completion: &Value) -> Vec<String> {
    completion
        .as_array()
        .or_else(|| completion["items"].as_array())
        .expect("completion items")
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

/// Applies LSP text edits (UTF-16 positions, here all ASCII) to `text`.
fn apply(text: &str, edits: &Value) -> String {
    let offset = |p: &Value| {
        let (line, character) = (
            p["line"].as_u64().unwrap() as usize,
            p["character"].as_u64().unwrap() as usize,
        );
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + character
    };
    let mut edits: Vec<&Value> = edits.as_array().unwrap().iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        let (a, b) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(a..b, e["newText"].as_str().unwrap());
    }
    out
}

#[test]
fn a_session_from_initialize_to_exit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("accounts.csv"),
        "username,password\nu1,p1\n",
    )
    .unwrap();
    let path = dir.path().join("member.kload");
    std::fs::write(&path, SCENARIO).unwrap();
    let uri = uri_of(&path);

    let mut lsp = Session::start();
    let init = lsp.initialize(json!({
        "textDocument": {
            "hover": { "contentFormat": ["markdown", "plaintext"] },
            "documentSymbol": { "hierarchicalDocumentSymbolSupport": true },
            "rename": { "prepareSupport": true }
        }
    }));
    let caps = &init["capabilities"];
    assert_eq!(
        caps["positionEncoding"], "utf-16",
        "no UTF-8 offered: {init}"
    );
    assert_eq!(init["serverInfo"]["name"], "kload");
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentFormattingProvider",
        "documentSymbolProvider",
        "codeActionProvider",
        "completionProvider",
        "renameProvider",
    ] {
        assert!(!caps[provider].is_null(), "{provider} missing: {caps}");
    }

    // didOpen: the compiler's diagnostic, with its code, span and help.
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "kload", "version": 1, "text": SCENARIO } }),
    );
    let published = lsp.notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == uri.as_str()
    });
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "kload::unknown_variable");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "kload");
    assert_eq!(
        d["range"],
        json!({ "start": position(16, 22), "end": position(16, 31) })
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("help: did you mean `project_id`?"),
        "{d}"
    );

    // Completion: keywords where the cursor is, variables in an expression, columns.
    let in_request = lsp.request("textDocument/completion", at(&uri, 14, 6));
    let got = labels(&in_request);
    assert!(
        got.contains(&"check".to_string()) && got.contains(&"capture".to_string()),
        "{got:?}"
    );
    assert!(!got.contains(&"task".to_string()), "{got:?}");
    let in_expression = labels(&lsp.request("textDocument/completion", at(&uri, 16, 23)));
    for name in ["project_id", "token", "accounts", "uuid"] {
        assert!(
            in_expression.contains(&name.to_string()),
            "{name} in {in_expression:?}"
        );
    }
    let columns = labels(&lsp.request("textDocument/completion", at(&uri, 7, 38)));
    assert_eq!(columns, ["username", "password"]);

    // Hover: a keyword's meaning from the language reference; a variable's definition.
    let hover = lsp.request("textDocument/hover", at(&uri, 8, 7));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("A capture takes a value from the response"),
        "{hover}"
    );
    let hover = lsp.request("textDocument/hover", at(&uri, 3, 36));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("capture token = jsonpath \"$.access\""),
        "{hover}"
    );

    // Definition and references of `token`; the definition of a column is in the CSV.
    let definition = lsp.request("textDocument/definition", at(&uri, 3, 36));
    assert_eq!(
        definition[0]["range"]["start"],
        position(8, 14),
        "{definition}"
    );
    let column = lsp.request("textDocument/definition", at(&uri, 7, 40));
    assert!(
        column[0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/accounts.csv"),
        "{column}"
    );
    assert_eq!(column[0]["range"]["start"], position(0, 0));
    let references = lsp.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": position(8, 16), "context": { "includeDeclaration": true } }),
    );
    assert_eq!(references.as_array().unwrap().len(), 2, "{references}");

    // Rename a tag: its `tags` and its threshold.
    let prepared = lsp.request("textDocument/prepareRename", at(&uri, 12, 24));
    assert_eq!(prepared["placeholder"], "list");
    let rename = lsp.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(12, 24), "newName": "browse" }),
    );
    let edits = &rename["changes"][&uri];
    assert_eq!(edits.as_array().unwrap().len(), 2, "{rename}");
    let refused = lsp.call(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(12, 24), "newName": "two words" }),
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a name"),
        "{refused}"
    );

    // The quick fix for the did-you-mean diagnostic.
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": { "start": position(16, 25), "end": position(16, 25) }, "context": { "diagnostics": [] } }),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "Change `projct_id` to `project_id`");
    assert_eq!(fix["kind"], "quickfix");
    let fixed = apply(SCENARIO, &fix["edit"]["changes"][&uri]);
    assert!(fixed.contains("GET \"/projects/{{ project_id }}/\""));

    // Formatting: the same text as `kload fmt`.
    let edits = lsp.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }));
    let formatted = apply(SCENARIO, &edits);
    assert!(
        formatted.contains("  task projects tags list {\n"),
        "{formatted}"
    );
    std::fs::write(dir.path().join("fmt.kload"), SCENARIO).unwrap();
    let fmt = crate::support::kload(&["fmt", dir.path().join("fmt.kload").to_str().unwrap()]);
    assert!(fmt.status.success());
    assert_eq!(
        formatted,
        std::fs::read_to_string(dir.path().join("fmt.kload")).unwrap()
    );

    // The outline: classes holding their tasks.
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["accounts", "Member", "thresholds"]);
    let member: Vec<&str> = symbols[1]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(member, ["on start", "projects"]);

    // A change that fixes the typo: new diagnostics for version 2.
    lsp.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": { "start": position(16, 22), "end": position(16, 31) }, "text": "project_id" }]
        }),
    );
    let published = lsp.notification("textDocument/publishDiagnostics", |p| p["version"] == 2);
    assert_eq!(published["diagnostics"], json!([]), "{published}");

    assert_eq!(lsp.finish(), 0, "exit after shutdown");
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let mut lsp = Session::start();
    let init = lsp.initialize(json!({ "general": { "positionEncodings": ["utf-8", "utf-16"] } }));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let uri = "untitled:utf8";
    // `é` is two bytes: the unknown variable starts at byte 15 of its line (UTF-16: 14).
    let text = "user Cafe {\n  task t {\n    GET \"/\u{e9}{{ nope }}\"\n  }\n}\n";
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "kload", "version": 1, "text": text } }));
    let published = lsp.notification("textDocument/publishDiagnostics", |p| p["uri"] == uri);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"],
        position(2, 15),
        "{published}"
    );
    assert_eq!(lsp.finish(), 0);
}

#[test]
fn bad_input_gets_an_error_not_a_crash() {
    let mut lsp = Session::start();
    lsp.initialize(json!({}));
    let bad = lsp.call("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let unknown = lsp.call("textDocument/hover", at("file:///not/open.kload", 0, 0));
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not open"),
        "{unknown}"
    );
    let missing = lsp.call("workspace/nonsense", json!({}));
    assert_eq!(missing["error"]["code"], -32601);
    // A syntax error: formatting refuses, with the reason.
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": "untitled:x", "languageId": "kload", "version": 1, "text": "user A {" } }));
    let published = lsp.notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == "untitled:x"
    });
    assert_eq!(published["diagnostics"][0]["code"], "kload::syntax");
    let format = lsp.call("textDocument/formatting", json!({ "textDocument": { "uri": "untitled:x" }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert!(
        format["error"]["message"]
            .as_str()
            .unwrap()
            .contains("syntax error"),
        "{format}"
    );
    assert_eq!(lsp.finish(), 0);
}

#[test]
fn exit_without_shutdown_is_an_error() {
    let mut lsp = Session::start();
    lsp.initialize(json!({}));
    lsp.notify("exit", Value::Null);
    lsp.stdin.take();
    assert_eq!(lsp.child.wait().unwrap().code(), Some(1));
}
