//! Prometheus' protobuf scrape format: a stream of varint-length-delimited `MetricFamily`
//! messages. Prometheus asks for it first when it scrapes native histograms
//! (`--enable-feature=native-histograms` in 2.40–3.7, `scrape_native_histograms: true` from
//! 3.8), so a scrape gets the same native buckets as remote write; classic buckets ride
//! along for scrapers that keep both.
//!
//! Messages and field numbers (`prometheus/client_model: io/prometheus/client/metrics.proto`):
//!
//! ```text
//! MetricFamily { string name = 1; string help = 2; MetricType type = 3; repeated Metric metric = 4; }
//! MetricType   { COUNTER = 0; GAUGE = 1; HISTOGRAM = 4; }
//! Metric       { repeated LabelPair label = 1; Gauge gauge = 2; Counter counter = 3;
//!                Histogram histogram = 7; }
//! LabelPair    { string name = 1; string value = 2; }
//! Gauge, Counter { double value = 1; }
//! Histogram    { uint64 sample_count = 1; double sample_sum = 2; repeated Bucket bucket = 3;
//!                sint32 schema = 5; double zero_threshold = 6; uint64 zero_count = 7;
//!                repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13; }
//! Bucket       { uint64 cumulative_count = 1; double upper_bound = 2; }
//! BucketSpan   { sint32 offset = 1; uint32 length = 2; }
//! ```

use super::exposition::{CLASSIC_BOUNDS, Exposition, HistogramValue, MetricKind, Value};
use super::wire::Writer;

/// The `Content-Type` of this format (also what an `Accept` header asks for).
pub const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// True when an `Accept` header asks for the delimited protobuf format.
pub fn accepts(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let mut parts = media.split(';').map(str::trim);
        let ty = parts.next().unwrap_or("");
        let params: Vec<&str> = parts.collect();
        ty.eq_ignore_ascii_case("application/vnd.google.protobuf")
            && params.contains(&"proto=io.prometheus.client.MetricFamily")
            && params.contains(&"encoding=delimited")
            && !params.iter().any(|p| p.replace(' ', "") == "q=0")
    })
}

/// Renders `exposition` as delimited `MetricFamily` messages.
pub fn render(exposition: &Exposition) -> Vec<u8> {
    let mut out = Writer::new();
    for family in &exposition.families {
        out.delimited(|mf| {
            mf.string(1, family.def.name);
            mf.string(2, family.def.help);
            mf.uint64(
                3,
                match family.def.kind {
                    MetricKind::Counter => 0,
                    MetricKind::Gauge => 1,
                    MetricKind::Histogram => 4,
                },
            );
            for series in &family.series {
                mf.message(4, |m| {
                    for (name, value) in exposition.labels(family, series) {
                        m.message(1, |l| {
                            l.string(1, name);
                            l.string(2, value);
                        });
                    }
                    match (&series.value, family.def.kind) {
                        (Value::Number(v), MetricKind::Gauge) => m.message(2, |g| g.double(1, *v)),
                        (Value::Number(v), _) => m.message(3, |c| c.double(1, *v)),
                        (Value::Histogram(h), _) => m.message(7, |hm| histogram(hm, h)),
                    }
                });
            }
        });
    }
    out.into_bytes()
}

fn histogram(m: &mut Writer, h: &HistogramValue) {
    let native = &h.native;
    m.uint64(1, native.count);
    m.double(2, native.sum);
    for (bound, &n) in CLASSIC_BOUNDS.iter().zip(&h.classic) {
        m.message(3, |b| {
            b.uint64(1, n);
            b.double(2, *bound);
        });
    }
    m.sint32(5, i32::from(native.schema));
    m.double(6, native.zero_threshold);
    m.uint64(7, native.zero_count);
    let (spans, deltas) = native.spans_and_deltas();
    for span in &spans {
        m.message(12, |s| {
            s.sint32(1, span.offset);
            s.uint64(2, u64::from(span.length));
        });
    }
    m.packed_sint64(13, &deltas);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::prometheus::exposition::tests::Fixture;
    use crate::export::prometheus::wire::read;

    /// Splits the delimited stream into messages.
    fn messages(mut bytes: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let len = read::varint(&mut bytes) as usize;
            let (m, rest) = bytes.split_at(len);
            out.push(m);
            bytes = rest;
        }
        out
    }

    #[test]
    fn prometheus_accept_headers_are_recognised() {
        // What Prometheus 2.42 sends with native histograms on, and without.
        assert!(accepts(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,\
             application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(!accepts(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
             text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(!accepts(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
        ));
        assert!(!accepts(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0"
        ));
        assert!(!accepts(""));
    }

    #[test]
    fn families_are_delimited_messages_with_typed_metrics() {
        let f = Fixture::new();
        let bytes = render(&Exposition::collect(&f.frame(), 3));
        let families = messages(&bytes);
        assert_eq!(families.len(), 8);
        let requests = read::fields(families[0]);
        assert_eq!(read::one(&requests, 1).str(), "kload_requests_total");
        assert_eq!(read::one(&requests, 3).varint(), 0, "COUNTER");
        let metric = read::fields(read::all(&requests, 4)[0].bytes());
        let labels = read::all(&metric, 1);
        assert_eq!(labels.len(), 6);
        let status = read::fields(labels[5].bytes());
        assert_eq!(
            (read::one(&status, 1).str(), read::one(&status, 2).str()),
            ("status", "200")
        );
        let counter = read::fields(read::one(&metric, 3).bytes());
        assert_eq!(read::one(&counter, 1).double(), 6.0);

        let users = read::fields(families[4]);
        assert_eq!(read::one(&users, 3).varint(), 1, "GAUGE");
        let metric = read::fields(read::all(&users, 4)[0].bytes());
        assert_eq!(
            read::one(&read::fields(read::one(&metric, 2).bytes()), 1).double(),
            10.0
        );

        let duration = read::fields(families[2]);
        assert_eq!(read::one(&duration, 3).varint(), 4, "HISTOGRAM");
        let metric = read::fields(read::all(&duration, 4)[0].bytes());
        let h = read::fields(read::one(&metric, 7).bytes());
        assert_eq!(read::one(&h, 1).varint(), 7);
        assert_eq!(read::one(&h, 2).double(), 2.16);
        let buckets = read::all(&h, 3);
        assert_eq!(buckets.len(), CLASSIC_BOUNDS.len());
        let b = read::fields(buckets[2].bytes());
        assert_eq!(
            (read::one(&b, 1).varint(), read::one(&b, 2).double()),
            (2, 0.0025)
        );
        assert_eq!(read::one(&h, 5).sint(), 3, "schema");
        assert!(
            read::one(&h, 6).double() > 0.0,
            "a zero threshold marks it native"
        );
        assert_eq!(read::one(&h, 7).varint(), 0);
        let deltas = read::packed_sint64(read::one(&h, 13).bytes());
        let mut count = 0;
        let mut total = 0;
        for d in deltas {
            count += d;
            total += count;
        }
        assert_eq!(total, 7, "deltas add up to the bucket counts");
        assert!(!read::all(&h, 12).is_empty());
    }
}
