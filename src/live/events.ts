/**
 * @module live/events — stream lifecycle events.
 * Durable: the Redis Stream `events` (consumer groups can read it; exactly one `stream.online`
 * and one `stream.offline` per session). Live: pub/sub `events:ch:{channel}` for open pages and
 * chat sockets, which also get `stream.reconnecting` and a resumed `stream.online`.
 */
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'

export type StreamEvent =
  | { type: 'stream.online'; channel: string; sessionId: string; startedAt: string; resumed: boolean }
  | { type: 'stream.reconnecting'; channel: string; sessionId: string }
  | { type: 'stream.offline'; channel: string; sessionId: string; reason: string; endedAt: string }

export async function emitStreamEvent(
  redis: Redis,
  keys: Keys,
  event: StreamEvent,
  opts: { durable: boolean },
) {
  const payload = JSON.stringify(event)
  const multi = redis.multi()
  if (opts.durable)
    multi.xadd(keys.events(), 'MAXLEN', '~', '10000', '*', 'type', event.type, 'data', payload)
  multi.publish(keys.channelEvents(event.channel), payload)
  await multi.exec()
}
