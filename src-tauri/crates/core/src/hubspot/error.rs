//! HubSpot errors: *the API said no* (parsed standard or OAuth error body + HTTP status),
//! *transport*, *decode* (with the path and raw body), and local states (not connected,
//! reconnect needed, OAuth flow outcomes). [`Error::code`] classifies them for the UI.

use std::time::Duration;

use crate::error::ErrorCode;
use crate::hubspot::models::{ApiErrorBody, OAuthErrorBody};

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which OAuth grant failed; the same `invalid_grant` means different things for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Authorization-code exchange.
    Code,
    /// Refresh-token exchange.
    Refresh,
}

/// A HubSpot failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// HubSpot answered an API call with an error status.
    #[error("HubSpot answered {status}: {}", body.message.as_deref().unwrap_or("no message"))]
    Api {
        /// HTTP status.
        status: u16,
        /// Parsed error body (empty when the body was not JSON).
        body: Box<ApiErrorBody>,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// The token endpoint refused a grant.
    #[error("HubSpot refused the {grant:?} grant: {body}")]
    OAuth {
        /// Which grant.
        grant: Grant,
        /// Parsed OAuth error body.
        body: Box<OAuthErrorBody>,
    },
    /// The request did not complete (DNS, connect, TLS, timeout).
    #[error("could not reach HubSpot: {0}")]
    Transport(#[from] reqwest::Error),
    /// A success response did not have the expected shape.
    #[error("unexpected HubSpot response at `{path}`: {message}")]
    Decode {
        /// JSON path where decoding failed.
        path: String,
        /// What was wrong.
        message: String,
        /// The raw body (never from a token endpoint, which would hold tokens).
        body: String,
    },
    /// No HubSpot connection.
    #[error("HubSpot is not connected")]
    NotConnected,
    /// The refresh token was refused; a new install is needed.
    #[error("HubSpot refused the stored refresh token: {0}")]
    ReconnectNeeded(String),
    /// The keychain failed.
    #[error(transparent)]
    Keychain(#[from] crate::secrets::SecretError),
    /// Something else (token endpoint oddities, local failures).
    #[error("{0}")]
    Other(String),
    /// A transient failure outlasted the retries.
    #[error(
        "{call} kept failing after {attempts} attempts over {waited_s} s of waiting; last: {last}"
    )]
    Exhausted {
        /// The call (`GET /crm/properties/2026-03/contacts`).
        call: String,
        /// Attempts made.
        attempts: u32,
        /// Seconds spent waiting between them.
        waited_s: u64,
        /// The last error.
        last: Box<Error>,
    },
}

impl Error {
    /// The UI error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Api { status, body, .. } => api_code(*status, body),
            Error::OAuth { grant, body } => oauth_code(*grant, body),
            Error::Transport(_) => ErrorCode::HubSpotUnavailable,
            Error::Decode { .. } => ErrorCode::HubSpotUnavailable,
            Error::NotConnected => ErrorCode::HubSpotNotConnected,
            Error::ReconnectNeeded(_) => ErrorCode::HubSpotReconnectNeeded,
            Error::Keychain(_) => ErrorCode::KeychainUnavailable,
            Error::Other(_) => ErrorCode::HubSpotUnavailable,
            Error::Exhausted { last, .. } => last.code(),
        }
    }

    /// Whether trying again may help, and after how long when HubSpot said so. The rolling
    /// 10-second limit's 429 carries no `Retry-After`: the backoff waits then. A `DAILY` 429 is
    /// final for today.
    pub fn verdict(&self) -> crate::run::retry::Verdict {
        use crate::run::retry::Verdict;
        match self {
            Error::Api { status: 429, body, .. }
                if body.policy_name.as_deref() == Some("DAILY") =>
            {
                Verdict::Stop
            }
            Error::Api { status: 429, retry_after, .. } => Verdict::Retry(*retry_after),
            Error::Api { status, .. } if *status >= 500 || matches!(status, 408 | 423) => {
                Verdict::Retry(None)
            }
            Error::Transport(_) | Error::Decode { .. } => Verdict::Retry(None),
            _ => Verdict::Stop,
        }
    }

    /// The error after retrying: itself after one attempt or a final answer, else
    /// [`Error::Exhausted`].
    pub fn gave_up(call: String, g: crate::run::retry::GaveUp<Error>) -> Self {
        let stopped = g.last.verdict() == crate::run::retry::Verdict::Stop;
        g.into_error(stopped, |attempts, waited_s, last| Error::Exhausted {
            call,
            attempts,
            waited_s,
            last,
        })
    }

    /// HubSpot's correlation id, to quote to their support.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Api { body, .. } => body.correlation_id.as_deref(),
            Error::OAuth { body, .. } => body.correlation_id.as_deref(),
            _ => None,
        }
    }

    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn api_code(status: u16, body: &ApiErrorBody) -> ErrorCode {
    match (status, body.kind()) {
        (_, Some("MISSING_SCOPES")) => ErrorCode::HubSpotMissingScopes,
        (429, _) | (_, Some("RATE_LIMIT")) => ErrorCode::HubSpotRateLimited,
        (401, _) => ErrorCode::HubSpotInvalidToken,
        (403, _) => ErrorCode::HubSpotMissingScopes,
        (s, _) if s >= 500 => ErrorCode::HubSpotUnavailable,
        _ => ErrorCode::HubSpotRequestRejected,
    }
}

