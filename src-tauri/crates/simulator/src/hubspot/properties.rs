//! Contact properties and property groups (reference §2): the model of §2.1, the type/fieldType
//! matrix of §2.2 enforced on create and update, and the `/crm/v3/properties/contacts` routes.
//!
//! Property names are interned: each property gets a `u16` index that contacts use to store
//! their values compactly; an archived property keeps its index.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Auth;
use super::errors::{parse_json, ApiError};
use super::query::HsQuery;
use super::{iso, HubSpot};

/// `modificationMetadata` of a property.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ModificationMetadata {
    /// Whether the property can be archived.
    pub archivable: bool,
    /// Whether the definition (label, type, options...) is read-only.
    pub read_only_definition: bool,
    /// Whether values are read-only (HubSpot computes or owns them): API writes are rejected.
    pub read_only_value: bool,
    /// Whether the options are read-only.
    #[serde(default)]
    pub read_only_options: bool,
}

/// An option of an enumeration (or bool) property.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PropOption {
    /// Display label.
    pub label: String,
    /// Internal value: what the API writes and reads.
    pub value: String,
    /// Hidden in forms.
    #[serde(default)]
    pub hidden: bool,
    /// Position.
    #[serde(default)]
    pub display_order: i32,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A property definition as the API returns it (§2.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    /// Internal name.
    pub name: String,
    /// Display label.
    pub label: String,
    /// Data type (`string`, `number`, `date`, `datetime`, `enumeration`, `bool`, ...).
    #[serde(rename = "type")]
    pub type_: String,
    /// Field type (`text`, `textarea`, `select`, `booleancheckbox`, ...).
    pub field_type: String,
    /// Group.
    pub group_name: String,
    /// Description.
    pub description: String,
    /// Options (empty for non-enumerations).
    pub options: Vec<PropOption>,
    /// Position in its group.
    pub display_order: i32,
    /// Hidden in the UI.
    pub hidden: bool,
    /// Usable in forms.
    pub form_field: bool,
    /// Unique-value property (usable as `idProperty`).
    pub has_unique_value: bool,
    /// Computed by HubSpot.
    pub calculated: bool,
    /// Options come from elsewhere.
    pub external_options: bool,
    /// Built-in property.
    pub hubspot_defined: bool,
    /// Archived.
    pub archived: bool,
    /// Number display hint (numbers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_display_hint: Option<String>,
    /// Text display hint (strings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_display_hint: Option<String>,
    /// Date display hint (date/datetime only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_display_hint: Option<String>,
    /// Calculation formula (calculated custom properties).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calculation_formula: Option<String>,
    /// Referenced object type (e.g. `OWNER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_object_type: Option<String>,
    /// `non_sensitive`, `sensitive` or `highly_sensitive`.
    pub data_sensitivity: String,
    /// Categories of sensitive data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive_data_categories: Option<Vec<String>>,
    /// What may be changed.
    pub modification_metadata: ModificationMetadata,
    /// Creation time (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Creating user (custom properties).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_user_id: Option<String>,
    /// Last updating user (custom properties).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_user_id: Option<String>,
    /// Archive time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
}

impl Property {
    /// `true` when API writes of values are rejected (`READ_ONLY_VALUE`).
    pub fn read_only_value(&self) -> bool {
        self.modification_metadata.read_only_value
    }

    /// `true` for a sensitive or highly sensitive property.
    pub fn sensitive(&self) -> bool {
        self.data_sensitivity != "non_sensitive"
    }
}

/// A property group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroup {
    /// Internal name.
    pub name: String,
    /// Display label.
    pub label: String,
    /// Position.
    pub display_order: i32,
    /// Archived.
    pub archived: bool,
}

/// The contact properties and groups of one portal.
#[derive(Debug, Clone, Default)]
pub struct PropertyStore {
    props: Vec<Property>,
    by_name: HashMap<String, u16>,
    groups: Vec<PropertyGroup>,
}

impl PropertyStore {
    /// Index of a property by name (archived ones included).
    pub fn index(&self, name: &str) -> Option<u16> {
        self.by_name.get(name).copied()
    }

