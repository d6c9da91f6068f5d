//! Prometheus' data model of one frame: metric families of labelled series. Built once per
//! frame ([`Exposition::collect`]) and rendered by the text format, the protobuf scrape
//! format and remote write.

use hdrhistogram::Histogram;

use super::frame::MetricsFrame;
use super::native::{Bucketer, NativeHistogram};
use super::options::is_valid_label_name;

/// How Prometheus should treat a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up (resets when the run restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution: native buckets for remote write and protobuf scrapes, fixed classic
    /// buckets (`_bucket`, `_sum`, `_count`) in the text format.
    Histogram,
}

impl MetricKind {
    /// The word of the text format's `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// One metric kload exports: its name, type, help text and own labels.
#[derive(Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Full name, `kload_` prefix and base unit included.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Labels of its own, after the common ones.
    pub labels: &'static [&'static str],
}

/// `kload_requests_total`.
pub const REQUESTS: MetricDef = MetricDef {
    name: "kload_requests_total",
    kind: MetricKind::Counter,
    help: "Requests completed, failed ones included, by request name, method and HTTP status (0: no response).",
    labels: &["name", "method", "status"],
};
/// `kload_request_failures_total`.
pub const FAILURES: MetricDef = MetricDef {
    name: "kload_request_failures_total",
    kind: MetricKind::Counter,
    help: "Failed requests by request name, method and failure kind.",
    labels: &["name", "method", "kind"],
};
/// `kload_request_duration_seconds`.
pub const DURATION: MetricDef = MetricDef {
    name: "kload_request_duration_seconds",
    kind: MetricKind::Histogram,
    help: "Response time from sending the request to the end of the body, in seconds.",
    labels: &["name", "method"],
};
/// `kload_request_corrected_duration_seconds`.
pub const CORRECTED_DURATION: MetricDef = MetricDef {
    name: "kload_request_corrected_duration_seconds",
    kind: MetricKind::Histogram,
    help: "Response time measured from the request's intended start (coordinated omission corrected), in seconds.",
    labels: &["name", "method"],
};
/// `kload_users`.
pub const USERS: MetricDef = MetricDef {
    name: "kload_users",
    kind: MetricKind::Gauge,
    help: "Running virtual users by user class.",
    labels: &["class"],
};
/// `kload_dropped_iterations_total`.
pub const DROPPED: MetricDef = MetricDef {
    name: "kload_dropped_iterations_total",
    kind: MetricKind::Counter,
    help: "Iterations the arrival-rate model could not start because the user cap was reached.",
    labels: &[],
};
/// `kload_generator_lateness_seconds`.
pub const LATENESS: MetricDef = MetricDef {
    name: "kload_generator_lateness_seconds",
    kind: MetricKind::Histogram,
    help: "How late the load generator started iterations against the schedule, in seconds.",
    labels: &[],
};
/// `kload_threshold_ok`.
pub const THRESHOLD: MetricDef = MetricDef {
    name: "kload_threshold_ok",
    kind: MetricKind::Gauge,
    help: "1 while the threshold holds on the data so far, 0 when it fails.",
    labels: &["threshold"],
};

/// Every metric kload exports, in the order they are written.
pub const METRICS: [&MetricDef; 8] = [
    &REQUESTS,
    &FAILURES,
    &DURATION,
    &CORRECTED_DURATION,
    &USERS,
    &DROPPED,
    &LATENESS,
    &THRESHOLD,
];

/// Upper bounds (seconds) of the classic buckets the text format carries, `+Inf` implied:
/// from 0.5 ms for fast APIs to a minute.
pub const CLASSIC_BOUNDS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// kload's histograms count microseconds.
const US_PER_SECOND: f64 = 1e6;

/// A frame in Prometheus' data model.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposition {
    /// Labels on every series (run_id, scenario, segment, extra labels).
    pub(crate) common: Vec<(String, String)>,
    /// Families in [`METRICS`] order; a family without series is left out.
    pub(crate) families: Vec<Family>,
    /// When the data was taken, ms since the Unix epoch.
    pub(crate) timestamp_ms: i64,
}

/// All series of one metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Family {
    pub(crate) def: &'static MetricDef,
    pub(crate) series: Vec<Series>,
}

/// One series: its own labels (in the definition's order) and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) labels: Vec<String>,
    pub(crate) value: Value,
}

/// A counter or gauge value, or a histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Number(f64),
    Histogram(Box<HistogramValue>),
}

/// A distribution in both forms Prometheus reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramValue {
    /// Native buckets (remote write, protobuf scrape). Its `count` and `sum` are the totals.
    pub(crate) native: NativeHistogram,
    /// Cumulative counts at each of [`CLASSIC_BOUNDS`] (text format).
    pub(crate) classic: [u64; CLASSIC_BOUNDS.len()],
}

