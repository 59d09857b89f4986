//! Entry point of the desktop app; everything lives in the `dhs_app` library.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    dhs_app::run();
}
