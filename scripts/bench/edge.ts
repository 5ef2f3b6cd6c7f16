/**
 * Edge benchmark: ≥10,000 WebSocket viewers of one live channel THROUGH the public origin
 * (nginx's HTTP edge process and its workers, next to the one-worker RTMP ingest process) while a
 * few hundred HLS players poll the playlist every second and ffmpeg publishes, with the same crowd
 * on the app's own port first, in the same run, as the baseline.
 *
 * Viewers come from many loopback source addresses (127.0.1.x; Linux routes 127/8 to lo), as
 * distinct clients would, so per-address caps (WS_MAX_PER_IP, nginx limit_conn) apply as in
 * production. Per path it reports: sockets open, RSS of nginx (both masters and all workers) and of
 * the app (after a full GC), p50/p99 chat delivery latency (N messages at a fixed rate, send →
 * receive at every viewer), the wall time for 1,000 viewers connecting at once to all get their
 * welcome, the CPU time nginx and the app spent, and how the edge workers shared the descriptors.
 *
 * Usage: npm run bench:edge [-- --viewers 10000 --pollers 300 --edge-workers 2 --write docs/benchmarks.md]
 * Needs ~3 descriptors per viewer across the processes: as root the script raises its own limit
 * with prlimit (children inherit it); otherwise run `ulimit -n 65536` first (needs a hard limit
 * that high).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { loadConfig } from '../../src/config.js'
import { buildDeps } from '../../src/server.js'
import { createStreamKey } from '../../src/stream-keys/service.js'
import { startPublisher } from '../../test/support/ffmpeg.js'
import { startEphemeralServices } from '../lib/ephemeral.js'
import { nginxFiles, startNginx } from '../lib/nginx.js'
import { freePort } from '../lib/proc.js'
import { benchOwner } from './lib/owner.js'

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '10000' },
    /** Viewers per source address (below WS_MAX_PER_IP's default 100). */
    'per-address': { type: 'string', default: '80' },
    pollers: { type: 'string', default: '300' },
    messages: { type: 'string', default: '40' },
    'rate-per-s': { type: 'string', default: '4' },
    burst: { type: 'string', default: '1000' },
    /** The edge's worker processes (default: the renderer's, one per CPU and at least 2). */
    'edge-workers': { type: 'string' },
    write: { type: 'string' },
  },
})
const VIEWERS = Number(args.viewers)
const PER_ADDRESS = Number(args['per-address'])
const POLLERS = Number(args.pollers)
const MESSAGES = Number(args.messages)
const RATE = Number(args['rate-per-s'])
const BURST = Number(args.burst)
const OWNER = 'edgebench'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a)

// --- descriptors --------------------------------------------------------------------------------
const want = VIEWERS * 3 + 10_000
// Works with CAP_SYS_RESOURCE only; otherwise the inherited hard limit stays (and sizes nginx).
spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`], { stdio: 'ignore' })
const nofile = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim())
if (nofile < VIEWERS + POLLERS + 1000) {
  console.error(
    `ulimit -n is ${nofile}; ${VIEWERS} viewers need more. Run: ulimit -n ${want} (as root) and retry.`,
  )
  process.exit(1)
}

// --- services, app, nginx, publisher -------------------------------------------------------------
const services = await startEphemeralServices('bench-edge')
const hookSecret = randomBytes(24).toString('base64url')
const [httpPort, rtmpPort, controlPort, internalRtmpPort, appPort] = (await Promise.all(
  Array.from({ length: 5 }, () => freePort()),
)) as [number, number, number, number, number]
const env: Record<string, string> = {
  NODE_ENV: 'production',
  SMTP_URL: 'smtp://127.0.0.1:9', // required in production; this benchmark sends no mail
  LOG_LEVEL: 'warn',
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  REDIS_PREFIX: 'bench:',
  HOOK_SECRET: hookSecret,
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
  ALLOWED_ORIGINS: `http://127.0.0.1:${httpPort}`,
  INGEST_NODES: `bench=http://127.0.0.1:${controlPort}`,
  CHAT_RATE_LIMIT_MOD: '100000',
  CHAT_DUPLICATE_WINDOW_S: '0',
  BENCH_PORT: String(appPort),
}
const { deps, close: closeDeps } = await buildDeps(loadConfig(env))
const { owner, token } = await benchOwner(deps, OWNER)
const { key } = await createStreamKey(deps, owner.id, 'bench')