    /// The property at an index.
    pub fn get(&self, idx: u16) -> &Property {
        &self.props[idx as usize]
    }

    /// The property called `name` (archived ones included).
    pub fn by_name(&self, name: &str) -> Option<&Property> {
        self.index(name).map(|i| self.get(i))
    }

    /// Every property, archived included.
    pub fn all(&self) -> &[Property] {
        &self.props
    }

    /// Every group.
    pub fn groups(&self) -> &[PropertyGroup] {
        &self.groups
    }

    /// Adds a property (no validation; callers validate). Returns its index.
    pub fn insert(&mut self, p: Property) -> u16 {
        let idx = u16::try_from(self.props.len()).expect("fewer than 65,536 properties");
        self.by_name.insert(p.name.clone(), idx);
        self.props.push(p);
        idx
    }

    /// Mutable access to a property.
    pub fn get_mut(&mut self, idx: u16) -> &mut Property {
        &mut self.props[idx as usize]
    }

    /// Adds a group.
    pub fn insert_group(&mut self, g: PropertyGroup) {
        self.groups.push(g);
    }

    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&PropertyGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// A group by name, mutable.
    pub fn group_mut(&mut self, name: &str) -> Option<&mut PropertyGroup> {
        self.groups.iter_mut().find(|g| g.name == name)
    }
}

/// Valid `fieldType`s for a `type` (§2.2); `None` for a type that cannot be created.
pub fn valid_field_types(type_: &str) -> Option<&'static [&'static str]> {
    Some(match type_ {
        "bool" => &["booleancheckbox", "calculation_equation"],
        "enumeration" => {
            &["booleancheckbox", "checkbox", "radio", "select", "calculation_equation"]
        }
        "date" | "datetime" => &["date"],
        "string" => &["text", "textarea", "html", "phonenumber", "file", "calculation_equation"],
        "number" => &["number", "calculation_equation"],
        "phone_number" => &["phonenumber"],
        _ => return None,
    })
}

