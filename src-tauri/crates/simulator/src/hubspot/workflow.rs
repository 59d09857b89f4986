//! The "Didomi Changed" workflow of the seed's bidirectional setup, emulated per portal: when
//! any of the chosen trigger properties of a contact changes — through the API (our own push
//! included, exactly like a real workflow), the HubSpot UI, an import or another workflow — the
//! "Increase or decrease property value" action adds 1 to the counter property (reference §5.4).
//!
//! - The increment is recorded in the counter's history with `sourceType` `WORKFLOW` (the same
//!   source as [`HubSpot::increment_property_as_workflow`]; reference §5.4 leaves the exact
//!   workflow `sourceType` to verify on a real portal) and moves `lastmodifieddate` like any
//!   other write.
//! - [INF] A real workflow runs a few seconds after the change; here it runs in the same write,
//!   at the same timestamp, so tests need no waiting. An empty counter counts as 0.
//! - Re-enrollment is on (the seed's steps 9–10): every change fires, not only the first one.
//! - The counter itself can never be a trigger (that would loop).
//!
//! Admin routes (no auth, not rate limited):
//!
//! | route | does |
//! |---|---|
//! | `GET /_sim/hubspot/workflow` | the [`WorkflowStatus`] |
//! | `PUT /_sim/hubspot/workflow` | a [`WorkflowConfig`] `{enabled, triggerProperties[], property}`; 400 naming what is wrong |

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::crm::Crm;
use super::HubSpot;

/// The counter property the bidirectional option creates.
pub const DEFAULT_COUNTER: &str = "didomi_changed";

/// What the admin configured (the body of `PUT /_sim/hubspot/workflow`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowConfig {
    /// The workflow is turned on (step 11).
    pub enabled: bool,
    /// Contact properties whose change enrolls the contact (step 4).
    #[serde(default)]
    pub trigger_properties: Vec<String>,
    /// The number property to increase by 1 (step 6).
    #[serde(default = "default_counter")]
    pub property: String,
}

fn default_counter() -> String {
    DEFAULT_COUNTER.into()
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self { enabled: false, trigger_properties: Vec::new(), property: default_counter() }
    }
}

/// The configuration plus what the workflow did (`GET /_sim/hubspot/workflow`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStatus {
    /// The configuration.
    #[serde(flatten)]
    pub config: WorkflowConfig,
    /// How many times the action ran since the simulator started.
    pub increments: u64,
}

/// The workflow of one portal (kept in its [`Crm`]).
#[derive(Debug, Clone, Default)]
pub struct Workflow {
    config: WorkflowConfig,
    triggers: Vec<u16>,
    counter: Option<u16>,
    increments: u64,
}

impl Workflow {
    /// Whether a change of `prop` enrolls the contact.
    fn fires_on(&self, changed: &[u16]) -> Option<u16> {
        if !self.config.enabled {
            return None;
        }
        let counter = self.counter?;
        changed.iter().any(|p| *p != counter && self.triggers.contains(p)).then_some(counter)
    }
}

/// Runs the workflow after `changed` properties of contact `id` changed at `now` (called by
/// [`Crm::create`] and [`Crm::update`] for every write, whatever its source).
pub fn after_change(crm: &mut Crm, id: u64, changed: &[u16], now: i64) {
    let Some(counter) = crm.workflow.fires_on(changed) else { return };
    let seeded = crm.seeded.clone();
    let Some(c) = crm.contacts.get_mut(id).filter(|c| !c.archived()) else { return };
    let current: i64 =
        c.stored(counter).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0) as i64;
    c.change(counter, &(current + 1).to_string(), now, &super::workflow_source(), &seeded);
    crm.workflow.increments += 1;
}