const app = spawn(
  process.execPath,
  ['--expose-gc', '--import', 'tsx', 'scripts/bench/chat-fanout-server.ts', 'service'],
  {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
let appOut = ''
app.stdout!.on('data', (c: Buffer) => (appOut += c.toString()))
await until('app ready', async () => /ready \d+/.test(appOut), 60_000)

const runDir = mkdtempSync(join(tmpdir(), 'bench-edge-'))
const nginx = await startNginx({
  runDir,
  nodeId: 'bench',
  hookSecret,
  rtmpPort,
  internalRtmpPort,
  httpPort,
  controlPort,
  appUpstreams: [`127.0.0.1:${appPort}`],
  ...(args['edge-workers'] && { edgeWorkers: Number(args['edge-workers']) }),
})
const publisher = startPublisher({ url: `rtmp://127.0.0.1:${rtmpPort}/live/${key}`, durationS: 1800 })
const playlist = `http://127.0.0.1:${httpPort}/hls/${OWNER}/index.m3u8`
await until('HLS playlist', async () => (await fetch(playlist)).status === 200, 30_000)
log('stack up: app', app.pid, 'nginx ingest', nginx.pid, 'edge', nginx.edge.pid, 'publisher', publisher.pid)

// --- HLS pollers ------------------------------------------------------------------------------
let polls = 0
let pollErrors = 0
let polling = true
const pollers = Array.from({ length: POLLERS }, (_, i) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: `127.0.9.${1 + (i % 50)}` })
  return (async () => {
    await sleep(Math.random() * 1000)
    while (polling) {
      const t = Date.now()
      const status = await new Promise<number>((resolve) => {
        const req = request(playlist, { agent }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', () => resolve(0))
        req.end()
      })
      if (status === 200) polls++
      else pollErrors++
      await sleep(Math.max(0, 1000 - (Date.now() - t)))
    }
    agent.destroy()
  })()
})

// --- viewers ------------------------------------------------------------------------------------
type Viewer = { ws: WebSocket; ready: Promise<void> }
const latencies: number[] = []
let measuring = false

function connect(url: string, localAddress: string, origin: string): Viewer {
  const ws = new WebSocket(url, { origin, localAddress, perMessageDeflate: false })
  const ready = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const s = data.toString()
      if (s.startsWith('{"type":"welcome"')) resolve()
      else if (measuring && s.startsWith('{"type":"chat"')) {
        const m = /"text":"t(\d+)"/.exec(s)
        if (m) latencies.push(Date.now() - Number(m[1]))
      }
    })
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
    ws.once('close', () => reject(new Error('closed')))
  })
  ready.catch(() => {})
  return { ws, ready }
}

async function crowd(
  base: string,
  n: number,
  origin: string,
): Promise<{ viewers: Viewer[]; failed: number }> {
  const viewers: Viewer[] = []
  let failed = 0
  const addr = (i: number) =>
    `127.0.${1 + Math.floor(i / PER_ADDRESS / 250)}.${1 + (Math.floor(i / PER_ADDRESS) % 250)}`
  const url = `${base}/ws/channels/${OWNER}`
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, j) => connect(url, addr(i + j), origin))
    const r = await Promise.allSettled(batch.map((v) => v.ready))
    for (const [j, x] of r.entries()) {
      if (x.status === 'fulfilled') viewers.push(batch[j]!)
      else {
        failed++
        batch[j]!.ws.terminate()
      }
    }
  }
  return { viewers, failed }
}

/** 1,000 connecting in the same instant, from addresses the crowd does not use. */
async function burst(
  base: string,
  origin: string,
): Promise<{ ms: number; failed: number; viewers: Viewer[] }> {
  const url = `${base}/ws/channels/${OWNER}`
  const t = performance.now()
  const batch = Array.from({ length: BURST }, (_, i) => connect(url, `127.0.8.${1 + (i % 20)}`, origin))
  const r = await Promise.allSettled(batch.map((v) => v.ready))
  const ms = performance.now() - t
  const viewers = batch.filter((_, i) => r[i]!.status === 'fulfilled')
  return { ms, failed: BURST - viewers.length, viewers }
}

