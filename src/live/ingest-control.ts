/** @module live/ingest-control — talks to each ingest nginx's loopback control endpoint (`rtmp_control`). */
import type { Logger } from '../log.js'
import { type IngestStream, parseIngestStat } from './stat.js'

export interface IngestControl {
  /** The configured node ids. */
  nodes(): string[]
  /** Drops the publisher of `channel` (the renamed stream) on `node`. False if the node did not confirm. */
  dropPublisher(node: string, channel: string): Promise<boolean>
  /** What the node's ingest app carries now; null when the node cannot be asked. */
  stat(node: string): Promise<IngestStream[] | null>
}

export function createIngestControl(
  nodes: Record<string, string>,
  log: Logger,
  timeoutMs = 2000,
): IngestControl {
  return {
    nodes: () => Object.keys(nodes),
    async stat(node) {
      const base = nodes[node]
      if (!base) return null
      try {
        const res = await fetch(`${base}/stat`, { signal: AbortSignal.timeout(timeoutMs) })
        return res.ok ? parseIngestStat(await res.text()) : null
      } catch {
        return null
      }
    },
    async dropPublisher(node, channel) {
      const base = nodes[node]
      if (!base) {
        log.warn(
          { node, channel },
          'no control URL for ingest node; relying on on_update to drop the publisher',
        )
        return false
      }
      const url = `${base}/control/drop/publisher?app=live&name=${encodeURIComponent(channel)}`
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
        const body = (await res.text()).trim()
        // nginx-rtmp answers the number of dropped clients.
        const dropped = res.ok && Number(body) > 0
        log.info({ node, channel, dropped }, 'drop publisher')
        return dropped
      } catch (err) {
        log.warn(
          { node, channel, err: (err as Error).message },
          'drop publisher failed; on_update will refuse it',
        )
        return false
      }
    },
  }
}
