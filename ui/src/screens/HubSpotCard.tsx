/**
 * The HubSpot card of the Connect screen: OAuth install (loopback + paste fallback), the
 * private-app/service-key alternative, and the connected-account card.
 */
import { useState } from 'react'
import { Button, Form } from 'react-aria-components'

import type { AppInfo } from '../bindings/AppInfo'
import type { HubSpotStatus } from '../bindings/HubSpotStatus'
import type { InstallStart } from '../bindings/InstallStart'
import { ConfirmDialog } from '../components/ConfirmDialog'
import { CopyValue } from '../components/CopyValue'
import { Field } from '../components/Field'
import * as backend from '../lib/backend'
import { formatDuration, secondsLeft, toEpochMs } from '../lib/countdown'
import type { BackendError } from '../lib/errors'
import { useNow } from '../lib/useNow'

/** Props of `HubSpotCard`. */
export interface HubSpotCardProps {
  info: AppInfo
  status: HubSpotStatus
  /** Client id saved in settings (prefills the field). */
  savedClientId: string | null
  /** Reports an error to the screen's alert (`null` clears it). */
  onError: (error: BackendError | null) => void
  /** Asks the app to reload the connection status. */
  onChanged: () => void
}

/** The HubSpot connection card. */
export function HubSpotCard({ info, status, savedClientId, onError, onChanged }: HubSpotCardProps) {
  const sandbox = info.environment.prefill !== null
  const [clientId, setClientId] = useState(
    savedClientId ?? info.environment.prefill?.hubspotClientId ?? ''
  )
  const [clientSecret, setClientSecret] = useState('')
  const [install, setInstall] = useState<InstallStart | null>(null)
  const [waiting, setWaiting] = useState(false)
  const [busy, setBusy] = useState(false)
  const [paste, setPaste] = useState('')
  const [privateToken, setPrivateToken] = useState('')
  const [reconnecting, setReconnecting] = useState(false)
  const [confirmDisconnect, setConfirmDisconnect] = useState(false)
  // An install the core still runs (e.g. after the window reloaded) keeps its paste fallback.
  const shown = install ?? (status.state === 'installing' ? status.install : null)
  const now = useNow(shown !== null)

  // A saved client id means an earlier install stored its secret in the keychain.
  const secretStored = savedClientId !== null && savedClientId !== ''
  const secretHint = sandbox
    ? 'prefilled (sandbox)'
    : secretStored
      ? 'stored in keychain — leave empty to keep it'
      : 'From your app’s Auth settings; kept in the system keychain, never on disk.'

  const finish = () => {
    setInstall(null)
    setWaiting(false)
    setPaste('')
    setReconnecting(false)
    setClientSecret('')
    onChanged()
  }

  const startInstall = async () => {
    onError(null)
    setBusy(true)
    try {
      const started = await backend.hubspotInstallStart(
        clientId.trim(),
        clientSecret === '' ? null : clientSecret
      )
      setInstall(started)
      setWaiting(true)
      setBusy(false)
      try {
        await backend.hubspotInstallWait()
        finish()
      } catch (e) {
        setWaiting(false)
        // The core ends the install on every failure except a timeout, after which it still
        // offers the paste; anything else goes back to the form.
        if ((e as BackendError).code !== 'HubSpotOAuthTimeout') setInstall(null)
        onError(e as BackendError)
        onChanged()
      }
    } catch (e) {
      setBusy(false)
      onError(e as BackendError)
    }
  }

  const cancelInstall = async () => {
    try {
      await backend.hubspotInstallCancel()
    } catch (e) {
      onError(e as BackendError)
    }
    setInstall(null)
    setWaiting(false)
    onChanged()
  }

  const submitPaste = async () => {
    onError(null)
    setBusy(true)
    try {
      await backend.hubspotInstallPaste(paste.trim())
      finish()
    } catch (e) {
      onError(e as BackendError)
    } finally {
      setBusy(false)
    }
  }

  const submitPrivateToken = async () => {
    onError(null)
    setBusy(true)
    try {
      await backend.hubspotConnectPrivateToken(privateToken.trim())
      setPrivateToken('')
      finish()
    } catch (e) {
      onError(e as BackendError)
    } finally {
      setBusy(false)
    }
  }

  const disconnect = async () => {
    onError(null)
    try {
      await backend.hubspotDisconnect()
    } catch (e) {
      onError(e as BackendError)
    }
    onChanged()
  }

  const account =
    status.state === 'connected' || status.state === 'reconnectNeeded' ? status.account : null
  const showForm = status.state === 'notConnected' || status.state === 'installing' || reconnecting

  return (
    <section className="card" aria-labelledby="hubspot-title">
      <header className="card-header">
        <h2 id="hubspot-title">HubSpot</h2>
        <span className={`pill ${status.state === 'connected' ? 'pill-ok' : 'pill-muted'}`}>
          {status.state === 'connected'
            ? 'Connected'
            : status.state === 'reconnectNeeded'
              ? 'Reconnect needed'
              : status.state === 'installing' || install !== null
                ? 'Installing…'
                : 'Not connected'}
        </span>
      </header>

      {status.notice !== null && (
        <p className="notice" role="status">
          {status.notice}
        </p>
      )}
      {account !== null && (
        <div className="account" data-testid="hubspot-account">
          <dl>
            <dt>Portal id</dt>
            <dd>{account.portalId ?? '—'}</dd>
            <dt>Domain</dt>
            <dd>{account.hubDomain ?? account.uiDomain ?? '—'}</dd>
            <dt>User</dt>
            <dd>{account.user ?? '—'}</dd>
            <dt>Connected with</dt>
            <dd>
              {account.authMode === 'oauth' ? 'OAuth app install' : 'Private-app token'}
              {account.dataHostingLocation !== null && ` · ${account.dataHostingLocation}`}
              {account.accountType !== null && ` · ${account.accountType}`}
            </dd>
            {account.contactPropertyCount !== null && (
              <>
                <dt>Contact properties</dt>
                <dd>{account.contactPropertyCount} readable</dd>
              </>
            )}
            <dt>Scopes</dt>
            <dd>
              <ul className="scopes" aria-label="Granted scopes">
                {account.scopes.map((s) => (
                  <li key={s} className="scope">
                    {s}
                  </li>
                ))}
                {account.missingScopes.map((s) => (
                  <li key={s} className="scope scope-missing">
                    {s} (missing)
                  </li>
                ))}
              </ul>
              {account.missingScopes.length > 0 && (
                <p className="warn-text">
                  Missing scopes are needed for syncing: reinstall the app and approve them.
                </p>
              )}
            </dd>
          </dl>
          {status.state === 'reconnectNeeded' && (
            <p className="warn-text">
              HubSpot no longer accepts this connection. Reconnect to keep syncing.
            </p>
          )}
          <div className="row">
            {status.state === 'reconnectNeeded' && !reconnecting && (
              <Button
                className="btn btn-primary"
                data-testid="hubspot-reconnect"
                onPress={() => setReconnecting(true)}
              >
                Reconnect
              </Button>
            )}
            <Button
              className="btn btn-danger-outline"
              data-testid="hubspot-disconnect"
              onPress={() => setConfirmDisconnect(true)}
            >
              Disconnect
            </Button>
          </div>
        </div>
      )}

      {showForm && shown === null && (
        <>
          <Form
            className="form"
            onSubmit={(e) => {
              e.preventDefault()
              void startInstall()
            }}
          >
            <p className="muted">
              Install your HubSpot app in your portal. Register these redirect URLs in the app’s
              Auth settings first:
            </p>
            <ul className="redirects" aria-label="Redirect URLs to register">
              {info.environment.redirectUris.map((uri) => (
                <li key={uri}>
                  <CopyValue value={uri} testId="redirect-uri" />
                </li>
              ))}
            </ul>
            <Field
              label="Client ID"
              value={clientId}
              onChange={setClientId}
              testId="hubspot-client-id"
              isRequired
            />
            <Field
              label="Client secret"
              type="password"
              value={clientSecret}
              onChange={setClientSecret}
              testId="hubspot-client-secret"
              placeholder={sandbox || secretStored ? secretHint : ''}
              description={secretHint}
            />
            <div className="row">
              <Button
                type="submit"
                className="btn btn-primary"
                data-testid="hubspot-install"
                isDisabled={busy || clientId.trim() === ''}
              >
                Install in HubSpot
              </Button>
            </div>
          </Form>

          <Form
            className="form alt"
            onSubmit={(e) => {
              e.preventDefault()
              void submitPrivateToken()
            }}
          >
            <h3>Or use a private-app token or service key</h3>
            <p className="muted">For a single portal without OAuth.</p>
            <Field
              label="Private-app token or service key"
              type="password"
              value={privateToken}
              onChange={setPrivateToken}
              testId="hubspot-private-token"
              placeholder={sandbox ? 'prefilled (sandbox)' : 'pat-…'}
            />
            <Button
              type="submit"
              className="btn"
              data-testid="hubspot-private-token-submit"
              isDisabled={busy || (!sandbox && privateToken.trim() === '')}
            >
              Connect with token
            </Button>
          </Form>
        </>
      )}

      {shown !== null && (
        <div className="install">
          {!shown.browserOpened ? (
            <p className="alert alert-warn" role="status" data-testid="hubspot-browser-failed">
              The system browser could not be opened. Copy the link below into a browser where you
              are signed in to HubSpot, approve the install, then paste the redirect URL (or the
              code) here.
            </p>
          ) : waiting ? (
            <p className="waiting" role="status">
              <span className="spinner" aria-hidden="true" /> Waiting for you to approve in the
              browser…
            </p>
          ) : (
            <p role="status">The browser did not come back. Paste the redirect URL below.</p>
          )}
          <p className="muted">
            {shown.browserOpened ? 'Browser didn’t open? ' : ''}
            <a
              href={shown.authorizeUrl}
              target="_blank"
              rel="noreferrer"
              data-testid="hubspot-authorize-url"
            >
              Open this link
            </a>{' '}
            or copy it into the browser where you are signed in to HubSpot:
          </p>
          <CopyValue value={shown.authorizeUrl} testId="hubspot-authorize-url-text" oneLine />
          <Form
            className="form"
            onSubmit={(e) => {
              e.preventDefault()
              void submitPaste()
            }}
          >
            <Field
              label="Or paste the redirect URL (or the code) from the browser"
              value={paste}
              onChange={setPaste}
              testId="hubspot-paste-input"
              placeholder={`${shown.redirectUri}?code=…&state=…`}
            />
            <p className="muted" aria-live="off">
              Time left to paste:{' '}
              <span data-testid="hubspot-paste-time-left">
                {formatDuration(secondsLeft(toEpochMs(shown.pasteExpiresAt), now))}
              </span>
            </p>
            <div className="row">
              <Button
                type="submit"
                className="btn btn-primary"
                data-testid="hubspot-paste-submit"
                isDisabled={busy || paste.trim() === ''}
              >
                Use pasted URL
              </Button>
              <Button
                className="btn"
                onPress={() => void cancelInstall()}
                data-testid="hubspot-cancel"
              >
                Cancel
              </Button>
            </div>
          </Form>
        </div>
      )}

      <ConfirmDialog
        isOpen={confirmDisconnect}
        title="Disconnect HubSpot?"
        body="The refresh token is revoked and every HubSpot secret is deleted from the keychain. Syncing stops until you connect again."
        confirmLabel="Disconnect"
        onConfirm={() => void disconnect()}
        onClose={() => setConfirmDisconnect(false)}
      />
    </section>
  )
}
