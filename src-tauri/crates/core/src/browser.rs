//! Opening a link in the system browser, and telling when that failed.
//!
//! `open::that_detached` reports success as soon as `xdg-open` is spawned, so a launcher that
//! fails a moment later (Chromium refusing to run as root, no browser configured) went unnoticed
//! and the Connect card kept waiting for a browser that never opened. Here the launcher is
//! watched for [`LAUNCH_WAIT`]: an exit with an error in that time is a failure; a launcher still
//! running then (some wait for the browser they started) counts as opened.

use std::time::Duration;

/// How long a launcher is watched for a failure before it counts as opened.
pub const LAUNCH_WAIT: Duration = Duration::from_secs(3);

/// Opens `url` in the system browser; `Err` says why it could not (for the log).
///
/// # Errors
/// When no launcher exists or every launcher exited with an error within `wait`.
pub async fn open(url: &str, wait: Duration) -> Result<(), String> {
    let url = url.to_owned();
    match tokio::task::spawn_blocking(move || open::that_detached_with_timeout(url, wait)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(join) => Err(format!("the launcher task failed: {join}")),
    }
}
