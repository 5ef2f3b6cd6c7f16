/**
 * @module web/client/analytics-data — the analytics API's contract as the page uses it, and the
 * pure shaping of its answers into chart columns and readable figures (kept apart from the DOM
 * so the arithmetic is testable).
 */

export type Bucket = 'minute' | 'hour' | 'day'

export type Qoe = { startupMsP50: number | null; rebufferRatio: number | null; latencyMsP50: number | null }

/** `GET /api/v1/channels/:name/analytics?from&to&bucket` */
export type Analytics = {
  totals: {
    views: number
    uniqueViewers: number
    watchTimeS: number
    avgViewDurationS: number
    peakConcurrent: number
  }
  series: { t: string; views: number; watchTimeS: number; avgConcurrent: number; peakConcurrent: number }[]
  /** Views in our page's player and in any other (VLC, a TV, ffplay). */
  sources: { page: number; other: number }
  qoe: Qoe
}

/** A row of `GET /api/v1/channels/:name/sessions` (fields other branches add are optional here). */
export type Broadcast = {
  id: string
  startedAt: string
  endedAt: string | null
  durationS: number
  peakViewers: number
  uniqueViewers?: number
  watchTimeS?: number
  qoe?: Qoe | null
}

export function analyticsPath(channel: string, from: Date, to: Date, bucket: Bucket): string {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), bucket })
  return `/api/v1/channels/${encodeURIComponent(channel)}/analytics?${q}`
}

/** uPlot's columnar data: x in seconds since the epoch, then one array per series. */
export function columns(
  series: Analytics['series'],
  pick: ((p: Analytics['series'][number]) => number)[],
): [number[], ...number[][]] {
  const xs = series.map((p) => Math.floor(Date.parse(p.t) / 1000))
  return [xs, ...pick.map((f) => series.map(f))]
}

/** Midnight UTC `days` days before `now`'s day, so day buckets are whole days. */
export function daysBack(now: number, days: number): Date {
  const d = new Date(now)
  d.setUTCHours(0, 0, 0, 0)
  d.setUTCDate(d.getUTCDate() - days + 1)
  return d
}

export function ms(v: number | null): string {
  if (v === null) return '—'
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`
}

export function percent(v: number | null): string {
  if (v === null) return '—'
  const p = v * 100
  return `${p < 10 ? p.toFixed(p === 0 ? 0 : 2) : p.toFixed(1)} %`
}

/** 42 → "42 s", 3720 → "1 h 02 min", 90000 → "25 h". */
export function duration(s: number): string {
  const sec = Math.max(0, Math.round(s))
  if (sec < 60) return `${sec} s`
  const m = Math.floor(sec / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  return h >= 24 ? `${h} h` : `${h} h ${String(m % 60).padStart(2, '0')} min`
}
