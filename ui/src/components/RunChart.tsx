/** A small SVG bar chart of runs over time: records written (and failed) per run. */
import { chartedRuns, formatCount, formatTime } from '../lib/syncFormat'
import type { RunSummary } from '../lib/syncTypes'
import './sync.css'

const WIDTH = 800
const HEIGHT = 110
const PAD = 14
/** Room for the axis labels. */
const LEFT = 56
const MAX_BARS = 40
/** The widest slot a run gets, so a few runs do not spread over the whole width. */
const MAX_SLOT = 36

/** Oldest push on the left. Dry runs (they write nothing) and pulls are left out. */
export function RunChart({ runs }: { runs: RunSummary[] }) {
  const shown = chartedRuns(runs, MAX_BARS)
  const max = Math.max(1, ...shown.map((r) => r.counts.written + r.counts.failed))
  const slot = Math.min(MAX_SLOT, (WIDTH - LEFT - PAD) / Math.max(shown.length, 1))
  const bar = Math.max(4, slot * 0.7)
  const scale = (n: number) => (n / max) * (HEIGHT - PAD * 2)
  const total = shown.reduce((a, r) => a + r.counts.written, 0)
  const failed = shown.reduce((a, r) => a + r.counts.failed, 0)
  return (
    <figure className="chart" data-testid="history-chart" data-bars={shown.length}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Last ${shown.length} runs: ${formatCount(total)} records written, ${formatCount(failed)} failed.`}
        preserveAspectRatio="xMidYMid meet"
      >
        <line className="chart-axis" x1={LEFT - 4} x2={WIDTH} y1={HEIGHT - PAD} y2={HEIGHT - PAD} />
        <text
          className="chart-label"
          x={LEFT - 8}
          y={PAD}
          textAnchor="end"
          dominantBaseline="middle"
        >
          {formatCount(max)}
        </text>
        <text
          className="chart-label"
          x={LEFT - 8}
          y={HEIGHT - PAD}
          textAnchor="end"
          dominantBaseline="middle"
        >
          0
        </text>
        {shown.map((r, i) => {
          const x = LEFT + i * slot + (slot - bar) / 2
          const hw = scale(r.counts.written)
          const hf = scale(r.counts.failed)
          const base = HEIGHT - PAD
          return (
            <g key={r.id}>
              <title>
                {`${formatTime(r.startedAt)}: ${formatCount(r.counts.written)} written, ${formatCount(r.counts.failed)} failed (${r.status})`}
              </title>
              <rect className="bar-written" x={x} y={base - hw} width={bar} height={hw} />
              <rect className="bar-failed" x={x} y={base - hw - hf} width={bar} height={hf} />
            </g>
          )
        })}
        {shown.length === 0 && (
          <text className="chart-label" x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle">
            No pushes yet
          </text>
        )}
      </svg>
      <figcaption className="chart-legend">
        <span>
          <span className="swatch swatch-written" aria-hidden="true" /> written
        </span>
        <span>
          <span className="swatch swatch-failed" aria-hidden="true" /> failed
        </span>
        <span className="muted">per push, oldest left (dry runs and pulls not shown)</span>
      </figcaption>
    </figure>
  )
}
