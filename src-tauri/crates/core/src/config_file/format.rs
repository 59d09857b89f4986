//! The export file format (version [`VERSION`]) and the older "v0" draft shape it migrates from.
//!
//! v1 (current):
//! ```json
//! { "$schema": "…/mapping-config.schema.json", "format": "didomi-hubspot-sync.mapping-config",
//!   "version": 1, "exportedAt": "2026-11-27T17:00:00Z", "appVersion": "0.1.0",
//!   "hubspotPortalId": 146310066, "didomiOrganizationId": "acme",
//!   "options": { "upsert": false, "bidirectional": true, "hubspotAccountId": 146310066,
//!                "propertyGroup": "didomi", "batchSize": 100, "didomiChangedProperty": "didomi_changed",
//!                "conflictWinner": "didomi", "forwardToIntegrations": false },
//!   "mappings": [ { "item": {"kind": "purpose", "purposeId": "newsletter-7Kq2Xa"}, "kind": "boolean",
//!                   "property": "didomi_newsletter", "encoding": "labels",
//!                   "didomiLabel": "Newsletter", "propertyLabel": "Newsletter",
//!                   "propertyType": "bool", "propertyFieldType": "booleancheckbox" } ] }
//! ```
//! Portal and organization ids are for information (another one gives a warning on import);
//! labels and types are for people and for drift checks; the ids decide. No secret, ever.
//!
//! v0 (pre-release draft): `{ "version": 0, "portalId", "organizationId", "upsert",
//! "bidirectional", "rows": [ { "purpose", "preference"?, "value"?, "hubspotProperty",
//! "useIds"? } ] }` — see [`ConfigFileV0`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::mapping::{DidomiItem, ItemKind, ValueEncoding};
use crate::pull::ConflictWinner;

/// The `format` value of every export.
pub const FORMAT: &str = "didomi-hubspot-sync.mapping-config";
/// The version this build writes.
pub const VERSION: u32 = 1;
/// The file name of the JSON Schema, written next to every export (the same file is in the
/// repository at `src-tauri/crates/core/schema/mapping-config.schema.json`).
pub const SCHEMA_FILE: &str = "mapping-config.schema.json";
/// The `$schema` written into exports: the schema file next to the export, a relative reference
/// that editors (VS Code, JetBrains) resolve against the export's folder.
pub const SCHEMA_URL: &str = "./mapping-config.schema.json";

/// The sync options as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportOptions {
    /// Upsert mode: create contacts for unmatched emails.
    pub upsert: bool,
    /// Bidirectional flow.
    pub bidirectional: bool,
    /// HubSpot account id given for the bidirectional flow.
    #[serde(default)]
    pub hubspot_account_id: Option<u64>,
    /// Property group of the Didomi properties.
    pub property_group: String,
    /// Records per HubSpot batch call (1–100).
    #[schemars(range(min = 1, max = 100))]
    pub batch_size: u32,
    /// Internal name of the "Didomi Changed" property.
    pub didomi_changed_property: String,
    /// The pull: who wins when both sides changed the same item (`didomi` when absent).
    #[serde(default)]
    pub conflict_winner: ConflictWinner,
    /// The pull: forward pulled changes to Didomi's other integrations (`false` when absent).
    #[serde(default)]
    pub forward_to_integrations: bool,
}

/// One mapping as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportEntry {
    /// The Didomi row by stable ids.
    pub item: DidomiItem,
    /// Boolean or text (for people; the item decides).
    pub kind: ItemKind,
    /// Internal name of the HubSpot property.
    pub property: String,
    /// How a preference's values are written (ignored for boolean rows).
    #[serde(default)]
    pub encoding: ValueEncoding,
    /// The row's path in the Didomi configuration at export time.
    #[serde(default)]
    pub didomi_label: String,
    /// The property's label at export time.
    #[serde(default)]
    pub property_label: String,
    /// The property's `type` at export time.
    #[serde(default)]
    pub property_type: String,
    /// The property's `fieldType` at export time.
    #[serde(default)]
    pub property_field_type: String,
}

