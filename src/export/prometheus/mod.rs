//! Prometheus export: `/metrics` for scraping (`--prometheus-listen`) and remote write with
//! native histograms (`--prometheus-remote-write`). See `docs/metrics.md` for the metrics,
//! their labels and the PromQL of the shipped Grafana dashboard.
//!
//! ```text
//! session snapshot ──MetricsFrame (borrowed)──▶ Exporter::publish ──collect──▶ Exposition (owned)
//!     ──watch──▶ /metrics server (text 0.0.4 or protobuf, per scrape)
//!            └─▶ pusher (every interval: WriteRequest + snappy, bounded queue, retries)
//! ```
//!
//! The caller hands frames and returns at once: `publish` converts the frame (HDR → native
//! buckets, classic buckets) and replaces the latest one; it takes no lock the network side
//! holds for longer than a pointer swap and never waits for I/O.

mod exposition;
mod follow;
mod frame;
pub mod native;
mod options;
pub mod protobuf;
mod pusher;
pub mod remote_write;
mod server;
#[cfg(test)]
mod tests;
pub mod text;
mod wire;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

pub use exposition::{CLASSIC_BOUNDS, Exposition, METRICS, MetricDef, MetricKind};
pub use follow::{follow, labels_of, run_id};
pub use frame::{MetricsFrame, RequestSeries};
pub use options::{
    Header, PrometheusArgs, RESERVED_LABELS, RemoteUrl, common_labels, is_valid_label_name,
    parse_label, parse_listen_addr,
};
pub use pusher::{PushStats, RemoteWriteConfig, RemoteWriter};
pub use server::{Latest, MetricsServer, router};

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The `/metrics` address could not be bound (in use, not local, no permission).
    #[error("cannot serve Prometheus metrics on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The HTTP client for remote write could not be built (TLS setup).
    #[error("cannot set up Prometheus remote write: {0}")]
    Client(#[from] reqwest::Error),
}

/// The Prometheus exporter of one run: a `/metrics` server, a remote-write pusher, or both,
/// fed with frames by [`publish`](Self::publish).
pub struct Exporter {
    latest: watch::Sender<Option<Arc<Exposition>>>,
    schema: i8,
    server: Option<MetricsServer>,
    writer: Option<RemoteWriter>,
}

/// What the exporter did during the run, for its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// The `/metrics` address and the number of scrapes served.
    pub scrapes: Option<(SocketAddr, u64)>,
    /// The remote-write counters.
    pub remote_write: Option<PushStats>,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some((addr, n)) = self.scrapes {
            let s = if n == 1 { "" } else { "s" };
            write!(
                f,
                "Prometheus metrics at http://{addr}/metrics: {n} scrape{s} served"
            )?;
            first = false;
        }
        if let Some(stats) = &self.remote_write {
            if !first {
                writeln!(f)?;
            }
            write!(f, "{stats}")?;
        }
        Ok(())
    }
}

impl Exporter {
    /// Starts what `args` asks for on the current tokio runtime; `None` when it asks for
    /// nothing. Binding happens here, so a busy port is reported before the run starts.
    pub async fn start(args: &PrometheusArgs) -> Result<Option<Exporter>, ExportError> {
        if !args.enabled() {
            return Ok(None);
        }
        let (latest, _) = watch::channel(None);
        let server = match args.prometheus_listen {
            Some(addr) => Some(
                MetricsServer::start(addr, latest.subscribe())
                    .await
                    .map_err(|source| ExportError::Bind { addr, source })?,
            ),
            None => None,
        };
        let writer = match &args.prometheus_remote_write {
            Some(url) => {
                let mut config = RemoteWriteConfig::new(url.clone());
                config.interval = args.prometheus_interval;
                config.headers = args.prometheus_headers.clone();
                Some(RemoteWriter::start(config, latest.subscribe())?)
            }
            None => None,
        };
        Ok(Some(Exporter {
            latest,
            schema: args.prometheus_schema,
            server,
            writer,
        }))
    }

    /// An exporter with a remote-write pusher of the given configuration only (tests,
    /// benchmarks, embedders).
    pub fn with_remote_write(
        config: RemoteWriteConfig,
        schema: i8,
    ) -> Result<Exporter, ExportError> {
        let (latest, _) = watch::channel(None);
        let writer = RemoteWriter::start(config, latest.subscribe())?;
        Ok(Exporter {
            latest,
            schema,
            server: None,
            writer: Some(writer),
        })
    }

    /// An exporter with no output of its own: it keeps the latest frame for another server
    /// to serve (`router(exporter.subscribe())` in the web UI).
    pub fn detached(schema: i8) -> Exporter {
        let (latest, _) = watch::channel(None);
        Exporter {
            latest,
            schema,
            server: None,
            writer: None,
        }
    }

    /// A view of the latest frame, for [`router`] on another server.
    pub fn subscribe(&self) -> Latest {
        self.latest.subscribe()
    }

    /// Makes `frame` the latest: the next scrape serves it and the next push sends it.
    /// Never waits for the network.
    pub fn publish(&self, frame: &MetricsFrame<'_>) {
        let exposition = Arc::new(Exposition::collect(frame, self.schema));
        self.latest.send_replace(Some(exposition));
    }

    /// The address `/metrics` is served on (with the real port when 0 was asked for).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(MetricsServer::addr)
    }

    /// The remote-write counters so far.
    pub fn push_stats(&self) -> Option<PushStats> {
        self.writer.as_ref().map(RemoteWriter::stats)
    }

    /// Publishes the final frame, pushes it (waiting a bounded time for pending pushes),
    /// stops the server and reports what was done.
    pub async fn finish(self, last: &MetricsFrame<'_>) -> ExportReport {
        let exposition = Arc::new(Exposition::collect(last, self.schema));
        self.latest.send_replace(Some(exposition.clone()));
        let remote_write = match self.writer {
            Some(writer) => Some(writer.finish(&exposition).await),
            None => None,
        };
        let scrapes = match self.server {
            Some(server) => {
                let addr = server.addr();
                Some((addr, server.shutdown().await))
            }
            None => None,
        };
        ExportReport {
            scrapes,
            remote_write,
        }
    }
}
