/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
/**
 * A fake backend for the browser test: answers every command through `mockIPC` with a small
 * state machine and records each call in `window.__mock.calls`. The test drives the pending
 * OAuth wait with `window.__mock.approve()` / `window.__mock.deny()`.
 * Bundled to an IIFE (tests/dist/mock-setup.js) and injected before the app's scripts.
 */
import { mockIPC } from '@tauri-apps/api/mocks'

import { inspectMock } from './mock-inspect'
import { pmpMock, type PmpScenario } from './mock-pmp'
import { syncMock, type SyncScenario } from './mock-sync'
import { workflowMock, type WorkflowScenario } from './mock-workflow'

type Json = Record<string, unknown>

const account = {
  authMode: 'oauth',
  portalId: 4242,
  hubDomain: 'sandbox-portal.hubspot.com',
  uiDomain: 'app.hubspot.com',
  user: 'admin@example.com',
  scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write'],
  missingScopes: ['crm.schemas.contacts.write'],
  accountType: 'STANDARD',
  timeZone: 'Europe/Paris',
  dataHostingLocation: 'eu1',
  contactPropertyCount: 5012,
  connectedAt: '2026-11-27T17:00:00Z'
}
const named = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, name: `${prefix} ${i}` }))
const didomiAccount = {
  apiKey: 'sandbox-key',
  organizationId: 'sandbox-org',
  purposes: named('purpose', 4),
  preferences: named('preference', 7),
  configTree: true,
  treePurposeCount: 3,
  treePreferenceCount: 5,
  connectedAt: '2026-11-27T17:00:00Z'
}

/** Set by a test (before this script runs) to start from another situation. */
const scenario =
  (
    window as unknown as {
      __mockScenario?: {
        mode?: 'Sandbox' | 'Live'
        keychainDown?: boolean
        /** Both systems connected from the start. */
        connected?: boolean
        /** How many mapping entries the saved settings hold. */
        mapped?: number
        sync?: SyncScenario
        /** Options, Mapping and config-file commands (mock-pmp.ts). */
        pmp?: PmpScenario
        /** Workflow screen commands (mock-workflow.ts). */
        workflow?: WorkflowScenario
        /** The system browser cannot be opened (xdg-open fails). */
        noBrowser?: boolean
      }
    }
  ).__mockScenario ?? {}
const keychain = scenario.keychainDown
  ? {
      state: 'unavailable',
      reason:
        'No keychain (Secret Service) is running or it is locked: log in to a desktop session with GNOME Keyring or KWallet, or start the app with ./x sandbox which starts a private one, then restart the app'
    }
  : { state: 'available' }
const live = scenario.mode === 'Live'

const state = {
  calls: [] as { cmd: string; args: Json }[],
  hubspotConnected: scenario.connected ?? false,
  didomiConnected: scenario.connected ?? false,
  installing: false,
  settle: null as null | { resolve: (v: unknown) => void; reject: (e: unknown) => void },
  approve() {
    state.hubspotConnected = true
    state.installing = false
    state.settle?.resolve(account)
    state.settle = null
  },
  deny() {
    state.settle?.reject({
      code: 'HubSpotOAuthDenied',
      message:
        'You declined the install in HubSpot. Click “Install in HubSpot” again and choose Connect app.'
    })
    state.settle = null
  }
}
;(window as unknown as { __mock: typeof state }).__mock = state

mockIPC((cmd, payload) => {
  const args = (payload ?? {}) as Json
  state.calls.push({ cmd, args })
  switch (cmd) {
    case 'app_info':
      return {
        version: '0.1.0',
        warnings: live ? ['settings.json was not usable and was moved aside.'] : [],
        environment: {
          mode: live ? 'Live' : 'Sandbox',
          hubspotApiBase: live ? 'https://api.hubapi.com/' : 'http://127.0.0.1:41001/',
          didomiApiBase: live ? 'https://api.didomi.io/' : 'http://127.0.0.1:41002/',
          redirectUris: [53134, 53135, 53136].map((p) => `http://localhost:${p}/oauth/callback`),
          keychain,
          prefill: live
            ? null
            : {
                hubspotClientId: 'sandbox-client-id',
                didomiApiKey: 'sandbox-key',
                didomiOrganizationId: 'sandbox-org'
              }
        }
      }
    case 'settings_get':
      return {
        version: 1,
        hubspot: { clientId: null, portalId: null, scopes: [] },
        didomi: { apiKey: null, organizationId: null, connectedAt: null },
        options: {
          propertyGroup: 'didomi',
          batchSize: 100,
          upsert: false,
          bidirectional: scenario.workflow?.bidirectional ?? false
        },
        mapping: {
          entries: Array.from({ length: scenario.mapped ?? 0 }, (_, i) => ({
            item: { kind: 'purpose', purposeId: `purpose-${i}` },
            property: `didomi_purpose_${i}`,
            encoding: 'labels'
          }))
        }
      }
    case 'connection_status':
      return {
        keychain,
        hubspot: {
          state: state.hubspotConnected
            ? 'connected'
            : state.installing
              ? 'installing'
              : 'notConnected',
          account: state.hubspotConnected ? account : null,
          install: null,
          notice: null
        },
        didomi: state.didomiConnected
          ? { state: 'connected', account: didomiAccount }
          : { state: 'notConnected', account: null },
        hubspotApiReachable: !live,
        didomiApiReachable: !live
      }
    case 'hubspot_install_start': {
      state.installing = true
      const now = Date.now()
      return {
        authorizeUrl:
          'http://127.0.0.1:41001/oauth/authorize?client_id=sandbox-client-id&state=abc',
        redirectUri: 'http://localhost:53134/oauth/callback',
        startedAt: new Date(now).toISOString(),
        pasteExpiresAt: new Date(now + 3600_000).toISOString(),
        pasteSecondsLeft: 3600,
        browserOpened: scenario.noBrowser !== true
      }
    }
    case 'hubspot_install_wait':
      return new Promise((resolve, reject) => {
        state.settle = { resolve, reject }
      })
    case 'hubspot_install_cancel':
      state.installing = false
      state.settle?.reject({ code: 'HubSpotOAuthCancelled', message: 'Cancelled.' })
      state.settle = null
      return null
    case 'hubspot_install_paste': {
      const text = String(args.redirectUrlOrCode)
      if (!text.includes('code=')) {
        throw {
          code: 'HubSpotCodeInvalid',
          message: 'No code in what you pasted. Paste the whole URL.'
        }
      }
      state.hubspotConnected = true
      state.installing = false
      return account
    }
    case 'hubspot_connect_private_token':
      state.hubspotConnected = true
      return account
    case 'hubspot_disconnect':
      state.hubspotConnected = false
      return null
    case 'didomi_connect':
      if (args.apiSecret === 'wrong') {
        throw {
          code: 'DidomiBadCredentials',
          message: 'Didomi refused the API key or secret. Copy both again from the Didomi console.'
        }
      }
      state.didomiConnected = true
      return didomiAccount
    case 'switch_mode':
      return null
    case 'didomi_disconnect':
      state.didomiConnected = false
      return null
    default: {
      const answer = syncMock(cmd, args, scenario.sync ?? {})
      if (answer !== undefined) return answer
      const pmp = pmpMock(cmd, args, scenario.pmp ?? {})
      if (pmp !== undefined) return pmp
      const wf = workflowMock(cmd, args, scenario.workflow ?? {})
      if (wf !== undefined) return wf
      const inspect = inspectMock(cmd, args)
      if (inspect !== undefined) return inspect
      throw { code: 'Internal', message: `mock: unknown command ${cmd}` }
    }
  }
})
