/**
 * @module webhooks/emit — turns one event into one delivery row per subscribed, enabled endpoint
 * of its owner. Called inside the transaction that decides the event (follow.created) or by the
 * `webhooks` consumer of the lifecycle `events` stream: the delivery exists iff the event does.
 *
 * Each delivery takes the endpoint's next sequence number under the endpoint's row lock, so
 * numbers are gap-free and increasing in commit order. An event seen twice (the stream consumer
 * is at-least-once) finds its delivery by `eventKey` and adds nothing.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.js'
import { webhookDeliveries, webhookEndpoints } from '../db/schema/index.js'
import { randomId } from '../lib/secrets.js'
import { type WebhookEvent, webhookBody } from './events.js'

export const WEBHOOKS_CHANNEL = 'webhooks'

/** Records the deliveries owed for `event`; returns their ids. `endpointId`: that endpoint only (tests). */
export async function emitWebhookEvent(
  db: Db | Tx,
  event: WebhookEvent,
  opts: { endpointId?: string } = {},
): Promise<number[]> {
  return db.transaction(async (tx) => {
    const targets = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(
        opts.endpointId
          ? and(
              eq(webhookEndpoints.id, opts.endpointId),
              eq(webhookEndpoints.userId, event.userId),
              isNull(webhookEndpoints.disabledAt),
            )
          : and(
              eq(webhookEndpoints.userId, event.userId),
              isNull(webhookEndpoints.disabledAt),
              sql`${event.type} = any(${webhookEndpoints.events})`,
            ),
      )
      .orderBy(webhookEndpoints.id) // one lock order for every emitter: no deadlocks
      .for('update')
    if (targets.length === 0) return []
    const seen = await tx
      .select({ endpointId: webhookDeliveries.endpointId })
      .from(webhookDeliveries)
      .where(
        and(
          inArray(
            webhookDeliveries.endpointId,
            targets.map((t) => t.id),
          ),
          eq(webhookDeliveries.eventKey, event.key),
        ),
      )
    const already = new Set(seen.map((s) => s.endpointId))
    const ids: number[] = []
    for (const { id: endpointId } of targets) {
      if (already.has(endpointId)) continue
      const [ep] = await tx
        .update(webhookEndpoints)
        .set({ lastSeq: sql`${webhookEndpoints.lastSeq} + 1` })
        .where(eq(webhookEndpoints.id, endpointId))
        .returning({ seq: webhookEndpoints.lastSeq })
      const seq = ep!.seq
      const [row] = await tx
        .insert(webhookDeliveries)
        .values({
          endpointId,
          messageId: `msg_${randomId(24)}`,
          seq,
          eventType: event.type,
          eventKey: event.key,
          body: webhookBody(event, seq),
        })
        .returning({ id: webhookDeliveries.id })
      ids.push(row!.id)
    }
    // Wakes the workers at commit, not before.
    if (ids.length) await tx.execute(sql`select pg_notify(${WEBHOOKS_CHANNEL}, '')`)
    return ids
  })
}
