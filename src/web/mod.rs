//! The web UI on port 8089: Locust's start form, live statistics, charts and controls, and
//! Locust's HTTP endpoints, served from the binary for a run behind a [`Controller`].
//!
//! ```text
//! browser ──GET /, /assets/*──▶ page (static HTML, CSS, JS; charts drawn as SVG, no CDN)
//!         ──GET /events (SSE)──▶ PageView of each UiSnapshot, about once a second
//!         ──POST /swarm, GET /stop, /stats/reset──▶ Controller::{start, set_users, stop, reset_stats}
//! scripts ──Locust's endpoints (/stats/requests, CSV downloads, /tasks, /exceptions)──▶ same data
//! ```
//!
//! The server and the page depend on nothing of the runtime: they talk to a [`Controller`],
//! and [`serve`] takes one with [`WebOptions`] and returns the bound address and a shutdown
//! handle. [`SessionController`] (`session.rs`) is the controller of real runs, over
//! `kload::session`; the tests also use a deterministic fake. `docs/webui.md` lists every
//! endpoint with example responses.
//!
//! Security by default (see [`guard`]): 127.0.0.1 unless told otherwise, a login required on
//! any other address, loopback `Host` names only without a login (DNS rebinding), no
//! cross-site request may change anything, a strict Content-Security-Policy, and a host URL's
//! password never reaches the page.

mod controller;
pub mod guard;
pub mod locust;
mod routes;
mod session;
mod snapshot;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::serve::Background;

pub use controller::{
    ClassView, Controller, Download, LoadModel, PlanView, StageView, StartRequest, TaskView,
};
pub use guard::{WebLogin, check_exposure};
pub use session::SessionController;
pub use snapshot::{
    ClassRatio, ClassUsers, CurrentPercentiles, FailureRow, History, HistoryPoint, LogLine,
    MAX_FAILURES, MAX_HISTORY, MAX_LOG_LINES, MAX_ROWS, MAX_SCENARIO_ERRORS, MAX_TEXT, PageView,
    RunState, ScenarioError, StatRow, TaskRatio, ThresholdStatus, ThresholdView, UiSnapshot,
    redact_url,
};

/// Locust's default port for the web UI.
pub const DEFAULT_PORT: u16 = 8089;

/// Where and how the web UI listens (`--web-host`, `-P/--web-port`, `--web-login`).
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// An IP address, `localhost`, or `*` for every interface. Default `127.0.0.1`.
    pub host: String,
    /// The port; 0 picks a free one (tests). Default 8089.
    pub port: u16,
    /// User and password the browser must give; required when `host` is not loopback.
    pub login: Option<WebLogin>,
}

impl Default for WebOptions {
    fn default() -> WebOptions {
        WebOptions {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            login: None,
        }
    }
}

/// Why the web UI could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// `--web-host` is not an address.
    #[error(
        "--web-host {host:?} is not an IP address (use 127.0.0.1, ::1, 0.0.0.0, * or localhost)"
    )]
    BadHost {
        /// What was given.
        host: String,
    },
    /// A non-loopback address without `--web-login`.
    #[error(
        "refusing to serve the web UI on {ip} without a login: anyone who can reach it could start load tests from this machine. Give --web-login USER:PASSWORD (or set KLOAD_WEB_LOGIN), or keep --web-host 127.0.0.1"
    )]
    LoginRequired {
        /// The address asked for.
        ip: IpAddr,
    },
    /// The port is taken or the address is not ours.
    #[error("cannot listen on {addr}: {source} (choose another port with -P/--web-port)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

/// How long [`WebServer::shutdown`] lets open requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The running web UI. Dropping it stops the server without waiting.
pub struct WebServer {
    addr: SocketAddr,
    server: Background,
}

impl WebServer {
    /// The address actually bound (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to open in a browser (`http://127.0.0.1:8089/`).
    pub fn url(&self) -> String {
        guard::url_for(self.addr)
    }

    /// A token cancelled when the server shuts down (for `--autoquit` and signal handling).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.server.token()
    }

    /// Stops accepting connections, ends the event streams, lets other requests finish (up
    /// to 5 s), then returns.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Serves the web UI for `controller` in the background on the current tokio runtime.
///
/// Refuses a non-loopback address without a login ([`WebError::LoginRequired`]) before
/// binding anything.
pub async fn serve(
    controller: Arc<dyn Controller>,
    options: WebOptions,
) -> Result<WebServer, WebError> {
    let addr = guard::bind_address(&options.host, options.port)?;
    check_exposure(addr.ip(), options.login.as_ref())?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| WebError::Bind { addr, source })?;
    let shutdown = CancellationToken::new();
    let app = routes::router(
        controller,
        guard::Guard::new(options.login),
        shutdown.clone(),
    );
    Ok(WebServer {
        addr,
        server: Background::spawn(listener, app, shutdown, SHUTDOWN_GRACE),
    })
}
