//! The error that crosses to the UI: a classified `{ code, message }`.
//!
//! The UI branches on [`ErrorCode`], never on the message. Every message says what happened
//! AND what to do, and never contains a secret. Module errors ([`crate::hubspot::Error`],
//! [`crate::didomi::Error`], [`crate::secrets::SecretError`], [`crate::settings::SettingsError`])
//! convert into [`Error`] here, in one place.

use serde::Serialize;
use ts_rs::TS;

/// Stable error codes. Crosses IPC as a string union.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[ts(export)]
pub enum ErrorCode {
    /// The OS keychain cannot be used (no Secret Service, locked, refused).
    KeychainUnavailable,
    /// No HubSpot connection yet.
    HubSpotNotConnected,
    /// The refresh token was refused (revoked, app uninstalled): install again.
    HubSpotReconnectNeeded,
    /// The user declined the install in HubSpot.
    HubSpotOAuthDenied,
    /// A callback or pasted URL carried a `state` that is not this install's.
    HubSpotOAuthStateMismatch,
    /// No callback arrived in time.
    HubSpotOAuthTimeout,
    /// The install was cancelled in the app.
    HubSpotOAuthCancelled,
    /// The authorization code expired before it was exchanged.
    HubSpotCodeExpired,
    /// The authorization code was refused (already used, mistyped).
    HubSpotCodeInvalid,
    /// HubSpot refused the redirect URI (not registered on the app, or not the one used).
    HubSpotRedirectMismatch,
    /// HubSpot refused the client id or client secret.
    HubSpotBadClient,
    /// HubSpot refused the token (private-app token wrong or revoked).
    HubSpotInvalidToken,
    /// The connection lacks scopes the app needs.
    HubSpotMissingScopes,
    /// HubSpot rate limit hit.
    HubSpotRateLimited,
    /// The account's daily HubSpot API allowance (private apps) is (nearly) used up: the run
    /// stopped; the rest goes after HubSpot's daily reset.
    HubSpotDailyLimit,
    /// HubSpot could not be reached or failed (5xx, network).
    HubSpotUnavailable,
    /// HubSpot refused a request for another reason (validation, not found, conflict).
    HubSpotRequestRejected,
    /// None of the loopback callback ports could be bound.
    HubSpotCallbackPortsBusy,
    /// Didomi refused the API key / secret.
    DidomiBadCredentials,
    /// The key cannot read that organization (wrong id or no access).
    DidomiWrongOrganization,
    /// Didomi could not be reached.
    DidomiUnreachable,
    /// Didomi rate limit hit.
    DidomiRateLimited,
    /// Didomi failed (5xx) or answered something unexpected.
    DidomiUnavailable,
    /// Didomi is not connected yet.
    DidomiNotConnected,
    /// Settings could not be loaded or saved.
    SettingsInvalid,
    /// The input given is not valid (empty field, malformed URL).
    InvalidInput,
    /// A bug or an unexpected state.
    Internal,
    /// A sync cannot start: nothing is mapped yet.
    MappingEmpty,
    /// A sync cannot start: mapped Didomi items or HubSpot properties no longer exist.
    MappingStale,
    /// A sync is already running; wait for it or cancel it.
    SyncAlreadyRunning,
    /// A sync stopped before the end (HubSpot or Didomi kept failing, the state database failed).
    SyncFailed,
    /// The sync state and history database could not be opened or written.
    SyncStateUnavailable,
    /// A HubSpot property was chosen for a second row (the message names the row holding it).
    MappingDuplicateTarget,
    /// A mapping draft has problems (unknown item or property, incompatible type, ambiguous
    /// labels); nothing was saved.
    MappingInvalid,
    /// The account given for the bidirectional flow is not the connected HubSpot portal.
    BidirectionalAccountMismatch,
    /// A property the app needs exists with another type; it was left untouched.
    PropertyConflict,
    /// An import file cannot be read (too large, not JSON, wrong shape or version); nothing
    /// was applied.
    ImportInvalid,
    /// An import file does not fit the live HubSpot properties or Didomi configuration;
    /// nothing was applied.
    ImportIncompatible,
    /// The import file changed since its preview; preview it again.
    ImportChanged,
    /// A pull cannot start: the bidirectional flow is off (turn it on in Options).
    BidirectionalOff,
}

/// The error type of every [`crate::Core`] operation. Serializes as `{ code, message }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
#[ts(export, rename = "CoreError")]
pub struct Error {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened and what to do.
    pub message: String,
}

impl Error {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// Input validation failure.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }
}

impl From<crate::secrets::SecretError> for Error {
    fn from(e: crate::secrets::SecretError) -> Self {
        // The detail (D-Bus errors and the like) was logged; the user gets the next step.
        Self::new(
            ErrorCode::KeychainUnavailable,
            format!("{e}. The app keeps tokens only in the OS keychain, never in a file."),
        )
    }
}

impl From<crate::settings::SettingsError> for Error {
    fn from(e: crate::settings::SettingsError) -> Self {
        Self::new(ErrorCode::SettingsInvalid, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let e = Error::new(ErrorCode::HubSpotOAuthDenied, "You declined. Click Install again.");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": "HubSpotOAuthDenied", "message": "You declined. Click Install again."}),
            "IPC shape is {{code, message}}"
        );
    }

    #[test]
    fn keychain_error_maps_to_its_code_with_advice() {
        let e: Error = crate::secrets::SecretError::Unavailable(
            "Platform secure storage failure: DBus error: /usr/bin/dbus-launch terminated".into(),
        )
        .into();
        assert_eq!(e.code, ErrorCode::KeychainUnavailable, "code");
        assert!(
            e.message.contains(crate::secrets::keychain_advice()),
            "message says what to do on this OS: {}",
            e.message
        );
        assert!(!e.message.contains("dbus-launch"), "no internals: {}", e.message);
    }
}
