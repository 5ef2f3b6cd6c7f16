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
import { END_REASONS, type EndReason } from '../db/schema/index.js'
import type { Logger } from '../log.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createScript } from '../redis/script.js'
import { dueReason, type LiveEntry, parseEntry } from './entry.js'
import type { IngestControl } from './ingest-control.js'
import { END, NOTE_PENDING_REASON, PUBLISH, PUBLISH_DONE, scriptKeys, UPDATE } from './scripts.js'

export type { LiveEntry, LiveState } from './entry.js'

export type LivePublisher = Pick<LiveEntry, 'channel' | 'node' | 'clientId' | 'state'>

export type PublishResult =
  | { outcome: 'started' | 'resumed' | 'adopted' | 'same'; sessionId: string; startedAt: number }
  | { outcome: 'busy'; sessionId: string }
  | { outcome: 'kicked' }

export interface LiveRegistry {
  /**
   * Claims the channel for this publisher in one Redis round trip (kick cool-down included). The
   * history row and the online event follow from the `events` stream (live/effects.ts), off the
   * publish hook's critical path. `adopt` continues a session Postgres still has open.
   */
  publish(p: {
    channel: string
    channelId: string
    userId: string
    keyId: string
    node: string
    clientId: string
    maxSessionS: number
    adopt?: { sessionId: string; startedAt: number }
  }): Promise<PublishResult>
  /** Refreshes the live publisher's deadline; null when (node, clientId) is not a live publisher. */
  update(node: string, clientId: string): Promise<LiveEntry | null>
  publishDone(node: string, clientId: string): Promise<void>
  get(channel: string): Promise<LiveEntry | null>
  list(): Promise<LiveEntry[]>
  /**
   * Who publishes each live channel, and nothing else: the reconciler's view, read every few
   * seconds, so it fetches 4 fields per channel instead of the whole entry.
   */
  publishers(): Promise<LivePublisher[]>
  /** Ends the channel's session now (dropping the publisher on its node); `onlyKeyId` limits it to one key. */
  end(channel: string, reason: EndReason, opts?: { onlyKeyId?: string }): Promise<boolean>
  /**
   * Drops the live publisher but keeps the session in its reconnect window (a frozen encoder
   * whose OBS reconnects should continue the broadcast); without a return it ends with `reason`.
   */
  dropIntoWindow(channel: string, reason: EndReason): Promise<boolean>
  /** Ends every session whose deadline has passed (after asking the ingest); returns how many. */
  sweep(): Promise<number>
  /**
   * Why this publisher's session was ended (kept 1 h), or null if we know of no end: a deliberate
   * end must not be adopted back at all, any other only into a new session.
   */
  endedReason(node: string, clientId: string): Promise<EndReason | null>
  /** Records why a publisher's session ended (the END script's caller and live-effects both do). */
  markEnded(node: string, clientId: string, reason: EndReason): Promise<void>
}

type Clients = {
  redis: Redis
  keys: Keys
  log: Logger
  ingest: IngestControl
  now: () => number
  reconnectWindowS: number
  notifyUpdateS: number
  kickCooldownS: number
}

/** Channels read per event-loop turn when listing the registry. */
const LIST_SLICE = 100

/** Garbage-collection grace past a deadline: the sweeper, not key expiry, ends sessions. */
const GC_MS = 10 * 60_000

/** How long a publisher's end is remembered (endedReason). */
const ENDED_TTL_S = 3600

/** Due sessions read per partition per sweep. */
const SWEEP_BATCH = 200

/**
 * Maps `items` through `fn` LIST_SLICE at a time, yielding to the event loop between slices:
 * thousands of replies parsed and resolved in one turn would stall every hook behind them.
 */
