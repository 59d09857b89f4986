/**
 * The types of the Options / Mapping / config-file contract, re-exported from the bindings
 * ts-rs generates from the core and the shell (`src/bindings/`), so screens import them from
 * one place.
 */
export type { BidirectionalSetup } from '../bindings/BidirectionalSetup'
export type { ChangedEntry } from '../bindings/ChangedEntry'
export type { DidomiRow } from '../bindings/DidomiRow'
export type { ExportSummary } from '../bindings/ExportSummary'
export type { HubSpotPropertyOption } from '../bindings/HubSpotPropertyOption'
export type { ImportDiff } from '../bindings/ImportDiff'
export type { ImportPreview } from '../bindings/ImportPreview'
export type { ImportProblem } from '../bindings/ImportProblem'
export type { MappingEntryView } from '../bindings/MappingEntryView'
export type { MappingView } from '../bindings/MappingView'
export type { OptionChange } from '../bindings/OptionChange'
export type { PickedImport } from '../bindings/PickedImport'
export type { StaleEntry } from '../bindings/StaleEntry'
export type { StaleReason } from '../bindings/StaleReason'
export type { Suggestion } from '../bindings/Suggestion'
