/**
 * Provisional TypeScript shapes of the mapping / options / config-file contract (issue 4), used
 * until the core's ts-rs bindings for them land in `src/bindings/`. Field names follow the
 * contract exactly, so switching to the generated types is an import change.
 */
import type { DidomiItem } from '../bindings/DidomiItem'
import type { ItemKind } from '../bindings/ItemKind'
import type { Mapping } from '../bindings/Mapping'
import type { MappingEntry } from '../bindings/MappingEntry'
import type { SyncOptions } from '../bindings/SyncOptions'

/** Result of enabling the bidirectional flow. */
export type BidirectionalSetup = {
  options: SyncOptions
  groupCreated: boolean
  propertyCreated: boolean
  propertyName: string
}

/** One Didomi row of the mapping screen, in tree order. */
export type DidomiRow = {
  item: DidomiItem
  kind: ItemKind
  label: string
  depth: number
  purposeLabel: string
  preferenceLabel: string | null
  /** "Newsletter › Topics › Sports" */
  path: string
  /** For preferences: the Didomi preference type. */
  preferenceType: string | null
}

/** One option of a HubSpot enumeration property. */
export type PropertyOptionValue = { label: string; value: string }

/** A HubSpot contact property the mapping may use. */
export type HubSpotPropertyOption = {
  name: string
  label: string
  type: string
  fieldType: string
  /** Type in words, e.g. `enumeration/select (Dropdown select)`. */
  typeLabel: string
  groupName: string
  hubspotDefined: boolean
  /** Which row kinds may use it. */
  compatible: ItemKind[]
  options: PropertyOptionValue[]
}

/** Why a saved mapping entry no longer works. */
export type StaleReason =
  | 'PropertyMissing'
  | 'PropertyArchived'
  | 'PropertyIncompatible'
  | 'DidomiItemRemoved'
  | 'EncodingAmbiguous'

/** A saved entry that no longer works, with a message saying why and what to do. */
export type StaleEntry = { entry: MappingEntry; reason: StaleReason; message: string }

/** Everything the Mapping screen shows. */
export type MappingView = {
  language: string
  rows: DidomiRow[]
  properties: HubSpotPropertyOption[]
  saved: Mapping
  stale: StaleEntry[]
}

/** A proposal for an unmapped row (nothing is applied until accepted). */
export type Suggestion = {
  item: DidomiItem
  property: string
  propertyLabel: string
  score: number
}

/** Written by an export. */
export type ExportSummary = { path: string; entries: number }

/** A problem in an import file, located by JSON path and (when known) line and column. */
export type ImportProblem = {
  path: string
  line: number | null
  column: number | null
  message: string
}

/** A mapping entry as shown in the import diff. */
export type MappingEntryView = MappingEntry & { path?: string; propertyLabel?: string }

/** A changed option in the import diff. */
export type OptionChange = { name: string; before: string; after: string }

/** What an import would change. */
export type ImportDiff = {
  added: MappingEntryView[]
  changed: { before: MappingEntryView; after: MappingEntryView }[]
  removed: MappingEntryView[]
  options: OptionChange[]
}

/** The preview of an import file; `token` must be passed back to apply it. */
export type ImportPreview = {
  token: string
  fileVersion: number
  warnings: string[]
  errors: ImportProblem[]
  diff: ImportDiff
  canApply: boolean
}

/** An import file the user picked, with its preview. */
export type PickedImport = { path: string; preview: ImportPreview }
