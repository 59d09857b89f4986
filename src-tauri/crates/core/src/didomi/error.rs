//! Didomi errors: the API said no (parsed `{code, name, message, errors}` body + status),
//! refused credentials, transport (unreachable), decode. [`Error::code`] classifies them.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ErrorCode;

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Didomi's error body (didomi-api.md §3 "Error format"). Parsed loosely.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ApiErrorBody {
    /// HTTP status repeated.
    pub code: Option<serde_json::Value>,
    /// e.g. `BadRequest`, `NotAuthenticated`, `Forbidden`.
    pub name: Option<String>,
    /// Human message.
    pub message: Option<String>,
    /// Sub-errors (array or object).
    pub errors: Option<serde_json::Value>,
}

/// A Didomi failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `POST /v1/sessions` refused the key/secret.
    #[error("Didomi refused the API key and secret ({status}: {})", body.message.as_deref().unwrap_or("no message"))]
    BadCredentials {
        /// HTTP status (400 per the docs).
        status: u16,
        /// Parsed body.
        body: ApiErrorBody,
    },
    /// Any other error status.
    #[error("Didomi answered {status}: {}", body.message.as_deref().unwrap_or("no message"))]
    Api {
        /// HTTP status.
        status: u16,
        /// Parsed body.
        body: ApiErrorBody,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// The request did not complete.
    #[error("could not reach Didomi: {0}")]
    Transport(#[from] reqwest::Error),
    /// A success response did not have the expected shape.
    #[error("unexpected Didomi response at `{path}`: {message}")]
    Decode {
        /// JSON path.
        path: String,
        /// What was wrong.
        message: String,
        /// Raw body (never from `/sessions`, which holds a token).
        body: String,
    },
    /// The keychain failed.
    #[error(transparent)]
    Keychain(#[from] crate::secrets::SecretError),
    /// A transient failure outlasted the retries.
    #[error(
        "{call} kept failing after {attempts} attempts over {waited_s} s of waiting; last: {last}"
    )]
    Exhausted {
        /// The call (`GET /v1/config-trees`).
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
    /// Whether trying again may help, and after how long when Didomi said so.
    pub fn verdict(&self) -> crate::run::retry::Verdict {
        use crate::run::retry::Verdict;
        match self {
            Error::Api { status: 429, retry_after, .. } => Verdict::Retry(*retry_after),
            Error::Api { status, .. } if *status >= 500 || *status == 408 => Verdict::Retry(None),
            Error::Transport(_) | Error::Decode { .. } => Verdict::Retry(None),
            _ => Verdict::Stop,
        }
    }

    /// `e` after `gave_up`: the error itself after one attempt, else [`Error::Exhausted`].
    pub fn gave_up(call: String, g: crate::run::retry::GaveUp<Error>) -> Self {
        let stopped = g.last.verdict() == crate::run::retry::Verdict::Stop;
        g.into_error(stopped, |attempts, waited_s, last| Error::Exhausted {
            call,
            attempts,
            waited_s,
            last,
        })
    }
}

impl Error {
    /// The UI error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadCredentials { .. } => ErrorCode::DidomiBadCredentials,
            Error::Api { status: 401, .. } => ErrorCode::DidomiBadCredentials,
            Error::Api { status: 403 | 404, .. } => ErrorCode::DidomiWrongOrganization,
            Error::Api { status: 429, .. } => ErrorCode::DidomiRateLimited,
            Error::Api { .. } => ErrorCode::DidomiUnavailable,
            Error::Transport(e) if e.is_connect() || e.is_timeout() => ErrorCode::DidomiUnreachable,
            Error::Transport(_) => ErrorCode::DidomiUnreachable,
            Error::Decode { .. } => ErrorCode::DidomiUnavailable,
            Error::Keychain(_) => ErrorCode::KeychainUnavailable,
            Error::Exhausted { last, .. } => last.code(),
        }
    }
}

impl From<Error> for crate::Error {
    fn from(e: Error) -> Self {
        let code = e.code();
        let todo = match code {
            ErrorCode::DidomiBadCredentials => {
                "Check the private API key and secret (Didomi Console → your organization → Settings → Private API keys) and enter them again."
            }
            ErrorCode::DidomiWrongOrganization => {
                "Check the organization id (shown in the Didomi Console URL) and that this API key belongs to that organization."
            }
            ErrorCode::DidomiUnreachable => {
                "Check your internet connection (and proxy/firewall) and that api.didomi.io is reachable, then retry."
            }
            ErrorCode::DidomiRateLimited => "Didomi's rate limit was hit: wait 15 seconds and retry.",
            ErrorCode::KeychainUnavailable => {
                "The app keeps tokens only in the OS keychain, never in a file."
            }
            _ => "Retry in a moment; if it persists, check Didomi's status page.",
        };
        crate::Error::new(code, format!("{e}. {todo}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let body: ApiErrorBody = serde_json::from_str(
            r#"{ "code": 400, "name": "BadRequest", "message": "Invalid authentication information", "errors": {} }"#,
        )
        .unwrap();
        let e = Error::BadCredentials { status: 400, body };
        assert_eq!(e.code(), ErrorCode::DidomiBadCredentials, "sessions 400");
        let ui: crate::Error = e.into();
        assert!(ui.message.contains("Invalid authentication information"), "what happened");
        assert!(ui.message.contains("Private API keys"), "what to do");
        let f = Error::Api { status: 403, body: ApiErrorBody::default(), retry_after: None };
        assert_eq!(f.code(), ErrorCode::DidomiWrongOrganization, "403 = wrong org");
        let r = Error::Api { status: 429, body: ApiErrorBody::default(), retry_after: None };
        assert_eq!(r.code(), ErrorCode::DidomiRateLimited, "429");
        let s = Error::Api { status: 503, body: ApiErrorBody::default(), retry_after: None };
        assert_eq!(s.code(), ErrorCode::DidomiUnavailable, "5xx");
    }
}
