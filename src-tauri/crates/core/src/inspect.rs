//! The contact inspector (issue 14): for one email, what Didomi holds, what the mapping makes of
//! it, what HubSpot holds and why, and the runs that touched the person.
//!
//! A lookup never reads all users or all contacts:
//! - Didomi: `GET /v1/consents/users?organization_user_id=` (an exact filter) once per spelling
//!   of the email: the normalized one, the winner's spelling the push keeps in its per-contact
//!   state, the duplicates' spellings the history recorded, the one typed, and the email in
//!   capitals (the push records a winner's spelling only once it wrote for it). Plus the
//!   preferences library (value labels) when no schema is cached. At most
//!   [`DIDOMI_BUDGET`] requests.
//! - HubSpot: one batch read by email with `propertiesWithHistory` of the mapped properties.
//!
//! The winner is picked by the push's own rank (`push::engine::rank`), the values by
//! the push's own [`compute`] and [`clear_unanswered`]: the inspector cannot disagree with the
//! push.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::didomi::consents::ConsentUser;
use crate::didomi::DidomiClient;
use crate::error::Error;
use crate::hubspot::contacts::{BatchRecord, ValueWithTimestamp};
use crate::hubspot::HubSpotClient;
use crate::mapping::check::row_name;
use crate::mapping::{DidomiItem, DidomiRow, Mapping};
use crate::push::engine::{now_rfc3339, rank, updated_ms};
use crate::push::values::{clear_unanswered, compute, normalize_email, Labels, Values};
use crate::run::dto::{RecordAction, RecordOutcome, RunStatus, RunSummary, SyncDirection};
use crate::run::store::{ContactState, Store};

/// Didomi API requests a lookup may make. Minting a session token is not counted: it is the
/// client's authentication, made once an hour per process whatever is called.
pub const DIDOMI_BUDGET: u32 = 3;
/// History records read per lookup.
const RECORDS: u32 = 200;

/// What the inspector shows for one email (also the CLI's `inspect --json` and the export).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Inspection {
    /// The email, normalized as the push does.
    pub email: String,
    /// When the lookup was taken (RFC 3339).
    pub taken_at: String,
    /// Every Didomi user found with this email (any spelling searched).
    pub didomi_users: Vec<InspectUser>,
    /// The user whose answers the push writes, if any.
    pub winner: Option<String>,
    /// Why that user wins, in words.
    pub winner_reason: String,
    /// The HubSpot contact's record id, when HubSpot has the email.
    pub hubspot_contact: Option<String>,
    /// One row per mapped Didomi purpose, preference and value.
    pub rows: Vec<InspectRow>,
    /// HubSpot's changes of the mapped properties, newest first.
    pub hubspot_history: Vec<HistoryChange>,
    /// Runs in History that touched this person, newest first.
    pub runs: Vec<InspectRun>,
    /// API requests this lookup made.
    pub requests: RequestCounts,
    /// The spellings of the email looked up in Didomi.
    pub searched: Vec<String>,
    /// `true` when Didomi or HubSpot knows the email.
    pub found: bool,
}

/// One Didomi user with the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InspectUser {
    /// Didomi user id.
    pub id: String,
    /// The `organization_user_id` as Didomi spells it.
    pub organization_user_id: Option<String>,
    /// Its last change.
    pub updated_at: Option<String>,
    /// Whether its answers are the ones pushed.
    pub wins: bool,
}

/// How a row compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RowMatch {
    /// HubSpot holds what the push would write.
    Match,
    /// HubSpot holds something else: the next push (or "Sync this person now") writes it.
    Mismatch,
    /// Didomi has no answer: the push leaves HubSpot's value alone.
    NotWritten,
    /// HubSpot has no contact with this email.
    NoContact,
    /// The mapping no longer holds (item or property gone): the push refuses to run.
    Stale,
}

/// One mapped item: Didomi's answer → the value the push would write → HubSpot's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InspectRow {
    /// The Didomi item's name (its path in the configuration, else its ids).
    pub didomi_item: String,
    /// The item's ids.
    pub item: DidomiItem,
    /// The HubSpot property it is mapped to.
    pub property: String,
    /// Didomi's answer in words.
    pub didomi: String,
    /// What the push would write (`None`: nothing; `""`: it clears the property).
    pub expected: Option<String>,
    /// HubSpot's current value (`None`: empty or no contact).
    pub hubspot: Option<String>,
    /// The comparison.
    #[serde(rename = "match")]
    #[ts(rename = "match")]
    pub matches: RowMatch,
    /// The comparison in words.
    pub explanation: String,
}

