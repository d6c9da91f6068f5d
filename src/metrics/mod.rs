//! Statistics: per-user recorders, the aggregator and the serializable summary.
//!
//! ```text
//! virtual user ──Sample──▶ Recorder (local Vec) ──≈1/s──▶ sharded sink ──tick──▶ aggregator
//!     ──summary──▶ Summary (plain data) ──▶ report::{text, csv, json, junit, compare}
//! ```
//!
//! Every entry keeps exact counts, sums and extremes, HDR histograms (µs, 3 significant
//! digits) for thresholds, comparisons and JSON, and Locust's bucket dict so the console
//! tables and CSV files match Locust number for number (see `locust`).

mod aggregate;
pub mod entry;
pub mod histogram;
pub mod locust;
pub mod recorder;
pub mod sample;
pub mod series;
pub mod summary;
pub mod threshold;

pub use entry::{AGGREGATED, EntrySummary};
pub use histogram::LatencyHistogram;
pub use recorder::{LiveStats, Metrics, Recorder};
pub use sample::{Failure, FailureKind, Sample, StatId, StatKey};
pub use series::{PointStats, TimePoint};
pub use summary::{ClassInfo, FailureSummary, RunInfo, SCHEMA_VERSION, Summary};
pub use threshold::{
    Comparison, Metric, Selector, Threshold, ThresholdResult, evaluate, should_abort,
};
