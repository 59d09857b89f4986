//! Didomi users (consent status) and consent events, built for a million users.
//!
//! Seeded users are never stored: user slot `2·i` is person `i`'s user (if the person is on
//! Didomi) and slot `2·i + 1` their differently-cased duplicate (if any); both are regenerated
//! from `(seed, i)` on demand, consents included. Only users changed by an event are kept (an
//! overlay map), plus users created by events (appended after the seeded slots). So:
//!
//! - memory is O(changed users), not O(population);
//! - a cursor is just a slot number, and a page costs O(page), whatever the population;
//! - a seeded user's `id` encodes its slot (checked against a seed-keyed hash), and a seeded
//!   `organization_user_id` contains the person's index, so lookups by id or OUID are O(1)
//!   without an index.
//!
//! Event semantics (didomi-api.md §2; where it leaves a point open, the choice is \[Inf\]):
//! - purposes, preferences and values are validated against the configuration; a preference
//!   must sit under that purpose in the config tree; a `single` preference takes one value;
//! - `values` merge per preference: the new string replaces the old one, and `""` clears it;
//! - `enabled` present (even `null`) replaces the purpose's `enabled`; absent keeps it;
//! - `user.metadata` is merged (shallow) into the user's metadata; `version` goes up by one;
//! - a `pending_approval` event is recorded but not merged;
//! - an unknown OUID creates the user; no id at all creates a random user;
//! - only `regulation: "gdpr"` is simulated;
//! - `$disable_integrations` is a query parameter of the request (§3), so it applies to every
//!   event of a batch; it is recorded per stored event ([`RecordedEvent`]). The same name as an
//!   event field is refused (400) \[Inf\]: the reference documents no such field, and a client
//!   that put it there would believe it had stopped the forwarding when it had not.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock, RwLock};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::config::{PmpConfig, PreferenceType};
use crate::people;

/// The most events one `POST /consents/events` takes.
pub const MAX_BATCH: usize = 100;
/// Events kept for inspection by [`Users::recent_events`].
const RECENT_EVENTS: usize = 1000;

/// A user's consent status, as `GET /consents/users` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Didomi user id.
    pub id: String,
    /// Organization id.
    pub organization_id: String,
    /// The organization's own id for the user (an email here); `null` if none was given.
    pub organization_user_id: Option<String>,
    /// Record version, one more per merged event.
    pub version: u64,
    /// ISO-8601 creation time.
    pub created_at: String,
    /// ISO-8601 time of the last change.
    pub updated_at: String,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// ISO-2 country, when an event set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// ISO-2 country of the last event, when an event set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_country: Option<String>,
    /// The consent status.
    pub consents: UserConsents,
}

/// `consents` of a user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserConsents {
    /// One entry per purpose the user has a choice on.
    pub purposes: Vec<PurposeConsent>,
    /// CMP vendors (always empty here).
    pub vendors: Vendors,
}

/// A user's choice on one purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurposeConsent {
    /// Purpose id.
    pub id: String,
    /// `true`, `false`, or `null` (no explicit choice on the purpose itself).
    pub enabled: Option<bool>,
    /// Selected values by preference id: comma-separated value ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, ConsentValue>,
}

/// One entry of a purpose's `values` map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentValue {
    /// Comma-separated selected value ids.
    pub value: String,
}

/// CMP vendor lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vendors {
    /// Vendors with consent.
    pub enabled: Vec<String>,
    /// Vendors refused.
    pub disabled: Vec<String>,
    /// Vendors with legitimate interest.
    pub enabled_li: Vec<String>,
    /// Vendors with legitimate interest refused.
    pub disabled_li: Vec<String>,
}

/// Who wrote a stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventSource {
    /// `POST /v1/consents/events`.
    Api,
    /// A change "made in Didomi's UI" ([`crate::didomi::Didomi::set_consent_as_user`]).
    DidomiConsole,
}