/// Checks a type/fieldType pair; HubSpot's 400 when invalid.
pub fn check_type_pair(type_: &str, field_type: &str) -> Result<(), ApiError> {
    match valid_field_types(type_) {
        None => Err(ApiError::validation(format!(
            "Invalid property type: {type_}. Valid types are: bool, enumeration, date, datetime, string, number, phone_number"
        ))
        .with_context("type", vec![type_.into()])),
        Some(list) if !list.contains(&field_type) => Err(ApiError::validation(format!(
            "Property type {type_} is not compatible with field type {field_type}. Valid field types for {type_} are: {}",
            list.join(", ")
        ))
        .with_context("type", vec![type_.into()])
        .with_context("fieldType", vec![field_type.into()])),
        Some(_) => Ok(()),
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Body of a property create (`PropertyCreate`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    name: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    field_type: Option<String>,
    group_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    options: Option<Vec<PropOption>>,
    #[serde(default)]
    display_order: Option<i32>,
    #[serde(default)]
    has_unique_value: Option<bool>,
    #[serde(default)]
    hidden: Option<bool>,
    #[serde(default)]
    form_field: Option<bool>,
    #[serde(default)]
    calculation_formula: Option<String>,
    #[serde(default)]
    external_options: Option<bool>,
    #[serde(default)]
    data_sensitivity: Option<String>,
}

/// Body of a property update (`PropertyUpdate`): no `name`, no `hasUniqueValue`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertyUpdate {
    label: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    field_type: Option<String>,
    group_name: Option<String>,
    description: Option<String>,
    options: Option<Vec<PropOption>>,
    display_order: Option<i32>,
    hidden: Option<bool>,
    form_field: Option<bool>,
    calculation_formula: Option<String>,
}

fn check_options(type_: &str, field_type: &str, options: &[PropOption]) -> Result<(), ApiError> {
    if type_ == "enumeration" && field_type != "calculation_equation" && options.is_empty() {
        return Err(ApiError::validation("Enumeration properties must have at least one option")
            .with_context("options", vec![]));
    }
    if type_ == "bool" {
        for o in options {
            if o.value != "true" && o.value != "false" {
                return Err(ApiError::validation(format!(
                    "Option value {} is not valid for a bool property; options must have values true and false",
                    o.value
                )));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for o in options {
        if o.value.is_empty() || o.label.is_empty() {
            return Err(ApiError::validation("Options must have a non-empty label and value"));
        }
        if o.value.contains(';') {
            return Err(ApiError::validation(format!(
                "Option value {} may not contain ';'",
                o.value
            )));
        }
        if !seen.insert(o.value.as_str()) {
            return Err(ApiError::validation(format!("Duplicate option value {}", o.value)));
        }
    }
    if options.len() > 5000 {
        return Err(ApiError::validation("A property may have at most 5,000 options"));
    }
    Ok(())
}

fn default_bool_options() -> Vec<PropOption> {
    vec![
        PropOption {
            label: "Yes".into(),
            value: "true".into(),
            hidden: false,
            display_order: 0,
            description: None,
        },
        PropOption {
            label: "No".into(),
            value: "false".into(),
            hidden: false,
            display_order: 1,
            description: None,
        },
    ]
}

/// Builds a new custom property from a create body; validates everything.
pub fn build_custom(
    store: &PropertyStore,
    body: PropertyCreate,
    now_ms: i64,
    user_id: u64,
) -> Result<Property, ApiError> {
    let mut missing = Vec::new();
    for (field, present) in [
        ("name", body.name.is_some()),
        ("label", body.label.is_some()),
        ("type", body.type_.is_some()),
        ("fieldType", body.field_type.is_some()),
        ("groupName", body.group_name.is_some()),
    ] {
        if !present {
            missing.push(field.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "Missing required fields: {}",
            missing.join(", ")
        ))
        .with_context("missingFields", missing));
    }
    let name = body.name.unwrap_or_default();
    let type_ = body.type_.unwrap_or_default();
    let field_type = body.field_type.unwrap_or_default();
    let group_name = body.group_name.unwrap_or_default();
    if !valid_name(&name) {
        return Err(ApiError::validation(format!(
            "Property name {name} is invalid: names must start with a lowercase letter and contain only lowercase letters, digits and underscores"
        ))
        .with_context("name", vec![name.clone()]));
    }
    if store.index(&name).is_some() {
        return Err(ApiError::conflict(format!("A property named '{name}' already exists."))
            .with_context("name", vec![name.clone()]));
    }
    if matches!(type_.as_str(), "object_coordinates" | "json") {
        return Err(ApiError::validation(format!("Properties of type {type_} cannot be created")));
    }
    check_type_pair(&type_, &field_type)?;
    if store.group(&group_name).is_none_or(|g| g.archived) {
        return Err(ApiError::validation(format!("Property group {group_name} does not exist"))
            .with_context("groupName", vec![group_name.clone()]));
    }
    let mut options = body.options.unwrap_or_default();
    if type_ == "bool" && options.is_empty() {
        options = default_bool_options();
    }
    if !matches!(type_.as_str(), "enumeration" | "bool") && !options.is_empty() {
        return Err(ApiError::validation(format!(
            "Properties of type {type_} cannot have options"
        )));
    }
    check_options(&type_, &field_type, &options)?;
    let has_unique = body.has_unique_value.unwrap_or(false);
    if has_unique
        && store.all().iter().filter(|p| p.has_unique_value && !p.hubspot_defined).count() >= 10
    {
        return Err(ApiError::validation("At most 10 unique-value properties per object"));
    }
    let calculated = field_type == "calculation_equation";
    let ts = iso(now_ms);
    Ok(Property {
        number_display_hint: (type_ == "number").then(|| "unformatted".into()),
        text_display_hint: None,
        date_display_hint: None,
        calculation_formula: body.calculation_formula,
        referenced_object_type: None,
        name,
        label: body.label.unwrap_or_default(),
        field_type,
        group_name,
        description: body.description.unwrap_or_default(),
        options,
        display_order: body.display_order.unwrap_or(-1),
        hidden: body.hidden.unwrap_or(false),
        form_field: body.form_field.unwrap_or(false),
        has_unique_value: has_unique,
        calculated,
        external_options: body.external_options.unwrap_or(false),
        hubspot_defined: false,
        archived: false,
        data_sensitivity: body.data_sensitivity.unwrap_or_else(|| "non_sensitive".into()),
        sensitive_data_categories: None,
        modification_metadata: ModificationMetadata {
            archivable: true,
            read_only_definition: false,
            read_only_value: calculated,
            read_only_options: false,
        },
        created_at: Some(ts.clone()),
        updated_at: Some(ts),
        created_user_id: Some(user_id.to_string()),
        updated_user_id: Some(user_id.to_string()),
        archived_at: None,
        type_,
    })
}

fn apply_update(
    p: &mut Property,
    body: PropertyUpdate,
    store_groups: &[PropertyGroup],
    now_ms: i64,
    user_id: u64,
) -> Result<(), ApiError> {
    if p.modification_metadata.read_only_definition {
        return Err(ApiError::validation(format!(
            "Property {} is a HubSpot-defined property whose definition cannot be changed",
            p.name
        )));
    }
    let type_ = body.type_.clone().unwrap_or_else(|| p.type_.clone());
    let field_type = body.field_type.clone().unwrap_or_else(|| p.field_type.clone());
    check_type_pair(&type_, &field_type)?;
    let options = body.options.clone().unwrap_or_else(|| p.options.clone());
    if !matches!(type_.as_str(), "enumeration" | "bool")
        && body.options.as_ref().is_some_and(|o| !o.is_empty())
    {
        return Err(ApiError::validation(format!(
            "Properties of type {type_} cannot have options"
        )));
    }
    check_options(&type_, &field_type, &options)?;
    if let Some(g) = &body.group_name {
        if !store_groups.iter().any(|x| &x.name == g && !x.archived) {
            return Err(ApiError::validation(format!("Property group {g} does not exist")));
        }
    }
    p.type_ = type_;
    p.field_type = field_type;
    p.options =
        if matches!(p.type_.as_str(), "enumeration" | "bool") { options } else { Vec::new() };
    if let Some(v) = body.label {
        p.label = v;
    }
    if let Some(v) = body.group_name {
        p.group_name = v;
    }
    if let Some(v) = body.description {
        p.description = v;
    }
    if let Some(v) = body.display_order {
        p.display_order = v;
    }
    if let Some(v) = body.hidden {
        p.hidden = v;
    }
    if let Some(v) = body.form_field {
        p.form_field = v;
    }
    if let Some(v) = body.calculation_formula {
        p.calculation_formula = Some(v);
    }
    p.calculated = p.field_type == "calculation_equation";
    p.modification_metadata.read_only_value =
        p.calculated || (p.hubspot_defined && p.modification_metadata.read_only_value);
    p.number_display_hint = (p.type_ == "number")
        .then(|| p.number_display_hint.clone().unwrap_or_else(|| "unformatted".into()));
    p.updated_at = Some(iso(now_ms));
    p.updated_user_id = Some(user_id.to_string());
    Ok(())
}

/// Checks the object type path segment (`contacts` or `0-1`).
pub fn check_object_type(object_type: &str) -> Result<(), ApiError> {
    if object_type == "contacts" || object_type == "0-1" || object_type == "contact" {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "Unable to infer object type from: {object_type} (this simulator serves contacts only)"
        )))
    }
}

