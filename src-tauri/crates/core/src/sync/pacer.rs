//! The request pacer: one per HubSpot portal, shared by every request of a sync.
//!
//! HubSpot counts requests in a ROLLING 10-second window (hubspot-api.md §4.1: 110 per 10 s for
//! an OAuth install). A token bucket with a burst lets up to twice the limit through in some
//! rolling window (a full bucket, then the refill), and the governor-style GCRA crates behave
//! the same way with a burst, so this is a sliding-window *log*: the send times of the last
//! `limit` requests are kept, and request `limit + 1` waits until the oldest of them is
//! `window + margin` old. It therefore never exceeds `limit` in any window of `window` length
//! measured at the client; the margin absorbs network delay differences between requests.
//!
//! When HubSpot still says "slow down" (a 429, `Retry-After`), [`Pacer::pause`] holds every
//! request until the pause ends.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
struct State {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

/// A sliding-window request pacer.
#[derive(Debug)]
pub struct Pacer {
    limit: usize,
    span: Duration,
    state: tokio::sync::Mutex<State>,
}

impl Pacer {
    /// At most `limit` requests per `window`, plus `margin` of slack between the oldest and the
    /// newest request of a full window.
    pub fn new(limit: u32, window: Duration, margin: Duration) -> Self {
        Self {
            limit: limit.max(1) as usize,
            span: window + margin,
            state: tokio::sync::Mutex::new(State {
                sent: VecDeque::with_capacity(limit as usize + 1),
                paused_until: None,
            }),
        }
    }

    /// Requests allowed per second on average (for the ceiling of a benchmark).
    pub fn per_second(&self) -> f64 {
        self.limit as f64 / self.span.as_secs_f64()
    }

    /// Waits until one more request may be sent, and counts it as sent now.
    pub async fn acquire(&self) {
        loop {
            let wait_until = {
                let mut st = self.state.lock().await;
                let now = Instant::now();
                match st.paused_until {
                    Some(p) if p > now => Some(p),
                    _ => {
                        st.paused_until = None;
                        while st.sent.front().is_some_and(|t| now.duration_since(*t) >= self.span) {
                            st.sent.pop_front();
                        }
                        if st.sent.len() < self.limit {
                            st.sent.push_back(now);
                            None
                        } else {
                            st.sent.front().map(|t| *t + self.span)
                        }
                    }
                }
            };
            match wait_until {
                None => return,
                Some(t) => tokio::time::sleep_until(t).await,
            }
        }
    }

    /// Holds every request for `d` from now (a 429 or `Retry-After`). A longer pause already in
    /// force is kept.
    pub async fn pause(&self, d: Duration) {
        let mut st = self.state.lock().await;
        let until = Instant::now() + d;
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest number of instants inside any half-open window of length `w`.
    fn max_in_window(times: &[Instant], w: Duration) -> usize {
        let mut best = 0;
        let mut j = 0;
        for i in 0..times.len() {
            while times[i].duration_since(times[j]) >= w {
                j += 1;
            }
            best = best.max(i - j + 1);
        }
        best
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_rolling_window() {
        let window = Duration::from_secs(10);
        let pacer = Pacer::new(110, window, Duration::from_millis(100));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..400 {
            pacer.acquire().await;
            times.push(Instant::now());
        }
        assert_eq!(max_in_window(&times, window), 110, "exactly the limit, never more");
        let elapsed = times.last().unwrap().duration_since(start);
        // 400 requests: 3 full windows of waiting (≈ 30.3 s), not more.
        assert!(
            elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(31),
            "paces at the limit, not below it: {elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_window() {
        let window = Duration::from_secs(1);
        let pacer = std::sync::Arc::new(Pacer::new(10, window, Duration::ZERO));
        let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (p, t) = (pacer.clone(), times.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..25 {
                    p.acquire().await;
                    t.lock().unwrap().push(Instant::now());
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let mut times = times.lock().unwrap().clone();
        times.sort();
        assert_eq!(times.len(), 100, "every request went");
        assert!(max_in_window(&times, window) <= 10, "shared limit holds across callers");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let pacer = Pacer::new(100, Duration::from_secs(10), Duration::ZERO);
        pacer.acquire().await;
        let t0 = Instant::now();
        pacer.pause(Duration::from_secs(3)).await;
        pacer.pause(Duration::from_secs(1)).await;
        pacer.acquire().await;
        assert!(
            Instant::now().duration_since(t0) >= Duration::from_secs(3),
            "the longer pause holds"
        );
    }
}
