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

/// A service time: log-normal around `median_ms + per_row_ms × rows`, spread by `sigma`, and
/// bounded by construction: the normal draw behind it is kept within ±[`TAIL_Z`], so no sample
/// is longer than [`Profile::ceiling`]. That bound is what keeps `kload demo`'s verdict the same
/// from run to run: every percentile of an endpoint, p95 included, is at most its ceiling,
/// however few requests a short run makes, and the ceilings sit well below the scenario's
/// thresholds (see the tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile {
    pub(crate) median_ms: f64,
    /// Serialization cost per row of a list page, so `page_size=500` is slower than 20.
    pub(crate) per_row_ms: f64,
    /// Standard deviation of the underlying normal; 0.3 gives p95 ≈ 1.6 × median and a
    /// ceiling of 2.0 × median.
    pub(crate) sigma: f64,
}

/// What a request refused before the view (401, 403, 429) costs: middleware and a token decode.
pub(crate) const REJECTION: Profile = Profile {
    median_ms: 3.0,
    per_row_ms: 0.0,
    sigma: 0.3,
};

/// Where the log-normal is cut, in standard deviations: its own p1 and p99. Above that a real
/// server has a tail of lock waits and cold caches; a demo whose verdict must not change from
/// run to run cannot afford one, so its p99 is close to its maximum.
pub(crate) const TAIL_Z: f64 = 2.33;

