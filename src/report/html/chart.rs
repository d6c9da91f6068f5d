//! Line charts over the run's time as inline SVG, drawn without script: round axis ticks,
//! time in `mm:ss`, gridlines, a legend, and one `<title>` per time slot so that hovering
//! shows the values (the browser's own tooltip).
//!
//! Colours are presentation attributes, not classes, so a chart copied out of the page or
//! printed looks the same.

use std::fmt::Write as _;

use super::escape;
use crate::report::format::clock;

/// Size of the drawing in SVG units; the page scales it to the column's width.
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 270.0;
/// The plot area inside the drawing: room for the legend above, tick labels left and below.
const LEFT: f64 = 58.0;
const RIGHT: f64 = WIDTH - 18.0;
const TOP: f64 = 38.0;
const BOTTOM: f64 = HEIGHT - 30.0;
/// At most this many hover slots: a long run merges neighbouring points into one slot.
const MAX_SLOTS: usize = 600;

/// One line of a chart.
pub(super) struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// Stroke colour, `#rrggbb`.
    pub color: &'a str,
    /// One value per time point; `None` leaves a gap.
    pub values: Vec<Option<f64>>,
    /// Shade the area under the line.
    pub area: bool,
    /// Draw the line dashed (a second view of the same figure, in the same colour).
    pub dashed: bool,
}

/// The dash pattern of dashed lines and their legend swatches.
const DASH: &str = "7 4";

/// A chart: its time points and lines.
pub(super) struct Chart<'a> {
    /// Element id, also the prefix of the chart's inner ids.
    pub id: &'a str,
    /// What the chart shows, for screen readers.
    pub title: &'a str,
    /// Unit shown after values in tooltips (`req/s`, `ms`, ``).
    pub unit: &'a str,
    /// Decimals of values in tooltips.
    pub decimals: usize,
    /// The y axis counts whole things (users): no fractional ticks.
    pub integer: bool,
    /// Time of each point, ms since the run started.
    pub times_ms: &'a [u64],
    /// The lines, drawn in order.
    pub series: Vec<Series<'a>>,
}

