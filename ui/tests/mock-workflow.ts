/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
/**
 * The Workflow screen part of the browser test's fake backend (see mock-setup.ts): the guide
 * with saved ticks and settings, "Check" answering by the email given (`works@…`,
 * `nobody@…`, `noedit@…`, anything else: no change seen), and the Sandbox workflow switch.
 */
import type { CheckStatus } from '../src/bindings/CheckStatus'
import type { PullSettings } from '../src/bindings/PullSettings'
import type { WorkflowGuide } from '../src/bindings/WorkflowGuide'

type Json = Record<string, unknown>

/** Scenario switches of the workflow mock. */
export interface WorkflowScenario {
  /** The bidirectional option is off. */
  bidirectionalOff?: boolean
  /** Mapped properties (default: three). */
  mapped?: string[]
  /** No portal connected (no deep links). */
  noPortal?: boolean
  /** `pull_settings_save` refuses. */
  saveFails?: boolean
  /** The saved options have the bidirectional flow on (Sync screen's pull buttons). */
  bidirectional?: boolean
}

const STEPS = Array.from({ length: 11 }, (_, i) => `Step ${i + 1} text`)
let settings: PullSettings = {
  conflictWinner: 'didomi',
  forwardToIntegrations: false,
  checkedSteps: []
}
let simulated = false

function guide(sc: WorkflowScenario): WorkflowGuide {
  const url = sc.noPortal ? null : 'https://app-eu1.hubspot.com/workflows/4242'
  return {
    portalId: sc.noPortal ? null : 4242,
    workflowsUrl: url,
    bidirectional: !sc.bidirectionalOff,
    counterProperty: 'didomi_changed',
    mappedProperties: sc.mapped ?? ['didomi_newsletter', 'didomi_topics', 'didomi_sms'],
    steps: STEPS.map((text, i) => ({
      number: i + 1,
      text,
      link: url !== null && [2, 3, 11].includes(i + 1) ? url : null,
      checked: settings.checkedSteps.includes(i + 1)
    })),
    settings
  }
}

const CHECKS: Record<string, [CheckStatus, string]> = {
  works: [
    'works',
    'The workflow works: "didomi_changed" rose to 3 after didomi_newsletter changed.'
  ],
  nobody: ['contactMissing', 'No HubSpot contact has the email nobody@example.com.'],
  noedit: ['noEdit', 'No mapped property of noedit@example.com was changed yet.']
}

/** Answers a workflow command, or `undefined` when `cmd` is not one. */
export function workflowMock(cmd: string, args: Json, sc: WorkflowScenario): unknown {
  switch (cmd) {
    case 'workflow_guide':
      return guide(sc)
    case 'pull_settings_save': {
      if (sc.saveFails) {
        throw { code: 'SyncStateUnavailable', message: 'pull state database: disk full.' }
      }
      const next = args.settings as PullSettings
      settings = { ...next, checkedSteps: [...new Set(next.checkedSteps)].sort((a, b) => a - b) }
      return settings
    }
    case 'workflow_check': {
      const email = String(args.email)
      const [status, message] = CHECKS[email.split('@')[0] ?? ''] ?? [
        'noChangeSeen',
        `didomi_newsletter changed but "didomi_changed" did not rise after it. Check that the workflow is turned on.`
      ]
      return {
        status,
        message,
        counter: status === 'works' ? '3' : null,
        lastEditedProperty: null
      }
    }
    case 'workflow_simulate':
      simulated = Boolean(args.enabled)
      return {
        enabled: simulated,
        triggerProperties: simulated ? (sc.mapped ?? ['didomi_newsletter']) : [],
        property: 'didomi_changed',
        increments: 0
      }
    case 'pull_run':
      return pullReport(Boolean(args.dryRun))
    case 'push_then_pull':
      return { push: runReport(41, 'Push', false, 12), pull: pullReport(false) }
    default:
      return undefined
  }
}

function runReport(id: number, direction: 'Push' | 'Pull', dryRun: boolean, written: number) {
  return {
    summary: {
      id,
      direction,
      mode: 'incremental',
      dryRun,
      startedAt: '2026-11-27T17:50:00Z',
      finishedAt: '2026-11-27T17:50:02Z',
      durationMs: 2000,
      status: 'Succeeded',
      counts: {
        read: 3,
        toWrite: written,
        written,
        created: 0,
        updated: written,
        unchanged: 1,
        skipped: 0,
        invalid: 0,
        duplicates: 0,
        failed: 0
      },
      message: '1 conflict(s): both sides changed the same item; see the records.'
    },
    plan: null
  }
}

function pullReport(dryRun: boolean) {
  return {
    run: runReport(42, 'Pull', dryRun, dryRun ? 0 : 2),
    conflicts: [
      {
        email: 'ada@example.com',
        property: 'didomi_topics',
        hubspot: 'Events',
        didomi: 'News',
        winner: 'didomi'
      }
    ],
    plan: dryRun ? { toWrite: 2, unchanged: 1, conflicts: 1, invalid: 0, samples: [] } : null,
    searches: 1
  }
}
