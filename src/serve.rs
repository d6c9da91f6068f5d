//! An axum app served in the background on the current tokio runtime, and stopped gracefully:
//! what the demo target, the web UI and the Prometheus `/metrics` server have in common.

use std::fmt::Debug;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A server running in the background. Dropping it stops the server too, without waiting.
pub struct Background {
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    /// How long [`Background::shutdown`] lets open requests finish.
    grace: Duration,
}

impl Background {
    /// Serves `app` on `listener` until `shutdown` is cancelled (by [`Background::shutdown`],
    /// a drop, or whoever else holds the token; accept errors are retried inside axum).
    pub fn spawn<L>(
        listener: L,
        app: Router,
        shutdown: CancellationToken,
        grace: Duration,
    ) -> Background
    where
        L: Listener,
        L::Addr: Debug,
    {
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let task = tokio::spawn(async move {
            let _ = serve.await;
        });
        Background {
            shutdown,
            task: Some(task),
            grace,
        }
    }

    /// A token cancelled when the server shuts down.
    pub fn token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections, lets open requests finish (up to the grace period, then
    /// cuts them off), and returns.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(self.grace, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
