// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type HubSpotAccount = {
  portalId: number
  hubDomain: string
  user: string | null
  scopes: Array<string>
  missingScopes: Array<string>
}
