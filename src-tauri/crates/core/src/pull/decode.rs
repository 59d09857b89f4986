//! HubSpot values back into Didomi terms, and what one contact's pull must write.
//!
//! - boolean property of a purpose → `enabled` (`"true"`/`"false"`, case-insensitive);
//! - boolean property of a value → that value selected or not in its preference (a single
//!   preference takes only that value when it is selected);
//! - text property of a preference → the value ids it names, parsed from labels or ids as the
//!   mapping entry says ([`decode_preference`]); a token that matches no value is the
//!   record's error, never guessed;
//! - an unset HubSpot property has no opinion: nothing is written for it.
//!
//! Only items whose decoded value differs from the user's current Didomi state are written.
//! When Didomi changed the same item since the last sync too, it is a conflict: the
//! [`ConflictWinner`] setting decides (Didomi by default) and every conflict is reported.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::didomi::consents::{ConsentUser, PreferenceChoice, PurposeChoice};
use crate::didomi::events::{EventPurpose, EventValue};
use crate::didomi::models::Preference;
use crate::mapping::{
    decode_preference, DidomiItem, Mapping, MappingEntry, ValueEncoding, ValueLabel,
};
use crate::push::values::Values;
use crate::run::dto::PropertyChange;

/// Which side wins when both changed the same item since the last sync.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ConflictWinner {
    /// Didomi's value stays (the next push writes it to HubSpot). The default.
    #[default]
    Didomi,
    /// HubSpot's value is written to Didomi.
    HubSpot,
}

/// The values and type of every preference of the library.
#[derive(Debug, Clone, Default)]
pub struct PreferenceBook {
    values: HashMap<String, (Vec<ValueLabel>, bool)>,
}

impl PreferenceBook {
    /// From the preferences library, labels in `lang`.
    pub fn new(prefs: &[Preference], lang: &str) -> Self {
        let values = prefs
            .iter()
            .map(|p| {
                let vals = p
                    .values
                    .iter()
                    .map(|v| ValueLabel { id: v.id.clone(), label: v.name.text(lang) })
                    .collect();
                (p.id.clone(), (vals, p.type_ == "single"))
            })
            .collect();
        Self { values }
    }

    fn values(&self, preference_id: &str) -> &[ValueLabel] {
        self.values.get(preference_id).map(|(v, _)| v.as_slice()).unwrap_or(&[])
    }

    fn single(&self, preference_id: &str) -> bool {
        self.values.get(preference_id).is_some_and(|(_, s)| *s)
    }
}

/// One item where both sides changed since the last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Conflict {
    /// The contact's email.
    pub email: String,
    /// The HubSpot property.
    pub property: String,
    /// HubSpot's value.
    pub hubspot: String,
    /// Didomi's value, written as the push would write it (`None` = no choice).
    pub didomi: Option<String>,
    /// Who won.
    pub winner: ConflictWinner,
}

/// What the pull knows about the last sync of a contact.
#[derive(Debug, Clone, Default)]
pub struct LastSync {
    /// The values (as the push writes them) both sides agreed on at the last pull.
    pub baseline: Option<Values>,
    /// The push state's fingerprint of the values last synced (either direction).
    pub hash: Option<i64>,
}

/// The decision for one contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Purposes to put in the event (empty = nothing to write).
    pub purposes: Vec<EventPurpose>,
    /// Properties whose value is written, with Didomi's value before and HubSpot's after.
    pub changes: Vec<PropertyChange>,
    /// Conflicts.
    pub conflicts: Vec<Conflict>,
    /// Properties that could not be read (the record's errors).
    pub errors: Vec<String>,
    /// The user's state once the event is applied.
    pub after: ConsentUser,
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Canonical form of one item's value, to compare both sides whatever the text spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Canon {
    Bool(bool),
    Set(BTreeSet<String>),
}

