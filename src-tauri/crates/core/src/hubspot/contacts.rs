//! Contact batch endpoints (hubspot-api.md §3.3): read by email, update by record id, upsert by
//! email. At most [`MAX_BATCH`] inputs per call. A 200 and a 207 Multi-Status both decode into
//! [`BatchResponse`]: `results` for the inputs that worked, `errors` for the others (each error
//! names its inputs in `context.ids` or `context.objectWriteTraceId`).
//!
//! Every input of a write carries an `objectWriteTraceId` so results and errors can be matched
//! to inputs whatever order HubSpot answers in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hubspot::client::HubSpotClient;
use crate::hubspot::error::Result;
use crate::hubspot::models::ApiErrorBody;
use crate::hubspot::paths;

/// Largest batch HubSpot accepts.
pub const MAX_BATCH: usize = 100;

/// One input of a batch write; `P` is its property values, anything that serializes as a map
/// of names to strings (the push writes them straight from its packed form).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteInput<P = BTreeMap<String, String>> {
    /// Record id (update) or email (upsert).
    pub id: String,
    /// `Some("email")` for upserts by email; `None` for record ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    /// Property values to write.
    pub properties: P,
    /// Echoed in the result or error, to match them to this input.
    pub object_write_trace_id: String,
}

/// One record of a batch answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchRecord {
    /// Record id.
    pub id: String,
    /// Property values (`None` for requested-but-unset properties).
    pub properties: BTreeMap<String, Option<String>>,
    /// Upserts: whether the record was created.
    pub new: Option<bool>,
    /// The input's trace id, when echoed.
    pub object_write_trace_id: Option<String>,
    /// Reads with `propertiesWithHistory`: each asked property's changes, newest first.
    pub properties_with_history: BTreeMap<String, Vec<ValueWithTimestamp>>,
}

/// One change of a property value (`propertiesWithHistory`, hubspot-api.md §3.1).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ValueWithTimestamp {
    /// The value set.
    pub value: String,
    /// When (ISO-8601).
    pub timestamp: String,
    /// `INTEGRATION`, `CRM_UI`, `WORKFLOW`, `IMPORT`…
    pub source_type: String,
    /// The integration, user or workflow.
    pub source_id: Option<String>,
    /// Its name, when HubSpot gives one.
    pub source_label: Option<String>,
    /// The HubSpot user who made it, for changes by a person.
    pub updated_by_user_id: Option<u64>,
}

/// What a write needs of each record HubSpot wrote: the property values it echoes (every
/// written property, ≈ 25 per record) are skipped while decoding, not kept.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WrittenRecord {
    /// Record id.
    pub id: String,
    /// Upserts: whether the record was created.
    pub new: Option<bool>,
    /// The input's trace id, when echoed.
    pub object_write_trace_id: Option<String>,
}

/// A batch answer (200, 201 or 207), with its records as `R`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, bound = "R: Deserialize<'de>")]
pub struct BatchResponse<R = BatchRecord> {
    /// `COMPLETE` etc.
    pub status: Option<String>,
    /// Inputs that worked.
    pub results: Vec<R>,
    /// Number of errors (207).
    pub num_errors: Option<u64>,
    /// Per-input errors (207).
    pub errors: Vec<ApiErrorBody>,
}

impl<R> Default for BatchResponse<R> {
    fn default() -> Self {
        Self { status: None, results: Vec::new(), num_errors: None, errors: Vec::new() }
    }
}

