//! Values in HTML pages that a later request sends back: the hidden fields of forms (Django's
//! `csrfmiddlewaretoken`, Rails' `authenticity_token`, Laravel's `_token`) and `<meta>` tags
//! (`<meta name="csrf-token" content="...">`). Each comes with a regular expression that finds
//! the same field in the page a replay gets, written from the page's own markup.

use std::sync::LazyLock;

use regex::Regex;

/// A value found in a page.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's `name`, which names the variable.
    pub name: String,
    pub value: String,
    /// A regular expression whose first group is the value, in this page and in another
    /// rendering of it.
    pub pattern: String,
}

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<(input|meta)\b[^>]*>").unwrap_or_else(|e| unreachable!("valid: {e}"))
});
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#)
        .unwrap_or_else(|e| unreachable!("valid: {e}"))
});

/// The fields of `<input name=... value=...>` and `<meta name=... content=...>` tags.
pub fn fields(html: &str) -> Vec<Field> {
    let mut out = Vec::new();
    for tag in TAG.captures_iter(html) {
        let (Some(whole), Some(kind)) = (tag.get(0), tag.get(1)) else {
            continue;
        };
        let value_attr = if kind.as_str().eq_ignore_ascii_case("meta") {
            "content"
        } else {
            "value"
        };
        let text = whole.as_str();
        let mut name = None;
        let mut value = None;
        for a in ATTRIBUTE.captures_iter(text) {
            let (Some(all), Some(key)) = (a.get(0), a.get(1)) else {
                continue;
            };
            let (content, quote) = match (a.get(2), a.get(3), a.get(4)) {
                (Some(c), _, _) => (c, Some('"')),
                (_, Some(c), _) => (c, Some('\'')),
                (_, _, Some(c)) => (c, None),
                _ => continue,
            };
            if key.as_str().eq_ignore_ascii_case("name") {
                name = Some((content.as_str().to_string(), all.start(), all.end()));
            } else if key.as_str().eq_ignore_ascii_case(value_attr) {
                value = Some((content, quote, all.start(), all.end()));
            }
        }
        let (Some((name, n_start, n_end)), Some((content, quote, v_start, v_end))) = (name, value)
        else {
            continue;
        };
        // Entities would have to be decoded; tokens do not have them.
        if content.as_str().contains('&') || content.as_str().is_empty() {
            continue;
        }
        let group = match quote {
            Some('"') => r#""([^"]*)""#.to_string(),
            Some(_) => "'([^']*)'".to_string(),
            None => r"([^\s>]+)".to_string(),
        };
        // From the first of the two attributes to the end of the other, the value a group.
        let opening = content.start() - usize::from(quote.is_some());
        let pattern = if n_start < v_start {
            format!("{}{group}", regex::escape(&text[n_start..opening]))
        } else {
            format!(
                "{}{group}{}",
                regex::escape(&text[v_start..opening]),
                regex::escape(&text[v_end..n_end])
            )
        };
        out.push(Field {
            name,
            value: content.as_str().to_string(),
            pattern,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_group(pattern: &str, html: &str) -> Option<String> {
        Regex::new(pattern)
            .unwrap()
            .captures(html)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    }

    #[test]
    fn hidden_fields_and_meta_tags() {
        let page = r#"<html><head><meta name="csrf-token" content="Mt0k-3n_42xyz"></head>
            <form><input type="hidden" name="csrfmiddlewaretoken" value="A1b2C3d4E5">
            <INPUT value='v-9' name='authenticity_token' type=hidden>
            <input name=plain value=abc123>
            <input name="q" value=""><input name="x" value="a&amp;b"><input type="text"></form>"#;
        let found = fields(page);
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("csrf-token", "Mt0k-3n_42xyz"),
                ("csrfmiddlewaretoken", "A1b2C3d4E5"),
                ("authenticity_token", "v-9"),
                ("plain", "abc123"),
            ]
        );
        assert_eq!(
            found[1].pattern,
            r#"name="csrfmiddlewaretoken" value="([^"]*)""#
        );
        // Each pattern finds the field again in another rendering of the page.
        let rendered = page
            .replace("Mt0k-3n_42xyz", "NEW1")
            .replace("A1b2C3d4E5", "NEW2")
            .replace("v-9", "NEW3")
            .replace("abc123", "NEW4");
        for (f, new) in found.iter().zip(["NEW1", "NEW2", "NEW3", "NEW4"]) {
            assert_eq!(
                first_group(&f.pattern, &rendered).as_deref(),
                Some(new),
                "{}",
                f.pattern
            );
        }
    }
}
