/**
 * @module web/client/analytics — `/dashboard/analytics`: signs in like the dashboard, then draws
 * the channel's analytics (the API's `totals`, `series` and `qoe`) with uPlot: concurrent viewers
 * over a chosen broadcast, watch time per day, the QoE figures. Every chart has the same numbers
 * as a table in a <details> below it. An API that is missing or failing leaves a notice and
 * empty charts, never a broken page.
 */
import uPlot from 'uplot'
import { dateTime, liveFor } from '../shared/format.js'
import {
  type Analytics,
  analyticsPath,
  type Broadcast,
  columns,
  daysBack,
  duration,
  ms,
  percent,
} from './analytics-data.js'
import { ApiError, api, describe } from './api.js'
import { h, must, table } from './dom.js'
import { initNav } from './nav.js'
import { getSession, type Me } from './session.js'

initNav()

const ACCENT = '#a78bfa'
const LIVE = '#f87171'
const GRID = { stroke: '#2f2f35', width: 1 }
const AXIS = { stroke: '#adadb8', grid: GRID, ticks: GRID }
const charts = new Map<string, uPlot>()

function notice(text: string): void {
  const el = must('#an-notice')
  el.hidden = false
  el.textContent = text
}

/** A 404 on the analytics route means this server has no analytics (an older version), not a bug. */
function why(err: unknown): string {
  if (err instanceof ApiError && err.status === 404) return 'This server does not offer analytics yet.'
  return describe(err)
}

/** Draws (or redraws) one chart into `#<id>-chart`, sized to its panel, with a summary for screen readers. */
function draw(
  id: string,
  opts: Omit<uPlot.Options, 'width' | 'height'>,
  data: uPlot.AlignedData,
  label: string,
) {
  const box = must(`#${id}-chart`)
  box.setAttribute('aria-label', label)
  charts.get(id)?.destroy()
  const width = Math.max(280, box.clientWidth)
  const chart = new uPlot({ ...opts, width, height: 260 }, data, box)
  charts.set(id, chart)
}

addEventListener('resize', () => {
  for (const [id, chart] of charts)
    chart.setSize({ width: Math.max(280, must(`#${id}-chart`).clientWidth), height: 260 })
})

const timeAxis = (fmt: (d: Date) => string): uPlot.Axis => ({
  ...AXIS,
  values: (_u, ticks) => ticks.map((t) => fmt(new Date(t * 1000))),
})
/** Tick spacings uPlot may choose from, in seconds: whole minutes, whole days. */
const MINUTE_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600]
const DAY_STEPS = [86_400, 2 * 86_400, 7 * 86_400]
const hhmm = (d: Date) => d.toISOString().slice(11, 16)
const day = (d: Date) => d.toISOString().slice(5, 10)

function status(id: string, text: string): void {
  must(`#${id}-status`).textContent = text
}

// ---- figures -----------------------------------------------------------------------------------

function showTotals(a: Analytics): void {
  must('#t-views').textContent = String(a.totals.views)
  must('#t-unique').textContent = String(a.totals.uniqueViewers)
  must('#t-watch').textContent = duration(a.totals.watchTimeS)
  must('#t-avg').textContent = duration(a.totals.avgViewDurationS)
  must('#t-peak').textContent = String(a.totals.peakConcurrent)
  must('#t-page').textContent = percent(a.totals.views > 0 ? a.sources.page / a.totals.views : null)
  showQoe(a.qoe)
}

function showQoe(q: Analytics['qoe']): void {
  must('#q-startup').textContent = ms(q.startupMsP50)
  must('#q-rebuffer').textContent = percent(q.rebufferRatio)
  must('#q-latency').textContent = ms(q.latencyMsP50)
}

// ---- charts ------------------------------------------------------------------------------------

async function drawConcurrent(channel: string, b: Broadcast | null): Promise<void> {
  if (!b) {
    status('concurrent', 'No broadcasts yet.')
    return
  }
  const from = new Date(b.startedAt)
  const to = b.endedAt ? new Date(Date.parse(b.endedAt) + 60_000) : new Date()
  const a = await api<Analytics>(analyticsPath(channel, from, to, 'minute'))
  const data = columns(a.series, [(p) => p.avgConcurrent, (p) => p.peakConcurrent])
  // The whole broadcast, and never less than 10 minutes: a short one is not stretched into
  // seconds-wide ticks that all read the same minute.
  const x0 = Math.floor(from.getTime() / 60_000) * 60
  const x1 = Math.max(Math.ceil(to.getTime() / 60_000) * 60, x0 + 600)
  const peak = Math.max(0, ...a.series.map((p) => p.peakConcurrent))
  status('concurrent', `Broadcast of ${dateTime(b.startedAt)}, ${liveFor(b.durationS * 1000)}: peak ${peak}.`)
  draw(
    'concurrent',
    {
      scales: {
        x: { time: true, range: () => [x0, x1] },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
      },
      axes: [
        { ...timeAxis(hhmm), space: 60, incrs: MINUTE_STEPS },
        { ...AXIS, values: (_u, t) => t.map((v) => (Number.isInteger(v) ? String(v) : '')) },
      ],
      series: [
        { label: 'Time (UTC)', value: (_u, v) => (v == null ? '—' : hhmm(new Date(v * 1000))) },
        { label: 'Average', stroke: ACCENT, fill: 'rgba(167, 139, 250, 0.18)', width: 2 },
        { label: 'Peak', stroke: LIVE, width: 1.5, dash: [4, 4] },
      ],
    },
    data,
    `Concurrent viewers during the broadcast of ${dateTime(b.startedAt)}: peak ${peak}.`,
  )
  must('#concurrent-table').replaceChildren(
    table(
      ['Minute (UTC)', 'Average viewers', 'Peak viewers'],
      a.series.map((p) => [hhmm(new Date(p.t)), p.avgConcurrent.toFixed(1), String(p.peakConcurrent)]),
      'No viewers recorded for this broadcast.',
    ),
  )
}

