/**
 * The app frame: sidebar navigation between the screens, the Sandbox banner (with the
 * switch to Live), the keychain notice and the status line.
 */
import { useCallback, useEffect, useState } from 'react'
import { Button } from 'react-aria-components'

import type { AppInfo } from './bindings/AppInfo'
import type { ConnectionStatus } from './bindings/ConnectionStatus'
import type { Mode } from './bindings/Mode'
import type { Settings } from './bindings/Settings'
import { ConfirmDialog } from './components/ConfirmDialog'
import { ErrorAlert } from './components/ErrorAlert'
import * as backend from './lib/backend'
import type { BackendError } from './lib/errors'
import { keychainProblem } from './lib/status'
import { navigationBlocker } from './lib/unsavedChanges'
import { ConnectScreen } from './screens/ConnectScreen'
import { MappingScreen } from './screens/MappingScreen'
import { OptionsScreen } from './screens/OptionsScreen'
import { HistoryScreen } from './screens/HistoryScreen'
import { InspectScreen } from './screens/InspectScreen'
import { SyncScreen } from './screens/SyncScreen'
import { AutoSyncIndicator } from './components/AutoSyncCard'
import { WorkflowScreen } from './screens/WorkflowScreen'

/** The screens, in the order of the navigation, with their labels. */
const SCREENS = [
  { id: 'connect', label: 'Connect' },
  { id: 'options', label: 'Options' },
  { id: 'mapping', label: 'Mapping' },
  { id: 'workflow', label: 'Workflow' },
  { id: 'sync', label: 'Sync' },
  { id: 'history', label: 'History' },
  { id: 'inspect', label: 'Inspect' }
] as const

type ScreenId = (typeof SCREENS)[number]['id']

/** How often the connection status (and API reachability) is re-checked. */
const STATUS_POLL_MS = 15_000

