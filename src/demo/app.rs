//! The server's shared state and the gate every request passes: authentication, permission,
//! throttling, simulated service time and injected failures.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::DemoConfig;
use super::endpoint::{Endpoint, REJECTION};
use super::error::ApiError;
use super::store::{self, Catalog, Table, Task, TimeEntry};
use super::throttle::Throttle;
use super::token::{Account, Signer, splitmix64};

/// Everything the handlers share. Locks are held only between awaits, never across one.
pub(crate) struct App {
    latency_scale: f64,
    error_rate: f64,
    seed: u64,
    /// Numbers the requests, so each gets its own RNG without sharing one.
    requests: AtomicU64,
    /// Numbers the requests that passed the gate on a route that may fail, to spread the
    /// injected failures evenly over them.
    failable: AtomicU64,
    pub(crate) signer: Signer,
    throttle: Option<Throttle>,
    pub(crate) catalog: Catalog,
    tasks: RwLock<Table<Task>>,
    time_entries: RwLock<Table<TimeEntry>>,
    pub(crate) photos: AtomicU64,
    /// The bound address, for links when a client sends no `Host`.
    pub(crate) addr: SocketAddr,
}

/// A request that passed the gate: who sent it and randomness of its own.
pub(crate) struct Call {
    /// `None` only on routes without login.
    pub(crate) account: Option<Account>,
    pub(crate) rng: SmallRng,
}

impl App {
    pub(crate) fn new(config: &DemoConfig, addr: SocketAddr) -> App {
        let (catalog, tasks, time_entries) = store::seed(config.seed);
        App {
            latency_scale: config.latency_scale,
            error_rate: config.error_rate,
            seed: config.seed,
            requests: AtomicU64::new(0),
            failable: AtomicU64::new(0),
            signer: Signer::new(splitmix64(config.seed ^ 0x6b6c_6f61_642d_6a77)),
            throttle: config.throttle_per_minute.map(Throttle::new),
            catalog,
            tasks: RwLock::new(tasks),
            time_entries: RwLock::new(time_entries),
            photos: AtomicU64::new(0),
            addr,
        }
    }

    /// Lets a request through to `endpoint`'s view, or refuses it.
    ///
    /// In DRF's order: authenticate (401), check permissions (403), throttle (429), then the
    /// view, whose service time is slept here (scaled by `latency_scale`) before it may fail
    /// (500, see [`App::injects_failure`]). `rows` is the page size of a list, 0 otherwise.
    /// Refusals cost a few milliseconds, like the middleware and token decode that produce them.
    pub(crate) async fn admit(
        &self,
        headers: &HeaderMap,
        endpoint: Endpoint,
        rows: usize,
    ) -> Result<Call, ApiError> {
        let mut rng = self.request_rng();
        let account = if endpoint.needs_login() {
            let admitted = self
                .authenticate(headers)
                .and_then(|a| permit(a, endpoint))
                .and_then(|a| self.throttle(a));
            match admitted {
                Ok(account) => Some(account),
                Err(refusal) => {
                    self.pause(REJECTION.sample(0, &mut rng)).await;
                    return Err(refusal);
                }
            }
        } else {
            None
        };
        let service = endpoint.profile().sample(rows, &mut rng);
        let fails = endpoint.may_fail() && self.injects_failure();
        self.pause(service).await;
        if fails {
            return Err(ApiError::Injected);
        }
        Ok(Call { account, rng })
    }

    /// Whether this request is one of the `error_rate` that fail. They are spread evenly, not
    /// drawn at random: of the first n requests that may fail, exactly ⌊n × error_rate⌋ do, so
    /// a run's error rate never exceeds `error_rate`, however short the run. Which route a
    /// failure hits still depends on how the clients' requests interleave.
    fn injects_failure(&self) -> bool {
        let n = self.failable.fetch_add(1, Ordering::Relaxed) as f64;
        ((n + 1.0) * self.error_rate).floor() > (n * self.error_rate).floor()
    }

    /// SimpleJWT's `JWTAuthentication`: no Bearer header is "not provided", a bad one is invalid.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Account, ApiError> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::NotAuthenticated)?;
        let mut parts = value.split_whitespace();
        if parts.next() != Some("Bearer") {
            return Err(ApiError::NotAuthenticated);
        }
        let (Some(token), None) = (parts.next(), parts.next()) else {
            return Err(ApiError::BadAuthorizationHeader);
        };
        self.signer
            .verify_access(token, unix_now())
            .ok_or(ApiError::TokenNotValid)
    }

    /// DRF's `UserRateThrottle`: counts the request against `account`'s minute, if throttling is on.
    fn throttle(&self, account: Account) -> Result<Account, ApiError> {
        let Some(throttle) = &self.throttle else {
            return Ok(account);
        };
        match throttle.check(account, tokio::time::Instant::now()) {
            Ok(()) => Ok(account),
            Err(wait) => Err(ApiError::Throttled {
                wait_secs: whole_seconds(wait),
            }),
        }
    }

    /// A fresh RNG: the seed mixed with this request's number, so no lock is shared.
    pub(crate) fn request_rng(&self) -> SmallRng {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(splitmix64(
            self.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ))
    }

    async fn pause(&self, service: Duration) {
        let scaled = service.mul_f64(self.latency_scale);
        if !scaled.is_zero() {
            tokio::time::sleep(scaled).await;
        }
    }

    pub(crate) fn tasks(&self) -> RwLockReadGuard<'_, Table<Task>> {
        self.tasks.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn tasks_mut(&self) -> RwLockWriteGuard<'_, Table<Task>> {
        self.tasks.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn time_entries(&self) -> RwLockReadGuard<'_, Table<TimeEntry>> {
        self.time_entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn time_entries_mut(&self) -> RwLockWriteGuard<'_, Table<TimeEntry>> {
        self.time_entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// DRF's `IsAdminUser` on admin-only routes; every other route only needs a login.
