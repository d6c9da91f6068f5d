//! The demo's endpoints as data: what each costs in time and whether it needs a login.

use std::time::Duration;

use rand::Rng;
use rand::rngs::SmallRng;

/// One route and method of the imitated API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Health,
    Login,
    ProjectList,
    ProjectDetail,
    TaskList,
    TaskDetail,
    TaskCreate,
    TaskUpdate,
    TaskBulkUpdate,
    TimeEntryList,
    TimeEntryCreate,
    ScheduleItems,
    Search,
    BiKpis,
    AdminDashboard,
    SitePhotoUpload,
}

/// A log-normal service time: `median_ms + per_row_ms × rows`, spread by `sigma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile {
    pub(crate) median_ms: f64,
    /// Serialization cost per row of a list page, so `page_size=500` is slower than 20.
    pub(crate) per_row_ms: f64,
    /// Standard deviation of the underlying normal; 0.3 gives p95 ≈ 1.6 × median.
    pub(crate) sigma: f64,
}

/// What a request refused before the view (401, 429) costs: middleware and a token decode.
pub(crate) const REJECTION: Profile = Profile {
    median_ms: 3.0,
    per_row_ms: 0.0,
    sigma: 0.3,
};

/// How often a request hits a stall (lock wait, GC, cold cache) and how much slower it is then.
/// This is what gives p99 its realistic distance from p95.
const STALL_PROBABILITY: f64 = 0.005;
const STALL_FACTOR: f64 = 4.0;
/// No sample is longer than this many medians, so one unlucky draw cannot hang a short test.
const MAX_MEDIANS: f64 = 12.0;

impl Endpoint {
    /// The service time of this endpoint, before `DemoConfig::latency_scale`.
    pub(crate) const fn profile(self) -> Profile {
        let (median_ms, per_row_ms, sigma) = match self {
            Endpoint::Health => (2.0, 0.0, 0.3),
            // Django's PBKDF2 password hashing dominates a login.
            Endpoint::Login => (180.0, 0.0, 0.25),
            Endpoint::ProjectList => (50.0, 0.5, 0.35),
            Endpoint::ProjectDetail => (35.0, 0.0, 0.35),
            Endpoint::TaskList => (65.0, 0.6, 0.4),
            Endpoint::TaskDetail => (25.0, 0.0, 0.35),
            Endpoint::TaskCreate => (110.0, 0.0, 0.3),
            Endpoint::TaskUpdate => (90.0, 0.0, 0.3),
            Endpoint::TaskBulkUpdate => (450.0, 0.0, 0.45),
            Endpoint::TimeEntryList => (75.0, 0.6, 0.4),
            Endpoint::TimeEntryCreate => (100.0, 0.0, 0.3),
            Endpoint::ScheduleItems => (70.0, 0.0, 0.35),
            Endpoint::Search => (100.0, 0.0, 0.45),
            Endpoint::BiKpis => (150.0, 0.0, 0.35),
            Endpoint::AdminDashboard => (550.0, 0.0, 0.5),
            Endpoint::SitePhotoUpload => (280.0, 0.0, 0.3),
        };
        Profile {
            median_ms,
            per_row_ms,
            sigma,
        }
    }

    /// Whether the route sits behind `Authorization: Bearer`.
    pub(crate) const fn needs_login(self) -> bool {
        !matches!(self, Endpoint::Health | Endpoint::Login)
    }

    /// Whether injected 500s apply. Health never fails, so it stays usable as a readiness probe.
    pub(crate) const fn may_fail(self) -> bool {
        !matches!(self, Endpoint::Health)
    }
}

impl Profile {
    /// One service time for a response of `rows` rows.
    pub(crate) fn sample(&self, rows: usize, rng: &mut SmallRng) -> Duration {
        let median = self.median_ms + self.per_row_ms * rows as f64;
        // Box–Muller; `1 - u` keeps the logarithm's argument in (0, 1].
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mut ms = median * (self.sigma * z).exp();
        if rng.random_bool(STALL_PROBABILITY) {
            ms *= STALL_FACTOR;
        }
        Duration::from_secs_f64(ms.min(median * MAX_MEDIANS) / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn percentile(sorted: &[Duration], p: f64) -> f64 {
        sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
    }

    /// With 20 000 samples the sample median of a log-normal with sigma ≤ 0.5 lies within 3 % of
    /// the true one far beyond six standard errors; p95 is checked against exp(1.645 σ) ± 6 %.
    #[test]
    fn samples_follow_the_profile() {
        let mut rng = SmallRng::seed_from_u64(1);
        for endpoint in [
            Endpoint::Health,
            Endpoint::TaskList,
            Endpoint::AdminDashboard,
        ] {
            let profile = endpoint.profile();
            let mut samples: Vec<Duration> =
                (0..20_000).map(|_| profile.sample(20, &mut rng)).collect();
            samples.sort();
            let median = profile.median_ms + 20.0 * profile.per_row_ms;
            let p50 = percentile(&samples, 0.5);
            let p95 = percentile(&samples, 0.95);
            let want_p95 = median * (1.645 * profile.sigma).exp();
            assert!(
                (p50 / median - 1.0).abs() < 0.03,
                "{endpoint:?} p50 {p50} vs {median}"
            );
            assert!(
                (p95 / want_p95 - 1.0).abs() < 0.06,
                "{endpoint:?} p95 {p95} vs {want_p95}"
            );
            assert!(percentile(&samples, 1.0) <= median * MAX_MEDIANS + 1e-6);
        }
    }

    #[test]
    fn rows_make_a_list_slower() {
        let profile = Endpoint::TaskList.profile();
        let mut a = SmallRng::seed_from_u64(9);
        let mut b = SmallRng::seed_from_u64(9);
        assert!(profile.sample(500, &mut a) > profile.sample(20, &mut b) * 3);
    }
}
