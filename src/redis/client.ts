/** @module redis/client — the command connection and the subscriber connection (ioredis). */
import { Redis } from 'ioredis'

export type { Redis }

/** Every command on the shared connection answers within this or fails (Redis answers in < 1 ms). */
export const COMMAND_TIMEOUT_MS = 1000

export function createRedis(url: string): { redis: Redis; redisSub: Redis } {
  // maxRetriesPerRequest and commandTimeout bound how long a request waits on a dead or frozen
  // Redis (a frozen one keeps the TCP connection open and never answers) before the caller's error
  // path runs: on_publish refuses (503), on_update keeps the stream (200), consumers retry later.
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    commandTimeout: COMMAND_TIMEOUT_MS,
    enableAutoPipelining: true,
    lazyConnect: false,
  })
  // A subscribed connection accepts only (P|S)SUBSCRIBE-family commands (ioredis README); it
  // waits as long as it takes, so no timeout.
  const redisSub = redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined })
  // Connection errors surface where they matter — as failed commands (503s, retried consumers);
  // without a listener ioredis would print each reconnect attempt as an "unhandled error event".
  for (const c of [redis, redisSub]) c.on('error', () => {})
  return { redis, redisSub }
}
