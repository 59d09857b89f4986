/** The Connect screen: the HubSpot and Didomi cards and the one error alert they share. */
import { useState } from 'react'

import type { AppInfo } from '../bindings/AppInfo'
import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { Settings } from '../bindings/Settings'
import { ErrorAlert } from '../components/ErrorAlert'
import type { BackendError } from '../lib/errors'
import { DidomiCard } from './DidomiCard'
import { HubSpotCard } from './HubSpotCard'

/** Props of `ConnectScreen`. */
export interface ConnectScreenProps {
  info: AppInfo
  status: ConnectionStatus
  settings: Settings | null
  onChanged: () => void
}

/** Connect HubSpot and Didomi. Only one error is shown at a time, in the card that raised it. */
export function ConnectScreen({ info, status, settings, onChanged }: ConnectScreenProps) {
  const [error, setError] = useState<{ card: 'hubspot' | 'didomi'; error: BackendError } | null>(
    null
  )
  const report = (card: 'hubspot' | 'didomi') => (e: BackendError | null) =>
    setError(e === null ? null : { card, error: e })
  const alertFor = (card: 'hubspot' | 'didomi') =>
    error !== null && error.card === card ? (
      <ErrorAlert error={error.error} onDismiss={() => setError(null)} />
    ) : null

  return (
    <div className="screen" data-testid="screen-connect">
      <h1>Connect</h1>
      <p className="lead">Connect your HubSpot portal and your Didomi organization.</p>
      <div className="cards">
        <div>
          {alertFor('hubspot')}
          <HubSpotCard
            info={info}
            status={status.hubspot}
            savedClientId={settings?.hubspot.clientId ?? null}
            onError={report('hubspot')}
            onChanged={onChanged}
          />
        </div>
        <div>
          {alertFor('didomi')}
          <DidomiCard
            info={info}
            status={status.didomi}
            savedApiKey={settings?.didomi.apiKey ?? null}
            savedOrganizationId={settings?.didomi.organizationId ?? null}
            onError={report('didomi')}
            onChanged={onChanged}
          />
        </div>
      </div>
    </div>
  )
}
