/**
 * The Workflow screen: the guide to the HubSpot workflow of the bidirectional flow (the eleven
 * steps of Didomi's own guide, each with a deep link into the connected portal and a tick that
 * is saved), the mapped properties (the only valid triggers), the pull settings (who wins a
 * conflict, whether pulled changes reach Didomi's other integrations), "Check" on a test
 * contact, and in Sandbox a switch that makes the simulator play the workflow.
 */
import { useCallback, useEffect, useState } from 'react'
import { Button, Checkbox, Form, Label, Radio, RadioGroup, Switch } from 'react-aria-components'

import type { ConflictWinner } from '../bindings/ConflictWinner'
import type { PullSettings } from '../bindings/PullSettings'
import type { SimulatedWorkflow } from '../bindings/SimulatedWorkflow'
import type { WorkflowCheck } from '../bindings/WorkflowCheck'
import type { WorkflowGuide } from '../bindings/WorkflowGuide'
import { ErrorAlert } from '../components/ErrorAlert'
import { Field } from '../components/Field'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import '../components/mapping.css'
import './WorkflowScreen.css'

/** Props of `WorkflowScreen`. */
export interface WorkflowScreenProps {
  /** Sandbox mode: the simulated workflow switch is offered. */
  sandbox: boolean
  /** The simulator's HubSpot base URL in Sandbox (for its portal page), else `null`. */
  simulatorBase?: string | null
  /** Opens the Options screen (to turn the bidirectional flow on). */
  onGoToOptions: () => void
}

