/**
 * @module analytics/flush — one flush of a drained tally into Redis (shared state: the view rule,
 * concurrent viewers, HyperLogLogs) and into the pending Postgres deltas (rows.ts).
 */
import { inArray } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { channels, GRANULARITIES } from '../db/schema/index.js'
import type { LiveRegistry } from '../live/registry.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createScript, type Script } from '../redis/script.js'
import { floorTo } from './buckets.js'
import { bucketDelta, type Pending } from './rows.js'
import { RECORD_VIEWERS, scriptKeys } from './scripts.js'
import type { DrainedChannel } from './tally.js'
import { isPageViewer } from './viewer-id.js'

const CHUNK = 2000
const HOUR_TTL_S = 3 * 3600
const DAY_TTL_S = 2 * 86_400

export type FlushDeps = { db: Db; redis: Redis; keys: Keys; live: Pick<LiveRegistry, 'get'> }
export type FlushOptions = { gapMs: number; activeMs: number; flushMs: number }

export function createFlusher(deps: FlushDeps, opts: FlushOptions) {
  const record: Script = createScript(deps.redis, RECORD_VIEWERS)
  const ids = new Map<string, string>()

  /** Channel name → id; names of no channel (someone's stray HLS dir) are left out. */
  const channelIds = async (names: string[]) => {
    const missing = names.filter((n) => !ids.has(n))
    if (missing.length) {
      const rows = await deps.db
        .select({ id: channels.id, name: channels.name })
        .from(channels)
        .where(inArray(channels.name, missing))
      for (const r of rows) ids.set(r.name, r.id)
    }
    if (ids.size > 100_000) ids.clear()
    return ids
  }

  /** The view rule and the concurrency sample, through the channel's viewer zset. */
  const recordViewers = async (channel: string, viewers: DrainedChannel['viewers'], now: number) => {
    const key = scriptKeys.recordViewers(deps.keys, channel)
    const head = [opts.gapMs, now - opts.activeMs - opts.flushMs, now - opts.gapMs, 2 * opts.gapMs]
    const newViews: number[] = []
    let active = 0
    // Chunks keep each script short: Redis runs nothing else while one runs.
    for (let i = 0; i === 0 || i < viewers.length; i += CHUNK) {
      const args: (string | number)[] = [...head]
      for (const [id, first, last] of viewers.slice(i, i + CHUNK)) args.push(id, first, last)
      const out = (await record(key, args)) as number[]
      active = out[0]!
      for (const idx of out.slice(1)) newViews.push(i + idx - 1)
    }
    return { active, newViews }
  }

  /** PFADDs ids to a HyperLogLog, refreshes its TTL; → its count and (optionally) its bytes. */
  const addUnique = async (key: string, members: string[], ttlS: number, copy: boolean) => {
    const adds = []
    for (let i = 0; i < members.length; i += CHUNK)
      adds.push(deps.redis.pfadd(key, ...members.slice(i, i + CHUNK)))
    await Promise.all([...adds, deps.redis.expire(key, ttlS)])
    const [count, bytes] = await Promise.all([
      deps.redis.pfcount(key),
      copy ? deps.redis.getBuffer(key) : Promise.resolve(null),
    ])
    return { count, bytes }
  }

  /** Groups viewer ids by the buckets (of a granularity) their window touched. */
  const byBucket = (viewers: DrainedChannel['viewers'], step: (ms: number) => number) => {
    const out = new Map<number, string[]>()
    for (const [id, first, last] of viewers)
      for (const t of new Set([step(first), step(last)])) {
        const list = out.get(t)
        if (list) list.push(id)
        else out.set(t, [id])
      }
    return out
  }

  return async function flush(drained: DrainedChannel[], pending: Pending, now: number): Promise<void> {
    const known = await channelIds(drained.map((d) => d.channel))
    const site = new Map<number, string[]>()
    await Promise.all(
      drained.map(async ({ channel, viewers, watchMs }) => {
        const channelId = known.get(channel)
        if (!channelId) return
        const [{ active, newViews }, entry] = await Promise.all([
          recordViewers(channel, viewers, now),
          deps.live.get(channel),
        ])
        for (const i of newViews) {
          const [id, first] = viewers[i]!
          for (const g of GRANULARITIES) {
            const d = bucketDelta(pending, channelId, g, floorTo(first, g))
            d.views++
            if (isPageViewer(id)) d.pageViews++
          }
        }
        let total = 0
        for (const [minute, ms] of watchMs) {
          total += ms
          for (const g of GRANULARITIES) bucketDelta(pending, channelId, g, floorTo(minute, g)).watchMs += ms
        }
        for (const g of GRANULARITIES) {
          const d = bucketDelta(pending, channelId, g, floorTo(now, g))
          d.concSum += active
          d.concSamples++
          d.peakConcurrent = Math.max(d.peakConcurrent, active)
        }
        const uniques: Promise<void>[] = []
        for (const g of ['hour', 'day'] as const)
          for (const [t, ids] of byBucket(viewers, (ms) => floorTo(ms, g))) {
            const key = deps.keys.analyticsUnique(channel, `${g[0]}:${t}`)
            uniques.push(
              addUnique(key, ids, g === 'hour' ? HOUR_TTL_S : DAY_TTL_S, true).then(({ count, bytes }) => {
                const d = bucketDelta(pending, channelId, g, t)
                d.uniqueViewers = Math.max(d.uniqueViewers, count)
                d.hll = bytes
              }),
            )
          }
        for (const [t, ids] of byBucket(viewers, (ms) => floorTo(ms, 'day'))) {
          const list = site.get(t)
          if (list) list.push(...ids)
          else site.set(t, [...ids])
        }
        // The broadcast the channel is in: its watch time and unique viewers.
        if (entry?.sessionId && (total > 0 || viewers.length > 0)) {
          const key = deps.keys.analyticsUnique(channel, `s:${entry.sessionId}`)
          uniques.push(
            addUnique(
              key,
              viewers.map((v) => v[0]),
              DAY_TTL_S,
              false,
            ).then(({ count }) => {
              const s = pending.sessions.get(entry.sessionId) ?? { watchMs: 0, uniqueViewers: 0 }
              s.watchMs += total
              s.uniqueViewers = Math.max(s.uniqueViewers, count)
              pending.sessions.set(entry.sessionId, s)
            }),
          )
        }
        await Promise.all(uniques)
      }),
    )
    await Promise.all(
      [...site].map(async ([t, ids]) => {
        const { count, bytes } = await addUnique(deps.keys.analyticsSiteUnique(t), ids, DAY_TTL_S, true)
        const d = pending.siteDays.get(t) ?? { uniqueViewers: 0, hll: null }
        d.uniqueViewers = Math.max(d.uniqueViewers, count)
        d.hll = bytes
        pending.siteDays.set(t, d)
      }),
    )
  }
}
