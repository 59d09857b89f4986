//! Time in the simulator: real wall-clock time, with every *duration* the simulator enforces
//! (token lifetimes, authorization-code lifetimes, rate-limit windows) divided by the time scale.
//!
//! `--time-scale 60` makes a 30-minute HubSpot access token last 30 seconds and a 10-second rate
//! limit window last 1/6 s, so tests and benchmarks can cross those limits quickly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Scales durations; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    time_scale: f64,
}

impl Clock {
    /// A clock whose enforced durations are divided by `time_scale` (values ≤ 0 are taken as 1).
    pub fn new(time_scale: f64) -> Self {
        let time_scale = if time_scale.is_finite() && time_scale > 0.0 { time_scale } else { 1.0 };
        Self { time_scale }
    }

    /// The factor durations are divided by.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    /// A nominal duration (as the real API documents it) shortened by the time scale.
    pub fn scaled(&self, nominal: Duration) -> Duration {
        nominal.div_f64(self.time_scale)
    }

    /// Milliseconds since the Unix epoch (real time; timestamps are not scaled).
    pub fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new(1.0)
    }
}
