//! PMP configuration types. Translatable fields are a plain string or a language map
//! (`$translations=true`), so [`LocalizedText`] accepts both.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `{ total, limit, skip, data }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Page<T> {
    /// Total items.
    pub total: Option<u64>,
    /// Page size.
    pub limit: Option<u64>,
    /// Offset.
    pub skip: Option<u64>,
    /// Items.
    pub data: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self { total: None, limit: None, skip: None, data: Vec::new() }
    }
}

/// A string or a `{lang: text}` map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum LocalizedText {
    /// Plain text.
    Plain(String),
    /// Per-language text.
    Map(BTreeMap<String, String>),
}

impl Default for LocalizedText {
    fn default() -> Self {
        LocalizedText::Plain(String::new())
    }
}

impl LocalizedText {
    /// The text in `lang`, else English, else any language.
    pub fn text(&self, lang: &str) -> String {
        match self {
            LocalizedText::Plain(s) => s.clone(),
            LocalizedText::Map(m) => m
                .get(lang)
                .or_else(|| m.get("en"))
                .or_else(|| m.values().next())
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// A purpose (`GET /v1/metadata/purposes`). `description` is its NAME.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Purpose {
    /// Id.
    pub id: String,
    /// The purpose's name.
    pub description: LocalizedText,
    /// The purpose's description.
    pub details: Option<LocalizedText>,
    /// Owner organization (`null` = global purpose).
    pub organization_id: Option<String>,
    /// Namespaces (`iab`, `iab2`, `didomi`, `custom`).
    pub namespaces: Option<serde_json::Value>,
    /// Created at.
    pub created_at: Option<String>,
    /// Updated at.
    pub updated_at: Option<String>,
}

/// A value of a library preference.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PreferenceValue {
    /// Id.
    pub id: String,
    /// Name.
    pub name: LocalizedText,
    /// Position.
    pub order: Option<i64>,
}

/// A preference of the library (`GET /v1/preferences`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Preference {
    /// Id.
    pub id: String,
    /// Owner organization.
    pub organization_id: Option<String>,
    /// Name.
    pub name: LocalizedText,
    /// Description.
    pub description: Option<LocalizedText>,
    /// `single` or `multi`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Values.
    pub values: Vec<PreferenceValue>,
}

/// A value inside the tree; may carry nested preferences (up to 3 levels).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TreePreferenceValue {
    /// Value id.
    pub id: String,
    /// Name.
    pub name: LocalizedText,
    /// Nested preferences under this value.
    pub selected_preferences: Vec<SelectedPreference>,
}

/// The library preference embedded in a tree node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TreePreference {
    /// Library preference id.
    pub id: String,
    /// `single` or `multi`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Name.
    pub name: LocalizedText,
    /// Values.
    pub values: Vec<TreePreferenceValue>,
}

/// A preference selected under a purpose (or under a value).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SelectedPreference {
    /// Node id.
    pub id: String,
    /// Parent purpose node.
    pub parent_selected_purpose_id: Option<String>,
    /// Parent value (nested preferences).
    pub parent_preference_value_id: Option<String>,
    /// The library preference.
    pub preference: TreePreference,
    /// Children.
    pub selected_preferences: Vec<SelectedPreference>,
    /// Position.
    pub order: Option<i64>,
}

/// The purpose embedded in a tree node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TreePurpose {
    /// Purpose id.
    pub id: String,
    /// Name.
    pub description: LocalizedText,
    /// Description.
    pub details: Option<LocalizedText>,
}

/// A purpose selected in the tree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SelectedPurpose {
    /// Node id.
    pub id: String,
    /// Purpose id.
    pub purpose_id: String,
    /// Position.
    pub order: Option<i64>,
    /// The purpose.
    pub purpose: Option<TreePurpose>,
    /// Preferences under it.
    pub selected_preferences: Vec<SelectedPreference>,
}

/// The organization's configuration tree (`GET /v1/config-trees`, one per organization).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfigTree {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: Option<String>,
    /// Purposes with their preferences.
    pub selected_purposes: Vec<SelectedPurpose>,
}

impl ConfigTree {
    /// Number of selected preferences at every depth.
    pub fn preference_count(&self) -> usize {
        fn count(prefs: &[SelectedPreference]) -> usize {
            prefs
                .iter()
                .map(|p| {
                    1 + count(&p.selected_preferences)
                        + p.preference
                            .values
                            .iter()
                            .map(|v| count(&v.selected_preferences))
                            .sum::<usize>()
                })
                .sum()
        }
        self.selected_purposes.iter().map(|p| count(&p.selected_preferences)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_shapes() {
        let p: Page<Preference> = serde_json::from_str(
            r#"{ "total": 1, "limit": 100, "skip": 0, "data": [ {
  "id": "topics-Xy34Zw", "organization_id": "acme",
  "name": { "en": "Topics" }, "description": { "en": "What do you want to hear about?" },
  "type": "multi",
  "values": [
    { "id": "sports-1a2b", "name": { "en": "Sports" }, "order": 0 },
    { "id": "travel-3c4d", "name": { "en": "Travel" }, "order": 1 }
  ], "created_at": "x", "updated_at": "y" } ] }"#,
        )
        .unwrap();
        assert_eq!(p.data[0].name.text("fr"), "Topics", "falls back to English");
        assert_eq!(p.data[0].values.len(), 2, "values");
        let t: Vec<ConfigTree> = serde_json::from_str(
            r#"[ { "id": "tree1", "organization_id": "acme",
      "selected_purposes": [ {
        "id": "sp1", "purpose_id": "newsletter-Ab12Cd", "order": 0,
        "purpose": { "id": "newsletter-Ab12Cd", "description": {}, "details": {} },
        "selected_preferences": [ {
          "id": "spref1", "parent_selected_purpose_id": "sp1", "parent_preference_value_id": null,
          "preference": { "id": "topics-Xy34Zw", "type": "multi", "name": {"en": "Topics"},
                          "values": [ { "id": "sports-1a2b", "name": {"en": "Sports"}, "selected_preferences": [
                            { "id": "n", "preference": {"id": "freq", "type": "single", "name": "Frequency", "values": []} } ] } ] },
          "selected_preferences": [], "order": 0 } ] } ] } ]"#,
        )
        .unwrap();
        assert_eq!(t[0].selected_purposes[0].purpose_id, "newsletter-Ab12Cd", "purpose id");
        assert_eq!(t[0].preference_count(), 2, "nested preference counted");
        let purpose: Purpose =
            serde_json::from_str(r#"{"id":"p","description":"Newsletter","organization_id":null}"#)
                .unwrap();
        assert_eq!(purpose.description.text("en"), "Newsletter", "plain string name");
    }
}
