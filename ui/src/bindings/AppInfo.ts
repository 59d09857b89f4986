// Provisional (hand-written until `cargo test -p dhs-app` generates it).
import type { EnvironmentInfo } from './EnvironmentInfo'
export type AppInfo = { version: string; environment: EnvironmentInfo; warnings: Array<string> }
