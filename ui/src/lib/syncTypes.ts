/**
 * The sync and history types of the Sync and History screens, gathered in one import: the
 * core's ts-rs bindings (`dhs_core::run::dto`) and the shell's `CsvExport`.
 */
export type { CsvExport } from '../bindings/CsvExport'
export type { DryRunPlan } from '../bindings/DryRunPlan'
export type { InvalidSample } from '../bindings/InvalidSample'
export type { PropertyChange } from '../bindings/PropertyChange'
export type { RecordOutcome } from '../bindings/RecordOutcome'
export type { RunCounts } from '../bindings/RunCounts'
export type { RunReport } from '../bindings/RunReport'
export type { RunStatus } from '../bindings/RunStatus'
export type { RunSummary } from '../bindings/RunSummary'
export type { SyncDirection } from '../bindings/SyncDirection'
export type { SyncProgress } from '../bindings/SyncProgress'
export type { SyncRequest } from '../bindings/SyncRequest'
