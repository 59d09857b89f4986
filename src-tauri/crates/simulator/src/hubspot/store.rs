//! The contacts of one portal, stored compactly so 1,000,000 of them fit in modest memory.
//!
//! A contact is its timestamps plus one boxed byte string holding its non-empty values as
//! `(property index: u16, length: u32, UTF-8 bytes)` entries; history entries exist only for
//! values changed after seeding (a seeded value's history is synthesized from the contact's
//! creation). Computed properties (`hs_object_id`, `createdate`, `lastmodifieddate`,
//! `hs_lastmodifieddate`, `hs_email_domain`, `hs_full_name_or_email`) are derived when read.
//! The email index keys a 64-bit hash of the lowercased email to the contact, with an overflow
//! map for (unlikely) collisions.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::properties::PropertyStore;

/// Ids start here (HubSpot ids are plain decimal strings).
pub const ID_BASE: u64 = 1001;

/// Where a value change came from (`sourceType` in `propertiesWithHistory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    /// An app writing through the API (OAuth app or private app).
    Integration,
    /// A user in the HubSpot UI.
    CrmUi,
    /// A workflow action.
    Workflow,
    /// An import (how the seeded values arrived).
    Import,
}

impl SourceType {
    /// The `sourceType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Integration => "INTEGRATION",
            SourceType::CrmUi => "CRM_UI",
            SourceType::Workflow => "WORKFLOW",
            SourceType::Import => "IMPORT",
        }
    }
}

/// The origin of a write: type, id and label, plus the acting user when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `sourceType`.
    pub kind: SourceType,
    /// `sourceId` (e.g. the app id, `userId:123`, the workflow id).
    pub id: String,
    /// `sourceLabel`.
    pub label: Option<String>,
    /// `updatedByUserId`.
    pub user_id: Option<u64>,
}

/// One history entry.
#[derive(Debug, Clone)]
pub struct Hist {
    /// Property index.
    pub prop: u16,
    /// Timestamp, ms.
    pub ts: i64,
    /// The value set (empty = cleared).
    pub value: Box<str>,
    /// Where it came from (shared among many entries).
    pub source: std::sync::Arc<Source>,
}

/// One contact.
#[derive(Debug, Clone)]
pub struct Contact {
    /// Creation time, ms.
    pub created_ms: i64,
    /// Last modification time, ms.
    pub updated_ms: i64,
    /// Archive time, ms (0 = not archived).
    pub archived_ms: i64,
    values: Box<[u8]>,
    // Boxed on purpose so a contact that was never changed pays 8 bytes, not 24 (1M contacts).
    #[allow(clippy::box_collection)]
    history: Option<Box<Vec<Hist>>>,
}

impl Contact {
    /// A contact with no values.
    pub fn new(created_ms: i64) -> Self {
        Self {
            created_ms,
            updated_ms: created_ms,
            archived_ms: 0,
            values: Box::new([]),
            history: None,
        }
    }

    /// `true` once archived.
    pub fn archived(&self) -> bool {
        self.archived_ms != 0
    }

    /// The stored value of a property (computed properties excluded).
    pub fn stored(&self, prop: u16) -> Option<&str> {
        self.entries().find(|(p, _)| *p == prop).map(|(_, v)| v)
    }

    /// Every stored `(property, value)`.
    pub fn entries(&self) -> impl Iterator<Item = (u16, &str)> {
        let mut pos = 0usize;
        let bytes = &self.values;
        std::iter::from_fn(move || {
            if pos + 6 > bytes.len() {
                return None;
            }
            let prop = u16::from_le_bytes([bytes[pos], bytes[pos + 1]]);
            let len = u32::from_le_bytes([
                bytes[pos + 2],
                bytes[pos + 3],
                bytes[pos + 4],
                bytes[pos + 5],
            ]) as usize;
            let start = pos + 6;
            pos = start + len;
            // Only ever written from &str, so always valid UTF-8.
            Some((prop, std::str::from_utf8(&bytes[start..start + len]).unwrap_or("")))
        })
    }

