//! Logs go to a daily-rotated file in the app log dir through `tracing`. Nothing logged may
//! contain a secret: secrets are `dhs_core::Secret`, whose `Debug`/`Display` print `<redacted>`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Default filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,dhs_core=debug,dhs_app=debug,dhs_simulator=info";
/// How many daily log files are kept.
const KEEP_FILES: usize = 7;

/// Keeps the background log writer alive; dropping it flushes and stops file logging.
#[derive(Debug)]
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

/// Starts logging to `<log_dir>/dhs-app.<date>.log`.
///
/// # Errors
/// When the directory cannot be created or a global subscriber is already set.
pub fn init(log_dir: &Path) -> Result<LogGuard, String> {
    std::fs::create_dir_all(log_dir).map_err(|e| format!("create {}: {e}", log_dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("dhs-app")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(log_dir)
        .map_err(|e| format!("open log file in {}: {e}", log_dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| format!("logging already initialised: {e}"))?;
    Ok(LogGuard(guard))
}
