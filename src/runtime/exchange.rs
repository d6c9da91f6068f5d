//! What `kload smoke -v` shows of a request: the request as sent and the response as
//! received, with credentials masked and bodies cut to an excerpt.
//!
//! Recorded only when a session asks for it (smoke runs); a load run never builds one.
//! Header values that are credentials (`Authorization`, `Cookie`, `Set-Cookie`, API keys, any
//! header the scenario renders as a secret) are replaced by [`crate::redact::MASK`] here,
//! and the user's secrets are masked again in every text before it is printed
//! ([`Exchange::redacted`]).

use std::fmt::Write as _;

use reqwest::header::HeaderMap;

use crate::redact::MASK;
use crate::redact::is_secret_header;

/// The most bytes of a body shown.
pub const BODY_EXCERPT: usize = 4096;

/// One request and, when one came, its response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub response: Option<ResponseDump>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseDump {
    pub status: u16,
    /// Set when redirects were followed to another URL.
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Exchange {
    pub fn request(
        method: &reqwest::Method,
        url: &reqwest::Url,
        headers: &HeaderMap,
        body: Option<Body<'_>>,
    ) -> Exchange {
        Exchange {
            method: method.to_string(),
            url: url.to_string(),
            request_headers: shown_headers(headers),
            request_body: body.map(|b| match b {
                Body::Bytes(b) => mask_fields(&excerpt(b)),
                Body::Multipart => "(a multipart form)".to_string(),
            }),
            response: None,
        }
    }

    pub fn respond(
        &mut self,
        status: u16,
        url: &reqwest::Url,
        headers: &HeaderMap,
        body: Option<&[u8]>,
    ) {
        let url = url.as_str();
        self.response = Some(ResponseDump {
            status,
            url: (url != self.url).then(|| url.to_string()),
            headers: shown_headers(headers),
            body: body
                .filter(|b| !b.is_empty())
                .map(|b| mask_fields(&excerpt(b))),
        });
    }

    /// Every text passed through `redact` (a user's secrets become `***`).
    pub fn redacted(mut self, redact: impl Fn(&str) -> String) -> Exchange {
        let fix = |s: &mut String| *s = redact(s);
        fix(&mut self.url);
        for (_, v) in &mut self.request_headers {
            fix(v);
        }
        if let Some(b) = &mut self.request_body {
            fix(b);
        }
        if let Some(r) = &mut self.response {
            if let Some(u) = &mut r.url {
                fix(u);
            }
            for (_, v) in &mut r.headers {
                fix(v);
            }
            if let Some(b) = &mut r.body {
                fix(b);
            }
        }
        self
    }

    /// As printed: `> ` lines for the request, `< ` lines for the response, bodies indented.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "> {} {}", self.method, self.url);
        for (k, v) in &self.request_headers {
            let _ = writeln!(out, "> {k}: {v}");
        }
        if let Some(b) = &self.request_body {
            body_lines(&mut out, b);
        }
        match &self.response {
            None => out.push_str("< (no response)\n"),
            Some(r) => {
                let _ = write!(out, "< {}", r.status);
                if let Some(reason) = reqwest::StatusCode::from_u16(r.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                {
                    let _ = write!(out, " {reason}");
                }
                if let Some(u) = &r.url {
                    let _ = write!(out, " (from {u})");
                }
                out.push('\n');
                for (k, v) in &r.headers {
                    let _ = writeln!(out, "< {k}: {v}");
                }
                if let Some(b) = &r.body {
                    body_lines(&mut out, b);
                }
            }
        }
        out
    }
}

/// A request body, as the exchange sees it.
pub enum Body<'a> {
    Bytes(&'a [u8]),
    Multipart,
}

fn body_lines(out: &mut String, body: &str) {
    for line in body.lines() {
        let _ = writeln!(out, "    {line}");
    }
}

/// Headers in order, credentials masked (a cookie keeps its name: `sid=***; Path=/`).
fn shown_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str();
            let value = if name.eq_ignore_ascii_case("set-cookie") {
                masked_cookie(v.to_str().unwrap_or(""))
            } else if v.is_sensitive() || is_secret_header(name) {
                MASK.to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name.to_string(), value)
        })
        .collect()
}

fn masked_cookie(value: &str) -> String {
    let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
    let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
    if attributes.is_empty() {
        format!("{name}={MASK}")
    } else {
        format!("{name}={MASK};{attributes}")
    }
}

