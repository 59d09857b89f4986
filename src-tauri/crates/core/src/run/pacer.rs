//! The request pacer: one per HubSpot portal and app, shared by every request of a sync.
//!
//! HubSpot counts requests in a ROLLING 10-second window (hubspot-api.md §4.1: 110 per 10 s for
//! an OAuth install). A token bucket with a burst lets up to twice the limit through in some
//! rolling window (a full bucket, then the refill), and the governor-style GCRA crates behave
//! the same way with a burst, so this is a sliding-window *log*: each of the last `limit`
//! requests holds a place, and request `limit + 1` waits until the first place frees.
//!
//! **How long a request holds its place.** HubSpot counts a request when it *receives* it: at
//! `sent + up`, where `up` is the part of its round trip `rtt` spent before HubSpot counted it
//! (the way there, plus anything before the counter). The client only sees `rtt`. A place is
//! held from the send until `sent + window + margin + (rtt − rtt_min)`, where `rtt_min` is the
//! fastest round trip among the last [`RECENT`] answers (and at least until
//! `sent + window + margin`; a request in flight holds its place until its answer is in):
//! only the part of a round trip beyond the fastest one is taken as possibly spent before
//! HubSpot counted it.
//!
//! *Assumption*: the fastest recent round trip `m` was fastest on both legs, up to the margin:
//! for any requests `j`, `k`, `up_k + down_j ≥ rtt_min − margin` (`down` = the rest of a round
//! trip, after HubSpot counted it). True when only one leg varies (the simulator's injected
//! latency is all before the count; a slow answer body is all after it) or when the variation
//! of both legs together stays under the margin. *Why it holds the window*: `k` is sent once
//! `j`'s place is free, `sent_k ≥ sent_j + window + margin + rtt_j − rtt_min`, so HubSpot
//! counts `k` at `sent_k + up_k ≥ sent_j + up_j + window + (margin + up_k + down_j − rtt_min)`
//! (as `rtt_j = up_j + down_j`): at least a window after it counted `j`. So HubSpot never
//! counts more than `limit` in any window. With steady latency a place serves one request per
//! `window + margin`, whatever the latency (counting from the answer, as before, costs a whole
//! round trip per place: 0.92 of the ceiling at 800 ms).
//!
//! *Safety net*: a 429 ([`Pacer::pause`]) switches the pacer back to counting each place from
//! the answer (`done + window + margin`, never before HubSpot counted the request, whatever the
//! latency) until the next run starts ([`Pacer::begin_run`]).
//!
//! It follows what HubSpot says about the budget ([`Pacer::observe`], fed with the client's
//! [`RateLimitSnapshot`] after each answer, §4.2):
//! - **`Max` / `Interval-Milliseconds`** replace the configured limit and window (a Professional
//!   private app gets 190 per 10 s, not the 100 assumed for Free/Starter; never more than stated);
//! - **`Remaining`** reveals other consumers of the same budget (another copy of the app, a script
//!   with the same private app): HubSpot's count (`Max − Remaining`) minus this pacer's own
//!   requests in that window are *someone else's*, and they hold as many places in the log until
//!   the window can have rolled (`seen + interval + margin`) — so a window nearly used up by
//!   others holds requests instead of running into 429s. Each answer re-estimates them.
//!
//! Answers that are 429s are not observed (their `Remaining` is 0 by definition): when HubSpot
//! still says "slow down", [`Pacer::pause`] holds every request until the pause ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::hubspot::client::RateLimitSnapshot;

/// Round trips the fastest one is taken from (≈ 2 windows at 110 requests per window).
pub const RECENT: usize = 256;

#[derive(Debug)]
struct Slot {
    id: u64,
    /// When the permit was given (the request leaves about then).
    sent: Instant,
    /// When the answer came back; `None` while the request is in flight.
    done: Option<Instant>,
}

#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    next_id: u64,
    paused_until: Option<Instant>,
    /// Requests per window: the configured limit until HubSpot states its `Max`.
    limit: usize,
    /// Window + margin: the configured window until HubSpot states its interval.
    span: Duration,
    /// Places held for other consumers' requests (estimated at the last observation)...
    others: usize,
    /// ...until then (the window of that observation can have rolled).
    others_until: Instant,
    /// `seen_at` of the last observation applied (older ones are ignored).
    observed: Option<Instant>,
    /// The last [`RECENT`] round trips.
    rtts: std::collections::VecDeque<Duration>,
    /// After a 429 in this run: places are counted from the answers.
    from_answers: bool,
}

