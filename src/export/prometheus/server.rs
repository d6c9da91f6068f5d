//! `GET /metrics` for Prometheus to scrape (`--prometheus-listen`): each scrape renders the
//! latest frame, in the protobuf format when the scraper asks for it (native histograms),
//! otherwise in the text format (classic buckets).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::serve::Background;

use super::exposition::Exposition;
use super::{protobuf, text};

/// The latest frame as the exporter publishes it (`None` before the first).
pub type Latest = watch::Receiver<Option<Arc<Exposition>>>;

/// How long stopping the server lets a scrape in progress finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Scrapes {
    latest: Latest,
    served: Arc<AtomicU64>,
}

/// The `/metrics` route alone, for another server (the web UI) to merge into its own.
pub fn router(latest: Latest) -> Router {
    routes(Scrapes {
        latest,
        served: Arc::new(AtomicU64::new(0)),
    })
}

fn routes(state: Scrapes) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<Scrapes>, headers: HeaderMap) -> Response {
    state.served.fetch_add(1, Ordering::Relaxed);
    let latest = state.latest.borrow().clone();
    let wants_protobuf = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(protobuf::accepts);
    if wants_protobuf {
        let body = latest.map(|e| protobuf::render(&e)).unwrap_or_default();
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(protobuf::CONTENT_TYPE),
            )],
            body,
        )
            .into_response()
    } else {
        let body = latest.map(|e| text::render(&e)).unwrap_or_default();
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(text::CONTENT_TYPE),
            )],
            body,
        )
            .into_response()
    }
}

/// A running `/metrics` server. Dropping it stops the server too, without waiting.
pub struct MetricsServer {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
    server: Background,
}

impl MetricsServer {
    /// Binds `addr` and serves `/metrics` in the background on the current tokio runtime.
    pub async fn start(addr: SocketAddr, latest: Latest) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let served = Arc::new(AtomicU64::new(0));
        let app = routes(Scrapes {
            latest,
            served: served.clone(),
        });
        Ok(MetricsServer {
            addr,
            served,
            server: Background::spawn(listener, app, CancellationToken::new(), SHUTDOWN_GRACE),
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Scrapes answered so far.
    pub fn scrapes(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Stops accepting scrapes and lets one in progress finish (up to 2 s).
    pub async fn shutdown(self) -> u64 {
        let scrapes = self.served.clone();
        self.server.shutdown().await;
        scrapes.load(Ordering::Relaxed)
    }
}
