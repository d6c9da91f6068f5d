//! Statistics: per-user recorders, the aggregator and the serializable summary.
//!
//! ```text
//! virtual user ──Sample──▶ Recorder (local Batch) ──≈1/s──▶ sharded sink ──tick──▶ aggregator
//!     ──summary──▶ Summary (plain data) ──▶ report::{text, csv, json, junit, html, compare}
//! ```
//!
//! Every entry keeps exact counts, sums and extremes, HDR histograms (µs, 3 significant
//! digits) for thresholds, comparisons and JSON, and Locust's bucket dict so the console
//! tables and CSV files match Locust number for number (see `locust`). The time series is
//! kept raw (per-second rows, ten-second windows) so that results of parts of a run merge
//! exactly (`merge`); the views people read are derived when rendering (`series`).

mod aggregate;
pub mod entry;
pub mod failures;
pub mod histogram;
pub mod live;
pub mod locust;
pub mod merge;
pub mod recorder;
pub mod sample;
pub mod series;
pub mod sparse;
pub mod summary;
pub mod threshold;

pub use entry::{AGGREGATED, EntrySummary};
pub use histogram::LatencyHistogram;
pub use live::{LiveTable, TableRow};
pub use recorder::{Batch, LiveStats, Metrics, Recorder};
pub use sample::{Backfill, Failure, FailureKind, Sample, StatId, StatKey};
pub use series::{PointStats, Series, TimePoint};
pub use summary::{
    ClassInfo, FailureSummary, Generator, Note, Outcome, RunInfo, SCHEMA_VERSION, SegmentInfo,
    Summary,
};
pub use threshold::{
    Comparison, LatencyView, Metric, Selector, Threshold, ThresholdResult, evaluate, should_abort,
};
