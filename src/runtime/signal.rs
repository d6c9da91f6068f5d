//! A cancellation signal that is cheap to ask about.
//!
//! `tokio_util`'s `CancellationToken::is_cancelled` takes the token's mutex. Users ask
//! whether they should stop a few times per request, and the interrupt and kill signals are
//! shared by every user, so on several cores that mutex would be taken by all workers for
//! every request. A [`Signal`] answers from an atomic flag and keeps the token for waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::{
    CancellationToken, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};

#[derive(Clone, Default)]
pub struct Signal {
    fired: Arc<AtomicBool>,
    token: CancellationToken,
}

impl Signal {
    pub fn new() -> Signal {
        Signal::default()
    }

    /// Fires the signal: `is_cancelled` is true from now on, and every waiter wakes.
    pub fn cancel(&self) {
        self.fired.store(true, Ordering::Release);
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Completes once the signal fired.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// Like [`cancelled`](Self::cancelled), owning a handle to the signal.
    pub fn cancelled_owned(self) -> WaitForCancellationFutureOwned {
        self.token.cancelled_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_sees_the_signal_and_waiters_wake() {
        let signal = Signal::new();
        let other = signal.clone();
        assert!(!other.is_cancelled());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let waiter = tokio::spawn(other.clone().cancelled_owned());
            signal.cancel();
            waiter.await.unwrap();
        });
        assert!(other.is_cancelled());
    }
}