fn permit(account: Account, endpoint: Endpoint) -> Result<Account, ApiError> {
    if endpoint.admin_only() && !account.is_staff() {
        Err(ApiError::PermissionDenied)
    } else {
        Ok(account)
    }
}

/// Seconds since the Unix epoch, for token times.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// DRF rounds the wait up to whole seconds, and never says 0.
fn whole_seconds(wait: Duration) -> u64 {
    let ceil = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ceil.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::token::TokenKind;

    fn app(config: DemoConfig) -> App {
        App::new(&config, "127.0.0.1:9".parse().unwrap())
    }

    fn bearer(app: &App, user: &str) -> HeaderMap {
        let token = app.signer.issue(
            Account::named(user).unwrap(),
            TokenKind::Access,
            unix_now(),
            1,
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        let cases = [(0, 1), (1, 1), (999, 1), (1000, 1), (1001, 2), (59_500, 60)];
        for (ms, secs) in cases {
            assert_eq!(whole_seconds(Duration::from_millis(ms)), secs, "{ms} ms");
        }
    }

    /// The gate sleeps the sampled service time times the scale: never less (tokio timers do not
    /// fire early), and nothing at scale 0. The sample is deterministic: request 0 of a fresh app.
    #[tokio::test]
    async fn service_time_is_slept_and_scaled() {
        let sample = Endpoint::AdminDashboard
            .profile()
            .sample(0, &mut app(DemoConfig::default()).request_rng());
        assert!(
            sample >= Duration::from_millis(40),
            "a dashboard is slow: {sample:?}"
        );
        for scale in [0.5, 0.0] {
            let app = app(DemoConfig {
                latency_scale: scale,
                error_rate: 0.0,
                ..DemoConfig::default()
            });
            let headers = bearer(&app, "loadadmin003");
            let start = tokio::time::Instant::now();
            app.admit(&headers, Endpoint::AdminDashboard, 0)
                .await
                .unwrap();
            let slept = start.elapsed();
            if scale > 0.0 {
                assert!(
                    slept >= sample.mul_f64(scale),
                    "scale {scale}: {slept:?} vs {sample:?}"
                );
            } else {
                assert!(slept < sample / 4, "no delay at scale 0: {slept:?}");
            }
        }
    }

    #[tokio::test]
    async fn the_gate_refuses_in_drf_order() {
        let app = app(DemoConfig {
            latency_scale: 0.0,
            error_rate: 1.0,
            throttle_per_minute: Some(1),
            ..DemoConfig::default()
        });
        let none = HeaderMap::new();
        let alice = bearer(&app, "loaduser001");
        let mut bad = HeaderMap::new();
        bad.insert(header::AUTHORIZATION, "Bearer a b".parse().unwrap());

        let outcome = |r: Result<Call, ApiError>| r.err().map(|e| e.to_string());
        for exempt in [Endpoint::Health, Endpoint::Login] {
            assert!(
                outcome(app.admit(&none, exempt, 0).await).is_none(),
                "{exempt:?} never fails"
            );
        }
        let denied = "You do not have permission to perform this action.";
        let cases = [
            (
                &none,
                Endpoint::TaskList,
                "Authentication credentials were not provided.",
            ),
            (
                &bad,
                Endpoint::TaskList,
                "Authorization header must contain two space-delimited values",
            ),
            // Permissions come before the throttle: a refused request is not counted.
            (&alice, Endpoint::AdminDashboard, denied),
            (&alice, Endpoint::TaskList, "Internal server error"),
            (
                &alice,
                Endpoint::TaskList,
                "Request was throttled. Expected available in 60 seconds.",
            ),
            (&alice, Endpoint::AdminDashboard, denied),
        ];
        for (headers, endpoint, want) in cases {
            let got = outcome(app.admit(headers, endpoint, 20).await);
            assert_eq!(got.as_deref(), Some(want), "{endpoint:?}");
        }
        let staff = bearer(&app, "loadadmin001");
        assert_eq!(
            outcome(app.admit(&staff, Endpoint::AdminDashboard, 0).await).as_deref(),
            Some("Internal server error"),
            "an admin gets through to the view"
        );
    }

    /// Exactly ⌊n × rate⌋ of the first n failable requests fail, evenly spaced, and routes that
    /// may not fail neither fail nor count.
    #[tokio::test]
    async fn injected_failures_are_spread_evenly() {
        for (rate, every) in [(0.004, 250), (0.25, 4), (1.0, 1)] {
            let app = app(DemoConfig {
                latency_scale: 0.0,
                error_rate: rate,
                throttle_per_minute: None,
                ..DemoConfig::default()
            });
            let headers = bearer(&app, "loaduser002");
            let mut failed = Vec::new();
            for n in 1..=1000 {
                let _ = app
                    .admit(&headers, Endpoint::ProjectList, 20)
                    .await
                    .unwrap();
                if app.admit(&headers, Endpoint::TaskList, 20).await.is_err() {
                    failed.push(n);
                }
            }
            let want: Vec<usize> = (1..=1000).filter(|n| n % every == 0).collect();
            assert_eq!(failed, want, "rate {rate}");
        }
        let app = app(DemoConfig {
            latency_scale: 0.0,
            error_rate: 0.0,
            throttle_per_minute: None,
            ..DemoConfig::default()
        });
        let headers = bearer(&app, "loaduser003");
        for _ in 0..1000 {
            assert!(app.admit(&headers, Endpoint::TaskList, 20).await.is_ok());
        }
    }
}
