// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type PrefillInfo = { hubspotClientId: string; didomiApiKey: string; didomiOrganizationId: string }
