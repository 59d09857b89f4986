//! Mapping Didomi purposes, preferences and preference values to HubSpot contact properties.
//!
//! - [`model`]: the saved mapping ([`Mapping`], [`MappingEntry`], [`DidomiItem`]).

pub mod model;

pub use model::{DidomiItem, ItemKind, Mapping, MappingEntry, ValueEncoding};
