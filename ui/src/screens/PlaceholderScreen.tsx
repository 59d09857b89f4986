/** The screens of later issues: they open and say what will come. */

/** The four screens that are not built yet. */
export const PLACEHOLDERS = {
  options: {
    title: 'Options',
    text: 'Choose the sync direction, the schedule and how conflicts between Didomi and HubSpot are resolved.'
  },
  mapping: {
    title: 'Mapping',
    text: 'Map each Didomi purpose and preference to a HubSpot contact property, searching among thousands of properties.'
  },
  sync: {
    title: 'Sync',
    text: 'Run a sync now, follow its progress and see what changed on each side.'
  },
  history: {
    title: 'History',
    text: 'Browse past sync runs with their counts, errors and the records they touched.'
  }
} as const

/** The id of a placeholder screen. */
export type PlaceholderId = keyof typeof PLACEHOLDERS

/** A screen with a heading and one sentence about what it will hold. */
export function PlaceholderScreen({ id }: { id: PlaceholderId }) {
  const { title, text } = PLACEHOLDERS[id]
  return (
    <div className="screen" data-testid={`screen-${id}`}>
      <h1>{title}</h1>
      <p className="lead">{text}</p>
      <p className="muted">Coming in a later version.</p>
    </div>
  )
}
