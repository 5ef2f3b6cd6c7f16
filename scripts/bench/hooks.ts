/**
 * Hook benchmark: on_publish and on_update throughput and latency against a real Postgres and
 * Redis, beside a bare Hono route in the same process and run (the ceiling for this HTTP stack).
 * Two kinds of rows: at a fixed arrival rate (`--rate`, default 500/s, open loop from a worker
 * thread: latency is the claim, so the load must not slow down when the server does) and
 * closed-loop (autocannon: throughput).
 * With `--redis-cluster`, the app runs on a 3-master Redis Cluster started on loopback
 * (REDIS_CLUSTER_NODES) instead of one Redis: the same rows, written to their own section.
 * Usage: npm run bench:hooks [-- --duration 10 --connections 20 --rate 500 --redis-cluster --write docs/benchmarks.md]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { serve } from '@hono/node-server'
import autocannon from 'autocannon'
import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import type { Cluster } from 'ioredis'
import { hashPassword } from '../../src/accounts/password.js'
import { loadConfig } from '../../src/config.js'
import { channels, streamKeys, users } from '../../src/db/schema/index.js'
import { EFFECTS_GROUP } from '../../src/live/effects.js'
import { isCluster } from '../../src/redis/client.js'
import { partitionedLag } from '../../src/redis/partitioned.js'
import { startServer } from '../../src/server.js'
import { generateStreamKey } from '../../src/stream-keys/token.js'
import { VIDEOS_GROUP } from '../../src/videos/recorder.js'
import { WEBHOOKS_GROUP } from '../../src/webhooks/live-events.js'
import { startEphemeralServices } from '../lib/ephemeral.js'
import { startRedisCluster } from '../lib/redis-cluster.js'
import { type OpenLoopJob, openLoop } from './lib/open-loop.js'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    channels: { type: 'string', default: '4000' },
    rate: { type: 'string', default: '500' },
    'redis-cluster': { type: 'boolean', default: false },
    write: { type: 'string' },
  },
})
const duration = Number(args.duration)
const connections = Number(args.connections)
const rate = Number(args.rate)
// Fixed-rate publishes use keys of their own: each must be a first publish (the 'started' path).
const fixedCount = rate * duration
const channelCount = Number(args.channels) + fixedCount

type Row = {
  name: string
  rps: number
  p50: number
  p99: number
  errors: number
  statuses: string
  /** The event-loop delay p99 of this process (the app's) during the row, ms. */
  loopP99?: number
}

/**
 * Measures this process's event-loop delay while `fn` runs. The app runs in this process, so a
 * latency tail that shows here too is queueing on the loop (CPU work in JS); one that does not is
 * waiting on something else (the Postgres pool, Redis, the kernel).
 */
async function withLoopDelay<T extends Row>(fn: () => Promise<T>): Promise<T> {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  try {
    const row = await fn()
    row.loopP99 = Number((h.percentile(99) / 1e6).toFixed(1))
    return row
  } finally {
    h.disable()
  }
}

function run(name: string, opts: autocannon.Options, expectStatus: number): Promise<Row> {
  return withLoopDelay(() => runClosed(name, opts, expectStatus))
}

