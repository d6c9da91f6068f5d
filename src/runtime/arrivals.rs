//! The open model: iteration `g` is due at `g / rate` seconds, whatever the server does.
//!
//! A thread of its own (the pacer) sleeps until each due instant — an OS sleep with a small
//! timer slack, a fraction of a millisecond late, where the runtime's timer wheel rounds to
//! whole milliseconds — takes an idle user from the pool (or starts a new one, up to the cap)
//! and hands the iteration to the runtime. With no user to run it, the iteration is dropped
//! and counted. How late each iteration actually started is recorded (the generator's
//! lateness); its requests' latency from the intended start is `lag + latency`.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::dispatch::ClassSequence;
use super::user::{StartError, StopTokens, VirtualUser};
use super::{Control, RunShared};
use crate::schedule::ArrivalRate;

/// Iterations running, and a way to wait until there are none.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    fn begin(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

pub(super) struct Arrivals {
    stop: Arc<AtomicBool>,
    cap: Arc<AtomicU32>,
    pacer: Option<std::thread::JoinHandle<()>>,
    in_flight: Arc<InFlight>,
    idle: Arc<Mutex<Vec<VirtualUser>>>,
    tokens: StopTokens,
    on_stop: JoinSet<()>,
}

/// What the pacer thread needs.
struct Pacer {
    shared: Arc<RunShared>,
    control: Arc<Control>,
    rate: ArrivalRate,
    sequence: ClassSequence,
    next_slot: usize,
    cap: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    in_flight: Arc<InFlight>,
    idle: Arc<Mutex<Vec<VirtualUser>>>,
    tokens: StopTokens,
    runtime: tokio::runtime::Handle,
}

impl Arrivals {
    /// Starts pacing arrivals at `rate` on a thread of its own.
    pub(super) fn start(
        shared: Arc<RunShared>,
        control: Arc<Control>,
        rate: ArrivalRate,
        enabled_classes: &[bool],
        tokens: StopTokens,
    ) -> Arrivals {
        let stop = Arc::new(AtomicBool::new(false));
        let cap = Arc::new(AtomicU32::new(rate.max_users));
        let in_flight = Arc::new(InFlight::default());
        let idle = Arc::new(Mutex::new(Vec::new()));
        let pacer = Pacer {
            sequence: ClassSequence::new(&shared.globals.plan.classes, enabled_classes),
            shared,
            control,
            rate,
            next_slot: 0,
            cap: cap.clone(),
            stop: stop.clone(),
            in_flight: in_flight.clone(),
            idle: idle.clone(),
            tokens: tokens.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        let thread = std::thread::Builder::new()
            .name("kload-pacer".into())
            .spawn(move || pacer.run());
        let pacer = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                // No thread, no arrivals: said once, the run goes on (and measures nothing).
                eprintln!("error: cannot start the arrival pacer: {e}");
                None
            }
        };
        Arrivals {
            stop,
            cap,
            pacer,
            in_flight,
            idle,
            tokens,
            on_stop: JoinSet::new(),
        }
    }

    /// Changes the cap of users (a live change of users in the open model).
    pub(super) fn set_cap(&self, max_users: u32) {
        self.cap.store(max_users, Ordering::Relaxed);
    }

    /// Starts no more arrivals.
    pub(super) async fn stop_pacing(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(pacer) = self.pacer.take() {
            // The pacer sleeps at most a few ms at a time and checks the flag.
            let _ = tokio::task::spawn_blocking(move || pacer.join()).await;
        }
    }

    /// Waits for running iterations, then runs `on stop` for every user of the pool, all at
    /// once like the users of the closed model.
    pub(super) async fn drain(&mut self) {
        self.in_flight.wait_idle().await;
        let users: Vec<VirtualUser> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for mut u in users {
            // `on stop` obeys only the kill signal, like the closed model's.
            let tokens = self.tokens.clone();
            self.on_stop.spawn(async move { u.stop(&tokens).await });
        }
        while self.on_stop.join_next().await.is_some() {}
    }

    /// After a kill: abandons `on stop`, waits until running iterations gave up (they obey
    /// the kill signal) and their users are dropped.
    pub(super) async fn abandon(&mut self) {
        self.on_stop.abort_all();
        while self.on_stop.join_next().await.is_some() {}
        self.in_flight.wait_idle().await;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Sleeps until `due` unless `stop` is set first; false when stopped.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        std::thread::sleep((due - now).min(Duration::from_millis(20)));
    }
}

