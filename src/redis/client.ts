/** @module redis/client — the command connection and the subscriber connection (ioredis). */
import { Redis } from 'ioredis'

export type { Redis }

export function createRedis(url: string): { redis: Redis; redisSub: Redis } {
  // maxRetriesPerRequest bounds how long a request waits on a dead Redis before the caller's
  // error path (503 / fail closed) runs, instead of queueing forever.
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false })
  // A subscribed connection accepts only (P|S)SUBSCRIBE-family commands (ioredis README).
  const redisSub = redis.duplicate({ maxRetriesPerRequest: null })
  return { redis, redisSub }
}