/** The whole app. */
export function App() {
  const [screen, setScreen] = useState<ScreenId>('connect')
  const [info, setInfo] = useState<AppInfo | null>(null)
  const [settings, setSettings] = useState<Settings | null>(null)
  const [status, setStatus] = useState<ConnectionStatus | null>(null)
  const [fatal, setFatal] = useState<BackendError | null>(null)
  const [confirmSwitch, setConfirmSwitch] = useState<Mode | null>(null)
  // A screen with unsaved work (Mapping) asks before the sidebar leaves it.
  const [leaveTo, setLeaveTo] = useState<{ to: ScreenId; question: string } | null>(null)
  const go = (to: ScreenId) => {
    const question = to === screen ? null : navigationBlocker()
    if (question === null) setScreen(to)
    else setLeaveTo({ to, question })
  }
  // The run History opens on when reached from a Sync result.
  const [historyRun, setHistoryRun] = useState<number | null>(null)

  const refresh = useCallback(
    () =>
      Promise.all([backend.getSettings(), backend.connectionStatus()]).then(
        ([s, st]) => {
          setSettings(s)
          setStatus(st)
        },
        (e: BackendError) => setFatal(e)
      ),
    []
  )

  useEffect(() => {
    backend.appInfo().then(setInfo, (e: BackendError) => setFatal(e))
    void refresh()
  }, [refresh])

  const sandbox = info?.environment.mode === 'Sandbox'
  useEffect(() => {
    const id = window.setInterval(() => void refresh(), STATUS_POLL_MS)
    return () => window.clearInterval(id)
  }, [refresh])

  const switchMode = (mode: Mode) => {
    backend.switchMode(mode).catch((e: BackendError) => setFatal(e))
  }

  const keychain = status === null ? null : keychainProblem(status.keychain)

  return (
    <div className="app">
      {sandbox && (
        <div className="sandbox-banner" data-testid="sandbox-banner" role="note">
          <span>
            <strong>Sandbox</strong> — simulated HubSpot and Didomi, no real data
          </span>
          <Button
            className="btn btn-small btn-on-dark"
            data-testid="switch-to-live"
            onPress={() => setConfirmSwitch('Live')}
          >
            Switch to Live
          </Button>
        </div>
      )}
      <div className="frame">
        <nav className="sidebar" aria-label="Screens">
          <div className="brand">
            <img src="./icon.png" alt="" width={28} height={28} />
            <span>Didomi HubSpot Sync</span>
          </div>
          <ul>
            {SCREENS.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  className="nav-item"
                  data-testid={`nav-${s.id}`}
                  aria-current={screen === s.id ? 'page' : undefined}
                  onClick={() => go(s.id)}
                >
                  {s.label}
                </button>
              </li>
            ))}
          </ul>
          <div className="sidebar-footer">
            {info !== null && !sandbox && (
              <Button
                className="btn btn-small"
                data-testid="switch-to-sandbox"
                onPress={() => setConfirmSwitch('Sandbox')}
              >
                Switch to Sandbox
              </Button>
            )}
            {info !== null && <small className="muted">Version {info.version}</small>}
          </div>
        </nav>
        <main className="content">
          {fatal !== null && <ErrorAlert error={fatal} onDismiss={() => setFatal(null)} />}
          {info?.warnings.map((w) => (
            <div key={w} className="alert alert-warn" role="status" data-testid="startup-warning">
              {w}
            </div>
          ))}
          {keychain !== null && (
            <div className="alert alert-warn" role="status" data-testid="keychain-unavailable">
              <strong>Secure storage unavailable.</strong> {keychain.replace(/\.?$/, '.')} Secrets
              are never written to a file instead, so HubSpot and Didomi cannot be connected until
              then.
            </div>
          )}
          {info === null || status === null ? (
            <p className="muted" role="status">
              Loading…
            </p>
          ) : screen === 'connect' ? (
            <ConnectScreen
              info={info}
              status={status}
              settings={settings}
              onChanged={() => void refresh()}
            />
          ) : screen === 'sync' ? (
            <SyncScreen
              status={status}
              settings={settings}
              onFix={setScreen}
              onOpenRun={(id) => {
                setHistoryRun(id)
                setScreen('history')
              }}
            />
          ) : screen === 'workflow' ? (
            <WorkflowScreen
              sandbox={sandbox}
              simulatorBase={sandbox ? info.environment.hubspotApiBase : null}
              onGoToOptions={() => setScreen('options')}
            />
          ) : screen === 'history' ? (
            <HistoryScreen initialRunId={historyRun} />
          ) : screen === 'inspect' ? (
            <InspectScreen
              onOpenRun={(id) => {
                setHistoryRun(id)
                setScreen('history')
              }}
            />
          ) : screen === 'options' ? (
            <OptionsScreen
              options={settings?.options ?? null}
              status={status}
              onChanged={() => void refresh()}
            />
          ) : (
            <MappingScreen
              status={status}
              onGoToConnect={() => setScreen('connect')}
              onSettingsChanged={refresh}
            />
          )}
        </main>
      </div>
      <footer className="statusbar">
        {info !== null && (
          <span>
            {info.environment.mode} · HubSpot {info.environment.hubspotApiBase} · Didomi{' '}
            {info.environment.didomiApiBase}
          </span>
        )}
        <AutoSyncIndicator onOpen={() => go('sync')} />
        {!sandbox && status !== null && (
          <span data-testid="api-status" role="status">
            HubSpot API {status.hubspotApiReachable ? 'reachable' : 'not reachable'} · Didomi API{' '}
            {status.didomiApiReachable ? 'reachable' : 'not reachable'}
          </span>
        )}
        {sandbox && (
          <span data-testid="simulator-status" role="status">
            {status === null ? (
              'Checking the simulator…'
            ) : status.hubspotApiReachable && status.didomiApiReachable ? (
              <>
                <span className="dot-ok" aria-hidden="true">
                  ●
                </span>{' '}
                Simulator reachable
              </>
            ) : (
              <>
                <span className="dot-bad" aria-hidden="true">
                  ●
                </span>{' '}
                Simulator not reachable — restart the app
              </>
            )}
          </span>
        )}
      </footer>
      <ConfirmDialog
        isOpen={leaveTo !== null}
        title="Leave with unsaved changes?"
        body={leaveTo?.question ?? ''}
        confirmLabel="Leave and lose them"
        onConfirm={() => leaveTo !== null && setScreen(leaveTo.to)}
        onClose={() => setLeaveTo(null)}
      />
      <ConfirmDialog
        isOpen={confirmSwitch !== null}
        title={confirmSwitch === 'Live' ? 'Switch to Live?' : 'Switch to Sandbox?'}
        body={
          confirmSwitch === 'Live'
            ? 'The app restarts and then talks to your real HubSpot portal and Didomi organization. Sandbox settings and secrets are kept apart.'
            : 'The app restarts with the simulated HubSpot and Didomi. Your Live settings and secrets are kept apart and untouched.'
        }
        confirmLabel="Restart now"
        tone="primary"
        onConfirm={() => confirmSwitch !== null && switchMode(confirmSwitch)}
        onClose={() => setConfirmSwitch(null)}
      />
    </div>
  )
}
