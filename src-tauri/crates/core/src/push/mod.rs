//! The push (Didomi → HubSpot): reading Didomi, routing people who share an email, planning
//! batches and the values written.
//!
//! - [`engine`]: [`push`], the streamed, batched, paced and resumable push (a scan pass that
//!   picks one owner per email, then the writing pass);
//! - `owners.rs`: the emails several users share and their newest user, found in memory that
//!   does not grow with the population (sorted chunks spilled to the data folder);
//! - `cursors.rs`: the cursor of every page the scan read, kept in the data folder for the
//!   writing pass;
//! - [`values`]: the mapped property values of a Didomi user, the email rule, fingerprints;
//! - [`automap`]: a full mapping with its properties created (the bench, the tests and the
//!   Sandbox's first run).
//!
//! The window calls it through `Runs::push_run`, the CLI through [`crate::jobs`].

pub mod automap;
mod cursors;
pub mod engine;
mod owners;
pub mod values;

pub use engine::{push, push_only, EngineConfig, PushJob};
