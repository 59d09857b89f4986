/**
 * The one error type the UI sees from the backend: the command's `{ code, message }` plus the
 * command name. Components branch on `code`, never on message text.
 */
import type { ErrorCode } from '../bindings/ErrorCode'

/** An error returned by a backend command (or a failure to reach the backend at all). */
export class BackendError extends Error {
  /** The stable error code (`Internal` when the backend sent something unexpected). */
  readonly code: ErrorCode
  /** The command that failed, e.g. `hubspot_install_start`. */
  readonly command: string

  constructor(code: ErrorCode, message: string, command: string) {
    super(message)
    this.name = 'BackendError'
    this.code = code
    this.command = command
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/**
 * Turns whatever `invoke` rejected with into a `BackendError`. The backend sends
 * `{ code, message }`; anything else (a string from Tauri itself, an `Error`) becomes `Internal`
 * with its text kept so it is still shown.
 */
export function toBackendError(raw: unknown, command: string): BackendError {
  if (raw instanceof BackendError) return raw
  if (isRecord(raw) && typeof raw.code === 'string' && typeof raw.message === 'string') {
    return new BackendError(raw.code as ErrorCode, raw.message, command)
  }
  if (raw instanceof Error) {
    return new BackendError('Internal', `${raw.message} (command ${command})`, command)
  }
  if (typeof raw === 'string') {
    return new BackendError('Internal', `${raw} (command ${command})`, command)
  }
  return new BackendError('Internal', `The app's backend failed on ${command}.`, command)
}

/** A short, human title for each error code (the message carries the details and what to do). */
export function errorTitle(code: ErrorCode): string {
  switch (code) {
    case 'KeychainUnavailable':
      return 'Secure storage unavailable'
    case 'HubSpotNotConnected':
      return 'HubSpot is not connected'
    case 'HubSpotReconnectNeeded':
      return 'HubSpot needs to be reconnected'
    case 'HubSpotOAuthDenied':
      return 'The HubSpot install was declined'
    case 'HubSpotOAuthStateMismatch':
      return 'The HubSpot answer did not match this install'
    case 'HubSpotOAuthTimeout':
      return 'The HubSpot install timed out'
    case 'HubSpotOAuthCancelled':
      return 'The HubSpot install was cancelled'
    case 'HubSpotCodeExpired':
      return 'The HubSpot code has expired'
    case 'HubSpotCodeInvalid':
      return 'The HubSpot code was not accepted'
    case 'HubSpotRedirectMismatch':
      return 'Redirect URL not registered'
    case 'HubSpotBadClient':
      return 'HubSpot rejected the client id or secret'
    case 'HubSpotInvalidToken':
      return 'HubSpot rejected the token'
    case 'HubSpotMissingScopes':
      return 'HubSpot scopes are missing'
    case 'HubSpotRateLimited':
      return 'HubSpot is rate limiting'
    case 'HubSpotDailyLimit':
      return "HubSpot's daily API limit is nearly used up"
    case 'HubSpotUnavailable':
      return 'HubSpot is unavailable'
    case 'DidomiBadCredentials':
      return 'Didomi rejected the API key or secret'
    case 'DidomiWrongOrganization':
      return 'Wrong Didomi organization'
    case 'DidomiUnreachable':
      return 'Didomi cannot be reached'
    case 'DidomiRateLimited':
      return 'Didomi is rate limiting'
    case 'DidomiUnavailable':
      return 'Didomi is unavailable'
    case 'InvalidInput':
      return 'Please check the form'
    case 'MappingDuplicateTarget':
      return 'A HubSpot property is used twice'
    case 'MappingInvalid':
      return 'The mapping cannot be saved'
    case 'MappingStale':
      return 'The mapping needs attention'
    case 'MappingEmpty':
      return 'Nothing is mapped yet'
    case 'BidirectionalAccountMismatch':
      return 'Not the connected HubSpot account'
    case 'PropertyConflict':
      return 'A HubSpot property is in the way'
    case 'ImportInvalid':
      return 'The file cannot be imported'
    case 'ImportIncompatible':
      return 'The file does not fit these accounts'
    case 'ImportChanged':
      return 'The file changed since the preview'
    case 'SyncAlreadyRunning':
      return 'A sync is already running'
    case 'SyncFailed':
      return 'The sync stopped'
    case 'SyncStateUnavailable':
      return 'The sync history cannot be opened'
    case 'BidirectionalOff':
      return 'The bidirectional flow is off'
    case 'HubSpotRequestRejected':
      return 'HubSpot refused the request'
    case 'HubSpotCallbackPortsBusy':
      return 'No free port for the HubSpot callback'
    case 'DidomiNotConnected':
      return 'Didomi is not connected'
    case 'SettingsInvalid':
      return 'The saved settings could not be read'
    case 'Internal':
      return 'Something went wrong'
  }
}
