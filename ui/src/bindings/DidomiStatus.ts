// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
import type { DidomiAccount } from './DidomiAccount'
export type DidomiStatus =
  | { state: 'notConnected' }
  | { state: 'connected'; account: DidomiAccount }
