//! The built-in demo target: an imitation of the Kibray API on 127.0.0.1.
//!
//! `kload demo` starts a [`DemoServer`] and runs `scenarios/kibray.kload` against it. The server
//! behaves like the Django REST Framework app it imitates, so that the demo measures something
//! and a scenario mistake fails here as it would against Kibray: JWT login, permissions (the
//! admin dashboard answers 403 to non-staff accounts), per-account throttling, DRF pagination
//! and validation errors on Kibray's required fields, a bounded log-normal service time per
//! route and a small, evenly spread rate of 500s. Data is seeded and kept in memory; what
//! requests create is capped, so a long run does not grow without bound.
//!
//! Accounts: `loaduser001`..`loaduser200` (password `loadpass123`, project managers, the rows
//! of `scenarios/data/accounts.csv`), `loadadmin001`..`loadadmin020` (`adminpass123`, staff,
//! `scenarios/data/admins.csv`) and the superuser `admin` (`adminpass`). Each load account has
//! an employee record: `loaduser017` is employee 17, `loadadmin003` employee 203.
//!
//! Routes, all under `/api/v1/`, with their service time at `latency_scale` 1.0: the median and
//! the ceiling no request exceeds (for lists, at the default page of 20 rows):
//!
//! | route | median | ceiling |
//! |---|---|---|
//! | `GET health/` (no login) | 2 ms | 4 ms |
//! | `POST auth/login/` (no login) | 180 ms | 322 ms |
//! | `GET projects/` (`page`, `page_size`) | 45 ms + 0.5 ms/row | 111 ms |
//! | `GET projects/{id}/` | 35 ms | 79 ms |
//! | `GET tasks/` (`project`, `status`, `page`, `page_size`) | 50 ms + 0.3 ms/row | 100 ms (358 ms at 500 rows) |
//! | `POST tasks/` (`title`, `project` required) | 90 ms | 161 ms |
//! | `GET tasks/{id}/` | 25 ms | 57 ms |
//! | `PATCH tasks/{id}/` | 75 ms | 134 ms |
//! | `POST tasks/bulk-update/` (`task_ids`, `action`, `value`) | 400 ms | 1016 ms |
//! | `GET time-entries/` (`page`, `page_size`) | 55 ms + 0.4 ms/row | 113 ms |
//! | `POST time-entries/` (`employee`, `date`, `start_time` required) | 80 ms | 143 ms |
//! | `GET schedule/items/` (`project`, `start`, `end`) | 55 ms | 111 ms |
//! | `GET search/?q=` | 55 ms | 111 ms |
//! | `GET bi/kpis/` | 60 ms | 115 ms |
//! | `GET dashboards/admin/` (staff only) | 450 ms | 1143 ms |
//! | `POST site-photos/` (multipart `image`, `project` required; `caption`) | 280 ms | 563 ms |

mod app;
mod auth;
mod body;
mod endpoint;
mod error;
mod insights;
mod pagination;
mod photos;
mod projects;
mod schedule;
mod store;
mod tasks;
mod throttle;
mod time_entries;
mod token;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::serve::Background;

use app::App;
use endpoint::Endpoint;
use error::ApiError;

/// How the demo server behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Multiplies every simulated service time: 1.0 is realistic, 0.0 adds no delay (tests).
    pub latency_scale: f64,
    /// Fraction of requests answered `500 {"detail": "Internal server error"}`, after
    /// authentication, permissions and throttling passed. Spread evenly rather than drawn at
    /// random (0.004 fails every 250th request), so a run never sees more. `health/`, login
    /// and the project list never fail.
    pub error_rate: f64,
    /// Seeds the generated data and every per-request random draw.
    pub seed: u64,
    /// Requests one account may make in any sliding minute before getting 429, like DRF's
    /// `UserRateThrottle`; `None` turns throttling off. Login is not throttled.
    pub throttle_per_minute: Option<u32>,
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig {
            latency_scale: 1.0,
            error_rate: 0.004,
            seed: 0x6b69_6272_6179,
            throttle_per_minute: Some(120),
        }
    }
}

impl DemoConfig {
    fn validate(&self) -> io::Result<()> {
        let invalid = |what: String| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if !(self.latency_scale.is_finite() && self.latency_scale >= 0.0) {
            return invalid(format!(
                "latency_scale must be 0 or more, not {}",
                self.latency_scale
            ));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return invalid(format!(
                "error_rate must be between 0 and 1, not {}",
                self.error_rate
            ));
        }
        Ok(())
    }
}

/// How long `shutdown` lets in-flight requests finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running demo server. Dropping it stops the server too, without waiting.
pub struct DemoServer {
    addr: SocketAddr,
    server: Background,
}

impl DemoServer {
    /// Binds `addr` (use "127.0.0.1:0" in tests) and serves in the background on the current
    /// tokio runtime.
    ///
    /// Fails if the address cannot be bound or `config` is out of range (`InvalidInput`).
    pub async fn start(addr: SocketAddr, config: DemoConfig) -> io::Result<DemoServer> {
        config.validate()?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(&config, addr));
        // Small JSON responses must not wait for Nagle's algorithm.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        Ok(DemoServer {
            addr,
            server: Background::spawn(
                listener,
                router(app),
                CancellationToken::new(),
                SHUTDOWN_GRACE,
            ),
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, without a trailing slash; routes are under `/api/v1/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 10 s), then returns.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Every route of the imitated API.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/v1/health/", get(health))
        .route("/api/v1/auth/login/", post(auth::login))
        .route("/api/v1/projects/", get(projects::list))
        .route("/api/v1/projects/{id}/", get(projects::detail))
        .route("/api/v1/tasks/", get(tasks::list).post(tasks::create))
        .route("/api/v1/tasks/bulk-update/", post(tasks::bulk_update))
        .route(
            "/api/v1/tasks/{id}/",
            get(tasks::detail).patch(tasks::update),
        )
        .route(
            "/api/v1/time-entries/",
            get(time_entries::list).post(time_entries::create),
        )
        .route("/api/v1/schedule/items/", get(schedule::items))
        .route("/api/v1/search/", get(insights::search))
        .route("/api/v1/bi/kpis/", get(insights::kpis))
        .route("/api/v1/dashboards/admin/", get(insights::admin_dashboard))
        .route(
            "/api/v1/site-photos/",
            post(photos::upload).layer(DefaultBodyLimit::max(photos::MAX_UPLOAD_BYTES)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// `GET health/`: fast, no login, never an injected failure.
async fn health(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.admit(&headers, Endpoint::Health, 0).await?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}

#[cfg(test)]
mod tests;
