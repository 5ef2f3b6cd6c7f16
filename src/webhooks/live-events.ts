/**
 * @module webhooks/live-events — the `webhooks` consumer group of the lifecycle `events` stream:
 * each stream event becomes the deliveries its channel owner's endpoints subscribed to. A batch
 * handler (redis/stream-consumer.ts) of parsed events; the stream plumbing (which stream, which
 * partition) stays in server.ts. Idempotent: an entry handled twice finds its deliveries by event key.
 */
import { and, inArray, isNull } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { isForeignKeyViolation } from '../db/errors.js'
import { webhookEndpoints } from '../db/schema/index.js'
import type { StreamEvent } from '../live/events.js'
import { errText, type Logger } from '../log.js'
import type { BatchOutcome, StreamEntry } from '../redis/stream-consumer.js'
import { emitWebhookEvent } from './emit.js'
import { fromStreamEvent } from './events.js'

export const WEBHOOKS_GROUP = 'webhooks'

/**
 * Most owners have no endpoint for a given event, and this group reads every publish's event
 * beside the publish hooks: one indexed read per batch finds the few events somebody subscribed
 * to, and only those open a (locking) emit transaction (docs/benchmarks.md). Events are emitted in
 * stream order; when one fails, it and everything after it are handed back for retry, so no later
 * event of an endpoint takes a sequence number before an earlier one.
 */
export function createWebhookEventHandler(d: { db: Db; log: Logger }) {
  return async function handleBatch(
    events: { entry: StreamEntry; event: StreamEvent }[],
  ): Promise<BatchOutcome> {
    if (events.length === 0) return { retry: [] }
    const owners = [...new Set(events.map((e) => e.event.userId))]
    const endpoints = await d.db
      .select({ userId: webhookEndpoints.userId, events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.userId, owners), isNull(webhookEndpoints.disabledAt)))
    const wanted = new Set(endpoints.flatMap((ep) => ep.events.map((type) => `${ep.userId} ${type}`)))
    for (const [i, { event }] of events.entries()) {
      const webhook = fromStreamEvent(event)
      if (!wanted.has(`${webhook.userId} ${webhook.type}`)) continue
      try {
        await emitWebhookEvent(d.db, webhook)
      } catch (err) {
        // The endpoint or its owner was deleted meanwhile: nobody is left to tell.
        if (isForeignKeyViolation(err)) continue
        d.log.warn(
          { eventKey: webhook.key, err: errText(err) },
          'webhooks: event not recorded; it and the rest of the batch will be retried',
        )
        return { retry: events.slice(i).map((e) => e.entry) }
      }
    }
    return { retry: [] }
  }
}