fn canon_hubspot(
    item: &DidomiItem,
    text: &str,
    encoding: ValueEncoding,
    book: &PreferenceBook,
) -> Result<Canon, String> {
    match item {
        DidomiItem::Purpose { .. } | DidomiItem::Value { .. } => parse_bool(text)
            .map(Canon::Bool)
            .ok_or_else(|| format!("\"{text}\" is not true or false")),
        DidomiItem::Preference { preference_id, .. } => {
            let ids = decode_preference(text, encoding, book.values(preference_id))
                .map_err(|e| e.to_string())?;
            if ids.len() > 1 && book.single(preference_id) {
                return Err(format!(
                    "\"{text}\" names {} values but the preference takes one",
                    ids.len()
                ));
            }
            Ok(Canon::Set(ids.into_iter().collect()))
        }
    }
}

fn canon_didomi(item: &DidomiItem, user: &ConsentUser) -> Option<Canon> {
    let choice = |p: &str, pref: &str| -> Option<BTreeSet<String>> {
        user.purpose(p)
            .and_then(|c| c.values.get(pref))
            .map(|c| c.ids().map(str::to_owned).collect())
    };
    match item {
        DidomiItem::Purpose { purpose_id } => {
            user.purpose(purpose_id).and_then(|p| p.enabled).map(Canon::Bool)
        }
        DidomiItem::Preference { purpose_id, preference_id } => {
            choice(purpose_id, preference_id).map(Canon::Set)
        }
        DidomiItem::Value { purpose_id, preference_id, value_id } => {
            choice(purpose_id, preference_id).map(|s| Canon::Bool(s.contains(value_id)))
        }
    }
}

fn purpose_mut<'a>(user: &'a mut ConsentUser, id: &str) -> &'a mut PurposeChoice {
    if let Some(i) = user.consents.purposes.iter().position(|p| p.id == id) {
        return &mut user.consents.purposes[i];
    }
    user.consents.purposes.push(PurposeChoice { id: id.to_owned(), ..Default::default() });
    user.consents.purposes.last_mut().expect("just pushed")
}

/// Decides what the pull writes for one contact: HubSpot's mapped `hubspot` values against
/// the Didomi `user` (`None` = no user yet), given the last sync.
pub fn decide(
    email: &str,
    hubspot: &BTreeMap<String, Option<String>>,
    user: Option<&ConsentUser>,
    mapping: &Mapping,
    book: &PreferenceBook,
    labels: &crate::push::values::Labels,
    last: &LastSync,
    winner: ConflictWinner,
) -> Decision {
    let empty = ConsentUser::default();
    let user = user.unwrap_or(&empty);
    let current = didomi_values(user, mapping, labels, last);
    let sides = Sides {
        email,
        didomi_unchanged: last.hash == Some(crate::push::values::fingerprint(&current)),
        current,
        baseline: trusted_baseline(last, mapping),
        book,
        winner,
    };
    let mut d = Decision { after: user.clone(), ..Default::default() };
    // Preference rows first, then value rows (which refine the same preferences).
    let mut entries: Vec<_> = mapping.entries.iter().collect();
    entries.sort_by_key(|e| matches!(e.item, DidomiItem::Value { .. }));
    for entry in entries {
        let Some(text) = hubspot.get(&entry.property).and_then(|v| v.as_deref()) else {
            continue;
        };
        if !text.trim().is_empty() {
            sides.decide_row(entry, text, &mut d);
        }
    }
    d.purposes = event_purposes(user, &d.after);
    d
}

/// Didomi's mapped values of `user` as the push writes them. The push writes `""` for a
/// property it wrote before that the user has not answered (see `push::engine`): the same
/// values here, so that the fingerprints compare.
fn didomi_values(
    user: &ConsentUser,
    mapping: &Mapping,
    labels: &crate::push::values::Labels,
    last: &LastSync,
) -> Values {
    let mut current = crate::push::values::compute(user, mapping, labels);
    if let Some(b) = &last.baseline {
        for k in b.keys() {
            if mapping.entries.iter().any(|e| &e.property == k) && !current.contains_key(k) {
                current.insert(k.clone(), String::new());
            }
        }
    }
    current
}

/// An empty value and no value are the same answer: none.
fn answer(v: Option<&String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty()).cloned()
}

