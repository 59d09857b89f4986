//! Entry point of the desktop app; everything lives in the `dhs_app` library.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // First thing, while the process has one thread: changing the environment is only sound then.
    for (name, value) in dhs_app::webkit_defaults_to_set(|name| std::env::var_os(name)) {
        std::env::set_var(name, value);
    }
    dhs_app::run();
}
