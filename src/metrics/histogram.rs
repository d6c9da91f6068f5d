//! The latency histogram: HDR, microseconds, 3 significant digits, serialized as the
//! base64 of HdrHistogram's V2+Deflate encoding (the `HISTFAAA…` strings of HdrHistogram logs).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Deserializer as SerdeDeserializer, Serialize, Serializer};

/// Lowest value told apart: 1 µs.
const LOWEST_US: u64 = 1;
/// Highest value tracked without resizing: 1 hour in µs. Larger values resize the histogram.
const HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept: values are exact to 0.1 %.
const SIGFIG: u8 = 3;

/// A latency distribution in microseconds (1 µs .. 1 h, 3 significant digits, grows past 1 h).
/// In JSON it is one base64 string, so summaries can be merged and compared exactly.
#[derive(Clone, PartialEq)]
pub struct LatencyHistogram {
    inner: Histogram<u64>,
}

/// Why a histogram string could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramDecodeError {
    /// The string is not base64.
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a V2 (optionally deflated) HdrHistogram.
    #[error("histogram is not a valid HdrHistogram V2 encoding: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        let mut inner = Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG)
            .unwrap_or_else(|e| unreachable!("constant histogram bounds are valid: {e:?}"));
        inner.auto(true);
        LatencyHistogram { inner }
    }

    /// Records one value in µs.
    pub fn record(&mut self, us: u64) {
        // With auto-resize on, recording can only fail on an allocation limit.
        self.inner
            .record(us)
            .unwrap_or_else(|e| unreachable!("auto-resizing histogram rejected {us}: {e:?}"));
    }

    /// Records `count` values of `us` each.
    pub fn record_n(&mut self, us: u64, count: u64) {
        self.inner
            .record_n(us, count)
            .unwrap_or_else(|e| unreachable!("auto-resizing histogram rejected {us}: {e:?}"));
    }

    /// Adds every value of `other` (merging runs, endpoints or workers).
    pub fn add(&mut self, other: &LatencyHistogram) {
        self.inner
            .add(&other.inner)
            .unwrap_or_else(|e| unreachable!("auto-resizing histogram rejected a merge: {e:?}"));
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The value at percentile `p` (0..=100) in µs, HdrHistogram's highest equivalent value
    /// (so at most 0.1 % above the true sample); 0 when empty.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.inner.is_empty() {
            0
        } else {
            self.inner.value_at_percentile(p)
        }
    }

    /// Largest recorded value (highest equivalent), 0 when empty.
    pub fn max(&self) -> u64 {
        self.inner.max()
    }

    /// Smallest recorded value (lowest equivalent), 0 when empty.
    pub fn min(&self) -> u64 {
        self.inner.min()
    }

    /// The underlying `hdrhistogram` histogram, for anything not wrapped here.
    pub fn as_hdr(&self) -> &Histogram<u64> {
        &self.inner
    }

    /// The base64 of the V2+Deflate encoding.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.inner, &mut bytes)
            .unwrap_or_else(|e| unreachable!("serializing into a Vec cannot fail: {e:?}"));
        BASE64.encode(bytes)
    }

    /// Reads a histogram written by [`to_base64`](Self::to_base64) (V2 or V2+Deflate).
    pub fn from_base64(text: &str) -> Result<LatencyHistogram, HistogramDecodeError> {
        let bytes = BASE64.decode(text)?;
        let mut inner: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(HistogramDecodeError::Hdr)?;
        inner.auto(true);
        Ok(LatencyHistogram { inner })
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("len", &self.len())
            .field("min", &self.min())
            .field("max", &self.max())
            .finish()
    }
}

impl Serialize for LatencyHistogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: SerdeDeserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LatencyHistogram::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let mut h = LatencyHistogram::new();
        for i in 0..10_000u64 {
            h.record(100 + (i % 900) * 37);
        }
        h.record(7_200_000_000); // two hours: past the initial range
        let text = h.to_base64();
        assert!(text.starts_with("HISTFAAA"), "{text}");
        let back = LatencyHistogram::from_base64(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 10_001);
        assert_eq!(back.percentile(50.0), h.percentile(50.0));
        assert!(back.max() >= 7_200_000_000);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(1_000);
        b.record(2_000);
        b.record(3_000);
        let b = LatencyHistogram::from_base64(&b.to_base64()).unwrap();
        a.add(&b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.percentile(50.0), 2_000);
        assert_eq!(a.min(), 1_000);
    }

    #[test]
    fn percentile_is_within_a_thousandth() {
        let mut h = LatencyHistogram::new();
        h.record(147_000);
        let p = h.percentile(95.0);
        assert!((147_000..=147_147).contains(&p), "{p}");
        assert_eq!(LatencyHistogram::new().percentile(95.0), 0);
    }

    #[test]
    fn bad_strings_are_errors() {
        assert!(LatencyHistogram::from_base64("not base64!").is_err());
        assert!(LatencyHistogram::from_base64("AAAA").is_err());
    }
}
