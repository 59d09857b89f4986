// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
import type { HubSpotAccount } from './HubSpotAccount'
export type HubSpotStatus =
  | { state: 'notConnected'; clientId: string | null; clientSecretStored: boolean }
  | { state: 'connected'; account: HubSpotAccount }
  | { state: 'reconnectNeeded'; account: HubSpotAccount | null; reason: string }
