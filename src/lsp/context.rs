//! Where the cursor stands, read from the text before it alone: in a comment, in a string,
//! in a `{{ }}` expression, in a threshold's selector, or among statements, and inside
//! which blocks. Only the text before the cursor counts, so a file that does not parse
//! (the usual state while typing) gives the same answer as a complete one.

use crate::span::Span;

/// A block the cursor is in: the statement that opened it, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statement's text before its `{` or `[`: `user A weight 3`, `GET "/x"`, `json`.
    pub opener: String,
    /// `{` or `[`.
    pub bracket: char,
}

impl Block {
    /// What kind of block this is: the opener's first word (`user`, `task`, `on`, `json`,
    /// `thresholds`, ...), `request` after an HTTP method, `json` for an object or list
    /// inside a JSON body, `list` for other lists.
    pub fn kind(&self) -> &str {
        if self.bracket == '[' {
            return "list";
        }
        let first = first_word(&self.opener);
        if first.is_empty() || self.opener.ends_with(':') || self.opener.ends_with(',') {
            "json"
        } else if first.chars().all(|c| c.is_ascii_uppercase()) {
            "request"
        } else {
            first
        }
    }

    /// The opener as written, for a skeleton. An `else` follows the `}` of an `if`, which
    /// the skeleton leaves out: an empty `if` stands for it.
    fn written(&self) -> String {
        match self.kind() {
            "else" => format!("{IF_BEFORE_ELSE} {} {}", self.opener, self.bracket),
            _ => format!("{} {}", self.opener, self.bracket),
        }
    }

    /// A short opener of the same kind that parses whatever was written (for when the
    /// opener as written has a mistake of its own).
    fn canonical(&self) -> String {
        match self.kind() {
            "scenario" => "scenario \"s\" {".to_string(),
            "user" => "user U {".to_string(),
            "task" => "task t {".to_string(),
            "sequence" => "sequence s {".to_string(),
            "request" => "GET \"/\" {".to_string(),
            "on" => "on start {".to_string(),
            "if" => "if true {".to_string(),
            "else" => format!("{IF_BEFORE_ELSE} else {{"),
            "repeat" => "repeat 1 {".to_string(),
            _ => self.written(),
        }
    }
}

/// An `if` that parses, for a skeleton where an `else` may come next.
const IF_BEFORE_ELSE: &str = "if true {}";

/// What kind of place the cursor is in.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// After `#`.
    Comment,
    /// Inside a quoted string, outside `{{ }}`.
    Text,
    /// Inside `{{ }}`, or after `let name =`: `feed` is set after `feed.`.
    Expression { feed: Option<String> },
    /// Inside a threshold's `(...)`, which starts at `start`; `tag` after `(tag `.
    Selector { tag: bool, start: usize },
    /// Among statements and their words: the grammar says what may follow.
    Code,
}

/// The cursor's context.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub place: Place,
    /// The word being typed, which ends at the cursor (empty when none is).
    pub word: Span,
    /// The blocks around the cursor, outermost first.
    pub blocks: Vec<Block>,
    /// The current statement's text before `word`, from its first word.
    pub statement: String,
    /// The statement comes right after the `}` of an `if` (or `else`) block: `else` may
    /// stand here.
    pub after_if: bool,
    /// What closes every string, expression, bracket and block open at the cursor,
    /// innermost first.
    pub closing: String,
    /// Where the string the cursor is in starts (the outermost one, when strings nest in
    /// `{{ }}`).
    pub string_start: Option<usize>,
}

impl Cursor {
    /// The first word of the statement the cursor is in (`check`, `capture`, ...).
    pub fn statement_word(&self) -> &str {
        first_word(&self.statement)
    }

    /// The kind of the innermost block (`""` at the top level).
    pub fn block_kind(&self) -> &str {
        self.blocks.last().map_or("", Block::kind)
    }

    /// A text that the grammar can read from its start to the cursor: the openers of the
    /// blocks around the cursor, then the statement before the word. Other statements
    /// are left out, so that a mistake elsewhere does not hide what fits here.
    pub fn skeleton(&self) -> String {
        self.build_skeleton(Block::written)
    }

    /// [`Self::skeleton`] with short standard openers (`user U {`).
    pub fn canonical_skeleton(&self) -> String {
        self.build_skeleton(Block::canonical)
    }

    fn build_skeleton(&self, opener: impl Fn(&Block) -> String) -> String {
        let mut s = String::new();
        for b in &self.blocks {
            s.push_str(&opener(b));
            s.push('\n');
        }
        if self.after_if {
            s.push_str(IF_BEFORE_ELSE);
            s.push('\n');
        }
        s.push_str(&self.statement);
        s
    }
}

