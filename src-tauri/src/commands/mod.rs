//! Tauri commands: thin adapters that call one core (or shell) function each and map the error
//! to [`crate::error::CommandError`]. Grouped by screen area.

pub mod app;
pub mod auto_sync;
pub mod config_file;
pub mod didomi;
pub mod hubspot;
pub mod inspect;
/// The app's IPC commands, one list.
pub mod list;
pub mod mapping;
pub mod options;
pub mod pull;
pub mod push;