/// Query of the list/get routes.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    archived: Option<bool>,
    data_sensitivity: Option<String>,
    properties: Option<String>,
}

/// `GET /crm/v3/properties/{objectType}`.
pub async fn list(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    HsQuery(q): HsQuery<ListQuery>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.read", "crm.objects.contacts.read"])?;
    check_object_type(&object_type)?;
    let archived = q.archived.unwrap_or(false);
    let sensitivity = q.data_sensitivity.unwrap_or_else(|| "non_sensitive".into());
    let wanted: Option<Vec<String>> =
        q.properties.map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let results: Vec<&Property> = crm
        .props
        .all()
        .iter()
        .filter(|p| p.archived == archived)
        .filter(|p| p.data_sensitivity == sensitivity)
        .filter(|p| wanted.as_ref().is_none_or(|w| w.iter().any(|n| n == &p.name)))
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

/// Query of the single-property get.
#[derive(Debug, Deserialize, Default)]
pub struct GetQuery {
    archived: Option<bool>,
}

/// `GET /crm/v3/properties/{objectType}/{propertyName}`.
pub async fn get_one(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
    HsQuery(q): HsQuery<GetQuery>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.read", "crm.objects.contacts.read"])?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    match crm.props.by_name(&name) {
        Some(p) if p.archived == q.archived.unwrap_or(false) => Ok(Json(p).into_response()),
        _ => Err(property_not_found(&name)),
    }
}

