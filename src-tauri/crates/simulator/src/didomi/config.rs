//! The seeded PMP configuration: purposes, the preferences library and the configuration tree
//! (didomi-api.md §4), and the validation rules consent events are checked against.
//!
//! Seeded content (fixed ids; names in `en` and `fr`, of which the organization has the
//! languages [`crate::Config::didomi_languages`] lists, `["en", "fr"]` by default):
//!
//! | purpose | preferences (config tree) |
//! |---|---|
//! | `newsletter-7Kq2Xa` | `topics-T6n3Yu` (multi; its value `events-…` nests `event_regions-R4g7Jk`), `email_frequency-F2w8Qe` (single) |
//! | `marketing_emails-M3p9Lw` | `email_frequency-F2w8Qe` |
//! | `analytics-A8d4Rt` | none |
//! | `partners_sms-P5s1Vb` | `sms_language-L1z5Np` (single) |
//!
//! Every translatable field (purpose `description`/`details`, preference `name`/`description`,
//! value `name`) is a language map with exactly the organization's languages:
//! `{"fr": "Sujets"}` in a French-only organization (didomi-api.md §4 shows one-language
//! maps such as `{"en": "Topics"}`). \[Inf\] Without `$translations=true` a purpose's fields are
//! plain strings in the organization's first language (the reference only says "a string").

use serde_json::{json, Value};

/// Creation/update time of every seeded configuration entity.
const CONFIG_TIME: &str = "2026-01-15T10:00:00.000Z";

/// The languages the seeded names exist in; an organization has a non-empty subset of them.
pub const SUPPORTED_LANGUAGES: &[&str] = &["en", "fr"];

/// The organization's languages by default: English and French, in that order.
pub fn default_languages() -> Vec<String> {
    SUPPORTED_LANGUAGES.iter().map(|l| (*l).to_owned()).collect()
}

/// Checks an organization's languages: at least one, each of [`SUPPORTED_LANGUAGES`], no
/// repeat.
///
/// # Errors
/// A message naming the offending language (or saying the list is empty).
pub fn check_languages(languages: &[String]) -> Result<(), String> {
    if languages.is_empty() {
        return Err(format!(
            "the Didomi organization needs at least one language (one of {})",
            SUPPORTED_LANGUAGES.join(", ")
        ));
    }
    for (i, lang) in languages.iter().enumerate() {
        if !SUPPORTED_LANGUAGES.contains(&lang.as_str()) {
            return Err(format!(
                "Didomi language \"{lang}\" is not supported: the seeded names exist in {} only",
                SUPPORTED_LANGUAGES.join(", ")
            ));
        }
        if languages[..i].contains(lang) {
            return Err(format!("Didomi language \"{lang}\" is listed twice"));
        }
    }
    Ok(())
}

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
    /// The organization's languages, in order (checked by [`check_languages`]): the keys of
    /// every language map; the first one gives plain (untranslated) strings.
    pub languages: Vec<String>,
}

fn v(id: &'static str, en: &'static str, fr: &'static str) -> PreferenceValue {
    PreferenceValue { id, name: (en, fr) }
}

impl PmpConfig {
    /// The seeded configuration (the same for every seed) in English and French.
    pub fn seeded() -> Self {
        Self::seeded_in(&default_languages()).expect("the default languages are valid")
    }