/// One contact's two sides and its last sync, as [`decide`] compares them row by row.
struct Sides<'a> {
    email: &'a str,
    /// Didomi's mapped values now (see [`didomi_values`]).
    current: Values,
    /// Didomi's values are the ones last synced (the push state's fingerprint says so).
    didomi_unchanged: bool,
    /// The last sync's values, when the fingerprint vouches for them.
    baseline: Option<&'a Values>,
    book: &'a PreferenceBook,
    winner: ConflictWinner,
}

impl Sides<'_> {
    /// Decides one mapped row whose HubSpot value is `text` (not empty) into `d`.
    fn decide_row(&self, entry: &MappingEntry, text: &str, d: &mut Decision) {
        let hs = match canon_hubspot(&entry.item, text, entry.encoding, self.book) {
            Ok(c) => c,
            Err(why) => {
                d.errors.push(format!("{}: {why}", entry.property));
                return;
            }
        };
        if canon_didomi(&entry.item, &d.after) == Some(hs.clone()) {
            return;
        }
        let didomi_text = answer(self.current.get(&entry.property));
        let didomi_changed = self.didomi_changed(&entry.property, didomi_text.as_ref());
        if didomi_changed && !self.hubspot_changed(entry, &hs) {
            return; // Didomi's own change: the push carries it to HubSpot.
        }
        if didomi_changed {
            d.conflicts.push(Conflict {
                email: self.email.to_owned(),
                property: entry.property.clone(),
                hubspot: text.to_owned(),
                didomi: didomi_text.clone(),
                winner: self.winner,
            });
            if self.winner == ConflictWinner::Didomi {
                return;
            }
        }
        apply(&mut d.after, &entry.item, &hs, self.book);
        d.changes.push(PropertyChange {
            property: entry.property.clone(),
            before: didomi_text,
            after: Some(text.to_owned()),
        });
    }

    /// Didomi's answer for `property` moved since the last sync.
    fn didomi_changed(&self, property: &str, didomi_text: Option<&String>) -> bool {
        if self.didomi_unchanged {
            false
        } else if let Some(b) = self.baseline {
            answer(b.get(property)).as_ref() != didomi_text
        } else {
            didomi_text.is_some()
        }
    }

    /// HubSpot's value `hs` of the row differs from the last sync's.
    fn hubspot_changed(&self, entry: &MappingEntry, hs: &Canon) -> bool {
        match self.baseline.and_then(|b| answer(b.get(&entry.property))) {
            Some(base) => {
                canon_hubspot(&entry.item, &base, entry.encoding, self.book).ok().as_ref()
                    != Some(hs)
            }
            None => true,
        }
    }
}

