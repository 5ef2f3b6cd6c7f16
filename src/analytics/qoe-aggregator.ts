/**
 * @module analytics/qoe-aggregator — this instance's QoE samples, summed in memory per
 * (channel, broadcast, UTC minute) and written to Postgres in bounded batches: one upsert
 * statement per FLUSH_BATCH cells every QOE_FLUSH_INTERVAL_S, never a row per report. Rows from
 * several instances for the same cell merge in the upsert (histograms bin by bin, sums, error
 * counts), so Postgres writes grow with channels × minutes × instances, not with viewers.
 *
 * A crash loses at most one flush interval of this instance's samples (docs/analytics.md). A
 * failed flush keeps its cells for the next one; memory stays bounded by MAX_CELLS.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { isForeignKeyViolation } from '../db/errors.js'
import { qoeMinutes } from '../db/schema/index.js'
import { emptyHistogram, type Histogram, merge, record } from './qoe-histogram.js'
import type { QoeSample } from './qoe-report.js'

const FLUSH_BATCH = 500
/** ~1 KB each: far more live channels × minutes than one instance sees between two flushes. */
const MAX_CELLS = 50_000

type Cell = {
  channelId: string
  sessionId: string | null
  minute: number
  startup: Histogram | null
  latency: Histogram | null
  playedMs: number
  stalledMs: number
  stalls: number
  errors: Record<string, number>
  reports: number
}

export type QoeAggregator = {
  add(channelId: string, sessionId: string | null, sample: QoeSample, now: number): void
  /** Writes everything summed so far; returns the number of rows upserted. */
  flush(): Promise<number>
  /** Cells waiting for the next flush. */
  readonly pending: number
}

/** Histograms are stored without their trailing empty bins (most samples sit in the low bins). */
function trimmed(h: Histogram | null): number[] {
  if (!h) return []
  let end = h.length
  while (end > 0 && h[end - 1] === 0) end--
  return h.slice(0, end)
}

export function createQoeAggregator(d: {
  db: Db
  onDropped?: (cells: number, why: 'full' | 'rejected') => void
}): QoeAggregator {
  let cells = new Map<string, Cell>()

  const cellFor = (channelId: string, sessionId: string | null, minute: number): Cell | null => {
    const key = `${channelId}|${sessionId ?? ''}|${minute}`
    let cell = cells.get(key)
    if (!cell) {
      if (cells.size >= MAX_CELLS) {
        d.onDropped?.(1, 'full')
        return null
      }
      cell = {
        channelId,
        sessionId,
        minute,
        startup: null,
        latency: null,
        playedMs: 0,
        stalledMs: 0,
        stalls: 0,
        errors: {},
        reports: 0,
      }
      cells.set(key, cell)
    }
    return cell
  }

  const fold = (into: Cell, from: Cell) => {
    if (from.startup) into.startup = merge(into.startup ?? emptyHistogram(), from.startup)
    if (from.latency) into.latency = merge(into.latency ?? emptyHistogram(), from.latency)
    into.playedMs += from.playedMs
    into.stalledMs += from.stalledMs
    into.stalls += from.stalls
    for (const [k, n] of Object.entries(from.errors)) into.errors[k] = (into.errors[k] ?? 0) + n
    into.reports += from.reports
  }

  const write = async (batch: Cell[]) => {
    const rows = batch.map((c) => ({
      channelId: c.channelId,
      sessionId: c.sessionId,
      minute: new Date(c.minute),
      startupHist: trimmed(c.startup),
      latencyHist: trimmed(c.latency),
      playedMs: c.playedMs,
      stalledMs: c.stalledMs,
      stalls: c.stalls,
      errors: c.errors,
      reports: c.reports,
    }))
    const t = qoeMinutes
    // Adds bin by bin; unnest pads the shorter array with nulls.
    const addHist = (col: string) =>
      sql.raw(
        `array(select coalesce(a, 0) + coalesce(b, 0) from unnest(qoe_minutes.${col}, excluded.${col}) with ordinality as u(a, b, i) order by i)`,
      )
    await d.db
      .insert(t)
      .values(rows)
      .onConflictDoUpdate({
        target: [t.channelId, t.minute, t.sessionId],
        set: {
          startupHist: addHist('startup_hist'),
          latencyHist: addHist('latency_hist'),
          playedMs: sql.raw('qoe_minutes.played_ms + excluded.played_ms'),
          stalledMs: sql.raw('qoe_minutes.stalled_ms + excluded.stalled_ms'),
          stalls: sql.raw('qoe_minutes.stalls + excluded.stalls'),
          errors: sql`(select coalesce(jsonb_object_agg(k, n), '{}'::jsonb) from (select key as k, sum(value::bigint) as n from (select * from jsonb_each_text(qoe_minutes.errors) union all select * from jsonb_each_text(excluded.errors)) e group by key) s)`,
          reports: sql.raw('qoe_minutes.reports + excluded.reports'),
        },
      })
  }

  return {
    add(channelId, sessionId, s, now) {
      const cell = cellFor(channelId, sessionId, now - (now % 60_000))
      if (!cell) return
      if (s.startupMs !== null) {
        cell.startup ??= emptyHistogram()
        record(cell.startup, s.startupMs)
      }
      if (s.latencyMs !== null) {
        cell.latency ??= emptyHistogram()
        record(cell.latency, s.latencyMs)
      }
      cell.playedMs += s.playedMs
      cell.stalledMs += s.stalledMs
      cell.stalls += s.stalls
      for (const [k, n] of Object.entries(s.errors)) cell.errors[k] = (cell.errors[k] ?? 0) + (n ?? 0)
      cell.reports++
    },
    async flush() {
      if (cells.size === 0) return 0
      const taken = [...cells.values()]
      cells = new Map()
      let written = 0
      for (let i = 0; i < taken.length; i += FLUSH_BATCH) {
        const batch = taken.slice(i, i + FLUSH_BATCH)
        try {
          await write(batch)
          written += batch.length
        } catch (err) {
          // A channel deleted meanwhile (foreign key) would fail every retry: drop that batch.
          if (isForeignKeyViolation(err)) {
            d.onDropped?.(batch.length, 'rejected')
            continue
          }
          // Postgres unavailable: keep what was not written for the next flush, merged with newer samples.
          for (const c of taken.slice(i)) {
            const key = `${c.channelId}|${c.sessionId ?? ''}|${c.minute}`
            const newer = cells.get(key)
            if (newer) fold(newer, c)
            else if (cells.size < MAX_CELLS) cells.set(key, c)
          }
          throw err
        }
      }
      return written
    },
    get pending() {
      return cells.size
    },
  }
}