    /// Sets (or with `None`/empty, removes) a stored value without touching history.
    pub fn put(&mut self, prop: u16, value: Option<&str>) {
        let mut out = Vec::with_capacity(self.values.len() + value.map_or(0, |v| v.len() + 6));
        for (p, v) in self.entries() {
            if p != prop {
                encode(&mut out, p, v);
            }
        }
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            encode(&mut out, prop, v);
        }
        self.values = out.into_boxed_slice();
    }

    /// History entries of a property, newest first; synthesizes the seeded value's entry.
    pub fn history_of(&self, prop: u16, seeded: &std::sync::Arc<Source>) -> Vec<Hist> {
        let mut out: Vec<Hist> = self.hist().iter().filter(|h| h.prop == prop).cloned().collect();
        if out.is_empty() {
            if let Some(v) = self.stored(prop) {
                out.push(Hist {
                    prop,
                    ts: self.created_ms,
                    value: v.into(),
                    source: seeded.clone(),
                });
            }
        }
        // Newest first; among equal timestamps the later write first.
        out.reverse();
        out.sort_by_key(|h| std::cmp::Reverse(h.ts));
        out
    }

    /// Changes a value, recording history (and the synthesized seed entry first, so history
    /// stays complete). Returns `true` if the value changed.
    pub fn change(
        &mut self,
        prop: u16,
        value: &str,
        ts: i64,
        source: &std::sync::Arc<Source>,
        seeded: &std::sync::Arc<Source>,
    ) -> bool {
        let old = self.stored(prop).unwrap_or("");
        if old == value {
            return false;
        }
        let created_ms = self.created_ms;
        let seed_entry = (!old.is_empty() && !self.hist().iter().any(|h| h.prop == prop))
            .then(|| Hist { prop, ts: created_ms, value: old.into(), source: seeded.clone() });
        self.put(prop, Some(value));
        let history = self.history.get_or_insert_with(Default::default);
        history.extend(seed_entry);
        history.push(Hist { prop, ts, value: value.into(), source: source.clone() });
        self.updated_ms = self.updated_ms.max(ts);
        true
    }

    fn hist(&self) -> &[Hist] {
        self.history.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Approximate heap bytes used (for the memory test/benchmark).
    pub fn heap_bytes(&self) -> usize {
        self.values.len()
            + self.history.as_ref().map_or(0, |h| {
                std::mem::size_of::<Vec<Hist>>()
                    + h.capacity() * std::mem::size_of::<Hist>()
                    + h.iter().map(|x| x.value.len()).sum::<usize>()
            })
    }
}

fn encode(out: &mut Vec<u8>, prop: u16, v: &str) {
    out.extend_from_slice(&prop.to_le_bytes());
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    out.extend_from_slice(v.as_bytes());
}

/// Hash of a lowercased email for the index.
pub fn email_key(email: &str) -> u64 {
    let mut h = DefaultHasher::new();
    email.to_lowercase().hash(&mut h);
    h.finish()
}

/// All contacts of a portal and the email index.
#[derive(Debug, Default)]
pub struct ContactStore {
    contacts: Vec<Contact>,
    by_email: HashMap<u64, u32>,
    overflow: HashMap<String, u32>,
    email_prop: u16,
}

impl ContactStore {
    /// An empty store; `email_prop` is the index of `email`.
    pub fn new(email_prop: u16) -> Self {
        Self { email_prop, ..Self::default() }
    }

    /// Number of contacts, archived ones included.
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// Reserves room for `n` more contacts.
    pub fn reserve(&mut self, n: usize) {
        self.contacts.reserve(n);
        self.by_email.reserve(n);
    }

    /// The contact with an id.
    pub fn get(&self, id: u64) -> Option<&Contact> {
        let i = id.checked_sub(ID_BASE)?;
        self.contacts.get(usize::try_from(i).ok()?)
    }

    /// Mutable access by id.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Contact> {
        let i = id.checked_sub(ID_BASE)?;
        self.contacts.get_mut(usize::try_from(i).ok()?)
    }

    /// Ids and contacts in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Contact)> {
        self.contacts.iter().enumerate().map(|(i, c)| (ID_BASE + i as u64, c))
    }

    /// Ids and contacts with id > `after`, in id order.
    pub fn iter_after(&self, after: u64) -> impl Iterator<Item = (u64, &Contact)> {
        let start = after.saturating_add(1).saturating_sub(ID_BASE) as usize;
        self.contacts.iter().enumerate().skip(start).map(|(i, c)| (ID_BASE + i as u64, c))
    }

    /// Adds a contact; returns its id. The email (if any) must be free.
    pub fn push(&mut self, c: Contact) -> u64 {
        let idx = self.contacts.len() as u32;
        let email = c.stored(self.email_prop).map(str::to_string);
        self.contacts.push(c);
        if let Some(e) = email {
            self.index_email(&e, idx);
        }
        ID_BASE + idx as u64
    }

    fn index_email(&mut self, email: &str, idx: u32) {
        let key = email_key(email);
        match self.by_email.get(&key) {
            Some(&other) if other != idx => {
                self.overflow.insert(email.to_lowercase(), idx);
            }
            _ => {
                self.by_email.insert(key, idx);
            }
        }
    }

    /// Removes an email from the index (before it changes or when archiving).
    pub fn unindex_email(&mut self, email: &str, id: u64) {
        let Some(idx) = id.checked_sub(ID_BASE).map(|i| i as u32) else { return };
        let key = email_key(email);
        if self.by_email.get(&key) == Some(&idx) {
            self.by_email.remove(&key);
            // Promote an overflow entry with the same hash, if any.
            if let Some((e, &j)) = self.overflow.iter().find(|(e, _)| email_key(e) == key) {
                let e = e.clone();
                self.overflow.remove(&e);
                self.by_email.insert(key, j);
            }
        } else {
            self.overflow.remove(&email.to_lowercase());
        }
    }

    /// Adds an email to the index for a contact id.
    pub fn reindex_email(&mut self, email: &str, id: u64) {
        if let Some(idx) = id.checked_sub(ID_BASE) {
            self.index_email(email, idx as u32);
        }
    }

    /// The non-archived contact whose email equals `email` case-insensitively.
    pub fn id_by_email(&self, email: &str) -> Option<u64> {
        let lower = email.to_lowercase();
        let check = |idx: u32| {
            let c = self.contacts.get(idx as usize)?;
            let e = c.stored(self.email_prop)?;
            (e.to_lowercase() == lower && !c.archived()).then_some(ID_BASE + idx as u64)
        };
        self.by_email
            .get(&email_key(email))
            .and_then(|&i| check(i))
            .or_else(|| self.overflow.get(&lower).and_then(|&i| check(i)))
    }

    /// Approximate heap bytes (contacts, values, history, index).
    pub fn heap_bytes(&self) -> usize {
        self.contacts.capacity() * std::mem::size_of::<Contact>()
            + self.contacts.iter().map(Contact::heap_bytes).sum::<usize>()
            + self.by_email.capacity() * (8 + 4 + 8)
    }
}

