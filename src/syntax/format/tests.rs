//! Formatter tests: shipped files are canonical, goldens, and comments survive anywhere.

use std::path::{Path, PathBuf};

use super::format;
use crate::syntax::ast::{ClassOption, File, Item, UserItem};
use crate::syntax::parse;

fn parse_ok(src: &str, name: &str) -> File {
    parse(src)
        .unwrap_or_else(|d| panic!("{}", crate::diagnostic::render(&d, name, src, false, 100)))
}

fn fmt(src: &str) -> String {
    format(&parse_ok(src, "input"), src)
}

/// The formatter sorts class and task options, whose order carries no meaning; compare
/// trees with their options sorted the same way.
fn normalized(mut file: File) -> File {
    fn sort(options: &mut [ClassOption]) {
        options.sort_by_key(|o| match o {
            ClassOption::Weight { .. } => 0,
            ClassOption::Count { .. } => 1,
            ClassOption::Tags { .. } => 2,
        });
    }
    for item in &mut file.items {
        let Item::User(user) = item else { continue };
        sort(&mut user.options);
        for item in &mut user.items {
            match item {
                UserItem::Task(t) => sort(&mut t.options),
                UserItem::Sequence(s) => {
                    sort(&mut s.options);
                    s.tasks.iter_mut().for_each(|t| sort(&mut t.options));
                }
                _ => {}
            }
        }
    }
    file
}

