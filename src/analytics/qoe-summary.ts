/**
 * @module analytics/qoe-summary — QoE figures read back from qoe_minutes: for a channel over a
 * time range (the analytics API's `qoe`) and per broadcast (the sessions list). Histograms are
 * summed bin by bin in Postgres, so a 30-day range returns ≤ 83 rows per histogram, not a row
 * per minute.
 */
import { sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.js'
import { type Histogram, quantile } from './qoe-histogram.js'

export type QoeFigures = {
  startupMsP50: number | null
  rebufferRatio: number | null
  latencyMsP50: number | null
}
/** The name the analytics API's side of #12 gave the same shape. */
export type QoeSummary = QoeFigures

/** stalled / (played + stalled); null when nothing was watched. */
export function rebufferRatio(playedMs: number, stalledMs: number): number | null {
  const watched = playedMs + stalledMs
  if (watched <= 0) return null
  return Math.round((stalledMs / watched) * 10_000) / 10_000
}

type Sums = { played: number; stalled: number; startup: Histogram; latency: Histogram }

function emptySums(): Sums {
  return { played: 0, stalled: 0, startup: [], latency: [] }
}

function figures(s: Sums): QoeFigures {
  return {
    startupMsP50: quantile(s.startup, 0.5),
    rebufferRatio: rebufferRatio(s.played, s.stalled),
    latencyMsP50: quantile(s.latency, 0.5),
  }
}

/**
 * Groups qoe_minutes rows matching `where` by `groupBy` (a column or a constant), summing the
 * histograms bin by bin and the durations: three grouped scans of the same rows.
 */
async function sums(db: Db | Tx, where: ReturnType<typeof sql>, groupBy: ReturnType<typeof sql>) {
  const bins = (col: string) =>
    db.execute<{ g: string | null; i: number; n: number }>(sql`
      select ${groupBy}::text as g, u.i::int as i, sum(u.n)::float8 as n
      from qoe_minutes q, unnest(${sql.raw(`q.${col}`)}) with ordinality as u(n, i)
      where ${where}
      group by 1, 2`)
  const [startup, latency, totals] = await Promise.all([
    bins('startup_hist'),
    bins('latency_hist'),
    db.execute<{ g: string | null; played: number; stalled: number }>(sql`
      select ${groupBy}::text as g, sum(q.played_ms)::float8 as played, sum(q.stalled_ms)::float8 as stalled
      from qoe_minutes q where ${where} group by 1`),
  ])
  const out = new Map<string | null, Sums>()
  const of = (g: string | null) => {
    const known = out.get(g)
    if (known) return known
    const s = emptySums()
    out.set(g, s)
    return s
  }
  for (const r of totals) {
    const s = of(r.g)
    s.played = Number(r.played)
    s.stalled = Number(r.stalled)
  }
  for (const [rows, pick] of [
    [startup, (s: Sums) => s.startup],
    [latency, (s: Sums) => s.latency],
  ] as const)
    for (const r of rows) {
      const h = pick(of(r.g))
      h[Number(r.i) - 1] = Number(r.n)
    }
  for (const s of out.values()) {
    // Bins no row reached stay holes in the sparse array: make them zeros.
    s.startup = Array.from(s.startup, (n) => n ?? 0)
    s.latency = Array.from(s.latency, (n) => n ?? 0)
  }
  return out
}

/**
 * The analytics API's `qoe` for a channel over [from, to): median startup time, rebuffering
 * ratio and median latency of our player's reports received in that range. Nulls when none.
 */
export async function qoeSummary(db: Db | Tx, channelId: string, from: Date, to: Date): Promise<QoeSummary> {
  const where = sql`q.channel_id = ${channelId} and q.minute >= ${from.toISOString()}::timestamptz and q.minute < ${to.toISOString()}::timestamptz`
  const s = (await sums(db, where, sql`null`)).get(null)
  return figures(s ?? emptySums())
}

/** The same figures per broadcast, for the sessions list; broadcasts without reports are absent. */
export async function qoeBySession(db: Db | Tx, sessionIds: string[]): Promise<Map<string, QoeFigures>> {
  if (sessionIds.length === 0) return new Map()
  const ids = sql.join(
    sessionIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  )
  const by = await sums(db, sql`q.session_id in (${ids})`, sql`q.session_id`)
  const out = new Map<string, QoeFigures>()
  for (const [id, s] of by) if (id !== null) out.set(id, figures(s))
  return out
}
