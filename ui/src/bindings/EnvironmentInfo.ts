// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
import type { KeychainStatus } from './KeychainStatus'
import type { Mode } from './Mode'
import type { PrefillInfo } from './PrefillInfo'
export type EnvironmentInfo = {
  mode: Mode
  hubspotApiBase: string
  didomiApiBase: string
  redirectUris: Array<string>
  keychain: KeychainStatus
  prefill: PrefillInfo | null
}