/// The input ids or trace ids an error item names (`context.ids`, `context.objectWriteTraceId`).
pub fn error_keys(e: &ApiErrorBody) -> (Vec<String>, Vec<String>) {
    let list = |key: &str| -> Vec<String> {
        e.context
            .as_ref()
            .and_then(|c| c.get(key))
            .map(|v| match v {
                serde_json::Value::Array(a) => {
                    a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()
                }
                serde_json::Value::String(s) => vec![s.clone()],
                _ => vec![],
            })
            .unwrap_or_default()
    };
    (list("ids"), list("objectWriteTraceId"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadBody<'a> {
    id_property: &'a str,
    properties: &'a [String],
    properties_with_history: &'a [String],
    inputs: Vec<IdInput<'a>>,
}

#[derive(Serialize)]
struct IdInput<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct WriteBody<'a, P> {
    inputs: &'a [WriteInput<P>],
}

impl HubSpotClient {
    /// `POST …/contacts/batch/read` with `idProperty: email`: the contacts with these emails and
    /// the given properties (plus `email`). Emails that match nothing are listed in a 207 error.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn contacts_read_by_email(
        &self,
        emails: &[String],
        properties: &[String],
    ) -> Result<BatchResponse> {
        self.contacts_read_with_history(emails, properties, &[]).await
    }

    /// [`HubSpotClient::contacts_read_by_email`] with the change history of `with_history`
    /// (`propertiesWithHistory`; HubSpot allows at most 50 inputs then).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn contacts_read_with_history(
        &self,
        emails: &[String],
        properties: &[String],
        with_history: &[String],
    ) -> Result<BatchResponse> {
        let body = ReadBody {
            id_property: "email",
            properties,
            properties_with_history: with_history,
            inputs: emails.iter().map(|e| IdInput { id: e }).collect(),
        };
        self.post_once(&format!("{}/batch/read", paths::contacts()), &body).await
    }

    /// `POST …/contacts/batch/update` by record id.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn contacts_update<P: Serialize>(
        &self,
        inputs: &[WriteInput<P>],
    ) -> Result<BatchResponse<WrittenRecord>> {
        self.post_once(&format!("{}/batch/update", paths::contacts()), &WriteBody { inputs }).await
    }

    /// `POST …/contacts/batch/upsert` (inputs with `idProperty: email`): updates the contacts
    /// with these emails and creates the missing ones (`new: true`).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn contacts_upsert<P: Serialize>(
        &self,
        inputs: &[WriteInput<P>],
    ) -> Result<BatchResponse<WrittenRecord>> {
        self.post_once(&format!("{}/batch/upsert", paths::contacts()), &WriteBody { inputs }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write's answer keeps what the push needs of each record and skips the values
    /// HubSpot echoes; errors decode as in any batch answer.
    #[test]
    fn a_write_answer_keeps_ids_and_skips_the_echoed_values() {
        let r: BatchResponse<WrittenRecord> = serde_json::from_str(
            r#"{"status":"COMPLETE","results":[{"id":"7","properties":{"email":"a@b.com",
            "didomi_x":"true","nested":null},"new":true,"objectWriteTraceId":"0",
            "createdAt":"x"}],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR",
            "message":"bad","context":{"objectWriteTraceId":["1"]}}]}"#,
        )
        .expect("write answer parses");
        let want = WrittenRecord {
            id: "7".into(),
            new: Some(true),
            object_write_trace_id: Some("0".into()),
        };
        assert_eq!(r.results, [want]);
        assert_eq!(error_keys(&r.errors[0]).1, ["1"], "the failed input's trace id");
    }

    #[test]
    fn parses_a_207_and_finds_the_named_inputs() {
        let r: BatchResponse = serde_json::from_str(
            r#"{"status":"COMPLETE","results":[{"id":"512","properties":{"email":"a@b.com","x":null},
            "objectWriteTraceId":"3","new":false}],"numErrors":1,"errors":[{"status":"error",
            "category":"OBJECT_NOT_FOUND","message":"Could not get some CONTACT objects",
            "context":{"ids":["nobody@example.com"],"objectWriteTraceId":["4"]}}],
            "startedAt":"x","completedAt":"y"}"#,
        )
        .expect("207 body parses");
        assert_eq!(r.results[0].properties["x"], None, "unset property is None");
        assert_eq!(r.results[0].object_write_trace_id.as_deref(), Some("3"), "trace id echoed");
        let (ids, traces) = error_keys(&r.errors[0]);
        assert_eq!(ids, ["nobody@example.com"], "ids from context");
        assert_eq!(traces, ["4"], "trace ids from context");
    }

    #[test]
    fn write_inputs_serialize_as_hubspot_expects() {
        let i = WriteInput {
            id: "a@b.com".into(),
            id_property: Some("email".into()),
            properties: BTreeMap::from([("p".to_owned(), "true".to_owned())]),
            object_write_trace_id: "7".into(),
        };
        let v = serde_json::to_value(&i).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"id":"a@b.com","idProperty":"email","properties":{"p":"true"},"objectWriteTraceId":"7"}),
            "camelCase input"
        );
    }
}
