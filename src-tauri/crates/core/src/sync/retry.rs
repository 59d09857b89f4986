//! Bounded retries with exponential backoff and jitter, shared by the push and the pull.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

/// How often and how long to retry a transient failure.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all (the first call included).
    pub max_attempts: u32,
    /// Wait after the first failure.
    pub base: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Backoff {
    /// `base · 2^(attempt-1)`, capped at [`Backoff::max`], with ±50 % jitter.
    pub fn delay(&self, base: Duration, attempt: u32) -> Duration {
        let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(self.max);
        exp.mul_f64(rand::rng().random_range(0.5..1.5))
    }
}

/// Retries a Didomi call on transient failures (5xx, 429, transport, malformed answers),
/// honouring `Retry-After`; gives up after [`Backoff::max_attempts`] or when cancelled, with
/// Didomi's own error.
///
/// # Errors
/// The last error of `call`.
pub async fn didomi_retry<T, F, Fut>(
    policy: &Backoff,
    cancel: &CancellationToken,
    mut call: F,
) -> Result<T, crate::didomi::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::didomi::Result<T>>,
{
    use crate::didomi::Error as D;
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let transient = match &e {
                    D::Api { status, .. } => *status >= 500 || *status == 429,
                    D::Transport(_) | D::Decode { .. } => true,
                    _ => false,
                };
                attempt += 1;
                if !transient || attempt >= policy.max_attempts || cancel.is_cancelled() {
                    return Err(e);
                }
                let wait = match &e {
                    D::Api { retry_after: Some(r), .. } => *r,
                    _ => policy.delay(policy.base, attempt),
                };
                tokio::time::sleep(wait).await;
            }
        }
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