/// Checks `config` against the portal's properties; returns the property indexes.
fn resolve(crm: &Crm, config: &WorkflowConfig) -> Result<(Vec<u16>, u16), String> {
    let live = |name: &str| crm.props.index(name).filter(|&i| !crm.props.get(i).archived);
    let counter = live(&config.property).ok_or_else(|| {
        format!(
            "property {} does not exist: enable the bidirectional flow (it creates \"Didomi Changed\") or name an existing number property",
            config.property
        )
    })?;
    if crm.props.get(counter).type_ != "number" {
        return Err(format!(
            "property {} is not a number property: \"Increase or decrease property value\" only works on numbers",
            config.property
        ));
    }
    let mut triggers = Vec::new();
    for name in &config.trigger_properties {
        if name == &config.property {
            return Err(format!(
                "{name} is the counter itself: a workflow triggered by its own action would loop; choose mapped properties as triggers"
            ));
        }
        let idx = live(name).ok_or_else(|| {
            format!("trigger property {name} does not exist: choose existing contact properties")
        })?;
        triggers.push(idx);
    }
    if config.enabled && triggers.is_empty() {
        return Err("an enabled workflow needs at least one trigger property".into());
    }
    Ok((triggers, counter))
}

impl HubSpot {
    /// Configures the main portal's workflow.
    ///
    /// # Errors
    /// A message naming the unknown property, the non-number counter or the looping trigger.
    pub fn set_workflow(&self, config: WorkflowConfig) -> Result<WorkflowStatus, String> {
        let mut crm = self.crm_write();
        let (triggers, counter) = resolve(&crm, &config)?;
        crm.workflow.config = config;
        crm.workflow.triggers = triggers;
        crm.workflow.counter = Some(counter);
        Ok(WorkflowStatus {
            config: crm.workflow.config.clone(),
            increments: crm.workflow.increments,
        })
    }

    /// The main portal's workflow and how often it ran.
    pub fn workflow(&self) -> WorkflowStatus {
        let crm = self.crm_read();
        WorkflowStatus { config: crm.workflow.config.clone(), increments: crm.workflow.increments }
    }

    /// Edits `property` of many contacts as people in the HubSpot UI would (`CRM_UI`), all at
    /// the one timestamp `at_ms` (tests of many contacts sharing a `lastmodifieddate`); the
    /// workflow fires for each. Returns how many contacts changed.
    ///
    /// # Errors
    /// The first validation message, or "contact not found" (nothing after it is applied).
    pub fn edit_many_as_user(
        &self,
        ids: &[u64],
        property: &str,
        value: &str,
        at_ms: i64,
    ) -> Result<usize, String> {
        let src = Arc::new(super::store::Source {
            kind: super::store::SourceType::CrmUi,
            id: format!("userId:{}", self.user().id),
            label: None,
            user_id: Some(self.user().id),
        });
        let mut crm = self.crm_write();
        let mut input = serde_json::Map::new();
        input.insert(property.into(), serde_json::Value::String(value.into()));
        let mut changed = 0;
        for &id in ids {
            let current =
                crm.contacts.get(id).filter(|c| !c.archived()).ok_or("contact not found")?;
            let values =
                crm.validate(&input, Some(current), true).map_err(|e| e.message.clone())?;
            let before = values
                .iter()
                .map(|(p, _)| current.stored(*p).map(str::to_owned))
                .collect::<Vec<_>>();
            crm.update(id, &values, &src, at_ms).map_err(|e| e.message.clone())?;
            let c = crm.contacts.get_mut(id).expect("updated above");
            let after =
                values.iter().map(|(p, _)| c.stored(*p).map(str::to_owned)).collect::<Vec<_>>();
            if before != after {
                // Pin the modification time even when the contact changed later than `at_ms`.
                c.updated_ms = at_ms;
                changed += 1;
            }
        }
        Ok(changed)
    }
}

async fn get_workflow(State(hs): State<Arc<HubSpot>>) -> Response {
    Json(hs.workflow()).into_response()
}

async fn put_workflow(State(hs): State<Arc<HubSpot>>, body: axum::body::Bytes) -> Response {
    let config: WorkflowConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("invalid workflow configuration: {e}")})),
            )
                .into_response()
        }
    };
    match hs.set_workflow(config) {
        Ok(s) => Json(s).into_response(),
        Err(m) => (StatusCode::BAD_REQUEST, Json(json!({"error": m}))).into_response(),
    }
}

/// The admin routes of the workflow.
pub fn routes() -> axum::Router<Arc<HubSpot>> {
    axum::Router::new()
        .route("/_sim/hubspot/workflow", get(get_workflow).put(put_workflow).post(put_workflow))
}
