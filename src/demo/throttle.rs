//! Per-account rate limiting, DRF `UserRateThrottle` style: a sliding one-minute log of each
//! account's request times.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::token::Account;

/// DRF's `"user": "120/min"` window.
const WINDOW: Duration = Duration::from_secs(60);

/// The request log of every account, one lock each so accounts never wait on one another.
pub(crate) struct Throttle {
    limit: usize,
    history: Box<[Mutex<VecDeque<Instant>>]>,
}

impl Throttle {
    /// At most `per_minute` requests per account in any sliding minute.
    pub(crate) fn new(per_minute: u32) -> Throttle {
        Throttle {
            limit: per_minute as usize,
            history: (0..Account::COUNT)
                .map(|_| Mutex::new(VecDeque::new()))
                .collect(),
        }
    }

    /// Records a request by `account` at `now`, or refuses it with how long until one is free.
    ///
    /// Like DRF, a refused request is not recorded, so hammering does not extend the wait.
    pub(crate) fn check(&self, account: Account, now: Instant) -> Result<(), Duration> {
        let mut history = self.history[account.index()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while history
            .front()
            .is_some_and(|&at| now.duration_since(at) >= WINDOW)
        {
            history.pop_front();
        }
        if history.len() < self.limit {
            history.push_back(now);
            return Ok(());
        }
        let oldest = history.front().copied().unwrap_or(now);
        Err(WINDOW.saturating_sub(now.duration_since(oldest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_accounts_are_separate() {
        let throttle = Throttle::new(3);
        let alice = Account::named("loaduser001").unwrap();
        let bob = Account::named("loaduser002").unwrap();
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);

        assert_eq!(throttle.check(alice, at(0)), Ok(()));
        assert_eq!(throttle.check(alice, at(10)), Ok(()));
        assert_eq!(throttle.check(alice, at(20)), Ok(()));
        assert_eq!(throttle.check(alice, at(30)), Err(Duration::from_secs(30)));
        assert_eq!(
            throttle.check(bob, at(30)),
            Ok(()),
            "bob has his own window"
        );
        assert_eq!(
            throttle.check(alice, at(60)),
            Ok(()),
            "the first request left the window"
        );
        assert_eq!(throttle.check(alice, at(61)), Err(Duration::from_secs(9)));
    }

    #[test]
    fn a_zero_limit_refuses_everything_for_a_minute() {
        let throttle = Throttle::new(0);
        let admin = Account::named("admin").unwrap();
        assert_eq!(throttle.check(admin, Instant::now()), Err(WINDOW));
    }
}