/// The export file, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Didomi ⇄ HubSpot sync: mapping configuration")]
pub struct ConfigFile {
    /// The JSON Schema of this format.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `didomi-hubspot-sync.mapping-config`.
    pub format: String,
    /// Format version (1; files of version 0 are migrated on import).
    pub version: u32,
    /// When exported (RFC 3339).
    pub exported_at: String,
    /// Version of the app that exported.
    pub app_version: String,
    /// HubSpot portal id at export (information).
    #[serde(default)]
    pub hubspot_portal_id: Option<u64>,
    /// Didomi organization id at export (information).
    #[serde(default)]
    pub didomi_organization_id: Option<String>,
    /// Sync options.
    pub options: ExportOptions,
    /// The mappings.
    pub mappings: Vec<ExportEntry>,
}

/// One row of a v0 draft file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RowV0 {
    /// Purpose id.
    pub purpose: String,
    /// Preference id (preference and value rows).
    #[serde(default)]
    pub preference: Option<String>,
    /// Value id (value rows).
    #[serde(default)]
    pub value: Option<String>,
    /// Property internal name.
    pub hubspot_property: String,
    /// Write value ids instead of labels.
    #[serde(default)]
    pub use_ids: bool,
}

/// The pre-release "v0" draft shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFileV0 {
    /// Always 0.
    pub version: u32,
    /// Portal id.
    #[serde(default)]
    pub portal_id: Option<u64>,
    /// Organization id.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Upsert.
    #[serde(default)]
    pub upsert: bool,
    /// Bidirectional.
    #[serde(default)]
    pub bidirectional: bool,
    /// Rows.
    #[serde(default)]
    pub rows: Vec<RowV0>,
}

impl ConfigFileV0 {
    /// v0 → v1: rows become items by shape (value ⇒ value row, preference ⇒ preference row,
    /// else purpose); `useIds` becomes the encoding; options the draft lacked take the defaults;
    /// labels and types are unknown (empty).
    ///
    /// # Errors
    /// `(row index, message)` for a value without a preference.
    pub fn migrate(self) -> Result<ConfigFile, (usize, String)> {
        let defaults = crate::settings::SyncOptions::default();
        let mut mappings = Vec::with_capacity(self.rows.len());
        for (i, r) in self.rows.into_iter().enumerate() {
            let item = match (r.preference, r.value) {
                (Some(preference_id), Some(value_id)) => {
                    DidomiItem::Value { purpose_id: r.purpose, preference_id, value_id }
                }
                (Some(preference_id), None) => {
                    DidomiItem::Preference { purpose_id: r.purpose, preference_id }
                }
                (None, None) => DidomiItem::Purpose { purpose_id: r.purpose },
                (None, Some(_)) => {
                    return Err((i, "a value needs its preference: add \"preference\"".into()))
                }
            };
            mappings.push(ExportEntry {
                kind: item.kind(),
                item,
                property: r.hubspot_property,
                encoding: if r.use_ids { ValueEncoding::Ids } else { ValueEncoding::Labels },
                didomi_label: String::new(),
                property_label: String::new(),
                property_type: String::new(),
                property_field_type: String::new(),
            });
        }
        Ok(ConfigFile {
            schema: None,
            format: FORMAT.into(),
            version: VERSION,
            exported_at: String::new(),
            app_version: String::new(),
            hubspot_portal_id: self.portal_id,
            didomi_organization_id: self.organization_id,
            options: ExportOptions {
                upsert: self.upsert,
                bidirectional: self.bidirectional,
                hubspot_account_id: if self.bidirectional { self.portal_id } else { None },
                property_group: defaults.property_group,
                batch_size: defaults.batch_size,
                didomi_changed_property: defaults.didomi_changed_property,
                conflict_winner: defaults.conflict_winner,
                forward_to_integrations: defaults.forward_to_integrations,
            },
            mappings,
        })
    }
}

/// The JSON Schema of [`ConfigFile`], pretty-printed with a final newline (the committed file).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
