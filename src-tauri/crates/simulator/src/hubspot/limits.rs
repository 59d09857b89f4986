//! Rate limits (reference §4.1–§4.2): a ROLLING 10-second window per app and portal for API
//! calls — burst limits are per app, so the OAuth app (`hubspot_requests_per_10s`, 110) and the
//! private app (`hubspot_private_app_requests_per_10s`, 100 on Free/Starter, 190 on
//! Professional/Enterprise, 250 with the add-on) each have their own window —, a separate
//! per-second window for search shared by every app of the account (`hubspot_search_per_s`, 5;
//! search does not count toward the 10-second window: "excl. search"), and a daily allowance for
//! private-app tokens only (`hubspot_private_app_daily`, shared by all private apps of the
//! account). Windows are scaled by the clock; the daily count resets at midnight in the account's
//! time zone ([`ACCOUNT_UTC_OFFSET_MS`], the `utcOffset` the account details state).
//!
//! Headers (§4.2): `X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds` on every
//! non-search API response (429s included); `-Daily` and `-Daily-Remaining` only for private-app
//! tokens (OAuth calls do not get the daily pair); search responses carry none.
//!
//! Another consumer of the same budgets (another process using the same app, other private apps
//! of the account) is modelled by [`Limiter::consume`] and [`Limiter::set_daily_used`] (admin
//! routes `/_sim/hubspot/limits/...`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use serde::Serialize;

use super::errors::Policy;

/// Daily allowance of private-app tokens on a Professional account (§4.1); the simulator's
/// default is Free/Starter's, see `Config::hubspot_private_app_daily`.
pub const PRIVATE_APP_DAILY: u64 = 625_000;

/// UTC offset of the simulated account's time zone (the account details say `Europe/Paris`,
/// `utcOffset` `+01:00`): the daily count resets at midnight at this offset.
pub const ACCOUNT_UTC_OFFSET_MS: i64 = 3_600_000;

/// The account's calendar day (days since the epoch, at [`ACCOUNT_UTC_OFFSET_MS`]) of an epoch
/// time in ms.
pub fn account_day(now_ms: i64) -> i64 {
    (now_ms + ACCOUNT_UTC_OFFSET_MS).div_euclid(86_400_000)
}

/// Which app's rolling window a request uses (burst limits are per app, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// The OAuth (public) app.
    OAuth,
    /// The private app (or service key).
    Private,
}

/// The limits a request is held to.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// Requests per window of the caller's app.
    pub max: u32,
    /// The window (scaled).
    pub window: Duration,
    /// The account's daily allowance, private apps only.
    pub daily: Option<u64>,
    /// The account's calendar day now ([`account_day`]).
    pub day: i64,
}

/// The limiter state of one portal.
#[derive(Debug, Default)]
pub struct Limiter {
    oauth: VecDeque<Instant>,
    private: VecDeque<Instant>,
    search: VecDeque<Instant>,
    daily_used: u64,
    day: i64,
}

/// What the response headers should say after an accepted (or refused) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Window size.
    pub max: u32,
    /// Requests left in the window.
    pub remaining: u32,
    /// Window length in ms (scaled).
    pub interval_ms: u64,
    /// Daily allowance and remaining, private-app tokens only.
    pub daily: Option<(u64, u64)>,
}

impl Usage {
    /// Writes the `X-HubSpot-RateLimit-*` headers.
    pub fn write(&self, headers: &mut HeaderMap) {
        let mut put = |k: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(k, v);
            }
        };
        put("x-hubspot-ratelimit-max", self.max.to_string());
        put("x-hubspot-ratelimit-remaining", self.remaining.to_string());
        put("x-hubspot-ratelimit-interval-milliseconds", self.interval_ms.to_string());
        if let Some((daily, left)) = self.daily {
            put("x-hubspot-ratelimit-daily", daily.to_string());
            put("x-hubspot-ratelimit-daily-remaining", left.to_string());
        }
    }
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&front) = q.front() {
        if now.duration_since(front) >= window {
            q.pop_front();
        } else {
            break;
        }
    }
}

impl Limiter {
    fn window_of(&mut self, app: App) -> &mut VecDeque<Instant> {
        match app {
            App::OAuth => &mut self.oauth,
            App::Private => &mut self.private,
        }
    }

    /// Starts a new daily count when the account's day changed (midnight in its time zone).
    fn roll_day(&mut self, q: &Quota) {
        if self.day != q.day {
            self.day = q.day;
            self.daily_used = 0;
        }
    }

    fn usage(&mut self, now: Instant, app: App, q: &Quota) -> Usage {
        let w = self.window_of(app);
        prune(w, now, q.window);
        let used = w.len() as u32;
        Usage {
            max: q.max,
            remaining: q.max.saturating_sub(used),
            interval_ms: q.window.as_millis().max(1) as u64,
            daily: q.daily.map(|d| (d, d.saturating_sub(self.daily_used))),
        }
    }

    /// Admits or refuses a general (non-search) request of `app`.
    pub fn general(&mut self, now: Instant, app: App, q: Quota) -> Result<Usage, (Policy, Usage)> {
        self.roll_day(&q);
        let usage = self.usage(now, app, &q);
        if q.daily.is_some_and(|d| self.daily_used >= d) {
            return Err((Policy::Daily, usage));
        }
        if usage.remaining == 0 {
            return Err((Policy::TenSecondlyRolling, usage));
        }
        self.window_of(app).push_back(now);
        if q.daily.is_some() {
            self.daily_used += 1;
        }
        Ok(self.usage(now, app, &q))
    }

