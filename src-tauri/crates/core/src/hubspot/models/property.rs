//! Contact properties and property groups (hubspot-api.md §2).

use serde::{Deserialize, Serialize};

/// One option of an enumeration property. Write the `value`, not the label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PropertyOption {
    /// Label shown in HubSpot.
    pub label: String,
    /// Stored value.
    pub value: String,
    /// Hidden in forms.
    pub hidden: bool,
    /// Position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i64>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Which parts of a property can be changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModificationMetadata {
    /// Can be archived.
    pub archivable: bool,
    /// Definition is read-only.
    pub read_only_definition: bool,
    /// Values are read-only: never write them.
    pub read_only_value: bool,
    /// Options are read-only.
    pub read_only_options: bool,
}

/// A contact property.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Property {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Data type: `bool`, `enumeration`, `date`, `datetime`, `string`, `number`...
    #[serde(rename = "type")]
    pub type_: String,
    /// Field type: `booleancheckbox`, `checkbox`, `select`, `text`...
    pub field_type: String,
    /// Group.
    pub group_name: String,
    /// Description.
    pub description: String,
    /// Options (enumerations).
    pub options: Vec<PropertyOption>,
    /// Position.
    pub display_order: Option<i64>,
    /// Hidden.
    pub hidden: bool,
    /// Usable in forms.
    pub form_field: bool,
    /// Unique identifier property.
    pub has_unique_value: bool,
    /// Computed by HubSpot.
    pub calculated: bool,
    /// Built in.
    pub hubspot_defined: bool,
    /// Archived.
    pub archived: bool,
    /// Sensitivity (`non_sensitive`...).
    pub data_sensitivity: Option<String>,
    /// Modification rules.
    pub modification_metadata: Option<ModificationMetadata>,
    /// Created at.
    pub created_at: Option<String>,
    /// Updated at.
    pub updated_at: Option<String>,
}

impl Property {
    /// True when the app must not write values of this property.
    pub fn is_read_only(&self) -> bool {
        self.calculated || self.modification_metadata.as_ref().is_some_and(|m| m.read_only_value)
    }
}

/// Body of `POST /crm/properties/2026-03/contacts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    /// Internal name (`[a-z][a-z0-9_]*`).
    pub name: String,
    /// Label.
    pub label: String,
    /// Data type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Field type.
    pub field_type: String,
    /// Group.
    pub group_name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Options (enumerations and booleans).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PropertyOption>,
    /// Usable in forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_field: Option<bool>,
}

/// A property group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PropertyGroup {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Position.
    pub display_order: Option<i64>,
    /// Archived.
    pub archived: bool,
}

/// Body of `POST /crm/properties/2026-03/contacts/groups`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroupCreate {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Position (`-1` = last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i64>,
}

/// `{ "results": [...] }` without paging.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Results<T> {
    /// The items.
    pub results: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_property() {
        let p: Property = serde_json::from_str(
            r#"{ "name": "didomi_changed", "label": "Didomi Changed", "type": "number", "fieldType": "number",
  "groupName": "didomi", "description": "", "options": [], "displayOrder": -1,
  "hidden": false, "formField": false, "hasUniqueValue": false, "calculated": false,
  "externalOptions": false, "hubspotDefined": false, "archived": false,
  "numberDisplayHint": "unformatted",
  "modificationMetadata": { "archivable": true, "readOnlyDefinition": false,
                            "readOnlyValue": true, "readOnlyOptions": false },
  "createdAt": "2026-01-01T00:00:00Z" }"#,
        )
        .unwrap();
        assert_eq!(p.type_, "number", "type field");
        assert!(p.is_read_only(), "readOnlyValue makes it read-only");
        let c = PropertyCreate {
            name: "consent_newsletter".into(),
            label: "Newsletter".into(),
            type_: "bool".into(),
            field_type: "booleancheckbox".into(),
            group_name: "didomi".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "bool", "type serialized under `type`");
        assert_eq!(v["fieldType"], "booleancheckbox", "camelCase");
        assert!(v.get("options").is_none(), "empty options omitted");
    }
}
