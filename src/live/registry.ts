/**
 * @module live/registry — who is live where: the per-channel session state machine over Redis,
 * with history in Postgres and lifecycle events on Redis.
 *
 *   (none) ──publish──▶ live ──publish_done──▶ reconnecting ──window passes──▶ ended(publisher_left)
 *                        ▲  │                      │
 *                        │  └─no on_update for 2 intervals──▶ ended(ingest_lost)
 *                        └──────publish (same channel, any of its keys, within window)
 *   live|reconnecting ──kick / key revoked / account disabled / limit──▶ ended(reason)
 *
 * Sessions are found by (ingest node, nginx clientid), never by stream name: after the rename
 * nginx still reports the original name (the key) in later hooks.
 */
import { randomUUID } from 'node:crypto'
import type { Db } from '../db/client.js'
import type { EndReason } from '../db/schema/index.js'
import type { Logger } from '../log.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createScript, type Script } from '../redis/script.js'
import { DELIBERATE, dueReason, type LiveEntry, parseEntry } from './entry.js'
import { emitStreamEvent } from './events.js'
import { closeSession, noteReconnect, openSession } from './history.js'
import type { IngestControl } from './ingest-control.js'
import { END, NOTE_PENDING_REASON, PUBLISH, PUBLISH_DONE, UPDATE } from './scripts.js'

export type { LiveEntry, LiveState } from './entry.js'

export type PublishResult =
  | { outcome: 'started' | 'resumed' | 'same'; sessionId: string; startedAt: number }
  | { outcome: 'busy'; sessionId: string }

export interface LiveRegistry {
  publish(p: {
    channel: string
    channelId: string
    userId: string
    keyId: string
    node: string
    clientId: string
    maxSessionS: number
  }): Promise<PublishResult>
  /** Refreshes the live publisher's deadline; null when (node, clientId) is not a live publisher. */
  update(node: string, clientId: string): Promise<LiveEntry | null>
  publishDone(node: string, clientId: string): Promise<void>
  get(channel: string): Promise<LiveEntry | null>
  list(): Promise<LiveEntry[]>
  /** Ends the channel's session now (dropping the publisher on its node); `onlyKeyId` limits it to one key. */
  end(channel: string, reason: EndReason, opts?: { onlyKeyId?: string }): Promise<boolean>
  /**
   * Drops the live publisher but keeps the session in its reconnect window (a frozen encoder
   * whose OBS reconnects should continue the broadcast); without a return it ends with `reason`.
   */
  dropIntoWindow(channel: string, reason: EndReason): Promise<boolean>
  /** Ends every session whose deadline has passed; returns how many. */
  sweep(): Promise<number>
  /** True while a kicked key is cooling down (on_publish refuses it). */
  isKicked(keyId: string): Promise<boolean>
  /** True if this publisher's session was ended on purpose (it must not be adopted back). */
  wasEndedOnPurpose(node: string, clientId: string): Promise<boolean>
}

type Clients = {
  redis: Redis
  keys: Keys
  db: Db
  log: Logger
  ingest: IngestControl
  now: () => number
  reconnectWindowS: number
  notifyUpdateS: number
  kickCooldownS: number
}

/** Garbage-collection grace past a deadline: the sweeper, not key expiry, ends sessions. */
const GC_MS = 10 * 60_000