function runClosed(name: string, opts: autocannon.Options, expectStatus: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    autocannon({ connections, pipelining: 1, ...opts }, (err, r) => {
      if (err) return reject(err)
      const statuses = Object.entries(r.statusCodeStats ?? {})
        .map(([s, v]) => `${s}×${(v as { count: number }).count}`)
        .join(' ')
      const wrong = Object.entries(r.statusCodeStats ?? {})
        .filter(([s]) => Number(s) !== expectStatus)
        .reduce((n, [, v]) => n + (v as { count: number }).count, 0)
      resolve({
        name,
        // autocannon ends a run on its one-second tick, so a fixed amount of requests done in
        // 2.1 s read as 4000 / 3 = 1,333/s. With an amount, Little's law over the connections
        // kept busy gives the rate; over a duration the total does.
        rps: opts.amount ? (connections * 1000) / r.latency.mean : r.requests.total / r.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.timeouts + wrong,
        statuses,
      })
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A Postgres backend reports its counters to pg_stat_database within 10 s of going idle (PG ≥ 15). */
const STATS_FLUSH_MS = 11_000

const services = await startEphemeralServices('bench-hooks')
process.once('exit', () => void services.stop())
const cluster = args['redis-cluster'] ? await startRedisCluster({ masters: 3, replicasPerMaster: 0 }) : null
process.once('exit', () => void cluster?.stop())
const marker = cluster ? 'hooks-cluster' : 'hooks'
const secret = randomBytes(24).toString('base64url')
const config = loadConfig({
  NODE_ENV: 'production',
  SMTP_URL: 'smtp://127.0.0.1:9', // required in production; this benchmark sends no mail
  LOG_LEVEL: 'warn',
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  ...(cluster && { REDIS_CLUSTER_NODES: cluster.spec }),
  HOOK_SECRET: secret,
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
})
const app = await startServer(config, { port: 0 })
const bare = new Hono().post('/bare', (c) => {
  c.header('Location', 'alice')
  return c.body(null, 302)
})
const bareServer = serve({ fetch: bare.fetch, hostname: '127.0.0.1', port: 0 })
await new Promise((r) => bareServer.once('listening', r))
const barePort = (bareServer.address() as { port: number }).port

try {
  // Fixtures: one verified user, channel and key per simulated broadcaster.
  const passwordHash = await hashPassword('bench-password')
  const keys: string[] = []
  for (let i = 0; i < channelCount; i += 500) {
    const batch = Array.from({ length: Math.min(500, channelCount - i) }, (_, j) => `bench_${i + j}`)
    const us = await app.deps.db
      .insert(users)
      .values(
        batch.map((username) => ({
          username,
          email: `${username}@bench.test`,
          passwordHash,
          emailVerifiedAt: new Date(),
        })),
      )
      .returning({ id: users.id, username: users.username })
    await app.deps.db.insert(channels).values(us.map((u) => ({ ownerId: u.id, name: u.username })))
    const gens = us.map((u) => ({ u, g: generateStreamKey() }))
    await app.deps.db
      .insert(streamKeys)
      .values(
        gens.map(({ u, g }) => ({ id: g.id, userId: u.id, secretHash: g.secretHash, preview: g.preview })),
      )
    keys.push(...gens.map(({ g }) => g.key))
  }

  /** Transactions committed or rolled back in the database, and commands every Redis master ran. */
  const storeCounters = async () => {
    const [pg] = (await app.deps.db.execute(
      sql`select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = current_database()`,
    )) as unknown as { n: string }[]
    const redises = isCluster(app.deps.redis)
      ? (app.deps.redis as unknown as Cluster).nodes('master')
      : [app.deps.redis]
    let redisCommands = 0
    for (const r of redises) {
      const info = await r.info('stats')
      redisCommands += Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0)
    }
    return { at: Date.now(), pgXacts: Number(pg!.n), redisCommands }
  }
  /** Until every group of the events stream has applied everything (nothing pending, no lag). */
  const eventsApplied = async () => {
    for (;;) {
      const lags = await Promise.all(
        [EFFECTS_GROUP, WEBHOOKS_GROUP, VIDEOS_GROUP].map((g) =>
          partitionedLag(app.deps.redis, app.deps.keys.allEvents(), g),
        ),
      )
      if (lags.every((l) => l.pending === 0 && l.lag === 0)) return
      await sleep(200)
    }
  }

  const base = `http://127.0.0.1:${app.port}/hooks/rtmp`
  const q = `?node=bench&secret=${secret}`
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = (call: string, i: number) =>
    `app=live&flashver=FMLE%2F3.0&swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1%2Flive&pageurl=&addr=127.0.0.1&clientid=${i + 1}&call=${call}&name=${keys[i]}&type=live`

  const rows: Row[] = []
  // Warm-up, not reported: JIT and connection pools, so the first measured row is not the coldest.
  await run('warm-up', { url: `http://127.0.0.1:${barePort}/bare`, method: 'POST', duration: 2 }, 302)
  await run(
    'warm-up',
    {
      url: `${base}/update${q}`,
      method: 'POST',
      headers: form,
      body: body('update_publish', 0),
      duration: 2,
    },
    200,
  )
  // Fixed arrival rate, open loop (lib/open-loop.ts: a worker thread sends request i at i/rate
  // and measures from that due time), so queueing shows up in the percentiles.
  const paced = async (name: string, job: Omit<OpenLoopJob, 'rate' | 'durationS'>, expect: number) => {
    const h = monitorEventLoopDelay({ resolution: 1 })
    h.enable()
    const r = await openLoop({ ...job, rate, durationS: duration })
    h.disable()
    const wrong = Object.entries(r.statuses)
      .filter(([st]) => Number(st) !== expect)
      .reduce((n, [, c]) => n + c, 0)
    const row: Row = {
      name,
      rps: r.achievedRate,
      p50: Number(r.p50.toFixed(1)),
      p99: Number(r.p99.toFixed(1)),
      errors: wrong,
      statuses: Object.entries(r.statuses)
        .map(([st, c]) => `${st}×${c}`)
        .join(' '),
      loopP99: Number((h.percentile(99) / 1e6).toFixed(1)),
    }
    rows.push(row)
    return row
  }
  const fixedBodies = (call: string) => Array.from({ length: fixedCount }, (_, i) => body(call, i))
  const bareFixed = await paced(
    `bare Hono route (302) @ ${rate}/s`,
    { url: `http://127.0.0.1:${barePort}/bare`, method: 'POST', headers: form, bodies: [body('publish', 0)] },
    302,
  )
  // What each publish costs the stores, consumers included: Postgres transactions and Redis
  // commands over the row and until every group has applied its events, less the same span idle
  // (reconciler, job queue polling). Counts, not times: they do not depend on how noisy the
  // machine is. Postgres publishes a backend's counters within 10 s of it going idle, hence the wait.
  const before = await storeCounters()
  const publishFixed = await paced(
    `on_publish (accept, first publish) @ ${rate}/s`,
    { url: `${base}/publish${q}`, method: 'POST', headers: form, bodies: fixedBodies('publish') },
    302,
  )
  const busyMs = Date.now() - before.at
  await eventsApplied()
  await sleep(STATS_FLUSH_MS)
  const during = await storeCounters()
  // The same span again with no load: what the background costs by itself.
  await sleep(during.at - before.at)
  const idle = await storeCounters()
  const perPublish = (k: 'pgXacts' | 'redisCommands') =>
    (during[k] - before[k] - (idle[k] - during[k])) / fixedCount
  const costs = {
    pgXacts: perPublish('pgXacts'),
    redisCommands: perPublish('redisCommands'),
    busyMs,
  }
  await paced(
    `on_update (live session) @ ${rate}/s`,
    { url: `${base}/update${q}`, method: 'POST', headers: form, bodies: fixedBodies('update_publish') },
    200,
  )
  rows.push(
    await run(
      'bare Hono route (302)',
      {
        url: `http://127.0.0.1:${barePort}/bare`,
        method: 'POST',
        headers: form,
        body: body('publish', 0),
        duration,
      },
      302,
    ),
  )
  rows.push(
    await run(
      'GET /healthz (the app’s middleware, no I/O)',
      { url: `http://127.0.0.1:${app.port}/healthz`, duration },
      200,
    ),
  )
  const closedCount = channelCount - fixedCount
  let p = 0
  rows.push(
    await run(
      `on_publish (accept, ${closedCount} distinct keys)`,
      {
        url: `${base}/publish${q}`,
        method: 'POST',
        headers: form,
        amount: closedCount,
        requests: [
          { setupRequest: (req) => ({ ...req, body: body('publish', fixedCount + (p++ % closedCount)) }) },
        ],
      },
      302,
    ),
  )
  let u = 0
  rows.push(
    await run(
      'on_update (live session)',
      {
        url: `${base}/update${q}`,
        method: 'POST',
        headers: form,
        duration,
        requests: [{ setupRequest: (req) => ({ ...req, body: body('update_publish', u++ % channelCount) }) }],
      },
      200,
    ),
  )
  rows.push(
    await run(
      'on_publish (refused: wrong secret)',
      {
        url: `${base}/publish${q}`,
        method: 'POST',
        headers: form,
        duration,
        body: body('publish', 0).replace(
          /name=live_([a-z2-9]{12})_[a-z2-9]{32}/,
          'name=live_$1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        ),
      },
      403,
    ),
  )

  const ratio = publishFixed.p99 / Math.max(1, bareFixed.p99)
  const redisDesc = cluster
    ? 'Redis: a 3-master Redis Cluster on the same machine (REDIS_CLUSTER_NODES)'
    : 'Redis: one redis-server'
  const header = `${redisDesc}. Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}, autocannon in the same machine; rows marked @ ${rate}/s at a fixed arrival rate (open loop, latency from each request's due time), the others closed-loop (autocannon) over ${connections} connections; ${new Date().toISOString().slice(0, 10)}. on_publish p99 at ${rate}/s: ${publishFixed.p99} ms = ${ratio.toFixed(1)}× the bare route's p99 in the same run. Each accepted publish cost, consumers included and the idle background subtracted: ${costs.pgXacts.toFixed(2)} Postgres transactions and ${costs.redisCommands.toFixed(1)} Redis commands.`
  const table = [
    '| scenario | req/s | p50 ms | p99 ms | event-loop delay p99 ms | non-expected | statuses |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.loopP99 ?? ''} | ${r.errors} | ${r.statuses} |`,
    ),
  ].join('\n')
  console.log(`\n${header}\n\n${table}\n`)
  if (args.write) {
    const doc = readFileSync(args.write, 'utf8')
    const begin = `<!-- ${marker}:begin -->`
    const end = `<!-- ${marker}:end -->`
    const section = `${begin}\n${header}\n\n${table}\n${end}`
    const at = doc.indexOf(begin)
    if (at < 0) throw new Error(`${args.write} has no ${begin} … ${end} section`)
    writeFileSync(args.write, doc.slice(0, at) + section + doc.slice(doc.indexOf(end) + end.length))
    console.log(`written to ${args.write}`)
  }
} finally {
  bareServer.close()
  await app.shutdown()
  await services.stop()
  await cluster?.stop()
}
