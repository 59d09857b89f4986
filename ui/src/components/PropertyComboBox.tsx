/**
 * The searchable HubSpot property dropdown of one mapping row: a react-aria `ComboBox` whose
 * list is virtualized (only the visible options are in the DOM), so thousands of properties stay
 * fast. The list is built only while the field has focus; a closed row holds one item.
 *
 * `PropertyField` is what rows render: until the user first focuses or presses it, it is a
 * plain look-alike input (a live ComboBox per row costs ~2 ms, too much for hundreds of rows);
 * the first focus or press swaps in the live ComboBox, focused (and open after a press). The
 * input element is replaced then: tests re-query `mapping-combobox` after clicking it.
 */
import {
  memo,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type Key
} from 'react'
import {
  Button,
  ComboBox,
  ComboBoxStateContext,
  Group,
  Input,
  ListBox,
  ListBoxItem,
  ListLayout,
  Popover,
  Virtualizer
} from 'react-aria-components'

import { filterProperties } from '../lib/mappingDraft'
import type { HubSpotPropertyOption } from '../lib/mappingTypes'

/** What an unmapped row's field says. */
const PLACEHOLDER = 'Not mapped — search properties'

/** The key of the "New HubSpot property…" item (not a valid property name). */
const NEW_KEY = ' new'

type ListItem = { id: string; property: HubSpotPropertyOption | null }
const NEW_ITEM: ListItem = { id: NEW_KEY, property: null }
/** Height of one option (the virtualizer needs it fixed). */
const ROW_HEIGHT = 46
/** The list shows at most 8 options at once and scrolls. */
const MAX_LIST_HEIGHT = 8 * ROW_HEIGHT

/** Props of `PropertyComboBox`. */
export interface PropertyComboBoxProps {
  /** Accessible name, e.g. "HubSpot property for Newsletter › Topics". */
  ariaLabel: string
  /** The properties compatible with this row's kind (shared between rows of a kind). */
  candidates: HubSpotPropertyOption[]
  /** Every property by name (to show a mapped property that is no longer compatible). */
  byName: Map<string, HubSpotPropertyOption>
  /** The property this row writes to in the draft. */
  selected: string | null
  /** For properties held by another row: the row's path. */
  usedBy: (name: string) => string | undefined
  /** A property was chosen. */
  onChoose: (name: string) => void
  /** "New HubSpot property…" was chosen. */
  onCreate: () => void
  /** Disabled while a property is being created. */
  isDisabled?: boolean
  /** Focus the input when mounted (set by `PropertyField` when it swaps in the live box). */
  autoFocus?: boolean
  /** Open the list when mounted (the swap was caused by a press). */
  openOnMount?: boolean
}

/** A row's property field: a cheap look-alike until first used, then the live ComboBox. */
export const PropertyField = memo(function PropertyField(props: PropertyComboBoxProps) {
  const [live, setLive] = useState<'focus' | 'press' | null>(null)
  if (live !== null) {
    return <PropertyComboBox {...props} autoFocus openOnMount={live === 'press'} />
  }
  const p = props.selected === null ? undefined : props.byName.get(props.selected)
  return (
    <div className="combo">
      <div className="combo-group">
        <input
          className="combo-input"
          data-testid="mapping-combobox"
          role="combobox"
          aria-expanded="false"
          aria-autocomplete="list"
          aria-label={props.ariaLabel}
          placeholder={PLACEHOLDER}
          value={p?.label ?? props.selected ?? ''}
          disabled={props.isDisabled}
          readOnly
          onMouseDown={(e) => {
            // No default focus: the look-alike goes away now and the live input takes focus.
            e.preventDefault()
            setLive('press')
          }}
          onFocus={() => setLive((v) => v ?? 'focus')}
        />
        <button
          type="button"
          className="combo-button"
          tabIndex={-1}
          aria-label="Show properties"
          disabled={props.isDisabled}
          onMouseDown={(e) => {
            // No default focus: the look-alike goes away now and the live input takes focus.
            e.preventDefault()
            setLive('press')
          }}
        >
          ▾
        </button>
      </div>
    </div>
  )
})

/** How many dropdowns are open now (one, except for a moment while focus moves between rows). */
let openDropdowns = 0

/**
 * Keeps the page readable by screen readers while a dropdown is open. react-aria marks everything
 * outside an open ComboBox `aria-hidden` (so that touch screen readers can swipe to the list,
 * which is portalled to the end of the page) yet leaves it focusable: axe reports it
 * (aria-hidden-focus, WCAG 4.1.2) and Tab can move focus into content a screen reader cannot
 * perceive. A desktop app wants the APG's non-modal combobox instead, where the page stays as it
 * is. react-aria leaves alone what is marked `data-react-aria-top-layer` (its toasts use that),
 * so the app root gets the mark while a dropdown is open: set in a layout effect, it is there
 * before react-aria's passive effect hides outside; it goes when the last dropdown closes or
 * unmounts, so modal dialogs still make the page inert.
 */
