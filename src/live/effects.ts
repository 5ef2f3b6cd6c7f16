/**
 * @module live/effects — what follows from each lifecycle event outside Redis, applied by the
 * `live-effects` consumer group of the `events` stream (redis/stream-consumer.ts) on every
 * instance: the session's history row in Postgres, the publisher's end tombstone, and dropping a
 * publisher that was ended on purpose while still connected. All are idempotent; an entry is acknowledged only when both
 * succeeded, so a Postgres outage or an unreachable ingest delays them and loses nothing.
 */
import type { Db } from '../db/client.js'
import { errText, type Logger } from '../log.js'
import type { BatchOutcome, StreamEntry } from '../redis/stream-consumer.js'
import { DELIBERATE } from './entry.js'
import { parseEventEntries } from './events.js'
import { applyToHistoryBatch } from './history.js'
import type { IngestControl } from './ingest-control.js'
import type { LiveRegistry } from './registry.js'

export const EFFECTS_GROUP = 'live-effects'

/**
 * A batch handler (redis/stream-consumer.ts): the history of the whole read in a few statements
 * (history.ts) and, at the same time, each offline event's tombstone and drop — a drop never
 * waits for Postgres. History that fails (Postgres down) fails the batch, to be retried whole:
 * every write and drop is idempotent. A drop that fails (its ingest node unreachable) holds back
 * only its own entry, so one dead node never stalls the history of every other channel.
 */
export function createLiveEffects(d: {
  db: Db
  ingest: IngestControl
  live: Pick<LiveRegistry, 'markEnded'>
  log: Logger
}) {
  return async function handleBatch(entries: StreamEntry[]): Promise<BatchOutcome> {
    const events = parseEventEntries(entries, (id) =>
      d.log.error({ id }, 'live effects: malformed event skipped'),
    )
    const retry: StreamEntry[] = []
    const [history] = await Promise.allSettled([
      applyToHistoryBatch(
        d.db,
        events.map((e) => e.event),
        // The channel or key was deleted meanwhile: there is no history left to write.
        (e) => d.log.warn({ sessionId: e.sessionId }, 'live effects: session of a deleted channel skipped'),
      ),
      ...events.map(async ({ entry, event }) => {
        if (event.type !== 'stream.offline') return
        try {
          await Promise.all([
            // The tombstone lives outside the channel's slot, so the END script cannot write it:
            // its caller does at once, and this makes it certain if that caller died in between.
            d.live.markEnded(event.node, event.clientId, event.reason),
            (async () => {
              if (!event.wasLive || !DELIBERATE.has(event.reason)) return
              // nginx answers 0 when the client is already gone: only an unreachable node is retried.
              const answered = await d.ingest.dropPublisher(event.node, event.channel, event.clientId)
              if (answered === null) throw new Error(`ingest ${event.node} unreachable`)
            })(),
          ])
        } catch (err) {
          d.log.warn(
            { id: entry.id, sessionId: event.sessionId, err: errText(err) },
            'live effects: will retry',
          )
          retry.push(entry)
        }
      }),
    ])
    if (history.status === 'rejected') throw history.reason
    return { retry }
  }
}
