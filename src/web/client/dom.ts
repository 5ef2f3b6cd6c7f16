/** @module web/client/dom — tiny DOM helpers; text always goes in as textContent, never as HTML. */

export function $<T extends HTMLElement = HTMLElement>(
  selector: string,
  root: ParentNode = document,
): T | null {
  return root.querySelector<T>(selector)
}

export function must<T extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(selector)
  if (!el) throw new Error(`missing ${selector}`)
  return el
}

type Attrs = Record<string, string | number | boolean | null | undefined> & {
  on?: Partial<Record<keyof HTMLElementEventMap, (e: Event) => void>>
}

/** `h('button', { class: 'btn', on: { click } }, 'Save')`. Children: nodes or plain text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'on') {
      for (const [type, fn] of Object.entries(value as NonNullable<Attrs['on']>))
        el.addEventListener(type, fn!)
    } else if (value === true) el.setAttribute(key, '')
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(key, String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return el
}

/** A data table (cells labelled for the narrow layout), or `empty` as a muted line when there are no rows. */
export function table(head: string[], rows: (Node | string)[][], empty: string): Node {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty)
  return h(
    'table',
    { class: 'table' },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => h('tr', {}, ...r.map((cell, i) => h('td', { 'data-label': head[i] ?? '' }, cell)))),
    ),
  )
}

/** The JSON the server rendered into `<script type="application/json" id="page-data">`. */
export function pageData<T>(): T {
  const el = document.getElementById('page-data')
  return JSON.parse(el?.textContent ?? '{}') as T
}

/** Copies an input's value; falls back to selecting it where the clipboard API is unavailable. */
export async function copyFrom(input: HTMLInputElement, button: HTMLElement): Promise<void> {
  const label = button.querySelector('.copy-label')
  try {
    await navigator.clipboard.writeText(input.value)
  } catch {
    input.select()
    document.execCommand('copy')
  }
  if (label) {
    label.textContent = 'Copied'
    setTimeout(() => {
      label.textContent = 'Copy'
    }, 1500)
  }
}

/** `<button data-copy="input-id">` anywhere on the page copies that input. */
export function wireCopyButtons(root: ParentNode = document): void {
  root.addEventListener('click', (e) => {
    const button = (e.target as Element).closest<HTMLElement>('[data-copy]')
    if (!button) return
    const input = document.getElementById(button.dataset.copy ?? '') as HTMLInputElement | null
    if (input) void copyFrom(input, button)
  })
}
