/**
 * @module server — the composition root: config → clients → services → app → HTTP server →
 * background jobs, and the graceful shutdown that undoes it in reverse. `main.ts` runs it from
 * the environment; tests run it with their own config.
 */
import { hostname } from 'node:os'
import type { ServerType } from '@hono/node-server'
import { serve } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import { createTokenService } from './accounts/tokens.js'
import { type AnalyticsIngest, startAnalyticsIngest } from './analytics/ingest.js'
import { startQoeRollup } from './analytics/qoe-rollup.js'
import { startAnalyticsRetention } from './analytics/retention.js'
import { createApp } from './app.js'
import { createChat, startChatRetention } from './chat/index.js'
import { CHAT_STORE_GROUP, createChatStore } from './chat/store.js'
import type { Config } from './config.js'
import { createDb } from './db/client.js'
import type { Deps } from './deps.js'
import { every } from './lib/every.js'
import { createLiveEffects, EFFECTS_GROUP } from './live/effects.js'
import { parseEventEntries } from './live/events.js'
import { createIngestControl } from './live/ingest-control.js'
import { startReconciler } from './live/reconcile.js'
import { createRedisLiveRegistry } from './live/registry.js'
import { startSweeper } from './live/sweeper.js'
import { createLogger, errText, type Logger } from './log.js'
import { createMailer } from './mail/mailer.js'
import { createMetrics } from './metrics/metrics.js'
import { createScrape } from './metrics/scrape.js'
import { outboxBacklog } from './outbox/backlog.js'
import { createOutboxHandlers } from './outbox/handlers.js'
import { createOutboxWorker } from './outbox/worker.js'
import { createRedis } from './redis/client.js'
import { createKeys } from './redis/keys.js'
import { createPartitionedConsumer, partitionedLag, trimPartitions } from './redis/partitioned.js'
import type { StreamEntry } from './redis/stream-consumer.js'
import { createVideoJobs } from './videos/jobs.js'
import { mediaPaths } from './videos/paths.js'
import { createRecorder, VIDEOS_GROUP } from './videos/recorder.js'
import { sweepRetention } from './videos/retention.js'
import { createThumbnailRefresher } from './videos/thumbnails.js'
import { webhookBacklog } from './webhooks/backlog.js'
import { createWebhookEventHandler, WEBHOOKS_GROUP } from './webhooks/live-events.js'
import { createSecretBox, secretKey } from './webhooks/secret.js'
import { systemResolver } from './webhooks/ssrf.js'
import { createWebhookWorker } from './webhooks/worker.js'

/** The consumer groups of the lifecycle `events` streams, for the lag metrics. */
const EVENT_GROUPS = [EFFECTS_GROUP, WEBHOOKS_GROUP, VIDEOS_GROUP]
/**
 * How long the groups of the lifecycle `events` stream let entries gather after a short read:
 * every publish writes one, and at hundreds of publishes a second handling each as it came woke
 * three readers and ran their Postgres statements beside every publish hook (docs/benchmarks.md).
 * History, webhooks and recordings follow a transition by this much more.
 */
const EVENTS_LINGER_MS = 50

export type Running = {
  deps: Deps
  server: ServerType
  port: number
  /** The HLS log listener, when ANALYTICS_LOG_PORT is set. */
  analytics: AnalyticsIngest | undefined
  shutdown(): Promise<void>
}

