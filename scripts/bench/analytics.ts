/**
 * Analytics ingestion benchmark: N simulated HLS viewers (one segment request per viewer per
 * second, as nginx's edge logs them: one syslog datagram each) against the ingestion path of one
 * instance (UDP listener → in-memory tally → Redis + Postgres every ANALYTICS_FLUSH_S), and in the
 * same run the naive baseline: one Postgres INSERT per request. Reports events/s sustained,
 * CPU µs per event (the receiving process only; the sender is another process), Postgres rows
 * written per minute, and the p99 of a 30-day analytics query over seeded history.
 * Usage: npm run bench:analytics [-- --viewers 1000,10000,50000 --duration 20 --channels 10 --write docs/benchmarks.md]
 */
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { readFileSync, writeFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { startAnalyticsIngest } from '../../src/analytics/ingest.js'
import { parseHlsLine } from '../../src/analytics/log-line.js'
import { channelAnalytics } from '../../src/analytics/query.js'
import { viewerId } from '../../src/analytics/viewer-id.js'
import { loadConfig } from '../../src/config.js'
import { createDb } from '../../src/db/client.js'
import { analyticsBuckets, channels, users } from '../../src/db/schema/index.js'
import { createLogger } from '../../src/log.js'
import { buildDeps } from '../../src/server.js'
import { startEphemeralServices } from '../lib/ephemeral.js'

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '1000,10000,50000' },
    duration: { type: 'string', default: '20' },
    channels: { type: 'string', default: '10' },
    'naive-max': { type: 'string', default: '50000' },
    write: { type: 'string' },
  },
})
const DURATION = Number(args.duration)
const CHANNELS = Number(args.channels)
const SENDER = new URL('./lib/hls-log-sender.mjs', import.meta.url).pathname

const services = await startEphemeralServices('bench-analytics')
const config = loadConfig({
  NODE_ENV: 'production',
  SMTP_URL: 'smtp://127.0.0.1:9',
  LOG_LEVEL: 'warn',
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  HOOK_SECRET: 'bench-hook-secret-0123456789',
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
})
const log = createLogger({ level: 'warn' })
const { deps, close } = await buildDeps(config, log)

type Row = {
  path: string
  viewers: number
  sent: number
  received: number
  eventsPerS: number
  cpuUsPerEvent: number
  rowsPerMin: number
  lost: number
  /** Aggregated path only: the longest flush and the longest event-loop stall (where UDP could overflow). */
  maxFlushMs?: number
  loopMaxMs?: number
}

