//! Secrets kept out of every output, by construction.
//!
//! A value is a secret when it comes from a data feed, from `env()`, from a variable the
//! scenario marks `secret`, from a variable used in an `Authorization`, `Cookie` (or similar)
//! header, from such a header's rendered value, or from a `Set-Cookie` the server sent. Each
//! virtual user keeps its own few secrets and replaces them with `***` in every failure
//! message and detail it produces (so a check that prints what it got never stores a token or
//! a password), and the run keeps them all so that the final result is scrubbed once more
//! before any report is written. Values shorter than [`MIN_LEN`] characters are not treated
//! as secrets (they would blank out ordinary words and numbers).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Shortest value treated as a secret.
pub const MIN_LEN: usize = 4;

/// What the URL parser percent-encodes in a path (the WHATWG path set): a secret sent in a
/// request's path reads like this in an error that quotes the URL.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The forms a value can take in a message: as is; URL-encoded as a form or query value,
/// in a path, and by `url_encode()`; JSON-escaped; HTML-escaped (a page that echoes it).
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    let mut add = |form: String| {
        if !out.contains(&form) {
            out.push(form);
        }
    };
    add(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    add(utf8_percent_encode(value, PATH).to_string());
    add(utf8_percent_encode(value, crate::runtime::eval::COMPONENT).to_string());
    if let Ok(json) = serde_json::to_string(value) {
        add(json[1..json.len() - 1].to_string());
    }
    add(html_escaped(value));
    out.retain(|v| v.chars().count() >= MIN_LEN);
    out
}

fn html_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The credentials of a URL worth keeping secret (`http://user:password@host`): the
/// password, or the user name when there is none (an API key sent that way), as written
/// (percent-encoded) and decoded.
pub fn url_credentials(url: &str) -> Vec<String> {
    url::Url::parse(url)
        .map(|parsed| credentials_of(&parsed))
        .unwrap_or_default()
}

/// [`url_credentials`] of a URL already parsed.
pub fn credentials_of(parsed: &url::Url) -> Vec<String> {
    let secret = match parsed.password() {
        Some(p) if !p.is_empty() => p,
        _ => parsed.username(),
    };
    if secret.is_empty() {
        return Vec::new();
    }
    let decoded = percent_encoding::percent_decode_str(secret)
        .decode_utf8_lossy()
        .into_owned();
    let mut out = vec![secret.to_string()];
    if decoded != secret {
        out.push(decoded);
    }
    out
}

