/**
 * @module chat — assembles the chat roles (broker, history, presence, hub) for the composition
 * root. One real implementation of each, over the process's Redis and Postgres clients.
 */

import { createQoeAggregator, type QoeAggregator } from '../analytics/qoe-aggregator.js'
import type { Deps } from '../deps.js'
import { every } from '../lib/every.js'
import { errText } from '../log.js'
import { createRedisPresence, type Presence } from '../presence/presence.js'
import { createSocketAdmission, type SocketAdmission } from './admission.js'
import { type ChatBroker, createRedisChatBroker } from './broker.js'
import { type ChatHistory, createChatHistory, purgeExpiredMessages } from './history.js'
import { ChatHub } from './hub.js'

export type Chat = {
  hub: ChatHub
  broker: ChatBroker
  history: ChatHistory
  presence: Presence
  admission: SocketAdmission
  /** Player QoE reports from these sockets, summed until the next flush (analytics/). */
  qoe: QoeAggregator
}

/** What chat needs from the composition root (built before `Deps` itself, which holds the chat). */
export type ChatDeps = Pick<
  Deps,
  'config' | 'log' | 'db' | 'redis' | 'redisSub' | 'keys' | 'now' | 'live' | 'metrics'
>

export function createChat(d: ChatDeps): Chat {
  const historyMax = d.config.CHAT_REDIS_HISTORY
  const broker = createRedisChatBroker({ redis: d.redis, redisSub: d.redisSub, keys: d.keys, historyMax })
  const history = createChatHistory({ db: d.db, redis: d.redis, keys: d.keys, historyMax })
  const presence = createRedisPresence({
    redis: d.redis,
    keys: d.keys,
    ttlMs: d.config.PRESENCE_TTL_S * 1000,
    now: d.now,
  })
  const admission = createSocketAdmission({
    redis: d.redis,
    keys: d.keys,
    maxPerAddress: d.config.WS_MAX_PER_IP,
    maxConnections: d.config.WS_MAX_CONNECTIONS,
    ttlMs: d.config.PRESENCE_TTL_S * 1000,
    now: d.now,
    onError: (err) => d.log.warn({ err: errText(err) }, 'chat: socket release failed'),
  })
  const hub = new ChatHub({ ...d, broker, history, presence, admission })
  const qoe = createQoeAggregator({
    db: d.db,
    onDropped: (cells, why) => d.log.warn({ cells, why }, 'qoe: samples dropped'),
  })
  return { hub, broker, history, presence, admission, qoe }
}

/** Deletes chat older than CHAT_RETENTION_DAYS every 10 minutes (harmless if several instances do it). */
export function startChatRetention(d: Pick<Deps, 'db' | 'config' | 'log' | 'now'>, intervalMs = 10 * 60_000) {
  return every(
    intervalMs,
    async () => {
      const n = await purgeExpiredMessages(d.db, d.config.CHAT_RETENTION_DAYS, d.now())
      if (n > 0) d.log.info({ deleted: n }, 'chat: retention purge')
    },
    { onError: (err) => d.log.warn({ err: errText(err) }, 'chat: retention purge failed') },
  )
}
