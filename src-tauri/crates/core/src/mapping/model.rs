//! The mapping model: which HubSpot contact property each Didomi purpose, preference and
//! preference value is written to. Rows are identified by stable Didomi ids (never labels), so a
//! mapping survives renames and can be exported, imported and checked for drift.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The stable identity of one Didomi row of the mapping screen.
///
/// Preferences live under a purpose in the configuration tree and values under a preference;
/// the consent `values` map is keyed by the preference-library id and holds value ids, so those
/// are the ids kept here (didomi-api.md §2, §4).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, JsonSchema,
)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[ts(export)]
pub enum DidomiItem {
    /// A purpose: boolean (`enabled`).
    Purpose {
        /// Purpose id.
        purpose_id: String,
    },
    /// A preference under a purpose: string (the selected values).
    Preference {
        /// Purpose id the preference sits under.
        purpose_id: String,
        /// Preference-library id.
        preference_id: String,
    },
    /// One value of a preference: boolean (selected or not).
    Value {
        /// Purpose id.
        purpose_id: String,
        /// Preference-library id.
        preference_id: String,
        /// Preference value id.
        value_id: String,
    },
}

impl DidomiItem {
    /// What kind of HubSpot property the row needs.
    pub fn kind(&self) -> ItemKind {
        match self {
            DidomiItem::Purpose { .. } | DidomiItem::Value { .. } => ItemKind::Boolean,
            DidomiItem::Preference { .. } => ItemKind::Text,
        }
    }
}

/// The Didomi side's data type, which decides the compatible HubSpot properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ItemKind {
    /// Purposes and preference values: "choosing options" properties that hold true/false.
    Boolean,
    /// Preferences: single-line or multi-line text.
    Text,
}

/// How a preference's selected values are written into a text property.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ValueEncoding {
    /// The values' labels in the organization's language, joined with `;` (the default).
    #[default]
    Labels,
    /// The value ids, joined with `;`.
    Ids,
}

/// One mapped row: a Didomi item written to one HubSpot contact property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MappingEntry {
    /// The Didomi row.
    pub item: DidomiItem,
    /// Internal name of the HubSpot contact property.
    pub property: String,
    /// For preferences: how the selected values are encoded. Ignored for boolean rows.
    #[serde(default)]
    pub encoding: ValueEncoding,
}

/// The whole mapping, saved with the settings. At most one entry per Didomi item and per
/// HubSpot property.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Mapping {
    /// The mapped rows, in the order of the Didomi configuration tree.
    pub entries: Vec<MappingEntry>,
}

impl Mapping {
    /// The entry for `item`, if mapped.
    pub fn entry(&self, item: &DidomiItem) -> Option<&MappingEntry> {
        self.entries.iter().find(|e| &e.item == item)
    }

    /// The entry writing to `property`, if any.
    pub fn entry_for_property(&self, property: &str) -> Option<&MappingEntry> {
        self.entries.iter().find(|e| e.property == property)
    }

    /// `true` when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_serialize_with_a_kind_tag_and_camel_case_ids() {
        let item = DidomiItem::Value {
            purpose_id: "p".into(),
            preference_id: "topics".into(),
            value_id: "sports".into(),
        };
        let v = serde_json::to_value(&item).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"kind": "value", "purposeId": "p", "preferenceId": "topics", "valueId": "sports"}),
            "the exported shape is stable"
        );
        let back: DidomiItem = serde_json::from_value(v).expect("round-trips");
        assert_eq!(back, item, "round trip");
        assert_eq!(back.kind(), ItemKind::Boolean, "values are boolean rows");
    }

    #[test]
    fn lookups_by_item_and_property() {
        let m = Mapping {
            entries: vec![MappingEntry {
                item: DidomiItem::Preference { purpose_id: "p".into(), preference_id: "f".into() },
                property: "email_frequency".into(),
                encoding: ValueEncoding::Ids,
            }],
        };
        assert!(m.entry_for_property("email_frequency").is_some(), "found by property");
        assert!(
            m.entry(&DidomiItem::Purpose { purpose_id: "p".into() }).is_none(),
            "an unmapped purpose is not found"
        );
        let e: MappingEntry = serde_json::from_value(serde_json::json!({
            "item": {"kind": "purpose", "purposeId": "p"}, "property": "x"
        }))
        .expect("encoding defaults");
        assert_eq!(e.encoding, ValueEncoding::Labels, "labels by default");
    }
}
