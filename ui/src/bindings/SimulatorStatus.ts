// Provisional (hand-written until `cargo test -p dhs-app` generates it).
export type SimulatorStatus = {
  hubspotBase: string
  didomiBase: string
  hubspotReachable: boolean
  didomiReachable: boolean
}