/// One change of a mapped property in HubSpot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryChange {
    /// The property.
    pub property: String,
    /// The value set.
    pub value: String,
    /// When.
    pub timestamp: String,
    /// HubSpot's `sourceType` (`INTEGRATION`, `CRM_UI`, …).
    pub source_type: String,
    /// Who, in words.
    pub source: String,
    /// Written by this app's push.
    pub by_app: bool,
    /// The push run that wrote it.
    #[ts(type = "number | null")]
    pub run_id: Option<i64>,
}

/// A run that touched this person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InspectRun {
    /// Run id (History).
    #[ts(type = "number")]
    pub id: i64,
    /// Push or pull.
    pub direction: SyncDirection,
    /// Outcome of the run.
    pub status: RunStatus,
    /// Dry run.
    pub dry_run: bool,
    /// Start.
    pub started_at: String,
    /// What the run did for this person, in words.
    pub message: String,
}

/// API requests of one lookup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RequestCounts {
    /// HubSpot requests.
    pub hubspot: u32,
    /// Didomi API requests (a session token minted on the way is not counted).
    pub didomi: u32,
}

/// What a lookup reads with.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// HubSpot.
    pub hubspot: &'a HubSpotClient,
    /// Didomi.
    pub didomi: &'a DidomiClient,
    /// The push's state and history.
    pub store: &'a Store,
    /// The saved mapping.
    pub mapping: &'a Mapping,
    /// Cached schemas, when the app has them (names of items, preferences, live properties);
    /// without them the preferences library is read (one request) and items keep their ids.
    pub schemas: Option<&'a crate::facade::mapping::Schemas>,
}

/// Looks `email` up on both sides.
///
/// # Errors
/// [`crate::ErrorCode::InvalidInput`] when `email` is not an email by the push's rule; HubSpot and
/// Didomi errors; [`crate::ErrorCode::SyncStateUnavailable`].
pub async fn inspect(l: Lookup<'_>, email: &str) -> Result<Inspection, Error> {
    let normalized = normalize_email(Some(email)).map_err(|why| {
        Error::invalid_input(format!(
            "\"{}\" cannot be looked up: {}. Type the email as the person gave it.",
            email.trim(),
            why.replace("the organization_user_id", "it")
        ))
    })?;
    let mut requests = RequestCounts::default();
    let store_err = |e: crate::run::store::StoreError| Error::from(e);
    let state = l.store.states(&[&normalized]).map_err(store_err)?.remove(&normalized);
    let records = l.store.records_about(&normalized, RECORDS).map_err(store_err)?;
    let (labels, rows) = labels_and_rows(&l, &mut requests).await?;
    let spellings = spellings(email, &normalized, state.as_ref(), &records);
    let (users, searched) = didomi_users(&l, spellings, &mut requests).await?;
    let winner = pick_winner(&users);
    let contact = hubspot_contact(&l, &normalized, &mut requests).await?;

    let known: Option<HashSet<String>> = match (l.schemas, &contact) {
        (Some(s), _) => Some(s.properties.iter().map(|p| p.name.clone()).collect()),
        // Without schemas: a property HubSpot left out of the answer does not exist.
        (None, Some(c)) => Some(c.properties.keys().cloned().collect()),
        (None, None) => None,
    };
    let written = state.as_ref().and_then(|s| s.written.as_ref());
    let rows = compare_rows(&Compare {
        mapping: l.mapping,
        winner: winner.map(|i| &users[i]),
        labels: &labels,
        rows: &rows,
        written,
        contact: contact.as_ref().map(|c| &c.properties),
        known: known.as_ref(),
    });
    let runs_list = l.store.list_runs(10_000).map_err(store_err)?;
    let hubspot_history = contact.as_ref().map(|c| history(c, &runs_list)).unwrap_or_default();
    let runs = touching_runs(&records, &hubspot_history, &runs_list);
    let found = !users.is_empty() || contact.is_some();
    Ok(Inspection {
        email: normalized,
        taken_at: now_rfc3339(),
        winner_reason: winner_reason(&users, winner),
        winner: winner.map(|i| users[i].id.clone()),
        didomi_users: users
            .iter()
            .enumerate()
            .map(|(i, u)| InspectUser {
                id: u.id.clone(),
                organization_user_id: u.organization_user_id.clone(),
                updated_at: u.updated_at.clone(),
                wins: Some(i) == winner,
            })
            .collect(),
        hubspot_contact: contact.map(|c| c.id),
        rows,
        hubspot_history,
        runs,
        requests,
        searched,
        found,
    })
}

