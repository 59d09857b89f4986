//! Writing consent events and reading one user (didomi-api.md §2–3): `POST
//! /v1/consents/events` with one event or an array of at most [`MAX_EVENTS`], each with a
//! caller-chosen `id` (Didomi refuses an id it already has with 409, which makes a retried
//! write harmless), optionally `$disable_integrations=true` so Didomi does not forward the
//! change to the organization's other integrations (its own HubSpot integration among them).
//!
//! [`EventWriter`] posts through [`DidomiClient::post`], so the session, base URL and the
//! 401 → new token → one retry rule are the client's.

use std::sync::Arc;

use serde::Serialize;

use crate::didomi::client::DidomiClient;
use crate::didomi::consents::ConsentUser;
use crate::didomi::error::{ApiErrorBody, Error, Result};

/// Largest batch of events per request.
pub const MAX_EVENTS: usize = 100;

/// The user an event is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventUser {
    /// The organization's id for the user (the email).
    pub organization_user_id: String,
}

/// One purpose of an event: `enabled` (absent = keep) and preference values (absent = keep).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventPurpose {
    /// Purpose id.
    pub id: String,
    /// New purpose choice; absent keeps the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Preference id → `{ "value": "<id>,<id>" }` (`""` clears).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub values: std::collections::BTreeMap<String, EventValue>,
}

/// The selected value ids of one preference, comma-separated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventValue {
    /// Comma-separated value ids.
    pub value: String,
}

/// The consents part of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventConsents {
    /// Purposes that change.
    pub purposes: Vec<EventPurpose>,
}

/// Who wrote the event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delegate {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// One consent event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsentEvent {
    /// Idempotency key.
    pub id: String,
    /// Organization (also in the query).
    pub organization_id: String,
    /// Only GDPR is written.
    pub regulation: String,
    /// The user.
    pub user: EventUser,
    /// What changes.
    pub consents: EventConsents,
    /// This app.
    pub delegate: Delegate,
}

/// The delegate this app writes as.
pub fn app_delegate() -> Delegate {
    Delegate { id: "didomi-hubspot-sync".into(), name: "HubSpot sync desktop app".into() }
}

/// Sends events with a [`DidomiClient`] (its session, base URL and 401 rule).
#[derive(Debug, Clone)]
pub struct EventWriter {
    client: Arc<DidomiClient>,
}

impl EventWriter {
    /// A writer for `client`'s organization.
    pub fn new(client: Arc<DidomiClient>) -> Self {
        Self { client }
    }

    /// The same writer, its client retrying by `retry`.
    #[must_use]
    pub fn with_retry(self, retry: crate::run::retry::Backoff) -> Self {
        Self { client: Arc::new((*self.client).clone().with_retry(retry)) }
    }

    /// The organization id.
    pub fn organization_id(&self) -> &str {
        self.client.organization_id()
    }

    /// The users whose `organization_user_id` is exactly `ouid` (usually zero or one).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn users_by_ouid(&self, ouid: &str) -> Result<Vec<ConsentUser>> {
        self.client.users_by_organization_user_id(ouid).await
    }

    /// `POST /v1/consents/events` with 1–[`MAX_EVENTS`] events (an array). The batch is all or
    /// nothing on Didomi's side: a 409 means one of the ids exists already.
    ///
    /// # Errors
    /// See [`Error`]; an empty or oversized batch is an [`Error::Api`] 400 without a request.
    pub async fn post_events(
        &self,
        events: &[ConsentEvent],
        disable_integrations: bool,
    ) -> Result<()> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(Error::Api {
                status: 400,
                body: ApiErrorBody {
                    message: Some(format!(
                        "a batch holds 1 to {MAX_EVENTS} events, not {}",
                        events.len()
                    )),
                    ..Default::default()
                },
                retry_after: None,
            });
        }
        let org = self.client.organization_id().to_owned();
        let mut query: Vec<(&str, &str)> = vec![("organization_id", &org)];
        if disable_integrations {
            query.push(("$disable_integrations", "true"));
        }
        // The answer echoes the stored events; a cut or empty body means the write may not have
        // happened, so it is an error (the retry with the same ids is safe).
        let _: serde_json::Value = self.client.post("/v1/consents/events", &query, events).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_serializes_like_the_reference() {
        let mut values = std::collections::BTreeMap::new();
        values.insert("topics".to_owned(), EventValue { value: "a,b".into() });
        let e = ConsentEvent {
            id: "hs-pull-1-2".into(),
            organization_id: "acme".into(),
            regulation: "gdpr".into(),
            user: EventUser { organization_user_id: "jane@example.com".into() },
            consents: EventConsents {
                purposes: vec![
                    EventPurpose { id: "news".into(), enabled: Some(true), values },
                    EventPurpose { id: "sms".into(), enabled: None, values: Default::default() },
                ],
            },
            delegate: app_delegate(),
        };
        let v = serde_json::to_value(&e).expect("serializes");
        assert_eq!(v["user"]["organization_user_id"], "jane@example.com", "user by OUID");
        assert_eq!(v["consents"]["purposes"][0]["values"]["topics"]["value"], "a,b", "values");
        assert!(v["consents"]["purposes"][1].get("enabled").is_none(), "absent enabled keeps");
        assert!(v["consents"]["purposes"][1].get("values").is_none(), "absent values keep");
    }
}
