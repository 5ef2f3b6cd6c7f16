/**
 * @module webhooks/live-events — the `webhooks` consumer group of the lifecycle `events` stream:
 * each stream event becomes the deliveries its channel owner's endpoints subscribed to. A plain
 * `(event) => Promise<void>`; the stream plumbing (which stream, which partition) stays in
 * server.ts. Idempotent: an entry handled twice finds its deliveries by event key.
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { webhookEndpoints } from '../db/schema/index.js'
import type { StreamEvent } from '../live/events.js'
import { emitWebhookEvent } from './emit.js'
import { fromStreamEvent } from './events.js'

export const WEBHOOKS_GROUP = 'webhooks'

const FK_VIOLATION = '23503'

export function createWebhookEventHandler(d: { db: Db }) {
  return async function handle(event: StreamEvent): Promise<void> {
    const webhook = fromStreamEvent(event)
    // Most owners have no endpoint for this event: one indexed read instead of a locking
    // transaction per lifecycle event (it ran beside every publish hook; docs/benchmarks.md).
    const [wanted] = await d.db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.userId, webhook.userId),
          isNull(webhookEndpoints.disabledAt),
          sql`${webhook.type} = any(${webhookEndpoints.events})`,
        ),
      )
      .limit(1)
    if (!wanted) return
    await emitWebhookEvent(d.db, webhook).catch((err) => {
      // The endpoint or its owner was deleted meanwhile: nobody is left to tell.
      if ((err as { code?: string }).code === FK_VIOLATION) return
      throw err
    })
  }
}
