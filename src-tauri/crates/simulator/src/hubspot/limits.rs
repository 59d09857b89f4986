//! Rate limits (reference §4.1–§4.2): a ROLLING 10-second window per portal for API calls
//! (`hubspot_requests_per_10s`, 110 for an OAuth app), a separate per-second window for search
//! (`hubspot_search_per_s`, 5; search does not count toward the 10-second window: "excl. search"),
//! and a daily allowance for private-app tokens only. Windows are scaled by the clock.
//!
//! Headers (§4.2): `X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds` on every
//! non-search API response (429s included); `-Daily` and `-Daily-Remaining` only for private-app
//! tokens (OAuth calls do not get the daily pair); search responses carry none.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

use super::errors::Policy;

/// Daily allowance of private-app tokens (Professional tier, §4.1).
pub const PRIVATE_APP_DAILY: u64 = 625_000;

/// The limiter state of one portal.
#[derive(Debug, Default)]
pub struct Limiter {
    general: VecDeque<Instant>,
    search: VecDeque<Instant>,
    daily_used: u64,
}

/// What the response headers should say after an accepted (or refused) request.
#[derive(Debug, Clone, Copy)]
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
    /// Admits or refuses a general (non-search) request.
    pub fn general(
        &mut self,
        now: Instant,
        max: u32,
        window: Duration,
        private: bool,
    ) -> Result<Usage, (Policy, Usage)> {
        prune(&mut self.general, now, window);
        let interval_ms = window.as_millis().max(1) as u64;
        let daily = |used: u64| {
            private.then(|| (PRIVATE_APP_DAILY, PRIVATE_APP_DAILY.saturating_sub(used)))
        };
        if private && self.daily_used >= PRIVATE_APP_DAILY {
            let remaining = max.saturating_sub(self.general.len() as u32);
            return Err((
                Policy::Daily,
                Usage { max, remaining, interval_ms, daily: daily(self.daily_used) },
            ));
        }
        if self.general.len() as u32 >= max {
            return Err((
                Policy::TenSecondlyRolling,
                Usage { max, remaining: 0, interval_ms, daily: daily(self.daily_used) },
            ));
        }
        self.general.push_back(now);
        if private {
            self.daily_used += 1;
        }
        let remaining = max.saturating_sub(self.general.len() as u32);
        Ok(Usage { max, remaining, interval_ms, daily: daily(self.daily_used) })
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

    #[test]
    fn rolling_window_refills_gradually() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        for i in 0..3 {
            let at = t0 + Duration::from_secs(i * 4);
            assert!(l.general(at, 3, w, false).is_ok(), "request {i} fits");
        }
        // At t=9 s the window holds all three → refused.
        let at9 = t0 + Duration::from_secs(9);
        assert!(
            matches!(l.general(at9, 3, w, false), Err((Policy::TenSecondlyRolling, _))),
            "window full"
        );
        // At t=10 s the first request (t=0) leaves the window: exactly one slot, not a full reset.
        let at10 = t0 + Duration::from_secs(10);
        let u = l.general(at10, 3, w, false).expect("one slot freed");
        assert_eq!(u.remaining, 0, "rolling, not fixed: only one slot came back");
        assert!(u.daily.is_none(), "OAuth calls have no daily pair");
    }

    #[test]
    fn private_tokens_count_daily() {
        let mut l = Limiter::default();
        let u = l.general(Instant::now(), 10, Duration::from_secs(10), true).expect("fits");
        assert_eq!(
            u.daily,
            Some((PRIVATE_APP_DAILY, PRIVATE_APP_DAILY - 1)),
            "daily pair for private apps"
        );
    }
}
