/**
 * @module redis/stream-consumer — at-least-once processing of a Redis Stream by a consumer group,
 * one consumer per instance.
 *
 * - New entries: `XREADGROUP … BLOCK` on a connection of its own (a blocking read on the shared
 *   command connection would stall every pipelined command behind it).
 * - An entry is acknowledged only after its handler resolved. One that failed, or whose consumer
 *   died holding it, stays pending and is taken over with `XAUTOCLAIM` once idle for `claimIdleMs`
 *   — by this instance or any other. That idle time is also the retry backoff.
 * - The handler decides what is permanent: it returns normally for an entry it chooses to skip
 *   (invalid, or refers to something deleted) and throws only for what a retry can fix.
 * - `trim()` drops entries every group has acknowledged and that are older than `keepMs`, so the
 *   stream is bounded by consumption, never by a MAXLEN that could cut unread entries.
 */
import { errText, type Logger } from '../log.js'
import { duplicate, type Redis } from './client.js'

export type StreamEntry = { id: string; fields: string[] }

/** What `handleBatch` could not do yet: these entries (the very objects it was given) stay pending. */
export type BatchOutcome = { retry: StreamEntry[] }

export type StreamConsumerOptions = {
  redis: Redis
  /**
   * One stream, or several read by one blocking XREADGROUP (a single Redis only: on a Cluster
   * the streams of one call must share a slot — redis/partitioned.ts decides).
   */
  stream: string | string[]
  group: string
  consumer: string
  /**
   * One entry at a time; or, with `handleBatch`, every entry of one read at once — of every
   * stream read, each stream's entries in order: acknowledged together when it resolves, except
   * the entries it returns in `retry` (left pending, like an entry whose `handle` threw); if it
   * throws, none is acknowledged.
   */
  handle?(entry: StreamEntry): Promise<void>
  // biome-ignore lint/suspicious/noConfusingVoidType: a batch handler with nothing to retry returns nothing
  handleBatch?(entries: StreamEntry[]): Promise<void | BatchOutcome>
  log: Logger
  blockMs?: number
  claimIdleMs?: number
  batch?: number
  /**
   * After a read that did not fill a batch, wait this long before the next one, so entries that
   * trickle in (one per publish) are handled a batch at a time instead of waking the handler for
   * each: fewer reads, acks and statements at the price of this much delay. 0 (the default) reads
   * again at once.
   */
  lingerMs?: number
  /**
   * Every failure, for metrics: `entry` a handler that threw, `read` a failed read or claim,
   * `connection` an error event of the blocking connection.
   */
  onError?: (err: unknown, kind: 'entry' | 'read' | 'connection') => void
}

export type StreamConsumer = {
  /** Starts the read loop (it creates the group, and waits out a Redis that is down). */
  start(): Promise<void>
  stop(): Promise<void>
  /** Processes what is pending for this consumer or claimable now (tests, shutdown). */
  reclaim(): Promise<number>
}

type RawEntries = [string, string[]][]

export function createStreamConsumer(o: StreamConsumerOptions): StreamConsumer {
  const blocking = duplicate(o.redis, {
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    commandTimeout: undefined,
  })
  // Connection errors surface as failed reads below (logged there); ioredis also emits them here.
  blocking.on('error', (err: Error) => o.onError?.(err, 'connection'))
  const blockMs = o.blockMs ?? 2000
  const claimIdleMs = o.claimIdleMs ?? 10_000
  const batch = o.batch ?? 50
  const lingerMs = o.lingerMs ?? 0
  const linger = interruptibleSleep()
  let stopped = false
  let loop: Promise<void> | null = null
  let lastClaim = 0
  const streams = typeof o.stream === 'string' ? [o.stream] : o.stream
  const where = streams.length === 1 ? streams[0] : `${streams.length} streams`

  async function ensureGroups() {
    for (const stream of streams) {
      try {
        await o.redis.xgroup('CREATE', stream, o.group, '0', 'MKSTREAM')
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) throw err
      }
    }
  }

  /** Entries of one read, per stream: one handler call for all of them, acks per stream. */
  async function process(read: [string, RawEntries][]): Promise<number> {
    if (o.handleBatch) {
      const from = new Map<StreamEntry, string>()
      const batch: StreamEntry[] = []
      for (const [stream, entries] of read)
        for (const [id, fields] of entries) {
          if (!fields) continue // deleted while pending (XAUTOCLAIM reports those apart)
          const entry = { id, fields }
          from.set(entry, stream)
          batch.push(entry)
        }
      if (batch.length === 0 || stopped) return 0
      try {
        const retry = new Set((await o.handleBatch(batch))?.retry)
        const done = new Map<string, string[]>()
        for (const e of batch) {
          if (retry.has(e)) continue
          const stream = from.get(e)!
          done.set(stream, [...(done.get(stream) ?? []), e.id])
        }
        for (const [stream, ids] of done) await o.redis.xack(stream, o.group, ...ids)
        return batch.length - retry.size
      } catch (err) {
        o.onError?.(err, 'entry')
        o.log.warn(
          { stream: where, group: o.group, n: batch.length, err: errText(err) },
          'stream batch failed; will retry',
        )
        return 0
      }
    }
    let done = 0
    for (const [stream, entries] of read) done += await processEach(stream, entries)
    return done
  }

  async function processEach(stream: string, entries: RawEntries): Promise<number> {
    let done = 0
    for (const [id, fields] of entries) {
      if (stopped) break
      if (!fields) continue // deleted while pending (XAUTOCLAIM reports those apart)
      try {
        await o.handle?.({ id, fields })
        await o.redis.xack(stream, o.group, id)
        done++
      } catch (err) {
        o.onError?.(err, 'entry')
        o.log.warn({ stream, group: o.group, id, err: errText(err) }, 'stream entry failed; will retry')
      }
    }
    return done
  }

  async function reclaim(): Promise<number> {
    let done = 0
    for (const stream of streams) {
      let cursor = '0-0'
      do {
        const res = (await o.redis.xautoclaim(
          stream,
          o.group,
          o.consumer,
          claimIdleMs,
          cursor,
          'COUNT',
          batch,
        )) as [string, RawEntries, string[]?]
        cursor = res[0]
        done += await process([[stream, res[1]]])
      } while (cursor !== '0-0' && !stopped)
    }
    return done
  }

  async function run() {
    let backoff = 100
    let grouped = false
    while (!stopped) {
      try {
        if (!grouped) {
          await ensureGroups()
          grouped = true
        }
        if (Date.now() - lastClaim >= claimIdleMs / 2) {
          lastClaim = Date.now()
          await reclaim()
        }
        const res = (await blocking.xreadgroup(
          'GROUP',
          o.group,
          o.consumer,
          'COUNT',
          batch,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        )) as [string, RawEntries][] | null
        const read = (res ?? []).reduce((n, [, entries]) => n + entries.length, 0)
        if (res) await process(res)
        backoff = 100
        if (lingerMs > 0 && read > 0 && read < batch && !stopped) await linger.sleep(lingerMs)
      } catch (err) {
        if (stopped) break
        o.onError?.(err, 'read')
        const msg = String((err as Error).message)
        // The stream or group vanished (Redis restarted empty, FLUSHALL): recreate and go on.
        if (msg.includes('NOGROUP')) await ensureGroups().catch(() => {})
        else o.log.warn({ stream: where, group: o.group, err: errText(err) }, 'stream consumer: read failed')
        await new Promise((r) => setTimeout(r, backoff))
        backoff = Math.min(backoff * 2, 5000)
      }
    }
  }

  return {
    async start() {
      loop = run()
    },
    async stop() {
      stopped = true
      linger.wake()
      blocking.disconnect()
      await loop
    },
    reclaim,
  }
}