impl State {
    /// What a place's end may be brought forward by: the fastest recent round trip (none after
    /// a 429). See the module documentation.
    fn credit(&self) -> Duration {
        if self.from_answers {
            return Duration::ZERO;
        }
        self.rtts.iter().min().copied().unwrap_or_default()
    }

    /// When a place frees: `None` while its request is in flight.
    fn end(s: &Slot, span: Duration, credit: Duration) -> Option<Instant> {
        s.done.map(|d| d + span - credit.min(d - s.sent))
    }
}

/// A sliding-window request pacer. Cheap to share: clone the `Arc`.
#[derive(Debug)]
pub struct Pacer {
    margin: Duration,
    state: Mutex<State>,
}

/// One request's place in the window. Drop it when the answer arrived (or the request failed):
/// its round trip is then known, and with it how long the place stays held (see the module
/// documentation).
#[derive(Debug)]
pub struct Permit {
    pacer: Arc<Pacer>,
    id: u64,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut st = self.pacer.lock();
        if let Some(s) = st.slots.iter_mut().find(|s| s.id == self.id) {
            s.done = Some(now);
            let rtt = now - s.sent;
            if st.rtts.len() == RECENT {
                st.rtts.pop_front();
            }
            st.rtts.push_back(rtt);
        }
    }
}

