//! Didomi wire types: paging envelope, purposes, preferences library, configuration tree
//! (didomi-api.md §3 "Generic list conventions", §4).

pub mod config;

pub use config::{
    ConfigTree, LocalizedText, Page, Preference, PreferenceValue, Purpose, SelectedPreference,
    SelectedPurpose, TreePreference, TreePreferenceValue,
};
