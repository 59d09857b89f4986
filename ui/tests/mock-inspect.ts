/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
/**
 * The Inspect screen's commands for the browser tests: `inspect_lookup` answers a person with a
 * duplicate Didomi user and one mismatching row until `inspect_sync` (not a dry run) puts it
 * back; `nobody@example.com` is known to neither side; `broken@example.com` fails.
 */
import type { Inspection } from '../src/bindings/Inspection'
import type { InspectSync } from '../src/bindings/InspectSync'

type Json = Record<string, unknown>

const state = { synced: false, runs: 0 }

const counts = {
  read: 1,
  toWrite: 1,
  written: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  invalid: 0,
  duplicates: 0,
  failed: 0
}

function person(email: string): Inspection {
  const topics = state.synced ? 'Events;Offers' : 'Events'
  return {
    email,
    taken_at: '2026-12-03T12:00:00Z',
    didomi_users: [
      {
        id: 'user-newer',
        organization_user_id: email.toUpperCase(),
        updated_at: '2026-11-02T10:00:00Z',
        wins: true
      },
      {
        id: 'user-older',
        organization_user_id: email,
        updated_at: '2026-10-01T09:00:00Z',
        wins: false
      }
    ],
    winner: 'user-newer',
    winner_reason:
      '2 Didomi users share this email. user-newer (changed 2026-11-02T10:00:00Z) wins: of the users sharing an email, the one changed last wins.',
    hubspot_contact: '1042',
    rows: [
      {
        didomi_item: 'Newsletter',
        item: { kind: 'purpose', purposeId: 'newsletter' },
        property: 'didomi_newsletter',
        didomi: 'Agreed',
        expected: 'true',
        hubspot: 'true',
        match: 'match',
        explanation: 'HubSpot holds what Didomi says.'
      },
      {
        didomi_item: 'Newsletter › Topics',
        item: { kind: 'preference', purposeId: 'newsletter', preferenceId: 'topics' },
        property: 'didomi_topics',
        didomi: 'Events, Offers',
        expected: 'Events;Offers',
        hubspot: topics,
        match: state.synced ? 'match' : 'mismatch',
        explanation: state.synced
          ? 'HubSpot holds what Didomi says.'
          : 'HubSpot holds something else than Didomi says: the next push writes Didomi’s answer.'
      },
      {
        didomi_item: 'SMS',
        item: { kind: 'purpose', purposeId: 'sms' },
        property: 'didomi_sms',
        didomi: 'No answer',
        expected: null,
        hubspot: null,
        match: 'not_written',
        explanation: 'Didomi has no answer, so the push leaves HubSpot’s value as it is.'
      }
    ],
    hubspot_history: [
      {
        property: 'didomi_topics',
        value: 'Events',
        timestamp: '2026-12-01T09:00:00Z',
        source_type: 'CRM_UI',
        source: 'A person in HubSpot (user 7)',
        by_app: false,
        run_id: null
      },
      {
        property: 'didomi_topics',
        value: 'Events;Offers',
        timestamp: '2026-11-30T09:00:00Z',
        source_type: 'INTEGRATION',
        source: 'This app (push run 3)',
        by_app: true,
        run_id: 3
      }
    ],
    runs: [
      {
        id: 3,
        direction: 'Push',
        status: 'Succeeded',
        dry_run: false,
        started_at: '2026-11-30T09:00:00Z',
        message: 'Wrote didomi_newsletter, didomi_topics.'
      }
    ],
    requests: { hubspot: 1, didomi: 3 },
    searched: [email, email.toUpperCase()],
    found: true
  }
}

function syncResult(dryRun: boolean): InspectSync {
  state.runs += 1
  const id = 40 + state.runs
  return {
    push: {
      summary: {
        id,
        direction: 'Push',
        mode: 'full',
        dryRun,
        startedAt: '2026-12-03T12:01:00Z',
        finishedAt: '2026-12-03T12:01:01Z',
        durationMs: 300,
        status: 'Succeeded',
        counts: dryRun ? counts : { ...counts, written: 1, updated: 1 },
        message: null,
        auto: false
      },
      plan: dryRun
        ? {
            toCreate: 0,
            toUpdate: 1,
            unchanged: 0,
            skippedNoContact: 0,
            invalid: 0,
            duplicates: 0,
            samples: {
              create: [],
              update: ['ann@example.com'],
              skipped: [],
              invalid: [],
              duplicates: []
            },
            sampleChanges: {
              email: 'ann@example.com',
              changes: [{ property: 'didomi_topics', before: 'Events', after: 'Events;Offers' }]
            }
          }
        : null
    },
    pull: null
  }
}

/** Handles the Inspect commands; `undefined` for any other command. */
export function inspectMock(cmd: string, args: Json): unknown {
  const email = (typeof args.email === 'string' ? args.email : '').trim().toLowerCase()
  switch (cmd) {
    case 'inspect_lookup':
      if (email === 'broken@example.com')
        throw {
          code: 'HubSpotUnavailable',
          message: 'HubSpot did not answer. Check the connection and look the person up again.'
        }
      if (email === 'nobody@example.com') {
        return {
          ...person(email),
          didomi_users: [],
          winner: null,
          hubspot_contact: null,
          rows: [],
          hubspot_history: [],
          runs: [],
          found: false
        }
      }
      return person(email)
    case 'inspect_sync': {
      const dryRun = Boolean(args.dryRun)
      if (!dryRun) state.synced = true
      return syncResult(dryRun)
    }
    case 'inspect_export':
      return { path: `/tmp/dhs-dialog/inspect-${email}.json`, inspection: person(email) }
    default:
      return undefined
  }
}
