// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type Settings = {
  version: number
  hubspot: { clientId: string | null; portalId: number | null; scopes: Array<string> }
  didomi: { apiKey: string | null; organizationId: string | null; connectedAt: string | null }
  options: { propertyGroup: string; batchSize: number }
}
