// Provisional (hand-written to the contract until `cargo test -p dhs-core` generates it).
export type InstallStart = {
  authorizeUrl: string
  redirectUri: string
  startedAt: string
  pasteExpiresAt: string
}
