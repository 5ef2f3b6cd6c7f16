/** @module webhooks/backlog — how far behind webhook delivery is, for /metrics. */
import type { Sql } from '../db/client.js'

export type WebhookBacklog = {
  /** Deliveries not yet delivered nor given up (due, leased or backing off). */
  pending: number
  /** Age of the oldest of them, in seconds (0 when there is none). */
  oldestAgeS: number
}

/** One scan of the partial index `webhook_deliveries_pending_idx`, however large the table. */
export async function webhookBacklog(sql: Sql): Promise<WebhookBacklog> {
  const [row] = await sql<{ pending: number; oldest: number }[]>`
    select count(*)::int as pending,
           coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest
    from webhook_deliveries where status = 'pending'`
  return { pending: row?.pending ?? 0, oldestAgeS: Math.max(0, row?.oldest ?? 0) }
}
