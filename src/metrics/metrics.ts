/**
 * @module metrics/metrics — this instance's Prometheus registry and the instruments the code
 * records into as things happen (requests, hook decisions, chat, store errors). Gauges that are
 * read from Redis, Postgres or the ingest nodes at scrape time live in metrics/scrape.ts.
 *
 * One registry per `buildDeps`, never prom-client's global default: tests run several app
 * instances in one process, and each must count only its own traffic. Names: `live_` for ours,
 * prom-client's standard names for process and event-loop metrics (dashboards expect those).
 * Every label has a small, fixed set of values (route patterns, never raw paths; reasons from
 * closed enums), so no client can grow the series count.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { storeOf } from './store-error.js'

export type Metrics = ReturnType<typeof createMetrics>

export type HookName = 'publish' | 'update' | 'publish_done'
export type HookOutcome =
  | 'accepted'
  | 'adopted'
  | 'refused'
  | 'busy'
  | 'invalid'
  | 'ignored'
  | 'unauthorized'
  | 'failed_open'
  | 'failed_closed'

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  const httpDuration = new Histogram({
    name: 'live_http_request_duration_seconds',
    help: 'HTTP requests served by the app, by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  const hookDecisions = new Counter({
    name: 'live_hook_decisions_total',
    help: 'RTMP hook answers by hook and outcome; reason says why a publish or update was refused.',
    labelNames: ['hook', 'outcome', 'reason'] as const,
    registers,
  })
  const chatSent = new Counter({
    name: 'live_chat_messages_sent_total',
    help: 'Chat messages accepted from this instance’s sockets and published to their channel.',
    registers,
  })
  const chatDelivered = new Counter({
    name: 'live_chat_messages_delivered_total',
    help: 'Chat messages handed to this instance’s sockets (one per message per socket).',
    registers,
  })
  const chatRefused = new Counter({
    name: 'live_chat_messages_refused_total',
    help: 'chat.send frames refused after parsing, by error code (RATE_LIMITED, SLOW_MODE, BANNED, …).',
    labelNames: ['reason'] as const,
    registers,
  })
  const redisErrors = new Counter({
    name: 'live_redis_errors_total',
    help: 'Redis errors: connection errors ioredis reported, and failed commands where the app maps them.',
    labelNames: ['source'] as const,
    registers,
  })
  const postgresErrors = new Counter({
    name: 'live_postgres_errors_total',
    help: 'Failed Postgres queries where the app maps errors (HTTP 500s, outbox, live effects).',
    labelNames: ['source'] as const,
    registers,
  })
  const webhookAttempts = new Counter({
    name: 'live_webhook_attempts_total',
    help: 'Webhook delivery attempts made by this instance, by outcome (delivered: a 2xx answer).',
    labelNames: ['outcome'] as const,
    registers,
  })
  let defaults = false

  return {
    registry,
    httpDuration,
    hookDecisions,
    chatSent,
    chatDelivered,
    chatRefused,
    redisErrors,
    postgresErrors,
    webhookAttempts,
    hook(hook: HookName, outcome: HookOutcome, reason = '') {
      hookDecisions.inc({ hook, outcome, reason })
    },
    /** Counts `err` against Postgres or Redis when it came from one of them; other failures are not store errors. */
    storeError(source: string, err: unknown) {
      const store = storeOf(err)
      if (store === 'postgres') postgresErrors.inc({ source })
      else if (store === 'redis') redisErrors.inc({ source })
    },
    /**
     * Process and event-loop metrics, registered on the first scrape: prom-client starts a GC
     * observer and an event-loop monitor for them that it never stops, and a test process builds
     * dozens of app instances nobody scrapes.
     */
    enableDefaults() {
      if (defaults) return
      defaults = true
      collectDefaultMetrics({ register: registry })
    },
    /** Refreshes the scrape-time gauges; bound by the composition root (metrics/scrape.ts). */
    refresh: async (): Promise<void> => {},
  }
}