/// A stored event as the simulator keeps it for inspection (`GET /_sim/didomi/events`): the
/// event as the API answered it, plus how it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// The event, exactly as `POST /consents/events` returned it.
    pub event: Value,
    /// The write asked Didomi not to forward it to the organization's integrations
    /// (`?$disable_integrations=true`). Always `false` for console changes.
    pub disable_integrations: bool,
    /// Who wrote it.
    pub source: EventSource,
}

/// How a write reaches the store: its origin and its query flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Who writes (`Api` events count in `events_received`).
    pub source: EventSource,
    /// `?$disable_integrations=true` was on the request.
    pub disable_integrations: bool,
}

/// A rejected write: the HTTP status, a message and Didomi's `errors` object.
#[derive(Debug, Clone, PartialEq)]
pub struct EventError {
    /// 400 (validation) or 409 (an event id that already exists).
    pub status: u16,
    /// The first problem, in words.
    pub message: String,
    /// Every problem, keyed by the JSON path of the offending field.
    pub errors: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Seeded { index: u64, dup: bool },
    Created(usize),
}

#[derive(Debug, Default)]
struct Store {
    overlay: HashMap<Key, User>,
    created: Vec<User>,
    created_by_ouid: HashMap<String, usize>,
    created_by_id: HashMap<String, usize>,
    /// Created users removed since (by [`Users::remove`]).
    removed: HashSet<usize>,
    event_ids: HashSet<String>,
    events_received: u64,
    events_rejected: u64,
    events_integrations_disabled: u64,
    recent: VecDeque<RecordedEvent>,
}

/// All users and events of the simulated organization.
#[derive(Debug)]
pub struct Users {
    seed: u64,
    population: u64,
    org: String,
    config: PmpConfig,
    store: RwLock<Store>,
    seeded_count: Arc<OnceLock<u64>>,
}

/// Counts about users and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStats {
    /// Users created by events.
    pub created_users: u64,
    /// Seeded users changed by events.
    pub modified_users: u64,
    /// Events accepted through the API.
    pub events_received: u64,
    /// Event writes rejected (400/409), counted per request.
    pub events_rejected: u64,
    /// Events accepted through the API with `$disable_integrations=true`.
    pub events_integrations_disabled: u64,
}

