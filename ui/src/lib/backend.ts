/**
 * The typed facade over every backend command. Components import these functions and never
 * call `invoke` themselves; every rejection is rethrown as a `BackendError` with its `code`.
 */
import { Channel, invoke } from '@tauri-apps/api/core'

import type { AppInfo } from '../bindings/AppInfo'
import type { AutoSyncStatus } from '../bindings/AutoSyncStatus'
import type { BothReport } from '../bindings/BothReport'
import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { DidomiAccount } from '../bindings/DidomiAccount'
import type { DidomiItem } from '../bindings/DidomiItem'
import type { HubSpotAccount } from '../bindings/HubSpotAccount'
import type { InspectExport } from '../bindings/InspectExport'
import type { Inspection } from '../bindings/Inspection'
import type { InspectSync } from '../bindings/InspectSync'
import type { InstallStart } from '../bindings/InstallStart'
import type { Mapping } from '../bindings/Mapping'
import type { Mode } from '../bindings/Mode'
import type { PullReport } from '../bindings/PullReport'
import type { PullSettings } from '../bindings/PullSettings'
import type { Settings } from '../bindings/Settings'
import type { SimulatedWorkflow } from '../bindings/SimulatedWorkflow'
import type { SyncOptions } from '../bindings/SyncOptions'
import type { WorkflowCheck } from '../bindings/WorkflowCheck'
import type { WorkflowGuide } from '../bindings/WorkflowGuide'
import { toBackendError } from './errors'
import type {
  BidirectionalSetup,
  ExportSummary,
  HubSpotPropertyOption,
  MappingView,
  PickedImport,
  Suggestion
} from './mappingTypes'
import type {
  CsvExport,
  RecordOutcome,
  RunReport,
  RunSummary,
  SyncProgress,
  SyncRequest
} from './syncTypes'

/** Calls one command and maps its failure to a `BackendError`. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (raw) {
    throw toBackendError(raw, command)
  }
}

/** Static facts about this run: version, mode, API bases, redirect URLs, sandbox prefill. */
export const appInfo = (): Promise<AppInfo> => call('app_info')

/** The saved settings (never contains a secret). */
export const getSettings = (): Promise<Settings> => call('settings_get')

/** Connection state of HubSpot, Didomi and the keychain, and whether both API hosts answer. */
export const connectionStatus = (): Promise<ConnectionStatus> => call('connection_status')

/** Saves the mode for the next start and restarts the app (does not return on success). */
export const switchMode = (mode: Mode): Promise<void> => call('switch_mode', { mode })

/**
 * Starts the HubSpot OAuth install: saves the client id (and the secret, to the keychain, when
 * given), opens the browser and returns the authorize URL at once.
 */
export const hubspotInstallStart = (
  clientId: string,
  clientSecret: string | null
): Promise<InstallStart> => call('hubspot_install_start', { clientId, clientSecret })

/** Resolves when the browser redirect arrived and the code was exchanged. */
export const hubspotInstallWait = (): Promise<HubSpotAccount> => call('hubspot_install_wait')

/** Cancels a running install (the pending wait rejects with `HubSpotOAuthCancelled`). */
export const hubspotInstallCancel = (): Promise<void> => call('hubspot_install_cancel')

/** Finishes the install from a pasted redirect URL or bare code. */
export const hubspotInstallPaste = (redirectUrlOrCode: string): Promise<HubSpotAccount> =>
  call('hubspot_install_paste', { redirectUrlOrCode })

/** Connects with a private-app token or service key instead of OAuth (empty = sandbox prefill). */
export const hubspotConnectPrivateToken = (token: string): Promise<HubSpotAccount> =>
  call('hubspot_connect_private_token', { token })

/** Revokes the refresh token and deletes every HubSpot secret. */
export const hubspotDisconnect = (): Promise<void> => call('hubspot_disconnect')

/** Checks the Didomi key pair against the organization and saves it (`apiSecret` null = keep/prefill). */
export const didomiConnect = (
  apiKey: string,
  apiSecret: string | null,
  organizationId: string
): Promise<DidomiAccount> => call('didomi_connect', { apiKey, apiSecret, organizationId })

/** Forgets the Didomi credentials. */
export const didomiDisconnect = (): Promise<void> => call('didomi_disconnect')

/**
 * Runs a sync (or a dry run) and resolves with its report. Progress arrives through a Tauri
 * channel, at most ~10 updates a second, and is handed to `onProgress`. Rejects with the core's
 * refusal (not connected, mapping empty or stale, a run already going) before anything is read.
 */
export const pushRun = (
  request: SyncRequest,
  onProgress: (progress: SyncProgress) => void
): Promise<RunReport> => {
  const channel = new Channel<SyncProgress>()
  channel.onmessage = onProgress
  return call('push_run', { request, onProgress: channel })
}

/**
 * Checks, without starting anything, that a sync could run: both systems connected, something
 * mapped and no mapping entry stale against freshly read schemas. Rejects with the refusal
 * (`MappingStale` names every stale entry).
 */
export const pushCheck = (): Promise<void> => call('push_check')

/** Asks the running sync to stop after the batches in flight (its `pushRun` then resolves). */
export const runCancel = (): Promise<void> => call('run_cancel')

/** The latest runs, newest first. */
export const historyList = (limit: number): Promise<RunSummary[]> => call('history_list', { limit })

/** One page of a run's failed and skipped records. */
export const historyRecords = (
  runId: number,
  limit: number,
  offset: number
): Promise<RecordOutcome[]> => call('history_records', { runId, limit, offset })

