//! Reading quantities (`30s`, `200KB`, `1%`, `20/s`) where their meaning is known.

use std::time::Duration;

use super::error;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::syntax::ast::Quantity;

const DURATION_UNITS: &[&str] = &["ms", "s", "m", "h"];

/// Splits `1h30m` into `[(1, "h"), (30, "m")]`; a bare number gives one part with no unit.
fn parts(text: &str) -> Option<Vec<(f64, &str)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        out.push((num.parse::<f64>().ok()?, unit));
        rest = after;
    }
    Some(out)
}

/// A duration with units. `allow_bare` accepts a plain number as seconds (Locust's CLI).
pub fn duration_text(
    text: &str,
    allow_bare: bool,
) -> Result<Duration, (String, Option<&'static str>)> {
    let parts = parts(text).ok_or_else(|| ("not a number with a unit".to_string(), None))?;
    let mut total = 0f64;
    for (value, unit) in &parts {
        if *value < 0.0 {
            return Err(("durations cannot be negative".to_string(), None));
        }
        let factor = match *unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" if allow_bare && parts.len() == 1 => 1.0,
            "" => return Err(("a duration needs a unit".to_string(), Some("s"))),
            other => {
                let hint = did_you_mean(other, DURATION_UNITS.iter().copied()).or(match other {
                    "sec" | "secs" | "second" | "seconds" => Some("s"),
                    "min" | "mins" | "minute" | "minutes" => Some("m"),
                    "hr" | "hour" | "hours" => Some("h"),
                    _ => None,
                });
                return Err((format!("unknown unit `{other}`"), hint));
            }
        };
        total += value * factor;
    }
    if !total.is_finite() || total > 31_536_000.0 {
        return Err(("longer than a year".to_string(), None));
    }
    Ok(Duration::from_secs_f64(total))
}

pub fn duration(q: &Quantity) -> Result<Duration, Diagnostic> {
    duration_or_suggest(q, "s")
}

/// A response-time bound (`check duration < 500ms`): a bare number is suggested back in
/// milliseconds, the unit response times are read in.
pub fn response_time(q: &Quantity) -> Result<Duration, Diagnostic> {
    duration_or_suggest(q, "ms")
}

/// A duration; a bare number gets `bare_unit` in the suggestion.
fn duration_or_suggest(q: &Quantity, bare_unit: &'static str) -> Result<Duration, Diagnostic> {
    duration_text(&q.text, false).map_err(|(reason, hint)| {
        let hint = match hint {
            Some("s") if q.text.parse::<f64>().is_ok() => Some(bare_unit),
            other => other,
        };
        let suggestion = hint.map(|unit| {
            let number: String = q
                .text
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            format!("{number}{unit}")
        });
        error::invalid_duration(&q.text, q.span, &reason, suggestion.as_deref())
    })
}

/// A whole number, at least `min` and small enough for a `u32` (users, counts, stages).
pub fn count(q: &Quantity, what: &str, min: u64) -> Result<u64, Diagnostic> {
    let bad = |expected: String| {
        error::invalid_number(
            what,
            &q.text,
            q.span,
            &expected,
            &format!("{what} {}", min.max(1) * 10),
        )
    };
    match q.text.parse::<u64>() {
        Ok(n) if n > u64::from(u32::MAX) => Err(bad(format!("a whole number up to {}", u32::MAX))),
        Ok(n) if n >= min => Ok(n),
        _ => Err(bad(format!("a whole number of at least {min}"))),
    }
}

/// A plain number greater than zero.
pub fn positive(q: &Quantity, what: &str) -> Result<f64, Diagnostic> {
    q.text
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0 && n.is_finite())
        .ok_or_else(|| {
            error::invalid_number(
                what,
                &q.text,
                q.span,
                "a number above 0",
                &format!("{what} 10"),
            )
        })
}

/// A rate per second: `20/s`, `600/m`, `5/h` or a bare number (per second).
pub fn rate(q: &Quantity, what: &str) -> Result<f64, Diagnostic> {
    let bad = || {
        error::invalid_number(
            what,
            &q.text,
            q.span,
            "a rate like `20/s` or `600/m`",
            &format!("{what} 20/s"),
        )
    };
    let (num, per) = match q.text.split_once('/') {
        Some((n, unit)) => (n, unit),
        None => (q.text.as_str(), "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match per {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    if n <= 0.0 || !n.is_finite() {
        return Err(bad());
    }
    Ok(n / secs)
}

/// A percentage as a fraction: `1%` → 0.01. The `%` is required.
pub fn percent(text: &str) -> Option<f64> {
    text.strip_suffix('%')?
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=100.0).contains(v))
        .map(|v| v / 100.0)
}

/// A size in bytes: `512B`, `200KB`, `1MB`, `64KiB`; a bare number is bytes.
pub fn size(q: &Quantity) -> Result<usize, Diagnostic> {
    let text = q.text.as_str();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let factor: f64 = match unit {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        _ => return Err(error::invalid_size(text, q.span)),
    };
    let n: f64 = num.parse().map_err(|_| error::invalid_size(text, q.span))?;
    let bytes = n * factor;
    if !(0.0..=100e6).contains(&bytes) {
        return Err(error::invalid_size(text, q.span));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            duration_text("1h30m", false).unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            duration_text("500ms", false).unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            duration_text("1.5s", false).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(duration_text("30", true).unwrap(), Duration::from_secs(30));
        assert!(duration_text("30", false).is_err());
        assert_eq!(duration_text("5sec", false).unwrap_err().1, Some("s"));
        assert!(duration_text("-1s", false).is_err());
    }

    #[test]
    fn percents_and_rates() {
        assert_eq!(percent("1%"), Some(0.01));
        assert_eq!(percent("0.5"), None);
        assert_eq!(percent("1"), None);
        assert_eq!(percent("150%"), None);
        let q = Quantity {
            text: "600/m".into(),
            span: Default::default(),
        };
        assert_eq!(rate(&q, "rate").unwrap(), 10.0);
    }
}
