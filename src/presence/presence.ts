/**
 * @module presence/presence — writes viewer presence: one entry per socket in the channel's
 * sorted set (member = connection id, score = expiry ms), the structure presence/count.ts reads.
 *
 * Each instance re-adds its live sockets every TTL/3 (the heartbeat), so when an instance dies
 * its entries stop being refreshed and age out of every count within one TTL — no cleanup by the
 * dead instance is needed. Readers ignore expired entries; `refresh` also deletes them
 * (centrifuge `presence_get.lua`: ZREMRANGEBYSCORE then count).
 */

import { and, eq, lt, or, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { streamSessions } from '../db/schema/index.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { countViewers } from './count.js'

export interface Presence {
  add(channel: string, connId: string): Promise<void>
  remove(channel: string, connIds: string[]): Promise<void>
  /** Re-adds live sockets and drops expired entries (a dead instance's sockets). */
  refresh(entries: Map<string, string[]>): Promise<void>
  counts(channels: string[]): Promise<Map<string, number>>
  /** Adds viewers to the session's unique-viewer estimate (HyperLogLog); returns the estimate. */
  addUnique(sessionId: string, viewerKeys: string[]): Promise<number>
}

const CHUNK = 1000
const UNIQUE_TTL_S = 2 * 24 * 3600

export function createRedisPresence(opts: {
  redis: Redis
  keys: Keys
  ttlMs: number
  now: () => number
}): Presence {
  const { redis, keys, ttlMs, now } = opts
  // The set itself outlives its newest entry a little, so an abandoned channel's key disappears.
  const keyTtlMs = () => ttlMs * 2

  return {
    async add(channel, connId) {
      const key = keys.presence(channel)
      await redis
        .multi()
        .zadd(key, now() + ttlMs, connId)
        .pexpire(key, keyTtlMs())
        .exec()
    },
    async remove(channel, connIds) {
      for (let i = 0; i < connIds.length; i += CHUNK)
        await redis.zrem(keys.presence(channel), ...connIds.slice(i, i + CHUNK))
    },
    async refresh(entries) {
      const t = now()
      // Channels live in different slots: one pipeline (MULTI-free) per channel, sent at once.
      await Promise.all(
        [...entries].map(([channel, ids]) => {
          const key = keys.presence(channel)
          const p = redis.pipeline()
          for (let i = 0; i < ids.length; i += CHUNK) {
            const args: (string | number)[] = []
            for (const id of ids.slice(i, i + CHUNK)) args.push(t + ttlMs, id)
            if (args.length) p.zadd(key, ...args)
          }
          p.zremrangebyscore(key, '-inf', t)
          p.pexpire(key, keyTtlMs())
          return p.exec()
        }),
      )
    },
    counts(channels) {
      return countViewers(redis, keys, channels, now())
    },
    async addUnique(sessionId, viewerKeys) {
      const key = keys.uniqueViewers(sessionId)
      const p = redis.pipeline()
      for (let i = 0; i < viewerKeys.length; i += CHUNK) p.pfadd(key, ...viewerKeys.slice(i, i + CHUNK))
      p.expire(key, UNIQUE_TTL_S)
      p.pfcount(key)
      const res = (await p.exec()) ?? []
      return Number(res.at(-1)?.[1] ?? 0)
    },
  }
}

/**
 * Raises the session's recorded peak and unique viewers (never lowers them: every instance
 * writes the same numbers, and GREATEST makes the writes commute).
 */
export async function recordSessionViewers(
  db: Db,
  sessionId: string,
  peak: number,
  unique: number,
): Promise<void> {
  await db
    .update(streamSessions)
    .set({
      peakViewers: sql`greatest(${streamSessions.peakViewers}, ${peak})`,
      uniqueViewers: sql`greatest(${streamSessions.uniqueViewers}, ${unique})`,
    })
    .where(
      and(
        eq(streamSessions.id, sessionId),
        or(lt(streamSessions.peakViewers, peak), lt(streamSessions.uniqueViewers, unique)),
      ),
    )
}