function useKeepPageReadable(open: boolean) {
  useLayoutEffect(() => {
    const root = document.getElementById('root')
    if (!open || root === null) return
    openDropdowns += 1
    root.setAttribute('data-react-aria-top-layer', '')
    return () => {
      openDropdowns -= 1
      if (openDropdowns === 0) root.removeAttribute('data-react-aria-top-layer')
    }
  }, [open])
}

/** One row's property picker. */
export const PropertyComboBox = memo(function PropertyComboBox(props: PropertyComboBoxProps) {
  const { candidates, byName, selected, usedBy, onChoose, onCreate } = props
  const selectedProp = selected === null ? undefined : byName.get(selected)
  const display = selectedProp?.label ?? selected ?? ''
  const [active, setActive] = useState(false)
  const [input, setInput] = useState<string | null>(null)
  const [filter, setFilter] = useState('')
  const [open, setOpen] = useState(false)
  useKeepPageReadable(open)

  const items = useMemo<ListItem[]>(() => {
    if (!active) return selectedProp ? [{ id: selectedProp.name, property: selectedProp }] : []
    const shown = filterProperties(candidates, filter).map((p) => ({ id: p.name, property: p }))
    return [NEW_ITEM, ...shown]
  }, [active, candidates, filter, selectedProp])

  return (
    <ComboBox
      className="combo"
      aria-label={props.ariaLabel}
      items={items}
      selectedKey={selected}
      inputValue={input ?? display}
      isDisabled={props.isDisabled}
      allowsEmptyCollection
      autoFocus={props.autoFocus}
      onFocusChange={(focused) => {
        if (focused) {
          setActive(true)
        } else {
          setActive(false)
          setInput(null)
          setFilter('')
        }
      }}
      onOpenChange={(isOpen, trigger) => {
        setOpen(isOpen)
        if (isOpen && trigger !== 'input') setFilter('')
      }}
      onInputChange={(v) => {
        setInput(v)
        setFilter(v === display ? '' : v)
      }}
      onSelectionChange={(key: Key | null) => {
        if (key === null) return
        setInput(null)
        setFilter('')
        if (key === NEW_KEY) onCreate()
        else if (key !== selected) onChoose(String(key))
      }}
    >
      <Group className="combo-group">
        <OpenOnClickInput openOnMount={props.openOnMount === true} />
        <Button className="combo-button" aria-label="Show properties">
          ▾
        </Button>
      </Group>
      <Popover className="combo-popover" placement="bottom start">
        <Virtualizer layout={ListLayout} layoutOptions={{ rowHeight: ROW_HEIGHT }}>
          <ListBox
            className="combo-list"
            style={{
              height: Math.min(Math.max(items.length, 1) * ROW_HEIGHT, MAX_LIST_HEIGHT) + 2
            }}
            renderEmptyState={() => <p className="combo-empty">No compatible property matches.</p>}
          >
            {(it: ListItem) =>
              it.property === null ? (
                <ListBoxItem
                  id={it.id}
                  textValue="New HubSpot property…"
                  className="combo-item combo-new"
                  data-testid="mapping-new-property"
                >
                  <span className="combo-label">+ New HubSpot property…</span>
                  <span className="combo-meta">
                    created in the Didomi group, compatible with this row
                  </span>
                </ListBoxItem>
              ) : (
                <PropertyItem property={it.property} usedBy={usedBy(it.property.name)} />
              )
            }
          </ListBox>
        </Virtualizer>
      </Popover>
    </ComboBox>
  )
})

function PropertyItem({
  property: p,
  usedBy
}: {
  property: HubSpotPropertyOption
  usedBy: string | undefined
}) {
  return (
    <ListBoxItem
      id={p.name}
      textValue={p.label}
      className={usedBy === undefined ? 'combo-item' : 'combo-item combo-used'}
      data-testid="mapping-option"
      data-name={p.name}
    >
      <span className="combo-label">
        {p.label}
        {!p.hubspotDefined && <span className="tag tag-custom">custom</span>}
      </span>
      <span className="combo-meta">
        <code>{p.name}</code> · {p.typeLabel}
        {usedBy !== undefined && <span className="combo-usedby"> · used by {usedBy}</span>}
      </span>
    </ListBoxItem>
  )
}

/** The text input; a click opens the full list (typing filters it, as usual). */
function OpenOnClickInput({ openOnMount }: { openOnMount: boolean }) {
  const state = useContext(ComboBoxStateContext)
  const opened = useRef(false)
  useEffect(() => {
    if (openOnMount && !opened.current && state !== null) {
      opened.current = true
      state.open(null, 'manual')
    }
  }, [openOnMount, state])
  return (
    <Input
      className="combo-input"
      data-testid="mapping-combobox"
      placeholder={PLACEHOLDER}
      onClick={() => {
        if (state !== null && !state.isOpen) state.open(null, 'manual')
      }}
    />
  )
}
