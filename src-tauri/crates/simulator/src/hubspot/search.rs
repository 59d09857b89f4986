//! `POST …/contacts/search` (reference §3.4): filter groups (OR of ANDs; at most 5 groups,
//! 6 filters per group, 18 in total), operators `EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN
//! HAS_PROPERTY NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN`, one sort, `limit` ≤ 200
//! (default 10), `after`, `total`, and the 10,000-result paging cap (400). Number, date and
//! datetime properties compare numerically (`lastmodifieddate`, `hs_object_id`...); enumeration
//! values compare case-sensitively, other strings case-insensitively. Archived contacts never
//! appear.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Auth;
use super::contacts::READ;
use super::crm::{Crm, Selection, SEARCH_DEFAULT_PROPERTIES};
use super::errors::{parse_json, ApiError};
use super::properties::check_object_type;
use super::store::{value_of, Contact};
use super::values::parse_datetime_ms;
use super::HubSpot;

/// Largest page.
pub const MAX_LIMIT: usize = 200;
/// Results reachable by paging one query.
pub const MAX_RESULTS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    high_value: Option<Value>,
    #[serde(default)]
    values: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Sort {
    Object {
        #[serde(rename = "propertyName")]
        property_name: String,
        #[serde(default)]
        direction: Option<String>,
    },
    Text(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<Sort>,
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    after: Option<Value>,
    #[serde(default)]
    query: Option<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Numeric,
    Enum,
    Text,
}

/// Comparable form of a value for a property kind.
fn key(kind: Kind, s: &str) -> Option<f64> {
    match kind {
        Kind::Numeric => s.parse::<f64>().ok().or_else(|| parse_datetime_ms(s).map(|v| v as f64)),
        _ => None,
    }
}

fn cmp_values(kind: Kind, a: &str, b: &str) -> Ordering {
    match (key(kind, a), key(kind, b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ if kind == Kind::Enum => a.cmp(b),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn eq_values(kind: Kind, a: &str, b: &str) -> bool {
    match kind {
        Kind::Numeric => cmp_values(kind, a, b) == Ordering::Equal,
        Kind::Enum => a == b,
        Kind::Text => a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase(),
    }
}

struct Compiled {
    prop: u16,
    kind: Kind,
    op: String,
    value: String,
    high: String,
    values: Vec<String>,
}

fn kind_of(crm: &Crm, idx: u16) -> Kind {
    let p = crm.props.get(idx);
    match p.type_.as_str() {
        "number" | "date" | "datetime" => Kind::Numeric,
        "enumeration" | "bool" => Kind::Enum,
        _ => Kind::Text,
    }
}

fn matches(crm: &Crm, id: u64, c: &Contact, f: &Compiled) -> bool {
    let v = value_of(&crm.props, id, c, f.prop);
    match f.op.as_str() {
        "HAS_PROPERTY" => v.is_some(),
        "NOT_HAS_PROPERTY" => v.is_none(),
        op => {
            let Some(v) = v else {
                return op == "NEQ" || op == "NOT_IN" || op == "NOT_CONTAINS_TOKEN";
            };
            match op {
                "EQ" => eq_values(f.kind, &v, &f.value),
                "NEQ" => !eq_values(f.kind, &v, &f.value),
                "LT" => cmp_values(f.kind, &v, &f.value) == Ordering::Less,
                "LTE" => cmp_values(f.kind, &v, &f.value) != Ordering::Greater,
                "GT" => cmp_values(f.kind, &v, &f.value) == Ordering::Greater,
                "GTE" => cmp_values(f.kind, &v, &f.value) != Ordering::Less,
                "BETWEEN" => {
                    cmp_values(f.kind, &v, &f.value) != Ordering::Less
                        && cmp_values(f.kind, &v, &f.high) != Ordering::Greater
                }
                "IN" => f.values.iter().any(|x| eq_values(f.kind, &v, x)),
                "NOT_IN" => !f.values.iter().any(|x| eq_values(f.kind, &v, x)),
                "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
                    let pat = f.value.to_lowercase();
                    let hay = v.to_lowercase();
                    let hit = if let Some(mid) =
                        pat.strip_prefix('*').and_then(|p| p.strip_suffix('*'))
                    {
                        hay.contains(mid)
                    } else if let Some(suffix) = pat.strip_prefix('*') {
                        hay.split(|ch: char| !ch.is_alphanumeric() && ch != '@' && ch != '.')
                            .any(|t| t.ends_with(suffix))
                            || hay.ends_with(suffix)
                    } else if let Some(prefix) = pat.strip_suffix('*') {
                        hay.split(|ch: char| !ch.is_alphanumeric()).any(|t| t.starts_with(prefix))
                            || hay.starts_with(prefix)
                    } else {
                        hay == pat || hay.split(|ch: char| !ch.is_alphanumeric()).any(|t| t == pat)
                    };
                    (op == "CONTAINS_TOKEN") == hit
                }
                _ => false,
            }
        }
    }
}

/// `POST /crm/v3/objects/contacts/search`.
pub async fn search(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(READ)?;
    check_object_type(&object_type)?;
    let b: Body = parse_json(&body)?;
    let limit = b.limit.unwrap_or(10);
    if limit > MAX_LIMIT {
        return Err(ApiError::validation(format!(
            "limit must be at most {MAX_LIMIT}, got {limit}"
        )));
    }
    let after: usize = match &b.after {
        None => 0,
        Some(v) => text(v)
            .parse()
            .map_err(|_| ApiError::validation(format!("Invalid after: {}", text(v))))?,
    };
    if after + limit > MAX_RESULTS {
        return Err(ApiError::validation(format!(
            "Paging past {MAX_RESULTS} results is not supported: after ({after}) + limit ({limit}) must be at most {MAX_RESULTS}. Narrow the query (e.g. filter on a later lastmodifieddate) instead."
        )));
    }
    if b.filter_groups.len() > 5 {
        return Err(ApiError::validation(format!(
            "Too many filter groups: {} (at most 5)",
            b.filter_groups.len()
        )));
    }
    let total_filters: usize = b.filter_groups.iter().map(|g| g.filters.len()).sum();
    if b.filter_groups.iter().any(|g| g.filters.len() > 6) || total_filters > 18 {
        return Err(ApiError::validation("Too many filters: at most 6 per group and 18 in total"));
    }
    if b.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is supported"));
    }
    if b.query.as_ref().is_some_and(|q| q.len() > 3000) {
        return Err(ApiError::validation("query must be at most 3,000 characters"));
    }
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let mut groups = Vec::new();
    for g in &b.filter_groups {
        let mut fs = Vec::new();
        for f in &g.filters {
            let Some(idx) =
                crm.props.index(&f.property_name).filter(|&i| !crm.props.get(i).archived)
            else {
                return Err(ApiError::validation(format!(
                    "There was a problem with the request: property {} does not exist",
                    f.property_name
                )));
            };
            const OPS: &[&str] = &[
                "EQ",
                "NEQ",
                "LT",
                "LTE",
                "GT",
                "GTE",
                "BETWEEN",
                "IN",
                "NOT_IN",
                "HAS_PROPERTY",
                "NOT_HAS_PROPERTY",
                "CONTAINS_TOKEN",
                "NOT_CONTAINS_TOKEN",
            ];
            if !OPS.contains(&f.operator.as_str()) {
                return Err(ApiError::validation(format!("Unknown operator {}", f.operator)));
            }
            fs.push(Compiled {
                prop: idx,
                kind: kind_of(&crm, idx),
                op: f.operator.clone(),
                value: f.value.as_ref().map(text).unwrap_or_default(),
                high: f.high_value.as_ref().map(text).unwrap_or_default(),
                values: f.values.as_ref().map(|v| v.iter().map(text).collect()).unwrap_or_default(),
            });
        }
        groups.push(fs);
    }
    let query = b.query.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
    let q_props: Vec<u16> = ["email", "firstname", "lastname", "phone", "company"]
        .iter()
        .filter_map(|n| crm.props.index(n))
        .collect();
    let mut hits: Vec<(u64, &Contact)> = crm
        .contacts
        .iter()
        .filter(|(_, c)| !c.archived())
        .filter(|(id, c)| {
            groups.is_empty() || groups.iter().any(|g| g.iter().all(|f| matches(&crm, *id, c, f)))
        })
        .filter(|(_, c)| {
            query.as_ref().is_none_or(|q| {
                q_props
                    .iter()
                    .any(|&p| c.stored(p).is_some_and(|v| v.to_lowercase().contains(q.as_str())))
            })
        })
        .collect();
    if let Some(sort) = b.sorts.first() {
        let (name, desc) = match sort {
            Sort::Object { property_name, direction } => {
                (property_name.clone(), direction.as_deref() == Some("DESCENDING"))
            }
            Sort::Text(s) => match s.strip_prefix('-') {
                Some(n) => (n.to_string(), true),
                None => (s.clone(), false),
            },
        };
        let idx = crm.props.index(&name).ok_or_else(|| {
            ApiError::validation(format!("Cannot sort on unknown property {name}"))
        })?;
        let kind = kind_of(&crm, idx);
        let mut keyed: Vec<(Option<String>, u64, &Contact)> =
            hits.into_iter().map(|(id, c)| (value_of(&crm.props, id, c, idx), id, c)).collect();
        keyed.sort_by(|a, b| {
            let o = match (&a.0, &b.0) {
                (Some(x), Some(y)) => cmp_values(kind, x, y),
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (None, None) => Ordering::Equal,
            };
            let o = if desc { o.reverse() } else { o };
            o.then(a.1.cmp(&b.1))
        });
        hits = keyed.into_iter().map(|(_, id, c)| (id, c)).collect();
    }
    let total = hits.len();
    let sel = Selection {
        properties: b.properties.clone(),
        with_history: vec![],
        sensitive_ok: auth.sensitive_ok(),
    };
    let results: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|(id, c)| crm.render(*id, c, &sel, SEARCH_DEFAULT_PROPERTIES))
        .collect();
    let mut body = json!({ "total": total, "results": results });
    if after + limit < total {
        body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(Json(body).into_response())
}
