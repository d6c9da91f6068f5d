//! Prometheus remote write 1.0: one `WriteRequest` per push, protobuf then snappy (block
//! format). Counters and gauges are samples; histograms are native histograms only.
//!
//! Messages and field numbers (`prometheus/prompb/{remote,types}.proto`):
//!
//! ```text
//! WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//! TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2;
//!                  repeated Histogram histograms = 4; }
//! Label          { string name = 1; string value = 2; }
//! Sample         { double value = 1; int64 timestamp = 2; }
//! Histogram      { uint64 count_int = 1; double sum = 3; sint32 schema = 4;
//!                  double zero_threshold = 5; uint64 zero_count_int = 6;
//!                  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12;
//!                  int64 timestamp = 15; }
//! BucketSpan     { sint32 offset = 1; uint32 length = 2; }
//! MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; }
//! ```
//!
//! The spec's rules followed here: every series has a `__name__` label; label names are
//! unique and sorted; samples of one series are in time order (one per push).

use super::exposition::{Exposition, MetricKind, Value};
use super::native::NativeHistogram;
use super::wire::Writer;

/// `Content-Type` of a push.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// `Content-Encoding` of a push.
pub const CONTENT_ENCODING: &str = "snappy";
/// `X-Prometheus-Remote-Write-Version` of a push.
pub const VERSION: &str = "0.1.0";

/// The uncompressed `WriteRequest` of `exposition`, every sample stamped `timestamp_ms`.
pub fn encode(exposition: &Exposition, timestamp_ms: i64) -> Vec<u8> {
    let mut request = Writer::new();
    for family in &exposition.families {
        for series in &family.series {
            let mut labels: Vec<(&str, &str)> = exposition.labels(family, series).collect();
            labels.push(("__name__", family.def.name));
            labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
            request.message(1, |ts| {
                for (name, value) in &labels {
                    ts.message(1, |l| {
                        l.string(1, name);
                        l.string(2, value);
                    });
                }
                match &series.value {
                    Value::Number(v) => ts.message(2, |s| {
                        s.double(1, *v);
                        s.int64(2, timestamp_ms);
                    }),
                    Value::Histogram(h) => {
                        ts.message(4, |m| histogram(m, &h.native, timestamp_ms));
                    }
                }
            });
        }
    }
    for family in &exposition.families {
        request.message(3, |m| {
            m.uint64(
                1,
                match family.def.kind {
                    MetricKind::Counter => 1,
                    MetricKind::Gauge => 2,
                    MetricKind::Histogram => 3,
                },
            );
            m.string(2, family.def.name);
            m.string(4, family.def.help);
        });
    }
    request.into_bytes()
}

/// One native histogram (integer counts, positive buckets).
fn histogram(m: &mut Writer, h: &NativeHistogram, timestamp_ms: i64) {
    m.uint64(1, h.count);
    m.double(3, h.sum);
    m.sint32(4, i32::from(h.schema));
    m.double(5, h.zero_threshold);
    m.uint64(6, h.zero_count);
    let (spans, deltas) = h.spans_and_deltas();
    for span in &spans {
        m.message(11, |s| {
            s.sint32(1, span.offset);
            s.uint64(2, u64::from(span.length));
        });
    }
    m.packed_sint64(12, &deltas);
    m.int64(15, timestamp_ms);
}

/// Snappy block compression, as remote write requires (not the framed stream format).
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(bytes)
        .unwrap_or_else(|e| unreachable!("snappy accepts any input below 4 GiB: {e}"))
}

