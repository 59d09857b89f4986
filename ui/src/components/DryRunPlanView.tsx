/** What a dry run found: counts with a sample of each, and the property changes of one contact. */
import { formatCount } from '../lib/syncFormat'
import type { DryRunPlan } from '../lib/syncTypes'
import './sync.css'

/** How many sample emails of each kind are shown. */
const SAMPLE = 5

function Samples({ emails }: { emails: string[] }) {
  if (emails.length === 0) return <span className="muted">none</span>
  return (
    <ul className="samples">
      {emails.slice(0, SAMPLE).map((e) => (
        <li key={e}>{e}</li>
      ))}
    </ul>
  )
}

/** Shows `plan`; the root carries the counts as `data-*` for the real-window test. */
export function DryRunPlanView({ plan, upsert }: { plan: DryRunPlan; upsert: boolean | null }) {
  const skipped = plan.skippedNoContact
  const rows = [
    {
      key: 'create',
      label: 'To create',
      hint: 'People with no HubSpot contact; a contact is created for each.',
      count: plan.toCreate,
      samples: <Samples emails={plan.samples.create} />
    },
    {
      key: 'update',
      label: 'To update',
      hint: 'Contacts whose mapped properties differ from Didomi.',
      count: plan.toUpdate,
      samples: <Samples emails={plan.samples.update} />
    },
    {
      key: 'unchanged',
      label: 'Unchanged',
      hint: 'Contacts already in line with Didomi; nothing is written.',
      count: plan.unchanged,
      samples: null
    },
    {
      key: 'skipped',
      label: 'Skipped — no contact',
      hint:
        upsert === false
          ? 'People with no HubSpot contact, left alone because upsert is off (Options).'
          : 'People with no HubSpot contact that are left alone.',
      count: skipped,
      samples: <Samples emails={plan.samples.skipped} />
    },
    {
      key: 'invalid',
      label: 'Invalid',
      hint: 'People HubSpot would refuse (no or malformed email); fix them in Didomi.',
      count: plan.invalid,
      samples:
        plan.samples.invalid.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="samples">
            {plan.samples.invalid.slice(0, SAMPLE).map((s) => (
              <li key={`${s.email}-${s.reason}`}>
                {s.email === '' ? <em>(no email)</em> : s.email} — {s.reason}
              </li>
            ))}
          </ul>
        )
    },
    {
      key: 'duplicates',
      label: 'Duplicates',
      hint: 'Several Didomi users with the same email (case and spaces ignored): the one changed last is written, the others never are.',
      count: plan.duplicates,
      samples:
        (plan.samples.duplicates ?? []).length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="samples">
            {(plan.samples.duplicates ?? []).slice(0, SAMPLE).map((d) => (
              <li key={`${d.email}-${d.otherUser}`}>
                {d.email}: user {d.keptUser === '' ? '(changed during the run)' : d.keptUser}{' '}
                (changed {d.keptUpdatedAt === '' ? 'later' : d.keptUpdatedAt}) wins over{' '}
                {d.otherUser} (changed{' '}
                {d.otherUpdatedAt === '' ? 'at an unknown time' : d.otherUpdatedAt})
              </li>
            ))}
          </ul>
        )
    }
  ]
  const change = plan.sampleChanges
  return (
    <section
      className="plan-section"
      aria-labelledby="plan-title"
      data-testid="dry-run-plan"
      data-to-create={plan.toCreate}
      data-to-update={plan.toUpdate}
      data-unchanged={plan.unchanged}
      data-skipped={skipped}
      data-invalid={plan.invalid}
      data-duplicates={plan.duplicates}
    >
      <h3 id="plan-title">What a push would do</h3>
      <table className="table plan-table">
        <thead>
          <tr>
            <th scope="col">Outcome</th>
            <th scope="col" className="num">
              People
            </th>
            <th scope="col">Sample</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-plan-row={r.key}>
              <th scope="row">
                {r.label}
                <small className="muted block">{r.hint}</small>
              </th>
              <td className="num">{formatCount(r.count)}</td>
              <td>{r.samples ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {change !== null && (
        <div className="sample-change" data-testid="dry-run-sample-change">
          <h3>
            Property changes for one of them: <span className="mono">{change.email}</span>
          </h3>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">HubSpot property</th>
                <th scope="col">Before</th>
                <th scope="col" aria-hidden="true"></th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {change.changes.map((c) => (
                <tr key={c.property}>
                  <td className="mono">{c.property}</td>
                  <td>{c.before ?? <span className="muted">(empty)</span>}</td>
                  <td aria-hidden="true">→</td>
                  <td>{c.after ?? <span className="muted">(empty)</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