/// Seeded Didomi users of a population: people on Didomi plus their duplicates.
fn seeded_users(seed: u64, population: u64) -> u64 {
    people::people(seed, population)
        .filter(|p| p.on_didomi())
        .map(|p| 1 + u64::from(p.didomi_duplicate.is_some()))
        .sum()
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Formats milliseconds since the epoch as `2024-03-01T09:12:44.120Z`.
pub fn iso(ms: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

fn now_ms() -> i64 {
    crate::Clock::default().now_ms()
}

const SLOT_MASK: u64 = 0x3FFF_FFFF_FFFF_FFFF;

impl Users {
    /// The users of a population of `population` people seeded by `seed`.
    pub fn new(seed: u64, population: u64, org: String, config: PmpConfig) -> Self {
        Self {
            seed,
            population,
            org,
            config,
            store: RwLock::new(Store::default()),
            seeded_count: Arc::new(OnceLock::new()),
        }
    }

    /// Starts counting the seeded users on a background thread, so the first
    /// [`Users::count`] on a large population does not wait for the whole scan.
    pub fn count_in_background(&self) {
        let (cell, seed, n) = (self.seeded_count.clone(), self.seed, self.population);
        let spawned =
            std::thread::Builder::new().name("didomi-user-count".into()).spawn(move || {
                cell.get_or_init(|| seeded_users(seed, n));
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot count Didomi users in the background");
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    fn seeded_id(&self, index: u64, dup: bool) -> String {
        let slot = index * 2 + u64::from(dup);
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&splitmix(self.seed ^ splitmix(slot)).to_be_bytes());
        let mask = splitmix(self.seed ^ 0x005E_ED1D);
        b[8..]
            .copy_from_slice(&(((slot ^ mask) & SLOT_MASK) | 0x8000_0000_0000_0000).to_be_bytes());
        b[6] = (b[6] & 0x0F) | 0x40;
        uuid::Uuid::from_bytes(b).to_string()
    }

    fn decode_seeded_id(&self, id: &str) -> Option<(u64, bool)> {
        let u = uuid::Uuid::parse_str(id).ok()?;
        let b = u.as_bytes();
        let low = u64::from_be_bytes(b[8..].try_into().ok()?);
        let mask = splitmix(self.seed ^ 0x005E_ED1D);
        let slot = (low ^ mask) & SLOT_MASK;
        let (index, dup) = (slot / 2, slot % 2 == 1);
        (index < self.population && self.seeded_id(index, dup) == u.to_string())
            .then_some((index, dup))
    }

    fn seeded_user(&self, index: u64, dup: bool) -> Option<User> {
        if index >= self.population || (dup && index % 89 != 5) {
            return None;
        }
        let p = people::person(self.seed, index);
        if !p.on_didomi() {
            return None;
        }
        let ouid = if dup { p.didomi_duplicate.clone()? } else { p.didomi_email.clone() };
        let created = p.created_at_ms + if dup { 86_400_000 } else { 0 };
        let purposes = if p.has_consents { self.seeded_consents(index, dup) } else { Vec::new() };
        let updated = if purposes.is_empty() { created } else { created + 3_600_000 };
        Some(User {
            id: self.seeded_id(index, dup),
            organization_id: self.org.clone(),
            organization_user_id: Some(ouid),
            version: if purposes.is_empty() { 1 } else { 2 },
            created_at: iso(created),
            updated_at: iso(updated),
            metadata: Map::new(),
            country: None,
            last_seen_country: None,
            consents: UserConsents { purposes, vendors: Vendors::default() },
        })
    }

    fn seeded_consents(&self, index: u64, dup: bool) -> Vec<PurposeConsent> {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ 0xC045_E175 ^ splitmix(index * 2 + u64::from(dup)),
        );
        let mut out = Vec::new();
        for (pi, purpose) in self.config.purposes.iter().enumerate() {
            let enabled = match rng.random_range(0..10) {
                0 => continue,
                1..=6 => Some(true),
                _ => Some(false),
            };
            let mut values = BTreeMap::new();
            if enabled == Some(true) {
                for (pref_id, parent) in &self.config.tree[pi] {
                    if let Some(parent) = parent {
                        let chosen = self.config.tree[pi].iter().any(|(id, _)| {
                            values.get(*id).is_some_and(|v: &ConsentValue| {
                                v.value.split(',').any(|x| x == *parent)
                            })
                        });
                        if !chosen {
                            continue;
                        }
                    }
                    if rng.random_range(0..2) == 0 {
                        continue;
                    }
                    let pref =
                        self.config.preference(pref_id).expect("tree names library preferences");
                    let picked: Vec<&str> = match pref.kind {
                        PreferenceType::Single => {
                            vec![pref.values[rng.random_range(0..pref.values.len())].id]
                        }
                        PreferenceType::Multi => {
                            let mut v: Vec<&str> = pref
                                .values
                                .iter()
                                .filter(|_| rng.random_range(0..2) == 0)
                                .map(|v| v.id)
                                .collect();
                            if v.is_empty() {
                                v.push(pref.values[0].id);
                            }
                            v
                        }
                    };
                    values.insert(pref.id.to_string(), ConsentValue { value: picked.join(",") });
                }
            }
            out.push(PurposeConsent { id: purpose.id.to_string(), enabled, values });
        }
        out
    }

    fn get(&self, st: &Store, key: Key) -> Option<User> {
        if matches!(key, Key::Created(i) if st.removed.contains(&i)) {
            return None;
        }
        if let Some(u) = st.overlay.get(&key) {
            return Some(u.clone());
        }
        match key {
            Key::Seeded { index, dup } => self.seeded_user(index, dup),
            Key::Created(i) => st.created.get(i).cloned(),
        }
    }

    fn find_by_ouid(&self, st: &Store, ouid: &str) -> Option<Key> {
        if let Some(i) = st.created_by_ouid.get(ouid) {
            return Some(Key::Created(*i));
        }
        let local = ouid
            .split_once('@')
            .map(|(l, _)| l)
            .or_else(|| ouid.split_once(" at ").map(|(l, _)| l))?;
        let digits = local.len() - local.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let index: u64 = local[local.len() - digits..].parse().ok()?;
        if index >= self.population {
            return None;
        }
        let p = people::person(self.seed, index);
        if !p.on_didomi() {
            return None;
        }
        if p.didomi_email == ouid {
            Some(Key::Seeded { index, dup: false })
        } else if p.didomi_duplicate.as_deref() == Some(ouid) {
            Some(Key::Seeded { index, dup: true })
        } else {
            None
        }
    }

    fn find_by_id(&self, st: &Store, id: &str) -> Option<Key> {
        if let Some(i) = st.created_by_id.get(id) {
            return Some(Key::Created(*i));
        }
        let (index, dup) = self.decode_seeded_id(id)?;
        self.seeded_user(index, dup).map(|_| Key::Seeded { index, dup })
    }

    /// Removes the user created with `organization_user_id` exactly `ouid` (a user deleted in
    /// Didomi's console); a later event for the same id creates a new user. Seeded users are
    /// not removable. Returns whether a user was removed.
    pub fn remove(&self, ouid: &str) -> bool {
        let mut st = self.write();
        let Some(i) = st.created_by_ouid.remove(ouid) else { return false };
        if let Some(id) = st.created.get(i).map(|u| u.id.clone()) {
            st.created_by_id.remove(&id);
        }
        st.removed.insert(i);
        true
    }

    /// The user whose `organization_user_id` is exactly `ouid`.
    pub fn by_organization_user_id(&self, ouid: &str) -> Option<User> {
        let st = self.read();
        self.find_by_ouid(&st, ouid).and_then(|k| self.get(&st, k))
    }

    /// The user with Didomi id `id`.
    pub fn by_id(&self, id: &str) -> Option<User> {
        let st = self.read();
        self.find_by_id(&st, id).and_then(|k| self.get(&st, k))
    }

    /// Number of users (seeded + created). The seeded count is computed once (O(population)).
    pub fn count(&self) -> u64 {
        let seeded = *self.seeded_count.get_or_init(|| seeded_users(self.seed, self.population));
        seeded + self.read().created.len() as u64
    }

    fn slot_key(&self, slot: u64) -> Key {
        if slot < self.population * 2 {
            Key::Seeded { index: slot / 2, dup: slot % 2 == 1 }
        } else {
            Key::Created((slot - self.population * 2) as usize)
        }
    }

    fn slot_exists(&self, st: &Store, slot: u64) -> bool {
        match self.slot_key(slot) {
            Key::Seeded { index, dup } => {
                if dup && index % 89 != 5 {
                    return false;
                }
                let p = people::person(self.seed, index);
                p.on_didomi() && (!dup || p.didomi_duplicate.is_some())
            }
            Key::Created(i) => i < st.created.len(),
        }
    }

    /// Up to `limit` users from slot `from` on, and the slot of the next page (`None` at the end).
    /// Costs O(limit), whatever the population.
    pub fn page(&self, from: u64, limit: usize) -> (Vec<User>, Option<u64>) {
        let st = self.read();
        let end = self.population * 2 + st.created.len() as u64;
        let mut slot = from;
        let mut out = Vec::with_capacity(limit);
        while slot < end && out.len() < limit {
            if self.slot_exists(&st, slot) {
                if let Some(u) = self.get(&st, self.slot_key(slot)) {
                    out.push(u);
                }
            }
            slot += 1;
        }
        while slot < end && !self.slot_exists(&st, slot) {
            slot += 1;
        }
        (out, (slot < end).then_some(slot))
    }

    /// Counts.
    pub fn stats(&self) -> UserStats {
        let st = self.read();
        UserStats {
            created_users: st.created.len() as u64,
            modified_users: st.overlay.keys().filter(|k| matches!(k, Key::Seeded { .. })).count()
                as u64,
            events_received: st.events_received,
            events_rejected: st.events_rejected,
            events_integrations_disabled: st.events_integrations_disabled,
        }
    }

    /// The last events accepted (at most 1000), oldest first, as the API returned them.
    pub fn recent_events(&self) -> Vec<Value> {
        self.read().recent.iter().map(|r| r.event.clone()).collect()
    }

    /// The last events stored (at most 1000), oldest first, with how each was written; only
    /// those of the user whose `organization_user_id` is exactly `ouid`, when given.
    pub fn recorded_events(&self, ouid: Option<&str>) -> Vec<RecordedEvent> {
        self.read()
            .recent
            .iter()
            .filter(|r| {
                ouid.is_none_or(|o| r.event["user"]["organization_user_id"].as_str() == Some(o))
            })
            .cloned()
            .collect()
    }

    /// Validates and applies `POST /consents/events` (one event or a batch). Atomic: either every
    /// event is applied or none is. API events count in `events_received`; `opts` is recorded
    /// with each stored event.
    ///
    /// # Errors
    /// 400 for a bad event or batch size, 409 when a supplied event `id` already exists.
    pub fn post_events(
        &self,
        body: &Value,
        org: &str,
        opts: WriteOptions,
    ) -> Result<Value, EventError> {
        let (events, batch) = match body {
            Value::Array(a) => (a.iter().collect::<Vec<_>>(), true),
            Value::Object(_) => (vec![body], false),
            _ => {
                return Err(self.reject(
                    400,
                    "The body must be an event object or an array of events",
                    Map::new(),
                ))
            }
        };
        if batch && (events.is_empty() || events.len() > MAX_BATCH) {
            return Err(self.reject(
                400,
                &format!(
                    "A batch must contain between 1 and {MAX_BATCH} events, got {}",
                    events.len()
                ),
                Map::new(),
            ));
        }
        let mut errors = Map::new();
        let mut parsed = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let prefix = if batch { format!("{i}.") } else { String::new() };
            match self.parse_event(e, org, &prefix) {
                Ok(p) => parsed.push(p),
                Err(errs) => errors.extend(errs),
            }
        }
        if !errors.is_empty() {
            let first = errors
                .values()
                .next()
                .and_then(Value::as_str)
                .unwrap_or("Invalid event")
                .to_string();
            return Err(self.reject(400, &first, errors));
        }
        let mut st = self.write();
        let mut seen = HashSet::new();
        let dups: Vec<Value> = parsed
            .iter()
            .filter_map(|p| p.id.as_ref())
            .filter(|id| st.event_ids.contains(*id) || !seen.insert((*id).clone()))
            .map(|id| json!(id))
            .collect();
        if !dups.is_empty() {
            st.events_rejected += 1;
            let mut errs = Map::new();
            errs.insert("id".into(), Value::Array(dups));
            return Err(EventError {
                status: 409,
                message: "An event with this id already exists".into(),
                errors: errs,
            });
        }
        let out: Vec<Value> =
            parsed.into_iter().map(|p| self.apply(&mut st, p, org, opts)).collect();
        Ok(if batch { Value::Array(out) } else { out.into_iter().next().unwrap_or(Value::Null) })
    }

    fn reject(&self, status: u16, message: &str, errors: Map<String, Value>) -> EventError {
        self.write().events_rejected += 1;
        EventError { status, message: message.to_string(), errors }
    }

    fn parse_event(
        &self,
        e: &Value,
        org: &str,
        prefix: &str,
    ) -> Result<Parsed, Map<String, Value>> {
        let mut errs = Map::new();
        let mut err = |path: &str, msg: String| {
            errs.insert(format!("{prefix}{path}"), Value::String(msg));
        };
        let Some(obj) = e.as_object() else {
            err("", "An event must be an object".into());
            return Err(errs);
        };
        let opt_str = |k: &str| obj.get(k).filter(|v| !v.is_null());
        for flag in ["$disable_integrations", "$generate_tcfcs"] {
            if obj.contains_key(flag) {
                err(
                    flag,
                    format!("{flag} is a query parameter of the request (?{flag}=true), not an event field"),
                );
            }
        }
        let mut p = Parsed::default();
        if let Some(v) = opt_str("id") {
            match v.as_str() {
                Some(s) if !s.is_empty() => p.id = Some(s.to_string()),
                _ => err("id", "id must be a non-empty string".into()),
            }
        }
        if let Some(v) = opt_str("organization_id") {
            if v.as_str() != Some(org) {
                err("organization_id", format!("organization_id must match the query ({org})"));
            }
        }
        if let Some(v) = opt_str("regulation") {
            if v.as_str() != Some("gdpr") {
                err("regulation", "Only the gdpr regulation is simulated".into());
            }
        }
        p.status = "confirmed".into();
        if let Some(v) = opt_str("status") {
            match v.as_str() {
                Some(s @ ("confirmed" | "pending_approval")) => p.status = s.into(),
                _ => err("status", "status must be confirmed or pending_approval".into()),
            }
        }
        if let Some(v) = opt_str("created_at") {
            match v.as_str().and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            }) {
                Some(t) => p.created_at_ms = Some((t.unix_timestamp_nanos() / 1_000_000) as i64),
                None => err("created_at", "created_at must be an ISO-8601 date-time".into()),
            }
        }
        p.metadata = opt_str("metadata").cloned();
        p.delegate = opt_str("delegate").cloned();
        if let Some(user) = opt_str("user") {
            match user.as_object() {
                Some(u) => {
                    for (k, slot) in [("id", &mut p.user_id), ("organization_user_id", &mut p.ouid)]
                    {
                        if let Some(v) = u.get(k).filter(|v| !v.is_null()) {
                            match v.as_str() {
                                Some(s) if !s.is_empty() => *slot = Some(s.to_string()),
                                _ => err(
                                    &format!("user.{k}"),
                                    format!("user.{k} must be a non-empty string"),
                                ),
                            }
                        }
                    }
                    match u.get("metadata") {
                        None | Some(Value::Null) => {}
                        Some(Value::Object(m)) => p.user_metadata = Some(m.clone()),
                        Some(_) => err("user.metadata", "user.metadata must be an object".into()),
                    }
                    for (k, slot) in [
                        ("country", &mut p.country),
                        ("last_seen_country", &mut p.last_seen_country),
                    ] {
                        if let Some(v) = u.get(k).filter(|v| !v.is_null()) {
                            *slot = v.as_str().map(str::to_string);
                        }
                    }
                }
                None => err("user", "user must be an object".into()),
            }
        }
        match obj.get("consents") {
            Some(Value::Object(c)) => {
                p.raw_consents = Value::Object(c.clone());
                match c.get("purposes") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(purposes)) => {
                        for (j, pc) in purposes.iter().enumerate() {
                            let path = format!("consents.purposes.{j}");
                            match self.parse_purpose(pc, &path) {
                                Ok(ch) => p.purposes.push(ch),
                                Err((k, m)) => err(&k, m),
                            }
                        }
                    }
                    Some(_) => {
                        err("consents.purposes", "consents.purposes must be an array".into())
                    }
                }
            }
            _ => err("consents", "consents is required and must be an object".into()),
        }
        if errs.is_empty() {
            Ok(p)
        } else {
            Err(errs)
        }
    }

    fn parse_purpose(&self, pc: &Value, path: &str) -> Result<Change, (String, String)> {
        let o =
            pc.as_object().ok_or((path.to_string(), "A purpose must be an object".to_string()))?;
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .ok_or((format!("{path}.id"), "A purpose needs an id".to_string()))?;
        let (pi, _) = self
            .config
            .purpose(id)
            .ok_or((format!("{path}.id"), format!("Unknown purpose id: {id}")))?;
        let enabled = match o.get("enabled") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                return Err((
                    format!("{path}.enabled"),
                    "enabled must be true, false or null".into(),
                ))
            }
        };
        let mut values = Vec::new();
        match o.get("values") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (pref_id, entry) in m {
                    let vpath = format!("{path}.values.{pref_id}");
                    let pref = self
                        .config
                        .preference(pref_id)
                        .ok_or((vpath.clone(), format!("Unknown preference id: {pref_id}")))?;
                    if !self.config.purpose_has_preference(pi, pref_id) {
                        return Err((
                            vpath,
                            format!("Preference {pref_id} is not configured under purpose {id}"),
                        ));
                    }
                    let s = entry.get("value").and_then(Value::as_str).ok_or((
                        format!("{vpath}.value"),
                        "value must be a string of value ids".to_string(),
                    ))?;
                    let ids: Vec<&str> =
                        if s.is_empty() { Vec::new() } else { s.split(',').collect() };
                    for v in &ids {
                        if !pref.values.iter().any(|pv| pv.id == *v) {
                            return Err((
                                format!("{vpath}.value"),
                                format!("Unknown value id {v:?} for preference {pref_id}"),
                            ));
                        }
                    }
                    if pref.kind == PreferenceType::Single && ids.len() > 1 {
                        return Err((
                            format!("{vpath}.value"),
                            format!("Preference {pref_id} takes a single value"),
                        ));
                    }
                    values.push((pref_id.clone(), s.to_string()));
                }
            }
            Some(_) => return Err((format!("{path}.values"), "values must be an object".into())),
        }
        Ok(Change { id: id.to_string(), enabled, values })
    }

    fn resolve_or_create(&self, st: &mut Store, p: &Parsed, org: &str, now: i64) -> Key {
        let found = match (&p.user_id, &p.ouid) {
            (Some(id), _) => self.find_by_id(st, id),
            (None, Some(ouid)) => self.find_by_ouid(st, ouid),
            (None, None) => None,
        };
        if let Some(k) = found {
            return k;
        }
        let id = p.user_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let ouid = p.ouid.clone().filter(|o| self.find_by_ouid(st, o).is_none());
        let user = User {
            id: id.clone(),
            organization_id: org.to_string(),
            organization_user_id: ouid.clone(),
            version: 0,
            created_at: iso(now),
            updated_at: iso(now),
            metadata: Map::new(),
            country: None,
            last_seen_country: None,
            consents: UserConsents::default(),
        };
        let i = st.created.len();
        st.created.push(user);
        st.created_by_id.insert(id, i);
        if let Some(o) = ouid {
            st.created_by_ouid.insert(o, i);
        }
        Key::Created(i)
    }

    fn apply(&self, st: &mut Store, p: Parsed, org: &str, opts: WriteOptions) -> Value {
        let now = now_ms();
        let key = self.resolve_or_create(st, &p, org, now);
        let mut user = self.get(st, key).expect("resolved users exist");
        if p.status == "confirmed" {
            if user.organization_user_id.is_none() {
                if let (Some(o), Key::Created(i)) = (&p.ouid, key) {
                    if self.find_by_ouid(st, o).is_none() {
                        user.organization_user_id = Some(o.clone());
                        st.created_by_ouid.insert(o.clone(), i);
                    }
                }
            }
            for ch in &p.purposes {
                let idx = match user.consents.purposes.iter().position(|x| x.id == ch.id) {
                    Some(i) => i,
                    None => {
                        user.consents.purposes.push(PurposeConsent {
                            id: ch.id.clone(),
                            enabled: None,
                            values: BTreeMap::new(),
                        });
                        user.consents.purposes.len() - 1
                    }
                };
                let target = &mut user.consents.purposes[idx];
                if let Some(e) = ch.enabled {
                    target.enabled = e;
                }
                for (pref, s) in &ch.values {
                    if s.is_empty() {
                        target.values.remove(pref);
                    } else {
                        target.values.insert(pref.clone(), ConsentValue { value: s.clone() });
                    }
                }
            }
            if let Some(m) = &p.user_metadata {
                user.metadata.extend(m.clone());
            }
            if p.country.is_some() {
                user.country = p.country.clone();
            }
            if p.last_seen_country.is_some() {
                user.last_seen_country = p.last_seen_country.clone();
            }
            user.version += 1;
            user.updated_at = iso(now);
        }
        let event_id = p.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut event = json!({
            "id": event_id,
            "organization_id": org,
            "created_at": iso(p.created_at_ms.unwrap_or(now)),
            "updated_at": iso(now),
            "status": p.status,
            "regulation": "gdpr",
            "user": { "id": user.id, "organization_user_id": user.organization_user_id },
            "consents": p.raw_consents,
        });
        if let Some(m) = p.metadata {
            event["metadata"] = m;
        }
        if let Some(d) = p.delegate {
            event["delegate"] = d;
        }
        match key {
            Key::Created(i) => st.created[i] = user,
            k => {
                st.overlay.insert(k, user);
            }
        }
        st.event_ids.insert(event_id);
        let disable_integrations = opts.disable_integrations && opts.source == EventSource::Api;
        if opts.source == EventSource::Api {
            st.events_received += 1;
            if disable_integrations {
                st.events_integrations_disabled += 1;
            }
        }
        if st.recent.len() == RECENT_EVENTS {
            st.recent.pop_front();
        }
        st.recent.push_back(RecordedEvent {
            event: event.clone(),
            disable_integrations,
            source: opts.source,
        });
        event
    }
}

