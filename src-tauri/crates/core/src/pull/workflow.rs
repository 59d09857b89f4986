//! The workflow "Check": tells whether the HubSpot workflow that raises "Didomi Changed" works
//! for a test contact. After the admin edited one of its mapped properties in HubSpot, the
//! counter must have risen at or after that edit (read from the properties' history).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Error;
use crate::hubspot::HubSpotClient;

/// The result of "Check".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum CheckStatus {
    /// The counter rose after the last change of a mapped property: the workflow works.
    Works,
    /// The counter property does not exist in HubSpot.
    PropertyMissing,
    /// No contact has this email.
    ContactMissing,
    /// No mapped property of the contact changed yet.
    NoEdit,
    /// A mapped property changed but the counter did not rise after it.
    NoChangeSeen,
}

/// What "Check" found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkflowCheck {
    /// The verdict.
    pub status: CheckStatus,
    /// What it means and what to do.
    pub message: String,
    /// The counter's current value.
    pub counter: Option<String>,
    /// The mapped property that changed last, if any.
    pub last_edited_property: Option<String>,
}

/// The email of the test contact, trimmed.
///
/// # Errors
/// [`crate::ErrorCode::InvalidInput`] for an empty email.
pub fn test_email(email: &str) -> Result<String, Error> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Error::invalid_input(
            "Enter the email of a test contact whose mapped property you edited in HubSpot.",
        ));
    }
    Ok(email.to_owned())
}

/// Checks the workflow for the contact `email` (see [`test_email`]): the `counter` property must
/// exist, the contact too, and the counter must have risen at or after the last edit of one of
/// the `mapped` properties by a person.
///
/// # Errors
/// HubSpot errors.
pub async fn check(
    hubspot: &HubSpotClient,
    mapped: &[String],
    counter: &str,
    email: &str,
) -> Result<WorkflowCheck, Error> {
    if hubspot.get_contact_property(counter).await?.is_none() {
        return Ok(WorkflowCheck {
                status: CheckStatus::PropertyMissing,
                message: format!("HubSpot has no \"{counter}\" property: turn on the bidirectional flow on the Options screen (it creates \"Didomi Changed\"), then set up the workflow."),
                counter: None,
                last_edited_property: None,
            });
    }
    let mut with_history = mapped.to_vec();
    with_history.push(counter.to_owned());
    let joined = with_history.join(",");
    let path = format!("{}/{}", crate::hubspot::paths::contacts(), urlencode(email));
    let r: Result<ContactWithHistory, crate::hubspot::Error> = hubspot
        .get(
            &path,
            &[("idProperty", "email"), ("properties", counter), ("propertiesWithHistory", &joined)],
        )
        .await;
    let contact = match r {
            Ok(c) => c,
            Err(crate::hubspot::Error::Api { status: 404, .. }) => {
                return Ok(WorkflowCheck {
                    status: CheckStatus::ContactMissing,
                    message: format!("No HubSpot contact has the email {email}: check the spelling or pick another test contact."),
                    counter: None,
                    last_edited_property: None,
                })
            }
            Err(e) => return Err(e.into()),
        };
    Ok(verdict(&contact, mapped, counter, email))
}

/// The verdict on the history of a contact.
fn verdict(
    contact: &ContactWithHistory,
    mapped: &[String],
    counter: &str,
    email: &str,
) -> WorkflowCheck {
    let ts = |h: &HistoryItem| crate::hubspot::search::parse_ms(&h.timestamp).unwrap_or(0);
    let last_edit = mapped
        .iter()
        .filter_map(|p| {
            contact
                .properties_with_history
                .get(p)
                .and_then(|h| h.iter().map(|x| (ts(x), x)).max_by_key(|x| x.0))
                .map(|(t, x)| (t, p.clone(), x.source_type.clone()))
        })
        // A person's edit: not this app's (or another integration's) API write, not an import.
        .filter(|(_, _, src)| {
            !matches!(src.as_deref(), Some("INTEGRATION" | "IMPORT" | "CALCULATED"))
        })
        .max_by_key(|x| x.0);
    let counter_value = contact.properties.get(counter).cloned().flatten();
    let last_bump =
        contact.properties_with_history.get(counter).and_then(|h| h.iter().map(ts).max());
    let Some((edit_ms, prop, _)) = last_edit else {
        return WorkflowCheck {
                status: CheckStatus::NoEdit,
                message: format!("No mapped property of {email} was changed yet: edit one of them ({}) in HubSpot, wait a few seconds, then check again.", mapped.join(", ")),
                counter: counter_value,
                last_edited_property: None,
            };
    };
    if last_bump.is_some_and(|b| b >= edit_ms) {
        return WorkflowCheck {
                status: CheckStatus::Works,
                message: format!("The workflow works: \"{counter}\" rose to {} after {prop} changed. The next pull sends this contact to Didomi.", counter_value.as_deref().unwrap_or("?")),
                counter: counter_value,
                last_edited_property: Some(prop),
            };
    }
    WorkflowCheck {
            status: CheckStatus::NoChangeSeen,
            message: format!("{prop} changed but \"{counter}\" did not rise after it. Check that the workflow is turned on, that {prop} is one of its triggers, and that re-enrollment is on for every trigger (steps 4, 10 and 11); HubSpot may also take a minute to run it — check again shortly."),
            counter: counter_value,
            last_edited_property: Some(prop),
        }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryItem {
    timestamp: String,
    #[serde(default)]
    source_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactWithHistory {
    #[serde(default)]
    properties: HashMap<String, Option<String>>,
    #[serde(default)]
    properties_with_history: HashMap<String, Vec<HistoryItem>>,
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
