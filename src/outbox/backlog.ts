/** @module outbox/backlog — how far behind the outbox workers are, for /metrics. */
import type { Sql } from '../db/client.js'

export type OutboxBacklog = {
  /** Rows not done whose next attempt is due now (unclaimed work). */
  due: number
  /** Rows not done at all: due, leased to a worker, or backing off after a failure. */
  pending: number
  /** Age of the oldest row not done, in seconds (0 when there is none). */
  oldestAgeS: number
}

/** One scan of the partial index `outbox_due_idx` (rows not done), however old the table. */
export async function outboxBacklog(sql: Sql): Promise<OutboxBacklog> {
  const [row] = await sql<{ due: number; pending: number; oldest: number }[]>`
    select count(*) filter (where available_at <= now())::int as due,
           count(*)::int as pending,
           coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest
    from outbox where done_at is null`
  return { due: row?.due ?? 0, pending: row?.pending ?? 0, oldestAgeS: Math.max(0, row?.oldest ?? 0) }
}
