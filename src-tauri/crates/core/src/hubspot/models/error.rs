//! HubSpot error bodies: the standard API error (hubspot-api.md §4.5) and the OAuth error
//! (§1.7). Every field is optional, as HubSpot's docs advise.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One sub-error of [`ApiErrorBody::errors`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiSubError {
    /// Human message.
    pub message: Option<String>,
    /// Machine code, e.g. `PROPERTY_DOESNT_EXIST`.
    pub code: Option<String>,
    /// Where (e.g. a field).
    #[serde(rename = "in")]
    pub in_: Option<String>,
    /// Context values.
    pub context: Option<BTreeMap<String, serde_json::Value>>,
    /// Finer category.
    pub sub_category: Option<String>,
}

/// HubSpot's standard error body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiErrorBody {
    /// Usually `"error"`.
    pub status: Option<String>,
    /// Human message.
    pub message: Option<String>,
    /// Id to quote to HubSpot support.
    pub correlation_id: Option<String>,
    /// e.g. `VALIDATION_ERROR`, `MISSING_SCOPES`, `EXPIRED_AUTHENTICATION`.
    pub category: Option<String>,
    /// Finer category.
    pub sub_category: Option<String>,
    /// Rate-limit bodies carry `RATE_LIMIT` here instead of `category`.
    pub error_type: Option<String>,
    /// Rate-limit policy (`DAILY`, `SECONDLY`, `TEN_SECONDLY_ROLLING`).
    pub policy_name: Option<String>,
    /// Sub-errors.
    pub errors: Vec<ApiSubError>,
    /// Context values (e.g. `requiredGranularScopes`).
    pub context: Option<BTreeMap<String, serde_json::Value>>,
}

impl ApiErrorBody {
    /// The category, or the rate-limit `errorType`.
    pub fn kind(&self) -> Option<&str> {
        self.category.as_deref().or(self.error_type.as_deref())
    }
}

/// HubSpot's OAuth error body: RFC 6749 fields plus the legacy `status`/`message`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthErrorBody {
    /// RFC 6749 error, e.g. `invalid_grant`, `invalid_client`.
    pub error: Option<String>,
    /// RFC 6749 description.
    pub error_description: Option<String>,
    /// Legacy HubSpot status, e.g. `BAD_REFRESH_TOKEN`, `EXPIRED_AUTH_CODE`.
    pub status: Option<String>,
    /// Legacy HubSpot message.
    pub message: Option<String>,
    /// Standard error category when the generic error shape is used.
    pub category: Option<String>,
    /// Correlation id when present.
    #[serde(rename = "correlationId")]
    pub correlation_id: Option<String>,
}

impl OAuthErrorBody {
    /// The best human message available.
    pub fn describe(&self) -> &str {
        self.message
            .as_deref()
            .or(self.error_description.as_deref())
            .or(self.error.as_deref())
            .unwrap_or("no details")
    }
}

impl fmt::Display for OAuthErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}{})",
            self.describe(),
            self.error.as_deref().unwrap_or("-"),
            self.status.as_deref().map(|s| format!("/{s}")).unwrap_or_default()
        )
    }
}

impl oauth2::ErrorResponse for OAuthErrorBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_bodies() {
        let b: ApiErrorBody = serde_json::from_str(
            r#"{"status":"error","message":"Property values were not valid","correlationId":"8a3f",
            "category":"VALIDATION_ERROR","errors":[{"message":"x","code":"PROPERTY_DOESNT_EXIST",
            "context":{"propertyName":["p"]}}],"context":{},"links":{}}"#,
        )
        .unwrap();
        assert_eq!(b.kind(), Some("VALIDATION_ERROR"), "category");
        assert_eq!(b.correlation_id.as_deref(), Some("8a3f"), "correlation id kept");
        assert_eq!(b.errors[0].code.as_deref(), Some("PROPERTY_DOESNT_EXIST"), "sub-error code");
        let r: ApiErrorBody = serde_json::from_str(
            r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#,
        )
        .unwrap();
        assert_eq!(r.kind(), Some("RATE_LIMIT"), "errorType used as kind");
        let o: OAuthErrorBody = serde_json::from_str(
            r#"{"error":"invalid_grant","error_description":"refresh token is invalid","status":"BAD_REFRESH_TOKEN","message":"refresh token is invalid"}"#,
        )
        .unwrap();
        assert_eq!(o.status.as_deref(), Some("BAD_REFRESH_TOKEN"), "legacy status");
        assert_eq!(
            o.to_string(),
            "refresh token is invalid (invalid_grant/BAD_REFRESH_TOKEN)",
            "display"
        );
    }
}
