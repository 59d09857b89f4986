/** A read-only value (e.g. a redirect URL) with a copy button. */
import { useState } from 'react'
import { Button } from 'react-aria-components'

/**
 * Shows `value` in monospace with a "Copy" button that writes it to the clipboard. `oneLine`
 * cuts long values (e.g. an authorize URL) with an ellipsis; the full value is still copied.
 */
export function CopyValue({
  value,
  testId,
  oneLine = false
}: {
  value: string
  testId: string
  oneLine?: boolean
}) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
      setCopied('copied')
    } catch {
      setCopied('failed')
    }
    window.setTimeout(() => setCopied('idle'), 2000)
  }
  return (
    <div className={oneLine ? 'copy-value one-line' : 'copy-value'}>
      <code data-testid={testId} title={oneLine ? value : undefined}>
        {value}
      </code>
      <Button
        className="btn btn-small"
        data-testid={`${testId}-copy`}
        aria-label={`Copy ${value}`}
        onPress={() => void copy()}
      >
        {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Select & copy' : 'Copy'}
      </Button>
    </div>
  )
}