#[derive(Debug, Default)]
struct Parsed {
    id: Option<String>,
    status: String,
    created_at_ms: Option<i64>,
    metadata: Option<Value>,
    delegate: Option<Value>,
    user_id: Option<String>,
    ouid: Option<String>,
    user_metadata: Option<Map<String, Value>>,
    country: Option<String>,
    last_seen_country: Option<String>,
    raw_consents: Value,
    purposes: Vec<Change>,
}

#[derive(Debug)]
struct Change {
    id: String,
    /// `None`: absent; `Some(None)`: explicit `null`.
    enabled: Option<Option<bool>>,
    values: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(n: u64) -> Users {
        Users::new(3, n, "org".into(), PmpConfig::seeded())
    }

    #[test]
    fn ids_and_ouids_resolve_without_an_index() {
        let u = users(500);
        let mut seen = 0;
        for p in people::people(3, 500).filter(|p| p.on_didomi()) {
            let by_ouid = u.by_organization_user_id(&p.didomi_email).expect("seeded OUID resolves");
            assert_eq!(
                by_ouid.organization_user_id.as_deref(),
                Some(p.didomi_email.as_str()),
                "exact OUID"
            );
            assert_eq!(u.by_id(&by_ouid.id), Some(by_ouid.clone()), "id round-trips");
            if let Some(d) = &p.didomi_duplicate {
                let dup = u.by_organization_user_id(d).expect("duplicate resolves");
                assert_ne!(dup.id, by_ouid.id, "the duplicate is another user");
                seen += 1;
            }
        }
        assert!(seen > 0, "the population has duplicates");
        assert!(u.by_organization_user_id("nobody99999@example.com").is_none(), "unknown OUID");
        assert!(u.by_id(&uuid::Uuid::new_v4().to_string()).is_none(), "random id is unknown");
    }