export async function buildDeps(
  config: Config,
  log: Logger = createLogger({ level: config.LOG_LEVEL }),
  now = Date.now,
) {
  const metrics = createMetrics()
  const { db, sql } = createDb(config.DATABASE_URL)
  const { redis, redisSub } = createRedis(
    { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES },
    {
      onError: (connection) => metrics.redisErrors.inc({ source: connection }),
    },
  )
  const keys = createKeys(config.REDIS_PREFIX, config.REDIS_PARTITIONS)
  const ingest = createIngestControl(config.INGEST_NODES, log)
  const live = createRedisLiveRegistry({
    redis,
    keys,
    log,
    ingest,
    now,
    reconnectWindowS: config.RECONNECT_WINDOW_S,
    notifyUpdateS: config.NOTIFY_UPDATE_S,
    kickCooldownS: config.KICK_COOLDOWN_S,
  })
  const chat = createChat({ config, log, db, redis, redisSub, keys, now, live, metrics })
  const deps: Deps = {
    config,
    log,
    db,
    redis,
    redisSub,
    keys,
    now,
    ingest,
    mailer: createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, log }),
    tokens: await createTokenService({
      privateKeyPem: config.jwtPrivateKeyPem,
      previousPublicKeysPem: config.jwtPreviousPublicKeysPem,
      issuer: config.PUBLIC_URL,
      ttlS: config.ACCESS_TOKEN_TTL_S,
      now,
    }),
    live,
    chat,
    metrics,
    // Bound below: its handlers need the finished deps.
    outbox: { applyNow: async () => false },
  }
  const outbox = createOutboxWorker({
    sql,
    log,
    handlers: createOutboxHandlers(deps),
    onError: (err, kind) =>
      kind === 'query' ? metrics.postgresErrors.inc({ source: 'outbox' }) : metrics.storeError('outbox', err),
  })
  deps.outbox = outbox
  metrics.refresh = createScrape(metrics.registry, {
    nodes: () => ingest.nodes(),
    liveStreams: () => live.publishers(),
    nodeStat: (node, ms) => ingest.nodeStat(node, ms),
    sockets: () => chat.hub.size,
    rooms: () => chat.hub.rooms.size,
    outboxBacklog: () => outboxBacklog(sql),
    webhookBacklog: () => webhookBacklog(sql),
    hlsViewers: () => metrics.hlsViewers(),
    eventsLag: () =>
      Promise.all(
        EVENT_GROUPS.map(async (group) => ({
          group,
          ...(await partitionedLag(redis, keys.allEvents(), group)),
        })),
      ),
    timeoutMs: 2000,
  })
  const close = async () => {
    deps.mailer.close()
    // QUIT waits for a connection that may never come back (Redis down): disconnect then.
    const quit = (r: typeof redis) => (r.status === 'ready' ? r.quit() : Promise.resolve(r.disconnect()))
    await Promise.allSettled([quit(redis), quit(redisSub), sql.end({ timeout: 5 })])
  }
  /**
   * The consumers of the durable path (DESIGN.md "one durable path"): the Postgres outbox worker,
   * the `live-effects` group of the `events` streams (history, drops) and the `chat-store` group
   * of the `chat:persist` streams (chat's copy in Postgres), one stream per partition. Every instance runs all three; the work is shared
   * and survives any instance dying mid-way.
   */
  const startWorkers = async () => {
    const consumer = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
    const onError = (source: string) => (err: unknown, kind: 'entry' | 'read' | 'connection') =>
      kind === 'connection'
        ? metrics.redisErrors.inc({ source: `${source}_consumer` })
        : metrics.storeError(source, err)
    const effects = createPartitionedConsumer({
      redis,
      streams: keys.allEvents(),
      group: EFFECTS_GROUP,
      lingerMs: EVENTS_LINGER_MS,
      consumer,
      handleBatch: createLiveEffects({ db, ingest, live, log }),
      log,
      onError: onError('live_effects'),
    })
    const chatStore = createPartitionedConsumer({
      redis,
      streams: keys.allChatPersist(),
      group: CHAT_STORE_GROUP,
      consumer,
      handleBatch: createChatStore({ db, log }),
      log,
      batch: 500,
      onError: onError('chat_store'),
    })
    // Webhooks: the `webhooks` group turns lifecycle events into deliveries; the worker sends them.
    const onWebhookEvent = createWebhookEventHandler({ db, log })
    const webhookEvents = createPartitionedConsumer({
      redis,
      streams: keys.allEvents(),
      group: WEBHOOKS_GROUP,
      lingerMs: EVENTS_LINGER_MS,
      consumer,
      handleBatch: (entries) =>
        onWebhookEvent(
          parseEventEntries(entries, (id) => log.error({ id }, 'webhooks: malformed event skipped')),
        ),
      log,
      onError: onError('webhooks'),
    })
    const webhookSender = createWebhookWorker({
      sql,
      db,
      log,
      box: createSecretBox(secretKey(config)),
      resolve: systemResolver,
      config,
      onError: (err) => metrics.storeError('webhooks', err),
      onAttempt: (delivered) => metrics.webhookAttempts.inc({ outcome: delivered ? 'delivered' : 'failed' }),
    })
    // Videos: recordings become videos when a broadcast ends (the `videos` group), remuxed by
    // BullMQ jobs that also refresh live thumbnails and enforce the plans' storage limits.
    const paths = mediaPaths(config.MEDIA_DIR)
    const videoJobs = createVideoJobs({
      redis,
      keys,
      db,
      log,
      config,
      paths,
      sweepRetention: () => sweepRetention({ db, log, paths, config, now }),
      refreshThumbnails: createThumbnailRefresher({
        db,
        log,
        paths,
        live,
        ingestNodes: config.INGEST_NODES,
        now,
      }),
    })
    const onRecording = createRecorder({ db, log, paths, jobs: videoJobs })
    const recorder = createPartitionedConsumer({
      redis,
      streams: keys.allEvents(),
      group: VIDEOS_GROUP,
      consumer,
      handleBatch: async (entries) => {
        const retry: StreamEntry[] = []
        for (const { entry, event } of parseEventEntries(entries, (id) =>
          log.error({ id }, 'videos: malformed event skipped'),
        )) {
          await onRecording(event).catch((err) => {
            log.warn({ id: entry.id, err: errText(err) }, 'videos: event will be retried')
            retry.push(entry)
          })
        }
        return { retry }
      },
      lingerMs: EVENTS_LINGER_MS,
      log,
      onError: onError('videos'),
    })
    const trim = every(
      60_000,
      () =>
        Promise.all([
          trimPartitions(redis, keys.allEvents(), 24 * 3600_000),
          trimPartitions(redis, keys.allChatPersist(), 3600_000),
        ]),
      { onError: (err) => log.warn({ err: errText(err) }, 'streams: trim failed') },
    )
    await Promise.all([
      outbox.start(),
      effects.start(),
      chatStore.start(),
      webhookEvents.start(),
      webhookSender.start(),
      videoJobs.start(),
      recorder.start(),
    ])
    return {
      outbox,
      effects,
      chatStore,
      webhookEvents,
      webhookSender,
      recorder,
      videoJobs,
      async stop() {
        trim.stop()
        await Promise.all([
          outbox.stop(),
          effects.stop(),
          chatStore.stop(),
          webhookEvents.stop(),
          webhookSender.stop(),
          recorder.stop(),
          videoJobs.stop(),
        ])
      },
    }
  }
  return { deps, close, startWorkers }
}

