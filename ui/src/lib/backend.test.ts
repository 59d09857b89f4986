/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { afterEach, describe, expect, it } from 'vitest'

import * as backend from './backend'
import { BackendError } from './errors'

afterEach(() => clearMocks())

describe('backend facade', () => {
  it('calls each command by its Rust name with camelCase arguments', async () => {
    const calls: { cmd: string; args: unknown }[] = []
    mockIPC((cmd, args) => {
      calls.push({ cmd, args })
      if (cmd === 'hubspot_install_start') {
        return {
          authorizeUrl: 'http://127.0.0.1:1/oauth/authorize?client_id=c',
          redirectUri: 'http://localhost:53134/oauth/callback',
          startedAt: '2026-11-27T17:00:00Z',
          pasteExpiresAt: '2026-11-27T18:00:00Z'
        }
      }
      return null
    })
    const started = await backend.hubspotInstallStart('client-1', null)
    await backend.didomiConnect('key', 'secret', 'org')
    await backend.hubspotInstallPaste('http://localhost:53134/oauth/callback?code=x&state=y')
    expect(started.redirectUri, 'the result is passed through').toBe(
      'http://localhost:53134/oauth/callback'
    )
    expect(calls, 'command names and argument names match the Rust commands').toEqual([
      { cmd: 'hubspot_install_start', args: { clientId: 'client-1', clientSecret: null } },
      {
        cmd: 'didomi_connect',
        args: { apiKey: 'key', apiSecret: 'secret', organizationId: 'org' }
      },
      {
        cmd: 'hubspot_install_paste',
        args: { redirectUrlOrCode: 'http://localhost:53134/oauth/callback?code=x&state=y' }
      }
    ])
  })

  it('rethrows a command error as a BackendError with its code and the command name', async () => {
    mockIPC((cmd) => {
      if (cmd === 'hubspot_install_wait') {
        throw { code: 'HubSpotOAuthDenied', message: 'You declined the install. Click Install.' }
      }
    })
    const err: unknown = await backend.hubspotInstallWait().catch((e: unknown) => e)
    expect(err, 'a BackendError').toBeInstanceOf(BackendError)
    const be = err as BackendError
    expect(be.code, 'code kept').toBe('HubSpotOAuthDenied')
    expect(be.message, 'message kept').toBe('You declined the install. Click Install.')
    expect(be.command, 'command recorded').toBe('hubspot_install_wait')
  })
})
