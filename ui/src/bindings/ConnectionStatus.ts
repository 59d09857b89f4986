// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
import type { DidomiStatus } from './DidomiStatus'
import type { HubSpotStatus } from './HubSpotStatus'
import type { KeychainStatus } from './KeychainStatus'
export type ConnectionStatus = {
  hubspot: HubSpotStatus
  didomi: DidomiStatus
  keychain: KeychainStatus
}