export async function startServer(
  config: Config,
  opts: { log?: Logger; port?: number; now?: () => number } = {},
): Promise<Running> {
  const log = opts.log ?? createLogger({ level: config.LOG_LEVEL })
  const { deps, close, startWorkers } = await buildDeps(config, log, opts.now)
  const workers = await startWorkers()
  let draining = false
  const app = createApp(deps, { isShuttingDown: () => draining })
  const sweeper = startSweeper(deps.live, log)
  const reconciler = startReconciler({
    live: deps.live,
    ingest: deps.ingest,
    log,
    now: deps.now,
    intervalMs: config.RECONCILE_INTERVAL_S * 1000,
    idleTimeoutMs: config.IDLE_TIMEOUT_S * 1000,
  })
  deps.chat.hub.start()
  const retention = startChatRetention(deps)
  const analyticsRetention = startAnalyticsRetention(deps)
  // Viewing counted where the bytes are served: nginx's edge logs each HLS segment to this port.
  const analytics =
    config.ANALYTICS_LOG_PORT > 0
      ? await startAnalyticsIngest(deps, { onCounted: () => deps.metrics.hlsSegments.inc() })
      : undefined
  if (analytics) deps.metrics.hlsViewers = () => analytics.activeViewers()
  const qoeFlush = every(config.QOE_FLUSH_INTERVAL_S * 1000, () => deps.chat.qoe.flush(), {
    onError: (err) => log.warn({ err: errText(err) }, 'qoe: flush failed (kept for the next one)'),
  })
  // QoE minute rows fold into hours, hours into days, on the audience figures' schedule
  // (ANALYTICS_RETENTION_*; analytics/qoe-rollup.ts).
  const qoeRollup = startQoeRollup(deps, {
    minuteDays: config.ANALYTICS_RETENTION_MINUTE_DAYS,
    hourDays: config.ANALYTICS_RETENTION_HOUR_DAYS,
  })
  await deps.chat.hub.ready

  // Chat sockets: frames above 64 KiB are refused by ws itself (1009); no compression, which
  // costs memory per socket and CPU per message and opens compression side channels.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    perMessageDeflate: false,
    clientTracking: false,
  })
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: config.APP_HOST,
        port: opts.port ?? config.APP_PORT,
        websocket: { server: wss },
      },
      () => resolve(s),
    )
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? config.APP_PORT)
  log.info({ host: config.APP_HOST, port }, 'listening')

  let closing: Promise<void> | undefined
  const shutdown = () => {
    closing ??= (async () => {
      draining = true
      sweeper.stop()
      reconciler.stop()
      retention.stop()
      analyticsRetention.stop()
      // A clean stop writes what is counted in memory (only a crash loses the last flush interval).
      await analytics?.stop().catch((err) => log.error({ err }, 'analytics: final flush failed'))
      // Sockets first ("going away": clients reconnect to another instance); server.close()
      // would otherwise wait for them.
      await deps.chat.hub.shutdown()
      // The sockets are closed: what they reported goes to Postgres before the pool closes.
      qoeFlush.stop()
      qoeRollup.stop()
      await deps.chat.qoe.flush().catch((err) => log.warn({ err: errText(err) }, 'qoe: last flush failed'))
      await workers.stop()
      // Stop accepting connections, let in-flight requests finish, then close clients.
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      })
      await close()
      log.info('shut down')
    })()
    return closing
  }
  return { deps, server, port, analytics, shutdown }
}
