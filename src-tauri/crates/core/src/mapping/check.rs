//! Checking a mapping against the live schemas (pure functions):
//!
//! - [`check_draft`]: what the mapping screen and the import refuse — a HubSpot property chosen
//!   twice (naming the row that holds it), an item mapped twice, an unknown Didomi item or
//!   property, an incompatible property, a `Labels` encoding that cannot round-trip.
//! - [`check_stale`]: what a saved mapping has lost since (property deleted, archived, now of
//!   an incompatible type; Didomi item removed; labels now ambiguous). The sync engine calls it
//!   (through `Configuration::mapping_ready`) and refuses to run while any is left.
//! - [`property_options`]: the HubSpot side of the screen, only properties at least one row
//!   kind may use, custom first, HubSpot-defined after.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use ts_rs::TS;

use crate::hubspot::models::Property;
use crate::mapping::compat::{self, Incompatible};
use crate::mapping::encoding::ambiguity;
use crate::mapping::model::{DidomiItem, ItemKind, Mapping, MappingEntry, ValueEncoding};
use crate::mapping::rows::{DidomiConfig, DidomiRow};
use crate::text::quote;

/// One option of an enumeration property, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PropertyOptionView {
    /// Label.
    pub label: String,
    /// Stored value.
    pub value: String,
}

/// A HubSpot contact property the mapping screen offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HubSpotPropertyOption {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Data type (`bool`, `enumeration`, `string`).
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub type_: String,
    /// Field type (`booleancheckbox`, `select`, `text`...).
    pub field_type: String,
    /// Type in words (`enumeration/select (Dropdown select)`).
    pub type_label: String,
    /// Property group.
    pub group_name: String,
    /// Built in (listed after the custom ones).
    pub hubspot_defined: bool,
    /// Which row kinds may use it.
    pub compatible: Vec<ItemKind>,
    /// Options (enumerations and booleans).
    pub options: Vec<PropertyOptionView>,
}

impl HubSpotPropertyOption {
    /// The view of `p` (whatever its compatibility).
    pub fn from_property(p: &Property, didomi_changed: &str) -> Self {
        Self {
            name: p.name.clone(),
            label: p.label.clone(),
            type_: p.type_.clone(),
            field_type: p.field_type.clone(),
            type_label: compat::describe_type(p),
            group_name: p.group_name.clone(),
            hubspot_defined: p.hubspot_defined,
            compatible: compat::compatible_kinds(p, didomi_changed),
            options: p
                .options
                .iter()
                .map(|o| PropertyOptionView { label: o.label.clone(), value: o.value.clone() })
                .collect(),
        }
    }
}

/// The properties offered: compatible with at least one row kind; custom first, then
/// HubSpot-defined; each part by label.
pub fn property_options(
    properties: &[Property],
    didomi_changed: &str,
) -> Vec<HubSpotPropertyOption> {
    let mut out: Vec<HubSpotPropertyOption> = properties
        .iter()
        .map(|p| HubSpotPropertyOption::from_property(p, didomi_changed))
        .filter(|o| !o.compatible.is_empty())
        .collect();
    out.sort_by(|a, b| {
        a.hubspot_defined
            .cmp(&b.hubspot_defined)
            .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// What is wrong with one entry of a draft mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub enum IssueKind {
    /// The property is already the target of another row.
    DuplicateTarget,
    /// The Didomi item is mapped twice.
    DuplicateItem,
    /// The Didomi item is not in the configuration.
    UnknownItem,
    /// No such (live) HubSpot property.
    UnknownProperty,
    /// The property cannot hold the row's values.
    Incompatible,
    /// Labels of this preference cannot be read back.
    AmbiguousLabels,
}

/// One problem of a draft mapping, with a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MappingIssue {
    /// Position of the entry in the draft (0-based).
    pub index: u32,
    /// The problem.
    pub kind: IssueKind,
    /// The row concerned.
    pub item: DidomiItem,
    /// The property concerned.
    pub property: String,
    /// For a duplicate target: the row that holds the property.
    pub held_by: Option<DidomiItem>,
    /// What happened and what to do.
    pub message: String,
}

/// Why a saved entry is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub enum StaleReason {
    /// The property no longer exists.
    PropertyMissing,
    /// The property was archived.
    PropertyArchived,
    /// The property's type or options changed and no longer fit.
    PropertyIncompatible,
    /// The purpose, preference or value is gone from the Didomi configuration.
    DidomiItemRemoved,
    /// The preference's value labels can no longer be read back (write ids instead).
    EncodingAmbiguous,
}