/// The body of one push: [`encode`] then [`compress`].
pub fn body(exposition: &Exposition, timestamp_ms: i64) -> Vec<u8> {
    compress(&encode(exposition, timestamp_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::prometheus::exposition::tests::Fixture;
    use crate::export::prometheus::wire::read::{self, Field};

    const TS: i64 = 1_764_244_800_123;

    fn series_of<'a>(request: &'a [(u32, Field<'a>)]) -> Vec<Vec<(u32, Field<'a>)>> {
        read::all(request, 1)
            .iter()
            .map(|ts| read::fields(ts.bytes()))
            .collect()
    }

    fn labels_of(ts: &[(u32, Field<'_>)]) -> Vec<(String, String)> {
        read::all(ts, 1)
            .iter()
            .map(|l| {
                let f = read::fields(l.bytes());
                (
                    read::one(&f, 1).str().to_owned(),
                    read::one(&f, 2).str().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_counter_sample_is_laid_out_field_by_field() {
        // A frame with no requests: only kload_dropped_iterations_total = 3.
        let labels = vec![("run_id".to_owned(), "r".to_owned())];
        let frame = crate::export::prometheus::MetricsFrame {
            labels: &labels,
            requests: vec![],
            users: vec![],
            dropped_iterations: 3,
            lateness: None,
            thresholds: vec![],
            timestamp_ms: 0,
        };
        let bytes = encode(&Exposition::collect(&frame, 5), 1);
        let mut expected = vec![
            0x0a, 70, // WriteRequest.timeseries (1, LEN), 70 bytes
            0x0a, 42, // TimeSeries.labels (1, LEN), 42 bytes
            0x0a, 8, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', // Label.name
            0x12, 30, // Label.value
        ];
        expected.extend_from_slice(b"kload_dropped_iterations_total");
        expected.extend_from_slice(&[
            0x0a, 11, 0x0a, 6, b'r', b'u', b'n', b'_', b'i', b'd', 0x12, 1,
            b'r', // run_id="r"
            0x12, 11, // TimeSeries.samples (2, LEN)
            0x09, 0, 0, 0, 0, 0, 0, 0x08, 0x40, // Sample.value (1, I64) = 3.0
            0x10, 0x01, // Sample.timestamp (2, VARINT) = 1
        ]);
        let metadata = &bytes[expected.len()..];
        assert_eq!(&bytes[..expected.len()], expected.as_slice());
        // WriteRequest.metadata (3, LEN): type COUNTER (1), name, help.
        let f = read::fields(metadata);
        let m = read::fields(read::one(&f, 3).bytes());
        assert_eq!(metadata[0], 0x1a);
        assert_eq!(read::one(&m, 1).varint(), 1);
        assert_eq!(read::one(&m, 2).str(), "kload_dropped_iterations_total");
        assert!(read::one(&m, 4).str().starts_with("Iterations"));
    }

    #[test]
    fn every_series_has_sorted_labels_with_its_name() {
        let f = Fixture::new();
        let mut e = Exposition::collect(&f.frame(), 5);
        e.common.push(("Team".into(), "payments".into()));
        let bytes = encode(&e, TS);
        let request = read::fields(&bytes);
        let all = series_of(&request);
        // 3 status + 1 failure + 2 durations + 1 corrected + 2 users + dropped + lateness
        // + 2 thresholds.
        assert_eq!(all.len(), 13);
        for ts in &all {
            let labels = labels_of(ts);
            let names: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(names, sorted, "labels must be unique and sorted");
            assert_eq!(names[0], "Team", "uppercase sorts before __name__");
            assert!(names.contains(&"__name__"));
            assert!(names.contains(&"run_id") && names.contains(&"segment"));
        }
        let first = labels_of(&all[0]);
        assert_eq!(
            first,
            [
                ("Team", "payments"),
                ("__name__", "kload_requests_total"),
                ("method", "GET"),
                ("name", "/api/v1/projects/"),
                ("run_id", "r-1"),
                ("scenario", "Kibray \"API\"\\v2\nbeta"),
                ("segment", "0/1"),
                ("status", "200"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let sample = read::fields(read::one(&all[0], 2).bytes());
        assert_eq!(read::one(&sample, 1).double(), 6.0);
        assert_eq!(read::one(&sample, 2).varint() as i64, TS);
        // One metadata entry per family.
        assert_eq!(read::all(&request, 3).len(), 8);
    }

    #[test]
    fn a_native_histogram_carries_schema_spans_and_deltas() {
        let f = Fixture::new();
        let e = Exposition::collect(&f.frame(), 0);
        let bytes = encode(&e, TS);
        let request = read::fields(&bytes);
        let all = series_of(&request);
        let duration = all
            .iter()
            .find(|ts| {
                labels_of(ts)
                    .contains(&("__name__".into(), "kload_request_duration_seconds".into()))
            })
            .unwrap();
        assert!(read::all(duration, 2).is_empty(), "no float samples");
        let h = read::fields(read::one(duration, 4).bytes());
        assert_eq!(read::one(&h, 1).varint(), 7, "count_int");
        assert_eq!(read::one(&h, 3).double(), 2.16, "sum");
        assert_eq!(read::one(&h, 4).sint(), 0, "schema");
        assert_eq!(
            read::one(&h, 5).double(),
            crate::export::prometheus::native::ZERO_THRESHOLD
        );
        assert_eq!(read::one(&h, 6).varint(), 0, "zero_count_int");
        // Schema 0 buckets: 0.8 ms → -10, 1.2 ms → -9, 4 ms ×2 → -7, 30 ms → -5, 120 ms → -3,
        // 2 s → 2 (HDR's highest equivalents: 0.0008, 0.0012, 0.004001, 0.030015, 0.120063 and
        // 2.000895, just above 2).
        let spans: Vec<(i64, u64)> = read::all(&h, 11)
            .iter()
            .map(|s| {
                let s = read::fields(s.bytes());
                (read::one(&s, 1).sint(), read::one(&s, 2).varint())
            })
            .collect();
        assert_eq!(spans, [(-10, 8), (4, 1)]);
        let deltas = read::packed_sint64(read::one(&h, 12).bytes());
        // Counts -10..=-3: 1 1 0 2 0 1 0 1, then 1 at index 2.
        assert_eq!(deltas, [1, 0, -1, 2, -2, 1, -1, 1, 0]);
        assert_eq!(read::one(&h, 15).varint() as i64, TS);
    }

    #[test]
    fn snappy_round_trips_and_shrinks_repetitive_requests() {
        let f = Fixture::new();
        let raw = encode(&Exposition::collect(&f.frame(), 5), TS);
        let packed = compress(&raw);
        assert!(
            packed.len() < raw.len(),
            "{} vs {}",
            packed.len(),
            raw.len()
        );
        // Block format: the preamble is the uncompressed length as a varint, no stream header.
        let mut preamble = &packed[..];
        assert_eq!(read::varint(&mut preamble) as usize, raw.len());
        assert_ne!(&packed[..4], b"\xff\x06\x00\x00", "not the framed format");
        let back = snap::raw::Decoder::new().decompress_vec(&packed).unwrap();
        assert_eq!(back, raw);
        assert_eq!(body(&Exposition::collect(&f.frame(), 5), TS), packed);
    }
}