export function createRedisLiveRegistry(c: Clients): LiveRegistry {
  const { redis, keys } = c
  // Two update intervals plus slack: one lost on_update is not yet a lost ingest.
  const liveTtlMs = () => 2 * c.notifyUpdateS * 1000 + 5000
  const windowMs = () => c.reconnectWindowS * 1000
  const run = {
    publish: createScript(redis, PUBLISH),
    update: createScript(redis, UPDATE),
    publishDone: createScript(redis, PUBLISH_DONE),
    end: createScript(redis, END),
    notePending: createScript(redis, NOTE_PENDING_REASON),
  }
  const endKeys = (channel: string) => [keys.liveChannel(channel), keys.liveDeadlines(), keys.liveStarted()]

  async function channelOf(node: string, clientId: string): Promise<string | null> {
    return redis.get(keys.liveClient(node, clientId))
  }

  /** Runs END and, if this call won, closes history and announces the end. */
  async function finish(channel: string, sessionId: string, reason: EndReason, opts: { onlyIfDue: boolean }) {
    const flat = (await run.end(endKeys(channel), [
      channel,
      sessionId,
      c.now(),
      opts.onlyIfDue ? '1' : '0',
    ])) as string[] | null
    const entry = parseEntry(channel, flat)
    if (!entry) return null
    if (DELIBERATE.has(reason))
      await redis.set(keys.liveEnded(entry.node, entry.clientId), reason, 'EX', 3600)
    // A stream that dropped and never came back ended when it dropped, not when the window closed.
    const endedAt =
      entry.state === 'reconnecting' && entry.leftAt
        ? entry.leftAt
        : reason === 'ingest_lost'
          ? entry.lastUpdateAt
          : reason === 'max_duration'
            ? Math.min(entry.maxEndAt, c.now())
            : c.now()
    await closeSession(c.db, sessionId, new Date(endedAt), reason)
    await emitStreamEvent(
      redis,
      keys,
      {
        type: 'stream.offline',
        channel,
        sessionId,
        reason,
        endedAt: new Date(endedAt).toISOString(),
      },
      { durable: true },
    )
    c.log.info({ channel, sessionId, reason }, 'stream ended')
    return entry
  }

  /** UPDATE and PUBLISH_DONE: scripts about one publisher (node, clientId) of a channel. */
  function clientScript(script: Script, channel: string, node: string, clientId: string, ttlMs: number) {
    const k = [keys.liveChannel(channel), keys.liveDeadlines(), keys.liveClient(node, clientId)]
    return script(k, [channel, node, clientId, c.now(), ttlMs, GC_MS])
  }

  /** Ends a due session; a still-connected publisher (plan limit reached) is dropped too. */
  async function endDue(entry: LiveEntry, now: number) {
    const reason = dueReason(entry, now)
    const ended = await finish(entry.channel, entry.sessionId, reason, { onlyIfDue: true })
    if (ended && ended.state === 'live' && reason !== 'ingest_lost')
      await c.ingest.dropPublisher(ended.node, entry.channel)
    return ended !== null
  }

  const registry: LiveRegistry = {
    async publish(p) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const sessionId = randomUUID()
        const now = c.now()
        const [outcome, sid, startedAt] = (await run.publish(
          [
            keys.liveChannel(p.channel),
            keys.liveClient(p.node, p.clientId),
            keys.liveDeadlines(),
            keys.liveStarted(),
          ],
          [
            p.channel,
            sessionId,
            p.node,
            p.clientId,
            p.keyId,
            p.userId,
            p.channelId,
            now,
            liveTtlMs(),
            GC_MS,
            p.maxSessionS * 1000,
          ],
        )) as [string, string, string]
        if (outcome === 'stale') {
          // The previous session's deadline passed but no sweeper got to it yet: end it, then retry.
          const prev = await registry.get(p.channel)
          if (prev) await endDue(prev, now)
          continue
        }
        if (outcome === 'busy') return { outcome, sessionId: sid }
        const started = Number(startedAt)
        if (outcome === 'started') {
          try {
            await openSession(c.db, {
              id: sid,
              channelId: p.channelId,
              streamKeyId: p.keyId,
              ingestNode: p.node,
              startedAt: new Date(started),
            })
          } catch (err) {
            // Without a history row the session must not exist: undo the claim, fail the publish.
            await run.end(endKeys(p.channel), [p.channel, sid, now, '0'])
            throw err
          }
        } else if (outcome === 'resumed') {
          await noteReconnect(c.db, sid, p.node)
        }
        if (outcome !== 'same') {
          await emitStreamEvent(
            redis,
            keys,
            {
              type: 'stream.online',
              channel: p.channel,
              sessionId: sid,
              startedAt: new Date(started).toISOString(),
              resumed: outcome === 'resumed',
            },
            { durable: outcome === 'started' },
          )
        }
        c.log.info({ channel: p.channel, sessionId: sid, node: p.node, outcome }, 'publish accepted')
        return { outcome: outcome as 'started' | 'resumed' | 'same', sessionId: sid, startedAt: started }
      }
      throw new Error('live registry: publish kept finding a stale session')
    },

    async update(node, clientId) {
      const channel = await channelOf(node, clientId)
      if (!channel) return null
      const flat = (await clientScript(run.update, channel, node, clientId, liveTtlMs())) as string[] | null
      return parseEntry(channel, flat)
    },

    async publishDone(node, clientId) {
      const channel = await channelOf(node, clientId)
      if (!channel) return // a refused publisher, a duplicate, or already ended: nothing to do
      const res = (await clientScript(run.publishDone, channel, node, clientId, windowMs())) as
        | [string, string]
        | null
      if (!res) return
      const [outcome, sessionId] = res
      if (outcome === 'end') {
        await finish(channel, sessionId, 'publisher_left', { onlyIfDue: false })
        return
      }
      await emitStreamEvent(
        redis,
        keys,
        { type: 'stream.reconnecting', channel, sessionId },
        { durable: false },
      )
      c.log.info({ channel, sessionId, windowS: c.reconnectWindowS }, 'publisher left; reconnect window open')
    },

    async get(channel) {
      return parseEntry(channel, (await redis.call('HGETALL', keys.liveChannel(channel))) as string[])
    },

    async list() {
      const channels = await redis.zrange(keys.liveStarted(), '0', '-1')
      const entries = await Promise.all(channels.map((ch) => registry.get(ch)))
      const now = c.now()
      return entries.filter((e): e is LiveEntry => e !== null && e.deadline > now)
    },

    async end(channel, reason, opts = {}) {
      const entry = await registry.get(channel)
      if (!entry) return false
      if (opts.onlyKeyId && entry.keyId !== opts.onlyKeyId) return false
      const ended = await finish(channel, entry.sessionId, reason, { onlyIfDue: false })
      if (!ended) return false
      if (reason === 'kicked' && c.kickCooldownS > 0)
        await redis.set(keys.kicked(ended.keyId), '1', 'EX', c.kickCooldownS)
      // End first, then drop: the publish_done that follows finds no session and is ignored, and
      // if the drop fails the publisher's next on_update is refused.
      if (ended.state === 'live') await c.ingest.dropPublisher(ended.node, channel)
      return true
    },

    async dropIntoWindow(channel, reason) {
      const entry = await registry.get(channel)
      if (entry?.state !== 'live') return false
      const noted = await run.notePending(
        [keys.liveChannel(channel)],
        [entry.sessionId, entry.clientId, reason],
      )
      if (noted !== 1) return false
      // publish_done follows the drop and opens the window; if the hook is lost, the reconciler
      // sees the publisher gone from /stat and does the same.
      await c.ingest.dropPublisher(entry.node, channel)
      return true
    },

    async sweep() {
      const now = c.now()
      const due = await redis.zrangebyscore(keys.liveDeadlines(), '-inf', String(now), 'LIMIT', 0, 200)
      let ended = 0
      for (const channel of due) {
        const entry = await registry.get(channel)
        if (!entry) {
          await redis.zrem(keys.liveDeadlines(), channel)
          continue
        }
        if (await endDue(entry, now)) ended++
      }
      return ended
    },

    async isKicked(keyId) {
      return (await redis.exists(keys.kicked(keyId))) === 1
    },

    async wasEndedOnPurpose(node, clientId) {
      return (await redis.exists(keys.liveEnded(node, clientId))) === 1
    },
  }
  return registry
}