/// Replaces every occurrence of `secrets` (longest first) in `text`.
fn replace_all<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut ordered: Vec<&String> = secrets.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in ordered {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// The secrets of one virtual user: few, and applied to each failure it records.
#[derive(Debug, Default, Clone)]
pub struct UserSecrets {
    values: Vec<String>,
}

impl UserSecrets {
    /// Whether `value` itself is among this user's secrets (a value too short to be one is
    /// never known).
    pub fn knows(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// Remembers `value` (and its encoded forms); true when it was new to this user.
    pub fn add(&mut self, value: &str) -> bool {
        // The same token is sent with every request: known, its forms are not made again.
        if self.knows(value) {
            return false;
        }
        let mut new = false;
        for f in forms(value) {
            if !self.values.contains(&f) {
                self.values.push(f);
                new = true;
            }
        }
        new
    }

    /// `text` with this user's secrets replaced by `***`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        replace_all(text, &self.values)
    }
}

/// Every secret of a run: the few that all users share (`env()` values, literal secrets)
/// applied to each failure, and all of them for the final scrub of the result.
#[derive(Debug, Default)]
pub struct Secrets {
    shared: RwLock<Vec<String>>,
    all: Mutex<AllSecrets>,
}

#[derive(Debug, Default)]
struct AllSecrets {
    values: BTreeSet<String>,
    matcher: Option<AhoCorasick>,
}

impl AllSecrets {
    /// One automaton for every value, longest match first; `None` only if it cannot be
    /// built (too many patterns, never in practice).
    fn matcher(&mut self) -> Option<&AhoCorasick> {
        if self.matcher.is_none() {
            self.matcher = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(self.values.iter())
                .ok();
        }
        self.matcher.as_ref()
    }
}

impl Secrets {
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// A secret every user may print (an `env()` value, a literal marked secret).
    pub fn add_shared(&self, value: &str) {
        let forms = forms(value);
        if forms.is_empty() {
            return;
        }
        {
            let mut shared = self.shared.write().unwrap_or_else(PoisonError::into_inner);
            for f in &forms {
                if !shared.contains(f) {
                    shared.push(f.clone());
                }
            }
        }
        self.remember(value);
    }

    /// A secret of one user, kept for the final scrub.
    pub fn remember(&self, value: &str) {
        let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changed = false;
        for f in forms(value) {
            changed |= all.values.insert(f);
        }
        if changed {
            all.matcher = None;
        }
    }

    /// `text` with the shared secrets replaced (cheap: for each failure).
    pub fn redact_shared<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let shared = self.shared.read().unwrap_or_else(PoisonError::into_inner);
        match replace_all(text, &shared) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(s) => Cow::Owned(s),
        }
    }

    /// `text` with every secret of the run replaced (the final scrub of a result).
    pub fn redact_all(&self, text: &str) -> String {
        let found = self.find_all(text);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in found {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// `text` with every secret of the run replaced by as many `*` as it has bytes: byte
    /// offsets into the text stay valid (the scenario source that diagnostics point into).
    pub fn redact_keeping_offsets(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (start, end) in self.find_all(text) {
            out.replace_range(start..end, &"*".repeat(end - start));
        }
        out
    }

    /// Where the run's secrets are in `text`: sorted byte ranges that do not overlap, the
    /// longest secret winning where two start at the same place.
    fn find_all(&self, text: &str) -> Vec<(usize, usize)> {
        let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        if all.values.is_empty() {
            return Vec::new();
        }
        if let Some(m) = all.matcher() {
            return m.find_iter(text).map(|f| (f.start(), f.end())).collect();
        }
        // Too many patterns for the automaton (never in practice): one by one, longest first.
        let mut values: Vec<&String> = all.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut found: Vec<(usize, usize)> = Vec::new();
        for v in values {
            for (start, _) in text.match_indices(v.as_str()) {
                let end = start + v.len();
                if !found.iter().any(|(s, e)| start < *e && *s < end) {
                    found.push((start, end));
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// How many distinct secret forms the run knows.
    pub fn len(&self) -> usize {
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Headers whose values never appear in logs or reports.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "set-cookie"
            | "x-api-key"
            | "x-auth-token"
    ) || n.contains("token")
        || n.contains("secret")
}

/// The words of a secret header value worth remembering on their own: the token after an
/// auth scheme (`Bearer abc…`), the password (and `user:password`) a `Basic` value encodes,
/// each cookie value (`sid=abc; theme=dark`).
pub fn header_parts(value: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut parts = vec![value.to_string()];
    if let Some((scheme, rest)) = value.split_once(' ')
        && matches!(
            scheme.to_ascii_lowercase().as_str(),
            "bearer" | "basic" | "token" | "digest" | "jwt"
        )
    {
        let rest = rest.trim();
        parts.push(rest.to_string());
        if scheme.eq_ignore_ascii_case("basic")
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(rest)
            && let Ok(pair) = String::from_utf8(bytes)
        {
            if let Some((_, password)) = pair.split_once(':') {
                parts.push(password.to_string());
            }
            parts.push(pair);
        }
        return parts;
    }
    for pair in value.split(';') {
        if let Some((_, v)) = pair.split_once('=') {
            parts.push(v.trim().to_string());
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_s_secrets_are_masked_in_every_form() {
        let mut mine = UserSecrets::default();
        assert!(mine.add("hunter2 pass/word"));
        assert!(!mine.add("hunter2 pass/word"));
        mine.add("eyJhbGciOi.token");
        mine.add("abc"); // too short to be a secret
        let text = r#"got {"password": "hunter2 pass/word"} at /login?p=hunter2+pass%2Fword with eyJhbGciOi.token and abc"#;
        assert_eq!(
            mine.redact(text),
            r#"got {"password": "***"} at /login?p=*** with *** and abc"#
        );
        assert!(matches!(mine.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_run_scrubs_everything_it_saw_and_longest_first() {
        let all = Secrets::new();
        all.remember("secret-token");
        all.remember("secret-token-2");
        all.add_shared("ENV_VALUE_1");
        assert_eq!(
            all.redact_all("a secret-token-2 b secret-token c ENV_VALUE_1"),
            "a *** b *** c ***"
        );
        assert_eq!(
            all.redact_shared("x ENV_VALUE_1 secret-token"),
            "x *** secret-token"
        );
        assert_eq!(all.redact_all("clean"), "clean");
    }

    #[test]
    fn header_values_give_their_tokens() {
        assert_eq!(
            header_parts("Bearer abc.def"),
            ["Bearer abc.def", "abc.def"]
        );
        assert_eq!(
            header_parts("sid=123456; theme=dark"),
            ["sid=123456; theme=dark", "123456", "dark"]
        );
        // RFC 7617's example: the password and the pair it encodes.
        assert_eq!(
            header_parts("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            [
                "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                "open sesame",
                "Aladdin:open sesame"
            ]
        );
    }
}
