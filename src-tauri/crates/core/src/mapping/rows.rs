//! The Didomi side of the mapping screen: the organization's configuration
//! ([`DidomiConfig`]) walked into rows ([`DidomiRow`]) as the admin knows it — each purpose,
//! under it its preferences, under each preference its values, and under a value its nested
//! preferences (up to 3 levels, didomi-api.md §4) — with names in one language.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use ts_rs::TS;

use crate::didomi::models::{
    ConfigTree, LocalizedText, Preference, Purpose, SelectedPreference, TreePreference,
};
use crate::mapping::model::{DidomiItem, ItemKind};

/// The organization's PMP configuration as read from Didomi: purposes, the preferences library
/// and the configuration tree (which decides the rows).
#[derive(Debug, Clone, Default)]
pub struct DidomiConfig {
    /// `GET /v1/metadata/purposes`.
    pub purposes: Vec<Purpose>,
    /// `GET /v1/preferences`.
    pub preferences: Vec<Preference>,
    /// `GET /v1/config-trees` (`None` when the organization has no tree yet).
    pub tree: Option<ConfigTree>,
}

/// One Didomi row of the mapping screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DidomiRow {
    /// The row's stable ids.
    pub item: DidomiItem,
    /// Boolean (purpose, value) or text (preference).
    pub kind: ItemKind,
    /// Name in the chosen language.
    pub label: String,
    /// Nesting: 0 purpose, 1 preference, 2 value, 3 nested preference, 4 its value...
    pub depth: u8,
    /// Name of the purpose the row sits under (its own name for a purpose).
    pub purpose_label: String,
    /// Name of the preference (for preference and value rows).
    pub preference_label: Option<String>,
    /// The way to the row: `Newsletter › Topics › Sports`.
    pub path: String,
    /// For preference rows: `single` or `multi`.
    pub preference_type: Option<String>,
    /// For preference rows whose value labels cannot be read back (a `;` in a label, two equal
    /// labels): why, so the screen offers only value ids. `None` = labels are fine.
    pub labels_problem: Option<String>,
}

/// One value of a preference with its label (input of the `;` encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueLabel {
    /// Value id.
    pub id: String,
    /// Label in the chosen language.
    pub label: String,
}

/// Separator of [`DidomiRow::path`].
pub const PATH_SEPARATOR: &str = " › ";

fn languages_of(text: &LocalizedText, counts: &mut BTreeMap<String, usize>) {
    if let LocalizedText::Map(m) = text {
        for (lang, t) in m {
            if !t.trim().is_empty() {
                *counts.entry(lang.clone()).or_default() += 1;
            }
        }
    }
}

impl DidomiConfig {
    /// Reads the organization's purposes, preferences library and configuration tree.
    ///
    /// # Errors
    /// The first Didomi error.
    pub async fn read(didomi: &crate::didomi::DidomiClient) -> crate::didomi::Result<Self> {
        let (purposes, preferences, tree) =
            tokio::join!(didomi.list_purposes(), didomi.list_preferences(), didomi.config_tree());
        Ok(Self { purposes: purposes?, preferences: preferences?, tree: tree? })
    }

    /// The language the names are shown in: the one language the configuration uses; when it
    /// uses several, English if present, else the most used one; `en` when names carry no
    /// language (plain strings).
    pub fn language(&self) -> String {
        let mut counts = BTreeMap::new();
        if let Some(tree) = &self.tree {
            for sp in &tree.selected_purposes {
                if let Some(p) = &sp.purpose {
                    languages_of(&p.description, &mut counts);
                }
            }
        }
        for p in &self.purposes {
            languages_of(&p.description, &mut counts);
        }
        for p in &self.preferences {
            languages_of(&p.name, &mut counts);
        }
        if counts.contains_key("en") || counts.is_empty() {
            return "en".into();
        }
        let mut best: Vec<(String, usize)> = counts.into_iter().collect();
        best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        best.remove(0).0
    }

