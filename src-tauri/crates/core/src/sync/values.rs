//! The HubSpot property values a Didomi user maps to, the email rule, and the fingerprint of
//! the values kept in the state database.
//!
//! Semantics (issue 5):
//! - purpose → `"true"` / `"false"` from `enabled`; `null` (or no choice) writes nothing;
//! - preference → the selected values joined with `;` (labels or ids as the entry says); a
//!   preference never answered writes nothing; an emptied one (`""`) writes `""`;
//! - value → `"true"` if selected, `"false"` if the preference is answered without it, nothing
//!   if unanswered.
//!
//! The preference encoding is written here because the mapping module's `encode_preference`
//! had not landed when the engine was written; it is the same rule.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::didomi::consents::ConsentUser;
use crate::didomi::models::Preference;
use crate::mapping::{DidomiItem, Mapping, ValueEncoding};

/// Property name → value to write. Properties with nothing to write are absent.
pub type Values = BTreeMap<String, String>;

/// Preference value labels: `(preference id, value id)` → label.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    map: HashMap<(String, String), String>,
}

impl Labels {
    /// Labels from the preferences library in `lang` (English, else any language).
    pub fn from_preferences(prefs: &[Preference], lang: &str) -> Self {
        let mut map = HashMap::new();
        for p in prefs {
            for v in &p.values {
                map.insert((p.id.clone(), v.id.clone()), v.name.text(lang));
            }
        }
        Self { map }
    }

    /// Adds one label (tests).
    pub fn insert(&mut self, preference_id: &str, value_id: &str, label: &str) {
        self.map.insert((preference_id.to_owned(), value_id.to_owned()), label.to_owned());
    }

    /// The label of a value; the id when the library does not know it.
    fn label<'a>(&'a self, preference_id: &str, value_id: &'a str) -> &'a str {
        self.map
            .get(&(preference_id.to_owned(), value_id.to_owned()))
            .map(String::as_str)
            .unwrap_or(value_id)
    }
}

/// The values `user` maps to under `mapping`.
pub fn compute(user: &ConsentUser, mapping: &Mapping, labels: &Labels) -> Values {
    let mut out = Values::new();
    for entry in &mapping.entries {
        let value = match &entry.item {
            DidomiItem::Purpose { purpose_id } => {
                user.purpose(purpose_id).and_then(|p| p.enabled).map(|b| b.to_string())
            }
            DidomiItem::Preference { purpose_id, preference_id } => {
                user.purpose(purpose_id).and_then(|p| p.values.get(preference_id)).map(|choice| {
                    let parts: Vec<&str> = choice
                        .ids()
                        .map(|id| match entry.encoding {
                            ValueEncoding::Ids => id,
                            ValueEncoding::Labels => labels.label(preference_id, id),
                        })
                        .collect();
                    parts.join(";")
                })
            }
            DidomiItem::Value { purpose_id, preference_id, value_id } => user
                .purpose(purpose_id)
                .and_then(|p| p.values.get(preference_id))
                .map(|choice| choice.ids().any(|id| id == value_id).to_string()),
        };
        if let Some(v) = value {
            out.insert(entry.property.clone(), v);
        }
    }
    out
}

/// A stable fingerprint of `values` (first 8 bytes of SHA-256 over a canonical encoding).
pub fn fingerprint(values: &Values) -> i64 {
    let mut h = Sha256::new();
    for (k, v) in values {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([1]);
    }
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("32-byte digest"))
}