fn first_word(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Open {
    Brace,
    Bracket,
    Paren,
    Str,
    Interp,
}

struct Frame {
    open: Open,
    at: usize,
    /// A block (`{` or `[` among statements, not inside an expression).
    block: bool,
    /// Where the statement that holds this frame started (restored when it closes).
    statement_start: usize,
}

/// Reads the context of the cursor at byte `offset` of `text`.
pub fn at(text: &str, offset: usize) -> Cursor {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let bytes = &text.as_bytes()[..offset];
    let mut stack: Vec<Frame> = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut statement_start = 0;
    let mut in_comment = false;
    // The `}` that closed the last block, and whether that block was an `if` or `else`.
    let mut last_closed: Option<(usize, bool)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let top = stack.last().map(|f| f.open);
        let in_expression = stack
            .iter()
            .any(|f| matches!(f.open, Open::Paren | Open::Interp));
        let push = |open: Open, block: bool| Frame {
            open,
            at: i,
            block,
            statement_start,
        };
        if top == Some(Open::Str) {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(push(Open::Interp, false));
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'#' => {
                let end = bytes[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                in_comment = end == bytes.len();
                i = end;
                continue;
            }
            b'"' => stack.push(push(Open::Str, false)),
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                stack.push(push(Open::Interp, false));
                i += 1;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') && top == Some(Open::Interp) => {
                stack.pop();
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                let open = match b {
                    b'{' => Open::Brace,
                    b'[' => Open::Bracket,
                    _ => Open::Paren,
                };
                let block = open != Open::Paren && !in_expression;
                stack.push(push(open, block));
                if block {
                    blocks.push(Block {
                        opener: text[statement_start..i].trim().to_string(),
                        bracket: b as char,
                    });
                    statement_start = i + 1;
                }
            }
            b'}' | b']' | b')' => {
                let wanted = match b {
                    b'}' => Open::Brace,
                    b']' => Open::Bracket,
                    _ => Open::Paren,
                };
                if let Some(pos) = stack.iter().rposition(|f| f.open == wanted) {
                    let frame = &stack[pos];
                    if frame.block {
                        let depth = stack[..pos].iter().filter(|f| f.block).count();
                        let kind = blocks.get(depth).map(Block::kind);
                        last_closed = Some((i, matches!(kind, Some("if" | "else"))));
                        blocks.truncate(depth);
                        // The statement that opened a `{` block ends with it; after a
                        // `]` the statement goes on.
                        statement_start = if b == b'}' {
                            i + 1
                        } else {
                            frame.statement_start
                        };
                    }
                    stack.truncate(pos);
                }
            }
            b'\n' if !in_expression => statement_start = i + 1,
            _ => {}
        }
        i += 1;
    }

    let mut word_start = offset;
    while word_start > 0 && is_word_byte(bytes[word_start - 1]) {
        word_start -= 1;
    }
    let word = Span::new(word_start, offset);
    let statement_from = statement_start.min(word_start);
    let statement = text[statement_from..word_start].trim_start().to_string();
    // Only blank lines and comments between that `}` and the statement.
    let after_if = last_closed.is_some_and(|(brace, if_like)| {
        if_like
            && brace < statement_from
            && text[brace + 1..statement_from]
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    });

    let quoted = stack
        .iter()
        .rev()
        .find(|f| matches!(f.open, Open::Str | Open::Interp))
        .map(|f| f.open);
    let paren = stack.iter().rev().find(|f| f.open == Open::Paren);
    let in_thresholds = blocks.last().is_some_and(|b| b.kind() == "thresholds");
    let place = if in_comment {
        Place::Comment
    } else {
        match (quoted, paren) {
            (Some(Open::Str), _) => Place::Text,
            (Some(_), _) => expression(bytes, word_start),
            (None, Some(p)) if in_thresholds => {
                let inside = text[p.at + 1..word_start].trim_start();
                let tag = inside.starts_with("tag") && inside[3..].starts_with(char::is_whitespace);
                Place::Selector {
                    tag,
                    start: p.at + 1,
                }
            }
            _ if is_let_value(&statement) => expression(bytes, word_start),
            _ => Place::Code,
        }
    };
    let closing = stack
        .iter()
        .rev()
        .map(|f| match f.open {
            Open::Str => "\"",
            Open::Interp => " }}",
            Open::Paren => ")",
            Open::Bracket => "]",
            Open::Brace if f.block => "\n}",
            Open::Brace => "}",
        })
        .collect();
    let string_start = stack.iter().find(|f| f.open == Open::Str).map(|f| f.at);
    Cursor {
        place,
        word,
        blocks,
        statement,
        after_if,
        closing,
        string_start,
    }
}

/// An expression place, with the feed name when the word follows `feed.`.
fn expression(bytes: &[u8], word_start: usize) -> Place {
    let feed = (word_start > 0 && bytes[word_start - 1] == b'.')
        .then(|| {
            let end = word_start - 1;
            let mut start = end;
            while start > 0 && is_word_byte(bytes[start - 1]) {
                start -= 1;
            }
            (start < end).then(|| String::from_utf8_lossy(&bytes[start..end]).into_owned())
        })
        .flatten();
    Place::Expression { feed }
}