/// Formatting is idempotent, keeps the meaning and keeps every comment.
fn assert_round_trip(name: &str, src: &str) -> String {
    let before = parse_ok(src, name);
    let formatted = format(&before, src);
    let after = parse_ok(&formatted, &format!("{name} (formatted)"));
    assert_eq!(
        format(&after, &formatted),
        formatted,
        "{name}: formatting twice changed the text; once gave:\n{formatted}"
    );
    let mut texts_before: Vec<&str> = before.comments.iter().map(|c| c.text.as_str()).collect();
    let mut texts_after: Vec<&str> = after.comments.iter().map(|c| c.text.as_str()).collect();
    texts_before.sort_unstable();
    texts_after.sort_unstable();
    assert_eq!(
        texts_after, texts_before,
        "{name}: comments lost or duplicated:\n{formatted}"
    );
    // Comment order is part of the tree: `File::comments` compares in order.
    assert!(
        normalized(after).same_meaning(&normalized(before)),
        "{name}: formatting changed the meaning:\n{formatted}"
    );
    formatted
}

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Every `.kload` file under the given directories of the repository, sorted.
fn kload_files(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(repo_file(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.extension().is_some_and(|e| e == "kload") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `fmt --check` guarantee: every shipped scenario and example is already canonical.
#[test]
fn shipped_files_are_formatted() {
    let files = kload_files(&["scenarios", "examples"]);
    assert!(
        files.iter().any(|f| f.ends_with("scenarios/kibray.kload")),
        "{files:?}"
    );
    for path in files {
        let name = path.display().to_string();
        let src = read(&path);
        let formatted = assert_round_trip(&name, &src);
        assert!(
            formatted == src,
            "{name} is not formatted; `kload fmt` would write:\n{formatted}"
        );
    }
}

/// `messy.kload` → `messy.formatted.kload`; `KLOAD_BLESS=1` rewrites the expected files.
#[test]
fn golden_files() {
    let files = kload_files(&["tests/golden/fmt"]);
    let inputs: Vec<&PathBuf> = files
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".formatted.kload"))
        .collect();
    assert!(!inputs.is_empty(), "no golden inputs in tests/golden/fmt");
    let bless = std::env::var_os("KLOAD_BLESS").is_some();
    for input in inputs {
        let name = input.display().to_string();
        let formatted = assert_round_trip(&name, &read(input));
        let golden = input.with_extension("formatted.kload");
        if bless {
            std::fs::write(&golden, &formatted)
                .unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            continue;
        }
        let expected = read(&golden);
        assert!(
            formatted == expected,
            "{name}: output differs from {} (re-bless with KLOAD_BLESS=1):\n{formatted}",
            golden.display()
        );
        assert_eq!(
            fmt(&expected),
            expected,
            "the golden output is itself canonical"
        );
    }
}

/// Layout rules that hold for any formatted file.
fn assert_layout(name: &str, formatted: &str) {
    if formatted.is_empty() {
        return;
    }
    assert!(
        formatted.ends_with('\n') && !formatted.ends_with("\n\n"),
        "{name}: must end with one newline"
    );
    assert!(
        !formatted.starts_with('\n'),
        "{name}: starts with a blank line"
    );
    assert!(
        !formatted.contains("\n\n\n"),
        "{name}: two blank lines in a row:\n{formatted}"
    );
    for (i, line) in formatted.lines().enumerate() {
        assert_eq!(
            line.trim_end(),
            line,
            "{name}:{}: trailing whitespace",
            i + 1
        );
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert!(
            indent % 2 == 0 && !line.starts_with('\t'),
            "{name}:{}: odd indentation",
            i + 1
        );
    }
    let lines: Vec<&str> = formatted.lines().collect();
    for pair in lines.windows(2) {
        assert!(
            !(pair[0].ends_with('{') && pair[1].is_empty()),
            "{name}: blank line after `{{`"
        );
        assert!(
            !(pair[0].is_empty() && pair[1].trim_start().starts_with('}')),
            "{name}: blank line before `}}`"
        );
    }
}

/// Rewrites `src` with a comment in every gap between tokens outside string text: each one
/// on a line of its own (`own_line`) or trailing the token before it.
fn sprinkle(src: &str, own_line: bool) -> String {
    #[derive(PartialEq)]
    enum Context {
        Str,
        Interp,
    }
    let mut stack: Vec<Context> = Vec::new();
    let mut out = String::new();
    let mut n = 0;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match (stack.last(), c) {
            (None | Some(Context::Interp), '"') => stack.push(Context::Str),
            (None, '#') => {
                while let Some(c) = chars.next_if(|c| *c != '\n') {
                    out.push(c);
                }
            }
            (None, ' ' | '\t' | '\n') => {
                n += 1;
                out.pop();
                if own_line {
                    out.push_str(&format!("\n# c{n}\n"));
                } else {
                    out.push_str(&format!(" # c{n}\n"));
                }
            }
            (Some(Context::Str), '\\') => out.extend(chars.next()),
            (Some(Context::Str), '"') => {
                stack.pop();
            }
            (Some(Context::Str), '{') if chars.peek() == Some(&'{') => {
                out.extend(chars.next());
                stack.push(Context::Interp);
            }
            (Some(Context::Interp), '}') if chars.peek() == Some(&'}') => {
                out.extend(chars.next());
                stack.pop();
            }
            _ => {}
        }
    }
    out
}

/// Comments written anywhere between tokens survive, in order, and the result is stable.
#[test]
fn comments_survive_anywhere() {
    let files = kload_files(&["scenarios", "examples", "tests/golden/fmt"]);
    for path in files {
        let src = read(&path);
        for own_line in [false, true] {
            let sprinkled = sprinkle(&src, own_line);
            let added = sprinkled.matches("# c").count() - src.matches("# c").count();
            assert!(
                added > src.len() / 20,
                "{}: only {added} comments added",
                path.display()
            );
            let name = format!("{} (sprinkled, own_line: {own_line})", path.display());
            let formatted = assert_round_trip(&name, &sprinkled);
            assert_layout(&name, &formatted);
        }
    }
}

#[test]
fn shipped_and_golden_layout() {
    for path in kload_files(&["scenarios", "examples", "tests/golden/fmt"]) {
        let name = path.display().to_string();
        assert_layout(&name, &fmt(&read(&path)));
    }
}