fn oauth_code(grant: Grant, body: &OAuthErrorBody) -> ErrorCode {
    match body.status.as_deref() {
        Some("EXPIRED_AUTH_CODE") => return ErrorCode::HubSpotCodeExpired,
        Some("BAD_AUTH_CODE") => return ErrorCode::HubSpotCodeInvalid,
        Some("MISMATCH_REDIRECT_URI_AUTH_CODE" | "BAD_REDIRECT_URI") => {
            return ErrorCode::HubSpotRedirectMismatch
        }
        Some("BAD_REFRESH_TOKEN") => return ErrorCode::HubSpotReconnectNeeded,
        Some("BAD_CLIENT_ID" | "BAD_CLIENT_SECRET" | "INVALID_CLIENT") => {
            return ErrorCode::HubSpotBadClient
        }
        _ => {}
    }
    let text = body.describe().to_ascii_lowercase();
    match (body.error.as_deref(), grant) {
        (Some("invalid_client" | "unauthorized_client"), _) => ErrorCode::HubSpotBadClient,
        (Some("invalid_grant"), Grant::Refresh) => ErrorCode::HubSpotReconnectNeeded,
        (Some("invalid_grant"), Grant::Code) if text.contains("redirect") => {
            ErrorCode::HubSpotRedirectMismatch
        }
        (Some("invalid_grant"), Grant::Code) if text.contains("expired") => {
            ErrorCode::HubSpotCodeExpired
        }
        (Some("invalid_grant"), Grant::Code) => ErrorCode::HubSpotCodeInvalid,
        (Some("invalid_request"), _) if text.contains("redirect") => {
            ErrorCode::HubSpotRedirectMismatch
        }
        (Some(_), _) => ErrorCode::HubSpotBadClient,
        (None, _) => ErrorCode::HubSpotUnavailable,
    }
}

