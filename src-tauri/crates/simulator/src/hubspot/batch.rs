//! Batch contact routes (reference §3.3): read, create, update, upsert, archive; at most 100
//! inputs (50 for a read with `propertiesWithHistory`). Answers 200 (201 for create) when every
//! input worked and 207 Multi-Status with `numErrors` and per-input `errors` otherwise, always
//! with `status: COMPLETE`, `startedAt`, `completedAt`.
//!
//! Per-input failures: read/update/upsert report each failed input in `errors` and apply the
//! rest. Create reports per input only when every input has a unique `objectWriteTraceId`
//! (§3.3); otherwise one invalid input fails the whole batch with a 400 and nothing is written.
//! Duplicate ids in one update/upsert batch are a 400.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Auth;
use super::contacts::{READ, WRITE};
use super::crm::{Selection, DEFAULT_PROPERTIES};
use super::errors::{parse_json, ApiError};
use super::properties::check_object_type;
use super::query::HsQuery;
use super::{iso, HubSpot};

/// Largest batch.
pub const MAX_INPUTS: usize = 100;
/// Largest batch read with history.
pub const MAX_HISTORY_INPUTS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    inputs: Option<Vec<Input>>,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    properties_with_history: Option<Vec<String>>,
}

/// Query of batch read (`archived`).
#[derive(Debug, Deserialize, Default)]
pub struct ArchivedQuery {
    archived: Option<bool>,
}

fn id_string(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn inputs(body: &Bytes, max: usize) -> Result<(Body, Vec<Input>), ApiError> {
    let mut b: Body = parse_json(body)?;
    let inputs =
        b.inputs.take().ok_or_else(|| ApiError::validation("Missing required field: inputs"))?;
    if inputs.len() > max {
        return Err(ApiError::validation(format!(
            "Batch input size {} exceeds the maximum of {max} inputs per request",
            inputs.len()
        ))
        .with_context("limit", vec![max.to_string()]));
    }
    Ok((b, inputs))
}

fn respond(
    started: i64,
    ok_status: StatusCode,
    results: Vec<Value>,
    errors: Vec<Value>,
) -> Response {
    let completed = chrono_now();
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(completed),
    });
    if errors.is_empty() {
        (ok_status, Json(body)).into_response()
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = Value::Array(errors);
        (StatusCode::MULTI_STATUS, Json(body)).into_response()
    }
}

fn chrono_now() -> i64 {
    crate::Clock::default().now_ms()
}

fn not_found_item(ids: Vec<String>) -> Value {
    ApiError::not_found("Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.")
        .with_context("ids", ids)
        .batch_item()
}

/// `POST …/batch/read`.
pub async fn read(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    HsQuery(q): HsQuery<ArchivedQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(READ)?;
    check_object_type(&object_type)?;
    let started = hs.clock().now_ms();
    let (b, inputs) = inputs(&body, MAX_INPUTS)?;
    let with_history = b.properties_with_history.clone().unwrap_or_default();
    if !with_history.is_empty() && inputs.len() > MAX_HISTORY_INPUTS {
        return Err(ApiError::validation(format!(
            "The maximum number of inputs supported in a batch request for property histories is {MAX_HISTORY_INPUTS}"
        )));
    }
    let sel = Selection {
        properties: b.properties.clone(),
        with_history,
        sensitive_ok: auth.sensitive_ok(),
    };
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for input in &inputs {
        let Some(id) = id_string(&input.id) else {
            return Err(ApiError::validation("Each input needs an id"));
        };
        match crm.resolve(&id, b.id_property.as_deref(), q.archived.unwrap_or(false))? {
            Some(cid) if seen.insert(cid) => {
                let c = crm.contacts.get(cid).expect("resolved");
                results.push(crm.render(cid, c, &sel, DEFAULT_PROPERTIES));
            }
            Some(_) => {}
            None => missing.push(id),
        }
    }
    let errors = if missing.is_empty() { vec![] } else { vec![not_found_item(missing)] };
    Ok(respond(started, StatusCode::OK, results, errors))
}

