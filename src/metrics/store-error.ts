/**
 * @module metrics/store-error — tells a Postgres or Redis failure from any other error, for the
 * store error counters. Looks through `cause` chains (drizzle wraps every failed query).
 */
import { DrizzleQueryError } from 'drizzle-orm'

export type Store = 'postgres' | 'redis'

/** postgres.js's own connection-loss codes (a refused connect is a bare ECONNREFUSED: ambiguous). */
const PG_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT'])
/** redis-errors / ioredis classes; their messages for a command given up on a dead connection. */
const REDIS_NAMES = new Set([
  'RedisError',
  'ReplyError',
  'ParserError',
  'AbortError',
  'InterruptError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
])
const REDIS_MESSAGES = ['Command timed out', 'Connection is closed.', "Stream isn't writeable"]

export function storeOf(err: unknown): Store | null {
  let e: unknown = err
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e instanceof DrizzleQueryError || e.name === 'PostgresError') return 'postgres'
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && PG_CODES.has(code)) return 'postgres'
    if (REDIS_NAMES.has(e.name) || REDIS_MESSAGES.some((m) => e instanceof Error && e.message.startsWith(m)))
      return 'redis'
    e = e.cause
  }
  return null
}
