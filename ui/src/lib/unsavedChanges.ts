/**
 * A tiny registry that lets a screen with unsaved work (the Mapping screen) hold back
 * navigation: the app frame asks `navigationBlocker()` before switching screens and shows the
 * returned question; closing the window asks too (`beforeunload`).
 */
import { useEffect } from 'react'

let blocker: string | null = null

/** The question to ask before leaving the current screen, or `null` when nothing is unsaved. */
export function navigationBlocker(): string | null {
  return blocker
}

function onBeforeUnload(e: BeforeUnloadEvent) {
  if (blocker !== null) e.preventDefault()
}

/** While `dirty`, navigation away asks `question` first. */
export function useUnsavedChanges(dirty: boolean, question: string) {
  useEffect(() => {
    if (!dirty) return
    blocker = question
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => {
      blocker = null
      window.removeEventListener('beforeunload', onBeforeUnload)
    }
  }, [dirty, question])
}