/// Labels and row names: from the cached schemas, else the preferences library (one request).
async fn labels_and_rows(
    l: &Lookup<'_>,
    requests: &mut RequestCounts,
) -> Result<(Labels, Vec<DidomiRow>), Error> {
    if let Some(s) = l.schemas {
        return Ok((Labels::from_preferences(&s.config.preferences, &s.language), s.rows.clone()));
    }
    requests.didomi += 1;
    let preferences = l.didomi.list_preferences().await.map_err(Error::from)?;
    // The language the push writes labels in, as far as the library tells it.
    let config = crate::mapping::DidomiConfig { preferences, purposes: Vec::new(), tree: None };
    Ok((Labels::from_preferences(&config.preferences, &config.language()), Vec::new()))
}

/// Every spelling of the email this app knows, once each, most likely first: the normalised
/// one, the push's recorded spelling, History's duplicate spellings, as typed, in capitals.
fn spellings(
    email: &str,
    normalized: &str,
    state: Option<&ContactState>,
    records: &[(i64, RecordOutcome)],
) -> Vec<String> {
    let mut spellings = vec![normalized.to_owned()];
    spellings.extend(state.and_then(|s| s.ouid.clone()));
    spellings.extend(
        records
            .iter()
            .filter(|(_, r)| normalize_email(Some(&r.email)).as_deref() == Ok(normalized))
            .map(|(_, r)| r.email.clone()),
    );
    spellings.push(email.trim().to_owned());
    // The spelling people most often use for a second account (a CRM export in capitals); the
    // push records a winner's own spelling only once it wrote something for it.
    spellings.push(normalized.to_uppercase());
    let mut seen = HashSet::new();
    spellings.retain(|s| !s.is_empty() && seen.insert(s.clone()));
    spellings
}

/// The Didomi users of `spellings`, within the request budget; and the spellings searched.
async fn didomi_users(
    l: &Lookup<'_>,
    spellings: Vec<String>,
    requests: &mut RequestCounts,
) -> Result<(Vec<ConsentUser>, Vec<String>), Error> {
    let mut users: Vec<ConsentUser> = Vec::new();
    let mut searched = Vec::new();
    for ouid in spellings {
        if requests.didomi + 1 > DIDOMI_BUDGET {
            break;
        }
        requests.didomi += 1;
        for u in l.didomi.users_by_organization_user_id(&ouid).await.map_err(Error::from)? {
            if !users.iter().any(|x| x.id == u.id) {
                users.push(u);
            }
        }
        searched.push(ouid);
    }
    Ok((users, searched))
}

/// The HubSpot contact of `email`: one batch read with the history of the mapped properties.
async fn hubspot_contact(
    l: &Lookup<'_>,
    email: &str,
    requests: &mut RequestCounts,
) -> Result<Option<BatchRecord>, Error> {
    let mapped: Vec<String> = mapped_properties(l.mapping);
    let mut props = mapped.clone();
    props.push("email".into());
    requests.hubspot += 1;
    let read = l
        .hubspot
        .contacts_read_with_history(&[email.to_owned()], &props, &mapped)
        .await
        .map_err(Error::from)?;
    Ok(read.results.into_iter().next())
}

/// The mapped properties, once each, in the mapping's order.
fn mapped_properties(mapping: &Mapping) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &mapping.entries {
        if !out.contains(&e.property) {
            out.push(e.property.clone());
        }
    }
    out
}

/// The user whose answers the push writes: by the push's rank (newest `updated_at`, then the
/// id that sorts last, then a hash of the id), among the users whose `organization_user_id` is
/// a valid email.
pub fn pick_winner(users: &[ConsentUser]) -> Option<usize> {
    users
        .iter()
        .enumerate()
        .filter(|(_, u)| normalize_email(u.organization_user_id.as_deref()).is_ok())
        .max_by_key(|(_, u)| rank(&u.id, u.updated_at.as_deref()))
        .map(|(i, _)| i)
}