/// `let name = ...`: what follows `=` is an expression.
fn is_let_value(statement: &str) -> bool {
    let mut words = statement.split_whitespace();
    words.next() == Some("let") && statement.contains('=')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The context at the `|` of `marked`.
    fn ctx(marked: &str) -> Cursor {
        let offset = marked.find('|').expect("a cursor mark");
        let text = marked.replacen('|', "", 1);
        at(&text, offset)
    }

    fn kinds(c: &Cursor) -> Vec<&str> {
        c.blocks.iter().map(Block::kind).collect()
    }

    #[test]
    fn blocks_around_the_cursor() {
        let c = ctx("user A weight 2 {\n  task t {\n    GET \"/x\" {\n      che|\n");
        assert_eq!(kinds(&c), ["user", "task", "request"]);
        assert_eq!(c.place, Place::Code);
        assert_eq!(c.word.len(), 3);
        assert_eq!(c.statement, "");
        assert_eq!(c.skeleton(), "user A weight 2 {\ntask t {\nGET \"/x\" {\n");
        assert_eq!(c.canonical_skeleton(), "user U {\ntask t {\nGET \"/\" {\n");
    }

    #[test]
    fn closed_blocks_are_left() {
        let c = ctx("user A {\n  task t {\n    GET \"/\" { check status 200 }\n  }\n  |");
        assert_eq!(kinds(&c), ["user"]);
        let c = ctx("user A {\n  task t { GET \"/\" }\n}\n|");
        assert!(c.blocks.is_empty());
        assert_eq!(c.block_kind(), "");
    }

    #[test]
    fn statement_before_the_word() {
        let c = ctx(
            "user A {\n  task t {\n    GET \"/\" {\n      check status in [200, 201] # x\n      capture id = json|",
        );
        assert_eq!(c.statement, "capture id = ");
        assert_eq!(c.statement_word(), "capture");
        assert_eq!(c.place, Place::Code);
    }

    #[test]
    fn strings_comments_and_expressions() {
        assert_eq!(ctx("user A { # a comm|").place, Place::Comment);
        assert_eq!(ctx("user A { # x\n  |").place, Place::Code);
        assert_eq!(ctx("user A { task t { GET \"/pa|").place, Place::Text);
        assert_eq!(
            ctx("user A { task t { GET \"/p/{{ proj|").place,
            Place::Expression { feed: None }
        );
        assert_eq!(
            ctx("user A { task t { GET \"/p/{{ choice(\"a|").place,
            Place::Text
        );
        assert_eq!(
            ctx("user A { task t { GET \"/p/{{ choice(\"a\", acc|").place,
            Place::Expression { feed: None }
        );
        assert_eq!(
            ctx("user A { task t { GET \"/{{ accounts.us|").place,
            Place::Expression {
                feed: Some("accounts".to_string())
            }
        );
        assert_eq!(ctx("user A { task t { GET \"/{{ x }}/|").place, Place::Text);
        assert_eq!(
            ctx("user A {\n  let x = ran|").place,
            Place::Expression { feed: None }
        );
        assert_eq!(ctx("user A {\n  let x|").place, Place::Code);
    }

    #[test]
    fn json_bodies() {
        let c = ctx("user A { task t { POST \"/\" {\n json {\n  \"a\": {{ i|");
        assert_eq!(c.place, Place::Expression { feed: None });
        let c = ctx("user A { task t { POST \"/\" {\n json {\n  \"a\": { \"b\": 1 },\n  |");
        assert_eq!(kinds(&c), ["user", "task", "request", "json"]);
        let c = ctx("user A { task t { POST \"/\" {\n json {\n  \"a\": {\n |");
        assert_eq!(kinds(&c), ["user", "task", "request", "json", "json"]);
    }

    #[test]
    fn threshold_selectors() {
        let c = ctx("thresholds {\n  p95(|");
        assert_eq!(
            c.place,
            Place::Selector {
                tag: false,
                start: 19
            }
        );
        let c = ctx("thresholds {\n  p95(tag li|");
        assert_eq!(
            c.place,
            Place::Selector {
                tag: true,
                start: 19
            }
        );
        let c = ctx("thresholds {\n  p95(tag list) < 2s\n  |");
        assert_eq!(c.place, Place::Code);
    }

    #[test]
    fn what_closes_the_cursors_place() {
        assert_eq!(
            ctx("user A {\n  task t {\n    GET \"/{{ choice(\"a|").closing,
            "\") }}\"\n}\n}"
        );
        assert_eq!(ctx("|").closing, "");
        let c = ctx("user A {\n  task t {\n    GET \"/{{ choice(\"a\n  let|");
        assert_eq!(c.string_start, Some(28));
    }

    #[test]
    fn multi_byte_text_and_offsets_past_the_end() {
        let c = ctx("# café ☕\nuser Ü {\n  |");
        assert_eq!(kinds(&c), ["user"]);
        let text = "user A {\n  tas";
        assert_eq!(at(text, 999).word, Span::new(11, 14));
    }
}