/// Asks the OS to wake this thread within a microsecond of a sleep's end (Linux's default
/// timer slack is 50 µs).
fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only changes this thread's
    // timer slack; the unused arguments are ignored.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000u64, 0u64, 0u64, 0u64);
    }
}

impl Pacer {
    fn run(mut self) {
        tighten_timer_slack();
        let segment = self.shared.segment;
        // A segment that joined late (its start instant passed, `--late-start join`) does not
        // fire the arrivals whose time went by: they are counted as dropped.
        let late = Instant::now().saturating_duration_since(self.shared.started);
        let first = if late > crate::session::LATE_START_TOLERANCE {
            let due = self.rate.due_by(late);
            let missed = (0..due).filter(|g| segment.owns_arrival(*g)).count() as u64;
            self.shared.metrics.add_dropped_iterations(missed);
            due
        } else {
            0
        };
        let mut g = segment.next_owned_arrival(first);
        loop {
            let due = self.shared.started + self.rate.due(g);
            if !sleep_until(due, &self.stop) {
                return;
            }
            let next = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match next.map(|u| (u, false)).or_else(|| self.new_user()) {
                Some((user, fresh)) => self.launch(user, fresh, due),
                None => self.shared.metrics.add_dropped_iterations(1),
            }
            g = segment.next_owned_arrival(g + 1);
        }
    }

    /// A new user for the pool, if the cap allows one.
    fn new_user(&mut self) -> Option<(VirtualUser, bool)> {
        let cap = self.cap.load(Ordering::Relaxed) as usize;
        while self.next_slot < cap {
            let slot = self.next_slot;
            let (class, k) = self.sequence.get(slot)?;
            self.next_slot += 1;
            if !self.shared.segment.owns_user(class, k) {
                continue;
            }
            return match VirtualUser::new(self.shared.clone(), class, slot as u64 + 1) {
                Ok(u) => Some((u, true)),
                Err(StartError::FeedExhausted(m)) => {
                    // The slot stays taken: reported once, not for every later iteration.
                    self.shared.note_not_started(m);
                    None
                }
            };
        }
        None
    }

    fn launch(&self, mut user: VirtualUser, fresh: bool, due: Instant) {
        self.in_flight.begin();
        let tokens = self.tokens.clone();
        let shared = self.shared.clone();
        let control = self.control.clone();
        let idle = self.idle.clone();
        let in_flight = self.in_flight.clone();
        self.runtime.spawn(async move {
            // How late the generator started this iteration: the pacer's wake-up and the
            // runtime's pick-up. The iteration's requests are late by at least this much.
            let now = Instant::now();
            let elapsed_ms = now.saturating_duration_since(shared.started).as_millis() as u32;
            let late = now.saturating_duration_since(due);
            user.recorder.lateness(
                elapsed_ms,
                late.as_micros().min(u128::from(u32::MAX)) as u32,
            );
            {
                let _counted = control.count_user(user.class);
                let ok = !fresh || user.start(&tokens).await;
                let table = &shared.task_tables[user.class];
                if ok && !table.is_empty() && !tokens.stop.is_cancelled() {
                    let task = table.pick(&mut user.state.rng);
                    user.run_task(task, &tokens, Some(due)).await;
                }
                user.recorder.flush();
            }
            idle.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(user);
            in_flight.end();
        });
    }
}
