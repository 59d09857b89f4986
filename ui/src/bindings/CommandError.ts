// Provisional (hand-written until `cargo test -p dhs-app` generates it).
import type { ErrorCode } from './ErrorCode'
export type CommandError = { code: ErrorCode; message: string }