    /// The seeded configuration with names in `languages` only.
    ///
    /// # Errors
    /// As [`check_languages`].
    pub fn seeded_in(languages: &[String]) -> Result<Self, String> {
        check_languages(languages)?;
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
        Ok(Self { purposes, preferences, tree, languages: languages.to_vec() })
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

    /// A purpose as `GET /metadata/purposes` returns it (`description` = name). A custom
    /// purpose has no `reference` and only the `custom` namespace: the absent ones are left
    /// out, not sent as `null` (Didomi's API description does not make them nullable).
    pub fn purpose_json(&self, p: &Purpose, org: &str, translations: bool) -> Value {
        json!({
            "id": p.id,
            "description": self.text(p.name, translations),
            "details": self.text(p.details, translations),
            "organization_id": org,
            "namespaces": { "custom": p.id },
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
            "name": self.text(p.name, true),
            "description": self.text(p.description, true),
            "type": match p.kind { PreferenceType::Single => "single", PreferenceType::Multi => "multi" },
            "values": p.values.iter().enumerate().map(|(i, v)| json!({
                "id": v.id,
                "name": self.text(v.name, true),
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
                        "description": self.text(p.name, true),
                        "details": self.text(p.details, true),
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
                json!({ "id": val.id, "name": self.text(val.name, true), "selected_preferences": nested })
            })
            .collect();
        json!({
            "id": format!("spref-{}-{}", self.purposes[purpose].id, pref.id),
            "parent_selected_purpose_id": sp_id,
            "parent_preference_value_id": parent_value,
            "preference": {
                "id": pref.id,
                "type": match pref.kind { PreferenceType::Single => "single", PreferenceType::Multi => "multi" },
                "name": self.text(pref.name, true),
                "values": values,
            },
            "selected_preferences": [],
            "order": order,
        })
    }
}

impl PmpConfig {
    /// A translatable field: a language map with the organization's languages, or (without
    /// `$translations`) the plain string in its first language.
    fn text(&self, t: (&str, &str), translations: bool) -> Value {
        let pick = |lang: &str| if lang == "fr" { t.1 } else { t.0 };
        if translations {
            let map: serde_json::Map<String, Value> =
                self.languages.iter().map(|l| (l.clone(), json!(pick(l)))).collect();
            Value::Object(map)
        } else {
            json!(pick(self.languages.first().map_or("en", String::as_str)))
        }
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

    fn langs(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Every language map found anywhere in `v` (objects keyed only by language codes).
    fn language_maps(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                if !m.is_empty() && m.keys().all(|k| k == "en" || k == "fr") {
                    out.push(v.clone());
                } else {
                    m.values().for_each(|x| language_maps(x, out));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| language_maps(x, out)),
            _ => {}
        }
    }

    #[test]
    fn a_french_only_organization_names_everything_in_french_only() {
        let c = PmpConfig::seeded_in(&langs(&["fr"])).expect("fr is supported");
        let pref = c.preference_json(c.preference("email_frequency-F2w8Qe").unwrap(), "org");
        assert_eq!(pref["name"], json!({"fr": "Fréquence des e-mails"}), "only French: {pref}");
        assert_eq!(pref["description"], json!({"fr": "À quelle fréquence ?"}));
        assert_eq!(pref["values"][1]["name"], json!({"fr": "Hebdomadaire"}), "value labels too");
        let purpose = c.purpose_json(&c.purposes[0], "org", true);
        assert_eq!(purpose["description"], json!({"fr": "Lettre d'information"}));
        assert_eq!(purpose["details"], json!({"fr": "Recevoir notre lettre mensuelle"}));
        let plain = c.purpose_json(&c.purposes[0], "org", false);
        assert_eq!(
            plain["description"], "Lettre d'information",
            "untranslated: the org's language"
        );
        let mut maps = Vec::new();
        language_maps(&c.tree_json("org"), &mut maps);
        for p in &c.preferences {
            language_maps(&c.preference_json(p, "org"), &mut maps);
        }
        assert!(maps.len() > 40, "the tree and library have many names: {}", maps.len());
        for m in &maps {
            let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["fr"], "every name is French only: {m}");
        }
    }

    #[test]
    fn the_default_organization_has_english_and_french() {
        let c = PmpConfig::seeded();
        assert_eq!(c.languages, ["en", "fr"]);
        let pref = c.preference_json(c.preference("topics-T6n3Yu").unwrap(), "org");
        assert_eq!(pref["name"], json!({"en": "Topics", "fr": "Sujets"}));
        assert_eq!(c.purpose_json(&c.purposes[1], "org", false)["description"], "Marketing emails");
        let en = PmpConfig::seeded_in(&langs(&["en"])).expect("en only");
        assert_eq!(
            en.preference_json(&en.preferences[0], "org")["name"],
            json!({"en": "Email frequency"})
        );
    }

    #[test]
    fn unsupported_empty_or_repeated_languages_are_refused_by_name() {
        let e = PmpConfig::seeded_in(&langs(&["de"])).unwrap_err();
        assert!(e.contains("\"de\"") && e.contains("en, fr"), "names it and the choices: {e}");
        let e = check_languages(&[]).unwrap_err();
        assert!(e.contains("at least one language"), "{e}");
        let e = check_languages(&langs(&["fr", "fr"])).unwrap_err();
        assert!(e.contains("\"fr\" is listed twice"), "{e}");
        assert!(check_languages(&langs(&["fr", "en"])).is_ok(), "any order");
    }
}