fn property_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Unable to find property {name} for object type 0-1"))
        .with_context("propertyName", vec![name.into()])
}

/// `POST /crm/v3/properties/{objectType}` → 201.
pub async fn create(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let body: PropertyCreate = parse_json(&body)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let p = build_custom(&crm.props, body, hs.clock.now_ms(), auth.user_id)?;
    let out = serde_json::to_value(&p).unwrap_or_default();
    crm.props.insert(p);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `PATCH /crm/v3/properties/{objectType}/{propertyName}`.
pub async fn update(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let body: PropertyUpdate = serde_json::from_slice(&body).map_err(|e| {
        ApiError::validation(format!(
            "Invalid input JSON: {e} (name and hasUniqueValue cannot be updated)"
        ))
    })?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let idx = match crm.props.index(&name) {
        Some(i) if !crm.props.get(i).archived => i,
        _ => return Err(property_not_found(&name)),
    };
    let groups = crm.props.groups().to_vec();
    let now = hs.clock.now_ms();
    let p = crm.props.get_mut(idx);
    let mut draft = p.clone();
    apply_update(&mut draft, body, &groups, now, auth.user_id)?;
    *p = draft;
    Ok(Json(p.clone()).into_response())
}

/// `DELETE /crm/v3/properties/{objectType}/{propertyName}` → 204 (archives).
pub async fn archive(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let idx = match crm.props.index(&name) {
        Some(i) if !crm.props.get(i).archived => i,
        _ => return Err(property_not_found(&name)),
    };
    let now = hs.clock.now_ms();
    let p = crm.props.get_mut(idx);
    if !p.modification_metadata.archivable {
        return Err(ApiError::validation(format!("Property {name} cannot be archived")));
    }
    p.archived = true;
    p.archived_at = Some(iso(now));
    p.updated_at = Some(iso(now));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /crm/v3/properties/{objectType}/groups`.
pub async fn list_groups(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.read", "crm.objects.contacts.read"])?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let results: Vec<&PropertyGroup> = crm.props.groups().iter().filter(|g| !g.archived).collect();
    Ok(Json(json!({ "results": results })).into_response())
}

/// `GET /crm/v3/properties/{objectType}/groups/{groupName}`.
pub async fn get_group(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.read", "crm.objects.contacts.read"])?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    match crm.props.group(&name) {
        Some(g) if !g.archived => Ok(Json(g).into_response()),
        _ => Err(ApiError::not_found(format!(
            "Unable to find property group {name} for object type 0-1"
        ))),
    }
}

/// Body of a group create.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupCreate {
    name: Option<String>,
    label: Option<String>,
    display_order: Option<i32>,
}

/// `POST /crm/v3/properties/{objectType}/groups` → 201.
pub async fn create_group(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let body: GroupCreate = parse_json(&body)?;
    let (Some(name), Some(label)) = (body.name, body.label) else {
        return Err(ApiError::validation("Missing required fields: name, label"));
    };
    if !valid_name(&name) {
        return Err(ApiError::validation(format!("Property group name {name} is invalid")));
    }
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    if crm.props.group(&name).is_some() {
        return Err(ApiError::conflict(format!("A property group named '{name}' already exists."))
            .with_context("name", vec![name]));
    }
    let g = PropertyGroup {
        name,
        label,
        display_order: body.display_order.unwrap_or(-1),
        archived: false,
    };
    crm.props.insert_group(g.clone());
    Ok((StatusCode::CREATED, Json(g)).into_response())
}

/// Body of a group update.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupUpdate {
    label: Option<String>,
    display_order: Option<i32>,
}

/// `PATCH /crm/v3/properties/{objectType}/groups/{groupName}`.
pub async fn update_group(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let body: GroupUpdate = parse_json(&body)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let g = crm.props.group_mut(&name).filter(|g| !g.archived).ok_or_else(|| {
        ApiError::not_found(format!("Unable to find property group {name} for object type 0-1"))
    })?;
    if let Some(l) = body.label {
        g.label = l;
    }
    if let Some(d) = body.display_order {
        g.display_order = d;
    }
    Ok(Json(g.clone()).into_response())
}

/// `DELETE /crm/v3/properties/{objectType}/groups/{groupName}` → 204. A group that still holds
/// (non-archived) properties cannot be archived (the simulator's choice; the reference is silent).
pub async fn archive_group(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path((object_type, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    if crm.props.all().iter().any(|p| p.group_name == name && !p.archived) {
        return Err(ApiError::validation(format!(
            "Property group {name} still contains properties"
        )));
    }
    let g = crm.props.group_mut(&name).filter(|g| !g.archived).ok_or_else(|| {
        ApiError::not_found(format!("Unable to find property group {name} for object type 0-1"))
    })?;
    g.archived = true;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct NameInput {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchNames {
    inputs: Vec<NameInput>,
    #[serde(default)]
    archived: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct BatchCreate {
    inputs: Vec<PropertyCreate>,
}

fn batch_body(
    started: i64,
    ok: StatusCode,
    results: Vec<serde_json::Value>,
    errors: Vec<serde_json::Value>,
) -> Response {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(crate::Clock::default().now_ms()),
    });
    if errors.is_empty() {
        (ok, Json(body)).into_response()
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = serde_json::Value::Array(errors);
        (StatusCode::MULTI_STATUS, Json(body)).into_response()
    }
}

/// `POST /crm/v3/properties/{objectType}/batch/read` → 200, or 207 naming missing properties.
pub async fn batch_read(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.read", "crm.objects.contacts.read"])?;
    check_object_type(&object_type)?;
    let started = hs.clock.now_ms();
    let body: BatchNames = parse_json(&body)?;
    let archived = body.archived.unwrap_or(false);
    let portal = hs.portal(auth.hub_id);
    let crm = portal.crm.read().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for i in &body.inputs {
        match crm.props.by_name(&i.name).filter(|p| p.archived == archived) {
            Some(p) => results.push(serde_json::to_value(p).unwrap_or_default()),
            None => missing.push(i.name.clone()),
        }
    }
    let errors = if missing.is_empty() {
        vec![]
    } else {
        vec![ApiError::not_found("Some properties could not be found")
            .with_context("names", missing)
            .batch_item()]
    };
    Ok(batch_body(started, StatusCode::OK, results, errors))
}

/// `POST /crm/v3/properties/{objectType}/batch/create` → 201, or 207 with per-input errors.
pub async fn batch_create(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let started = hs.clock.now_ms();
    let body: BatchCreate = parse_json(&body)?;
    if body.inputs.len() > 100 {
        return Err(ApiError::validation("At most 100 inputs per batch"));
    }
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in body.inputs {
        match build_custom(&crm.props, input, hs.clock.now_ms(), auth.user_id) {
            Ok(p) => {
                results.push(serde_json::to_value(&p).unwrap_or_default());
                crm.props.insert(p);
            }
            Err(e) => errors.push(e.batch_item()),
        }
    }
    Ok(batch_body(started, StatusCode::CREATED, results, errors))
}

/// `POST /crm/v3/properties/{objectType}/batch/archive` → 204 (unknown and non-archivable names
/// are skipped).
pub async fn batch_archive(
    State(hs): State<std::sync::Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require_any(&["crm.schemas.contacts.write"])?;
    check_object_type(&object_type)?;
    let body: BatchNames = parse_json(&body)?;
    let portal = hs.portal(auth.hub_id);
    let mut crm = portal.crm.write().unwrap_or_else(|e| e.into_inner());
    let now = hs.clock.now_ms();
    for i in &body.inputs {
        if let Some(idx) = crm.props.index(&i.name) {
            let p = crm.props.get_mut(idx);
            if p.modification_metadata.archivable && !p.archived {
                p.archived = true;
                p.archived_at = Some(iso(now));
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
