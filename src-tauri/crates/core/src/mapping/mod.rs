//! Mapping Didomi purposes, preferences and preference values to HubSpot contact properties.
//!
//! - [`model`]: the saved mapping ([`Mapping`], [`MappingEntry`], [`DidomiItem`]).
//! - [`rows`]: the Didomi configuration ([`DidomiConfig`]) walked into rows ([`DidomiRow`]).
//! - [`compat`]: which properties a row kind may use (the compatibility rules).
//! - [`encoding`]: a preference's values in a text property ([`encode_preference`],
//!   [`decode_preference`]).
//! - [`names`]: internal names of the properties the app creates.
//! - [`check`]: draft issues ([`check_draft`]) and stale entries ([`check_stale`], used by the
//!   sync engine through `Configuration::mapping_ready`).
//! - [`suggest`]: name-similarity proposals.

pub mod check;
pub mod compat;
pub mod encoding;
pub mod model;
pub mod names;
pub mod rows;
pub mod suggest;

pub use check::{
    check_draft, check_stale, property_options, HubSpotPropertyOption, IssueKind, MappingIssue,
    PropertyOptionView, StaleEntry, StaleReason,
};
pub use encoding::{decode_preference, encode_preference, CodecError};
pub use model::{DidomiItem, ItemKind, Mapping, MappingEntry, ValueEncoding};
pub use rows::{DidomiConfig, DidomiRow, ValueLabel};
pub use suggest::Suggestion;
