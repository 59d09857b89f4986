//! The CRM data of one portal (properties + contacts) and the operations every route shares:
//! validating a `properties` map, creating and updating contacts (with history and
//! `lastmodifieddate`), and rendering a contact as `SimplePublicObject` (reference §3.1).

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::errors::{property_values_invalid, ApiError, ErrorDetail};
use super::iso;
use super::properties::PropertyStore;
use super::store::{value_of, Contact, ContactStore, Source, SourceType, COMPUTED};
use super::values::normalize;

/// Properties returned by get/list/batch read when none are requested.
pub const DEFAULT_PROPERTIES: &[&str] = &["firstname", "lastname", "email"];
/// Properties returned by search when none are requested.
pub const SEARCH_DEFAULT_PROPERTIES: &[&str] =
    &["firstname", "lastname", "email", "createdate", "hs_object_id", "lastmodifieddate"];
/// Properties HubSpot always adds to a returned contact.
const ALWAYS: &[&str] = &["createdate", "hs_object_id", "lastmodifieddate"];

/// The CRM of one portal.
#[derive(Debug)]
pub struct Crm {
    /// Property definitions.
    pub props: PropertyStore,
    /// Contacts.
    pub contacts: ContactStore,
    /// The source of seeded values (`IMPORT`).
    pub seeded: Arc<Source>,
    /// The portal's "Didomi Changed" workflow ([`super::workflow`]).
    pub workflow: super::workflow::Workflow,
}

/// Which properties to render.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Requested properties (`None` = defaults).
    pub properties: Option<Vec<String>>,
    /// Properties whose history to include.
    pub with_history: Vec<String>,
    /// Whether sensitive values may be shown.
    pub sensitive_ok: bool,
}

impl Selection {
    /// Parses the comma-separated query forms.
    pub fn from_query(
        properties: Option<&str>,
        with_history: Option<&str>,
        sensitive_ok: bool,
    ) -> Self {
        let split = |s: &str| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        Self {
            properties: properties.map(split),
            with_history: with_history.map(split).unwrap_or_default(),
            sensitive_ok,
        }
    }
}