/// Why `winner` wins, in words.
pub fn winner_reason(users: &[ConsentUser], winner: Option<usize>) -> String {
    let Some(w) = winner else {
        return if users.is_empty() {
            "No Didomi user has this email: the push writes nothing for this person.".into()
        } else {
            "No Didomi user with this email has a valid email as its organization user id: the push writes nothing for this person.".into()
        };
    };
    let u = &users[w];
    let when = u.updated_at.as_deref().unwrap_or("an unknown time");
    let others: Vec<&ConsentUser> = users.iter().filter(|x| x.id != u.id).collect();
    if others.is_empty() {
        return format!(
            "Only one Didomi user has this email ({}); its answers are the ones pushed.",
            u.id
        );
    }
    let r = rank(&u.id, u.updated_at.as_deref());
    let alike = |o: &ConsentUser| {
        let ro = rank(&o.id, o.updated_at.as_deref());
        (ro.0, ro.1) == (r.0, r.1)
    };
    let tie = others.iter().any(|o| updated_ms(o.updated_at.as_deref()) == r.0);
    let rule = if others.iter().any(|o| alike(o)) {
        "several were changed at the same moment and their ids begin with the same eight characters, so a fixed hash of each whole id decides, the same in every run"
    } else if tie {
        "several were changed at the same moment, and on a tie the user whose id sorts last wins"
    } else {
        "of the users sharing an email, the one changed last wins"
    };
    format!(
        "{} Didomi users share this email. {} (changed {when}) wins: {rule}. The others' answers are never written; merge or delete them in Didomi.",
        users.len(),
        u.id
    )
}

/// Everything a row comparison needs.
#[derive(Debug, Clone, Copy)]
pub struct Compare<'a> {
    /// The mapping.
    pub mapping: &'a Mapping,
    /// The winning Didomi user.
    pub winner: Option<&'a ConsentUser>,
    /// Preference value labels.
    pub labels: &'a Labels,
    /// The Didomi rows (names; empty when unknown).
    pub rows: &'a [DidomiRow],
    /// What the push last wrote on the contact.
    pub written: Option<&'a Values>,
    /// HubSpot's current values (`None`: no contact).
    pub contact: Option<&'a BTreeMap<String, Option<String>>>,
    /// HubSpot's live properties, when known.
    pub known: Option<&'a HashSet<String>>,
}

/// One row per mapping entry: Didomi's answer → the value the push would write → HubSpot's
/// value → how they compare.
pub fn compare_rows(c: &Compare<'_>) -> Vec<InspectRow> {
    let mapped: HashSet<String> = c.mapping.entries.iter().map(|e| e.property.clone()).collect();
    let mut expected: Values =
        c.winner.map(|u| compute(u, c.mapping, c.labels)).unwrap_or_default();
    clear_unanswered(&mut expected, c.written, &mapped);
    let in_config: HashSet<&DidomiItem> = c.rows.iter().map(|r| &r.item).collect();
    c.mapping
        .entries
        .iter()
        .map(|e| {
            let expected = expected.get(&e.property).cloned();
            let hubspot = c
                .contact
                .and_then(|p| p.get(&e.property).cloned().flatten())
                .filter(|v| !v.is_empty());
            let didomi = answer(c.winner, &e.item, c.labels);
            let stale_item = !c.rows.is_empty() && !in_config.contains(&e.item);
            let stale_property = c.known.is_some_and(|k| !k.contains(&e.property));
            let (matches, explanation) = if stale_item {
                (RowMatch::Stale, "This Didomi item is no longer in the configuration: fix the mapping on the Mapping screen (no sync runs until then).".to_owned())
            } else if stale_property {
                (RowMatch::Stale, format!("HubSpot has no property \"{}\" any more: fix the mapping on the Mapping screen (no sync runs until then).", e.property))
            } else if c.contact.is_none() {
                (RowMatch::NoContact, "HubSpot has no contact with this email.".to_owned())
            } else {
                match &expected {
                    None => (RowMatch::NotWritten, "Didomi has no answer, so the push leaves HubSpot's value as it is.".to_owned()),
                    Some(v) if hubspot.as_deref().unwrap_or("") == v => (
                        RowMatch::Match,
                        if v.is_empty() { "Both are empty: the push cleared it.".to_owned() } else { "HubSpot holds what Didomi says.".to_owned() },
                    ),
                    Some(v) if v.is_empty() => (RowMatch::Mismatch, "HubSpot still holds a value the push wrote earlier and Didomi no longer gives: the next push clears it.".to_owned()),
                    Some(_) => (RowMatch::Mismatch, "HubSpot holds something else than Didomi says: the next push (or \"Sync this person now\") writes Didomi's answer.".to_owned()),
                }
            };
            InspectRow {
                didomi_item: row_name(&e.item, c.rows).trim_matches('"').to_owned(),
                item: e.item.clone(),
                property: e.property.clone(),
                didomi,
                expected,
                hubspot,
                matches,
                explanation,
            }
        })
        .collect()
}

