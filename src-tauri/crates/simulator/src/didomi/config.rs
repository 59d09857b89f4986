//! The seeded PMP configuration: purposes, the preferences library and the configuration tree
//! (didomi-api.md §4), and the validation rules consent events are checked against.
//!
//! Seeded content (fixed ids, labels in `en` and `fr`):
//!
//! | purpose | preferences (config tree) |
//! |---|---|
//! | `newsletter-7Kq2Xa` | `topics-T6n3Yu` (multi; its value `events-…` nests `event_regions-R4g7Jk`), `email_frequency-F2w8Qe` (single) |
//! | `marketing_emails-M3p9Lw` | `email_frequency-F2w8Qe` |
//! | `analytics-A8d4Rt` | none |
//! | `partners_sms-P5s1Vb` | `sms_language-L1z5Np` (single) |

use serde_json::{json, Value};

/// Creation/update time of every seeded configuration entity.
const CONFIG_TIME: &str = "2026-01-15T10:00:00.000Z";

/// A seeded purpose.
#[derive(Debug, Clone)]
pub struct Purpose {
    /// Purpose id.
    pub id: &'static str,
    /// Name (`description` in the API) in English and French.
    pub name: (&'static str, &'static str),
    /// Description (`details` in the API) in English and French.
    pub details: (&'static str, &'static str),
}

/// Whether a preference takes one value or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreferenceType {
    /// One choice.
    Single,
    /// Several choices.
    Multi,
}

/// A value of a preference.
#[derive(Debug, Clone)]
pub struct PreferenceValue {
    /// Value id (what consent `values` strings hold).
    pub id: &'static str,
    /// Label in English and French.
    pub name: (&'static str, &'static str),
}

/// A preference of the library.
#[derive(Debug, Clone)]
pub struct Preference {
    /// Preference (library) id: the key of a consent `values` map.
    pub id: &'static str,
    /// Single or multi choice.
    pub kind: PreferenceType,
    /// Label in English and French.
    pub name: (&'static str, &'static str),
    /// Description in English and French.
    pub description: (&'static str, &'static str),
    /// Values, in order.
    pub values: Vec<PreferenceValue>,
}

/// The organization's PMP configuration.
#[derive(Debug, Clone)]
pub struct PmpConfig {
    /// Purposes, in order.
    pub purposes: Vec<Purpose>,
    /// The preferences library.
    pub preferences: Vec<Preference>,
    /// For each purpose (by index), the preferences the tree puts under it:
    /// `(preference id, parent value id)`; a parent value means the preference is nested under it.
    pub tree: Vec<Vec<(&'static str, Option<&'static str>)>>,
}

fn v(id: &'static str, en: &'static str, fr: &'static str) -> PreferenceValue {
    PreferenceValue { id, name: (en, fr) }
}

