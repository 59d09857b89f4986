/** Small helpers over the connection status types. */
import type { KeychainStatus } from '../bindings/KeychainStatus'

/** The reason the keychain is unavailable, or `null` when it works (or is not probed yet). */
export function keychainProblem(status: KeychainStatus): string | null {
  return status.state === 'unavailable' ? status.reason : null
}