/// The last sync's values when the push's fingerprint vouches for them. The fingerprint covers
/// the mapped properties; the state also keeps what was written for rows unmapped since (see
/// `push::engine`), which it leaves out.
fn trusted_baseline<'a>(
    last: &'a LastSync,
    mapping: &Mapping,
) -> Option<&'a crate::push::values::Values> {
    let b = last.baseline.as_ref()?;
    let mapped: crate::push::values::Values = b
        .iter()
        .filter(|(k, _)| mapping.entries.iter().any(|e| &e.property == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (last.hash? == crate::push::values::fingerprint(&mapped)).then_some(b)
}

/// `true` when HubSpot holds, for every mapped property, exactly what the push last wrote (no
/// value and `""` are the same): the contact's change is the echo of our own write (the workflow
/// raises "Didomi Changed" for API writes too), so [`decide`] would find nothing HubSpot changed
/// and the pull skips the Didomi read. Only a baseline whose fingerprint the push recorded
/// counts (the one [`decide`] trusts); without one the contact is read.
pub fn echoes_push(
    hubspot: &BTreeMap<String, Option<String>>,
    mapping: &Mapping,
    last: &LastSync,
) -> bool {
    let Some(written) = trusted_baseline(last, mapping) else { return false };
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    mapping.entries.iter().all(|e| {
        text(hubspot.get(&e.property).and_then(|v| v.as_deref()))
            == text(written.get(&e.property).map(String::as_str))
    })
}

fn apply(user: &mut ConsentUser, item: &DidomiItem, value: &Canon, book: &PreferenceBook) {
    match (item, value) {
        (DidomiItem::Purpose { purpose_id }, Canon::Bool(b)) => {
            purpose_mut(user, purpose_id).enabled = Some(*b);
        }
        (DidomiItem::Preference { purpose_id, preference_id }, Canon::Set(ids)) => {
            // Keep the library's value order.
            let order = book.values(preference_id);
            let mut sorted: Vec<&String> = ids.iter().collect();
            sorted.sort_by_key(|id| order.iter().position(|v| &v.id == *id).unwrap_or(usize::MAX));
            let value = sorted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
            purpose_mut(user, purpose_id)
                .values
                .insert(preference_id.clone(), PreferenceChoice { value });
        }
        (DidomiItem::Value { purpose_id, preference_id, value_id }, Canon::Bool(b)) => {
            let single = book.single(preference_id);
            let p = purpose_mut(user, purpose_id);
            let mut ids: Vec<String> = p
                .values
                .get(preference_id)
                .map(|c| c.ids().map(str::to_owned).collect())
                .unwrap_or_default();
            if *b {
                if single {
                    ids.clear();
                }
                if !ids.contains(value_id) {
                    ids.push(value_id.clone());
                }
            } else {
                ids.retain(|i| i != value_id);
            }
            p.values.insert(preference_id.clone(), PreferenceChoice { value: ids.join(",") });
        }
        _ => {}
    }
}

/// The event purposes that turn `before` into `after` (only what differs).
fn event_purposes(before: &ConsentUser, after: &ConsentUser) -> Vec<EventPurpose> {
    let mut out = Vec::new();
    for p in &after.consents.purposes {
        let old = before.purpose(&p.id);
        let enabled = (old.and_then(|o| o.enabled) != p.enabled).then_some(p.enabled).flatten();
        let values: BTreeMap<String, EventValue> = p
            .values
            .iter()
            .filter(|(k, v)| old.and_then(|o| o.values.get(*k)) != Some(*v))
            .map(|(k, v)| (k.clone(), EventValue { value: v.value.clone() }))
            .collect();
        if enabled.is_some() || !values.is_empty() {
            out.push(EventPurpose { id: p.id.clone(), enabled, values });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappingEntry;
    use crate::push::values::{fingerprint, Labels};

    fn book() -> (PreferenceBook, Labels) {
        let mut b = PreferenceBook::default();
        let vals = |xs: &[(&str, &str)]| {
            xs.iter().map(|(i, l)| ValueLabel { id: (*i).into(), label: (*l).into() }).collect()
        };
        b.values.insert(
            "topics".into(),
            (vals(&[("n", "News"), ("e", "Events"), ("o", "Offers")]), false),
        );
        b.values.insert("freq".into(), (vals(&[("d", "Daily"), ("w", "Weekly")]), true));
        let mut l = Labels::default();
        for (p, i, lab) in [
            ("topics", "n", "News"),
            ("topics", "e", "Events"),
            ("topics", "o", "Offers"),
            ("freq", "d", "Daily"),
            ("freq", "w", "Weekly"),
        ] {
            l.insert(p, i, lab);
        }
        (b, l)
    }

    fn mapping() -> Mapping {
        let e = |item, property: &str, encoding| MappingEntry {
            item,
            property: property.into(),
            encoding,
        };
        Mapping {
            entries: vec![
                e(
                    DidomiItem::Purpose { purpose_id: "news".into() },
                    "c_news",
                    ValueEncoding::Labels,
                ),
                e(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                    },
                    "c_topics",
                    ValueEncoding::Labels,
                ),
                e(
                    DidomiItem::Preference {
                        purpose_id: "news".into(),
                        preference_id: "freq".into(),
                    },
                    "c_freq",
                    ValueEncoding::Ids,
                ),
                e(
                    DidomiItem::Value {
                        purpose_id: "news".into(),
                        preference_id: "topics".into(),
                        value_id: "o".into(),
                    },
                    "c_offers",
                    ValueEncoding::Labels,
                ),
            ],
        }
    }

    fn hs(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned()))).collect()
    }

    fn user(json: &str) -> ConsentUser {
        serde_json::from_str(json).expect("user json")
    }

    #[test]
    fn decodes_labels_ids_and_booleans_into_one_event() {
        let (b, l) = book();
        let d = decide(
            "a@x.com",
            &hs(&[
                ("c_news", "TRUE"),
                ("c_topics", "events; news"),
                ("c_freq", "w"),
                ("c_offers", "true"),
            ]),
            None,
            &mapping(),
            &b,
            &l,
            &LastSync::default(),
            ConflictWinner::Didomi,
        );
        assert!(d.errors.is_empty(), "all parsed: {:?}", d.errors);
        assert_eq!(d.purposes.len(), 1, "one purpose touched");
        let p = &d.purposes[0];
        assert_eq!(p.enabled, Some(true), "purpose enabled from the boolean");
        assert_eq!(
            p.values["topics"].value, "n,e,o",
            "labels case-insensitive, library order, value row added"
        );
        assert_eq!(p.values["freq"].value, "w", "ids parsed");
        assert!(d.conflicts.is_empty(), "no Didomi value: no conflict");
    }

    #[test]
    fn unknown_tokens_are_errors_and_equal_values_write_nothing() {
        let (b, l) = book();
        let u = user(
            r#"{"consents":{"purposes":[{"id":"news","enabled":true,"values":{"topics":{"value":"e,n"}}}]}}"#,
        );
        let d = decide(
            "a@x.com",
            &hs(&[
                ("c_news", "true"),
                ("c_topics", "News;Events"),
                ("c_freq", "hourly"),
                ("c_offers", "yes"),
            ]),
            Some(&u),
            &mapping(),
            &b,
            &l,
            &LastSync::default(),
            ConflictWinner::Didomi,
        );
        assert!(d.purposes.is_empty(), "same values in another order: nothing to write");
        assert_eq!(
            d.errors.len(),
            2,
            "the unknown id and the non-boolean are errors: {:?}",
            d.errors
        );
        assert!(
            d.errors[0].contains("hourly") || d.errors[1].contains("hourly"),
            "the token is named"
        );
    }

    #[test]
    fn conflicts_follow_the_winner_setting() {
        let (b, l) = book();
        let m = mapping();
        let base: Values =
            [("c_news".to_owned(), "true".to_owned()), ("c_topics".to_owned(), "News".to_owned())]
                .into();
        let last = LastSync { hash: Some(fingerprint(&base)), baseline: Some(base) };
        // Only Didomi changed (purpose off): the pull leaves it to the push.
        let now = user(
            r#"{"consents":{"purposes":[{"id":"news","enabled":false,"values":{"topics":{"value":"n"}}}]}}"#,
        );
        let d = decide(
            "a@x.com",
            &hs(&[("c_news", "true"), ("c_topics", "News")]),
            Some(&now),
            &m,
            &b,
            &l,
            &last,
            ConflictWinner::HubSpot,
        );
        assert!(
            d.purposes.is_empty() && d.conflicts.is_empty(),
            "only Didomi changed: nothing pulled"
        );
        // Only HubSpot changed: written, no conflict.
        let same = user(
            r#"{"consents":{"purposes":[{"id":"news","enabled":true,"values":{"topics":{"value":"n"}}}]}}"#,
        );
        let d = decide(
            "a@x.com",
            &hs(&[("c_news", "true"), ("c_topics", "Offers")]),
            Some(&same),
            &m,
            &b,
            &l,
            &last,
            ConflictWinner::Didomi,
        );
        assert!(d.conflicts.is_empty(), "Didomi unchanged since the sync: no conflict");
        assert_eq!(d.purposes[0].values["topics"].value, "o", "HubSpot's change written");
        assert_eq!(d.purposes[0].enabled, None, "the unchanged purpose is not in the event");
        // Both changed topics.
        let both = user(
            r#"{"consents":{"purposes":[{"id":"news","enabled":true,"values":{"topics":{"value":"e"}}}]}}"#,
        );
        let hub = hs(&[("c_news", "true"), ("c_topics", "Offers")]);
        let d = decide("a@x.com", &hub, Some(&both), &m, &b, &l, &last, ConflictWinner::Didomi);
        assert_eq!(d.conflicts.len(), 1, "both changed topics: one conflict");
        assert_eq!(d.conflicts[0].didomi.as_deref(), Some("Events"), "Didomi's value reported");
        assert!(d.purposes.is_empty(), "Didomi wins: nothing written");
        let d = decide("a@x.com", &hub, Some(&both), &m, &b, &l, &last, ConflictWinner::HubSpot);
        assert_eq!(d.conflicts[0].winner, ConflictWinner::HubSpot, "winner reported");
        assert_eq!(d.purposes[0].values["topics"].value, "o", "HubSpot wins: its value is written");
        // A single preference given two values is the record's error.
        let d = decide(
            "a@x.com",
            &hs(&[("c_freq", "d;w")]),
            None,
            &m,
            &b,
            &l,
            &LastSync::default(),
            ConflictWinner::Didomi,
        );
        assert_eq!(d.errors.len(), 1, "two values for a single preference refused");
    }

    fn any_user() -> impl proptest::strategy::Strategy<Value = ConsentUser> {
        use proptest::prelude::*;
        let topics = proptest::sample::subsequence(vec!["n", "e", "o"], 0..=3);
        let freq = proptest::option::of(proptest::sample::select(vec!["d", "w"]));
        (proptest::option::of(any::<bool>()), topics, freq, any::<bool>()).prop_map(
            |(enabled, topics, freq, present)| {
                if !present {
                    return ConsentUser::default();
                }
                let mut values = serde_json::Map::new();
                if !topics.is_empty() {
                    values.insert("topics".into(), serde_json::json!({"value": topics.join(",")}));
                }
                if let Some(f) = freq {
                    values.insert("freq".into(), serde_json::json!({"value": f}));
                }
                let p = serde_json::json!({"id": "news", "enabled": enabled, "values": values});
                user(&serde_json::json!({"consents": {"purposes": [p]}}).to_string())
            },
        )
    }

    proptest::proptest! {
        /// Whatever Didomi holds now, HubSpot holding what the push last wrote is an echo, and
        /// `decide` would write nothing for it: skipping the read loses nothing.
        #[test]
        fn an_echo_of_the_push_writes_nothing(pushed in any_user(), now in any_user()) {
            let (b, l) = book();
            let m = mapping();
            let written = crate::push::values::compute(&pushed, &m, &l);
            let last = LastSync { baseline: Some(written.clone()), hash: Some(fingerprint(&written)) };
            let hubspot: BTreeMap<String, Option<String>> =
                written.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
            proptest::prop_assert!(echoes_push(&hubspot, &m, &last), "an echo: {written:?}");
            let d = decide("a@x.com", &hubspot, Some(&now), &m, &b, &l, &last, ConflictWinner::HubSpot);
            proptest::prop_assert!(d.purposes.is_empty(), "nothing to write: {:?}", d.purposes);
            proptest::prop_assert!(d.conflicts.is_empty(), "no conflict: {:?}", d.conflicts);
        }
    }

    #[test]
    fn an_edit_or_an_unknown_baseline_is_no_echo() {
        let (_, l) = book();
        let m = mapping();
        let pushed = user(r#"{"consents":{"purposes":[{"id":"news","enabled":true}]}}"#);
        let written = crate::push::values::compute(&pushed, &m, &l);
        let last = LastSync { baseline: Some(written.clone()), hash: Some(fingerprint(&written)) };
        let mut edited: BTreeMap<String, Option<String>> =
            written.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        edited.insert("c_topics".into(), Some("News".into()));
        assert!(!echoes_push(&edited, &m, &last), "a value the push never wrote is an edit");
        let mut cleared = edited.clone();
        cleared.insert("c_topics".into(), Some(String::new()));
        assert!(echoes_push(&cleared, &m, &last), "an empty value is no value");
        cleared.insert("c_news".into(), None);
        assert!(!echoes_push(&cleared, &m, &last), "a cleared value the push wrote is an edit");
        let stale = LastSync { baseline: Some(written.clone()), hash: Some(1) };
        let same: BTreeMap<String, Option<String>> =
            written.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        assert!(!echoes_push(&same, &m, &stale), "a baseline decide would not trust is read");
        assert!(!echoes_push(&same, &m, &LastSync::default()), "no baseline: read");
    }
}