async function chatLatency(
  origin: string,
): Promise<{ p50: number; p99: number; max: number; samples: number }> {
  const ticket = (await (
    await fetch(`http://127.0.0.1:${appPort}/api/v1/chat/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { ticket: string }
  // The speaker sends on the app's own port: what is measured is delivery to the viewers on `base`.
  const speaker = connect(
    `ws://127.0.0.1:${appPort}/ws/channels/${OWNER}?ticket=${ticket.ticket}`,
    '127.0.7.1',
    origin,
  )
  const spoke = await speaker.ready.then(
    () => true,
    (err: Error) => {
      log('speaker refused:', err.message)
      return false
    },
  )
  if (!spoke) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, samples: 0 }
  latencies.length = 0
  measuring = true
  for (let i = 0; i < MESSAGES; i++) {
    speaker.ws.send(JSON.stringify({ type: 'chat.send', text: `t${Date.now()}` }))
    await sleep(1000 / RATE)
  }
  await sleep(3000)
  measuring = false
  speaker.ws.terminate()
  const sorted = [...latencies].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
  return { p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? Number.NaN, samples: sorted.length }
}

// --- memory, CPU, descriptors ----------------------------------------------------------------------
const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
const childrenOf = (pid: number) =>
  spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
/** Both masters and every worker (and the ingest's cache manager). */
const nginxPids = () => [nginx.pid, nginx.edge.pid].flatMap((m) => [m, ...childrenOf(m)])
const edgeWorkerPids = () => childrenOf(nginx.edge.pid)
function nginxRssMb(): number {
  return nginxPids().reduce((s, p) => s + rssKb(p), 0) / 1024
}
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
/** utime + stime of these processes, in seconds. */
function cpuS(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {
      // gone
    }
  }
  return ticks / TICK
}
const fdCount = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return 0
  }
}
async function appRssMb(): Promise<number> {
  const from = appOut.length
  app.kill('SIGUSR2')
  await until('app gc', async () => /gc \{/.test(appOut.slice(from)), 30_000)
  return rssKb(app.pid!) / 1024
}
async function viewerCount(): Promise<number> {
  return (
    (await (await fetch(`http://127.0.0.1:${appPort}/api/v1/channels/${OWNER}`)).json()) as {
      viewers: number
    }
  ).viewers
}

// --- the run ------------------------------------------------------------------------------------------
type Row = {
  path: string
  open: number
  failed: number
  burstMs: number
  burstFailed: number
  nginxMb: number
  appMb: number
  p50: number
  p99: number
  max: number
  samples: number
  nginxCpuS: number
  appCpuS: number
}
const rows: Row[] = []
const idle = { nginxMb: nginxRssMb(), appMb: await appRssMb() }
log('idle RSS', idle)

// What the edge workers can hold together: two connections per viewer, the pollers' keepalive
// connections and a margin for page loads (worker_connections as rendered, see edgeCapacity).
const conf = readFileSync(nginxFiles(runDir, 'edge').config, 'utf8')
const workers = Number(/^worker_processes (\d+);/m.exec(conf)?.[1])
const workerConnections = Number(/worker_connections (\d+);/.exec(conf)?.[1])
const rlimit = /worker_rlimit_nofile (\d+);/.exec(conf)?.[1]
// (measured with one worker: ~500 viewers fewer than this arithmetic still fit: listeners,
// keepalive and closing connections hold slots too).
const nginxCapacity = Math.floor((workers * workerConnections - POLLERS - 200) / 2) - 500 * workers
const probes: string[] = []
let workerFds = ''

for (const path of ['app port', 'nginx'] as const) {
  const base = path === 'nginx' ? `ws://127.0.0.1:${httpPort}` : `ws://127.0.0.1:${appPort}`
  const origin = `http://127.0.0.1:${httpPort}`
  const target = path === 'nginx' ? Math.min(VIEWERS, nginxCapacity) : VIEWERS
  const cpu0 = { nginx: cpuS(nginxPids()), app: cpuS([app.pid!]) }
  log(path, `connecting ${target - BURST} viewers`)
  const c = await crowd(base, target - BURST, origin)
  log(path, `${c.viewers.length} open, ${c.failed} failed; burst of ${BURST}`)
  const b = await burst(base, origin)
  const all = [...c.viewers, ...b.viewers]
  log(path, `burst ${b.ms.toFixed(0)} ms, ${b.failed} failed; viewers counted: ${await viewerCount()}`)
  await sleep(2000)
  const nginxMb = nginxRssMb()
  const appMb = await appRssMb()
  const lat = await chatLatency(origin)
  const open = all.filter((v) => v.ws.readyState === WebSocket.OPEN).length
  const nginxCpuS = cpuS(nginxPids()) - cpu0.nginx
  const appCpuS = cpuS([app.pid!]) - cpu0.app
  if (path === 'nginx') workerFds = edgeWorkerPids().map(fdCount).join(' + ')
  log(path, { open, nginxMb, appMb, nginxCpuS, appCpuS, workerFds, ...lat })
  rows.push({
    path,
    open,
    failed: c.failed,
    burstMs: b.ms,
    burstFailed: b.failed,
    nginxMb,
    appMb,
    nginxCpuS,
    appCpuS,
    ...lat,
  })
  if (target < VIEWERS) {
    // Past the worker's capacity: how many more get in, and how the rest are refused.
    const extra = VIEWERS - target + 200
    const extras = Array.from({ length: extra }, (_, i) =>
      connect(`${base}/ws/channels/${OWNER}`, `127.0.6.${1 + (i % 50)}`, origin),
    )
    all.push(...extras)
    const more = await Promise.allSettled(extras.map((v) => v.ready))
    const reasons = new Map<string, number>()
    for (const r of more)
      if (r.status === 'rejected')
        reasons.set(String(r.reason?.message), (reasons.get(String(r.reason?.message)) ?? 0) + 1)
    const got = more.filter((r) => r.status === 'fulfilled').length
    probes.push(
      `${path}: ${extra} more viewers tried beyond ${target}: ${got} opened, refused ${JSON.stringify(Object.fromEntries(reasons))}`,
    )
    log(probes.at(-1))
  }
  for (const v of all) v.ws.terminate()
  await until('viewers gone', async () => (await viewerCount()) === 0, 120_000)
}
polling = false
await Promise.all(pollers)
const errorLog = readFileSync(join(nginx.logDir, 'edge-error.log'), 'utf8')
const notEnough = errorLog.includes('worker_connections are not enough')
const emfile = (errorLog.match(/Too many open files/g) ?? []).length
const hardNofile = /Max open files\s+\d+\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]

