// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type KeychainStatus = { state: 'unknown' } | { state: 'available' } | { state: 'unavailable'; reason: string }