/// The winner's answer for `item`, in words.
fn answer(winner: Option<&ConsentUser>, item: &DidomiItem, labels: &Labels) -> String {
    let Some(u) = winner else { return "No Didomi user".into() };
    match item {
        DidomiItem::Purpose { purpose_id } => match u.purpose(purpose_id).and_then(|p| p.enabled) {
            Some(true) => "Agreed".into(),
            Some(false) => "Refused".into(),
            None => "No answer".into(),
        },
        DidomiItem::Preference { purpose_id, preference_id } => {
            match u.purpose(purpose_id).and_then(|p| p.values.get(preference_id)) {
                None => "No answer".into(),
                Some(choice) => {
                    let names: Vec<&str> =
                        choice.ids().map(|id| labels.label(preference_id, id)).collect();
                    if names.is_empty() {
                        "Nothing selected".into()
                    } else {
                        names.join(", ")
                    }
                }
            }
        }
        DidomiItem::Value { purpose_id, preference_id, value_id } => {
            match u.purpose(purpose_id).and_then(|p| p.values.get(preference_id)) {
                None => "No answer".into(),
                Some(choice) if choice.ids().any(|id| id == value_id) => "Selected".into(),
                Some(_) => "Not selected".into(),
            }
        }
    }
}

/// The push run (not a dry run) running at `ms`, if any.
fn run_at(ms: i64, runs: &[RunSummary]) -> Option<i64> {
    runs.iter()
        .filter(|r| r.direction == SyncDirection::Push && !r.dry_run)
        .find(|r| {
            let start = updated_ms(Some(&r.started_at));
            let end = r.finished_at.as_deref().map_or(i64::MAX, |f| updated_ms(Some(f)));
            start <= ms && ms <= end.saturating_add(1000)
        })
        .map(|r| r.id)
}

