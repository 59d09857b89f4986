//! Single-contact routes and the list (reference §3.1–§3.2): create, get (by id or
//! `idProperty`), update, archive, and `GET …/contacts?limit&after` paging (default 10, max 100).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Auth;
use super::crm::{not_found, Selection, DEFAULT_PROPERTIES};
use super::errors::{parse_json, ApiError};
use super::properties::check_object_type;
use super::query::HsQuery;
use super::{batch, search, HubSpot};

/// Read scope.
pub const READ: &[&str] = &["crm.objects.contacts.read"];
/// Write scope.
pub const WRITE: &[&str] = &["crm.objects.contacts.write"];

/// Query of get/list.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReadQuery {
    properties: Option<String>,
    properties_with_history: Option<String>,
    archived: Option<bool>,
    id_property: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// Body of a create or update.
#[derive(Debug, Deserialize)]
pub struct WriteBody {
    /// The values.
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
}

async fn list(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    HsQuery(q): HsQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    auth.require_any(READ)?;
    check_object_type(&object_type)?;
    let limit: usize = match q.limit.as_deref() {
        None => 10,
        Some(s) => s.parse().ok().filter(|&n| (1..=100).contains(&n)).ok_or_else(|| {
            ApiError::validation(format!("limit must be between 1 and 100, got {s}"))
        })?,
    };
    let after: u64 = match q.after.as_deref() {
        None | Some("") => 0,
        Some(s) => {
            s.parse().map_err(|_| ApiError::validation(format!("Invalid after cursor: {s}")))?
        }
    };
    let archived = q.archived.unwrap_or(false);
    let sel = Selection::from_query(
        q.properties.as_deref(),
        q.properties_with_history.as_deref(),
        auth.sensitive_ok(),
    );
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::with_capacity(limit);
    let mut next = None;
    for (id, c) in crm.contacts.iter_after(after).filter(|(_, c)| c.archived() == archived) {
        if results.len() == limit {
            next = Some(
                results
                    .last()
                    .and_then(|r: &Value| r["id"].as_str().map(str::to_string))
                    .unwrap_or_default(),
            );
            let _ = id;
            break;
        }
        results.push(crm.render(id, c, &sel, DEFAULT_PROPERTIES));
    }
    let mut body = json!({ "results": results });
    if let Some(after) = next {
        body["paging"] = json!({"next": {
            "after": after,
            "link": format!("{}/crm/v3/objects/contacts?after={after}&limit={limit}", hs.base_url()),
        }});
    }
    Ok(Json(body).into_response())
}

async fn get_one(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, id)): Path<(String, String)>,
    HsQuery(q): HsQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    auth.require_any(READ)?;
    check_object_type(&object_type)?;
    let sel = Selection::from_query(
        q.properties.as_deref(),
        q.properties_with_history.as_deref(),
        auth.sensitive_ok(),
    );
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let found = crm.resolve(&id, q.id_property.as_deref(), q.archived.unwrap_or(false))?;
    let Some(cid) = found else { return Err(not_found(&id)) };
    let c = crm.contacts.get(cid).ok_or_else(|| not_found(&id))?;
    Ok(Json(crm.render(cid, c, &sel, DEFAULT_PROPERTIES)).into_response())
}

async fn create(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let body: WriteBody = parse_json(&body)?;
    let input = body.properties.unwrap_or_default();
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let values = crm.validate(&input, None, auth.sensitive_ok())?;
    let now = hs.clock().now_ms();
    let id = crm.create(&values, &auth.source, now)?;
    hs.with_stats(|s| s.records_written += 1);
    let names: Vec<String> = input.keys().cloned().collect();
    let sel = Selection {
        properties: Some(names),
        with_history: vec![],
        sensitive_ok: auth.sensitive_ok(),
    };
    let c = crm.contacts.get(id).expect("just created");
    Ok((StatusCode::CREATED, Json(crm.render(id, c, &sel, DEFAULT_PROPERTIES))).into_response())
}

async fn update(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, id)): Path<(String, String)>,
    HsQuery(q): HsQuery<ReadQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let body: WriteBody = parse_json(&body)?;
    let input = body.properties.unwrap_or_default();
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let cid = crm.resolve(&id, q.id_property.as_deref(), false)?.ok_or_else(|| not_found(&id))?;
    let values = crm.validate(&input, crm.contacts.get(cid), auth.sensitive_ok())?;
    let now = hs.clock().now_ms();
    crm.update(cid, &values, &auth.source, now)?;
    hs.with_stats(|s| s.records_written += 1);
    let names: Vec<String> = input.keys().cloned().collect();
    let sel = Selection {
        properties: Some(names),
        with_history: vec![],
        sensitive_ok: auth.sensitive_ok(),
    };
    let c = crm.contacts.get(cid).expect("exists");
    Ok(Json(crm.render(cid, c, &sel, DEFAULT_PROPERTIES)).into_response())
}

async fn archive(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require_any(WRITE)?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    // HubSpot answers 204 even for an id that does not exist.
    if let Ok(n) = id.parse::<u64>() {
        crm.archive(n, hs.clock().now_ms());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The contact routes under a prefix ending in `/{objectType}`.
pub fn routes(prefix: &str) -> axum::Router<Arc<HubSpot>> {
    axum::Router::new()
        .route(prefix, get(list).post(create))
        .route(&format!("{prefix}/search"), post(search::search))
        .route(&format!("{prefix}/batch/read"), post(batch::read))
        .route(&format!("{prefix}/batch/create"), post(batch::create))
        .route(&format!("{prefix}/batch/update"), post(batch::update))
        .route(&format!("{prefix}/batch/upsert"), post(batch::upsert))
        .route(&format!("{prefix}/batch/archive"), post(batch::archive))
        .route(&format!("{prefix}/{{contactId}}"), get(get_one).patch(update).delete(archive))
}