    /// Another consumer of `app`'s budget (another process with the same app) sends `n`
    /// requests now: they fill `app`'s window (up to its max; HubSpot would refuse the rest) and,
    /// for a private app, count toward the daily allowance. Returns how many fitted, and the
    /// usage after them.
    pub fn consume(&mut self, now: Instant, app: App, n: u32, q: Quota) -> (u32, Usage) {
        self.roll_day(&q);
        let room = self.usage(now, app, &q).remaining;
        let mut taken = n.min(room) as u64;
        if let Some(d) = q.daily {
            taken = taken.min(d.saturating_sub(self.daily_used));
            self.daily_used += taken;
        }
        let w = self.window_of(app);
        w.extend(std::iter::repeat_n(now, taken as usize));
        (taken as u32, self.usage(now, app, &q))
    }

    /// Sets how many daily calls the account used today (other private apps of the account; `0`
    /// is the state after midnight).
    pub fn set_daily_used(&mut self, used: u64, day: i64) {
        self.day = day;
        self.daily_used = used;
    }

    /// Daily calls the account used today.
    pub fn daily_used(&mut self, day: i64) -> u64 {
        if self.day != day {
            return 0;
        }
        self.daily_used
    }

    /// The usage of `app` now, without sending anything.
    pub fn peek(&mut self, now: Instant, app: App, q: Quota) -> Usage {
        self.roll_day(&q);
        self.usage(now, app, &q)
    }

    /// Admits or refuses a search request (own per-second window).
    pub fn search(&mut self, now: Instant, max: u32, window: Duration) -> Result<(), Policy> {
        prune(&mut self.search, now, window);
        if self.search.len() as u32 >= max {
            return Err(Policy::Secondly);
        }
        self.search.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(max: u32, secs: u64, daily: Option<u64>) -> Quota {
        Quota { max, window: Duration::from_secs(secs), daily, day: 1 }
    }

    #[test]
    fn rolling_window_refills_gradually() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..3 {
            let at = t0 + Duration::from_secs(i * 4);
            assert!(l.general(at, App::OAuth, q(3, 10, None)).is_ok(), "request {i} fits");
        }
        // At t=9 s the window holds all three → refused.
        let at9 = t0 + Duration::from_secs(9);
        assert!(
            matches!(
                l.general(at9, App::OAuth, q(3, 10, None)),
                Err((Policy::TenSecondlyRolling, _))
            ),
            "window full"
        );
        // At t=10 s the first request (t=0) leaves the window: exactly one slot, not a full reset.
        let at10 = t0 + Duration::from_secs(10);
        let u = l.general(at10, App::OAuth, q(3, 10, None)).expect("one slot freed");
        assert_eq!(u.remaining, 0, "rolling, not fixed: only one slot came back");
        assert!(u.daily.is_none(), "OAuth calls have no daily pair");
    }

    #[test]
    fn private_tokens_count_daily() {
        let mut l = Limiter::default();
        let u = l.general(Instant::now(), App::Private, q(10, 10, Some(PRIVATE_APP_DAILY)));
        assert_eq!(
            u.expect("fits").daily,
            Some((PRIVATE_APP_DAILY, PRIVATE_APP_DAILY - 1)),
            "daily pair for private apps"
        );
    }

    #[test]
    fn each_app_has_its_own_window_and_only_private_apps_a_daily_count() {
        let mut l = Limiter::default();
        let now = Instant::now();
        let private = q(2, 10, Some(100));
        for _ in 0..2 {
            l.general(now, App::Private, private).expect("private fits");
        }
        assert!(l.general(now, App::Private, private).is_err(), "private window full");
        let u = l.general(now, App::OAuth, q(110, 10, None)).expect("the OAuth app's own window");
        assert_eq!(u.remaining, 109, "the private app's requests are not in it");
        assert_eq!(l.daily_used(1), 2, "only the private calls count daily");
    }

    #[test]
    fn another_consumer_fills_the_window_and_the_daily_count() {
        let mut l = Limiter::default();
        let now = Instant::now();
        let quota = q(190, 10, Some(1000));
        let (taken, u) = l.consume(now, App::Private, 150, quota);
        assert_eq!(taken, 150, "all fitted");
        assert_eq!((u.remaining, u.daily), (40, Some((1000, 850))), "150 used by someone else");
        let (taken, u) = l.consume(now, App::Private, 100, quota);
        assert_eq!(
            (taken, u.remaining),
            (40, 0),
            "capped at the window's max (HubSpot would refuse the rest)"
        );
        assert_eq!(u.daily, Some((1000, 810)), "only admitted calls count daily");
        let later = now + Duration::from_secs(10);
        assert_eq!(l.peek(later, App::Private, quota).remaining, 190, "they leave the window");
    }

    #[test]
    fn the_daily_limit_refuses_with_its_policy_and_resets_at_the_accounts_midnight() {
        let mut l = Limiter::default();
        let now = Instant::now();
        let today = q(10, 10, Some(5));
        l.set_daily_used(5, today.day);
        let Err((policy, usage)) = l.general(now, App::Private, today) else {
            panic!("the daily allowance is used up");
        };
        assert_eq!((policy, usage.daily), (Policy::Daily, Some((5, 0))), "DAILY, none left");
        let tomorrow = Quota { day: today.day + 1, ..today };
        let u = l.general(now, App::Private, tomorrow).expect("a new day");
        assert_eq!(u.daily, Some((5, 4)), "the count restarted at midnight");
        // Midnight at +01:00 is 23:00 UTC the day before.
        let day = 86_400_000;
        assert_eq!(account_day(20_000 * day - ACCOUNT_UTC_OFFSET_MS - 1), 19_999, "before");
        assert_eq!(account_day(20_000 * day - ACCOUNT_UTC_OFFSET_MS), 20_000, "at midnight");
    }
}
