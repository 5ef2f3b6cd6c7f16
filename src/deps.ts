/** @module deps — what the composition root builds and hands to every feature. */
import type { TokenService } from './accounts/tokens.js'
import type { Chat } from './chat/index.js'
import type { Config } from './config.js'
import type { Db } from './db/client.js'
import type { IngestControl } from './live/ingest-control.js'
import type { LiveRegistry } from './live/registry.js'
import type { Logger } from './log.js'
import type { Mailer } from './mail/mailer.js'
import type { OutboxWorker } from './outbox/worker.js'
import type { Redis } from './redis/client.js'
import type { Keys } from './redis/keys.js'

export interface Deps {
  config: Config
  log: Logger
  db: Db
  redis: Redis
  /** Subscriber connection: only (P|S)SUBSCRIBE-family commands. */
  redisSub: Redis
  keys: Keys
  mailer: Mailer
  tokens: TokenService
  live: LiveRegistry
  ingest: IngestControl
  /** Chat and viewer presence: this instance's sockets (hub) and the Redis broker between instances. */
  chat: Chat
  /** Applies an `inline` outbox row right after its transaction committed (outbox/outbox.ts). */
  outbox: Pick<OutboxWorker, 'applyNow'>
  /** Injected clock (ms since epoch) so time-based rules are testable without sleeping. */
  now: () => number
}