impl PmpConfig {
    /// The seeded configuration (the same for every seed).
    pub fn seeded() -> Self {
        let purposes = vec![
            Purpose {
                id: "newsletter-7Kq2Xa",
                name: ("Newsletter", "Lettre d'information"),
                details: ("Receive our monthly newsletter", "Recevoir notre lettre mensuelle"),
            },
            Purpose {
                id: "marketing_emails-M3p9Lw",
                name: ("Marketing emails", "E-mails marketing"),
                details: ("Offers and announcements by email", "Offres et annonces par e-mail"),
            },
            Purpose {
                id: "analytics-A8d4Rt",
                name: ("Analytics", "Mesure d'audience"),
                details: ("Measure how our services are used", "Mesurer l'usage de nos services"),
            },
            Purpose {
                id: "partners_sms-P5s1Vb",
                name: ("Partners SMS", "SMS partenaires"),
                details: ("Text messages from our partners", "SMS de nos partenaires"),
            },
        ];
        let preferences = vec![
            Preference {
                id: "email_frequency-F2w8Qe",
                kind: PreferenceType::Single,
                name: ("Email frequency", "Fréquence des e-mails"),
                description: ("How often do you want to hear from us?", "À quelle fréquence ?"),
                values: vec![
                    v("daily-9Hc1", "Daily", "Quotidienne"),
                    v("weekly-5e6F", "Weekly", "Hebdomadaire"),
                    v("monthly-2Mb7", "Monthly", "Mensuelle"),
                ],
            },
            Preference {
                id: "topics-T6n3Yu",
                kind: PreferenceType::Multi,
                name: ("Topics", "Sujets"),
                description: ("What do you want to hear about?", "Quels sujets vous intéressent ?"),
                values: vec![
                    v("product_news-1a2B", "Product news", "Nouveautés produit"),
                    v("events-3c4D", "Events", "Événements"),
                    v("offers-6g7H", "Offers", "Offres"),
                    v("research-8j9K", "Research", "Études"),
                ],
            },
            Preference {
                id: "event_regions-R4g7Jk",
                kind: PreferenceType::Multi,
                name: ("Event regions", "Régions des événements"),
                description: ("Which regions' events?", "Événements de quelles régions ?"),
                values: vec![
                    v("europe-4Eu1", "Europe", "Europe"),
                    v("americas-7Am2", "Americas", "Amériques"),
                    v("asia_pacific-9Ap3", "Asia-Pacific", "Asie-Pacifique"),
                ],
            },
            Preference {
                id: "sms_language-L1z5Np",
                kind: PreferenceType::Single,
                name: ("SMS language", "Langue des SMS"),
                description: ("Language of partner text messages", "Langue des SMS partenaires"),
                values: vec![
                    v("english-0En4", "English", "Anglais"),
                    v("french-0Fr5", "French", "Français"),
                    v("german-0De6", "German", "Allemand"),
                ],
            },
        ];
        let tree = vec![
            vec![
                ("topics-T6n3Yu", None),
                ("event_regions-R4g7Jk", Some("events-3c4D")),
                ("email_frequency-F2w8Qe", None),
            ],
            vec![("email_frequency-F2w8Qe", None)],
            vec![],
            vec![("sms_language-L1z5Np", None)],
        ];
        Self { purposes, preferences, tree }
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<(usize, &Purpose)> {
        self.purposes.iter().enumerate().find(|(_, p)| p.id == id)
    }

    /// The preference with this id.
    pub fn preference(&self, id: &str) -> Option<&Preference> {
        self.preferences.iter().find(|p| p.id == id)
    }

    /// Whether the tree puts preference `pref` (at any depth) under purpose number `purpose`.
    pub fn purpose_has_preference(&self, purpose: usize, pref: &str) -> bool {
        self.tree.get(purpose).is_some_and(|prefs| prefs.iter().any(|(id, _)| *id == pref))
    }

    /// A purpose as `GET /metadata/purposes` returns it (`description` = name).
    pub fn purpose_json(&self, p: &Purpose, org: &str, translations: bool) -> Value {
        json!({
            "id": p.id,
            "description": text(p.name, translations),
            "details": text(p.details, translations),
            "organization_id": org,
            "namespaces": { "iab": null, "iab2": null, "didomi": null, "custom": p.id },
            "reference": null,
            "regulations_id": ["gdpr"],
            "metadata": {},
            "created_at": CONFIG_TIME,
            "updated_at": CONFIG_TIME,
        })
    }

    /// A preference as `GET /preferences` returns it (labels always as language maps).
    pub fn preference_json(&self, p: &Preference, org: &str) -> Value {
        json!({
            "id": p.id,
            "organization_id": org,
            "name": text(p.name, true),
            "description": text(p.description, true),
            "type": match p.kind { PreferenceType::Single => "single", PreferenceType::Multi => "multi" },
            "values": p.values.iter().enumerate().map(|(i, v)| json!({
                "id": v.id,
                "name": text(v.name, true),
                "order": i,
                "metadata": {},
                "created_at": CONFIG_TIME,
                "updated_at": CONFIG_TIME,
            })).collect::<Vec<_>>(),
            "created_at": CONFIG_TIME,
            "updated_at": CONFIG_TIME,
        })
    }

    /// The organization's one configuration tree, as the array `GET /config-trees` returns.
    pub fn tree_json(&self, org: &str) -> Value {
        let selected_purposes: Vec<Value> = self
            .purposes
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                let sp_id = format!("sp-{}", p.id);
                let top: Vec<Value> = self.tree[pi]
                    .iter()
                    .filter(|(_, parent)| parent.is_none())
                    .enumerate()
                    .map(|(order, (pref, _))| {
                        self.selected_preference(pi, &sp_id, pref, None, order)
                    })
                    .collect();
                json!({
                    "id": sp_id,
                    "purpose_id": p.id,
                    "order": pi,
                    "purpose": {
                        "id": p.id,
                        "description": text(p.name, true),
                        "details": text(p.details, true),
                    },
                    "selected_preferences": top,
                })
            })
            .collect();
        json!([{
            "id": "tree-main",
            "organization_id": org,
            "selected_purposes": selected_purposes,
            "created_at": CONFIG_TIME,
            "updated_at": CONFIG_TIME,
        }])
    }

    fn selected_preference(
        &self,
        purpose: usize,
        sp_id: &str,
        pref_id: &str,
        parent_value: Option<&str>,
        order: usize,
    ) -> Value {
        let pref = self.preference(pref_id).expect("tree names library preferences");
        let values: Vec<Value> = pref
            .values
            .iter()
            .map(|val| {
                let nested: Vec<Value> = self.tree[purpose]
                    .iter()
                    .filter(|(_, parent)| *parent == Some(val.id))
                    .enumerate()
                    .map(|(o, (child, _))| self.selected_preference(purpose, sp_id, child, Some(val.id), o))
                    .collect();
                json!({ "id": val.id, "name": text(val.name, true), "selected_preferences": nested })
            })
            .collect();
        json!({
            "id": format!("spref-{}-{}", self.purposes[purpose].id, pref.id),
            "parent_selected_purpose_id": sp_id,
            "parent_preference_value_id": parent_value,
            "preference": {
                "id": pref.id,
                "type": match pref.kind { PreferenceType::Single => "single", PreferenceType::Multi => "multi" },
                "name": text(pref.name, true),
                "values": values,
            },
            "selected_preferences": [],
            "order": order,
        })
    }
}

fn text(t: (&str, &str), translations: bool) -> Value {
    if translations {
        json!({ "en": t.0, "fr": t.1 })
    } else {
        json!(t.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_only_names_library_entities() {
        let c = PmpConfig::seeded();
        assert!(c.purposes.len() >= 4 && c.preferences.len() >= 3, "enough seeded entities");
        for prefs in &c.tree {
            for (pref, parent) in prefs {
                assert!(c.preference(pref).is_some(), "tree preference {pref} is in the library");
                if let Some(val) = parent {
                    assert!(
                        c.preferences.iter().any(|p| p.values.iter().any(|v| v.id == *val)),
                        "parent value {val} exists"
                    );
                }
            }
        }
        let tree = c.tree_json("org");
        let nested = &tree[0]["selected_purposes"][0]["selected_preferences"][0]["preference"]
            ["values"][1]["selected_preferences"][0];
        assert_eq!(
            nested["preference"]["id"], "event_regions-R4g7Jk",
            "event regions nest under Topics → Events"
        );
        assert_eq!(nested["parent_preference_value_id"], "events-3c4D", "nested under the value");
    }
}
