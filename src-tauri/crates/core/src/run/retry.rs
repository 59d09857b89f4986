//! Bounded retries with exponential backoff and jitter, shared by the push and the pull.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

/// How often and how long to retry a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all (the first call included).
    pub max_attempts: u32,
    /// Wait after the first failure.
    pub base: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// The clients' policy: 6 attempts, 0.5 s doubling up to 30 s (±50 % jitter); a
    /// `Retry-After` is honoured up to 5 minutes.
    fn default() -> Self {
        Self { max_attempts: 6, base: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

/// The `Retry-After` of an answer, in seconds (the form HubSpot and Didomi send).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// What a failed attempt says about trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Transient: try again, after the server's `Retry-After` when it sent one.
    Retry(Option<Duration>),
    /// Not transient: give up now.
    Stop,
}

/// A call that kept failing: the last error, the attempts made and the time spent waiting.
#[derive(Debug)]
pub struct GaveUp<E> {
    /// The last error.
    pub last: E,
    /// Attempts made (the first call included).
    pub attempts: u32,
    /// Time spent waiting between attempts.
    pub waited: Duration,
}

impl<E> GaveUp<E> {
    /// The error to report: the last one itself after a single attempt or a final answer
    /// (`stopped`), else what `exhausted(attempts, seconds waited, last)` makes of it.
    pub fn into_error(self, stopped: bool, exhausted: impl FnOnce(u32, u64, Box<E>) -> E) -> E {
        if self.attempts <= 1 || stopped {
            return self.last;
        }
        exhausted(self.attempts, self.waited.as_secs(), Box::new(self.last))
    }
}

/// The one retry loop of the HubSpot and Didomi clients: calls `call` until it succeeds, fails
/// for good ([`Verdict::Stop`]: returned as is, `attempts == 1` or more) or the attempts run out.
/// A `Retry-After` is honoured (up to 10 × [`Backoff::max`]); other transient failures wait
/// with exponential backoff and jitter.
///
/// # Errors
/// [`GaveUp`] with the last error.
pub async fn retry<T, E, F, Fut>(
    policy: &Backoff,
    classify: impl Fn(&E) -> Verdict,
    mut call: F,
) -> Result<T, GaveUp<E>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut attempts = 0;
    let mut waited = Duration::ZERO;
    loop {
        attempts += 1;
        let e = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let wait = match classify(&e) {
            Verdict::Stop => return Err(GaveUp { last: e, attempts, waited }),
            _ if attempts >= policy.max_attempts.max(1) => {
                return Err(GaveUp { last: e, attempts, waited })
            }
            Verdict::Retry(Some(after)) => after.min(policy.max.saturating_mul(10)),
            Verdict::Retry(None) => policy.delay(policy.base, attempts),
        };
        tracing::debug!(?wait, attempts, "transient failure; retrying");
        tokio::time::sleep(wait).await;
        waited += wait;
    }
}

impl Backoff {
    /// `base · 2^(attempt-1)`, capped at [`Backoff::max`], with ±50 % jitter.
    pub fn delay(&self, base: Duration, attempt: u32) -> Duration {
        let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(self.max);
        exp.mul_f64(rand::rng().random_range(0.5..1.5))
    }
}