    fn purpose_name(&self, id: &str, tree_name: Option<&LocalizedText>, lang: &str) -> String {
        let from_tree = tree_name.map(|t| t.text(lang)).filter(|s| !s.trim().is_empty());
        from_tree
            .or_else(|| {
                self.purposes
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.description.text(lang))
                    .filter(|s| !s.trim().is_empty())
            })
            .unwrap_or_else(|| id.to_owned())
    }

    fn library(&self, id: &str) -> Option<&Preference> {
        self.preferences.iter().find(|p| p.id == id)
    }

    fn preference_name(&self, p: &TreePreference, lang: &str) -> String {
        let name = p.name.text(lang);
        if !name.trim().is_empty() {
            return name;
        }
        self.library(&p.id)
            .map(|l| l.name.text(lang))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| p.id.clone())
    }

    /// The rows in tree order (a purpose, then its preferences depth-first). An item seen twice
    /// (the same preference twice under one purpose) is listed once.
    pub fn rows(&self, lang: &str) -> Vec<DidomiRow> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let Some(tree) = &self.tree else { return out };
        let mut purposes: Vec<_> = tree.selected_purposes.iter().collect();
        purposes.sort_by_key(|p| p.order.unwrap_or(i64::MAX));
        for sp in purposes {
            let purpose_id = if sp.purpose_id.is_empty() {
                sp.purpose.as_ref().map(|p| p.id.clone()).unwrap_or_default()
            } else {
                sp.purpose_id.clone()
            };
            let label =
                self.purpose_name(&purpose_id, sp.purpose.as_ref().map(|p| &p.description), lang);
            let item = DidomiItem::Purpose { purpose_id: purpose_id.clone() };
            if seen.insert(item.clone()) {
                out.push(DidomiRow {
                    kind: item.kind(),
                    item,
                    depth: 0,
                    purpose_label: label.clone(),
                    preference_label: None,
                    path: label.clone(),
                    label: label.clone(),
                    preference_type: None,
                    labels_problem: None,
                });
            }
            let ctx = Walk {
                purpose_id: &purpose_id,
                purpose_label: &label,
                lang,
                purpose_level: &sp.selected_preferences,
            };
            self.walk(&ctx, &sp.selected_preferences, None, 1, &label, &mut seen, &mut out);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        ctx: &Walk<'_>,
        prefs: &[SelectedPreference],
        parent_value: Option<&str>,
        depth: u8,
        parent_path: &str,
        seen: &mut HashSet<DidomiItem>,
        out: &mut Vec<DidomiRow>,
    ) {
        let mut prefs: Vec<_> = prefs
            .iter()
            .filter(|p| match (parent_value, p.parent_preference_value_id.as_deref()) {
                (None, parent) => parent.is_none(),
                (Some(_), None) => true,
                (Some(v), Some(parent)) => v == parent,
            })
            .collect();
        prefs.sort_by_key(|p| p.order.unwrap_or(i64::MAX));
        for sp in prefs {
            let pref = &sp.preference;
            let name = self.preference_name(pref, ctx.lang);
            let path = format!("{parent_path}{PATH_SEPARATOR}{name}");
            let item = DidomiItem::Preference {
                purpose_id: ctx.purpose_id.to_owned(),
                preference_id: pref.id.clone(),
            };
            if !seen.insert(item.clone()) {
                continue;
            }
            out.push(self.preference_row(ctx, pref, item, &name, &path, depth));
            for v in self.values_of(pref, ctx.lang) {
                let vpath = format!("{path}{PATH_SEPARATOR}{}", v.label);
                let item = DidomiItem::Value {
                    purpose_id: ctx.purpose_id.to_owned(),
                    preference_id: pref.id.clone(),
                    value_id: v.id.clone(),
                };
                if seen.insert(item.clone()) {
                    out.push(DidomiRow {
                        kind: item.kind(),
                        item,
                        label: v.label.clone(),
                        depth: depth.saturating_add(1),
                        purpose_label: ctx.purpose_label.to_owned(),
                        preference_label: Some(name.clone()),
                        path: vpath.clone(),
                        preference_type: None,
                        labels_problem: None,
                    });
                }
                let children = children_of_value(ctx, sp, &v.id);
                if !children.is_empty() {
                    self.walk(
                        ctx,
                        &children,
                        Some(&v.id),
                        depth.saturating_add(2),
                        &vpath,
                        seen,
                        out,
                    );
                }
            }
        }
    }

    /// The row of a preference (its type from the tree, else the library).
    fn preference_row(
        &self,
        ctx: &Walk<'_>,
        pref: &TreePreference,
        item: DidomiItem,
        name: &str,
        path: &str,
        depth: u8,
    ) -> DidomiRow {
        let type_ = if pref.type_.is_empty() {
            self.library(&pref.id).map(|l| l.type_.clone()).unwrap_or_default()
        } else {
            pref.type_.clone()
        };
        DidomiRow {
            kind: item.kind(),
            item,
            label: name.to_owned(),
            depth,
            purpose_label: ctx.purpose_label.to_owned(),
            preference_label: Some(name.to_owned()),
            path: path.to_owned(),
            preference_type: Some(type_),
            labels_problem: crate::mapping::encoding::ambiguity(
                &self.preference_values(&pref.id, ctx.lang),
                crate::mapping::ValueEncoding::Labels,
            ),
        }
    }

    /// The values of a tree preference with labels (the tree's own list, else the library's),
    /// in the library's `order` when known.
    fn values_of(&self, pref: &TreePreference, lang: &str) -> Vec<ValueLabel> {
        let library = self.library(&pref.id);
        let mut values: Vec<(i64, ValueLabel)> = if pref.values.is_empty() {
            library
                .map(|l| {
                    l.values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            (
                                v.order.unwrap_or(i as i64),
                                ValueLabel { id: v.id.clone(), label: v.name.text(lang) },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            pref.values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let lib = library.and_then(|l| l.values.iter().find(|x| x.id == v.id));
                    let mut label = v.name.text(lang);
                    if label.trim().is_empty() {
                        label = lib.map(|x| x.name.text(lang)).unwrap_or_default();
                    }
                    if label.trim().is_empty() {
                        label = v.id.clone();
                    }
                    let order = lib.and_then(|x| x.order).unwrap_or(i as i64);
                    (order, ValueLabel { id: v.id.clone(), label })
                })
                .collect()
        };
        values.sort_by_key(|(o, _)| *o);
        values.into_iter().map(|(_, v)| v).collect()
    }

    /// The values (ids and labels) of preference `preference_id`, from the library (else from
    /// the tree), in order. Empty when the preference is unknown.
    pub fn preference_values(&self, preference_id: &str, lang: &str) -> Vec<ValueLabel> {
        if let Some(l) = self.library(preference_id) {
            let mut v: Vec<_> = l.values.iter().enumerate().collect();
            v.sort_by_key(|(i, x)| x.order.unwrap_or(*i as i64));
            return v
                .into_iter()
                .map(|(_, x)| ValueLabel {
                    id: x.id.clone(),
                    label: {
                        let t = x.name.text(lang);
                        if t.trim().is_empty() {
                            x.id.clone()
                        } else {
                            t
                        }
                    },
                })
                .collect();
        }
        self.find_tree_preference(preference_id)
            .map(|p| self.values_of(&p, lang))
            .unwrap_or_default()
    }

    fn find_tree_preference(&self, id: &str) -> Option<TreePreference> {
        fn find(prefs: &[SelectedPreference], id: &str) -> Option<TreePreference> {
            for p in prefs {
                if p.preference.id == id {
                    return Some(p.preference.clone());
                }
                if let Some(x) = find(&p.selected_preferences, id) {
                    return Some(x);
                }
                for v in &p.preference.values {
                    if let Some(x) = find(&v.selected_preferences, id) {
                        return Some(x);
                    }
                }
            }
            None
        }
        self.tree
            .as_ref()?
            .selected_purposes
            .iter()
            .find_map(|sp| find(&sp.selected_preferences, id))
    }
}