impl From<Error> for crate::Error {
    fn from(e: Error) -> Self {
        let code = e.code();
        let what = match &e {
            Error::Api { body, .. } => body.message.clone().unwrap_or_else(|| e.to_string()),
            Error::OAuth { body, .. } => body.describe().to_owned(),
            other => other.to_string(),
        };
        let todo = match code {
            ErrorCode::HubSpotNotConnected => "Connect HubSpot on the Connect screen first.",
            ErrorCode::HubSpotReconnectNeeded => {
                "The app was uninstalled or the token revoked: click Reconnect and approve the install again."
            }
            ErrorCode::HubSpotCodeExpired => {
                "The authorization code expired: click Install again and finish within a few minutes."
            }
            ErrorCode::HubSpotCodeInvalid => {
                "The authorization code was refused (already used or mistyped): click Install again."
            }
            ErrorCode::HubSpotRedirectMismatch => {
                "Register every redirect URI shown on the Connect screen in your HubSpot app's Auth settings, exactly as shown, then install again."
            }
            ErrorCode::HubSpotBadClient => {
                "Check the client id and client secret in your HubSpot app's Auth settings and enter them again."
            }
            ErrorCode::HubSpotInvalidToken => {
                "HubSpot refused the token: check it (or create a new one) and paste it again."
            }
            ErrorCode::HubSpotMissingScopes => {
                "Add the missing scopes to your HubSpot app (or private app) and reconnect."
            }
            ErrorCode::HubSpotRateLimited => "HubSpot's rate limit was hit: wait a moment and retry.",
            ErrorCode::HubSpotUnavailable => {
                "Check your internet connection and HubSpot's status page, then retry."
            }
            ErrorCode::KeychainUnavailable => {
                "The app keeps tokens only in the OS keychain, never in a file."
            }
            _ => "Check the request and retry.",
        };
        let corr = e
            .correlation_id()
            .map(|c| format!(" (HubSpot correlation id {c})"))
            .unwrap_or_default();
        crate::Error::new(code, format!("{what}{corr}. {todo}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(error: Option<&str>, status: Option<&str>, msg: &str) -> OAuthErrorBody {
        OAuthErrorBody {
            error: error.map(Into::into),
            status: status.map(Into::into),
            message: Some(msg.into()),
            ..Default::default()
        }
    }

    #[test]
    fn oauth_errors_map_to_codes() {
        let cases = [
            (
                Grant::Code,
                oauth(Some("invalid_grant"), Some("EXPIRED_AUTH_CODE"), "x"),
                ErrorCode::HubSpotCodeExpired,
            ),
            (
                Grant::Code,
                oauth(Some("invalid_grant"), Some("BAD_AUTH_CODE"), "x"),
                ErrorCode::HubSpotCodeInvalid,
            ),
            (
                Grant::Code,
                oauth(Some("invalid_grant"), Some("MISMATCH_REDIRECT_URI_AUTH_CODE"), "x"),
                ErrorCode::HubSpotRedirectMismatch,
            ),
            (
                Grant::Refresh,
                oauth(Some("invalid_grant"), Some("BAD_REFRESH_TOKEN"), "x"),
                ErrorCode::HubSpotReconnectNeeded,
            ),
            (
                Grant::Refresh,
                oauth(Some("invalid_grant"), None, "x"),
                ErrorCode::HubSpotReconnectNeeded,
            ),
            (
                Grant::Code,
                oauth(Some("invalid_client"), Some("BAD_CLIENT_ID"), "x"),
                ErrorCode::HubSpotBadClient,
            ),
            (
                Grant::Code,
                oauth(Some("invalid_grant"), None, "code expired"),
                ErrorCode::HubSpotCodeExpired,
            ),
            (Grant::Code, oauth(None, None, "boom"), ErrorCode::HubSpotUnavailable),
        ];
        for (grant, body, want) in cases {
            let got = Error::OAuth { grant, body: Box::new(body.clone()) }.code();
            assert_eq!(got, want, "{grant:?} {body:?}");
        }
    }

    #[test]
    fn api_errors_map_to_codes_and_keep_correlation_id() {
        let body = ApiErrorBody {
            category: Some("MISSING_SCOPES".into()),
            correlation_id: Some("c-1".into()),
            message: Some("This app hasn't been granted all required scopes".into()),
            ..Default::default()
        };
        let e = Error::Api { status: 403, body: Box::new(body), retry_after: None };
        assert_eq!(e.code(), ErrorCode::HubSpotMissingScopes, "missing scopes");
        let ui: crate::Error = e.into();
        assert!(ui.message.contains("c-1"), "correlation id in message: {}", ui.message);
        assert!(ui.message.contains("Add the missing scopes"), "says what to do");
        let rl = Error::Api { status: 429, body: Box::default(), retry_after: None };
        assert_eq!(rl.code(), ErrorCode::HubSpotRateLimited, "429");
        let s = Error::Api { status: 502, body: Box::default(), retry_after: None };
        assert_eq!(s.code(), ErrorCode::HubSpotUnavailable, "5xx");
        let v = Error::Api { status: 400, body: Box::default(), retry_after: None };
        assert_eq!(v.code(), ErrorCode::HubSpotRequestRejected, "400");
    }
}
