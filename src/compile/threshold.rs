//! Thresholds: `p95(tag list) < 200ms`, `error_rate < 1%`, `rps >= 100`.

use std::collections::BTreeSet;

use super::{Compiler, Context, error, quantity, suggest};
use crate::diagnostic::Diagnostic;
use crate::metrics::threshold::{Comparison, LatencyView, Metric, Selector, Threshold};
use crate::span::Span;
use crate::syntax::ast::{self, CompareOp};

/// The threshold metrics by name (any `pNN` is a percentile too).
pub const METRICS: &[&str] = &[
    "p50",
    "p90",
    "p95",
    "p99",
    "avg",
    "med",
    "min",
    "max",
    "error_rate",
    "rps",
    "requests",
    "corrected_p95",
    "corrected_p99",
    "corrected_med",
    "corrected_max",
];

pub(super) fn compile(
    c: &mut Compiler<'_>,
    t: &ast::Threshold,
    source: String,
    known_names: &[String],
    known_tags: &BTreeSet<String>,
) -> Option<Threshold> {
    // Each part is checked on its own, so that every mistake in the line is reported.
    let view = if t.metric.name.starts_with("corrected_") {
        LatencyView::Corrected
    } else {
        LatencyView::Response
    };
    let metric = c.ok(metric(&t.metric));
    let selector = match &t.selector {
        None => Some(Selector::All),
        Some(ast::Selector::Tag(tag)) => {
            if known_tags.contains(&tag.name) {
                Some(Selector::Tag(tag.name.clone()))
            } else {
                let known: Vec<&str> = known_tags.iter().map(String::as_str).collect();
                let hint = suggest(&tag.name, known.iter().copied());
                let d = error::unknown_threshold_target("tag", &tag.name, tag.span, hint, &known);
                c.error(match hint {
                    Some(h) => d.with_suggestion(tag.span, h),
                    None => d,
                });
                None
            }
        }
        Some(ast::Selector::Name(name)) => c
            .literal(name, "a threshold's request name")
            .and_then(|text| selector_name(c, &text, name.span, false, known_names)),
        Some(ast::Selector::Bare(name)) => {
            selector_name(c, &name.name, name.span, true, known_names)
        }
    };
    let cmp = match t.op {
        CompareOp::Lt => Some(Comparison::Lt),
        CompareOp::Le => Some(Comparison::Le),
        CompareOp::Gt => Some(Comparison::Gt),
        CompareOp::Ge => Some(Comparison::Ge),
        CompareOp::Eq | CompareOp::Ne => {
            c.error(error::equality_on_bound(
                "a threshold",
                t.op.symbol(),
                t.op_span,
                "p95 < 200ms",
            ));
            None
        }
    };
    // The bound's unit depends on the metric: unknown metric, unknown unit.
    let value = match &metric {
        Some(m) => c.ok(bound(m, &t.metric.name, &t.value)),
        None => None,
    };
    let abort_after = match &t.abort_after {
        Some(q) => Some(c.ok(quantity::count(q, "abort after", 1))?),
        None => None,
    };
    Some(Threshold {
        metric: metric?,
        selector: selector?,
        cmp: cmp?,
        value: value?,
        source,
        warn_only: t.warn,
        abort_after,
        view,
        allow_no_data: t.optional,
    })
}

/// `bare`: the name was written without quotes (`p95(/api/)`).
fn selector_name(
    c: &mut Compiler<'_>,
    text: &str,
    span: Span,
    bare: bool,
    known: &[String],
) -> Option<Selector> {
    if known.iter().any(|n| n == text) {
        return Some(Selector::Name(text.to_string()));
    }
    let mut names: Vec<&str> = known.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let hint = suggest(text, names.iter().copied());
    let d = error::unknown_threshold_target("name", text, span, hint, &names);
    c.error(match hint {
        // A bare name stays bare when it can (no space or parenthesis in it).
        Some(h) if bare && !h.contains(|ch: char| ch.is_whitespace() || ch == ')') => {
            d.with_suggestion(span, h)
        }
        Some(h) => d.with_suggestion(span, error::quoted(h)),
        None => d,
    });
    None
}

