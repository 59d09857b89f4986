/**
 * The state of the push started from this window, kept outside React so that leaving the Sync
 * screen and coming back (or opening History meanwhile) does not lose a running sync's progress
 * or its result. Components read it with `usePushRun()` and start/cancel through `startPush` /
 * `cancelPush`.
 */
import { useSyncExternalStore } from 'react'

import * as backend from './backend'
import type { BackendError } from './errors'
import type { RunReport, SyncProgress, SyncRequest } from './syncTypes'

/** Everything the Sync screen shows about the current (or last) push. */
export interface PushRunState {
  /** The request of the running or last run; `null` before the first one. */
  request: SyncRequest | null
  /** A run is going (started and not yet answered). */
  running: boolean
  /** Cancel was asked and the run has not answered yet. */
  cancelling: boolean
  /** The last progress update received. */
  progress: SyncProgress | null
  /** The last run's report. */
  report: RunReport | null
  /** The last run's failure (a refusal to start, or an error that ended it). */
  error: BackendError | null
}

const IDLE: PushRunState = {
  request: null,
  running: false,
  cancelling: false,
  progress: null,
  report: null,
  error: null
}

let state: PushRunState = IDLE
const listeners = new Set<() => void>()

function set(change: Partial<PushRunState>) {
  state = { ...state, ...change }
  listeners.forEach((l) => l())
}

function subscribe(listener: () => void) {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The current run state; re-renders on every change. */
export function usePushRun(): PushRunState {
  return useSyncExternalStore(subscribe, () => state)
}

/** Starts a run unless one is going; resolves when it ended (the state holds the outcome). */
export async function startPush(request: SyncRequest): Promise<void> {
  if (state.running) return
  set({ request, running: true, cancelling: false, progress: null, report: null, error: null })
  try {
    const report = await backend.pushRun(request, (progress) => {
      // A late update must not overwrite the final state.
      if (state.running) set({ progress })
    })
    set({ running: false, cancelling: false, report })
  } catch (e) {
    set({ running: false, cancelling: false, error: e as BackendError })
  }
}

/** Asks the running push to stop after the batches in flight. */
export async function cancelPush(): Promise<void> {
  if (!state.running || state.cancelling) return
  set({ cancelling: true })
  try {
    await backend.runCancel()
  } catch (e) {
    set({ cancelling: false, error: e as BackendError })
  }
}

/** Clears the shown error (the user dismissed it). */
export function dismissPushError(): void {
  set({ error: null })
}
