//! "Map everything": one HubSpot property per purpose, preference and preference value of the
//! Didomi configuration tree, created if missing. Used by the benchmark and the tests; the app's
//! Mapping screen builds mappings one row at a time instead.

use crate::didomi::models::{ConfigTree, SelectedPreference};
use crate::hubspot::models::{PropertyCreate, PropertyGroupCreate, PropertyOption};
use crate::hubspot::HubSpotClient;
use crate::mapping::{DidomiItem, Mapping, MappingEntry, ValueEncoding};

/// A HubSpot internal name for a Didomi id: `didomi_` + lowercase, non-alphanumerics as `_`.
pub fn property_name(parts: &[&str]) -> String {
    let mut s = String::from("didomi");
    for p in parts {
        s.push('_');
        s.extend(p.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        }));
    }
    s
}

/// Every purpose, preference and value of `tree` mapped to a property named by
/// [`property_name`]. Preferences are written as labels.
pub fn full_mapping(tree: &ConfigTree) -> Mapping {
    fn prefs(purpose: &str, list: &[SelectedPreference], out: &mut Vec<MappingEntry>) {
        for sp in list {
            let pref = &sp.preference.id;
            out.push(MappingEntry {
                item: DidomiItem::Preference {
                    purpose_id: purpose.into(),
                    preference_id: pref.clone(),
                },
                property: property_name(&[purpose, pref]),
                encoding: ValueEncoding::Labels,
            });
            for v in &sp.preference.values {
                out.push(MappingEntry {
                    item: DidomiItem::Value {
                        purpose_id: purpose.into(),
                        preference_id: pref.clone(),
                        value_id: v.id.clone(),
                    },
                    property: property_name(&[purpose, pref, &v.id]),
                    encoding: ValueEncoding::Labels,
                });
                prefs(purpose, &v.selected_preferences, out);
            }
            prefs(purpose, &sp.selected_preferences, out);
        }
    }
    let mut entries = Vec::new();
    for p in &tree.selected_purposes {
        entries.push(MappingEntry {
            item: DidomiItem::Purpose { purpose_id: p.purpose_id.clone() },
            property: property_name(&[&p.purpose_id]),
            encoding: ValueEncoding::Labels,
        });
        prefs(&p.purpose_id, &p.selected_preferences, &mut entries);
    }
    Mapping { entries }
}

/// Creates the group and every property of `mapping` that does not exist yet: booleans for
/// purposes and values, multi-line text for preferences.
///
/// # Errors
/// See [`crate::hubspot::Error`].
pub async fn ensure_properties(
    hubspot: &HubSpotClient,
    mapping: &Mapping,
    group: &str,
) -> crate::hubspot::Result<usize> {
    if hubspot.get_contact_property_group(group).await?.is_none() {
        hubspot
            .create_contact_property_group(&PropertyGroupCreate {
                name: group.into(),
                label: "Didomi".into(),
                ..Default::default()
            })
            .await?;
    }
    let mut created = 0;
    for e in &mapping.entries {
        if hubspot.get_contact_property(&e.property).await?.is_some() {
            continue;
        }
        let boolean = !matches!(e.item, DidomiItem::Preference { .. });
        let opt = |v: &str, label: &str, order| PropertyOption {
            label: label.into(),
            value: v.into(),
            display_order: Some(order),
            ..Default::default()
        };
        hubspot
            .create_contact_property(&PropertyCreate {
                name: e.property.clone(),
                label: e.property.clone(),
                type_: if boolean { "bool" } else { "string" }.into(),
                field_type: if boolean { "booleancheckbox" } else { "textarea" }.into(),
                group_name: group.into(),
                options: if boolean {
                    vec![opt("true", "Yes", 0), opt("false", "No", 1)]
                } else {
                    vec![]
                },
                ..Default::default()
            })
            .await?;
        created += 1;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    #[test]
    fn property_names_are_hubspot_internal_names() {
        assert_eq!(
            super::property_name(&["newsletter-7Kq2Xa", "topics-T6n3Yu"]),
            "didomi_newsletter_7kq2xa_topics_t6n3yu",
            "lowercase, separators as _"
        );
    }
}
