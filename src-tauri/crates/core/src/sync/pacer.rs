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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
struct Slot {
    id: u64,
    /// When the answer came back; `None` while the request is in flight.
    done: Option<Instant>,
}

#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    next_id: u64,
    paused_until: Option<Instant>,
}

/// A sliding-window request pacer. Cheap to share: clone the `Arc`.
#[derive(Debug)]
pub struct Pacer {
    limit: usize,
    span: Duration,
    state: Mutex<State>,
}

/// One request's place in the window. Drop it when the answer arrived (or the request failed):
/// the window of that request is counted from then, which is never before HubSpot counted it,
/// so delays between the client and HubSpot's counter cannot push a window over the limit.
#[derive(Debug)]
pub struct Permit {
    pacer: Arc<Pacer>,
    id: u64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut st = self.pacer.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = st.slots.iter_mut().find(|s| s.id == self.id) {
            s.done = Some(now);
        }
    }
}

impl Pacer {
    /// At most `limit` requests per `window`, plus `margin` of slack.
    pub fn new(limit: u32, window: Duration, margin: Duration) -> Self {
        Self {
            limit: limit.max(1) as usize,
            span: window + margin,
            state: Mutex::new(State {
                slots: Vec::with_capacity(limit as usize + 1),
                next_id: 0,
                paused_until: None,
            }),
        }
    }

    /// Requests allowed per second on average (for the ceiling of a benchmark).
    pub fn per_second(&self) -> f64 {
        self.limit as f64 / self.span.as_secs_f64()
    }

    /// Waits until one more request may be sent and returns its [`Permit`]. A request counts
    /// from now until `window + margin` after its permit is dropped.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let wait_until = {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                match st.paused_until {
                    Some(p) if p > now => p,
                    _ => {
                        st.paused_until = None;
                        let span = self.span;
                        st.slots.retain(|s| s.done.is_none_or(|d| now.duration_since(d) < span));
                        if st.slots.len() < self.limit {
                            let id = st.next_id;
                            st.next_id += 1;
                            st.slots.push(Slot { id, done: None });
                            return Permit { pacer: self.clone(), id };
                        }
                        match st.slots.iter().filter_map(|s| s.done).min() {
                            Some(oldest) => oldest + span,
                            // Every slot is in flight: look again shortly.
                            None => now + span / 100,
                        }
                    }
                }
            };
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Holds every request for `d` from now (a 429 or `Retry-After`). A longer pause already in
    /// force is kept.
    pub async fn pause(&self, d: Duration) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + d;
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
        let pacer = Arc::new(Pacer::new(110, window, Duration::from_millis(100)));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..400 {
            drop(pacer.acquire().await);
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
        let pacer = Arc::new(Pacer::new(10, window, Duration::ZERO));
        let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (p, t) = (pacer.clone(), times.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..25 {
                    drop(p.acquire().await);
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
    async fn a_request_counts_from_its_answer_not_from_its_send() {
        let window = Duration::from_secs(10);
        let pacer = Arc::new(Pacer::new(3, window, Duration::ZERO));
        let t0 = Instant::now();
        let held: Vec<Permit> =
            vec![pacer.acquire().await, pacer.acquire().await, pacer.acquire().await];
        tokio::time::sleep(Duration::from_secs(4)).await; // slow answers
        drop(held);
        drop(pacer.acquire().await);
        assert_eq!(
            Instant::now().duration_since(t0),
            Duration::from_secs(14),
            "the fourth request waits for a window after the answers, not after the sends"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let pacer = Arc::new(Pacer::new(100, Duration::from_secs(10), Duration::ZERO));
        drop(pacer.acquire().await);
        let t0 = Instant::now();
        pacer.pause(Duration::from_secs(3)).await;
        pacer.pause(Duration::from_secs(1)).await;
        drop(pacer.acquire().await);
        assert!(
            Instant::now().duration_since(t0) >= Duration::from_secs(3),
            "the longer pause holds"
        );
    }
}