fn metric(m: &ast::Ident) -> Result<Metric, Diagnostic> {
    let full = m.name.as_str();
    // `corrected_p95`: the same metric, measured from the intended start.
    let (name, corrected) = match full.strip_prefix("corrected_") {
        Some(rest) => (rest, true),
        None => (full, false),
    };
    let unknown = || error::unknown_metric(full, m.span, suggest(full, METRICS.iter().copied()));
    let metric = match name {
        "avg" => Metric::Avg,
        "med" => Metric::Med,
        "min" => Metric::Min,
        "max" => Metric::Max,
        "error_rate" => Metric::ErrorRate,
        "rps" => Metric::Rps,
        "requests" => Metric::Requests,
        _ => match name.strip_prefix('p').and_then(|n| n.parse::<f64>().ok()) {
            Some(p) if p > 0.0 && p <= 100.0 => Metric::Percentile(p),
            _ => return Err(unknown()),
        },
    };
    if corrected && !metric.is_latency() {
        return Err(unknown());
    }
    Ok(metric)
}

/// The bound in the metric's unit: µs for latencies, a fraction for the error rate.
fn bound(metric: &Metric, name: &str, q: &ast::Quantity) -> Result<f64, Diagnostic> {
    let bare = q.text.parse::<f64>().is_ok();
    match metric {
        Metric::Percentile(_) | Metric::Avg | Metric::Med | Metric::Min | Metric::Max => {
            if bare {
                return Err(error::bound_without_unit(
                    name,
                    &q.text,
                    q.span,
                    "a duration",
                    &format!("{}ms", q.text),
                    "seconds or milliseconds",
                ));
            }
            quantity::duration_text(&q.text, false)
                .map(|d| d.as_secs_f64() * 1e6)
                .map_err(|_| {
                    error::threshold_value(name, &q.text, q.span, "a duration like `200ms`")
                })
        }
        // `error_rate < 1` once meant 100 % (a fraction): a bare number is refused.
        Metric::ErrorRate if bare => Err(error::bound_without_unit(
            name,
            &q.text,
            q.span,
            "a percentage",
            &format!("{}%", q.text),
            "a fraction or a percentage",
        )),
        Metric::ErrorRate => quantity::percent(&q.text)
            .ok_or_else(|| error::threshold_value(name, &q.text, q.span, "a percentage like `1%`")),
        Metric::Rps => quantity::rate(q, "rps").map_err(|_| {
            error::threshold_value(name, &q.text, q.span, "requests per second like `100`")
        }),
        Metric::Requests => q.text.parse::<u64>().map(|n| n as f64).map_err(|_| {
            error::threshold_value(name, &q.text, q.span, "a whole number of requests")
        }),
    }
}

/// Compiles a threshold given on the command line, against a compiled plan's names and tags.
/// The request names of the plan have the secrets written in the file masked
/// ([`super::secret::mask_written_secrets`]), so a name given here is masked the same way
/// before it is looked up, and so is the line kept for display.
pub fn compile_threshold_line(text: &str, plan: &crate::ir::Plan) -> Result<Threshold, Diagnostic> {
    let mut t = crate::syntax::parse_threshold(text)?;
    let written = super::secret::written_secrets(plan);
    if let Some(secrets) = &written {
        mask_selector(&mut t, secrets);
    }
    let ctx = Context::default();
    let mut c = Compiler::new(text, &ctx);
    let names: Vec<String> = plan.stats.iter().map(|s| s.name.clone()).collect();
    let tags: BTreeSet<String> = plan
        .stats
        .iter()
        .flat_map(|s| s.tags.iter().cloned())
        .collect();
    let source = match &written {
        Some(secrets) => secrets.redact_all(text.trim()),
        None => text.trim().to_string(),
    };
    match compile(&mut c, &t, source, &names, &tags) {
        Some(th) => Ok(th),
        None => Err(c.diags.into_iter().next().unwrap_or_else(|| {
            Diagnostic::error("kload::syntax", "invalid threshold", t.span, "here")
        })),
    }
}

/// A selector's request name with the file's written secrets masked, as the plan's names are.
fn mask_selector(t: &mut ast::Threshold, secrets: &crate::redact::Secrets) {
    match &mut t.selector {
        Some(ast::Selector::Bare(name)) => name.name = secrets.redact_all(&name.name),
        Some(ast::Selector::Name(template)) => {
            let Some(text) = template.literal() else {
                return;
            };
            let masked = secrets.redact_all(&text);
            if masked != text {
                // One text part, escaped so that the compiler decodes it back to `masked`.
                template.parts = vec![ast::TemplatePart::Text {
                    raw: masked.replace('\\', "\\\\"),
                    span: template.span,
                }];
            }
        }
        Some(ast::Selector::Tag(_)) | None => {}
    }
}
