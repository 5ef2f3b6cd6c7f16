/**
 * @module bench/playback — what nginx's playback check (auth_request + its cache, nginx/README.md
 * "Playback checks") costs per request, against serving the same files unchecked (the /hls/
 * location as it was before the check: an `alias`, nothing else), in the same run.
 *
 * Throwaway Postgres and Redis, the app in this process, the real edge nginx. The HLS files are
 * written by hand (a playlist and a 64 KiB segment per channel) so nothing rotates under the load.
 * The unchecked baseline is a location this script adds to the rendered edge config (reloaded
 * with SIGHUP); it never exists in the shipped template.
 *
 * Usage: npm run bench:playback [-- --seconds 8 --connections 32 --write docs/benchmarks.md]
 */
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { eq } from 'drizzle-orm'
import { loadConfig } from '../../src/config.js'
import { channels } from '../../src/db/schema/index.js'
import { startServer } from '../../src/server.js'
import { signPlaybackGrant } from '../../src/visibility/playback-token.js'
import { startEphemeralServices } from '../lib/ephemeral.js'
import { startNginx } from '../lib/nginx.js'
import { freePort } from '../lib/proc.js'
import { benchOwner } from './lib/owner.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    write: { type: 'string' },
  },
})
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)
const log = (...a: unknown[]) => console.error('[bench:playback]', ...a)

const services = await startEphemeralServices('bench-playback')
const [httpPort, rtmpPort, controlPort, internalRtmpPort, appPort] = (await Promise.all(
  Array.from({ length: 5 }, () => freePort()),
)) as [number, number, number, number, number]
const hookSecret = randomBytes(24).toString('base64url')
const env: Record<string, string> = {
  NODE_ENV: 'production',
  SMTP_URL: 'smtp://127.0.0.1:9',
  LOG_LEVEL: 'warn',
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  REDIS_PREFIX: 'bench:',
  HOOK_SECRET: hookSecret,
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
  INGEST_NODES: `bench=http://127.0.0.1:${controlPort}`,
}
const config = loadConfig(env)
const running = await startServer(config, { port: appPort })
const deps = running.deps
await benchOwner(deps, 'bench_public')
const priv = await benchOwner(deps, 'bench_private')
await deps.db.update(channels).set({ visibility: 'private' }).where(eq(channels.name, 'bench_private'))
const grant = await signPlaybackGrant(deps.tokens, {
  userId: priv.owner.id,
  channel: 'bench_private',
  ttlS: 3600,
  now: Date.now(),
  publicUrl: config.PUBLIC_URL,
})

const runDir = mkdtempSync(join(tmpdir(), 'bench-playback-'))
const nginx = await startNginx({
  runDir,
  nodeId: 'bench',
  hookSecret,
  rtmpPort,
  internalRtmpPort,
  httpPort,
  controlPort,
  appUpstreams: [`127.0.0.1:${appPort}`],
  // One load generator address: the per-address limits would answer 429 to nearly everything.
  limits: { requestsPerS: 100_000, requestBurst: 1_000_000, connectionsPerAddr: 10_000 },
})
const hls = join(runDir, 'hls')
const segment = randomBytes(64 * 1024)
for (const ch of ['bench_public', 'bench_private']) {
  mkdirSync(join(hls, ch), { recursive: true })
  writeFileSync(join(hls, ch, 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n1.ts\n')
  writeFileSync(join(hls, ch, '1.ts'), segment)
}
// The ingest's hls_cleanup deletes files older than a few playlist lengths from HLS_DIR: keep
// ours young for as long as the load runs.
const keepFresh = setInterval(() => {
  const now = new Date()
  for (const ch of ['bench_public', 'bench_private'])
    for (const f of ['index.m3u8', '1.ts']) utimesSync(join(hls, ch, f), now, now)
}, 500)
// The unchecked baseline: /hls/ exactly as served before the check.
const edgeConf = join(runDir, 'nginx-edge.conf')
const conf = readFileSync(edgeConf, 'utf8')
const marker = '        location ^~ /hls/ {'
if (!conf.includes(marker)) throw new Error('bench: /hls/ location not found in the edge config')
writeFileSync(
  edgeConf,
  conf.replace(
    marker,
    `        location ^~ /bench-open/ {\n            alias ${hls}/;\n            add_header Cache-Control $hls_cache_control;\n            add_header Access-Control-Allow-Origin "*";\n        }\n\n${marker}`,
  ),
)
nginx.edge.kill('SIGHUP')
const base = `http://127.0.0.1:${httpPort}`
for (let i = 0; ; i++) {
  if ((await fetch(`${base}/bench-open/bench_public/1.ts`)).status === 200) break
  if (i > 100) throw new Error('bench: the reloaded edge never served the baseline')
  await new Promise((r) => setTimeout(r, 100))
}

const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
const edgePids = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === nginx.edge.pid
      } catch {
        return false
      }
    })