/// Names of the properties computed on read.
pub const COMPUTED: &[&str] = &[
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
    "hs_email_domain",
    "hs_full_name_or_email",
];

/// The value of a property on a contact, computed ones included (`None` = unset).
pub fn value_of(props: &PropertyStore, id: u64, c: &Contact, prop: u16) -> Option<String> {
    let p = props.get(prop);
    match p.name.as_str() {
        "hs_object_id" => Some(id.to_string()),
        "createdate" => Some(super::iso(c.created_ms)),
        "lastmodifieddate" | "hs_lastmodifieddate" => Some(super::iso(c.updated_ms)),
        "hs_email_domain" => props
            .index("email")
            .and_then(|e| c.stored(e))
            .and_then(|e| e.rsplit_once('@').map(|(_, d)| d.to_lowercase())),
        "hs_full_name_or_email" => {
            let first = props.index("firstname").and_then(|i| c.stored(i)).unwrap_or("");
            let last = props.index("lastname").and_then(|i| c.stored(i)).unwrap_or("");
            let full = format!("{first} {last}").trim().to_string();
            if full.is_empty() {
                props.index("email").and_then(|e| c.stored(e)).map(str::to_string)
            } else {
                Some(full)
            }
        }
        _ => c.stored(prop).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn src(kind: SourceType) -> Arc<Source> {
        Arc::new(Source { kind, id: "x".into(), label: None, user_id: None })
    }

    #[test]
    fn compact_values_round_trip() {
        let mut c = Contact::new(5);
        c.put(3, Some("a@b.c"));
        c.put(7, Some("Ada"));
        c.put(3, Some("x@y.z"));
        c.put(9, Some(""));
        assert_eq!(c.stored(3), Some("x@y.z"), "a value can be replaced");
        assert_eq!(c.stored(7), Some("Ada"), "other values survive a replace");
        assert_eq!(c.stored(9), None, "empty values are not stored");
        c.put(7, None);
        assert_eq!(c.entries().count(), 1, "removing leaves one entry");
    }

    #[test]
    fn history_keeps_seed_value() {
        let seeded = src(SourceType::Import);
        let mut c = Contact::new(100);
        c.put(1, Some("old"));
        assert!(
            c.change(1, "new", 200, &src(SourceType::CrmUi), &seeded),
            "a different value is a change"
        );
        assert!(
            !c.change(1, "new", 300, &src(SourceType::CrmUi), &seeded),
            "the same value is no change"
        );
        let h = c.history_of(1, &seeded);
        assert_eq!(h.len(), 2, "seed entry plus one change");
        assert_eq!((&*h[0].value, h[0].source.kind), ("new", SourceType::CrmUi), "newest first");
        assert_eq!((&*h[1].value, h[1].ts), ("old", 100), "seed value at creation time");
        assert_eq!(c.updated_ms, 200, "lastmodified follows the change");
    }

    #[test]
    fn email_index_case_insensitive() {
        let mut s = ContactStore::new(0);
        let mut c = Contact::new(1);
        c.put(0, Some("Ada@Example.com"));
        let id = s.push(c);
        assert_eq!(s.id_by_email("ada@example.COM"), Some(id), "lookup ignores case");
        s.unindex_email("Ada@Example.com", id);
        assert_eq!(s.id_by_email("ada@example.com"), None, "unindexed email is gone");
    }
}