function sender(port: number, viewers: number) {
  const child = spawn(
    process.execPath,
    [SENDER, String(port), String(viewers), String(DURATION), String(CHANNELS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  return new Promise<{ sent: number; seconds: number }>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`)),
    ),
  )
}

async function runAggregated(viewers: number): Promise<Row> {
  const ingest = await startAnalyticsIngest(
    { ...deps, config: { ...config, ANALYTICS_FLUSH_S: 10 } },
    { port: 0 },
  )
  const loop = monitorEventLoopDelay({ resolution: 5 })
  loop.enable()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const { sent, seconds: sendingS } = await sender(ingest.port, viewers)
  await ingest.stop() // the final flush is part of the cost
  loop.disable()
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const received = ingest.stats.received
  return {
    path: 'aggregated (memory → Redis → Postgres)',
    viewers,
    sent,
    received,
    // Counted as they arrive: the rate over the sending window is what was kept up with.
    eventsPerS: received / sendingS,
    cpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, received),
    rowsPerMin: (ingest.stats.rowsWritten / seconds) * 60,
    lost: sent - received,
    maxFlushMs: ingest.stats.maxFlushMs,
    loopMaxMs: loop.max / 1e6,
  }
}

/** One INSERT per request (the design the issue warns against), with at most 64 in flight; beyond that a request is dropped. */
async function runNaive(viewers: number): Promise<Row> {
  // Its own pool of 10, like the app's.
  const pg = createDb(services.databaseUrl).sql
  // What a raw access-log row would hold, the address hashed like ours.
  await pg`create table if not exists bench_raw_hits (at timestamptz not null, channel text not null, viewer text not null, segment text not null, bytes int not null)`
  const salt = 'bench-salt'
  const sock = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 })
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
  let inserted = 0
  let inflight = 0
  let dropped = 0
  sock.on('message', (msg) => {
    const hit = parseHlsLine(msg.toString('latin1'))
    if (!hit) return
    if (inflight >= 64) {
      dropped++
      return
    }
    inflight++
    pg`insert into bench_raw_hits values (${new Date(hit.at).toISOString()}, ${hit.channel}, ${viewerId(salt, hit)}, ${hit.segment}, ${hit.bytes})`
      .execute()
      .then(() => inserted++)
      .catch((err) => {
        if (dropped++ === 0) console.error(err)
      })
      .finally(() => inflight--)
  })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const { sent } = await sender((sock.address() as { port: number }).port, viewers)
  while (inflight > 0) await new Promise((r) => setTimeout(r, 10))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  sock.close()
  await pg.end()
  return {
    path: 'naive (one INSERT per request)',
    viewers,
    sent,
    received: inserted,
    eventsPerS: inserted / seconds,
    cpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, inserted),
    rowsPerMin: (inserted / seconds) * 60,
    lost: sent - inserted,
  }
}

/** 30 days of history for one channel (minute, hour and day rows, HyperLogLogs included), then a month's query. */
async function queryP99() {
  const [u] = await deps.db
    .insert(users)
    .values({ username: 'bench_hist', email: 'hist@bench.test', passwordHash: 'x' })
    .returning()
  const [ch] = await deps.db.insert(channels).values({ ownerId: u!.id, name: 'bench_hist' }).returning()
  // A real HyperLogLog of 5,000 viewers (dense, 12 KB) for every hour and day row.
  const hllKey = 'bench:hll'
  for (let i = 0; i < 5000; i += 500)
    await deps.redis.pfadd(hllKey, ...Array.from({ length: 500 }, (_, j) => `v${i + j}`))
  const hll = await deps.redis.getBuffer(hllKey)
  const to = Math.floor(Date.now() / 86_400_000) * 86_400_000
  const from = to - 30 * 86_400_000
  const rows: (typeof analyticsBuckets.$inferInsert)[] = []
  const add = (granularity: 'minute' | 'hour' | 'day', step: number) => {
    for (let t = from; t < to; t += step)
      rows.push({
        channelId: ch!.id,
        granularity,
        t: new Date(t),
        views: 10,
        watchMs: 600_000,
        concSum: 60,
        concSamples: 6,
        peakConcurrent: 12,
        uniqueViewers: granularity === 'minute' ? 0 : 5000,
        hll: granularity === 'minute' ? null : hll,
      })
  }
  add('minute', 60_000)
  add('hour', 3_600_000)
  add('day', 86_400_000)
  for (let i = 0; i < rows.length; i += 2000)
    await deps.db.insert(analyticsBuckets).values(rows.slice(i, i + 2000))
  await deps.db.execute(sql`analyze analytics_buckets`)
  const p99 = async (bucket: 'hour' | 'day') => {
    const ms: number[] = []
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now()
      await channelAnalytics(deps, { id: ch!.id, name: ch!.name }, from, to, bucket)
      ms.push(performance.now() - t0)
    }
    ms.sort((a, b) => a - b)
    return { p50: ms[99]!, p99: ms[197]! }
  }
  return { rows: rows.length, hour: await p99('hour'), day: await p99('day') }
}

const results: Row[] = []
try {
  const owners = await deps.db
    .insert(users)
    .values(
      Array.from({ length: CHANNELS }, (_, i) => ({
        username: `bench_${i}`,
        email: `b${i}@bench.test`,
        passwordHash: 'x',
      })),
    )
    .returning()
  await deps.db.insert(channels).values(owners.map((o) => ({ ownerId: o.id, name: o.username })))
  for (const n of args.viewers.split(',').map(Number)) {
    const agg = await runAggregated(n)
    results.push(agg)
    console.log(agg)
    if (n <= Number(args['naive-max'])) {
      const naive = await runNaive(n)
      results.push(naive)
      console.log(naive)
    }
  }
  const q = await queryP99()
  console.log(q)

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  const table = [
    '| viewers (req/s offered) | path | events/s sustained | CPU µs/event | Postgres rows/min | not counted | longest flush / loop stall ms |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${fmt(r.viewers)} | ${r.path} | ${fmt(r.eventsPerS)} | ${r.cpuUsPerEvent.toFixed(1)} | ${fmt(r.rowsPerMin)} | ${fmt(r.lost)} of ${fmt(r.sent)} | ${r.maxFlushMs === undefined ? '–' : `${fmt(r.maxFlushMs)} / ${fmt(r.loopMaxMs ?? 0)}`} |`,
    ),
  ].join('\n')
  const queryLine = `30-day query over seeded history (${fmt(q.rows)} bucket rows: minute, hour and day, 12 KB HyperLogLogs on hours and days): bucket=hour (720 points) p50 ${q.hour.p50.toFixed(1)} ms, p99 ${q.hour.p99.toFixed(1)} ms; bucket=day p50 ${q.day.p50.toFixed(1)} ms, p99 ${q.day.p99.toFixed(1)} ms (200 queries each, Postgres + the HyperLogLog merge in Redis). The naive table cannot answer it at all in comparable time: 30 days of raw rows at 1,000 viewers is 2.6 billion rows.`
  const header = `## Watch analytics ingestion (\`npm run bench:analytics -- --write docs/benchmarks.md\`)\n\n${new Date().toISOString().slice(0, 10)}, ${DURATION} s per row, ${CHANNELS} channels, one instance; a sender process plays nginx's edge (one syslog datagram per segment request).`
  const text = `${header}\n\n${table}\n\n${queryLine}\n`
  console.log(`\n${text}`)
  if (args.write) {
    const doc = readFileSync(args.write, 'utf8')
    const section = `<!-- analytics:begin -->\n${text}<!-- analytics:end -->`
    const next = doc.includes('<!-- analytics:begin -->')
      ? doc.replace(/<!-- analytics:begin -->[\s\S]*<!-- analytics:end -->/, section)
      : `${doc.trimEnd()}\n\n${section}\n`
    writeFileSync(args.write, next)
    console.log(`written to ${args.write}`)
  }
} finally {
  await close()
  await services.stop()
}