/// `POST …/batch/create` → 201 (207 with per-input errors when trace ids are given).
pub async fn create(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let started = hs.clock().now_ms();
    let (_, inputs) = inputs(&body, MAX_INPUTS)?;
    let traces: HashSet<&str> =
        inputs.iter().filter_map(|i| i.object_write_trace_id.as_deref()).collect();
    let per_input = traces.len() == inputs.len() && !inputs.is_empty();
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let now = hs.clock().now_ms();
    // Validate everything first (a batch without trace ids is all-or-nothing).
    let mut validated = Vec::new();
    let mut batch_emails = HashSet::new();
    for input in &inputs {
        let props = input.properties.clone().unwrap_or_default();
        let r = crm.validate(&props, None, auth.sensitive_ok()).and_then(|v| {
            if let Some(e) = props.get("email").and_then(Value::as_str).filter(|e| !e.is_empty()) {
                if let Some(existing) = crm.contacts.id_by_email(e) {
                    return Err(ApiError::conflict(format!(
                        "Contact already exists. Existing ID: {existing}"
                    )));
                }
                if !batch_emails.insert(e.to_lowercase()) {
                    return Err(ApiError::conflict(format!("Duplicate email in batch input: {e}")));
                }
            }
            Ok(v)
        });
        if let (Err(e), false) = (&r, per_input) {
            return Err(e.clone());
        }
        validated.push(r);
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (input, r) in inputs.iter().zip(validated) {
        match r.and_then(|values| crm.create(&values, &auth.source, now)) {
            Ok(id) => {
                let names: Vec<String> = input
                    .properties
                    .as_ref()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                let sel = Selection {
                    properties: Some(names),
                    with_history: vec![],
                    sensitive_ok: auth.sensitive_ok(),
                };
                let c = crm.contacts.get(id).expect("created");
                let mut v = crm.render(id, c, &sel, DEFAULT_PROPERTIES);
                if let Some(t) = &input.object_write_trace_id {
                    v["objectWriteTraceId"] = json!(t);
                }
                results.push(v);
            }
            Err(e) => {
                let mut item = e.batch_item();
                if let Some(t) = &input.object_write_trace_id {
                    item["context"]["objectWriteTraceId"] = json!([t]);
                }
                errors.push(item);
            }
        }
    }
    hs.with_stats(|s| s.records_written += results.len() as u64);
    Ok(respond(started, StatusCode::CREATED, results, errors))
}

/// `POST …/batch/update` (record ids; `idProperty` per input accepted as the spec allows).
pub async fn update(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    write_each(hs, auth, object_type, body, false).await
}

/// `POST …/batch/upsert` (`idProperty` = `email` or a unique property; results carry `new`).
pub async fn upsert(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    write_each(hs, auth, object_type, body, true).await
}

async fn write_each(
    hs: Arc<HubSpot>,
    auth: Auth,
    object_type: String,
    body: Bytes,
    upsert: bool,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let started = hs.clock().now_ms();
    let (_, inputs) = inputs(&body, MAX_INPUTS)?;
    let mut keys = HashSet::new();
    for input in &inputs {
        let Some(id) = id_string(&input.id) else {
            return Err(ApiError::validation("Each input needs an id"));
        };
        let key =
            if input.id_property.as_deref() == Some("email") { id.to_lowercase() } else { id };
        if !keys.insert((input.id_property.clone(), key.clone())) {
            return Err(ApiError::validation(format!(
                "Duplicate IDs found in batch input: [{key}]"
            ))
            .with_context("ids", vec![key]));
        }
        if upsert && input.id_property.is_none() {
            return Err(ApiError::validation("idProperty is required for each upsert input"));
        }
    }
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let now = hs.clock().now_ms();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut missing = Vec::new();
    for input in &inputs {
        let id = id_string(&input.id).expect("checked");
        let props = input.properties.clone().unwrap_or_default();
        let id_prop = input.id_property.as_deref();
        let found = match crm.resolve(&id, id_prop, false) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e.batch_item());
                continue;
            }
        };
        let outcome = match found {
            Some(cid) => crm
                .validate(&props, crm.contacts.get(cid), auth.sensitive_ok())
                .and_then(|v| crm.update(cid, &v, &auth.source, now))
                .map(|()| (cid, false)),
            None if upsert => {
                let mut props_with_id = props.clone();
                if let Some(p) = id_prop.filter(|p| *p != "hs_object_id") {
                    props_with_id.entry(p.to_string()).or_insert(Value::String(id.clone()));
                }
                crm.validate(&props_with_id, None, auth.sensitive_ok())
                    .and_then(|v| crm.create(&v, &auth.source, now))
                    .map(|cid| (cid, true))
            }
            None => {
                missing.push(id.clone());
                continue;
            }
        };
        match outcome {
            Ok((cid, new)) => {
                let names: Vec<String> = props.keys().cloned().collect();
                let sel = Selection {
                    properties: Some(names),
                    with_history: vec![],
                    sensitive_ok: auth.sensitive_ok(),
                };
                let c = crm.contacts.get(cid).expect("exists");
                let mut v = crm.render(cid, c, &sel, DEFAULT_PROPERTIES);
                if upsert {
                    v["new"] = json!(new);
                }
                if let Some(t) = &input.object_write_trace_id {
                    v["objectWriteTraceId"] = json!(t);
                }
                results.push(v);
            }
            Err(e) => {
                let mut item = e.batch_item();
                item["context"]["ids"] = json!([id]);
                if let Some(t) = &input.object_write_trace_id {
                    item["context"]["objectWriteTraceId"] = json!([t]);
                }
                errors.push(item);
            }
        }
    }
    if !missing.is_empty() {
        errors.push(not_found_item(missing));
    }
    hs.with_stats(|s| s.records_written += results.len() as u64);
    Ok(respond(started, StatusCode::OK, results, errors))
}

/// `POST …/batch/archive` → 204.
pub async fn archive(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let (_, inputs) = inputs(&body, MAX_INPUTS)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let now = hs.clock().now_ms();
    for input in &inputs {
        if let Some(n) = id_string(&input.id).and_then(|s| s.parse::<u64>().ok()) {
            crm.archive(n, now);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