/// A saved entry that no longer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StaleEntry {
    /// The entry.
    pub entry: MappingEntry,
    /// Why.
    pub reason: StaleReason,
    /// What happened and what to do.
    pub message: String,
}

/// How a row is named in messages: its path, else its ids.
pub fn row_name(item: &DidomiItem, rows: &[DidomiRow]) -> String {
    item_name(item, rows.iter().find(|r| &r.item == item))
}

/// How a row is named: its path when `row` is known, else its ids (quoted: they may come from
/// a file, see [`quote`]).
pub(crate) fn item_name(item: &DidomiItem, row: Option<&DidomiRow>) -> String {
    if let Some(r) = row {
        return format!("\"{}\"", r.path);
    }
    match item {
        DidomiItem::Purpose { purpose_id } => format!("purpose {}", quote(purpose_id)),
        DidomiItem::Preference { purpose_id, preference_id } => {
            format!("preference {} (purpose {})", quote(preference_id), quote(purpose_id))
        }
        DidomiItem::Value { purpose_id, preference_id, value_id } => format!(
            "value {} of preference {} (purpose {})",
            quote(value_id),
            quote(preference_id),
            quote(purpose_id)
        ),
    }
}

/// The rows by item, for look-ups in linear time.
pub fn rows_by_item(rows: &[DidomiRow]) -> HashMap<&DidomiItem, &DidomiRow> {
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.entry(&r.item).or_insert(r);
    }
    out
}

/// Every problem of `draft` against the live rows and properties (`properties` = live,
/// non-archived). Empty = it can be saved.
///
/// Linear in the size of the draft, rows and properties (hash look-ups; each preference's
/// encoding is checked once), so a file of 40,000 mappings is checked in well under a second.
/// Text from the draft (property names, ids) is quoted with [`quote`].
pub fn check_draft(
    draft: &Mapping,
    config: &DidomiConfig,
    rows: &[DidomiRow],
    lang: &str,
    properties: &[Property],
    didomi_changed: &str,
) -> Vec<MappingIssue> {
    let by_name: HashMap<&str, &Property> =
        properties.iter().map(|p| (p.name.as_str(), p)).collect();
    let by_item = rows_by_item(rows);
    let mut encodings: HashMap<(&str, ValueEncoding), Option<String>> = HashMap::new();
    let mut issues = Vec::new();
    let mut holders: HashMap<&str, &DidomiItem> = HashMap::new();
    let mut items: HashSet<&DidomiItem> = HashSet::with_capacity(draft.entries.len());
    for (index, e) in draft.entries.iter().enumerate() {
        let row = by_item.get(&e.item).copied();
        let name = item_name(&e.item, row);
        let property = quote(&e.property);
        let issue = |kind, held_by: Option<DidomiItem>, message: String| MappingIssue {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            kind,
            item: e.item.clone(),
            property: e.property.clone(),
            held_by,
            message,
        };
        if !items.insert(&e.item) {
            issues.push(issue(
                IssueKind::DuplicateItem,
                None,
                format!("{name} is mapped twice. Keep one property for it"),
            ));
            continue;
        }
        if let Some(holder) = holders.get(e.property.as_str()) {
            issues.push(issue(
                IssueKind::DuplicateTarget,
                Some((*holder).clone()),
                format!(
                    "The HubSpot property \"{property}\" is already used by {}. A property can hold only one row: pick another property for {name} or remove it from the other row",
                    item_name(holder, by_item.get(*holder).copied())
                ),
            ));
            continue;
        }
        holders.insert(e.property.as_str(), &e.item);
        if row.is_none() {
            issues.push(issue(
                IssueKind::UnknownItem,
                None,
                format!("{name} is not in the Didomi configuration (removed or never there). Click Refresh, then remove or remap it"),
            ));
            continue;
        }
        let Some(p) = by_name.get(e.property.as_str()) else {
            issues.push(issue(
                IssueKind::UnknownProperty,
                None,
                format!("HubSpot has no contact property \"{property}\" (for {name}). Click Refresh, pick an existing property or create one"),
            ));
            continue;
        };
        if let Err(why) = compat::check(p, e.item.kind(), didomi_changed) {
            issues.push(issue(IssueKind::Incompatible, None, incompatible_message(p, &why, &name)));
            continue;
        }
        let problem = match &e.item {
            DidomiItem::Preference { preference_id, .. } => encodings
                .entry((preference_id.as_str(), e.encoding))
                .or_insert_with(|| encoding_problem(e, config, lang))
                .clone(),
            _ => None,
        };
        if let Some(why) = problem {
            issues.push(issue(IssueKind::AmbiguousLabels, None, format!("{name}: {why}")));
        }
    }
    issues
}

