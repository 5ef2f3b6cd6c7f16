/**
 * @module live/effects — what follows from each lifecycle event outside Redis, applied by the
 * `live-effects` consumer group of the `events` stream (redis/stream-consumer.ts) on every
 * instance: the session's history row in Postgres, the publisher's end tombstone, and dropping a
 * publisher that was ended on purpose while still connected. All are idempotent; an entry is acknowledged only when both
 * succeeded, so a Postgres outage or an unreachable ingest delays them and loses nothing.
 */
import type { Db } from '../db/client.js'
import type { Logger } from '../log.js'
import type { StreamEntry } from '../redis/stream-consumer.js'
import { DELIBERATE } from './entry.js'
import { entryData, parseStreamEvent } from './events.js'
import { applyToHistory } from './history.js'
import type { IngestControl } from './ingest-control.js'
import type { LiveRegistry } from './registry.js'

export const EFFECTS_GROUP = 'live-effects'

const FK_VIOLATION = '23503'

export function createLiveEffects(d: {
  db: Db
  ingest: IngestControl
  live: Pick<LiveRegistry, 'markEnded'>
  log: Logger
}) {
  return async function handle(entry: StreamEntry): Promise<void> {
    const data = entryData(entry.fields)
    const event = data === null ? null : parseStreamEvent(data)
    if (!event) {
      d.log.error({ id: entry.id }, 'live effects: malformed event skipped')
      return
    }
    const results = await Promise.allSettled([
      applyToHistory(d.db, event).catch((err) => {
        // The channel or key was deleted meanwhile: there is no history left to write.
        if ((err as { code?: string }).code === FK_VIOLATION) {
          d.log.warn({ sessionId: event.sessionId }, 'live effects: session of a deleted channel skipped')
          return
        }
        throw err
      }),
      // The tombstone lives outside the channel's slot, so the END script cannot write it: its
      // caller does at once, and this makes it certain if that caller died in between.
      event.type === 'stream.offline' ? d.live.markEnded(event.node, event.clientId, event.reason) : null,
      (async () => {
        if (event.type !== 'stream.offline' || !event.wasLive || !DELIBERATE.has(event.reason)) return
        // nginx answers 0 when the client is already gone: only an unreachable node is retried.
        const answered = await d.ingest.dropPublisher(event.node, event.channel, event.clientId)
        if (answered === null) throw new Error(`ingest ${event.node} unreachable`)
      })(),
    ])
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}
