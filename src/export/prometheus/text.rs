//! The Prometheus text exposition format 0.0.4 (`/metrics` for any scraper). One `# HELP`
//! and `# TYPE` per family, then its series. Histograms are classic here (`_bucket` with
//! `le`, `_sum`, `_count`): the text format cannot carry native buckets.

use std::fmt::Write as _;

use super::exposition::{CLASSIC_BOUNDS, Exposition, Value};

/// The `Content-Type` of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders `exposition` in the text format.
pub fn render(exposition: &Exposition) -> String {
    let mut out = String::new();
    for family in &exposition.families {
        let name = family.def.name;
        let _ = writeln!(out, "# HELP {name} {}", escape_help(family.def.help));
        let _ = writeln!(out, "# TYPE {name} {}", family.def.kind.as_str());
        for series in &family.series {
            let labels: Vec<(&str, &str)> = exposition.labels(family, series).collect();
            match &series.value {
                Value::Number(v) => line(&mut out, name, "", &labels, None, *v),
                Value::Histogram(h) => {
                    let bucket = |out: &mut String, le: &str, n: u64| {
                        line(out, name, "_bucket", &labels, Some(le), n as f64);
                    };
                    for (bound, &n) in CLASSIC_BOUNDS.iter().zip(&h.classic) {
                        bucket(&mut out, &number(*bound), n);
                    }
                    bucket(&mut out, "+Inf", h.native.count);
                    line(&mut out, name, "_sum", &labels, None, h.native.sum);
                    line(
                        &mut out,
                        name,
                        "_count",
                        &labels,
                        None,
                        h.native.count as f64,
                    );
                }
            }
        }
    }
    out
}

/// `name{labels} value`, `le` last when given.
fn line(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    le: Option<&str>,
    v: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    let mut pairs = labels
        .iter()
        .copied()
        .chain(le.map(|le| ("le", le)))
        .peekable();
    if pairs.peek().is_some() {
        out.push('{');
        for (i, (k, value)) in pairs.enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label_value(value));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&number(v));
    out.push('\n');
}

/// A sample value or bound as Prometheus writes them: shortest round-trip decimal, `+Inf`,
/// `-Inf`, `NaN`.
pub(crate) fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text escapes backslash and line feed.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::prometheus::exposition::tests::Fixture;

    #[test]
    fn the_fixture_renders_like_the_golden_file() {
        let f = Fixture::new();
        let text = render(&Exposition::collect(&f.frame(), 5));
        crate::golden::check("prometheus", "metrics.txt", text.as_bytes());
    }

    #[test]
    fn every_family_has_one_help_and_type_line_before_its_samples() {
        let f = Fixture::new();
        let text = render(&Exposition::collect(&f.frame(), 5));
        let mut seen = Vec::new();
        let mut current = "";
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!seen.contains(&name), "{name} twice");
                seen.push(name);
                current = name;
            } else if let Some(rest) = l.strip_prefix("# TYPE ") {
                assert!(rest.starts_with(current), "{l}");
            } else {
                assert!(l.starts_with(current), "{l} outside its family {current}");
            }
        }
        assert_eq!(seen.len(), 8);
    }

    #[test]
    fn values_and_labels_are_escaped() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_help("x\\y\nz \""), "x\\\\y\\nz \"");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.0005), "0.0005");
        assert_eq!(number(2.16), "2.16");
    }
}