fn incompatible_message(p: &Property, why: &Incompatible, row: &str) -> String {
    format!("The HubSpot property \"{}\" ({}) cannot be used for {row}: {why}. Pick a compatible property", p.label, p.name)
}

fn encoding_problem(e: &MappingEntry, config: &DidomiConfig, lang: &str) -> Option<String> {
    let DidomiItem::Preference { preference_id, .. } = &e.item else { return None };
    ambiguity(&config.preference_values(preference_id, lang), e.encoding)
}

/// The saved entries that no longer hold against the live configuration and properties.
///
/// `properties` should hold the live properties AND the archived ones (HubSpot lists them with
/// `archived=true`) so an archived property is told apart from a deleted one; `lang` is the
/// language labels are compared in (see [`DidomiConfig::language`]); `didomi_changed` is the
/// "Didomi Changed" property's name, never a valid target.
pub fn check_stale(
    mapping: &Mapping,
    config: &DidomiConfig,
    properties: &[Property],
    lang: &str,
    didomi_changed: &str,
) -> Vec<StaleEntry> {
    let rows = config.rows(lang);
    let by_item = rows_by_item(&rows);
    let mut live_props: HashMap<&str, &Property> = HashMap::new();
    let mut archived_props: HashSet<&str> = HashSet::new();
    for p in properties {
        if p.archived {
            archived_props.insert(p.name.as_str());
        } else {
            live_props.entry(p.name.as_str()).or_insert(p);
        }
    }
    let mut out = Vec::new();
    for e in &mapping.entries {
        let known = by_item.get(&e.item).copied();
        let row = item_name(&e.item, known);
        let stale = |reason, message: String| StaleEntry { entry: e.clone(), reason, message };
        if known.is_none() {
            out.push(stale(
                StaleReason::DidomiItemRemoved,
                format!("{row} is no longer in the Didomi configuration (it was mapped to \"{}\"). Remove the mapping or restore the item in Didomi", e.property),
            ));
            continue;
        }
        let live = live_props.get(e.property.as_str()).copied();
        let archived = archived_props.contains(e.property.as_str());
        match live {
            None if archived => out.push(stale(
                StaleReason::PropertyArchived,
                format!("The HubSpot property \"{}\" of {row} was archived. Restore it in HubSpot or map {row} to another property", e.property),
            )),
            None => out.push(stale(
                StaleReason::PropertyMissing,
                format!("The HubSpot property \"{}\" of {row} no longer exists (deleted, or now sensitive data). Map {row} to another property", e.property),
            )),
            Some(p) => {
                if let Err(why) = compat::check(p, e.item.kind(), didomi_changed) {
                    out.push(stale(
                        StaleReason::PropertyIncompatible,
                        format!("The HubSpot property \"{}\" of {row} changed: {why}. Map {row} to a compatible property", e.property),
                    ));
                } else if let Some(why) = encoding_problem(e, config, lang) {
                    out.push(stale(StaleReason::EncodingAmbiguous, format!("{row}: {why}")));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::models::property::PropertyOption;
    use crate::mapping::model::ValueEncoding;
    use crate::mapping::rows::tests::sample;

    fn p(name: &str, type_: &str, field_type: &str, options: &[&str]) -> Property {
        Property {
            name: name.into(),
            label: name.to_uppercase(),
            type_: type_.into(),
            field_type: field_type.into(),
            options: options
                .iter()
                .map(|v| PropertyOption {
                    label: (*v).into(),
                    value: (*v).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn props() -> Vec<Property> {
        vec![
            p("nl", "bool", "booleancheckbox", &["true", "false"]),
            p("sports", "enumeration", "select", &["true", "false"]),
            p("topics_text", "string", "text", &[]),
            p("notes", "string", "textarea", &[]),
            p("score", "number", "number", &[]),
            Property { hubspot_defined: true, ..p("firstname", "string", "text", &[]) },
            Property { archived: true, ..p("old", "bool", "booleancheckbox", &["true", "false"]) },
        ]
    }

    fn purpose(id: &str) -> DidomiItem {
        DidomiItem::Purpose { purpose_id: id.into() }
    }
    fn pref(id: &str) -> DidomiItem {
        DidomiItem::Preference { purpose_id: "newsletter".into(), preference_id: id.into() }
    }
    fn value(pref: &str, id: &str) -> DidomiItem {
        DidomiItem::Value {
            purpose_id: "newsletter".into(),
            preference_id: pref.into(),
            value_id: id.into(),
        }
    }
    fn entry(item: DidomiItem, property: &str) -> MappingEntry {
        MappingEntry { item, property: property.into(), encoding: ValueEncoding::Labels }
    }

    #[test]
    fn options_list_compatible_custom_first() {
        let live: Vec<Property> = props().into_iter().filter(|p| !p.archived).collect();
        let names: Vec<String> =
            property_options(&live, "didomi_changed").into_iter().map(|o| o.name).collect();
        assert_eq!(
            names,
            vec!["nl", "notes", "sports", "topics_text", "firstname"],
            "custom by label, then HubSpot-defined; number left out"
        );
    }

    #[test]
    fn draft_issues_name_the_row_that_holds_a_property() {
        let c = sample();
        let rows = c.rows("en");
        let live: Vec<Property> = props().into_iter().filter(|p| !p.archived).collect();
        let ok = Mapping {
            entries: vec![
                entry(purpose("newsletter"), "nl"),
                entry(value("topics", "sports"), "sports"),
                entry(pref("topics"), "topics_text"),
            ],
        };
        assert!(
            check_draft(&ok, &c, &rows, "en", &live, "didomi_changed").is_empty(),
            "a valid draft has no issue"
        );
        let dup = Mapping {
            entries: vec![
                entry(purpose("newsletter"), "nl"),
                entry(value("topics", "sports"), "nl"),
            ],
        };
        let issues = check_draft(&dup, &c, &rows, "en", &live, "didomi_changed");
        assert_eq!(issues.len(), 1, "one issue: {issues:?}");
        assert_eq!(issues[0].kind, IssueKind::DuplicateTarget, "duplicate target");
        assert_eq!(issues[0].held_by, Some(purpose("newsletter")), "holder given");
        assert!(
            issues[0].message.contains("\"Newsletter\""),
            "holder named: {}",
            issues[0].message
        );
        let bad = Mapping {
            entries: vec![
                entry(purpose("newsletter"), "topics_text"),
                entry(pref("topics"), "missing"),
                entry(purpose("gone"), "notes"),
                entry(value("topics", "sports"), "score"),
                entry(value("topics", "sports"), "sports"),
            ],
        };
        let kinds: Vec<IssueKind> = check_draft(&bad, &c, &rows, "en", &live, "didomi_changed")
            .into_iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                IssueKind::Incompatible,
                IssueKind::UnknownProperty,
                IssueKind::UnknownItem,
                IssueKind::Incompatible,
                IssueKind::DuplicateItem
            ],
            "each problem classified"
        );
    }

    #[test]
    fn stale_entries_are_classified() {
        let c = sample();
        let mut all = props();
        all.push(p("was_text", "number", "number", &[]));
        let m = Mapping {
            entries: vec![
                entry(purpose("newsletter"), "nl"),
                entry(purpose("analytics"), "old"),
                entry(value("topics", "sports"), "deleted"),
                entry(pref("topics"), "was_text"),
                entry(purpose("removed"), "notes"),
            ],
        };
        let stale = check_stale(&m, &c, &all, "en", "didomi_changed");
        let reasons: Vec<StaleReason> = stale.iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            vec![
                StaleReason::PropertyArchived,
                StaleReason::PropertyMissing,
                StaleReason::PropertyIncompatible,
                StaleReason::DidomiItemRemoved
            ],
            "each stale entry found once, the valid one not: {stale:?}"
        );
        assert!(
            stale[0].message.contains("\"old\"") && stale[0].message.contains("\"Analytics\""),
            "names property and row: {}",
            stale[0].message
        );
    }
}
