//! HubSpot's error bodies (reference §1.7, §4.3, §4.5).
//!
//! Every CRM error is the standard body `{status, message, correlationId, category, errors,
//! context, links}` with a fresh uuid `correlationId`; OAuth token-endpoint errors use the RFC 6749
//! plus legacy-HubSpot body `{error, error_description, status, message}`; 429s use the
//! rate-limit body of §4.3 verbatim (`status, message, errorType, correlationId, policyName,
//! requestId`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// One item of an error's `errors` array.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    /// Human-readable message.
    pub message: String,
    /// Machine code such as `PROPERTY_DOESNT_EXIST`, `INVALID_OPTION`, `READ_ONLY_VALUE`.
    pub code: Option<String>,
    /// Context such as `{"propertyName": ["x"]}`.
    pub context: Map<String, Value>,
}

impl ErrorDetail {
    /// A detail about one property (`context.propertyName = [name]`).
    pub fn property(code: &str, name: &str, message: String) -> Self {
        let mut context = Map::new();
        context.insert("propertyName".into(), json!([name]));
        Self { message, code: Some(code.into()), context }
    }

    fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("message".into(), json!(self.message));
        if let Some(code) = &self.code {
            o.insert("code".into(), json!(code));
        }
        o.insert("context".into(), Value::Object(self.context.clone()));
        Value::Object(o)
    }
}

/// A HubSpot API error: status code plus the standard error body (boxed to keep `Result`s small;
/// fields are reached through `Deref`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ApiErrorBody>);

impl std::ops::Deref for ApiError {
    type Target = ApiErrorBody;
    fn deref(&self) -> &ApiErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorBody {
        &mut self.0
    }
}

/// The fields of an [`ApiError`].
#[derive(Debug, Clone)]
pub struct ApiErrorBody {
    /// HTTP status.
    pub status: StatusCode,
    /// `category`, e.g. `VALIDATION_ERROR`.
    pub category: String,
    /// `subCategory`, when HubSpot sends one.
    pub sub_category: Option<String>,
    /// `message`.
    pub message: String,
    /// `errors`.
    pub errors: Vec<ErrorDetail>,
    /// `context` (map of string arrays).
    pub context: Map<String, Value>,
    /// `links`.
    pub links: Map<String, Value>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        Self(Box::new(ApiErrorBody {
            status,
            category: category.into(),
            sub_category: None,
            message: message.into(),
            errors: Vec::new(),
            context: Map::new(),
            links: Map::new(),
        }))
    }

    /// 400 `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 404 `OBJECT_NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    /// 409 `CONFLICT`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    /// 401 `INVALID_AUTHENTICATION` (missing, malformed, revoked or unknown token).
    pub fn invalid_authentication() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
    }

    /// 401 `EXPIRED_AUTHENTICATION` for a token that expired `ago_ms` ago.
    pub fn expired_authentication(ago_ms: i64) -> Self {
        let minutes = (ago_ms / 60_000).max(0);
        Self::new(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            format!("The OAuth token used to make this call expired {minutes} minute(s) ago."),
        )
    }

    /// 403 `MISSING_SCOPES`, naming the scopes of which one is required.
    pub fn missing_scopes(required: &[&str]) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        );
        e.context.insert("requiredGranularScopes".into(), json!(required));
        let mut ctx = Map::new();
        ctx.insert("requiredGranularScopes".into(), json!(required));
        e.errors.push(ErrorDetail {
            message: "One or more of the following scopes are required.".into(),
            code: None,
            context: ctx,
        });
        e.links.insert("scopes".into(), json!("https://developers.hubspot.com/scopes"));
        e
    }

    /// Adds one detail.
    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        self.errors.push(detail);
        self
    }

    /// Adds a `context` entry.
    pub fn with_context(mut self, key: &str, values: Vec<String>) -> Self {
        self.context.insert(key.into(), json!(values));
        self
    }

    /// The body as JSON with a fresh `correlationId`.
    pub fn body(&self) -> Value {
        let mut o = Map::new();
        o.insert("status".into(), json!("error"));
        o.insert("message".into(), json!(self.message));
        o.insert("correlationId".into(), json!(uuid::Uuid::new_v4().to_string()));
        o.insert("category".into(), json!(self.category));
        if let Some(sub) = &self.sub_category {
            o.insert("subCategory".into(), json!(sub));
        }
        o.insert(
            "errors".into(),
            Value::Array(self.errors.iter().map(ErrorDetail::to_json).collect()),
        );
        o.insert("context".into(), Value::Object(self.context.clone()));
        o.insert("links".into(), Value::Object(self.links.clone()));
        Value::Object(o)
    }

    /// The body as a batch `errors[]` item (`StandardError`: adds `status: "error"` and keeps
    /// the fields of the standard body except `correlationId`).
    pub fn batch_item(&self) -> Value {
        let mut v = self.body();
        if let Value::Object(o) = &mut v {
            o.remove("correlationId");
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// The standard 400 "property values were not valid" error for a list of per-property details,
/// in HubSpot's shape: the message embeds the JSON list of `{isValid, message, error, name}`.
pub fn property_values_invalid(details: Vec<ErrorDetail>) -> ApiError {
    let list: Vec<Value> = details
        .iter()
        .map(|d| {
            let name = d
                .context
                .get("propertyName")
                .and_then(|v| v.get(0))
                .cloned()
                .unwrap_or(Value::Null);
            json!({"isValid": false, "message": d.message, "error": d.code, "name": name})
        })
        .collect();
    let mut e = ApiError::validation(format!(
        "Property values were not valid: {}",
        serde_json::to_string(&list).unwrap_or_default()
    ));
    e.errors = details;
    e
}

/// Which rate-limit policy refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The rolling 10-second window (general API calls).
    TenSecondlyRolling,
    /// The per-second search window.
    Secondly,
    /// The daily limit (private-app tokens only).
    Daily,
}

impl Policy {
    /// `policyName` as HubSpot writes it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::TenSecondlyRolling => "TEN_SECONDLY_ROLLING",
            Policy::Secondly => "SECONDLY",
            Policy::Daily => "DAILY",
        }
    }
}

/// The 429 body of reference §4.3 for `policy`.
pub fn rate_limit_body(policy: Policy) -> Value {
    let message = match policy {
        Policy::TenSecondlyRolling => "You have reached your ten_secondly_rolling limit.",
        Policy::Secondly => "You have reached your secondly limit.",
        Policy::Daily => "You have reached your daily limit.",
    };
    json!({
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "policyName": policy.name(),
        "requestId": uuid::Uuid::new_v4().to_string(),
    })
}

/// An OAuth token-endpoint error (§1.7): `{error, error_description, status, message}`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// HTTP status (400, or 401 for client authentication failures).
    pub http: StatusCode,
    /// RFC 6749 `error`, e.g. `invalid_grant`.
    pub error: &'static str,
    /// Legacy HubSpot `status`, e.g. `BAD_AUTH_CODE`.
    pub status: &'static str,
    /// Human-readable text (`error_description` and `message`).
    pub message: String,
}

impl OAuthError {
    /// A 400 OAuth error.
    pub fn new(error: &'static str, status: &'static str, message: impl Into<String>) -> Self {
        Self { http: StatusCode::BAD_REQUEST, error, status, message: message.into() }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": self.message,
            "status": self.status,
            "message": self.message,
        });
        (self.http, axum::Json(body)).into_response()
    }
}

/// Parses a JSON body, answering HubSpot's 400 for malformed input.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::validation(format!("Invalid input JSON: {e}")))
}
