// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type DidomiAccount = {
  organizationId: string
  purposeCount: number
  preferenceCount: number
}
