/** @module live/ingest-control — talks to each ingest nginx's loopback control endpoint (`rtmp_control`). */
import { errText, type Logger } from '../log.js'
import { type IngestStream, type NodeStat, parseIngestStat, parseNodeStat } from './stat.js'

export interface IngestControl {
  /** The configured node ids. */
  nodes(): string[]
  /**
   * Drops the publisher of `channel` (the renamed stream) on `node`; with `clientId`, only that
   * connection (a newer publisher of the same channel is left alone). True: dropped; false: the node
   * answered but had no such publisher; null: the node could not be asked.
   */
  dropPublisher(node: string, channel: string, clientId?: string): Promise<boolean | null>
  /** What the node's ingest app carries now; null when the node cannot be asked. */
  stat(node: string): Promise<IngestStream[] | null>
  /** The node's totals for metrics; null when it cannot be asked within `timeoutMs`. */
  nodeStat(node: string, timeoutMs?: number): Promise<NodeStat | null>
}

export function createIngestControl(
  nodes: Record<string, string>,
  log: Logger,
  timeoutMs = 2000,
): IngestControl {
  async function statXml(node: string, ms: number): Promise<string | null> {
    const base = nodes[node]
    if (!base) return null
    try {
      const res = await fetch(`${base}/stat`, { signal: AbortSignal.timeout(ms) })
      return res.ok ? await res.text() : null
    } catch {
      return null
    }
  }
  return {
    nodes: () => Object.keys(nodes),
    async stat(node) {
      const xml = await statXml(node, timeoutMs)
      return xml === null ? null : parseIngestStat(xml)
    },
    async nodeStat(node, ms = timeoutMs) {
      const xml = await statXml(node, ms)
      return xml === null ? null : parseNodeStat(xml)
    },
    async dropPublisher(node, channel, clientId) {
      const base = nodes[node]
      if (!base) {
        log.warn(
          { node, channel },
          'no control URL for ingest node; relying on on_update to drop the publisher',
        )
        return false
      }
      const only = clientId ? `&clientid=${encodeURIComponent(clientId)}` : ''
      const url = `${base}/control/drop/publisher?app=live&name=${encodeURIComponent(channel)}${only}`
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
        const body = (await res.text()).trim()
        // A 4xx is the node's answer (no such stream); only a 5xx is worth asking again.
        if (res.status >= 500) {
          log.warn({ node, channel, status: res.status }, 'drop publisher: ingest failed')
          return null
        }
        // nginx-rtmp answers the number of dropped clients.
        const dropped = res.ok && Number(body) > 0
        log.info({ node, channel, dropped }, 'drop publisher')
        return dropped
      } catch (err) {
        log.warn({ node, channel, err: errText(err) }, 'drop publisher failed; on_update will refuse it')
        return null
      }
    },
  }
}