impl Crm {
    /// Validates a `properties` map for a write. `current` is the contact being updated.
    /// Returns `(property index, value to store)` pairs or the 400/403 error.
    pub fn validate(
        &self,
        input: &Map<String, Value>,
        current: Option<&Contact>,
        sensitive_ok: bool,
    ) -> Result<Vec<(u16, String)>, ApiError> {
        let mut details = Vec::new();
        let mut out = Vec::new();
        for (name, v) in input {
            let raw = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => {
                    details.push(ErrorDetail::property(
                        "INVALID_VALUE",
                        name,
                        format!("Property values must be strings, got {other}"),
                    ));
                    continue;
                }
            };
            let Some(idx) = self.props.index(name).filter(|&i| !self.props.get(i).archived) else {
                details.push(ErrorDetail::property(
                    "PROPERTY_DOESNT_EXIST",
                    name,
                    format!("Property \"{name}\" does not exist"),
                ));
                continue;
            };
            let p = self.props.get(idx);
            if p.read_only_value() || COMPUTED.contains(&p.name.as_str()) {
                details.push(ErrorDetail::property(
                    "READ_ONLY_VALUE",
                    name,
                    format!("\"{name}\" is a read only property; its value cannot be set."),
                ));
                continue;
            }
            if p.sensitive() && !sensitive_ok {
                return Err(ApiError::missing_scopes(&["crm.objects.contacts.sensitive.write"]));
            }
            let old = current.and_then(|c| c.stored(idx));
            match normalize(p, &raw, old) {
                Ok(v) if p.name == "lifecyclestage" && moves_backward(p, old, &v) => {
                    details.push(ErrorDetail::property(
                        "INVALID_LIFECYCLE_STAGE",
                        name,
                        format!(
                            "lifecyclestage can only move forward: clear it first to move from {} to {v}",
                            old.unwrap_or("")
                        ),
                    ));
                }
                Ok(v) => out.push((idx, v)),
                Err(d) => details.push(d),
            }
        }
        if details.is_empty() {
            Ok(out)
        } else {
            Err(property_values_invalid(details))
        }
    }

    fn email_idx(&self) -> u16 {
        self.props.index("email").expect("email is a standard property")
    }

    fn email_conflict(
        &self,
        values: &[(u16, String)],
        except: Option<u64>,
    ) -> Result<(), ApiError> {
        let email_idx = self.email_idx();
        if let Some((_, e)) = values.iter().find(|(p, v)| *p == email_idx && !v.is_empty()) {
            if let Some(existing) = self.contacts.id_by_email(e) {
                if Some(existing) != except {
                    return Err(ApiError::conflict(format!(
                        "Contact already exists. Existing ID: {existing}"
                    ))
                    .with_context("existingId", vec![existing.to_string()]));
                }
            }
        }
        // Other unique-value properties (e.g. `sim_unique_id`): a linear scan, fine for the
        // rare writes of such properties.
        for (p, v) in values.iter().filter(|(p, v)| *p != email_idx && !v.is_empty()) {
            if !self.props.get(*p).has_unique_value {
                continue;
            }
            let clash = self.contacts.iter().find(|(id, c)| {
                Some(*id) != except && !c.archived() && c.stored(*p) == Some(v.as_str())
            });
            if let Some((existing, _)) = clash {
                let name = &self.props.get(*p).name;
                return Err(ApiError::conflict(format!(
                    "A contact with the value {v} for the unique property {name} already exists. Existing ID: {existing}"
                ))
                .with_context("existingId", vec![existing.to_string()]));
            }
        }
        Ok(())
    }

    /// Creates a contact from validated values; checks email uniqueness.
    pub fn create(
        &mut self,
        values: &[(u16, String)],
        source: &Arc<Source>,
        now: i64,
    ) -> Result<u64, ApiError> {
        self.email_conflict(values, None)?;
        let mut c = Contact::new(now);
        let mut set = Vec::new();
        for (p, v) in values {
            if !v.is_empty() && c.change(*p, v, now, source, &self.seeded) {
                set.push(*p);
            }
        }
        c.updated_ms = now;
        let id = self.contacts.push(c);
        super::workflow::after_change(self, id, &set, now);
        Ok(id)
    }

    /// Applies validated values to contact `id`; checks email uniqueness; bumps
    /// `lastmodifieddate` when something changed.
    pub fn update(
        &mut self,
        id: u64,
        values: &[(u16, String)],
        source: &Arc<Source>,
        now: i64,
    ) -> Result<(), ApiError> {
        self.email_conflict(values, Some(id))?;
        let email_idx = self.email_idx();
        let seeded = self.seeded.clone();
        let Some(c) = self.contacts.get(id).filter(|c| !c.archived()) else {
            return Err(not_found(&id.to_string()));
        };
        let old_email = c.stored(email_idx).map(str::to_string);
        let email_changes =
            values.iter().any(|(p, v)| *p == email_idx && Some(v.as_str()) != old_email.as_deref());
        if email_changes {
            if let Some(e) = &old_email {
                self.contacts.unindex_email(e, id);
            }
        }
        let c = self.contacts.get_mut(id).expect("checked above");
        let mut changed_props = Vec::new();
        for (p, v) in values {
            if c.change(*p, v, now, source, &seeded) {
                changed_props.push(*p);
            }
        }
        if !changed_props.is_empty() {
            c.updated_ms = c.updated_ms.max(now);
        }
        let new_email = c.stored(email_idx).map(str::to_string);
        if email_changes {
            if let Some(e) = new_email {
                self.contacts.reindex_email(&e, id);
            }
        }
        super::workflow::after_change(self, id, &changed_props, now);
        Ok(())
    }

    /// Archives contact `id`.
    pub fn archive(&mut self, id: u64, now: i64) -> bool {
        let email_idx = self.email_idx();
        let Some(c) = self.contacts.get_mut(id).filter(|c| !c.archived()) else { return false };
        c.archived_ms = now;
        let email = c.stored(email_idx).map(str::to_string);
        if let Some(e) = email {
            self.contacts.unindex_email(&e, id);
        }
        true
    }

    /// Resolves an id given `idProperty` (`None`/`hs_object_id` = record id; `email` or any
    /// unique property otherwise). Archived contacts only when `archived`.
    pub fn resolve(
        &self,
        id: &str,
        id_property: Option<&str>,
        archived: bool,
    ) -> Result<Option<u64>, ApiError> {
        match id_property {
            None | Some("hs_object_id") => Ok(id
                .parse::<u64>()
                .ok()
                .filter(|&n| self.contacts.get(n).is_some_and(|c| c.archived() == archived))),
            Some("email") => Ok(if archived { None } else { self.contacts.id_by_email(id) }),
            Some(other) => {
                let Some(idx) =
                    self.props.index(other).filter(|&i| self.props.get(i).has_unique_value)
                else {
                    return Err(ApiError::validation(format!(
                        "Property {other} is not a unique identifier property and cannot be used as idProperty"
                    )));
                };
                Ok(self
                    .contacts
                    .iter()
                    .find(|(_, c)| c.archived() == archived && c.stored(idx) == Some(id))
                    .map(|(cid, _)| cid))
            }
        }
    }

    /// Renders a contact as `SimplePublicObject` (with `propertiesWithHistory` when asked).
    pub fn render(&self, id: u64, c: &Contact, sel: &Selection, defaults: &[&str]) -> Value {
        let mut props = Map::new();
        let wanted: Vec<&str> = match &sel.properties {
            Some(list) => list.iter().map(String::as_str).collect(),
            None => defaults.to_vec(),
        };
        for name in wanted.iter().chain(ALWAYS.iter()) {
            if props.contains_key(*name) {
                continue;
            }
            let Some(idx) = self.props.index(name).filter(|&i| !self.props.get(i).archived) else {
                continue;
            };
            let p = self.props.get(idx);
            let v = if p.sensitive() && !sel.sensitive_ok {
                None
            } else {
                value_of(&self.props, id, c, idx)
            };
            props.insert((*name).to_string(), v.map_or(Value::Null, Value::String));
        }
        let mut o = Map::new();
        o.insert("id".into(), json!(id.to_string()));
        o.insert("properties".into(), Value::Object(props));
        if !sel.with_history.is_empty() {
            let mut hist = Map::new();
            for name in &sel.with_history {
                let Some(idx) = self.props.index(name).filter(|&i| !self.props.get(i).archived)
                else {
                    continue;
                };
                if self.props.get(idx).sensitive() && !sel.sensitive_ok {
                    continue;
                }
                let entries: Vec<Value> = if COMPUTED.contains(&name.as_str()) {
                    value_of(&self.props, id, c, idx)
                        .map(|v| {
                            vec![json!({"value": v, "timestamp": iso(c.updated_ms), "sourceType": "CALCULATED", "sourceId": "CalculatedPropertyComputer"})]
                        })
                        .unwrap_or_default()
                } else {
                    c.history_of(idx, &self.seeded)
                        .into_iter()
                        .map(|h| {
                            let mut e = Map::new();
                            e.insert("value".into(), json!(&*h.value));
                            e.insert("timestamp".into(), json!(iso(h.ts)));
                            e.insert("sourceType".into(), json!(h.source.kind.as_str()));
                            e.insert("sourceId".into(), json!(h.source.id));
                            if let Some(l) = &h.source.label {
                                e.insert("sourceLabel".into(), json!(l));
                            }
                            if let Some(u) = h.source.user_id {
                                e.insert("updatedByUserId".into(), json!(u));
                            }
                            Value::Object(e)
                        })
                        .collect()
                };
                hist.insert(name.clone(), Value::Array(entries));
            }
            o.insert("propertiesWithHistory".into(), Value::Object(hist));
        }
        o.insert("createdAt".into(), json!(iso(c.created_ms)));
        o.insert("updatedAt".into(), json!(iso(c.updated_ms)));
        o.insert("archived".into(), json!(c.archived()));
        if c.archived() {
            o.insert("archivedAt".into(), json!(iso(c.archived_ms)));
        }
        Value::Object(o)
    }
}

/// `true` when a lifecycle stage change goes to an earlier option (HubSpot only lets it move
/// forward unless cleared first, reference §3.2).
fn moves_backward(p: &super::properties::Property, old: Option<&str>, new: &str) -> bool {
    let pos = |v: &str| p.options.iter().position(|o| o.value == v);
    match (old.and_then(pos), pos(new)) {
        (Some(a), Some(b)) => b < a,
        _ => false,
    }
}

/// 404 for a contact that does not exist.
pub fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Object not found.  objectId are usually numeric. (id: {id})"),
    )
    .with_context("id", vec![id.to_string()])
}

/// The source for the seeded values.
pub fn seeded_source() -> Arc<Source> {
    Arc::new(Source {
        kind: SourceType::Import,
        id: "sim-seed-import".into(),
        label: Some("Seeded import".into()),
        user_id: None,
    })
}