// --- report -----------------------------------------------------------------------------------------
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–')
const table = [
  `| path | viewers open | refused | ${BURST} connecting at once | nginx RSS | app RSS | nginx CPU | app CPU | chat p50 | chat p99 | chat max | deliveries |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.path} | ${r.open} | ${r.failed + r.burstFailed} | ${f(r.burstMs)} ms | ${f(r.nginxMb)} MB | ${f(r.appMb)} MB | ${f(r.nginxCpuS, 1)} s | ${f(r.appCpuS, 1)} s | ${f(r.p50)} ms | ${f(r.p99)} ms | ${f(r.max)} ms | ${r.samples} |`,
  ),
].join('\n')
const summary = [
  `idle RSS before the crowds: nginx ${f(idle.nginxMb)} MB, app ${f(idle.appMb)} MB (after GC).`,
  `HLS: ${POLLERS} players polled the playlist every second through nginx throughout: ${polls} OK, ${pollErrors} failed.`,
  `nginx: RTMP ingest process with worker_processes 1; HTTP edge process with worker_processes ${workers}, each worker_connections ${workerConnections} and worker_rlimit_nofile ${rlimit} (hard nofile limit per process on this machine: ${hardNofile}); capacity ≈ ${nginxCapacity} viewers next to the pollers; descriptors open per edge worker with the crowd connected: ${workerFds}; "worker_connections are not enough" in edge-error.log: ${notEnough ? 'yes' : 'no'}; EMFILE errors: ${emfile}.`,
  `CPU: time nginx (both processes) and the app spent during each path's run (crowd, burst, chat), on ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} shared cores.`,
  ...probes,
  `chat: ${MESSAGES} messages at ${RATE}/s from a signed-in owner; latency = receive time − send time at every viewer (clients, nginx, app, Redis and Postgres share ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores).`,
].join('\n')
console.log(`\n${table}\n\n${summary}\n`)

if (args.write) {
  const section = `## Public edge (\`npm run bench:edge -- --write ${args.write}\`)\n\n${new Date().toISOString().slice(0, 10)}, ${VIEWERS} WebSocket viewers of one live channel from ${Math.ceil(VIEWERS / PER_ADDRESS)} loopback addresses (${PER_ADDRESS} each), the last ${BURST} connecting at once.\n\n${table}\n\n${summary}\n`
  const doc = readFileSync(args.write, 'utf8')
  const start = doc.indexOf('## Public edge')
  // The measured part ends at the next heading: hand-written analysis under a ### heading stays.
  const end = start < 0 ? -1 : doc.slice(start + 1).search(/\n#{2,3} /)
  const rest = end < 0 ? '' : doc.slice(start + 1 + end)
  const next = start < 0 ? `${doc.trimEnd()}\n\n${section}` : `${doc.slice(0, start)}${section}${rest}`
  writeFileSync(args.write, next)
}

// --- teardown -------------------------------------------------------------------------------------------
await publisher.stop()
await nginx.stop()
await stopChild(app)
await closeDeps()
await services.stop()
rmSync(runDir, { recursive: true, force: true })
process.exit(0)

async function stopChild(p: ChildProcess) {
  if (p.exitCode !== null) return
  const exited = new Promise((r) => p.once('exit', r))
  p.kill('SIGTERM')
  if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) {
    p.kill('SIGKILL')
    await exited
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await probe().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await sleep(200)
  }
}
