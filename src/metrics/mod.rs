//! Statistics: per-user recorders, the aggregator and the snapshot reports render.

pub mod recorder;
pub mod sample;
pub mod threshold;

pub use recorder::{LiveStats, Metrics, Recorder, Snapshot};
pub use sample::{StatId, StatKey};