struct Walk<'a> {
    purpose_id: &'a str,
    purpose_label: &'a str,
    lang: &'a str,
    /// The purpose's own preference list: a nested preference may sit there flat, naming its
    /// parent value.
    purpose_level: &'a [SelectedPreference],
}

/// The preferences nested under value `value_id` of `sp`: in the value
/// (`values[].selected_preferences`) or in the preference node (or the purpose's level) with
/// `parent_preference_value_id` naming the value.
fn children_of_value(
    ctx: &Walk<'_>,
    sp: &SelectedPreference,
    value_id: &str,
) -> Vec<SelectedPreference> {
    let in_value = sp
        .preference
        .values
        .iter()
        .find(|tv| tv.id == value_id)
        .map(|tv| tv.selected_preferences.as_slice())
        .unwrap_or_default();
    let in_node = sp
        .selected_preferences
        .iter()
        .chain(ctx.purpose_level)
        .filter(|c| c.parent_preference_value_id.as_deref() == Some(value_id));
    in_value.iter().chain(in_node).cloned().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The simulator's seeded configuration shape, trimmed (Topics → Events → Event regions).
    pub(crate) fn sample() -> DidomiConfig {
        let tree: Vec<ConfigTree> = serde_json::from_value(serde_json::json!([{
            "id": "t", "organization_id": "acme",
            "selected_purposes": [
              { "id": "sp1", "purpose_id": "newsletter", "order": 0,
                "purpose": { "id": "newsletter", "description": {"en": "Newsletter", "fr": "Lettre"} },
                "selected_preferences": [
                  { "id": "n1", "order": 0, "preference": { "id": "topics", "type": "multi",
                      "name": {"en": "Topics", "fr": "Sujets"},
                      "values": [
                        { "id": "sports", "name": {"en": "Sports", "fr": "Sport"}, "selected_preferences": [] },
                        { "id": "events", "name": {"en": "Events", "fr": "Événements"}, "selected_preferences": [
                          { "id": "n2", "parent_preference_value_id": "events", "order": 0,
                            "preference": { "id": "regions", "type": "multi", "name": {"en": "Regions"},
                              "values": [ { "id": "eu", "name": {"en": "Europe"} } ] } } ] } ] } },
                  { "id": "n3", "order": 1, "preference": { "id": "freq", "type": "single",
                      "name": {"en": "Frequency"},
                      "values": [ { "id": "daily", "name": {"en": "Daily"} }, { "id": "weekly", "name": {"en": "Weekly"} } ] } }
                ] },
              { "id": "sp2", "purpose_id": "analytics", "order": 1,
                "purpose": { "id": "analytics", "description": {"en": "Analytics"} }, "selected_preferences": [] }
            ] }]))
        .expect("tree parses");
        DidomiConfig { purposes: vec![], preferences: vec![], tree: tree.into_iter().next() }
    }

    #[test]
    fn rows_follow_the_tree_with_nesting_and_paths() {
        let c = sample();
        let rows = c.rows("en");
        let paths: Vec<(&str, u8)> = rows.iter().map(|r| (r.path.as_str(), r.depth)).collect();
        assert_eq!(
            paths,
            vec![
                ("Newsletter", 0),
                ("Newsletter › Topics", 1),
                ("Newsletter › Topics › Sports", 2),
                ("Newsletter › Topics › Events", 2),
                ("Newsletter › Topics › Events › Regions", 3),
                ("Newsletter › Topics › Events › Regions › Europe", 4),
                ("Newsletter › Frequency", 1),
                ("Newsletter › Frequency › Daily", 2),
                ("Newsletter › Frequency › Weekly", 2),
                ("Analytics", 0),
            ],
            "rows in tree order with depth"
        );
        assert_eq!(rows[1].kind, ItemKind::Text, "a preference is a text row");
        assert_eq!(rows[2].kind, ItemKind::Boolean, "a value is a boolean row");
        assert_eq!(rows[1].preference_type.as_deref(), Some("multi"), "preference type kept");
        assert_eq!(rows[1].labels_problem, None, "distinct labels are fine");
        assert_eq!(rows[5].purpose_label, "Newsletter", "nested rows keep the purpose label");
        assert_eq!(c.language(), "en", "English when present");
        let fr = c.rows("fr");
        assert_eq!(fr[1].path, "Lettre › Sujets", "French names when asked");
        assert_eq!(fr[4].label, "Regions", "English fallback for a missing translation");
    }

    #[test]
    fn language_is_the_one_the_organization_uses() {
        let tree: Vec<ConfigTree> = serde_json::from_value(serde_json::json!([{
            "selected_purposes": [ { "purpose_id": "p", "purpose": {"id": "p", "description": {"de": "Werbung"}} } ] }]))
        .expect("parses");
        let c = DidomiConfig { tree: tree.into_iter().next(), ..Default::default() };
        assert_eq!(c.language(), "de", "the only language used");
        assert_eq!(c.rows("de")[0].label, "Werbung", "label in that language");
        assert_eq!(DidomiConfig::default().language(), "en", "English fallback");
        assert!(DidomiConfig::default().rows("en").is_empty(), "no tree, no rows");
    }

    #[test]
    fn ambiguous_labels_are_flagged_on_the_preference_row() {
        let tree: Vec<ConfigTree> = serde_json::from_value(serde_json::json!([{
            "selected_purposes": [ { "purpose_id": "p", "purpose": {"id": "p", "description": "P"},
              "selected_preferences": [ { "preference": { "id": "f", "type": "multi", "name": "F",
                "values": [ {"id": "a", "name": "News; daily"}, {"id": "b", "name": "Other"} ] } } ] } ] }]))
        .expect("parses");
        let c = DidomiConfig { tree: tree.into_iter().next(), ..Default::default() };
        let rows = c.rows("en");
        let problem = rows[1].labels_problem.as_deref().expect("flagged");
        assert!(problem.contains("\"News; daily\""), "the label is named: {problem}");
    }

    #[test]
    fn preference_values_come_in_order() {
        let c = sample();
        let v = c.preference_values("topics", "en");
        assert_eq!(
            v.iter().map(|x| x.label.as_str()).collect::<Vec<_>>(),
            vec!["Sports", "Events"],
            "tree values when the library is empty"
        );
        assert!(c.preference_values("nope", "en").is_empty(), "unknown preference");
    }
}
