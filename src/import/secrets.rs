//! Secrets never go into the scenario as recorded. Correlation runs first, so a token the
//! recording got from a response is already a captured variable; what is left (a password, a
//! user name beside it, an API key, a token from before the recording, a cookie value) becomes
//! a column of the credentials data file, written with placeholders for the user to fill in.

use super::naming::{Namer, ident};
use super::recording::{Call, Piece, SlotKind};

/// The data feed holding the credentials.
pub const FEED: &str = "credentials";

/// What the data file holds instead of a recorded secret.
pub const PLACEHOLDER: &str = "CHANGE_ME";

/// Values at least this long are replaced wherever they appear inside a value, and must not
/// appear anywhere in the output; shorter ones only where they are a whole value.
const SUBSTRING_MIN: usize = 8;

/// `Pass-Word` → `password`.
fn normalized(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A key that holds a password.
pub fn is_password_key(key: &str) -> bool {
    let k = normalized(key);
    matches!(k.as_str(), "pass" | "pwd" | "pin")
        || k.contains("password")
        || k.contains("passwd")
        || k.contains("passphrase")
}

/// A key or header name whose value is secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = normalized(key);
    is_password_key(key)
        || matches!(k.as_str(), "auth" | "xauth" | "otp" | "apikey" | "xapikey")
        || [
            "secret",
            "token",
            "apikey",
            "accesskey",
            "privatekey",
            "signature",
            "csrf",
            "xsrf",
            "session",
            "credential",
            "authorization",
            "cookie",
        ]
        .iter()
        .any(|w| k.contains(w))
}

/// A key that names the account next to a password (`username`, `email`).
fn is_login_name_key(key: &str) -> bool {
    matches!(
        normalized(key).as_str(),
        "username" | "user" | "login" | "email" | "emailaddress" | "account" | "phone" | "mobile"
    )
}

/// The JSON Web Tokens in a text (`eyJ...` `.` `...` `.` `...`).
pub fn jwts(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .filter(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            t.starts_with("eyJ") && parts.len() == 3 && parts[0].len() >= 10 && parts[1].len() >= 10
        })
        .collect()
}

/// `Bearer abc` → `("Bearer ", "abc")`; a value without a scheme has an empty one.
pub fn split_scheme(value: &str) -> (&str, &str) {
    match value.split_once(' ') {
        Some((scheme, rest))
            if !rest.is_empty()
                && !rest.contains(' ')
                && scheme.len() <= 12
                && scheme.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            (&value[..scheme.len() + 1], rest)
        }
        _ => ("", value),
    }
}

struct Secret {
    value: String,
    /// The column's name if the value is used.
    hint: String,
    column: Option<String>,
}

/// The secret values of a recording and the data columns that replace them.
pub struct Secrets {
    found: Vec<Secret>,
    namer: Namer,
    columns: Vec<String>,
}

impl Secrets {
    /// Finds every secret value in the calls' requests (after correlation) and the cookies
    /// they sent or got.
    pub fn find(calls: &mut [Call]) -> Secrets {
        let mut s = Secrets {
            found: Vec::new(),
            namer: Namer::default(),
            columns: Vec::new(),
        };
        for call in calls.iter_mut() {
            for (name, value) in call.sent_cookies.iter().chain(&call.set_cookies) {
                if value.len() >= SUBSTRING_MIN {
                    s.register(value, name);
                }
            }
            let mut found: Vec<(String, String)> = Vec::new();
            call.each_slot(&mut |slot, t| {
                if t.has_var() {
                    return;
                }
                let Some(text) = t.as_text() else { return };
                if text.is_empty() {
                    return;
                }
                for jwt in jwts(&text) {
                    found.push((jwt.to_string(), slot.key().unwrap_or("token".to_string())));
                }
                let Some(key) = slot.key() else { return };
                if matches!(slot.kind, SlotKind::Header { .. }) {
                    if is_secret_key(&key) {
                        let (_, rest) = split_scheme(&text);
                        found.push((rest.to_string(), key));
                    }
                } else if is_secret_key(&key) || (slot.with_password && is_login_name_key(&key)) {
                    found.push((text, key));
                }
            });
            for (value, hint) in found {
                s.register(&value, &hint);
            }
        }
        // Longest first, so that a value inside another is not replaced before it.
        s.found.sort_by_key(|f| std::cmp::Reverse(f.value.len()));
        s
    }