impl HistogramValue {
    /// Both forms of an HDR histogram in µs, in one pass over its buckets; `sum_us` is the
    /// exact sum when known (otherwise estimated from the buckets' middle values).
    fn from_hdr(hdr: &Histogram<u64>, bucketer: &Bucketer, sum_us: Option<u64>) -> HistogramValue {
        let mut native = NativeHistogram::empty(bucketer.schema());
        let mut upper = 0.0;
        let mut classic = [0u64; CLASSIC_BOUNDS.len()];
        let mut slot = 0;
        let mut estimated_sum_us = 0.0;
        // Values come in increasing order: the native and classic buckets only move up.
        for bucket in hdr.iter_recorded() {
            let n = bucket.count_at_value();
            let highest = bucket.value_iterated_to();
            if sum_us.is_none() {
                estimated_sum_us += n as f64 * hdr.median_equivalent(highest) as f64;
            }
            // Both forms count an HDR bucket at its highest equivalent value.
            let v = highest as f64 / US_PER_SECOND;
            native.add(bucketer, &mut upper, v, n);
            while slot < CLASSIC_BOUNDS.len() && CLASSIC_BOUNDS[slot] < v {
                slot += 1;
            }
            if let Some(count) = classic.get_mut(slot) {
                *count += n;
            }
        }
        native.sum = sum_us.map_or(estimated_sum_us, |us| us as f64) / US_PER_SECOND;
        let mut running = 0;
        for slot in &mut classic {
            running += *slot;
            *slot = running;
        }
        HistogramValue { native, classic }
    }
}

impl Exposition {
    /// Builds the families of `frame`, histograms at native `schema`.
    pub fn collect(frame: &MetricsFrame<'_>, schema: i8) -> Exposition {
        debug_assert!(
            frame.labels.iter().enumerate().all(|(i, (name, _))| {
                is_valid_label_name(name)
                    && name != "le"
                    && !METRICS.iter().any(|m| m.labels.contains(&name.as_str()))
                    && !frame.labels[..i].iter().any(|(other, _)| other == name)
            }),
            "common labels must be valid, unique and not a metric's own: {:?}",
            frame.labels
        );
        let bucketer = Bucketer::new(schema);
        let mut requests = Vec::new();
        let mut failures = Vec::new();
        let mut durations = Vec::new();
        let mut corrected = Vec::new();
        for r in &frame.requests {
            for &(status, n) in &r.statuses {
                requests.push(Series::number(
                    vec![r.name.into(), r.method.into(), status.to_string()],
                    n as f64,
                ));
            }
            for &(kind, n) in &r.failures {
                failures.push(Series::number(
                    vec![r.name.into(), r.method.into(), kind.as_str().into()],
                    n as f64,
                ));
            }
            durations.push(Series::histogram(
                vec![r.name.into(), r.method.into()],
                HistogramValue::from_hdr(r.latency.as_hdr(), &bucketer, r.latency_sum_us),
            ));
            if let Some(h) = r.corrected_latency {
                corrected.push(Series::histogram(
                    vec![r.name.into(), r.method.into()],
                    HistogramValue::from_hdr(h.as_hdr(), &bucketer, None),
                ));
            }
        }
        let users = frame
            .users
            .iter()
            .map(|&(class, n)| Series::number(vec![class.into()], n as f64))
            .collect();
        let dropped = vec![Series::number(vec![], frame.dropped_iterations as f64)];
        let lateness = frame
            .lateness
            .map(|h| {
                Series::histogram(
                    vec![],
                    HistogramValue::from_hdr(h.as_hdr(), &bucketer, None),
                )
            })
            .into_iter()
            .collect();
        let thresholds = frame
            .thresholds
            .iter()
            .map(|&(source, ok)| Series::number(vec![source.into()], if ok { 1.0 } else { 0.0 }))
            .collect();
        let families = [
            (&REQUESTS, requests),
            (&FAILURES, failures),
            (&DURATION, durations),
            (&CORRECTED_DURATION, corrected),
            (&USERS, users),
            (&DROPPED, dropped),
            (&LATENESS, lateness),
            (&THRESHOLD, thresholds),
        ]
        .into_iter()
        .filter(|(_, series)| !series.is_empty())
        .map(|(def, series)| Family { def, series })
        .collect();
        Exposition {
            common: frame.labels.to_vec(),
            families,
            timestamp_ms: frame.timestamp_ms,
        }
    }

    /// When the data was taken, ms since the Unix epoch.
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// Every label of `series` of `family` as (name, value): common labels first.
    pub(crate) fn labels<'s>(
        &'s self,
        family: &'s Family,
        series: &'s Series,
    ) -> impl Iterator<Item = (&'s str, &'s str)> {
        self.common
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(
                family
                    .def
                    .labels
                    .iter()
                    .copied()
                    .zip(series.labels.iter().map(String::as_str)),
            )
    }
}

