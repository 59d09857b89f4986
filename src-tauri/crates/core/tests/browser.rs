//! `browser::open` against fake launchers on PATH. Its own test binary: it changes PATH, which
//! would disturb tests running beside it in one process.
#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use dhs_core::browser;

/// Writes an `xdg-open` that runs `body` (absolute paths only: PATH holds just this folder).
fn fake_xdg_open(dir: &Path, body: &str) {
    let path = dir.join("xdg-open");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write fake xdg-open");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test]
async fn a_launcher_that_fails_after_a_moment_is_reported_as_not_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    // PATH holds only the fake launcher, so gio, gnome-open and kde-open are not found either.
    std::env::set_var("PATH", dir.path());
    let wait = Duration::from_millis(2500);

    // Chromium refusing to run as root: xdg-open exits with an error after about a second.
    fake_xdg_open(dir.path(), "/bin/sleep 1; exit 3");
    let e = browser::open("http://127.0.0.1:9/authorize", wait).await;
    assert!(e.is_err(), "a launcher failing within the wait is a failure: {e:?}");

    // A desktop that hands the link to a running browser: exits 0 at once.
    fake_xdg_open(dir.path(), "exit 0");
    assert_eq!(browser::open("http://127.0.0.1:9/a", wait).await, Ok(()), "opened");

    // A launcher that waits for the browser it started: still running after the wait = opened.
    fake_xdg_open(dir.path(), "/bin/sleep 30");
    let started = Instant::now();
    assert_eq!(browser::open("http://127.0.0.1:9/a", wait).await, Ok(()), "handed off");
    assert!(started.elapsed() < Duration::from_secs(10), "does not wait for the browser");

    // No launcher at all.
    std::fs::remove_file(dir.path().join("xdg-open")).expect("remove");
    assert!(browser::open("http://127.0.0.1:9/a", wait).await.is_err(), "nothing to open with");
}