/// Masks the values of fields whose names say they hold a credential (`"password": "…"`,
/// `"refresh_token": "…"`, `api_key=…`), in JSON and in form-encoded bodies: a dump shows
/// what a login answered without showing the token, even one the scenario never uses.
fn mask_fields(body: &str) -> String {
    static JSON: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(r#"("{CREDENTIAL}"\s*:\s*)"(?:[^"\\]|\\.)*""#))
            .expect("a valid pattern")
    });
    static FORM: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(r"(^|[&?])({CREDENTIAL}=)[^&\s]*")).expect("a valid pattern")
    });
    let json = JSON.replace_all(body, format!(r#"${{1}}"{MASK}""#));
    FORM.replace_all(&json, format!("${{1}}${{2}}{MASK}"))
        .into_owned()
}

/// A field name that holds a credential.
const CREDENTIAL: &str =
    r"(?i:[\w.-]*(?:password|passwd|secret|token|access|refresh|api[_-]?key|session)[\w.-]*)";

/// The first [`BODY_EXCERPT`] bytes as text (cut on a character boundary), with what was cut.
fn excerpt(body: &[u8]) -> String {
    let cut = body.len() > BODY_EXCERPT;
    let head = &body[..body.len().min(BODY_EXCERPT)];
    let mut text = match std::str::from_utf8(head) {
        Ok(s) => s.to_string(),
        // Cut in the middle of a character: drop the partial one.
        Err(e) if cut && e.error_len().is_none() => {
            String::from_utf8_lossy(&head[..e.valid_up_to()]).into_owned()
        }
        Err(_) => return format!("({} bytes of binary data)", body.len()),
    };
    if cut {
        let _ = write!(text, "\n… ({} more bytes)", body.len() - BODY_EXCERPT);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn credentials_are_masked_and_bodies_cut() {
        let url = reqwest::Url::parse("http://127.0.0.1:1/api/login/").unwrap();
        let mut sent = headers(&[
            ("authorization", "Bearer eyJtoken"),
            ("accept", "application/json"),
        ]);
        let mut custom = HeaderValue::from_static("abc123");
        custom.set_sensitive(true);
        sent.insert("x-custom", custom);
        let mut x = Exchange::request(
            &reqwest::Method::POST,
            &url,
            &sent,
            Some(Body::Bytes(br#"{"username":"ana","password":"pw-1234"}"#)),
        );
        let big = "é".repeat(BODY_EXCERPT); // 2 bytes each: cut mid-character
        x.respond(
            400,
            &url,
            &headers(&[
                ("set-cookie", "sessionid=s3cr3t; Path=/; HttpOnly"),
                ("content-type", "text/plain"),
            ]),
            Some(big.as_bytes()),
        );
        let x = x.redacted(|s| s.replace("pw-1234", MASK));
        let text = x.render();
        assert!(text.starts_with(
            "> POST http://127.0.0.1:1/api/login/\n> authorization: ***\n> accept: application/json\n> x-custom: ***\n    {\"username\":\"ana\",\"password\":\"***\"}\n< 400 Bad Request\n< set-cookie: sessionid=***; Path=/; HttpOnly\n< content-type: text/plain\n"
        ), "{text}");
        assert!(text.ends_with(&format!("\n    … ({} more bytes)\n", BODY_EXCERPT)));
        assert!(!text.contains("eyJtoken") && !text.contains("s3cr3t") && !text.contains("abc123"));
    }

    #[test]
    fn credential_fields_are_masked_in_json_and_form_bodies() {
        assert_eq!(
            mask_fields(
                r#"{"access": "eyJ.a\"b", "refresh":"r-1", "user": {"apiKey": "k"}, "name": "ana"}"#
            ),
            r#"{"access": "***", "refresh":"***", "user": {"apiKey": "***"}, "name": "ana"}"#
        );
        assert_eq!(
            mask_fields("username=ana&password=hunter2&next=/"),
            "username=ana&password=***&next=/"
        );
        assert_eq!(mask_fields("no credentials here"), "no credentials here");
    }

    #[test]
    fn binary_bodies_and_missing_responses_are_named() {
        let url = reqwest::Url::parse("http://127.0.0.1:1/a").unwrap();
        let mut x = Exchange::request(&reqwest::Method::GET, &url, &HeaderMap::new(), None);
        assert_eq!(x.render(), "> GET http://127.0.0.1:1/a\n< (no response)\n");
        let other = reqwest::Url::parse("http://127.0.0.1:1/b").unwrap();
        x.respond(200, &other, &HeaderMap::new(), Some(&[0xff, 0xfe, 0, 1]));
        assert_eq!(
            x.render(),
            "> GET http://127.0.0.1:1/a\n< 200 OK (from http://127.0.0.1:1/b)\n    (4 bytes of binary data)\n"
        );
    }
}
