/**
 * @module metrics/scrape — gauges computed when Prometheus scrapes, from the sources that hold
 * the truth: the live registry (Redis), the chat hub (this instance's sockets), the outbox
 * (Postgres), the `events` stream's consumer group (Redis) and each ingest node's nginx `/stat`.
 *
 * Each source is read in parallel under its own timeout. One that fails or is too slow leaves its
 * series out of this scrape (never a stale or made-up value) and sets
 * `live_metrics_source_up{source}` / `live_ingest_up{node}` to 0, which is what to alert on.
 * Concurrent scrapes share one refresh.
 */

import { Counter, Gauge, type Registry } from 'prom-client'
import type { LivePublisher } from '../live/registry.js'
import type { NodeStat } from '../live/stat.js'
import type { OutboxBacklog } from '../outbox/backlog.js'
import type { WebhookBacklog } from '../webhooks/backlog.js'

export type ScrapeSources = {
  /** Configured ingest node ids: their series exist (at 0) even while nothing is live there. */
  nodes(): string[]
  liveStreams(): Promise<LivePublisher[]>
  nodeStat(node: string, timeoutMs: number): Promise<NodeStat | null>
  sockets(): number
  rooms(): number
  outboxBacklog(): Promise<OutboxBacklog>
  webhookBacklog(): Promise<WebhookBacklog>
  /** Each consumer group of the `events` streams (summed over partitions). */
  eventsLag(): Promise<{ group: string; pending: number; lag: number }[]>
  timeoutMs: number
}

const STATES = ['live', 'reconnecting'] as const

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e) => {
        clearTimeout(t)
        reject(e)
      },
    )
  })
}

export function createScrape(registry: Registry, s: ScrapeSources): () => Promise<void> {
  const registers = [registry]
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers })
  const sourceUp = gauge('live_metrics_source_up', '1 if the source answered this scrape, else 0.', [
    'source',
  ])
  const streams = gauge('live_streams', 'Open stream sessions by ingest node and state.', ['node', 'state'])
  const sockets = gauge('live_websocket_connections', 'WebSocket connections open on this instance.')
  const rooms = gauge('live_chat_rooms', 'Channels with at least one socket on this instance.')
  const webhookPending = gauge(
    'live_webhook_pending_deliveries',
    'Webhook deliveries neither delivered nor given up (due, leased or backing off).',
  )
  const webhookAge = gauge(
    'live_webhook_oldest_pending_age_seconds',
    'Age of the oldest webhook delivery neither delivered nor given up.',
  )
  const outboxDue = gauge('live_outbox_due_rows', 'Outbox rows not done whose next attempt is due now.')
  const outboxPending = gauge(
    'live_outbox_pending_rows',
    'Outbox rows not done (due, leased or backing off).',
  )
  const outboxAge = gauge('live_outbox_oldest_pending_age_seconds', 'Age of the oldest outbox row not done.')
  const eventsPending = gauge(
    'live_events_consumer_pending',
    'Entries of the events stream delivered to the group but not acknowledged.',
    ['group'],
  )
  const eventsLag = gauge(
    'live_events_consumer_lag',
    'Entries of the events stream not yet delivered to the group.',
    ['group'],
  )
  const ingestUp = gauge('live_ingest_up', '1 if the ingest node answered /stat this scrape, else 0.', [
    'node',
  ])
  const publishers = gauge('live_ingest_publishers', 'Streams with a publisher on the ingest node.', ['node'])
  const clients = gauge('live_ingest_clients', 'RTMP clients per application of the ingest node.', [
    'node',
    'app',
  ])
  const bwIn = gauge('live_ingest_bw_in_bits_per_second', 'Incoming bandwidth of the ingest node.', ['node'])
  const bwOut = gauge('live_ingest_bw_out_bits_per_second', 'Outgoing bandwidth of the ingest node.', [
    'node',
  ])
  // nginx's own running totals: counters to Prometheus (an nginx restart is a counter reset).
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['node'], registers })
  const bytesIn = counter(
    'live_ingest_received_bytes_total',
    'Bytes the ingest node received since it started.',
  )
  const bytesOut = counter('live_ingest_sent_bytes_total', 'Bytes the ingest node sent since it started.')

  /** Reads a source; returns what to write into the gauges, or that the source was down. */
  const read = async <T>(source: string, fn: () => Promise<T>, apply: (v: T) => void) => {
    try {
      const v = await within(fn(), s.timeoutMs)
      return () => {
        apply(v)
        sourceUp.set({ source }, 1)
      }
    } catch {
      return () => sourceUp.set({ source }, 0)
    }
  }

  async function refresh(): Promise<void> {
    const writes = await Promise.all([
      read('live_registry', s.liveStreams, (entries) => {
        const nodes = new Set([...s.nodes(), ...entries.map((e) => e.node)])
        for (const node of nodes) for (const state of STATES) streams.set({ node, state }, 0)
        for (const e of entries) streams.inc({ node: e.node, state: e.state })
      }),
      read('outbox', s.outboxBacklog, (b) => {
        outboxDue.set(b.due)
        outboxPending.set(b.pending)
        outboxAge.set(b.oldestAgeS)
      }),
      read('webhooks', s.webhookBacklog, (b) => {
        webhookPending.set(b.pending)
        webhookAge.set(b.oldestAgeS)
      }),
      read('events', s.eventsLag, (groups) => {
        for (const l of groups) {
          eventsPending.set({ group: l.group }, l.pending)
          eventsLag.set({ group: l.group }, l.lag)
        }
      }),
      ...s.nodes().map(async (node) => {
        // nodeStat's own timeout: a slow node is down for this scrape, the others still count.
        const stat = await s.nodeStat(node, s.timeoutMs).catch(() => null)
        return () => {
          ingestUp.set({ node }, stat ? 1 : 0)
          if (!stat) return
          publishers.set({ node }, stat.publishers)
          bwIn.set({ node }, stat.bwIn)
          bwOut.set({ node }, stat.bwOut)
          bytesIn.inc({ node }, stat.bytesIn)
          bytesOut.inc({ node }, stat.bytesOut)
          for (const [app, n] of Object.entries(stat.clients)) clients.set({ node, app }, n)
        }
      }),
    ])
    // Everything is written in one synchronous step, so no scrape ever sees half a refresh, and
    // series of a source that is down this time are gone rather than stale.
    for (const m of [streams, eventsPending, eventsLag, ingestUp, publishers, clients, bwIn, bwOut]) m.reset()
    for (const m of [bytesIn, bytesOut]) m.reset()
    // A gauge without labels resets to 0, which would read as "no backlog": remove it instead.
    for (const m of [outboxDue, outboxPending, outboxAge]) m.remove()
    for (const write of writes) write()
    sockets.set(s.sockets())
    rooms.set(s.rooms())
  }

  let running: Promise<void> | null = null
  return () => {
    running ??= refresh().finally(() => {
      running = null
    })
    return running
  }
}