/// The chart as an `<svg>` element, or a `<p class="chart-note">` saying why there is
/// nothing to draw (fewer than two time points, or no values at all).
pub(super) fn render(chart: &Chart) -> String {
    let times = chart.times_ms;
    let t_max = times.iter().copied().max().unwrap_or(0);
    if times.len() < 2 || t_max == 0 {
        return note(match times.first() {
            None => "No data over time: the run ended before the first one-second tick.".into(),
            Some(&t) => format!(
                "Only one point in time ({}): not enough for a chart. The tables below hold the \
                 run's statistics.",
                clock(t)
            ),
        });
    }
    let y_max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let Some(y_max) = y_max else {
        return note("No request completed during the run: nothing to draw.".into());
    };
    let y = Axis::new(y_max, chart.integer);
    let x = TimeAxis::new(t_max);
    let px = |t: u64| LEFT + (RIGHT - LEFT) * t as f64 / t_max as f64;
    let py = |v: f64| BOTTOM - (BOTTOM - TOP) * (v / y.top).clamp(0.0, 1.0);

    let mut svg = String::with_capacity(16 * 1024);
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="12">"#,
        id = chart.id
    );
    let _ = write!(
        svg,
        r#"<title id="{}-title">{}</title>"#,
        chart.id,
        escape(chart.title)
    );

    // Gridlines and y tick labels.
    svg.push_str(r##"<g class="grid" stroke="#e5e7eb" stroke-width="1">"##);
    for &v in &y.ticks {
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{RIGHT}" y1="{0:.1}" y2="{0:.1}"/>"#,
            py(v)
        );
    }
    for &t in &x.ticks {
        let _ = write!(
            svg,
            r#"<line x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{BOTTOM}" stroke-dasharray="2 4"/>"#,
            px(t)
        );
    }
    svg.push_str("</g>");
    svg.push_str(r##"<g class="y-labels" fill="#6b7280" text-anchor="end">"##);
    for &v in &y.ticks {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT - 8.0,
            py(v) + 4.0,
            y.label(v)
        );
    }
    svg.push_str("</g>");
    svg.push_str(r##"<g class="x-labels" fill="#6b7280" text-anchor="middle">"##);
    for &t in &x.ticks {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            px(t),
            BOTTOM + 20.0,
            clock(t)
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<line class="axis" x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="#9ca3af" stroke-width="1"/>"##
    );

    // Lines, with gaps where a value is missing; an isolated value is a dot.
    for s in &chart.series {
        let segments = segments(times, &s.values);
        if s.area {
            for seg in segments.iter().filter(|seg| seg.len() > 1) {
                let mut d = String::new();
                let _ = write!(d, "M{:.1},{BOTTOM:.1}", px(seg[0].0));
                for &(t, v) in seg {
                    let _ = write!(d, "L{:.1},{:.1}", px(t), py(v));
                }
                let _ = write!(d, "L{:.1},{BOTTOM:.1}Z", px(seg[seg.len() - 1].0));
                let _ = write!(
                    svg,
                    r#"<path class="area" d="{d}" fill="{}" fill-opacity="0.12" stroke="none"/>"#,
                    s.color
                );
            }
        }
        let mut d = String::new();
        for seg in segments.iter().filter(|seg| seg.len() > 1) {
            for (i, &(t, v)) in seg.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1}",
                    if i == 0 { 'M' } else { 'L' },
                    px(t),
                    py(v)
                );
            }
        }
        if !d.is_empty() {
            let _ = write!(
                svg,
                r#"<path class="line{}" d="{d}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"{}/>"#,
                if s.dashed { " dashed" } else { "" },
                s.color,
                dash_attributes(s.dashed),
            );
        }
        for seg in segments.iter().filter(|seg| seg.len() == 1) {
            let (t, v) = seg[0];
            let _ = write!(
                svg,
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#,
                px(t),
                py(v),
                s.color
            );
        }
    }

    // Legend: a short stroke in each series' colour and its label.
    svg.push_str(r##"<g class="legend" fill="#374151">"##);
    let mut lx = LEFT;
    for s in &chart.series {
        let _ = write!(
            svg,
            r#"<line class="swatch" x1="{lx:.1}" x2="{:.1}" y1="16" y2="16" stroke="{}" stroke-width="3"{}/><text x="{:.1}" y="20">{}</text>"#,
            lx + 18.0,
            s.color,
            dash_attributes(s.dashed),
            lx + 24.0,
            escape(s.label)
        );
        // No text metrics without a browser: about 7 units per character at 12 px.
        lx += 24.0 + 7.0 * s.label.chars().count() as f64 + 22.0;
    }
    svg.push_str("</g>");

    // Hover slots: a transparent column per point (or per group of points) with a tooltip.
    svg.push_str(r#"<g class="hover">"#);
    let step = times.len().div_ceil(MAX_SLOTS);
    let starts: Vec<usize> = (0..times.len()).step_by(step).collect();
    for (k, &i) in starts.iter().enumerate() {
        let last = starts.get(k + 1).map_or(times.len() - 1, |&next| next - 1);
        let left = if i == 0 {
            LEFT
        } else {
            (px(times[i - 1]) + px(times[i])) / 2.0
        };
        let right = if last + 1 >= times.len() {
            RIGHT
        } else {
            (px(times[last]) + px(times[last + 1])) / 2.0
        };
        let mut tip = clock(times[last]);
        for s in &chart.series {
            let value = s.values[last].map_or_else(
                || "–".to_owned(),
                |v| {
                    let unit = if chart.unit.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", chart.unit)
                    };
                    format!("{v:.prec$}{unit}", prec = chart.decimals)
                },
            );
            let _ = write!(tip, "\n{}: {value}", s.label);
        }
        let _ = write!(
            svg,
            r#"<rect x="{left:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="transparent"><title>{}</title></rect>"#,
            (right - left).max(0.5),
            BOTTOM - TOP,
            escape(&tip)
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// Round caps for a solid line, the dash pattern (with flat caps, so the gaps show) for a
/// dashed one.
fn dash_attributes(dashed: bool) -> String {
    if dashed {
        format!(r#" stroke-dasharray="{DASH}""#)
    } else {
        r#" stroke-linecap="round""#.to_owned()
    }
}

fn note(text: String) -> String {
    format!(r#"<p class="chart-note">{}</p>"#, escape(&text))
}

/// Runs of consecutive points that have a value: `(time_ms, value)`.
fn segments(times: &[u64], values: &[Option<f64>]) -> Vec<Vec<(u64, f64)>> {
    let mut out: Vec<Vec<(u64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (&t, v) in times.iter().zip(values) {
        match v {
            Some(v) => current.push((t, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A value axis from 0 to a round top, with round ticks (1, 2 or 5 times a power of ten).
struct Axis {
    top: f64,
    step: f64,
    ticks: Vec<f64>,
}

impl Axis {
    /// About five ticks covering `0..=max`.
    fn new(max: f64, integer: bool) -> Axis {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let mut step = nice_step(max / 5.0);
        if integer {
            step = step.max(1.0);
        }
        let n = (max / step - 1e-9).ceil().max(1.0) as u32;
        let ticks = (0..=n).map(|i| f64::from(i) * step).collect();
        Axis {
            top: f64::from(n) * step,
            step,
            ticks,
        }
    }

    /// A tick label: `0`, `0.5`, `250`, `1500`, `12k`, `2.5k`.
    fn label(&self, v: f64) -> String {
        if self.step >= 1000.0 && v != 0.0 {
            let k = v / 1000.0;
            return format!("{}k", trim(k, decimals(self.step / 1000.0)));
        }
        trim(v, decimals(self.step))
    }
}

/// The smallest of 1, 2, 5 × 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 + 1e-9 {
        1.0
    } else if fraction <= 2.0 + 1e-9 {
        2.0
    } else if fraction <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Decimals needed to print multiples of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

fn trim(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// The time axis: 0 to the last point, ticks every round number of seconds or minutes.
struct TimeAxis {
    ticks: Vec<u64>,
}

impl TimeAxis {
    fn new(max_ms: u64) -> TimeAxis {
        const STEPS_S: [u64; 16] = [
            1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
        ];
        let max_s = max_ms as f64 / 1000.0;
        let step_s = STEPS_S
            .iter()
            .copied()
            .find(|&s| max_s / s as f64 <= 8.0)
            .unwrap_or_else(|| ((max_s / 8.0 / 21600.0).ceil() as u64).max(1) * 21600);
        let step = step_s * 1000;
        TimeAxis {
            ticks: (0..=max_ms / step).map(|i| i * step).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart<'a>(times: &'a [u64], values: Vec<Option<f64>>) -> Chart<'a> {
        Chart {
            id: "c",
            title: "Requests <per> second",
            unit: "req/s",
            decimals: 1,
            integer: false,
            times_ms: times,
            series: vec![Series {
                label: "RPS",
                color: "#2563eb",
                values,
                area: false,
                dashed: false,
            }],
        }
    }

    #[test]
    fn nice_ticks() {
        let cases: [(f64, bool, f64, f64); 8] = [
            (45.15, false, 10.0, 50.0),
            (1.0, false, 0.2, 1.0),
            (0.0, false, 0.2, 1.0),
            (10.0, true, 2.0, 10.0),
            (3.0, true, 1.0, 3.0),
            (30_000.0, false, 10_000.0, 30_000.0),
            (823.0, false, 200.0, 1000.0),
            (0.07, false, 0.02, 0.08),
        ];
        for (max, integer, step, top) in cases {
            let a = Axis::new(max, integer);
            assert!((a.step - step).abs() < 1e-9, "step for {max}: {}", a.step);
            assert!((a.top - top).abs() < 1e-9, "top for {max}: {}", a.top);
            assert_eq!(a.ticks.len(), (top / step).round() as usize + 1);
        }
        let a = Axis::new(30_000.0, false);
        let labels: Vec<String> = a.ticks.iter().map(|&v| a.label(v)).collect();
        assert_eq!(labels, ["0", "10k", "20k", "30k"]);
        let a = Axis::new(1.0, false);
        assert_eq!(a.label(0.4), "0.4");
    }

    #[test]
    fn time_ticks_are_round() {
        assert_eq!(TimeAxis::new(12_000).ticks.len(), 7); // every 2 s
        assert_eq!(TimeAxis::new(600_000).ticks[1], 120_000); // every 2 min
        assert_eq!(TimeAxis::new(3_600_000).ticks[1], 600_000);
        assert_eq!(clock(75_000), "01:15");
        assert_eq!(clock(3_725_000), "1:02:05");
    }

    #[test]
    fn no_points_or_one_point_give_a_note() {
        let none = render(&chart(&[], vec![]));
        assert!(none.starts_with(r#"<p class="chart-note">"#), "{none}");
        assert!(!none.contains("<svg"));
        let one = render(&chart(&[1000], vec![Some(3.0)]));
        assert!(one.contains("Only one point in time (00:01)"), "{one}");
        assert!(!one.contains("<svg"));
        let empty = render(&chart(&[1000, 2000], vec![None, None]));
        assert!(empty.contains("No request completed"), "{empty}");
    }

    #[test]
    fn many_points_draw_a_line_with_gaps_and_dots() {
        let times: Vec<u64> = (1..=6).map(|s| s * 1000).collect();
        let values = vec![Some(1.0), Some(2.0), None, Some(4.0), None, Some(5.0)];
        let svg = render(&chart(&times, values));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        // One path with one segment (two points), two isolated dots.
        assert_eq!(svg.matches(r#"class="line""#).count(), 1);
        let d = svg.split(r#"class="line" d=""#).nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 1, "{d}");
        assert_eq!(svg.matches(r#"class="dot""#).count(), 2);
        // A hover slot per point, with a tooltip naming the time and value.
        assert_eq!(svg.matches("<rect").count(), 6);
        assert!(svg.contains("<title>00:02\nRPS: 2.0 req/s</title>"));
        assert!(svg.contains("<title>00:03\nRPS: –</title>"));
        assert!(svg.contains("Requests &lt;per&gt; second"));
    }

    #[test]
    fn a_dashed_series_is_dashed_in_the_line_and_the_legend() {
        let times: Vec<u64> = (1..=4).map(|s| s * 1000).collect();
        let mut c = chart(&times, vec![Some(1.0); 4]);
        c.series.push(Series {
            label: "corrected",
            color: "#2563eb",
            values: vec![Some(3.0); 4],
            area: false,
            dashed: true,
        });
        let svg = render(&c);
        assert_eq!(svg.matches(r#"class="line""#).count(), 1, "{svg}");
        assert_eq!(svg.matches(r#"class="line dashed""#).count(), 1, "{svg}");
        assert_eq!(svg.matches(r#"stroke-dasharray="7 4""#).count(), 2, "{svg}");
        // The axis reaches the dashed line's values too, and tooltips show both.
        assert!(svg.contains(">3</text>"), "{svg}");
        assert!(
            svg.contains("RPS: 1.0 req/s\ncorrected: 3.0 req/s"),
            "{svg}"
        );
    }

    #[test]
    fn long_runs_merge_hover_slots() {
        let times: Vec<u64> = (1..=3600).map(|s| s * 1000).collect();
        let svg = render(&chart(&times, vec![Some(1.0); 3600]));
        assert_eq!(svg.matches("<rect").count(), MAX_SLOTS);
    }
}