/// Normalizes an `organization_user_id` into an email (trimmed, lowercase), or says why it is
/// not one.
pub fn normalize_email(ouid: Option<&str>) -> Result<String, &'static str> {
    let Some(raw) = ouid else {
        return Err("the Didomi user has no organization_user_id");
    };
    let e = raw.trim().to_lowercase();
    if e.is_empty() {
        return Err("the organization_user_id is empty");
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err("the organization_user_id is not an email (no @)");
    };
    let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '@');
    if bad(local) || bad(domain) || !domain.contains('.') || domain.starts_with('.') {
        return Err("the organization_user_id is not a valid email");
    }
    if domain.ends_with('.') || e.len() > 254 {
        return Err("the organization_user_id is not a valid email");
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappingEntry;

    fn user(json: serde_json::Value) -> ConsentUser {
        serde_json::from_value(json).expect("user parses")
    }

    fn entry(item: DidomiItem, property: &str, encoding: ValueEncoding) -> MappingEntry {
        MappingEntry { item, property: property.into(), encoding }
    }

    fn mapping() -> Mapping {
        Mapping {
            entries: vec![
                entry(
                    DidomiItem::Purpose { purpose_id: "news".into() },
                    "p_news",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Purpose { purpose_id: "sms".into() },
                    "p_sms",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                    },
                    "topics_labels",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "freq".into(),
                    },
                    "freq_ids",
                    ValueEncoding::Ids,
                ),
                entry(
                    DidomiItem::Value {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                        value_id: "sports".into(),
                    },
                    "v_sports",
                    ValueEncoding::Labels,
                ),
                entry(
                    DidomiItem::Value {
                        purpose_id: "news".into(),
                        preference_id: "freq".into(),
                        value_id: "daily".into(),
                    },
                    "v_daily",
                    ValueEncoding::Labels,
                ),
            ],
        }
    }

    #[test]
    fn purposes_preferences_and_values_follow_the_rules() {
        let mut labels = Labels::default();
        labels.insert("topics", "sports", "Sports");
        labels.insert("topics", "travel", "Travel");
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": true, "values": {"topics": {"value": "sports,travel"}, "freq": {"value": ""}}},
            {"id": "sms", "enabled": null}
        ]}}));
        let v = compute(&u, &mapping(), &labels);
        assert_eq!(v.get("p_news").map(String::as_str), Some("true"), "enabled → true");
        assert_eq!(v.get("p_sms"), None, "null writes nothing");
        assert_eq!(
            v.get("topics_labels").map(String::as_str),
            Some("Sports;Travel"),
            "labels joined"
        );
        assert_eq!(
            v.get("freq_ids").map(String::as_str),
            Some(""),
            "emptied preference writes \"\""
        );
        assert_eq!(v.get("v_sports").map(String::as_str), Some("true"), "selected value");
        assert_eq!(v.get("v_daily").map(String::as_str), Some("false"), "answered without it");
    }

    #[test]
    fn unanswered_preferences_and_absent_purposes_write_nothing() {
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": false}
        ]}}));
        let v = compute(&u, &mapping(), &Labels::default());
        assert_eq!(v.len(), 1, "only the purpose is written: {v:?}");
        assert_eq!(v["p_news"], "false", "disabled → false");
        let none = compute(&user(serde_json::json!({"id": "x"})), &mapping(), &Labels::default());
        assert!(none.is_empty(), "no consents: nothing to write");
    }

    #[test]
    fn ids_encoding_and_unknown_labels_fall_back_to_ids() {
        let u = user(serde_json::json!({"id": "u", "consents": {"purposes": [
            {"id": "news", "enabled": true, "values": {"topics": {"value": "music"}, "freq": {"value": "weekly"}}}
        ]}}));
        let v = compute(&u, &mapping(), &Labels::default());
        assert_eq!(v["freq_ids"], "weekly", "ids encoding");
        assert_eq!(v["topics_labels"], "music", "unknown label falls back to the id");
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        let a = Values::from([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "".to_owned())]);
        let mut b = a.clone();
        assert_eq!(fingerprint(&a), fingerprint(&b), "same values, same fingerprint");
        b.insert("b".into(), "x".into());
        assert_ne!(fingerprint(&a), fingerprint(&b), "a changed value changes it");
        let c = Values::from([("a".to_owned(), "1".to_owned())]);
        assert_ne!(fingerprint(&a), fingerprint(&c), "a removed property changes it");
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email(Some("  Jane.Doe@Example.COM ")),
            Ok("jane.doe@example.com".into()),
            "normalized"
        );
        for bad in
            ["jane at example.com", "jane@", "@x.com", "a b@x.com", "a@nodot", "a@@x.com", ""]
        {
            assert!(normalize_email(Some(bad)).is_err(), "{bad:?} is not an email");
        }
        assert!(normalize_email(None).is_err(), "missing ouid");
    }
}