    #[test]
    fn paging_visits_every_user_once() {
        let u = users(700);
        let mut from = 0;
        let mut all = Vec::new();
        loop {
            let (page, next) = u.page(from, 100);
            assert!(page.len() <= 100, "page size bounded");
            all.extend(page.into_iter().map(|x| x.id));
            match next {
                Some(n) => from = n,
                None => break,
            }
        }
        assert_eq!(all.len() as u64, u.count(), "every user is paged");
        let distinct: HashSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "no user twice");
    }

    #[test]
    fn a_million_users_cost_nothing_until_used() {
        let t = std::time::Instant::now();
        let u = users(1_000_000);
        let (last, next) = u.page(1_999_900, 100);
        assert!(next.is_none(), "the end of the population has no next cursor");
        assert!(!last.is_empty(), "the last slots hold users");
        let (mid, next) = u.page(1_000_000, 100);
        assert_eq!(mid.len(), 100, "a full page in the middle");
        assert!(next.is_some_and(|n| n > 1_000_000), "the cursor moves forward");
        let p = (999_000..1_000_000).map(|i| people::person(3, i)).find(|p| p.on_didomi()).unwrap();
        assert!(
            u.by_organization_user_id(&p.didomi_email).is_some(),
            "a late user resolves by OUID"
        );
        // An O(population) step would take many seconds here (the full count takes ~19 s in a
        // debug build); pages and lookups must not.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(3),
            "O(page) work only: {:?}",
            t.elapsed()
        );
        assert!(u.read().overlay.is_empty(), "nothing was materialised");
    }
}