/// Small cases, each asserting exact text.
#[test]
fn table() {
    let cases: &[(&str, &str, &str)] = &[
        ("empty file", "", ""),
        ("only blank lines", "\n\n  \n", ""),
        (
            "only comments",
            "\n\n# one\n\n\n#two\n\n",
            "# one\n\n#two\n",
        ),
        (
            "one blank line between items, none at the edges of blocks",
            "user A {\n\n\n  task a {}\n\n\n\n  task b {}\n\n}\nuser B {}",
            "user A {\n  task a {}\n\n  task b {}\n}\n\nuser B {}\n",
        ),
        (
            "data lines may stay together; other items get one blank line",
            "data a from \"a.csv\"\ndata b from \"b.csv\"\n\n\ndata c from \"c.csv\"\nload {}\ndata d from \"d.csv\"\n",
            "data a from \"a.csv\"\ndata b from \"b.csv\"\n\ndata c from \"c.csv\"\n\nload {}\n\ndata d from \"d.csv\"\n",
        ),
        (
            "statements split one per line, tabs become two spaces",
            "load {\tusers 10 spawn_rate 2 }",
            "load {\n  users 10\n  spawn_rate 2\n}\n",
        ),
        (
            "options in a fixed order",
            "user A tags x,y count 2 { task t tags z weight 3 {} }",
            "user A count 2 tags x, y {\n  task t weight 3 tags z {}\n}\n",
        ),
        (
            "trailing comments stay trailing, own-line ones stay before",
            "user A { # a\n  # b\n  task t {} # c\n  # d\n} # e\n# f\n",
            "user A { # a\n  # b\n  task t {} # c\n  # d\n} # e\n# f\n",
        ),
        (
            "a comment inside an empty block keeps the block open",
            "user A { task t { # inside\n } }",
            "user A {\n  task t { # inside\n  }\n}\n",
        ),
        (
            "two comments after one line: the last stays trailing",
            "user A # a\n weight 2 # b\n {}",
            "# a\nuser A weight 2 { # b\n}\n",
        ),
        (
            "a comment inside a one-line expression moves after it, in order",
            "scenario \"s\" {\n  let x = choice(\n    # why\n    1, 2)\n  let y = 1\n}\n",
            "scenario \"s\" {\n  let x = choice(1, 2)\n  # why\n  let y = 1\n}\n",
        ),
        (
            "a trailing comment never moves above an own-line one written before it",
            "scenario \"s\" {\n  let x = choice(\n    # a\n    1, # b\n    2)\n}\n",
            "scenario \"s\" {\n  let x = choice(1, 2)\n  # a\n  # b\n}\n",
        ),
        (
            "spacing inside values and interpolations",
            "scenario \"s\" { header  X-A :\"{{a.b}}\"  let v = [ 1,\"x\" , f( ) ] }",
            "scenario \"s\" {\n  header X-A: \"{{ a.b }}\"\n  let v = [1, \"x\", f()]\n}\n",
        ),
        (
            "strings are printed raw",
            "scenario \"a\\tb \\\" \\{ \\u{e9}\" {}",
            "scenario \"a\\tb \\\" \\{ \\u{e9}\" {}\n",
        ),
        (
            "CRLF input",
            "user A {\r\n  # c\r\n  task t {}\r\n}\r\n",
            "user A {\n  # c\n  task t {}\n}\n",
        ),
        (
            "a request without a block and one with an empty block differ",
            "user A { task t { GET \"/a\" GET \"/b\" {} } }",
            "user A {\n  task t {\n    GET \"/a\"\n    GET \"/b\" {}\n  }\n}\n",
        ),
        (
            "if, else if and else share their lines with the braces",
            "user A { task t { if {{ a }} { GET \"/a\" }\n else if not {{ b }} {} else { repeat 2 { GET \"/c\" } } } }",
            "user A {\n  task t {\n    if {{ a }} {\n      GET \"/a\"\n    } else if not {{ b }} {\n    } else {\n      repeat 2 {\n        GET \"/c\"\n      }\n    }\n  }\n}\n",
        ),
        (
            "an if alone with nothing inside is one line; conditions are spaced",
            "user A { task t { if {{x}}>=2{} repeat 3 {} } }",
            "user A {\n  task t {\n    if {{ x }} >= 2 {}\n    repeat 3 {}\n  }\n}\n",
        ),
        (
            "comments before an else stay inside the block they follow; no blank lines around else",
            "user A { task t { if {{ a }} {\n GET \"/a\"\n\n # last of then\n\n }\n\n else {\n\n GET \"/b\" } } }",
            "user A {\n  task t {\n    if {{ a }} {\n      GET \"/a\"\n\n      # last of then\n    } else {\n      GET \"/b\"\n    }\n  }\n}\n",
        ),
        (
            "auth settings",
            "scenario \"s\" { auth   basic \"u\"   \"p\" } user A { auth bearer {{ t }} task t { GET \"/\" { auth basic \"a\" 1 } } }",
            "scenario \"s\" {\n  auth basic \"u\" \"p\"\n}\n\nuser A {\n  auth bearer {{ t }}\n  task t {\n    GET \"/\" {\n      auth basic \"a\" 1\n    }\n  }\n}\n",
        ),
        (
            "secret lets and captures; `secret` alone is a name",
            "scenario \"s\" { let  secret   key=env( \"K\" ) let secret = 1 } user A { task t { GET \"/\" { capture   secret tok =jsonpath \"$.t\" capture secret=header X } } }",
            "scenario \"s\" {\n  let secret key = env(\"K\")\n  let secret = 1\n}\n\nuser A {\n  task t {\n    GET \"/\" {\n      capture secret tok = jsonpath \"$.t\"\n      capture secret = header X\n    }\n  }\n}\n",
        ),
        (
            "thresholds: flags in a fixed order",
            "thresholds { p95 ( tag  x ) < 1s abort after 2 warn }",
            "thresholds {\n  p95(tag x) < 1s warn abort after 2\n}\n",
        ),
        (
            "thresholds: optional after warn, before abort",
            "thresholds { p95 < 1s abort after 2 optional warn }",
            "thresholds {\n  p95 < 1s warn optional abort after 2\n}\n",
        ),
    ];
    for (name, input, expected) in cases {
        let formatted = assert_round_trip(name, input);
        assert_eq!(formatted, *expected, "{name}");
    }
}