/** The workflow guide, settings, check and Sandbox emulation. */
export function WorkflowScreen({
  sandbox,
  simulatorBase = null,
  onGoToOptions
}: WorkflowScreenProps) {
  const [guide, setGuide] = useState<WorkflowGuide | null>(null)
  const [error, setError] = useState<BackendError | null>(null)
  const [email, setEmail] = useState('')
  const [checking, setChecking] = useState(false)
  const [check, setCheck] = useState<WorkflowCheck | null>(null)
  const [simulated, setSimulated] = useState<SimulatedWorkflow | null>(null)
  const [simBusy, setSimBusy] = useState(false)

  const load = useCallback(() => {
    backend.workflowGuide().then(setGuide, (e: BackendError) => setError(e))
  }, [])
  useEffect(load, [load])

  const save = (next: PullSettings) => {
    if (guide === null) return
    const before = guide
    // Show the change at once; roll back if the save fails.
    setGuide({ ...guide, settings: next, steps: ticked(guide, next) })
    backend.pullSettingsSave(next).then(
      (saved) =>
        setGuide((g) => (g === null ? g : { ...g, settings: saved, steps: ticked(g, saved) })),
      (e: BackendError) => {
        setGuide(before)
        setError(e)
      }
    )
  }

  if (guide === null) {
    return (
      <div className="screen" data-testid="screen-workflow">
        <h1>Workflow</h1>
        {error !== null ? (
          <ErrorAlert error={error} onDismiss={() => setError(null)} />
        ) : (
          <p className="muted" role="status">
            Loading…
          </p>
        )}
      </div>
    )
  }

  const s = guide.settings
  const runCheck = () => {
    setChecking(true)
    setCheck(null)
    setError(null)
    backend.workflowCheck(email.trim()).then(
      (r) => {
        setCheck(r)
        setChecking(false)
      },
      (e: BackendError) => {
        setError(e)
        setChecking(false)
      }
    )
  }
  const simulate = (on: boolean) => {
    setSimBusy(true)
    setError(null)
    backend.workflowSimulate(on).then(
      (w) => {
        setSimulated(w)
        setSimBusy(false)
      },
      (e: BackendError) => {
        setError(e)
        setSimBusy(false)
      }
    )
  }

  return (
    <div className="screen" data-testid="screen-workflow">
      <h1>Workflow</h1>
      <p className="lead">
        HubSpot tells the app which contacts changed through a workflow that raises the “Didomi
        Changed” property ({guide.counterProperty}). The app then pulls those contacts into Didomi
        (Sync › Pull). Set the workflow up once in HubSpot:
      </p>
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {!guide.bidirectional && (
        <div className="alert alert-warn" role="status" data-testid="workflow-bidi-off">
          <div>
            The bidirectional flow is off, so “Didomi Changed” may not exist yet.{' '}
            <Button
              className="btn btn-small"
              onPress={onGoToOptions}
              data-testid="workflow-go-options"
            >
              Turn it on in Options
            </Button>
          </div>
        </div>
      )}

      <section className="card" aria-labelledby="wf-steps">
        <h2 id="wf-steps">Steps in HubSpot</h2>
        {guide.workflowsUrl === null && (
          <p className="muted" data-testid="workflow-no-portal">
            Connect HubSpot to get links into your portal.
          </p>
        )}
        <ol className="wf-steps" data-testid="workflow-steps">
          {guide.steps.map((step) => (
            <li key={step.number} data-testid={`workflow-step-${step.number}`}>
              <Checkbox
                className="wf-check"
                isSelected={step.checked}
                data-testid={`workflow-step-check-${step.number}`}
                onChange={(on) =>
                  save({
                    ...s,
                    checkedSteps: on
                      ? [...s.checkedSteps, step.number]
                      : s.checkedSteps.filter((n) => n !== step.number)
                  })
                }
              >
                <span className="wf-box" aria-hidden="true">
                  {step.checked ? '✓' : ''}
                </span>
                <span>
                  <strong>{step.number}.</strong> {step.text}
                </span>
              </Checkbox>
              {step.link !== null && (
                <a
                  className="wf-link"
                  href={step.link}
                  target="_blank"
                  rel="noreferrer"
                  data-testid={`workflow-step-link-${step.number}`}
                >
                  {sandbox ? 'Open in the simulated HubSpot' : 'Open in HubSpot'}
                </a>
              )}
              {step.number === 4 && (
                <Triggers mapped={guide.mappedProperties} counter={guide.counterProperty} />
              )}
            </li>
          ))}
        </ol>
        <p className="muted" data-testid="workflow-progress">
          {guide.steps.filter((x) => x.checked).length} of {guide.steps.length} steps done.
        </p>
      </section>

      <section className="card" aria-labelledby="wf-check">
        <h2 id="wf-check">Check the workflow</h2>
        <p className="option-text">
          Edit one mapped property of a test contact in HubSpot, wait a few seconds, then check: the
          app looks for “Didomi Changed” rising after that edit.
        </p>
        <Form
          className="form wf-check-form"
          onSubmit={(e) => {
            e.preventDefault()
            runCheck()
          }}
        >
          <Field
            label="Test contact email"
            value={email}
            onChange={setEmail}
            testId="workflow-check-email"
            placeholder="someone@example.com"
          />
          <Button
            type="submit"
            className="btn btn-primary"
            data-testid="workflow-check"
            isDisabled={checking || email.trim() === ''}
          >
            {checking ? 'Checking…' : 'Check'}
          </Button>
        </Form>
        {check !== null && (
          <p
            className={check.status === 'works' ? 'status-ok' : 'alert alert-warn'}
            role="status"
            data-testid="workflow-check-result"
            data-status={check.status}
          >
            {check.message}
          </p>
        )}
      </section>

      <section className="card wf-settings" aria-labelledby="wf-settings">
        <h2 id="wf-settings">Pull settings</h2>
        <RadioGroup
          className="wf-radios"
          value={s.conflictWinner}
          onChange={(v) => save({ ...s, conflictWinner: v as ConflictWinner })}
          data-testid="workflow-conflict-winner"
        >
          <Label>When both sides changed the same item since the last sync</Label>
          <Radio value="didomi" className="seg" data-testid="workflow-winner-didomi">
            Didomi wins (recommended)
          </Radio>
          <Radio value="hubSpot" className="seg" data-testid="workflow-winner-hubspot">
            HubSpot wins
          </Radio>
        </RadioGroup>
        <p className="option-text">Every conflict is listed in the run’s records on History.</p>
        <Switch
          className="switch"
          isSelected={s.forwardToIntegrations}
          onChange={(on) => save({ ...s, forwardToIntegrations: on })}
          data-testid="workflow-forward"
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <strong>Forward pulled changes to Didomi’s other integrations</strong>
        </Switch>
        <p className="option-text">
          Off (recommended): Didomi does not pass what the app writes on to its integrations, so
          Didomi’s own HubSpot connector cannot echo it back.
        </p>
      </section>

      {sandbox && (
        <section className="card" aria-labelledby="wf-sim">
          <h2 id="wf-sim">Sandbox</h2>
          <Switch
            className="switch"
            isSelected={simulated?.enabled ?? false}
            isDisabled={simBusy}
            onChange={simulate}
            data-testid="workflow-simulate"
          >
            <span className="switch-track" aria-hidden="true">
              <span className="switch-thumb" />
            </span>
            <strong>Simulate this workflow</strong>
          </Switch>
          <p className="option-text">
            The simulated HubSpot raises “Didomi Changed” whenever a mapped property changes — also
            when the app’s own push writes it, like a real workflow. Edit contacts as a person would
            on the simulator’s portal page, then pull.
          </p>
          {simulatorBase !== null && (
            <p>
              <a
                href={`${simulatorBase.replace(/\/$/, '')}/_sim/hubspot/portal`}
                target="_blank"
                rel="noreferrer"
                data-testid="workflow-sim-portal"
              >
                Open the simulated HubSpot portal
              </a>
            </p>
          )}
          {simulated !== null && (
            <p className="status-ok" role="status" data-testid="workflow-simulate-status">
              {simulated.enabled
                ? `On: triggers ${simulated.triggerProperties.join(', ')}; ran ${simulated.increments} time(s).`
                : 'Off.'}
            </p>
          )}
        </section>
      )}
    </div>
  )
}

/** Step 4's list: the mapped properties, and a warning about any other. */
function Triggers({ mapped, counter }: { mapped: string[]; counter: string }) {
  if (mapped.length === 0) {
    return (
      <p className="alert alert-warn" data-testid="workflow-no-mapping">
        Nothing is mapped yet: map properties on the Mapping screen first; only mapped properties
        can be triggers.
      </p>
    )
  }
  return (
    <div className="wf-triggers" data-testid="workflow-triggers">
      <p>Use only these mapped properties as triggers:</p>
      <ul>
        {mapped.map((p) => (
          <li key={p}>
            <code>{p}</code>
          </li>
        ))}
      </ul>
      <p className="notice" data-testid="workflow-trigger-warning">
        Any other property (and “{counter}” itself) must not be a trigger: the app cannot send its
        changes to Didomi, and the counter would only rise for nothing — or loop.
      </p>
    </div>
  )
}

function ticked(g: WorkflowGuide, s: PullSettings) {
  return g.steps.map((x) => ({ ...x, checked: s.checkedSteps.includes(x.number) }))
}
