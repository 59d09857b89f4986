import { describe, expect, it } from 'vitest'

import { BackendError, errorTitle, toBackendError } from './errors'

describe('toBackendError', () => {
  it('keeps the code and message the backend sent', () => {
    const e = toBackendError({ code: 'HubSpotOAuthDenied', message: 'Declined. Retry.' }, 'x')
    expect(e, 'a BackendError').toBeInstanceOf(BackendError)
    expect(e.code, 'code from the backend').toBe('HubSpotOAuthDenied')
    expect(e.message, 'message from the backend').toBe('Declined. Retry.')
    expect(e.command, 'command name attached').toBe('x')
  })

  it('maps a bare string (Tauri-level failure) to Internal and keeps its text', () => {
    const e = toBackendError('command foo not allowed by ACL', 'foo')
    expect(e.code, 'unknown failures are Internal').toBe('Internal')
    expect(e.message, 'the text stays visible').toContain('not allowed by ACL')
  })

  it('maps Error objects and unknown values to Internal', () => {
    expect(toBackendError(new Error('boom'), 'c').code, 'Error → Internal').toBe('Internal')
    expect(toBackendError(42, 'c').message, 'unknown value names the command').toContain('c')
  })

  it('returns an existing BackendError unchanged', () => {
    const e = new BackendError('InvalidInput', 'Empty.', 'c')
    expect(toBackendError(e, 'other'), 'same object').toBe(e)
  })
})

describe('errorTitle', () => {
  it('gives every code a distinct, non-empty title', () => {
    const codes = [
      'KeychainUnavailable',
      'HubSpotOAuthDenied',
      'HubSpotCodeExpired',
      'DidomiBadCredentials',
      'DidomiWrongOrganization'
    ] as const
    const titles = codes.map((c) => errorTitle(c))
    expect(new Set(titles).size, 'titles differ per code').toBe(codes.length)
    expect(errorTitle('KeychainUnavailable'), 'keychain title').toBe('Secure storage unavailable')
  })
})