/// A Didomi call of a run. The run's clients retry transient failures themselves by the run's
/// one policy ([`crate::didomi::DidomiClient::with_retry`], set when the run starts), so this
/// makes one attempt; it only stops waiting when the run is cancelled.
///
/// # Errors
/// The error of `call`; a cancelled wait ends with the Didomi client's last error kind as
/// [`crate::didomi::Error::Api`] 499.
pub async fn didomi_retry<T, F, Fut>(
    _policy: &Backoff,
    cancel: &CancellationToken,
    mut call: F,
) -> Result<T, crate::didomi::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::didomi::Result<T>>,
{
    tokio::select! {
        r = call() => r,
        () = cancel.cancelled() => Err(crate::didomi::Error::Api {
            status: 499,
            body: Default::default(),
            retry_after: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let b = Backoff {
            max_attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        let first = b.delay(b.base, 1);
        assert!(
            first >= Duration::from_millis(50) && first <= Duration::from_millis(150),
            "{first:?}"
        );
        let fourth = b.delay(b.base, 4);
        assert!(
            fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(1200),
            "{fourth:?}"
        );
        let late = b.delay(b.base, 30);
        assert!(late <= Duration::from_millis(1500), "capped at max ± jitter: {late:?}");
    }
}

/// 429s one HubSpot call may meet before the run stops: the limit is then not what the pacer
/// reads from HubSpot's headers (another app of the account, most likely).
pub const MAX_RATE_LIMITED: u32 = 60;

/// What to do after one failed HubSpot call of a run: the one policy of the push's batches and
/// the pull's searches and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubSpotStep {
    /// A rate-limit answer: pause the pacer this long (every request of the portal waits), then
    /// send again.
    Pause(Duration),
    /// The account's daily limit is spent: stop the run.
    DailyLimit,
    /// A transient failure (5xx, 408, 423, dropped connection, malformed answer): wait this
    /// long, then send again.
    Retry(Duration),
    /// Transient failures or rate-limit answers kept coming: give this call up.
    GiveUp,
    /// Not worth retrying (credentials, connection, refused input): give up at once.
    Stop,
}

/// The failures one HubSpot call has met so far (see [`HubSpotTally::next`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct HubSpotTally {
    /// Transient failures.
    pub attempts: u32,
    /// Rate-limit answers.
    pub limited: u32,
}

impl HubSpotTally {
    /// The step after `e`. A 429 without `Retry-After` (HubSpot sends none for its rolling
    /// limit) pauses a tenth of the pacer's `window`, up to three tenths when it repeats; the
    /// pacer's log then paces the requests again.
    pub fn next(
        &mut self,
        e: &crate::hubspot::Error,
        window: Duration,
        policy: &Backoff,
    ) -> HubSpotStep {
        use crate::hubspot::Error as H;
        match e {
            H::Api { status: 429, body, .. } if body.policy_name.as_deref() == Some("DAILY") => {
                HubSpotStep::DailyLimit
            }
            H::Api { status: 429, retry_after, .. } => {
                self.limited += 1;
                if self.limited > MAX_RATE_LIMITED {
                    return HubSpotStep::GiveUp;
                }
                HubSpotStep::Pause(retry_after.unwrap_or((window / 10) * self.limited.min(3)))
            }
            H::Api { status, .. } if *status >= 500 || matches!(status, 408 | 423) => {
                self.transient(policy)
            }
            H::Transport(_) | H::Decode { .. } | H::Other(_) | H::Exhausted { .. } => {
                self.transient(policy)
            }
            _ => HubSpotStep::Stop,
        }
    }

    fn transient(&mut self, policy: &Backoff) -> HubSpotStep {
        self.attempts += 1;
        if self.attempts >= policy.max_attempts {
            HubSpotStep::GiveUp
        } else {
            HubSpotStep::Retry(policy.delay(policy.base, self.attempts))
        }
    }
}

#[cfg(test)]
mod hubspot_policy_tests {
    use super::*;
    use crate::hubspot::Error as H;

    fn limited(policy: Option<&str>, retry_after: Option<Duration>) -> H {
        let body = crate::hubspot::models::ApiErrorBody {
            policy_name: policy.map(str::to_owned),
            ..Default::default()
        };
        H::Api { status: 429, body: Box::new(body), retry_after }
    }

    #[test]
    fn rate_limits_pause_the_pacer_and_give_up_after_the_cap() {
        let policy = Backoff::default();
        let window = Duration::from_secs(10);
        let mut t = HubSpotTally::default();
        let e = limited(Some("TEN_SECONDLY_ROLLING"), None);
        assert_eq!(t.next(&e, window, &policy), HubSpotStep::Pause(Duration::from_secs(1)));
        assert_eq!(t.next(&e, window, &policy), HubSpotStep::Pause(Duration::from_secs(2)));
        for _ in 2..MAX_RATE_LIMITED {
            assert_eq!(t.next(&e, window, &policy), HubSpotStep::Pause(Duration::from_secs(3)));
        }
        assert_eq!(t.next(&e, window, &policy), HubSpotStep::GiveUp, "past the cap");
        let mut t = HubSpotTally::default();
        let e = limited(None, Some(Duration::from_secs(7)));
        assert_eq!(t.next(&e, window, &policy), HubSpotStep::Pause(Duration::from_secs(7)));
        assert_eq!(t.next(&limited(Some("DAILY"), None), window, &policy), HubSpotStep::DailyLimit);
    }

    #[test]
    fn transient_failures_back_off_until_the_attempts_run_out() {
        let policy = Backoff { max_attempts: 3, ..Backoff::default() };
        let mut t = HubSpotTally::default();
        let e = H::Decode { path: ".".into(), message: "cut short".into(), body: "{\"".into() };
        assert!(matches!(t.next(&e, Duration::from_secs(10), &policy), HubSpotStep::Retry(_)));
        assert!(matches!(t.next(&e, Duration::from_secs(10), &policy), HubSpotStep::Retry(_)));
        assert_eq!(t.next(&e, Duration::from_secs(10), &policy), HubSpotStep::GiveUp);
    }
}