impl Series {
    fn number(labels: Vec<String>, v: f64) -> Series {
        Series {
            labels,
            value: Value::Number(v),
        }
    }

    fn histogram(labels: Vec<String>, h: HistogramValue) -> Series {
        Series {
            labels,
            value: Value::Histogram(Box::new(h)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::export::prometheus::frame::RequestSeries;
    use crate::metrics::{FailureKind, LatencyHistogram};

    /// Histograms and labels for a small, fixed frame used by the renderers' tests.
    pub(crate) struct Fixture {
        pub(crate) labels: Vec<(String, String)>,
        pub(crate) list: LatencyHistogram,
        pub(crate) login: LatencyHistogram,
        pub(crate) lateness: LatencyHistogram,
    }

    impl Fixture {
        pub(crate) fn new() -> Fixture {
            let mut list = LatencyHistogram::new();
            for us in [800, 1_200, 4_000, 4_000, 30_000, 120_000, 2_000_000] {
                list.record(us);
            }
            let mut login = LatencyHistogram::new();
            login.record(250_000);
            let mut lateness = LatencyHistogram::new();
            lateness.record(0);
            lateness.record(1_500);
            Fixture {
                labels: vec![
                    ("run_id".into(), "r-1".into()),
                    ("scenario".into(), "Kibray \"API\"\\v2\nbeta".into()),
                    ("segment".into(), "0/1".into()),
                ],
                list,
                login,
                lateness,
            }
        }

        pub(crate) fn frame(&self) -> MetricsFrame<'_> {
            MetricsFrame {
                labels: &self.labels,
                requests: vec![
                    RequestSeries {
                        name: "/api/v1/projects/",
                        method: "GET",
                        statuses: vec![(200, 6), (503, 1)],
                        failures: vec![(FailureKind::Http5xx, 1)],
                        latency: &self.list,
                        latency_sum_us: Some(2_160_000),
                        corrected_latency: None,
                    },
                    RequestSeries {
                        name: "login",
                        method: "POST",
                        statuses: vec![(200, 1)],
                        failures: vec![],
                        latency: &self.login,
                        latency_sum_us: None,
                        corrected_latency: Some(&self.login),
                    },
                ],
                users: vec![("KibrayUser", 10), ("AdminUser", 1)],
                dropped_iterations: 3,
                lateness: Some(&self.lateness),
                thresholds: vec![("p95(tag list) < 200ms", true), ("error_rate < 1%", false)],
                timestamp_ms: 1_764_244_800_000,
            }
        }
    }

    #[test]
    fn collect_builds_one_family_per_metric_with_series_in_frame_order() {
        let f = Fixture::new();
        let e = Exposition::collect(&f.frame(), 5);
        let names: Vec<_> = e.families.iter().map(|f| f.def.name).collect();
        assert_eq!(names, METRICS.map(|m| m.name));
        let requests = &e.families[0];
        assert_eq!(requests.series.len(), 3);
        assert_eq!(
            requests.series[1].labels,
            ["/api/v1/projects/", "GET", "503"]
        );
        assert_eq!(requests.series[1].value, Value::Number(1.0));
        let Value::Histogram(h) = &e.families[2].series[0].value else {
            panic!("not a histogram")
        };
        assert_eq!(h.native.count, 7);
        assert_eq!(h.native.sum, 2.16);
        // ≤ 0.5 ms: none; ≤ 1 ms: 800 µs; ≤ 2.5 ms: +1.2 ms; ≤ 5 ms: +2 × 4 ms; ≤ 50 ms: +30 ms;
        // ≤ 250 ms: +120 ms; ≤ 2.5 s: +2 s.
        assert_eq!(h.classic, [0, 1, 2, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 7, 7, 7]);
        // No corrected latency for the first request: one series only.
        assert_eq!(e.families[3].series.len(), 1);
        assert_eq!(e.families[3].series[0].labels, ["login", "POST"]);
        let labels: Vec<_> = e.labels(&e.families[4], &e.families[4].series[1]).collect();
        assert_eq!(labels[0], ("run_id", "r-1"));
        assert_eq!(labels[3], ("class", "AdminUser"));
    }

    #[test]
    fn empty_families_are_left_out() {
        let labels = vec![];
        let frame = MetricsFrame {
            labels: &labels,
            requests: vec![],
            users: vec![],
            dropped_iterations: 0,
            lateness: None,
            thresholds: vec![],
            timestamp_ms: 0,
        };
        let e = Exposition::collect(&frame, 5);
        let names: Vec<_> = e.families.iter().map(|f| f.def.name).collect();
        assert_eq!(names, ["kload_dropped_iterations_total"]);
    }
}
