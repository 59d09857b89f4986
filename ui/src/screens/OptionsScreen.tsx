/**
 * The Options screen: upsert mode and the bidirectional flow. Each option applies when set (no
 * separate Save). Turning the bidirectional flow on asks for the HubSpot account id (or a pasted
 * HubSpot URL), which must be the connected portal; turning it off deletes nothing.
 */
import { useState } from 'react'
import { Button, Form, Switch } from 'react-aria-components'

import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { SyncOptions } from '../bindings/SyncOptions'
import { ErrorAlert } from '../components/ErrorAlert'
import { Field } from '../components/Field'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import type { BidirectionalSetup } from '../lib/mappingTypes'
import '../components/mapping.css'

/** Props of `OptionsScreen`. */
export interface OptionsScreenProps {
  /** The saved options (`null` while loading). */
  options: SyncOptions | null
  /** Connection state (the bidirectional flow needs HubSpot). */
  status: ConnectionStatus
  /** An option was saved: the frame reloads the settings. */
  onChanged: () => void
}

/** Upsert and bidirectional switches. */
export function OptionsScreen({ options: saved, status, onChanged }: OptionsScreenProps) {
  // The last options a command returned win over the (polled) settings until these catch up.
  const [local, setLocal] = useState<SyncOptions | null>(null)
  const options = local ?? saved
  const [error, setError] = useState<BackendError | null>(null)
  const [busy, setBusy] = useState<'upsert' | 'bidi' | null>(null)
  const [asking, setAsking] = useState(false)
  const [account, setAccount] = useState('')
  const [result, setResult] = useState<BidirectionalSetup | null>(null)
  const [turnedOff, setTurnedOff] = useState(false)
  const hubspot = status.hubspot.state === 'connected'
  const portalId = status.hubspot.account?.portalId ?? null

  const apply = (which: 'upsert' | 'bidi', job: () => Promise<SyncOptions>) => {
    setBusy(which)
    setError(null)
    job().then(
      (o) => {
        setLocal(o)
        setBusy(null)
        onChanged()
      },
      (e: BackendError) => {
        setError(e)
        setBusy(null)
      }
    )
  }

  if (options === null) {
    return (
      <div className="screen" data-testid="screen-options">
        <h1>Options</h1>
        <p className="muted" role="status">
          Loading…
        </p>
      </div>
    )
  }

  const enable = () =>
    apply('bidi', async () => {
      const r = await backend.optionsEnableBidirectional(account.trim())
      setResult(r)
      setAsking(false)
      setTurnedOff(false)
      return r.options
    })

  return (
    <div className="screen" data-testid="screen-options">
      <h1>Options</h1>
      <p className="lead">Each option applies as soon as you change it.</p>
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}

      <section className="card option">
        <Switch
          className="switch"
          data-testid="options-upsert"
          isSelected={options.upsert}
          isDisabled={busy !== null}
          onChange={(on) => apply('upsert', () => backend.optionsSetUpsert(on))}
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <strong>Upsert mode</strong>
        </Switch>
        <p className="option-text">
          When on, a push creates a HubSpot contact for an email that matches no contact; when off,
          such people are skipped and counted.
        </p>
      </section>

      <section className="card option">
        <Switch
          className="switch"
          data-testid="options-bidirectional"
          // Drawn on only when the flow is on: while the account is asked (or was refused) the
          // switch stays off, as the text under it says.
          isSelected={options.bidirectional}
          isDisabled={busy !== null || (!hubspot && !options.bidirectional)}
          onChange={(on) => {
            setResult(null)
            setError(null)
            if (on) {
              setAsking(true)
              setTurnedOff(false)
            } else {
              apply('bidi', async () => {
                const o = await backend.optionsDisableBidirectional()
                setTurnedOff(true)
                return o
              })
            }
          }}
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <strong>Bidirectional flow (HubSpot → Didomi)</strong>
        </Switch>
        <p className="option-text">
          When on, consent changed in HubSpot is pulled back into Didomi: the app keeps a “Didomi
          Changed” number property in the <code>{options.propertyGroup}</code> group and reads the
          contacts whose value rose since the last sync. Turning it off deletes nothing.
        </p>
        {!hubspot && !options.bidirectional && (
          <p className="muted">Connect HubSpot first: the flow needs the portal to set it up.</p>
        )}

        {asking && !options.bidirectional && (
          <Form
            className="form account-form"
            onSubmit={(e) => {
              e.preventDefault()
              enable()
            }}
          >
            <p className="muted">Not on yet: confirm the HubSpot account to turn the flow on.</p>
            <Field
              label="HubSpot account id"
              value={account}
              onChange={setAccount}
              testId="options-account-id"
              placeholder="e.g. 146310066 or a HubSpot URL"
              description={`The number in your HubSpot URLs (app.hubspot.com/contacts/<id>/…); you can paste a whole URL. It must be the connected portal${portalId !== null ? ` (${portalId})` : ''}.`}
              isRequired
            />
            <div className="row">
              <Button
                type="submit"
                className="btn btn-primary"
                data-testid="options-account-submit"
                isDisabled={busy !== null || account.trim() === ''}
              >
                {busy === 'bidi' ? 'Setting up…' : 'Turn on'}
              </Button>
              <Button className="btn" onPress={() => setAsking(false)} isDisabled={busy !== null}>
                Cancel
              </Button>
            </div>
          </Form>
        )}

        {options.bidirectional && (
          <p className="status-ok" role="status" data-testid="options-bidirectional-status">
            {result !== null ? setupText(result, options.propertyGroup) : onText(options)}
          </p>
        )}
        {turnedOff && !options.bidirectional && (
          <p className="muted" role="status" data-testid="options-bidirectional-off">
            The bidirectional flow is off. Nothing was deleted: the “Didomi Changed” property and
            its values stay in HubSpot, ready if you turn it on again.
          </p>
        )}
      </section>
    </div>
  )
}

function setupText(r: BidirectionalSetup, group: string): string {
  const prop = r.propertyCreated
    ? `Created the “Didomi Changed” property (${r.propertyName})`
    : `Reused the existing “Didomi Changed” property (${r.propertyName})`
  const grp = r.groupCreated
    ? ` in the new property group “${group}”.`
    : ` in the existing property group “${group}”.`
  return `On for HubSpot account ${r.options.hubspotAccountId ?? ''}. ${prop}${grp}`
}

function onText(o: SyncOptions): string {
  return `On for HubSpot account ${o.hubspotAccountId ?? ''}, using the “Didomi Changed” property (${o.didomiChangedProperty}) in the group “${o.propertyGroup}”.`
}
