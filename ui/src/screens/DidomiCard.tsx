/** The Didomi card of the Connect screen: API key pair + organization, and the connected card. */
import { useState } from 'react'
import { Button, Form } from 'react-aria-components'

import type { AppInfo } from '../bindings/AppInfo'
import type { DidomiStatus } from '../bindings/DidomiStatus'
import { ConfirmDialog } from '../components/ConfirmDialog'
import { Field } from '../components/Field'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'

/** Props of `DidomiCard`. */
export interface DidomiCardProps {
  info: AppInfo
  status: DidomiStatus
  /** API key saved in settings (prefills the field). */
  savedApiKey: string | null
  /** Organization id saved in settings (prefills the field). */
  savedOrganizationId: string | null
  /** Reports an error to the screen's alert (`null` clears it). */
  onError: (error: BackendError | null) => void
  /** Asks the app to reload the connection status. */
  onChanged: () => void
}

/** The Didomi connection card. */
export function DidomiCard(props: DidomiCardProps) {
  const { info, status, onError, onChanged } = props
  const sandbox = info.environment.prefill !== null
  const [apiKey, setApiKey] = useState(
    props.savedApiKey ?? info.environment.prefill?.didomiApiKey ?? ''
  )
  const [apiSecret, setApiSecret] = useState('')
  const [orgId, setOrgId] = useState(
    props.savedOrganizationId ?? info.environment.prefill?.didomiOrganizationId ?? ''
  )
  const [busy, setBusy] = useState(false)
  const [confirmDisconnect, setConfirmDisconnect] = useState(false)
  // After a restart the core knows the connection but has not re-read the lists yet.
  const acc = status.account
  const read =
    acc !== null && (acc.purposes.length > 0 || acc.preferences.length > 0 || acc.configTree)

  const connect = async () => {
    onError(null)
    setBusy(true)
    try {
      await backend.didomiConnect(apiKey.trim(), apiSecret === '' ? null : apiSecret, orgId.trim())
      setApiSecret('')
      onChanged()
    } catch (e) {
      onError(e as BackendError)
    } finally {
      setBusy(false)
    }
  }

  const disconnect = async () => {
    onError(null)
    try {
      await backend.didomiDisconnect()
    } catch (e) {
      onError(e as BackendError)
    }
    onChanged()
  }

  return (
    <section className="card" aria-labelledby="didomi-title">
      <header className="card-header">
        <h2 id="didomi-title">Didomi</h2>
        <span className={`pill ${status.state === 'connected' ? 'pill-ok' : 'pill-muted'}`}>
          {status.state === 'connected' ? 'Connected' : 'Not connected'}
        </span>
      </header>
      {status.state === 'connected' ? (
        <div className="account" data-testid="didomi-account">
          {status.account !== null && (
            <dl>
              <dt>Organization id</dt>
              <dd>{status.account.organizationId}</dd>
              <dt>API key</dt>
              <dd>{status.account.apiKey}</dd>
              {read ? (
                <>
                  <dt>Purposes in the library</dt>
                  <dd>{status.account.purposes.length}</dd>
                  <dt>Preferences in the library</dt>
                  <dd>{status.account.preferences.length}</dd>
                </>
              ) : (
                <>
                  <dt>Purposes, preferences</dt>
                  <dd>
                    Not read since the app started; disconnect and connect to read them again.
                  </dd>
                </>
              )}
              {status.account.configTree && (
                <>
                  <dt>Configuration tree</dt>
                  <dd data-testid="didomi-tree">
                    {status.account.treePurposeCount} purposes, {status.account.treePreferenceCount}{' '}
                    preferences
                    <span className="muted small">
                      {' '}
                      — what your consent notices ask, a preference counted once per place it
                      appears (nested ones included). The Mapping screen lists these; the library
                      also holds items no notice uses.
                    </span>
                  </dd>
                </>
              )}
            </dl>
          )}
          <div className="row">
            <Button
              className="btn btn-danger-outline"
              data-testid="didomi-disconnect"
              onPress={() => setConfirmDisconnect(true)}
            >
              Disconnect
            </Button>
          </div>
        </div>
      ) : (
        <Form
          className="form"
          onSubmit={(e) => {
            e.preventDefault()
            void connect()
          }}
        >
          <p className="muted">
            Create an API key in the Didomi console (Settings → API keys) and copy its key and
            secret.
          </p>
          <Field
            label="API key"
            value={apiKey}
            onChange={setApiKey}
            testId="didomi-api-key"
            isRequired
          />
          <Field
            label="API secret"
            type="password"
            value={apiSecret}
            onChange={setApiSecret}
            testId="didomi-api-secret"
            placeholder={sandbox ? 'prefilled (sandbox)' : ''}
            description={
              sandbox ? 'prefilled (sandbox)' : 'Kept in the system keychain, never on disk.'
            }
          />
          <Field
            label="Organization id"
            value={orgId}
            onChange={setOrgId}
            testId="didomi-org-id"
            isRequired
          />
          <div className="row">
            <Button
              type="submit"
              className="btn btn-primary"
              data-testid="didomi-connect"
              isDisabled={busy || apiKey.trim() === '' || orgId.trim() === ''}
            >
              Connect
            </Button>
          </div>
        </Form>
      )}
      <ConfirmDialog
        isOpen={confirmDisconnect}
        title="Disconnect Didomi?"
        body="The Didomi API secret is deleted from the keychain. Syncing stops until you connect again."
        confirmLabel="Disconnect"
        onConfirm={() => void disconnect()}
        onClose={() => setConfirmDisconnect(false)}
      />
    </section>
  )
}
