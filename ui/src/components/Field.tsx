/** Labelled text inputs built on react-aria-components. */
import { FieldError, Input, Label, Text, TextField } from 'react-aria-components'

/** Props of `Field`. */
export interface FieldProps {
  /** Visible label (also the accessible name). */
  label: string
  /** Current value. */
  value: string
  /** Called on every edit. */
  onChange: (value: string) => void
  /** `data-testid` put on the `<input>` itself. */
  testId: string
  /** `password` for secrets. */
  type?: 'text' | 'password'
  /** Placeholder text. */
  placeholder?: string
  /** Help text under the input. */
  description?: string
  /** Disables the input. */
  isDisabled?: boolean
  /** Whether a value is required. */
  isRequired?: boolean
  /** Autocomplete hint (secrets use `off`). */
  autoComplete?: string
}

/** A text field with a label, optional description and validation message. */
export function Field(props: FieldProps) {
  return (
    <TextField
      className="field"
      value={props.value}
      onChange={props.onChange}
      type={props.type ?? 'text'}
      isDisabled={props.isDisabled}
      isRequired={props.isRequired}
      autoComplete={props.autoComplete ?? 'off'}
    >
      <Label>{props.label}</Label>
      <Input data-testid={props.testId} placeholder={props.placeholder} spellCheck={false} />
      {props.description !== undefined && <Text slot="description">{props.description}</Text>}
      <FieldError />
    </TextField>
  )
}
