/**
 * @module analytics/ingest — the ingestion path: nginx's edge sends one syslog datagram per HLS
 * segment served (UDP, node:dgram), this instance hashes the viewer at once (the raw address goes
 * no further) and counts in memory (tally.ts); every ANALYTICS_FLUSH_S the counts go to Redis and
 * Postgres (flush.ts, rows.ts). A crash loses what arrived since the last flush; a clean stop
 * flushes first.
 */
import { createSocket, type Socket } from 'node:dgram'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import { every } from '../lib/every.js'
import type { LiveRegistry } from '../live/registry.js'
import { errText, type Logger } from '../log.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createFlusher } from './flush.js'
import { parseHlsLine } from './log-line.js'
import { emptyPending, writePending } from './rows.js'
import { createTally } from './tally.js'
import { createSalts, viewerId } from './viewer-id.js'

/** The 5-minute rule: a viewer back after longer than this away starts a new view. */
export const VIEW_GAP_MS = 5 * 60_000

export type AnalyticsIngestDeps = {
  config: Pick<
    Config,
    'ANALYTICS_LOG_PORT' | 'ANALYTICS_LOG_HOST' | 'ANALYTICS_FLUSH_S' | 'ANALYTICS_ACTIVE_S'
  >
  db: Db
  redis: Redis
  keys: Keys
  live: Pick<LiveRegistry, 'get'>
  log: Logger
  now: () => number
}

export type AnalyticsIngest = {
  /** The bound UDP port (ANALYTICS_LOG_PORT, or the one picked for 0 with `port` given). */
  port: number
  /** Counts lines as if received (benchmarks drive the path without a socket). */
  ingest(line: string): void
  /** Flushes now (tests; shutdown). */
  flush(): Promise<void>
  /** Distinct viewers with a segment in the last ANALYTICS_ACTIVE_S, seen by this listener (/metrics). */
  activeViewers(): number
  stats: {
    received: number
    counted: number
    flushes: number
    rowsWritten: number
    failures: number
    /** The longest flush so far, ms (Redis + Postgres round trips included). */
    maxFlushMs: number
  }
  stop(): Promise<void>
}

export async function startAnalyticsIngest(
  deps: AnalyticsIngestDeps,
  opts: { port?: number; listen?: boolean; onCounted?: () => void } = {},
): Promise<AnalyticsIngest> {
  const flushMs = deps.config.ANALYTICS_FLUSH_S * 1000
  const salts = createSalts(deps)
  await salts.refresh()
  const tally = createTally(VIEW_GAP_MS)
  const flushTo = createFlusher(deps, {
    gapMs: VIEW_GAP_MS,
    activeMs: deps.config.ANALYTICS_ACTIVE_S * 1000,
    flushMs,
  })
  let pending = emptyPending()
  const stats = { received: 0, counted: 0, flushes: 0, rowsWritten: 0, failures: 0, maxFlushMs: 0 }

  const ingest = (line: string) => {
    stats.received++
    const hit = parseHlsLine(line)
    if (!hit) return
    const salt = salts.get(hit.at)
    // A line stamped days off our clock: no salt to hash it with, and no honest bucket for it.
    if (!salt) return
    stats.counted++
    opts.onCounted?.()
    tally.add(hit.channel, viewerId(salt, hit), hit.at, hit.segment)
  }

  const flush = async () => {
    const started = performance.now()
    const now = deps.now()
    // Before the write, so a Postgres outage keeps the counts (pending) instead of dropping them.
    await flushTo(tally.drain(now), pending, now)
    const written = pending
    pending = emptyPending()
    try {
      stats.rowsWritten += await writePending(deps.db, written)
      stats.flushes++
      stats.maxFlushMs = Math.max(stats.maxFlushMs, performance.now() - started)
    } catch (err) {
      // Kept: the next flush adds its counts to these rows and writes them all (delayed, not lost).
      pending = written
      throw err
    }
    await salts.refresh()
  }
  const job = every(flushMs, flush, {
    onError: (err) => {
      stats.failures++
      deps.log.warn({ err: errText(err) }, 'analytics: flush failed; counts kept for the next one')
    },
  })

  let socket: Socket | undefined
  let port = 0
  if (opts.listen !== false) {
    socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 })
    socket.on('message', (msg) => ingest(msg.toString('latin1')))
    socket.on('error', (err) => deps.log.error({ err: errText(err) }, 'analytics: listener error'))
    const s = socket
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.bind(opts.port ?? deps.config.ANALYTICS_LOG_PORT, deps.config.ANALYTICS_LOG_HOST, () => {
        s.off('error', reject)
        resolve()
      })
    })
    port = s.address().port
    deps.log.info({ port }, 'analytics: listening for nginx HLS log lines')
  }

  return {
    port,
    ingest,
    flush: () => job.now(),
    activeViewers: () => tally.active(deps.now() - deps.config.ANALYTICS_ACTIVE_S * 1000),
    stats,
    async stop() {
      if (socket) await new Promise<void>((r) => socket!.close(() => r()))
      job.stop()
      // What is still in memory is written once more on a clean stop: only a crash loses it.
      await job.now()
    },
  }
}