/** A sleep that `wake()` ends early (a consumer stopping must not wait out its linger). */
function interruptibleSleep() {
  let wake: (() => void) | null = null
  return {
    sleep(ms: number) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    },
    wake() {
      wake?.()
    },
  }
}

/**
 * Trims `stream` below the oldest entry some group has not acknowledged (or not yet read), and
 * keeps everything younger than `keepMs` for inspection. No group yet: nothing is trimmed.
 */
export async function trimConsumed(
  redis: Redis,
  stream: string,
  keepMs: number,
  now = Date.now(),
): Promise<void> {
  const groups = (await redis.xinfo('GROUPS', stream).catch(() => [])) as (string | number)[][]
  if (groups.length === 0) return
  let floor = `${Math.max(0, now - keepMs)}-0`
  for (const g of groups) {
    const info: Record<string, string | number> = {}
    for (let i = 0; i + 1 < g.length; i += 2) info[String(g[i])] = g[i + 1]!
    const name = String(info.name)
    const [, oldestPending] = (await redis.xpending(stream, name)) as [
      number,
      string | null,
      string | null,
      unknown,
    ]
    // Entries after last-delivered-id are unread: keep them (floor ≤ last-delivered + 1).
    const candidates = [String(info['last-delivered-id']), oldestPending].filter((x): x is string => !!x)
    for (const c of candidates) if (compareIds(c, floor) < 0) floor = c
  }
  // Exact, not `~`: approximate trimming only frees whole radix-tree nodes (~100 entries), and this
  // stream grows by a few entries per broadcast.
  await redis.xtrim(stream, 'MINID', floor)
}

function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-')
  const [bm, bs = '0'] = b.split('-')
  const d = BigInt(am!) - BigInt(bm!)
  if (d !== 0n) return d < 0n ? -1 : 1
  const e = BigInt(as) - BigInt(bs)
  return e === 0n ? 0 : e < 0n ? -1 : 1
}

/**
 * How far `group` is behind on `stream`: entries delivered but not acknowledged (`pending`: being
 * processed, failing, or held by a dead consumer) and entries not delivered to the group yet
 * (`lag`). Redis 7 reports the lag itself; where it cannot (entries deleted mid-stream) the
 * undelivered entries are counted, up to `cap`.
 */
export async function groupLag(
  redis: Redis,
  stream: string,
  group: string,
  cap = 10_000,
): Promise<{ pending: number; lag: number }> {
  let groups: (string | number | null)[][]
  try {
    groups = (await redis.xinfo('GROUPS', stream)) as (string | number | null)[][]
  } catch (err) {
    if (String((err as Error).message).includes('no such key')) return { pending: 0, lag: 0 }
    throw err
  }
  for (const g of groups) {
    const info: Record<string, string | number | null> = {}
    for (let i = 0; i + 1 < g.length; i += 2) info[String(g[i])] = g[i + 1] ?? null
    if (info.name !== group) continue
    const pending = Number(info.pending ?? 0)
    if (typeof info.lag === 'number') return { pending, lag: info.lag }
    const after = `(${String(info['last-delivered-id'] ?? '0-0')}`
    const undelivered = await redis.xrange(stream, after, '+', 'COUNT', cap)
    return { pending, lag: undelivered.length }
  }
  // No group yet: nothing was delivered, everything is still to come.
  return { pending: 0, lag: Math.min(cap, await redis.xlen(stream)) }
}