async function inSlices<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += LIST_SLICE) {
    out.push(...(await Promise.all(items.slice(i, i + LIST_SLICE).map(fn))))
    await new Promise((r) => setImmediate(r))
  }
  return out
}

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

  async function channelOf(node: string, clientId: string): Promise<string | null> {
    return redis.get(keys.liveClient(node, clientId))
  }

  /** Every live or reconnecting channel, from each partition's started index. */
  async function startedChannels(): Promise<string[]> {
    return (await Promise.all(keys.allLiveStarted().map((k) => redis.zrange(k, '0', '-1')))).flat()
  }

  /** Index and tombstone live in their own slots (scripts.ts): kept alive beside the channel hash. */
  const indexTtlMs = () => liveTtlMs() + GC_MS

  /** Marks a publisher ended on purpose or not (see endedReason); live-effects writes it again. */
  async function markEnded(node: string, clientId: string, reason: EndReason) {
    await redis.set(keys.liveEnded(node, clientId), reason, 'EX', ENDED_TTL_S)
  }

  /**
   * Runs END: if this call won, the offline event is recorded with it (history and any drop follow
   * from the stream). Returns the entry as it was, or null if someone else ended it first.
   */
  async function finish(entry: LiveEntry, reason: EndReason, opts: { onlyIfDue: boolean }) {
    const { channel } = entry
    const flat = (await run.end(scriptKeys.end(keys, channel, entry.keyId), [
      channel,
      entry.sessionId,
      c.now(),
      opts.onlyIfDue ? '1' : '0',
      reason,
      c.kickCooldownS,
    ])) as string[] | null
    const ended = parseEntry(channel, flat)
    if (!ended) return null
    c.log.info({ channel, sessionId: ended.sessionId, reason }, 'stream ended')
    // Best effort here (instant); the offline event makes live-effects write it too.
    await markEnded(ended.node, ended.clientId, reason).catch(() => {})
    return ended
  }

  /** UPDATE: refreshes one publisher's deadline; `force` past a missed deadline (the ingest confirmed it). */
  async function refresh(channel: string, node: string, clientId: string, force: boolean) {
    // The index's expiry is pushed out beside the script, not after it (no extra round trip on
    // the hook). PEXPIRE never creates it: an index lost with a Redis restart comes back with
    // the adoption that follows.
    const [flat] = await Promise.all([
      run.update(scriptKeys.update(keys, channel), [
        channel,
        node,
        clientId,
        c.now(),
        liveTtlMs(),
        GC_MS,
        force ? '1' : '0',
      ]),
      redis.pexpire(keys.liveClient(node, clientId), indexTtlMs()),
    ])
    return flat
  }

  /**
   * The ingest is the truth about liveness (DESIGN.md): missed updates may be our own blind spot
   * (Redis frozen, every instance down), so a session is only lost if its node no longer carries
   * the publisher — or cannot be asked at all (nginx died with it).
   */
  async function ingestStillCarries(entry: LiveEntry): Promise<boolean> {
    const streams = await c.ingest.stat(entry.node)
    return !!streams?.some((s) => s.name === entry.channel && s.publisherId === entry.clientId)
  }

  /** Ends a due session; a still-connected publisher (plan limit reached) is dropped too. */
  async function endDue(entry: LiveEntry, now: number) {
    const reason = dueReason(entry, now)
    if (reason === 'ingest_lost' && (await ingestStillCarries(entry))) {
      const kept = await refresh(entry.channel, entry.node, entry.clientId, true)
      if (kept) {
        c.log.warn(
          { channel: entry.channel, sessionId: entry.sessionId, node: entry.node },
          'updates were missed but the ingest still carries the stream; kept',
        )
        return false
      }
    }
    const ended = await finish(entry, reason, { onlyIfDue: true })
    if (ended && ended.state === 'live' && reason !== 'ingest_lost')
      await c.ingest.dropPublisher(ended.node, entry.channel, ended.clientId)
    return ended !== null
  }

  const registry: LiveRegistry = {
    async publish(p) {
      // The index goes out with the script, not before it (one round trip on the publish hook):
      // on one Redis it is queued first on the same connection; on a Cluster it is on another
      // node, but nothing reads it before the next hook, seconds later. A refused publish leaves
      // an entry that points at a channel this publisher does not hold: every script checks the
      // publisher against the channel hash, and it expires.
      const indexed = redis.set(keys.liveClient(p.node, p.clientId), p.channel, 'PX', indexTtlMs())
      indexed.catch(() => {}) // awaited below; an early script failure must not leave it unhandled
      for (let attempt = 0; attempt < 2; attempt++) {
        const now = c.now()
        const [outcome, sid, startedAt] = (await run.publish(scriptKeys.publish(keys, p.channel, p.keyId), [
          p.channel,
          randomUUID(),
          p.node,
          p.clientId,
          p.keyId,
          p.userId,
          p.channelId,
          now,
          liveTtlMs(),
          GC_MS,
          p.maxSessionS * 1000,
          p.adopt?.sessionId ?? '',
          p.adopt?.startedAt ?? '',
        ])) as [string, string, string]
        if (outcome === 'stale') {
          // The previous session's deadline passed but no sweeper got to it yet: end it, then retry.
          const prev = await registry.get(p.channel)
          if (prev) await endDue(prev, now)
          continue
        }
        if (outcome === 'kicked') return { outcome }
        if (outcome === 'busy') return { outcome, sessionId: sid }
        // Accepted only with its index written: later hooks find the session through it.
        await indexed
        if (outcome !== 'same')
          c.log.info({ channel: p.channel, sessionId: sid, node: p.node, outcome }, 'publish accepted')
        return {
          outcome: outcome as 'started' | 'resumed' | 'adopted' | 'same',
          sessionId: sid,
          startedAt: Number(startedAt),
        }
      }
      throw new Error('live registry: publish kept finding a stale session')
    },

    async update(node, clientId) {
      const channel = await channelOf(node, clientId)
      if (!channel) return null
      return parseEntry(channel, (await refresh(channel, node, clientId, false)) as string[] | null)
    },

    async publishDone(node, clientId) {
      const channel = await channelOf(node, clientId)
      if (!channel) return // a refused publisher, a duplicate, or already ended: nothing to do
      const res = (await run.publishDone(scriptKeys.publishDone(keys, channel), [
        channel,
        node,
        clientId,
        c.now(),
        windowMs(),
        GC_MS,
      ])) as [string, string] | null
      if (!res) return
      await redis.del(keys.liveClient(node, clientId)).catch(() => {})
      const [outcome, sessionId] = res
      if (outcome === 'end') {
        const entry = await registry.get(channel)
        if (entry?.sessionId === sessionId) await finish(entry, 'publisher_left', { onlyIfDue: false })
        return
      }
      c.log.info({ channel, sessionId, windowS: c.reconnectWindowS }, 'publisher left; reconnect window open')
    },

    async get(channel) {
      return parseEntry(channel, (await redis.call('HGETALL', keys.liveChannel(channel))) as string[])
    },

    async list() {
      const now = c.now()
      const entries = await inSlices(await startedChannels(), (ch) => registry.get(ch))
      return entries
        .filter((e): e is LiveEntry => e !== null && e.deadline > now)
        .sort((a, b) => a.startedAt - b.startedAt)
    },

    async publishers() {
      const now = c.now()
      const channels = await startedChannels()
      const rows = await inSlices(channels, (ch) =>
        redis.hmget(keys.liveChannel(ch), 'state', 'node', 'clientId', 'deadline'),
      )
      const out: LivePublisher[] = []
      rows.forEach(([state, node, clientId, deadline], i) => {
        if ((state === 'live' || state === 'reconnecting') && node && clientId && Number(deadline) > now)
          out.push({ channel: channels[i]!, state, node, clientId })
      })
      return out
    },

    async end(channel, reason, opts = {}) {
      const entry = await registry.get(channel)
      if (!entry) return false
      if (opts.onlyKeyId && entry.keyId !== opts.onlyKeyId) return false
      const ended = await finish(entry, reason, { onlyIfDue: false })
      if (!ended) return false
      // End first, then drop: the publish_done that follows finds no session and is ignored. The
      // drop is also owed by the offline event (live/effects.ts), so a crash right here, or an
      // unreachable ingest, still ends with the publisher dropped; this call only makes it instant.
      if (ended.state === 'live') await c.ingest.dropPublisher(ended.node, channel, ended.clientId)
      return true
    },

    async dropIntoWindow(channel, reason) {
      const entry = await registry.get(channel)
      if (entry?.state !== 'live') return false
      const noted = await run.notePending(scriptKeys.notePendingReason(keys, channel), [
        entry.sessionId,
        entry.clientId,
        reason,
      ])
      if (noted !== 1) return false
      // publish_done follows the drop and opens the window; if the hook is lost, the reconciler
      // sees the publisher gone from /stat and does the same.
      await c.ingest.dropPublisher(entry.node, channel, entry.clientId)
      return true
    },

    async sweep() {
      const now = c.now()
      const due = (
        await Promise.all(
          keys
            .allLiveDeadlines()
            .map((k) => redis.zrangebyscore(k, '-inf', String(now), 'LIMIT', 0, SWEEP_BATCH)),
        )
      ).flat()
      let ended = 0
      for (const channel of due) {
        const entry = await registry.get(channel)
        if (!entry) {
          await redis.zrem(keys.liveDeadlines(channel), channel)
          continue
        }
        if (await endDue(entry, now)) ended++
      }
      return ended
    },

    markEnded,

    async endedReason(node, clientId) {
      const reason = await redis.get(keys.liveEnded(node, clientId))
      return reason && (END_REASONS as readonly string[]).includes(reason) ? (reason as EndReason) : null
    },
  }
  return registry
}