/// Arrays of plain values stay on one line up to column 80, objects always open up.
#[test]
fn json_arrays_wrap_at_eighty_columns() {
    // `      json [...]` inside user/task/request: six spaces of indentation.
    let body = |items: &str| {
        format!(
            "user A {{\n  task t {{\n    GET \"/\" {{\n      json [{items}]\n    }}\n  }}\n}}\n"
        )
    };
    let fits = "\"a\", ".repeat(12) + "\"bcdef\"";
    assert_eq!(format!("      json [{fits}]").len(), 80);
    assert_eq!(fmt(&body(&fits)), body(&fits));
    let too_long = "\"a\", ".repeat(12) + "\"bcdefg\"";
    let formatted = fmt(&body(&too_long));
    assert!(
        formatted.contains("      json [\n        \"a\",\n"),
        "{formatted}"
    );
    assert!(
        formatted.contains("        \"bcdefg\"\n      ]\n"),
        "{formatted}"
    );
    let object = fmt("user A { task t { GET \"/\" { json { \"a\": 1 } } } }");
    assert!(
        object.contains("      json {\n        \"a\": 1\n      }\n"),
        "{object}"
    );
}

/// Every `kload` code block of docs/language.md parses: as a whole file, or as the inside
/// of a class, a task or a request. Whole files are also canonically formatted.
#[test]
fn language_reference_examples_parse() {
    let doc = read(&repo_file("docs/language.md"));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```kload") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(
        blocks.len() >= 20,
        "found only {} kload blocks",
        blocks.len()
    );
    let wrappers = [
        ("user U {\n", "}\n"),
        ("user U {\n  task t {\n", "  }\n}\n"),
        ("user U {\n  task t {\n    GET \"/\" {\n", "    }\n  }\n}\n"),
    ];
    for block in blocks {
        if parse(&block).is_ok() {
            assert_eq!(
                fmt(&block),
                block,
                "docs/language.md: a whole-file example is not formatted"
            );
            continue;
        }
        let fits = wrappers
            .iter()
            .any(|(open, close)| parse(&format!("{open}{block}{close}")).is_ok());
        assert!(
            fits,
            "docs/language.md: this example does not parse:\n{block}"
        );
    }
}