const cpuS = (pids: number[]) =>
  pids.reduce((s, pid) => {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      return s + (Number(f[11]) + Number(f[12])) / TICK
    } catch {
      return s
    }
  }, 0)

type Row = {
  what: string
  rps: number
  p50: number
  p99: number
  non2xx: number
  nginxUs: number
  appUs: number
}
async function run(what: string, url: string, headers?: Record<string, string>): Promise<Row> {
  // A short warm-up fills the auth cache and the connections.
  await autocannon({ url, connections: 4, duration: 1, headers })
  const pids = edgePids()
  const n0 = cpuS(pids)
  const a0 = process.cpuUsage()
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers })
  const nginxS = cpuS(pids) - n0
  const a = process.cpuUsage(a0)
  const total = r.requests.total
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(
      `bench: ${what}: ${r.non2xx} non-2xx, ${r.errors} errors, ${JSON.stringify(r.statusCodeStats)}`,
    )
  log(what, Math.round(r.requests.average), 'req/s')
  return {
    what,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    nginxUs: (nginxS * 1e6) / total,
    // This process runs the app AND the load generator: an upper bound for the app's share.
    appUs: (a.user + a.system) / total,
  }
}

const rows: Row[] = []
for (const [file, label] of [
  ['index.m3u8', 'playlist'],
  ['1.ts', '64 KiB segment'],
] as const) {
  rows.push(await run(`${label}, unchecked (before)`, `${base}/bench-open/bench_public/${file}`))
  rows.push(await run(`${label}, public channel (cached check)`, `${base}/hls/bench_public/${file}`))
  rows.push(
    await run(
      `${label}, private + grant (cached check)`,
      `${base}/hls/t/${grant.token}/bench_private/${file}`,
    ),
  )
}
// A cache miss costs one call to the app: the app's check alone, on its own port.
rows.push(
  await run(
    "the app's check alone (a cache miss), private + grant",
    `http://127.0.0.1:${appPort}/internal/playback-auth`,
    { 'x-original-uri': `/hls/t/${grant.token}/bench_private/1.ts` },
  ),
)

const f = (n: number, d = 0) => n.toFixed(d)
const table = [
  '| request | req/s | p50 | p99 | non-2xx | nginx CPU per request | app + load generator CPU per request |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${f(r.rps)} | ${f(r.p50, 1)} ms | ${f(r.p99, 1)} ms | ${r.non2xx} | ${f(r.nginxUs, 1)} µs | ${f(r.appUs, 1)} µs |`,
  ),
].join('\n')
const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'
const summary = `${CONNECTIONS} keep-alive connections for ${SECONDS} s per row (autocannon, in the app's process), one edge nginx with its default workers, ${cores} shared cores. The last row goes to the app's own port (no nginx): what each auth-cache miss adds, once per (channel, grant) per PLAYBACK_AUTH_CACHE_S.`
console.log(`\n${table}\n\n${summary}\n`)

if (args.write) {
  const heading = '## Playback checks'
  const section = `${heading} (\`npm run bench:playback -- --write ${args.write}\`)\n\n${new Date().toISOString().slice(0, 10)}, every playlist and segment request through nginx's \`auth_request\` with its cache, against the same files unchecked.\n\n${table}\n\n${summary}\n`
  const doc = readFileSync(args.write, 'utf8')
  const start = doc.indexOf(heading)
  const end = start < 0 ? -1 : doc.slice(start + 1).search(/\n#{2,3} /)
  const rest = end < 0 ? '' : doc.slice(start + 1 + end)
  writeFileSync(
    args.write,
    start < 0 ? `${doc.trimEnd()}\n\n${section}` : `${doc.slice(0, start)}${section}${rest}`,
  )
}

clearInterval(keepFresh)
await nginx.stop()
await new Promise((r) => setTimeout(r, 500)) // requests autocannon left in flight finish
await running.shutdown()
await services.stop()
rmSync(runDir, { recursive: true, force: true })
process.exit(0)
