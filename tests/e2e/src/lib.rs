//! Helpers for the real-window tests.
