//! A cancellation signal that is cheap to ask about and to wait for.
//!
//! Users check a few times per request whether they should stop, and every in-flight
//! request waits for the interrupt and kill signals, which all users share. `tokio_util`'s
//! `CancellationToken` takes the token's mutex both to answer `is_cancelled` and every time
//! a waiting future is polled, so on several cores all workers would queue on one lock for
//! every request. A [`Signal`] answers from an atomic flag, and a [`Listener`] (one per
//! user) waits on its own waker slot: nothing shared is locked while requests run.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

#[derive(Clone, Default)]
pub struct Signal {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    fired: AtomicBool,
    /// For the run's own waits (`cancelled`), which are few and not per request.
    token: CancellationToken,
    /// The listeners' waker slots, woken once when the signal fires.
    listeners: Mutex<Vec<Weak<AtomicWaker>>>,
}

impl Signal {
    pub fn new() -> Signal {
        Signal::default()
    }

    /// Fires the signal: `is_cancelled` is true from now on, and every waiter and listener
    /// wakes.
    pub fn cancel(&self) {
        self.inner.fired.store(true, Ordering::Release);
        self.inner.token.cancel();
        let listeners = std::mem::take(
            &mut *self
                .inner
                .listeners
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for waker in listeners.iter().filter_map(Weak::upgrade) {
            waker.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.fired.load(Ordering::Acquire)
    }

    /// Completes once the signal fired.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.inner.token.cancelled()
    }

    /// A waker slot of one's own for this signal, to wait for it many times over without
    /// touching anything shared.
    pub fn listener(&self) -> Listener {
        let waker = Arc::new(AtomicWaker::new());
        let mut listeners = self
            .inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if listeners.len() == listeners.capacity() {
            // Forget the slots of listeners that are gone before growing.
            listeners.retain(|w| w.strong_count() > 0);
        }
        listeners.push(Arc::downgrade(&waker));
        Listener {
            signal: self.clone(),
            waker,
        }
    }

    /// Whether `listener` listens to this signal.
    pub fn owns(&self, listener: &Listener) -> bool {
        Arc::ptr_eq(&self.inner, &listener.signal.inner)
    }
}

/// One waiter's registration with a [`Signal`]; `fired()` can be awaited any number of times.
pub struct Listener {
    signal: Signal,
    waker: Arc<AtomicWaker>,
}

impl Listener {
    /// Completes once the signal fired.
    pub fn fired(&self) -> Fired<'_> {
        Fired(self)
    }
}

pub struct Fired<'a>(&'a Listener);

impl Future for Fired<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let listener = self.0;
        if listener.signal.is_cancelled() {
            return Poll::Ready(());
        }
        listener.waker.register(cx.waker());
        // Fired between the check and the registration: its wake may have missed us.
        if listener.signal.is_cancelled() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_clone_sees_the_signal_and_waiters_wake() {
        let signal = Signal::new();
        let other = signal.clone();
        assert!(!other.is_cancelled());
        runtime().block_on(async {
            let waiter = tokio::spawn(async move { other.cancelled().await });
            tokio::task::yield_now().await;
            signal.cancel();
            waiter.await.unwrap();
        });
        assert!(signal.is_cancelled());
    }

    #[test]
    fn a_listener_waits_until_the_signal_fires_and_can_wait_again() {
        let signal = Signal::new();
        let listener = signal.listener();
        assert!(signal.owns(&listener));
        assert!(!Signal::new().owns(&listener));
        runtime().block_on(async {
            // Not fired: the wait times out.
            let early = tokio::time::timeout(Duration::from_millis(20), listener.fired()).await;
            assert!(early.is_err());
            let firing = signal.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                firing.cancel();
            });
            tokio::time::timeout(Duration::from_secs(10), listener.fired())
                .await
                .expect("the listener wakes when the signal fires");
            // Once fired, every later wait completes at once.
            listener.fired().await;
        });
    }

    #[test]
    fn listeners_that_are_gone_are_forgotten() {
        let signal = Signal::new();
        for _ in 0..1000 {
            drop(signal.listener());
        }
        let kept = signal.listener();
        let slots = signal.inner.listeners.lock().unwrap().len();
        assert!(slots < 100, "{slots} slots for one live listener");
        signal.cancel();
        runtime().block_on(kept.fired());
    }
}
