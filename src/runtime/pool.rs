//! The closed model's users, by global slot: slot `g` is the `g`-th user a single process
//! would start (its class from Locust's dispatch). This process runs the slots its segment
//! owns; growing the population starts the owned slots below the new count, shrinking it
//! stops the owned slots above, newest first, as Locust does.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::dispatch::ClassSequence;
use super::signal::Signal;
use super::user::{StartError, StopTokens, VirtualUser};
use super::{Control, RunShared};

pub(super) struct Pool {
    shared: Arc<RunShared>,
    control: Arc<Control>,
    sequence: ClassSequence,
    /// The global population applied so far.
    population: usize,
    /// Stop signals of this process's running users, by slot.
    running: BTreeMap<usize, Signal>,
    /// How many times each slot was started (a user stopped by a ramp down and started again
    /// draws new random numbers).
    starts: Vec<u32>,
    tasks: JoinSet<()>,
    interrupt: Signal,
}

impl Pool {
    pub(super) fn new(
        shared: Arc<RunShared>,
        control: Arc<Control>,
        enabled_classes: &[bool],
        interrupt: Signal,
    ) -> Pool {
        let sequence = ClassSequence::new(&shared.globals.plan.classes, enabled_classes);
        Pool {
            shared,
            control,
            sequence,
            population: 0,
            running: BTreeMap::new(),
            starts: Vec::new(),
            tasks: JoinSet::new(),
            interrupt,
        }
    }

    /// Makes the global population `target`: starts and stops this segment's users.
    pub(super) fn resize(&mut self, target: usize) {
        self.reap();
        while self.population < target {
            let g = self.population;
            let Some((class, k)) = self.sequence.get(g) else {
                // Every class has its fixed count of users.
                break;
            };
            self.population += 1;
            if self.shared.segment.owns_user(class, k) {
                self.start(g, class);
            }
        }
        while self.population > target {
            self.population -= 1;
            if let Some(stop) = self.running.remove(&self.population) {
                stop.cancel();
            }
        }
    }

    fn start(&mut self, slot: usize, class: usize) {
        if self.starts.len() <= slot {
            self.starts.resize(slot + 1, 0);
        }
        let generation = self.starts[slot];
        self.starts[slot] += 1;
        let stop = Signal::new();
        let tokens = StopTokens {
            stop: stop.clone(),
            interrupt: self.interrupt.clone(),
            kill: self.control.kill.clone(),
        };
        let shared = self.shared.clone();
        let control = self.control.clone();
        // User ids are global (slot + 1): `user_id()` means the same user on every segment.
        let id = slot as u64 + 1;
        self.tasks.spawn(async move {
            let mut user = match VirtualUser::with_generation(shared.clone(), class, id, generation)
            {
                Ok(u) => u,
                Err(StartError::FeedExhausted(m)) => {
                    shared.note_not_started(m);
                    return;
                }
            };
            let _counted = control.count_user(class);
            if user.start(&tokens).await {
                user.run_loop(&tokens).await;
            }
            user.stop(&tokens).await;
        });
        self.running.insert(slot, stop);
    }

    /// Lets go of users that have finished (stopped by a ramp down): a finished task keeps
    /// its memory until it is joined.
    pub(super) fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    pub(super) fn stop_all(&mut self) {
        for (_, stop) in std::mem::take(&mut self.running) {
            stop.cancel();
        }
    }

    pub(super) async fn join_all(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    pub(super) fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}