async function drawWatchTime(channel: string, now: number): Promise<Analytics> {
  const a = await api<Analytics>(analyticsPath(channel, daysBack(now, 30), new Date(now), 'day'))
  const best = a.series.reduce((m, p) => Math.max(m, p.watchTimeS), 0)
  // Minutes for a small channel, hours once a day reaches two: axis labels stay distinct.
  const [unitS, unit] = best >= 7200 ? [3600, 'h'] : [60, 'min']
  const data = columns(a.series, [(p) => p.watchTimeS / unitS])
  const days: [number, number] = [daysBack(now, 30).getTime() / 1000 - 43_200, now / 1000 + 43_200]
  draw(
    'watchtime',
    {
      scales: {
        x: { time: true, range: () => days },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
      },
      axes: [
        { ...timeAxis(day), space: 50, incrs: DAY_STEPS },
        { ...AXIS, values: (_u, t) => t.map((v) => (Number.isInteger(v) ? `${v} ${unit}` : '')) },
      ],
      series: [
        { label: 'Day (UTC)', value: (_u, v) => (v == null ? '—' : day(new Date(v * 1000))) },
        {
          label: 'Watch time',
          stroke: ACCENT,
          fill: 'rgba(167, 139, 250, 0.55)',
          width: 1,
          paths: uPlot.paths.bars?.({ size: [0.7, 40] }),
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : duration(v * unitS)),
        },
      ],
    },
    data,
    `Watch time per day over the last 30 days; the busiest day had ${duration(best)}.`,
  )
  status('watchtime', `Total ${duration(a.totals.watchTimeS)} over 30 days.`)
  must('#watchtime-table').replaceChildren(
    table(
      ['Day (UTC)', 'Watch time', 'Views'],
      a.series.map((p) => [p.t.slice(0, 10), duration(p.watchTimeS), String(p.views)]),
      'Nobody watched in the last 30 days.',
    ),
  )
  return a
}

function listBroadcasts(channel: string, rows: Broadcast[]): void {
  const el = must('#an-broadcasts')
  if (rows.length === 0) {
    el.replaceChildren(h('p', { class: 'muted' }, 'No broadcasts yet. Your streams will be listed here.'))
    return
  }
  const body = rows.map((b, i) => {
    const pick = h(
      'button',
      { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-pressed': i === 0 ? 'true' : 'false' },
      dateTime(b.startedAt),
    )
    pick.addEventListener('click', () => {
      for (const other of el.querySelectorAll('button[aria-pressed]'))
        other.setAttribute('aria-pressed', 'false')
      pick.setAttribute('aria-pressed', 'true')
      status('concurrent', 'Loading…')
      drawConcurrent(channel, b).catch((err: unknown) => status('concurrent', why(err)))
    })
    const cells: (Node | string)[] = [
      pick,
      liveFor(b.durationS * 1000),
      String(b.peakViewers),
      b.watchTimeS === undefined ? '—' : duration(b.watchTimeS),
      ms(b.qoe?.startupMsP50 ?? null),
      percent(b.qoe?.rebufferRatio ?? null),
      ms(b.qoe?.latencyMsP50 ?? null),
    ]
    return cells
  })
  const head = ['Broadcast', 'Length', 'Peak viewers', 'Watch time', 'Startup', 'Rebuffering', 'Latency']
  el.replaceChildren(
    h(
      'table',
      { class: 'table', id: 'broadcasts-table' },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...body.map((r) =>
          h('tr', {}, ...r.map((cell, i) => h('td', { 'data-label': head[i] ?? '' }, cell))),
        ),
      ),
    ),
  )
}

// ---- start -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const session = await getSession()
  if (!session) {
    location.replace(`/login?next=${encodeURIComponent('/dashboard/analytics')}`)
    return
  }
  const me = await api<Me>('/api/v1/me')
  const channel = me.username
  must('#an-whoami').replaceChildren(
    'Channel ',
    h('a', { href: `/c/${channel}` }, channel),
    ' · times in UTC',
  )
  const broadcasts = await api<Broadcast[]>(`/api/v1/channels/${channel}/sessions?limit=20`).catch(
    (err: unknown) => {
      notice(`Could not load your broadcasts: ${describe(err)}`)
      return [] as Broadcast[]
    },
  )
  listBroadcasts(channel, broadcasts)
  const results = await Promise.allSettled([
    drawWatchTime(channel, Date.now()),
    drawConcurrent(channel, broadcasts[0] ?? null),
  ])
  const [watch, concurrent] = results
  if (watch.status === 'fulfilled') showTotals(watch.value)
  else {
    status('watchtime', why(watch.reason))
    notice(`Audience figures are unavailable: ${why(watch.reason)}`)
    // The sessions list still carries our player's QoE: show the latest broadcast's.
    if (broadcasts[0]?.qoe) showQoe(broadcasts[0].qoe)
  }
  if (concurrent.status === 'rejected') status('concurrent', why(concurrent.reason))
  must('#analytics').dataset.ready = 'true'
}

main().catch((err: unknown) => {
  must('#an-whoami').replaceChildren(
    h('span', { class: 'field-error' }, `Could not load analytics: ${describe(err)}`),
  )
  must('#analytics').dataset.ready = 'true'
})
