/**
 * @module web/client/home — keeps the live directory current: the grid is re-fetched as the same
 * server-rendered markup (`/_partials/live`) every few seconds while the tab is visible, and the
 * "live for" clocks tick in between.
 */
import { liveFor } from '../shared/format.js'
import { initNav } from './nav.js'

const REFRESH_MS = 10_000

initNav()
const grid = document.getElementById('live-grid')
const summary = document.getElementById('live-summary')

function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) {
    el.textContent = liveFor(Date.now() - Number(el.dataset.since))
  }
}

async function refresh(): Promise<void> {
  if (!grid || document.hidden) return
  try {
    const res = await fetch('/_partials/live', { headers: { accept: 'text/html' } })
    if (!res.ok) return
    const html = await res.text()
    // Same-origin markup rendered (and escaped) by our own server for this element.
    const next = document.createElement('template')
    next.innerHTML = html
    const count = Number(next.content.querySelector<HTMLElement>('[data-live-count]')?.dataset.liveCount ?? 0)
    // Keep keyboard focus on the same card across the swap.
    const focused = grid.contains(document.activeElement)
      ? document.activeElement?.getAttribute('href')
      : null
    grid.replaceChildren(next.content)
    if (focused) grid.querySelector<HTMLElement>(`a[href="${CSS.escape(focused)}"]`)?.focus()
    if (summary)
      summary.textContent =
        count === 0 ? 'No channels are live.' : `${count} ${count === 1 ? 'channel' : 'channels'} live`
    tick()
  } catch {
    // offline for a moment: the next round will catch up
  }
}

if (grid) {
  setInterval(tick, 15_000)
  setInterval(() => void refresh(), REFRESH_MS)
  document.addEventListener('visibilitychange', () => void refresh())
}