impl Pacer {
    /// At most `limit` requests per `window`, plus `margin` of slack, until HubSpot states other
    /// numbers ([`Pacer::observe`]).
    pub fn new(limit: u32, window: Duration, margin: Duration) -> Self {
        Self {
            margin,
            state: Mutex::new(State {
                slots: Vec::with_capacity(limit as usize + 1),
                next_id: 0,
                paused_until: None,
                limit: limit.max(1) as usize,
                span: window + margin,
                others: 0,
                others_until: Instant::now(),
                observed: None,
                rtts: std::collections::VecDeque::with_capacity(RECENT),
                from_answers: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests allowed per second on average (for the ceiling of a benchmark).
    pub fn per_second(&self) -> f64 {
        let st = self.lock();
        st.limit as f64 / st.span.as_secs_f64()
    }

    /// The window now (the configured one, or HubSpot's stated interval), margin included.
    pub fn window(&self) -> Duration {
        self.lock().span
    }

    /// Requests allowed per window now (the configured limit, or HubSpot's stated `Max`).
    pub fn limit(&self) -> u32 {
        self.lock().limit as u32
    }

    /// A run starts: places are counted from the sends again (see the module documentation),
    /// until its first 429.
    pub fn begin_run(&self) {
        self.lock().from_answers = false;
    }

    /// Waits until one more request may be sent and returns its [`Permit`]. A request holds its
    /// place from now until its permit is dropped, and then as the module documentation says.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let wait_until = {
                let mut st = self.lock();
                let now = Instant::now();
                match st.paused_until {
                    Some(p) if p > now => p,
                    _ => {
                        st.paused_until = None;
                        let (span, credit) = (st.span, st.credit());
                        st.slots.retain(|s| State::end(s, span, credit).is_none_or(|e| e > now));
                        if st.others > 0 && st.others_until <= now {
                            st.others = 0;
                        }
                        // While others share the window, keep a few places free (5 %, at least
                        // 4): requests in flight on both sides land after the count the estimate
                        // came from, and a full window would answer them with 429s.
                        let cushion = if st.others > 0 { (st.limit / 20).max(4) } else { 0 };
                        if st.slots.len() + st.others + cushion < st.limit {
                            let id = st.next_id;
                            st.next_id += 1;
                            st.slots.push(Slot { id, sent: now, done: None });
                            return Permit { pacer: self.clone(), id };
                        }
                        let own = st.slots.iter().filter_map(|s| State::end(s, span, credit)).min();
                        // Places held for others: until their window can have rolled, or until
                        // an answer of ours in flight re-estimates them (looked at shortly).
                        let others = (st.others > 0).then(|| {
                            let in_flight = st.slots.iter().any(|s| s.done.is_none());
                            let again = if in_flight { now + span / 50 } else { st.others_until };
                            st.others_until.min(again)
                        });
                        match (own, others) {
                            (Some(a), Some(b)) => a.min(b),
                            (Some(a), None) | (None, Some(a)) => a,
                            // Every slot is in flight: look again shortly.
                            (None, None) => now + span / 100,
                        }
                    }
                }
            };
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Holds every request for `d` from now (a 429 or `Retry-After`). A longer pause already in
    /// force is kept. Until the next run, places count from the answers (the safety net of the
    /// module documentation).
    pub async fn pause(&self, d: Duration) {
        let mut st = self.lock();
        if !st.from_answers {
            tracing::info!("HubSpot answered 429: the pacer counts each request from its answer for the rest of the run");
            st.from_answers = true;
        }
        let until = Instant::now() + d;
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    /// Takes in what an answer's rate-limit headers say (the client's latest
    /// [`RateLimitSnapshot`]): the stated `Max` and interval become the limit and window, and
    /// HubSpot's count beyond this pacer's own requests is held for the other consumers until
    /// that window can have rolled. 429s and snapshots older than the last one taken in are
    /// ignored.
    pub fn observe(&self, s: &RateLimitSnapshot) {
        if s.status == 429 {
            return;
        }
        let mut st = self.lock();
        if st.observed.is_some_and(|o| s.seen_at <= o) {
            return;
        }
        st.observed = Some(s.seen_at);
        if let Some(interval) = s.interval {
            st.span = interval + self.margin;
        }
        if let Some(max) = s.max.filter(|m| *m > 0) {
            if max as usize != st.limit {
                tracing::debug!(from = st.limit, to = max, "HubSpot states another request limit");
            }
            st.limit = max as usize;
        }
        let (Some(max), Some(remaining)) = (s.max, s.remaining) else { return };
        let counted = max.saturating_sub(remaining) as usize;
        // Our requests HubSpot may have counted in the window ending at `seen_at`: every one
        // this pacer still held then (sent by then, answered less than `window + margin`
        // before). Generous on purpose: a few of ours that HubSpot already let go (the margin)
        // or had not yet received (in flight) can hide as many of the others' requests, which
        // the cushion in `acquire` absorbs; the reverse (our own requests taken for others')
        // would make a lone push hold places for nobody whenever answers jitter.
        let seen = s.seen_at;
        let span = st.span;
        let mine = st
            .slots
            .iter()
            .filter(|sl| sl.sent <= seen && sl.done.is_none_or(|d| d + span > seen))
            .count();
        let others = counted.saturating_sub(mine);
        if others > 0 && others != st.others {
            tracing::debug!(others, remaining, "other consumers share HubSpot's window");
        }
        st.others = others;
        st.others_until = seen + st.span;
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
    async fn a_place_is_held_from_the_send_plus_the_latency_beyond_the_fastest_round_trip() {
        let window = Duration::from_secs(10);
        let pacer = Arc::new(Pacer::new(3, window, Duration::ZERO));
        let t0 = Instant::now();
        let (a, b, c) = (pacer.acquire().await, pacer.acquire().await, pacer.acquire().await);
        tokio::time::sleep(Duration::from_secs(1)).await; // the fastest round trip: 1 s
        drop(a);
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(b); // 1 s slower than the fastest: may have reached HubSpot 1 s later
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(c); // 3 s slower
                 // (The next requests stay in flight: an instant answer would be the fastest round trip.)
        let _d = pacer.acquire().await;
        assert_eq!(Instant::now() - t0, window, "the first place frees a window after its send");
        let _e = pacer.acquire().await;
        assert_eq!(Instant::now() - t0, window + Duration::from_secs(1), "the second 1 s later");
        let _f = pacer.acquire().await;
        assert_eq!(Instant::now() - t0, window + Duration::from_secs(3), "the third 3 s later");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_429_a_request_counts_from_its_answer_until_the_next_run() {
        let window = Duration::from_secs(10);
        let pacer = Arc::new(Pacer::new(3, window, Duration::ZERO));
        pacer.pause(Duration::ZERO).await; // a 429
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
        // The next run counts from the sends again.
        let pacer = Arc::new(Pacer::new(3, window, Duration::ZERO));
        pacer.pause(Duration::ZERO).await;
        pacer.begin_run();
        let t0 = Instant::now();
        let held: Vec<Permit> =
            vec![pacer.acquire().await, pacer.acquire().await, pacer.acquire().await];
        tokio::time::sleep(Duration::from_secs(4)).await;
        drop(held);
        drop(pacer.acquire().await);
        assert_eq!(Instant::now() - t0, window, "a new run counts from the sends again");
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

    fn snap(max: u32, remaining: u32, status: u16) -> RateLimitSnapshot {
        RateLimitSnapshot {
            max: Some(max),
            remaining: Some(remaining),
            interval: Some(Duration::from_secs(10)),
            daily: None,
            daily_remaining: None,
            status,
            seen_at: Instant::now(),
        }
    }

    /// Sends `n` requests one after the other (answered at once); returns their send times.
    async fn send(pacer: &Arc<Pacer>, n: usize) -> Vec<Instant> {
        let mut times = Vec::new();
        for _ in 0..n {
            drop(pacer.acquire().await);
            times.push(Instant::now());
        }
        times
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_follows_hubspots_max_up_to_190_and_never_above() {
        let window = Duration::from_secs(10);
        let pacer = Arc::new(Pacer::new(100, window, Duration::from_millis(100)));
        let start = Instant::now();
        let mut times = send(&pacer, 1).await;
        pacer.observe(&snap(190, 189, 200)); // a Professional private app
        assert_eq!(pacer.limit(), 190, "HubSpot's Max replaces the assumed 100");
        times.extend(send(&pacer, 399).await);
        assert_eq!(max_in_window(&times, window), 190, "190 per window, never more");
        let elapsed = times.last().unwrap().duration_since(start);
        assert!(
            elapsed >= Duration::from_secs(20) && elapsed < Duration::from_secs(21),
            "400 requests in 3 windows at 190, not 4 at 100: {elapsed:?}"
        );
        // A lower Max (a Free/Starter app, or HubSpot changing its mind) lowers the limit.
        let lower = Arc::new(Pacer::new(110, window, Duration::from_millis(100)));
        let mut times = send(&lower, 1).await;
        lower.observe(&snap(100, 99, 200));
        times.extend(send(&lower, 300).await);
        assert_eq!(max_in_window(&times, window), 100, "never above the stated 100");
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_nearly_used_by_others_holds_requests_until_it_can_have_rolled() {
        let margin = Duration::from_millis(100);
        let pacer = Arc::new(Pacer::new(190, Duration::from_secs(10), margin));
        let t0 = Instant::now();
        send(&pacer, 10).await;
        // HubSpot says 19 left of 190 while the pacer sent 10: 161 are someone else's.
        pacer.observe(&snap(190, 19, 200));
        let next = send(&pacer, 10).await;
        // 9 (5 %) of the 19 stay free for requests in flight on both sides.
        assert!(next.iter().all(|t| *t == t0), "10 of the places HubSpot has left go at once");
        drop(pacer.acquire().await);
        assert_eq!(
            Instant::now().duration_since(t0),
            Duration::from_secs(10) + margin,
            "the next one waits until the window can have rolled, instead of a 429"
        );
        // Then the full budget is back (the others' requests left the window).
        let more = send(&pacer, 189).await;
        assert_eq!(
            more.last().unwrap().duration_since(t0),
            Duration::from_secs(10) + margin,
            "no hold once the window rolled"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn each_answer_re_estimates_the_others() {
        let pacer = Arc::new(Pacer::new(100, Duration::from_secs(10), Duration::ZERO));
        let t0 = Instant::now();
        let in_flight = pacer.acquire().await;
        pacer.observe(&snap(100, 0, 200)); // 99 others: the window is full
        let waiter = {
            let p = pacer.clone();
            tokio::spawn(async move {
                drop(p.acquire().await);
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Our request in flight answers: the others slowed down (50 left now).
        drop(in_flight);
        pacer.observe(&snap(100, 50, 200));
        let went = waiter.await.expect("task");
        let waited = went.duration_since(t0);
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2300),
            "released by the next answer, not after the whole window: {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answers_that_are_429s_or_older_than_the_last_are_not_taken_in() {
        let pacer = Arc::new(Pacer::new(110, Duration::from_secs(10), Duration::ZERO));
        let older = snap(100, 99, 200);
        tokio::time::advance(Duration::from_millis(5)).await;
        pacer.observe(&snap(190, 189, 200));
        pacer.observe(&older);
        assert_eq!(pacer.limit(), 190, "an older snapshot does not override a newer one");
        tokio::time::advance(Duration::from_millis(5)).await;
        pacer.observe(&snap(110, 0, 429));
        assert_eq!(pacer.limit(), 190, "a 429 changes nothing (the pause handles it)");
        let t0 = Instant::now();
        send(&pacer, 150).await;
        assert_eq!(Instant::now(), t0, "no hold from a 429's Remaining 0");
    }

    /// HubSpot's side of the model tests: one app's rolling window, counted at arrival.
    struct FakeHubSpot {
        max: u32,
        window: Duration,
        log: std::collections::VecDeque<Instant>,
        refused: u32,
        ours: u32,
    }

    impl FakeHubSpot {
        fn admit(&mut self, ours: bool) -> (u16, u32) {
            let now = Instant::now();
            while self.log.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                self.log.pop_front();
            }
            if self.log.len() as u32 >= self.max {
                self.refused += u32::from(ours);
                return (429, 0);
            }
            self.log.push_back(now);
            self.ours += u32::from(ours);
            (200, self.max - self.log.len() as u32)
        }
    }

    /// The network of a model run: each request's way to HubSpot's counter (`up`) and back
    /// (`down`), each plus a jitter drawn in `0..=jitter` ms, and the callers sending.
    #[derive(Debug, Clone, Copy)]
    struct Net {
        up: Duration,
        up_jitter: u64,
        down: Duration,
        down_jitter: u64,
        callers: u32,
        seed: u64,
    }

    impl Net {
        /// `one_way` each way, up to 30 ms of jitter on the answers, 4 callers.
        fn even(one_way: Duration) -> Self {
            Net { up: one_way, up_jitter: 0, down: one_way, down_jitter: 30, callers: 4, seed: 1 }
        }

        /// A jitter in `0..=max` ms for request `n` of caller `i` on leg `leg` (splitmix64).
        fn draw(&self, i: u32, n: u64, leg: u64, max: u64) -> Duration {
            let mut z = self.seed ^ (u64::from(i) << 40) ^ (n << 2) ^ leg;
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            Duration::from_millis(z % (max + 1))
        }
    }

    /// A push against a [`FakeHubSpot`] allowing `max` per 10 s for `windows` windows: 4 callers,
    /// `one_way` each way, observing every answer (unless `observe` is off) and pausing 1 s on a
    /// 429, while another consumer sends `other_per_s` requests a second, evenly. Answers come
    /// back with up to 30 ms of jitter. Returns our 429s and our requests per window.
    async fn model(
        max: u32,
        other_per_s: u32,
        windows: u32,
        one_way: Duration,
        observe: bool,
    ) -> (u32, f64) {
        model_on(max, other_per_s, windows, Net::even(one_way), observe).await
    }

    /// [`model`] on the network `net`.
    async fn model_on(
        max: u32,
        other_per_s: u32,
        windows: u32,
        net: Net,
        observe: bool,
    ) -> (u32, f64) {
        let window = Duration::from_secs(10);
        let hs = Arc::new(std::sync::Mutex::new(FakeHubSpot {
            max,
            window,
            log: Default::default(),
            refused: 0,
            ours: 0,
        }));
        // Observing, it starts from the assumed 100 and learns `max`; blind, it is told `max`.
        let limit = if observe { 100 } else { max };
        let pacer = Arc::new(Pacer::new(limit, window, Duration::from_millis(150)));
        let run = window * windows;
        let t0 = Instant::now();
        let other = {
            let hs = hs.clone();
            tokio::spawn(async move {
                if other_per_s == 0 {
                    return;
                }
                let every = Duration::from_secs(1) / other_per_s;
                while Instant::now().duration_since(t0) < run {
                    hs.lock().unwrap().admit(false);
                    tokio::time::sleep(every).await;
                }
            })
        };
        let mut tasks = Vec::new();
        for i in 0..net.callers {
            let (hs, pacer) = (hs.clone(), pacer.clone());
            tasks.push(tokio::spawn(async move {
                // Callers out of step, as answers of different sizes make them.
                tokio::time::sleep(Duration::from_millis(7 * u64::from(i))).await;
                let mut n = 0u64;
                while Instant::now().duration_since(t0) < run {
                    let permit = pacer.acquire().await;
                    n += 1;
                    tokio::time::sleep(net.up + net.draw(i, n, 1, net.up_jitter)).await;
                    let (status, remaining) = hs.lock().unwrap().admit(true);
                    tokio::time::sleep(net.down + net.draw(i, n, 2, net.down_jitter)).await;
                    let seen = Instant::now();
                    drop(permit);
                    let s = RateLimitSnapshot {
                        remaining: Some(remaining),
                        seen_at: seen,
                        ..snap(max, 0, status)
                    };
                    if observe {
                        pacer.observe(&s);
                    }
                    if status == 429 {
                        pacer.pause(Duration::from_secs(1)).await;
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("caller");
        }
        other.await.expect("other consumer");
        let hs = hs.lock().unwrap();
        (hs.refused, f64::from(hs.ours) / f64::from(windows))
    }

    mod latency {
        use super::*;
        use proptest::prelude::*;

        /// Jitter within the pacer's assumption: on one leg only (any size), or on both legs
        /// together within the margin (150 ms).
        fn jitters() -> impl Strategy<Value = (u64, u64)> {
            prop_oneof![
                (0u64..=600).prop_map(|j| (j, 0)),
                (0u64..=600).prop_map(|j| (0, j)),
                (0u64..=75, 0u64..=75),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]

            /// Whatever the latency, within the assumption of the module documentation, HubSpot
            /// never counts more than its limit in any rolling window (no 429), and the pacer
            /// still sends about a limit per window plus the jitter.
            #[test]
            fn no_window_at_hubspot_exceeds_the_limit_whatever_the_latency(
                max in prop_oneof![Just(110u32), Just(190)],
                up in 0u64..1000,
                down in 0u64..1000,
                (up_jitter, down_jitter) in jitters(),
                seed in any::<u64>(),
            ) {
                let net = Net {
                    up: Duration::from_millis(up),
                    up_jitter,
                    down: Duration::from_millis(down),
                    down_jitter,
                    callers: 64,
                    seed,
                };
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .start_paused(true)
                    .build()
                    .unwrap();
                let (refused, per_window) = rt.block_on(model_on(max, 0, 5, net, true));
                prop_assert_eq!(refused, 0, "a 429 at {:?}", net);
                // Each place serves a request per window + margin + the jitter, at worst.
                let jitter = (up_jitter + down_jitter) as f64 / 1000.0;
                let floor = f64::from(max) * 10.0 / (10.15 + jitter) - 2.0;
                prop_assert!(per_window >= floor, "{per_window:.1} per window < {floor:.1} at {net:?}");
            }
        }

        #[tokio::test(start_paused = true)]
        async fn at_800_ms_a_push_still_sends_nearly_the_limit_per_window() {
            let net =
                Net { up: Duration::from_millis(800), up_jitter: 0, ..Net::even(Duration::ZERO) };
            let net = Net { callers: 64, ..net };
            let (refused, per_window) = model_on(110, 0, 6, net, true).await;
            assert_eq!(refused, 0, "no 429");
            assert!(per_window >= 110.0 * 10.0 / 10.15 - 1.0, "{per_window:.1} per window");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn alone_a_push_uses_the_whole_stated_budget() {
        for (max, one_way) in [(190, 10), (190, 40), (110, 40)] {
            let (refused, per_window) =
                model(max, 0, 6, Duration::from_millis(one_way), true).await;
            assert_eq!(refused, 0, "{max}/10 s, {one_way} ms: no 429");
            // The margin (150 ms per 10 s) is all that is left unused: 190 → 187.2.
            let floor = f64::from(max) * 10.0 / 10.15 - 1.0;
            assert!(
                per_window >= floor,
                "{max}/10 s, {one_way} ms: {per_window:.1} per window, at least {floor:.1}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sharing_the_budget_with_another_consumer_takes_no_429() {
        for (max, other, one_way) in [(190, 8, 10), (190, 8, 40), (190, 15, 40), (110, 5, 40)] {
            let (refused, per_window) =
                model(max, other, 6, Duration::from_millis(one_way), true).await;
            assert_eq!(refused, 0, "{max}/10 s shared with {other}/s, {one_way} ms: no 429");
            assert!(
                per_window >= 0.5 * f64::from(max),
                "{max}/10 s shared with {other}/s: still pushing, {per_window:.1} per window"
            );
            // The same pacer not reading the headers runs into the other consumer's requests.
            let (blind, _) = model(max, other, 6, Duration::from_millis(one_way), false).await;
            assert!(blind > 10, "{max}/{other}/{one_way}: a blind pacer takes 429s ({blind})");
        }
    }
}
