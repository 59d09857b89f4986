/** The alert region that shows one backend error: title, message and its code. */
import { Button } from 'react-aria-components'

import { errorTitle, type BackendError } from '../lib/errors'

/** Shows `error` as a live alert with `data-code` set to its code. */
export function ErrorAlert({ error, onDismiss }: { error: BackendError; onDismiss: () => void }) {
  return (
    <div className="alert alert-error" role="alert" data-testid="error" data-code={error.code}>
      <div>
        <strong>{errorTitle(error.code)}</strong>
        <p>{error.message}</p>
        <small className="muted">Code: {error.code}</small>
      </div>
      <Button className="btn btn-quiet" onPress={onDismiss} aria-label="Dismiss error">
        ×
      </Button>
    </div>
  )
}
