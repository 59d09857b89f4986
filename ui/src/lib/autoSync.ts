/**
 * The auto-sync status, kept outside React: one stream from Rust for the whole window
 * (subscribed on first use), read by the Sync screen's card and the status bar.
 */
import { useSyncExternalStore } from 'react'

import type { AutoSyncStatus } from '../bindings/AutoSyncStatus'
import * as backend from './backend'

let status: AutoSyncStatus | null = null
let watching = false
const listeners = new Set<() => void>()

function set(next: AutoSyncStatus) {
  // A command's answer and the stream can arrive in either order: keep the newer status.
  if (status !== null && next.revision < status.revision) return
  status = next
  listeners.forEach((l) => l())
}

function subscribe(listener: () => void) {
  listeners.add(listener)
  if (!watching) {
    watching = true
    backend.autoSyncWatch(set).catch(() => {
      // Without the stream the card shows no status; the next mount tries again.
      watching = false
    })
  }
  return () => listeners.delete(listener)
}

/** The auto-sync status (`null` until Rust answered); re-renders on every change. */
export function useAutoSync(): AutoSyncStatus | null {
  return useSyncExternalStore(subscribe, () => status)
}

/** Sets the interval (or off) and shows Rust's answer at once. */
export async function setAutoSync(minutes: number | null): Promise<void> {
  set(await backend.autoSyncSet(minutes))
}
