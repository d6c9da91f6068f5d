//! A small YAML writer for the manifests kload generates.
//!
//! Block style throughout; a string is written plain only when no YAML 1.1 or 1.2 reader
//! can take it for anything but that string (`Indexed`, `batch/v1`), as a literal block
//! (`|`) when it is a readable multi-line text (a scenario, a CSV file) and double-quoted
//! otherwise, with every character YAML does not allow raw escaped. Kubernetes reads YAML
//! 1.1 (go-yaml), the tests read it back with a YAML 1.2 parser and PyYAML.

use std::fmt::Write;

/// A YAML value. Maps keep their order: a manifest reads top-down like `kubectl get -o yaml`.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    /// A string node.
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A map from `(key, value)` pairs, in the order given.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A sequence of strings.
    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Node {
        Node::Seq(items.into_iter().map(|s| Node::Str(s.into())).collect())
    }
}

/// Writes `node` (a map) as one YAML document, without the `---` separator.
pub fn render(node: &Node, out: &mut String) {
    match node {
        Node::Map(entries) if !entries.is_empty() => map(entries, 0, out),
        other => {
            out.push_str(&scalar_or_empty(other));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn map(entries: &[(String, Node)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        pad(out, indent);
        out.push_str(&inline_string(key));
        out.push(':');
        after_key(value, indent, out);
    }
}

/// A value after `key:` (or `- `), whose own lines are indented by `indent + 2`.
fn after_key(value: &Node, indent: usize, out: &mut String) {
    match value {
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            map(entries, indent + 2, out);
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push('\n');
            seq(items, indent + 2, out);
        }
        Node::Str(s) if literal_block(s).is_some() => {
            block(s, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar_or_empty(other));
            out.push('\n');
        }
    }
}

fn seq(items: &[Node], indent: usize, out: &mut String) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Node::Map(entries) if !entries.is_empty() => {
                // The first entry shares the dash's line; the others align with it.
                out.push(' ');
                let mut first = String::new();
                map(&entries[..1], indent + 2, &mut first);
                out.push_str(first.trim_start());
                map(&entries[1..], indent + 2, out);
            }
            other => after_key(other, indent, out),
        }
    }
}

/// Scalars and empty collections, on one line.
fn scalar_or_empty(node: &Node) -> String {
    match node {
        Node::Str(s) => inline_string(s),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Map(_) => "{}".to_string(),
        Node::Seq(_) => "[]".to_string(),
    }
}

/// Words that YAML 1.1 reads as booleans or null when plain.
const RESERVED: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

/// Whether `s` reads back as this very string when written plain, in YAML 1.1 and 1.2:
/// a letter, `_` or `/` first, or `-` then `-` or a letter (`--headless`; no number, date,
/// indicator or `.inf`), then only letters, digits and `_./-`, and not a boolean or null word.
fn plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let (Some(first), second) = (chars.next(), s.chars().nth(1)) else {
        return false;
    };
    let start = first.is_ascii_alphabetic()
        || first == '_'
        || first == '/'
        || (first == '-' && second.is_some_and(|c| c == '-' || c.is_ascii_alphabetic()));
    start
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

