//! The one error every command returns: a classified `{ code, message }` the UI branches on.

use dhs_core::ErrorCode;
use serde::Serialize;
use ts_rs::TS;

/// A failed command as the UI receives it. The message says what happened and what to do and
/// never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CommandError {
    /// Stable code the UI branches on.
    pub code: ErrorCode,
    /// Human message: what happened and what to do.
    pub message: String,
}

impl CommandError {
    /// A failure of the shell itself (not of the core), e.g. writing `mode.json`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self { code: ErrorCode::Internal, message: message.into() }
    }
}

impl From<dhs_core::Error> for CommandError {
    fn from(e: dhs_core::Error) -> Self {
        Self { code: e.code, message: e.message }
    }
}

/// Result of every command.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_message() {
        let core = dhs_core::Error::new(ErrorCode::HubSpotOAuthDenied, "You declined. Retry.");
        let e = CommandError::from(core);
        assert_eq!(e.code, ErrorCode::HubSpotOAuthDenied, "the code reaches the UI unchanged");
        assert_eq!(e.message, "You declined. Retry.", "the message reaches the UI unchanged");
    }

    #[test]
    fn serializes_as_code_and_message() {
        let v = serde_json::to_value(CommandError::internal("Could not save. Check disk space."))
            .expect("serializable");
        assert_eq!(
            v,
            serde_json::json!({"code": "Internal", "message": "Could not save. Check disk space."}),
            "the UI's BackendError reads exactly these two fields"
        );
    }
}
