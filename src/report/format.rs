//! Number formatting shared by the renderers, including Python's, for Locust parity.

/// `mm:ss`, or `h:mm:ss` from an hour on.
pub(crate) fn clock(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// Python's `repr(float)` (what `csv.writer` writes for a float): shortest round-trip
/// digits, always a decimal point or exponent, exponent form below 1e-4 and from 1e16 on
/// (`50.5`, `147.0`, `5e-05`, `1e+16`).
pub(crate) fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: "-1.4523718e2".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci
        .split_once('e')
        .unwrap_or_else(|| unreachable!("{{:e}} always has an exponent: {sci}"));
    let exp: i32 = exp
        .parse()
        .unwrap_or_else(|_| unreachable!("{{:e}} exponent is an integer: {sci}"));
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let body = if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    };
    format!("{sign}{body}")
}

/// Python's `f"{x:2f}"`: six decimals.
pub(crate) fn py_f6(x: f64) -> String {
    format!("{x:.6}")
}

/// Python's `"%d" % x` for a float: truncation toward zero.
pub(crate) fn py_int(x: f64) -> i64 {
    x.trunc() as i64
}

/// ANSI colours, applied only when asked for.
#[derive(Clone, Copy)]
pub(crate) struct Paint {
    pub(crate) enabled: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        let cases: [(f64, &str); 16] = [
            (50.5, "50.5"),
            (147.0, "147.0"),
            (1244.0, "1244.0"),
            (0.0, "0.0"),
            (0.1, "0.1"),
            (145.23718, "145.23718"),
            (16.262626262626263, "16.262626262626263"),
            (0.0001, "0.0001"),
            (0.00005, "5e-05"),
            (0.000012345, "1.2345e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789.0, "123456789.0"),
            (-2.5, "-2.5"),
            (1e300, "1e+300"),
        ];
        for (x, repr) in cases {
            assert_eq!(py_float(x), repr, "repr of {x:e}");
        }
    }

    #[test]
    fn python_formats() {
        assert_eq!(py_f6(12.5), "12.500000");
        assert_eq!(py_f6(0.0), "0.000000");
        assert_eq!(py_int(50.99), 50);
        assert_eq!(py_int(-0.5), 0);
    }

    #[test]
    fn paint_only_when_enabled() {
        assert_eq!(Paint { enabled: false }.red("x"), "x");
        assert_eq!(Paint { enabled: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