/// HubSpot's changes of the mapped properties, newest first; changes by an integration during
/// one of this app's push runs are marked as the app's, with the run.
fn history(contact: &BatchRecord, runs: &[RunSummary]) -> Vec<HistoryChange> {
    let mut out: Vec<HistoryChange> = contact
        .properties_with_history
        .iter()
        .flat_map(|(p, changes)| changes.iter().map(move |c| (p, c)))
        .map(|(p, c): (&String, &ValueWithTimestamp)| {
            let run_id = (c.source_type == "INTEGRATION")
                .then(|| run_at(updated_ms(Some(&c.timestamp)), runs))
                .flatten();
            HistoryChange {
                property: p.clone(),
                value: c.value.clone(),
                timestamp: c.timestamp.clone(),
                source_type: c.source_type.clone(),
                source: source_words(c, run_id),
                by_app: run_id.is_some(),
                run_id,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        updated_ms(Some(&b.timestamp))
            .cmp(&updated_ms(Some(&a.timestamp)))
            .then(a.property.cmp(&b.property))
    });
    out
}

fn source_words(c: &ValueWithTimestamp, run: Option<i64>) -> String {
    if let Some(id) = run {
        return format!("This app (push run {id})");
    }
    let label = c.source_label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
    match c.source_type.as_str() {
        "CRM_UI" => match c.updated_by_user_id {
            Some(u) => format!("A person in HubSpot (user {u})"),
            None => "A person in HubSpot".into(),
        },
        "INTEGRATION" => format!("Another integration{label}"),
        "WORKFLOW" => format!("A HubSpot workflow{label}"),
        "IMPORT" => "An import".into(),
        other => format!("{other}{label}"),
    }
}

/// Runs with a record about this person, and push runs that wrote one of its properties.
fn touching_runs(
    records: &[(i64, crate::run::dto::RecordOutcome)],
    history: &[HistoryChange],
    runs: &[RunSummary],
) -> Vec<InspectRun> {
    let mut what: HashMap<i64, Vec<String>> = HashMap::new();
    for (run, r) in records {
        let line = match r.action {
            RecordAction::Duplicate => format!("Duplicate ({}): {}", r.email, r.message),
            _ => r.message.clone(),
        };
        let lines = what.entry(*run).or_default();
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let mut wrote: HashMap<i64, BTreeSet<&str>> = HashMap::new();
    for h in history {
        if let Some(run) = h.run_id {
            wrote.entry(run).or_default().insert(&h.property);
        }
    }
    for (run, props) in wrote {
        let list: Vec<&str> = props.into_iter().collect();
        what.entry(run).or_default().insert(0, format!("Wrote {}.", list.join(", ")));
    }
    let mut out: Vec<InspectRun> = runs
        .iter()
        .filter_map(|r| {
            what.get(&r.id).map(|lines| InspectRun {
                id: r.id,
                direction: r.direction,
                status: r.status,
                dry_run: r.dry_run,
                started_at: r.started_at.clone(),
                message: lines.join(" "),
            })
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{ItemKind, MappingEntry, ValueEncoding};

    fn user(id: &str, ouid: &str, updated: &str, purposes: serde_json::Value) -> ConsentUser {
        serde_json::from_value(serde_json::json!({
            "id": id, "organization_user_id": ouid, "updated_at": updated,
            "consents": {"purposes": purposes}
        }))
        .expect("user parses")
    }

    fn purpose(id: &str) -> DidomiItem {
        DidomiItem::Purpose { purpose_id: id.into() }
    }

    fn pref(p: &str, id: &str) -> DidomiItem {
        DidomiItem::Preference { purpose_id: p.into(), preference_id: id.into() }
    }

    fn value(p: &str, pref: &str, v: &str) -> DidomiItem {
        DidomiItem::Value { purpose_id: p.into(), preference_id: pref.into(), value_id: v.into() }
    }

    fn mapping(entries: &[(DidomiItem, &str)]) -> Mapping {
        Mapping {
            entries: entries
                .iter()
                .map(|(item, p)| MappingEntry {
                    item: item.clone(),
                    property: (*p).into(),
                    encoding: ValueEncoding::Labels,
                })
                .collect(),
        }
    }

    fn row(item: DidomiItem, path: &str) -> DidomiRow {
        DidomiRow {
            kind: item.kind(),
            item,
            label: path.into(),
            depth: 0,
            purpose_label: path.into(),
            preference_label: None,
            path: path.into(),
            preference_type: None,
            labels_problem: None,
        }
    }

    fn contact(values: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        values.iter().map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned))).collect()
    }

    fn compare(
        m: &Mapping,
        winner: Option<&ConsentUser>,
        labels: &Labels,
        rows: &[DidomiRow],
        written: Option<&Values>,
        hubspot: Option<&BTreeMap<String, Option<String>>>,
    ) -> Vec<InspectRow> {
        compare_rows(&Compare {
            mapping: m,
            winner,
            labels,
            rows,
            written,
            contact: hubspot,
            known: None,
        })
    }

    #[test]
    fn rows_say_match_mismatch_and_not_written() {
        let m = mapping(&[
            (purpose("news"), "p_news"),
            (purpose("sms"), "p_sms"),
            (pref("news", "topics"), "p_topics"),
            (value("news", "topics", "events"), "p_events"),
        ]);
        let u = user(
            "u1",
            "a@x.com",
            "2026-01-01T00:00:00Z",
            serde_json::json!([{"id": "news", "enabled": true,
                "values": {"topics": {"value": "events,offers"}}}]),
        );
        let mut labels = Labels::default();
        labels.insert("topics", "events", "Events");
        labels.insert("topics", "offers", "Offers");
        let hs = contact(&[
            ("p_news", Some("true")),
            ("p_sms", Some("false")),
            ("p_topics", Some("Events")),
            ("p_events", None),
        ]);
        let rows = compare(&m, Some(&u), &labels, &[], None, Some(&hs));
        let by: HashMap<&str, &InspectRow> =
            rows.iter().map(|r| (r.property.as_str(), r)).collect();
        assert_eq!(by["p_news"].matches, RowMatch::Match, "purpose agreed and true in HubSpot");
        assert_eq!(by["p_news"].didomi, "Agreed");
        assert_eq!(by["p_sms"].matches, RowMatch::NotWritten, "unanswered purpose: left alone");
        assert_eq!(by["p_sms"].expected, None, "nothing to write");
        assert_eq!(by["p_sms"].didomi, "No answer");
        assert_eq!(by["p_topics"].expected.as_deref(), Some("Events;Offers"), "labels in order");
        assert_eq!(by["p_topics"].matches, RowMatch::Mismatch, "HubSpot lacks Offers");
        assert_eq!(by["p_topics"].didomi, "Events, Offers");
        assert_eq!(by["p_events"].expected.as_deref(), Some("true"));
        assert_eq!(by["p_events"].matches, RowMatch::Mismatch, "empty in HubSpot");
        assert_eq!(by["p_events"].didomi, "Selected");
    }

    #[test]
    fn a_withdrawn_answer_the_push_wrote_is_to_be_cleared() {
        let m = mapping(&[(purpose("news"), "p_news")]);
        let u = user("u1", "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([]));
        let written: Values = [("p_news".to_owned(), "true".to_owned())].into();
        let hs = contact(&[("p_news", Some("true"))]);
        let rows = compare(&m, Some(&u), &Labels::default(), &[], Some(&written), Some(&hs));
        assert_eq!(rows[0].expected.as_deref(), Some(""), "the push clears it");
        assert_eq!(rows[0].matches, RowMatch::Mismatch, "HubSpot still holds it");
        let cleared = contact(&[("p_news", Some(""))]);
        let rows = compare(&m, Some(&u), &Labels::default(), &[], Some(&written), Some(&cleared));
        assert_eq!(rows[0].matches, RowMatch::Match, "empty and cleared are the same");
    }

    #[test]
    fn duplicates_the_newest_wins_and_on_a_tie_the_id_that_sorts_last() {
        let old = user("aaa", "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([]));
        let new = user("bbb", "A@X.COM", "2026-02-01T00:00:00Z", serde_json::json!([]));
        let bad = user("zzz", "a at x.com", "2026-03-01T00:00:00Z", serde_json::json!([]));
        let users = vec![old.clone(), new.clone(), bad];
        assert_eq!(pick_winner(&users), Some(1), "newest valid user wins, invalid ignored");
        assert!(winner_reason(&users, Some(1)).contains("changed last"), "reason says why");
        let tie = vec![
            user("ccc", "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([])),
            user("ddd", "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([])),
        ];
        assert_eq!(pick_winner(&tie), Some(1), "tie: the id that sorts last");
        assert!(winner_reason(&tie, Some(1)).contains("sorts last"), "tie reason");
        // Ids alike in their first eight bytes: one fixed winner whatever the order, and the
        // reason says a hash decided.
        let alike = |id: &str| user(id, "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([]));
        let pair = vec![alike("crm-user-1"), alike("crm-user-2")];
        let won = pick_winner(&pair).expect("a winner");
        let swapped = vec![pair[1].clone(), pair[0].clone()];
        assert_eq!(pick_winner(&swapped), Some(1 - won), "the same user in either order");
        assert!(winner_reason(&pair, Some(won)).contains("hash"), "alike ids: the hash decides");
        assert_eq!(pick_winner(&[]), None);
        assert!(winner_reason(&[], None).contains("No Didomi user"));
        // The loser's answers never show: rows come from the winner alone.
        let m = mapping(&[(purpose("news"), "p")]);
        let loser = user(
            "aaa",
            "a@x.com",
            "2026-01-01T00:00:00Z",
            serde_json::json!([{"id": "news", "enabled": true}]),
        );
        let winner = user(
            "bbb",
            "a@x.com",
            "2026-02-01T00:00:00Z",
            serde_json::json!([{"id": "news", "enabled": false}]),
        );
        let users = vec![loser, winner];
        let w = pick_winner(&users).map(|i| &users[i]);
        let rows =
            compare(&m, w, &Labels::default(), &[], None, Some(&contact(&[("p", Some("true"))])));
        assert_eq!(rows[0].expected.as_deref(), Some("false"), "the winner's refusal");
        assert_eq!(rows[0].matches, RowMatch::Mismatch);
    }

    #[test]
    fn labels_in_another_language_are_the_ones_compared() {
        let prefs: Vec<crate::didomi::models::Preference> = serde_json::from_value(serde_json::json!([{
            "id": "topics", "type": "multi", "name": {"fr": "Sujets"},
            "values": [{"id": "events", "name": {"fr": "Événements"}}, {"id": "offers", "name": {"fr": "Offres"}}]
        }]))
        .expect("preferences parse");
        let labels = Labels::from_preferences(&prefs, "fr");
        let m = mapping(&[(pref("news", "topics"), "p_topics")]);
        let u = user(
            "u1",
            "a@x.com",
            "2026-01-01T00:00:00Z",
            serde_json::json!([{"id": "news", "values": {"topics": {"value": "offers,events"}}}]),
        );
        let hs = contact(&[("p_topics", Some("Événements;Offres"))]);
        let rows = compare(&m, Some(&u), &labels, &[], None, Some(&hs));
        assert_eq!(
            rows[0].expected.as_deref(),
            Some("Événements;Offres"),
            "French labels, library order"
        );
        assert_eq!(rows[0].matches, RowMatch::Match);
        assert_eq!(rows[0].didomi, "Offres, Événements", "the answer in the organization's words");
    }

    #[test]
    fn stale_mappings_and_missing_contacts_are_named() {
        let m = mapping(&[
            (purpose("gone"), "p1"),
            (purpose("news"), "p_deleted"),
            (purpose("news2"), "p3"),
        ]);
        let rows_known = vec![row(purpose("news"), "Newsletter"), row(purpose("news2"), "News 2")];
        let known: HashSet<String> = ["p1".to_owned(), "p3".to_owned()].into();
        let u = user("u1", "a@x.com", "2026-01-01T00:00:00Z", serde_json::json!([]));
        let hs = contact(&[]);
        let rows = compare_rows(&Compare {
            mapping: &m,
            winner: Some(&u),
            labels: &Labels::default(),
            rows: &rows_known,
            written: None,
            contact: Some(&hs),
            known: Some(&known),
        });
        assert_eq!(rows[0].matches, RowMatch::Stale, "item gone from Didomi");
        assert!(rows[0].explanation.contains("no longer in the configuration"));
        assert_eq!(rows[1].matches, RowMatch::Stale, "property gone from HubSpot");
        assert!(rows[1].explanation.contains("p_deleted"));
        assert_eq!(rows[1].didomi_item, "Newsletter", "named by its path");
        assert_eq!(rows[2].matches, RowMatch::NotWritten);
        let rows = compare(&m, None, &Labels::default(), &[], None, None);
        assert!(rows.iter().all(|r| r.matches == RowMatch::NoContact), "no contact");
        assert!(rows.iter().all(|r| r.didomi == "No Didomi user"));
        assert_eq!(rows[0].item.kind(), ItemKind::Boolean);
    }

    #[test]
    fn app_changes_are_marked_with_their_run() {
        let run = |id: i64, start: &str, end: &str, dir: SyncDirection| RunSummary {
            id,
            direction: dir,
            mode: crate::run::dto::RunMode::Full,
            dry_run: false,
            started_at: start.into(),
            finished_at: Some(end.into()),
            duration_ms: Some(1),
            status: RunStatus::Succeeded,
            counts: Default::default(),
            message: None,
            auto: false,
        };
        let runs = vec![
            run(2, "2026-01-02T00:00:00Z", "2026-01-02T00:01:00Z", SyncDirection::Push),
            run(1, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", SyncDirection::Pull),
        ];
        let c: BatchRecord = serde_json::from_value(serde_json::json!({
            "id": "7", "properties": {"p": "true"},
            "propertiesWithHistory": {"p": [
                {"value": "true", "timestamp": "2026-01-02T00:00:30Z", "sourceType": "INTEGRATION"},
                {"value": "false", "timestamp": "2026-01-03T00:00:00Z", "sourceType": "CRM_UI", "updatedByUserId": 5},
                {"value": "x", "timestamp": "2026-01-01T00:00:30Z", "sourceType": "INTEGRATION"}
            ]}
        }))
        .expect("record parses");
        let h = history(&c, &runs);
        assert_eq!(h[0].source, "A person in HubSpot (user 5)", "newest first");
        assert!(!h[0].by_app);
        assert_eq!((h[1].by_app, h[1].run_id), (true, Some(2)), "during push run 2");
        assert!(!h[2].by_app, "an integration during a pull run is not this app's push");
        let touched = touching_runs(&[], &h, &runs);
        assert_eq!(touched.len(), 1);
        assert_eq!(touched[0].id, 2);
        assert!(touched[0].message.contains("Wrote p"), "{}", touched[0].message);
    }
}