    fn register(&mut self, value: &str, hint: &str) {
        if !value.is_empty() && !self.found.iter().any(|f| f.value == value) {
            self.found.push(Secret {
                value: value.to_string(),
                hint: ident(hint),
                column: None,
            });
        }
    }

    /// Replaces every secret in the requests by its data column.
    pub fn replace(&mut self, calls: &mut [Call]) {
        let Secrets {
            found,
            namer,
            columns,
        } = self;
        for call in calls.iter_mut() {
            call.each_slot(&mut |_, t| {
                for secret in found.iter_mut() {
                    let whole = secret.value.len() < SUBSTRING_MIN;
                    let present = t.0.iter().any(|p| match p {
                        Piece::Text(text) if whole => *text == secret.value,
                        Piece::Text(text) => text.contains(&secret.value),
                        Piece::Var(_) => false,
                    });
                    if !present {
                        continue;
                    }
                    let column = secret.column.get_or_insert_with(|| {
                        let c = namer.fresh(&secret.hint);
                        columns.push(c.clone());
                        c
                    });
                    t.replace(&secret.value, &format!("{FEED}.{column}"), whole);
                }
            });
        }
    }

    /// The data file's columns, in the order they were first needed.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The data file: the columns and one row of placeholders.
    pub fn data_file(&self) -> String {
        let row = vec![PLACEHOLDER; self.columns.len()];
        format!("{}\n{}\n", self.columns.join(","), row.join(","))
    }

    /// Where a recorded secret still appears in `output`, if anywhere (a bug if so).
    pub fn leaked<'a>(&'a self, output: &str) -> Option<&'a str> {
        self.found.iter().map(|s| s.value.as_str()).find(|v| {
            if v.len() >= SUBSTRING_MIN {
                output.contains(v)
            } else {
                output.contains(&format!("\"{v}\""))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "new_password",
            "Pass-Word",
            "pwd",
            "client_secret",
            "access_token",
            "api_key",
            "X-API-Key",
            "X-CSRFToken",
            "Authorization",
            "sessionid",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "author",
            "title",
            "project",
            "username",
            "keyboard",
            "passenger",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
        assert!(is_password_key("passwd") && !is_password_key("token"));
    }

    #[test]
    fn tokens_and_schemes() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.abc_def-123";
        assert_eq!(jwts(&format!("Bearer {jwt}")), vec![jwt]);
        assert!(jwts("eyJ.not.one").is_empty());
        assert_eq!(split_scheme("Bearer abc"), ("Bearer ", "abc"));
        assert_eq!(split_scheme("abc"), ("", "abc"));
        assert_eq!(split_scheme("a b c"), ("", "a b c"));
    }

    #[test]
    fn leaks_are_found() {
        let s = Secrets {
            found: vec![
                Secret {
                    value: "hunter2".to_string(),
                    hint: "password".to_string(),
                    column: None,
                },
                Secret {
                    value: "sk_live_0123456789".to_string(),
                    hint: "key".to_string(),
                    column: None,
                },
            ],
            namer: Namer::default(),
            columns: vec![],
        };
        assert_eq!(s.leaked("json { \"p\": \"hunter2\" }"), Some("hunter2"));
        assert_eq!(s.leaked("# hunter2s are fine as words"), None);
        assert_eq!(
            s.leaked("x sk_live_0123456789x"),
            Some("sk_live_0123456789")
        );
    }
}