impl Endpoint {
    /// The service time of this endpoint, before `DemoConfig::latency_scale`. The ceilings
    /// (at 20 rows, the default page) are in the module documentation of `demo`.
    pub(crate) const fn profile(self) -> Profile {
        let (median_ms, per_row_ms, sigma) = match self {
            Endpoint::Health => (2.0, 0.0, 0.3),
            // Django's PBKDF2 password hashing dominates a login.
            Endpoint::Login => (180.0, 0.0, 0.25),
            Endpoint::ProjectList => (45.0, 0.5, 0.3),
            Endpoint::ProjectDetail => (35.0, 0.0, 0.35),
            Endpoint::TaskList => (50.0, 0.3, 0.25),
            Endpoint::TaskDetail => (25.0, 0.0, 0.35),
            Endpoint::TaskCreate => (90.0, 0.0, 0.25),
            Endpoint::TaskUpdate => (75.0, 0.0, 0.25),
            Endpoint::TaskBulkUpdate => (400.0, 0.0, 0.4),
            Endpoint::TimeEntryList => (55.0, 0.4, 0.25),
            Endpoint::TimeEntryCreate => (80.0, 0.0, 0.25),
            Endpoint::ScheduleItems => (55.0, 0.0, 0.3),
            Endpoint::Search => (55.0, 0.0, 0.3),
            Endpoint::BiKpis => (60.0, 0.0, 0.28),
            Endpoint::AdminDashboard => (450.0, 0.0, 0.4),
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

    /// Whether only staff accounts may use the route (DRF's `IsAdminUser`), as in Kibray:
    /// `dashboards/admin/` is the only one of the imitated routes. Bulk updates and the BI
    /// KPIs are open to every account (`IsAuthenticated`; the BI also takes project managers,
    /// which the load accounts are), and Kibray has no export route.
    pub(crate) const fn admin_only(self) -> bool {
        matches!(self, Endpoint::AdminDashboard)
    }

    /// Whether injected 500s apply. Health never fails, so it stays usable as a readiness
    /// probe. Neither do login and the project list, what a session's `on start` reads: a
    /// user whose login failed has no token and fails every later request, so one injected
    /// error there would cost dozens of failures instead of one, and the demo's error rate
    /// would depend on luck.
    pub(crate) const fn may_fail(self) -> bool {
        !matches!(
            self,
            Endpoint::Health | Endpoint::Login | Endpoint::ProjectList
        )
    }
}

impl Profile {
    /// The median service time of a response of `rows` rows.
    pub(crate) fn median(&self, rows: usize) -> f64 {
        self.median_ms + self.per_row_ms * rows as f64
    }

    /// The longest service time `sample` can return for `rows` rows.
    pub(crate) fn ceiling(&self, rows: usize) -> Duration {
        Duration::from_secs_f64(self.median(rows) * (self.sigma * TAIL_Z).exp() / 1000.0)
    }

    /// One service time for a response of `rows` rows.
    pub(crate) fn sample(&self, rows: usize, rng: &mut SmallRng) -> Duration {
        // Rejection keeps the shape of the normal inside the cut (2 % of draws are redrawn);
        // the clamp only bounds the loop, it is practically never what returns.
        let mut z = standard_normal(rng);
        for _ in 0..16 {
            if z.abs() <= TAIL_Z {
                break;
            }
            z = standard_normal(rng);
        }
        let z = z.clamp(-TAIL_Z, TAIL_Z);
        let ms = self.median(rows) * (self.sigma * z).exp();
        // Equal to the ceiling at most; `min` only guards against rounding.
        Duration::from_secs_f64(ms / 1000.0).min(self.ceiling(rows))
    }
}

/// One draw of N(0, 1), Box–Muller; `1 - u` keeps the logarithm's argument in (0, 1].
fn standard_normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn percentile(sorted: &[Duration], p: f64) -> f64 {
        sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
    }

    /// The standard normal's CDF, with erf from Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
    fn normal_cdf(x: f64) -> f64 {
        let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
        0.5 * (1.0 + erf.copysign(x))
    }

    /// Its inverse, by bisection.
    fn normal_quantile(p: f64) -> f64 {
        let (mut lo, mut hi) = (-10.0, 10.0);
        for _ in 0..100 {
            let mid = (lo + hi) / 2.0;
            if normal_cdf(mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// With 20 000 samples the sample median of a log-normal with sigma ≤ 0.4 lies within 3 % of
    /// the true one far beyond six standard errors; p95 is checked against the truncated
    /// normal's quantile ± 6 %; no sample is above the ceiling.
    #[test]
    fn samples_follow_the_profile_and_never_pass_the_ceiling() {
        let mut rng = SmallRng::seed_from_u64(1);
        // The truncated normal's p95: 95 % of the mass kept between -TAIL_Z and TAIL_Z.
        let kept = 2.0 * normal_cdf(TAIL_Z) - 1.0;
        let z95 = normal_quantile(normal_cdf(-TAIL_Z) + 0.95 * kept);
        assert!((z95 - 1.56).abs() < 0.01, "{z95}");
        for endpoint in [
            Endpoint::Health,
            Endpoint::TaskList,
            Endpoint::AdminDashboard,
        ] {
            let profile = endpoint.profile();
            let mut samples: Vec<Duration> =
                (0..20_000).map(|_| profile.sample(20, &mut rng)).collect();
            samples.sort();
            let median = profile.median(20);
            let p50 = percentile(&samples, 0.5);
            let p95 = percentile(&samples, 0.95);
            let want_p95 = median * (z95 * profile.sigma).exp();
            assert!(
                (p50 / median - 1.0).abs() < 0.03,
                "{endpoint:?} p50 {p50} vs {median}"
            );
            assert!(
                (p95 / want_p95 - 1.0).abs() < 0.06,
                "{endpoint:?} p95 {p95} vs {want_p95}"
            );
            let max = samples[samples.len() - 1];
            assert!(max <= profile.ceiling(20), "{endpoint:?} {max:?}");
            // The cut is not so low that samples pile up on it.
            assert!(max.as_secs_f64() * 1000.0 > median * (2.0 * profile.sigma).exp());
        }
    }

    #[test]
    fn rows_make_a_list_slower() {
        let profile = Endpoint::TaskList.profile();
        let mut a = SmallRng::seed_from_u64(9);
        let mut b = SmallRng::seed_from_u64(9);
        assert!(profile.sample(500, &mut a) > profile.sample(20, &mut b) * 3);
        assert!(profile.ceiling(500) > profile.ceiling(20) * 3);
    }
}
