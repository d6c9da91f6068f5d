//! Live export of a run's metrics to the monitoring systems teams already watch.
//!
//! An exporter is a subscriber of the run: it is handed cumulative frames (counts and HDR
//! histograms since the start) and turns them into another system's data model. It never
//! sits on the request path and never makes the run wait.

pub mod prometheus;
