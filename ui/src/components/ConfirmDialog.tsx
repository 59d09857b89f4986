/** A modal yes/no question (used before disconnecting or switching mode). */
import { Button, Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components'

/** Props of `ConfirmDialog`. */
export interface ConfirmDialogProps {
  /** Whether the dialog is shown. */
  isOpen: boolean
  /** Heading of the dialog. */
  title: string
  /** What will happen if confirmed. */
  body: string
  /** Label of the confirm button. */
  confirmLabel: string
  /** Called when confirmed; the dialog closes itself through `onClose`. */
  onConfirm: () => void
  /** Called when dismissed or after confirming. */
  onClose: () => void
  /** `danger` (default) for destructive actions, `primary` otherwise. */
  tone?: 'danger' | 'primary'
}

/** An accessible alert dialog (focus trapped, Escape cancels). */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return (
    <ModalOverlay
      className="modal-overlay"
      isOpen={props.isOpen}
      onOpenChange={(open) => {
        if (!open) props.onClose()
      }}
      isDismissable
    >
      <Modal className="modal">
        <Dialog role="alertdialog" className="dialog" data-testid="confirm-dialog">
          <Heading slot="title">{props.title}</Heading>
          <p>{props.body}</p>
          <div className="row end">
            <Button className="btn" onPress={props.onClose} data-testid="confirm-cancel">
              Cancel
            </Button>
            <Button
              className={props.tone === 'primary' ? 'btn btn-primary' : 'btn btn-danger'}
              autoFocus
              data-testid="confirm-ok"
              onPress={() => {
                props.onConfirm()
                props.onClose()
              }}
            >
              {props.confirmLabel}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}