/**
 * Asks where to save the records of a run that were not written (native save dialog) and writes
 * them as CSV, each with its outcome. Resolves with the path and row count, or `null` when the
 * dialog was closed.
 */
export const historyExportRecordsCsv = (runId: number): Promise<CsvExport | null> =>
  call('history_export_records_csv', { runId })

// ---- Options, Mapping and the config file (issue 4) ----

/** Turns upsert mode on or off; returns the saved options. */
export const optionsSetUpsert = (on: boolean): Promise<SyncOptions> =>
  call('options_set_upsert', { on })

/**
 * Enables the bidirectional flow for `account` (the portal id or a pasted HubSpot URL); creates
 * or reuses the "Didomi Changed" property.
 */
export const optionsEnableBidirectional = (account: string): Promise<BidirectionalSetup> =>
  call('options_enable_bidirectional', { account })

/** Turns the bidirectional flow off (deletes nothing in HubSpot). */
export const optionsDisableBidirectional = (): Promise<SyncOptions> =>
  call('options_disable_bidirectional')

/** The Didomi rows, compatible HubSpot properties, saved mapping and stale entries. */
export const mappingLoad = (refresh: boolean): Promise<MappingView> =>
  call('mapping_load', { refresh })

/** Saves the mapping (refused with a coded error when any entry is invalid). */
export const mappingSave = (draft: Mapping): Promise<Mapping> => call('mapping_save', { draft })

/** Creates a HubSpot property compatible with `item` and returns it. */
export const mappingCreateProperty = (item: DidomiItem): Promise<HubSpotPropertyOption> =>
  call('mapping_create_property', { item })

/** Proposals for the unmapped rows of `draft` (nothing applied). */
export const mappingSuggest = (draft: Mapping): Promise<Suggestion[]> =>
  call('mapping_suggest', { draft })

/** Asks where to save (a dialog in the shell) and exports; `null` when the user cancelled. */
export const configExport = (): Promise<ExportSummary | null> => call('config_export')

/** Asks for a file (a dialog in the shell) and previews its import; `null` when cancelled. */
export const configImportPreview = (): Promise<PickedImport | null> => call('config_import_preview')

/** Applies the previewed import (refused when the file changed since the preview). */
export const configImportApply = (token: string): Promise<Settings> =>
  call('config_import_apply', { token })

/** The workflow setup guide: the eleven steps with deep links and ticks, mapped properties, settings. */
export const workflowGuide = (): Promise<WorkflowGuide> => call('workflow_guide')

/** "Check": did the test contact's "Didomi Changed" rise after its last mapped edit? */
export const workflowCheck = (email: string): Promise<WorkflowCheck> =>
  call('workflow_check', { email })

/** Sandbox only: turns the simulated HubSpot workflow on or off. */
export const workflowSimulate = (enabled: boolean): Promise<SimulatedWorkflow> =>
  call('workflow_simulate', { enabled })

/** Saves the pull settings (conflict winner, forwarding, ticked steps). */
export const pullSettingsSave = (settings: PullSettings): Promise<PullSettings> =>
  call('pull_settings_save', { settings })

/** Runs a pull (HubSpot → Didomi) or its dry run; progress as for `pushRun`. */
export const pullRun = (
  dryRun: boolean,
  onProgress: (progress: SyncProgress) => void
): Promise<PullReport> => {
  const channel = new Channel<SyncProgress>()
  channel.onmessage = onProgress
  return call('pull_run', { dryRun, onProgress: channel })
}

/** Push then pull; progress of both arrives on one channel. */
export const pushThenPull = (
  dryRun: boolean,
  onProgress: (progress: SyncProgress) => void
): Promise<BothReport> => {
  const channel = new Channel<SyncProgress>()
  channel.onmessage = onProgress
  return call('push_then_pull', { dryRun, onProgress: channel })
}

/** Asks the running pull (or push then pull) to stop. */

/**
 * Streams the auto-sync status: the current one at once, then every change (next run time,
 * progress of an auto run, the last auto run). A later call replaces the earlier stream.
 */
export const autoSyncWatch = (onStatus: (status: AutoSyncStatus) => void): Promise<void> => {
  const channel = new Channel<AutoSyncStatus>()
  channel.onmessage = onStatus
  return call('auto_sync_watch', { onStatus: channel })
}

/** Turns auto-sync on every `minutes` minutes (5 to 1440), or off (`null`). */
export const autoSyncSet = (minutes: number | null): Promise<AutoSyncStatus> =>
  call('auto_sync_set', { minutes })

/** Looks one email up on both sides (Didomi users, mapped rows, HubSpot history, runs). */
export const inspectLookup = (email: string): Promise<Inspection> =>
  call('inspect_lookup', { email })

/**
 * "Sync this person now" (or its dry run): a push of this person alone, then a pull of it when
 * the bidirectional flow is on; each lands in History as a run of one.
 */
export const inspectSync = (
  email: string,
  dryRun: boolean,
  onProgress: (progress: SyncProgress) => void
): Promise<InspectSync> => {
  const channel = new Channel<SyncProgress>()
  channel.onmessage = onProgress
  return call('inspect_sync', { email, dryRun, onProgress: channel })
}

/** Asks where to save and writes the person's lookup as JSON; `null` when the dialog closed. */
export const inspectExport = (email: string): Promise<InspectExport | null> =>
  call('inspect_export', { email })