/// A string on one line: plain when safe, else double-quoted.
pub fn inline_string(s: &str) -> String {
    if plain_safe(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// YAML's printable set, minus the characters YAML 1.1 reads as line breaks (NEL, LS, PS)
/// and the byte order mark: those are always escaped.
fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// The chomping indicator when `s` can be written as a literal block, `None` when it must
/// be quoted: it has several lines, only printable characters and tabs, no line ending in
/// a space or tab (trailing blanks are easy to lose in an editor), and its first line does
/// not start with one (the reader takes the indentation from it).
fn literal_block(s: &str) -> Option<&'static str> {
    let body = s.trim_end_matches('\n');
    if !body.contains('\n') {
        return None;
    }
    let first = body.lines().find(|l| !l.is_empty())?;
    if first.starts_with([' ', '\t']) {
        return None;
    }
    let clean = body.split('\n').all(|line| {
        !line.ends_with([' ', '\t']) && line.chars().all(|c| c == '\t' || printable(c))
    });
    if !clean {
        return None;
    }
    Some(match s.len() - body.len() {
        0 => "|-",
        1 => "|",
        _ => "|+",
    })
}

fn block(s: &str, indent: usize, out: &mut String) {
    let Some(chomp) = literal_block(s) else {
        unreachable!("block() is only called for strings literal_block accepts")
    };
    out.push(' ');
    out.push_str(chomp);
    out.push('\n');
    let body = s.trim_end_matches('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // `|+` keeps the line breaks after the last line: one is written above, the rest here.
    let trailing = s.len() - body.len();
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::{Yaml, YamlLoader};

    fn to_yaml_rust(node: &Node) -> Yaml {
        match node {
            Node::Str(s) => Yaml::String(s.clone()),
            Node::Int(i) => Yaml::Integer(*i),
            Node::Bool(b) => Yaml::Boolean(*b),
            Node::Map(entries) => Yaml::Hash(
                entries
                    .iter()
                    .map(|(k, v)| (Yaml::String(k.clone()), to_yaml_rust(v)))
                    .collect(),
            ),
            Node::Seq(items) => Yaml::Array(items.iter().map(to_yaml_rust).collect()),
        }
    }

    fn round_trip(node: &Node) {
        let mut text = String::new();
        render(node, &mut text);
        let docs = YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("unreadable YAML ({e}):\n{text}"));
        assert_eq!(docs.len(), 1, "{text}");
        assert_eq!(
            docs[0],
            to_yaml_rust(node),
            "read back differently:\n{text}"
        );
    }

    const AWKWARD: &[&str] = &[
        "",
        " ",
        "plain",
        "yes",
        "No",
        "ON",
        "null",
        "~",
        "true",
        "1",
        "1.0",
        "0x1F",
        "1e3",
        ".inf",
        "-",
        "- a",
        "a: b",
        "a #b",
        "#x",
        "key:",
        "@at",
        "`tick",
        "'single'",
        "\"double\"",
        "back\\slash",
        "tab\there",
        "cr\rlf",
        "nul\u{0}",
        "del\u{7F}",
        "nel\u{85}",
        "ls\u{2028}ps\u{2029}",
        "\u{FEFF}bom",
        "café ☕ 日本",
        "emoji 🚀",
        "1:20",
        "--headless",
        "-x",
        "-1",
        "-.inf",
        "--",
        "-- a",
        "2026-11-27",
        "&anchor",
        "*alias",
        "!tag",
        "%directive",
        "{flow}",
        "[flow]",
        "|",
        ">",
        "---",
        "...",
        "<<",
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "a\nb\n\n\n",
        "\na\nb",
        "\n\n",
        "\n",
        " leading\nspace",
        "\tleading\ntab",
        "a\n  indented\nb",
        "a\n\tindented tab\nb",
        "trailing \nspace",
        "a\n---\nb",
        "a\n...\nb",
        "a\n# not a comment\nb",
        "a\r\nb",
        "username,password\nloaduser001,loadpass123\n",
    ];

    #[test]
    fn awkward_strings_read_back_unchanged() {
        for s in AWKWARD {
            round_trip(&Node::map([("key", Node::str(*s))]));
            round_trip(&Node::map([(*s, Node::str("value"))]));
            round_trip(&Node::map([("list", Node::strs([*s, "after"]))]));
            round_trip(&Node::map([(
                "nested",
                Node::map([("inner", Node::str(*s)), ("after", Node::Int(1))]),
            )]));
        }
    }

    #[test]
    fn random_strings_read_back_unchanged() {
        // splitmix64 over an alphabet of YAML's troublemakers.
        let alphabet: Vec<char> =
            " \n\t\r:#-?&*!|>'\"%@`{}[],.\\~aZ0é☕\u{85}\u{2028}\u{0}\u{7F}\u{FEFF}"
                .chars()
                .collect();
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for _ in 0..2000 {
            let len = (next() % 24) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            round_trip(&Node::map([
                ("a", Node::str(s.clone())),
                ("b", Node::strs([s.clone()])),
            ]));
        }
    }

    #[test]
    fn shapes() {
        let node = Node::map([
            ("apiVersion", Node::str("batch/v1")),
            ("empty_map", Node::Map(vec![])),
            ("empty_list", Node::Seq(vec![])),
            (
                "items",
                Node::Seq(vec![
                    Node::map([("name", Node::str("a")), ("value", Node::str("4"))]),
                    Node::str("x"),
                    Node::Seq(vec![Node::Int(1), Node::Bool(false)]),
                ]),
            ),
            ("text", Node::str("line 1\nline 2\n")),
        ]);
        let mut text = String::new();
        render(&node, &mut text);
        assert_eq!(
            text,
            "apiVersion: batch/v1\n\
             empty_map: {}\n\
             empty_list: []\n\
             items:\n  \
               - name: a\n    \
                 value: \"4\"\n  \
               - x\n  \
               -\n    \
                 - 1\n    \
                 - false\n\
             text: |\n  \
               line 1\n  \
               line 2\n"
        );
        round_trip(&node);
    }

    #[test]
    fn readable_texts_are_literal_blocks_and_others_are_quoted() {
        assert_eq!(literal_block("a\nb\n"), Some("|"));
        assert_eq!(literal_block("a\nb"), Some("|-"));
        assert_eq!(literal_block("a\nb\n\n"), Some("|+"));
        assert_eq!(literal_block("one line\n"), None);
        assert_eq!(literal_block(" a\nb"), None);
        assert_eq!(literal_block("a \nb"), None);
        assert_eq!(literal_block("a\r\nb"), None);
        assert_eq!(inline_string("True"), "\"True\"");
        assert_eq!(
            inline_string("kubernetes.io/hostname"),
            "kubernetes.io/hostname"
        );
        assert_eq!(inline_string("1Gi"), "\"1Gi\"");
        assert_eq!(inline_string("--headless"), "--headless");
        assert_eq!(inline_string("-1"), "\"-1\"");
        assert_eq!(inline_string("a\u{85}b"), "\"a\\u0085b\"");
    }
}
