/**
 * @module live/reconcile — compares the live registry with what each ingest node really carries
 * (`/stat`), at start and periodically. nginx loses completion hooks (an app restart, a hook
 * timeout): a session whose publisher nginx no longer has is treated as if publish_done had
 * arrived. A publisher whose byte count stops growing (frozen OBS, or a half-open TCP after a
 * network blip) is dropped into the reconnect window — OBS's automatic reconnect continues the
 * session — and the session ends as `idle` if it does not come back. nginx's own
 * drop_idle_publisher is only the backstop.
 * Every instance runs this; the registry's transitions are atomic and idempotent.
 */
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'
import type { IngestControl } from './ingest-control.js'
import type { LivePublisher, LiveRegistry } from './registry.js'

type Opts = {
  live: LiveRegistry
  ingest: IngestControl
  log: Logger
  now: () => number
  intervalMs: number
  idleTimeoutMs: number
}

/** Two consecutive misses: a publish accepted a moment ago may not be in /stat yet. */
const MISSES_TO_LEAVE = 2

export function createReconciler(o: Opts) {
  const lastGrowth = new Map<string, { bytes: number; at: number }>()
  const misses = new Map<string, number>()

  async function reconcileNode(node: string, entries: LivePublisher[]) {
    const streams = await o.ingest.stat(node)
    if (!streams) return // unreachable: deadlines (ingest_lost) take over
    const byName = new Map(streams.map((s) => [s.name, s]))
    for (const e of entries) {
      if (e.node !== node || e.state !== 'live') continue
      const id = `${node}:${e.clientId}`
      const s = byName.get(e.channel)
      if (!s || s.publisherId !== e.clientId) {
        const n = (misses.get(id) ?? 0) + 1
        misses.set(id, n)
        if (n >= MISSES_TO_LEAVE) {
          o.log.info({ node, channel: e.channel }, 'publisher gone from ingest without publish_done')
          await o.live.publishDone(node, e.clientId)
        }
        continue
      }
      misses.delete(id)
      const prev = lastGrowth.get(id)
      if (!prev || s.bytesIn > prev.bytes) lastGrowth.set(id, { bytes: s.bytesIn, at: o.now() })
      else if (o.now() - prev.at >= o.idleTimeoutMs) {
        o.log.info({ node, channel: e.channel }, 'publisher idle: dropping into the reconnect window')
        await o.live.dropIntoWindow(e.channel, 'idle')
        lastGrowth.delete(id)
      }
    }
  }

  async function reconcile() {
    if (o.ingest.nodes().length === 0) return // nothing to compare with
    const entries = await o.live.publishers()
    const current = new Set(entries.map((e) => `${e.node}:${e.clientId}`))
    for (const map of [lastGrowth, misses]) for (const id of map.keys()) if (!current.has(id)) map.delete(id)
    await Promise.all(o.ingest.nodes().map((node) => reconcileNode(node, entries)))
  }

  return { reconcile }
}

export function startReconciler(o: Opts) {
  const { reconcile } = createReconciler(o)
  // At start, then periodically; every() never overlaps two runs.
  return every(o.intervalMs, reconcile, {
    immediate: true,
    onError: (err) => o.log.warn({ err: errText(err) }, 'reconcile failed'),
  })
}
