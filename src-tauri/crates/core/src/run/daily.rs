//! The daily-limit guard of a run (push or pull): HubSpot's per-account daily allowance of a
//! private app, and the error that stops a run at its reserve.

use std::time::Duration;

use crate::error::{Error, ErrorCode};
use crate::hubspot::HubSpotClient;
use crate::run::dto::SyncDirection;

/// Stops a run before the account's daily allowance runs out (private apps; OAuth apps have no
/// daily limit): once HubSpot's `Daily-Remaining` is below
/// [`crate::hubspot::client::daily_reserve`]. Only answers received during the run count, and an answer from before it (the connection
/// checks, or a run that stopped hours ago, before HubSpot's midnight reset) saying so is checked
/// again with one call. The account details read for the message's time zone is that call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DailyGuard {
    since: tokio::time::Instant,
    direction: SyncDirection,
}

impl DailyGuard {
    /// A guard for a run starting now.
    pub(crate) fn new(direction: SyncDirection) -> Self {
        Self { since: tokio::time::Instant::now(), direction }
    }

    /// `Some((left, allowance))` when an answer of this run says the reserve is reached.
    fn below(&self, hubspot: &HubSpotClient) -> Option<(u64, u64)> {
        let s = hubspot.rate_limits()?;
        (s.seen_at >= self.since).then(|| s.daily_below_reserve()).flatten()
    }

    /// Before the first request: the latest answer, whenever it came, checked again if it says
    /// the reserve is reached.
    ///
    /// # Errors
    /// [`ErrorCode::HubSpotDailyLimit`].
    pub(crate) async fn at_start(&self, hubspot: &HubSpotClient) -> Result<(), Error> {
        if hubspot.rate_limits().and_then(|s| s.daily_below_reserve()).is_none() {
            return Ok(());
        }
        self.stop(hubspot, None).await
    }

    /// Before each request.
    ///
    /// # Errors
    /// [`ErrorCode::HubSpotDailyLimit`].
    pub(crate) async fn check(&self, hubspot: &HubSpotClient) -> Result<(), Error> {
        match self.below(hubspot) {
            Some(left) => self.stop(hubspot, Some(left)).await,
            None => Ok(()),
        }
    }

    async fn stop(&self, hubspot: &HubSpotClient, left: Option<(u64, u64)>) -> Result<(), Error> {
        let details = hubspot.account_details().await.ok();
        match self.below(hubspot).or(left) {
            Some(left) => Err(daily_limit_error(Some(left), details.as_ref(), self.direction)),
            None => Ok(()), // HubSpot reset the allowance since that answer
        }
    }
}

/// The error that stops a run at the daily reserve (or at HubSpot's `DAILY` 429): what is left,
/// that the next run picks up the rest, and when HubSpot resets the allowance (midnight in the
/// account's time zone, from the account `details` when known).
pub(crate) fn daily_limit_error(
    left: Option<(u64, u64)>,
    details: Option<&crate::hubspot::models::AccountDetails>,
    direction: SyncDirection,
) -> Error {
    let run = match direction {
        SyncDirection::Push => "push",
        SyncDirection::Pull => "pull",
        SyncDirection::Both => "sync",
    };
    let what = match left {
        Some((0, daily)) => format!(
            "HubSpot's daily API limit for this account is used up (0 of {} calls left today)",
            thousands(daily)
        ),
        Some((left, daily)) => format!(
            "HubSpot's daily API limit for this account is nearly used up: {} of {} calls are left today, and the app keeps the last {} for the account's other integrations, which share this limit",
            thousands(left),
            thousands(daily),
            thousands(crate::hubspot::client::daily_reserve(daily))
        ),
        None => "HubSpot's daily API limit for this account is used up".to_owned(),
    };
    let zone = details.and_then(|d| d.time_zone.clone());
    let until = details.and_then(|d| d.utc_offset.as_deref()).and_then(until_midnight);
    let reset = match (zone, until) {
        (Some(z), Some(d)) => {
            format!("at midnight in the account's time zone ({z}), in about {}", hours_minutes(d))
        }
        (Some(z), None) => format!("at midnight in the account's time zone ({z})"),
        (None, Some(d)) => {
            format!("at midnight in the account's time zone, in about {}", hours_minutes(d))
        }
        (None, None) => "at midnight in the account's time zone".to_owned(),
    };
    Error::new(
        ErrorCode::HubSpotDailyLimit,
        format!(
            "{what}, so the {run} stopped. What was written stays written; the next {run} picks up the rest. HubSpot resets the daily limit {reset}: run the {run} again after that (or use fewer daily calls in the account's other private apps)."
        ),
    )
}

/// Time from now until the next midnight at a UTC offset like `+01:00` or `-05:30`.
fn until_midnight(offset: &str) -> Option<Duration> {
    let (sign, rest) = match offset.trim().as_bytes().first()? {
        b'+' => (1, &offset.trim()[1..]),
        b'-' => (-1, &offset.trim()[1..]),
        _ => (1, offset.trim()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    let offset = time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()?;
    let now = time::OffsetDateTime::now_utc().to_offset(offset);
    let midnight = now.date().next_day()?.midnight().assume_offset(offset);
    Duration::try_from(midnight - now).ok()
}

fn hours_minutes(d: Duration) -> String {
    let mins = d.as_secs().div_ceil(60);
    match (mins / 60, mins % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_stop_message_parts() {
        assert_eq!(thousands(250_000), "250,000", "thousands");
        assert_eq!(thousands(999), "999", "no separator under 1,000");
        assert_eq!(thousands(1_000_000), "1,000,000", "millions");
        assert_eq!(hours_minutes(Duration::from_secs(5 * 3600 + 12 * 60)), "5 h 12 min", "h m");
        assert_eq!(hours_minutes(Duration::from_secs(59)), "1 min", "rounded up");
        for offset in ["+01:00", "-05:30", "+00:00", "+14:00"] {
            let d = until_midnight(offset).expect(offset);
            assert!(d > Duration::ZERO && d <= Duration::from_secs(86_400), "{offset}: {d:?}");
        }
        let a = until_midnight("+01:00").unwrap().as_secs() as i64;
        let b = until_midnight("+02:00").unwrap().as_secs() as i64;
        assert_eq!((a - b).rem_euclid(86_400), 3600, "an hour later east of it");
        assert!(until_midnight("soon").is_none(), "unparsable offset");
    }
}
