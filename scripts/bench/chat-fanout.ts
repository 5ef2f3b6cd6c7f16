/**
 * Chat fan-out benchmark: this service (through Redis) against Socket.IO with its Redis adapter
 * and a bare `ws` broadcast loop (the ceiling), same machine, same run, same message size.
 * Each server is a child process (chat-fanout-server.ts) so its RSS and CPU are its own; the
 * viewers and publishers are plain `ws` clients in this process, speaking each server's protocol.
 *
 * Per system and socket count it measures:
 *   - RSS (and JS heap) per idle socket: N idle sockets against a warm baseline (N sockets have
 *     come and gone once), both after full GCs, so one-time costs are not charged to sockets;
 *   - latency: publish-to-receive p50/p99 over every delivery, paced well below saturation;
 *   - throughput: deliveries/s with a window of messages in flight, and the server's CPU time
 *     per delivery (the fairer number on a 2-core box where the clients compete for CPU).
 *
 * Usage: npm run bench:chat [-- --sockets 1000,10000 --write docs/benchmarks.md]
 * The run is bounded: every wait has a deadline, and socket counts are capped by `ulimit -n`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { loadConfig } from '../../src/config.js'
import { buildDeps } from '../../src/server.js'
import { startEphemeralServices } from '../lib/ephemeral.js'
import { benchOwner } from './lib/owner.js'

const { values: args } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000,10000' },
    systems: { type: 'string', default: 'service,socketio,bare' },
    /** Characters of chat text per message (the delivered frame is ~150 bytes more). */
    size: { type: 'string', default: '100' },
    publishers: { type: 'string', default: '4' },
    /** Deliveries per throughput run (messages = this / sockets). */
    deliveries: { type: 'string', default: '2000000' },
    window: { type: 'string', default: '100' },
    /** Paced phase: about this many deliveries per second (the publish rate is this / sockets), for this long. */
    'paced-deliveries': { type: 'string', default: '20000' },
    'paced-seconds': { type: 'string', default: '5' },
    write: { type: 'string' },
  },
})
const SIZE = Number(args.size)
const PUBLISHERS = Number(args.publishers)
const WINDOW = Number(args.window)
const OWNER = 'benchowner'
const RUN_DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 120_000)

// --- limits -----------------------------------------------------------------------------------
const nofile = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 1024
const notes: string[] = []
const socketCounts = args.sockets
  .split(',')
  .map(Number)
  .map((n) => {
    const cap = nofile - 500 // our client sockets + publishers + Postgres/Redis clients + files
    if (n > cap) notes.push(`${n} sockets capped to ${cap}: ulimit -n is ${nofile}`)
    return Math.min(n, cap)
  })

// --- services and fixtures --------------------------------------------------------------------
const services = await startEphemeralServices('bench-chat')
const env: Record<string, string> = {
  NODE_ENV: 'production',
  SMTP_URL: 'smtp://127.0.0.1:9', // required in production; this benchmark sends no mail
  LOG_LEVEL: 'warn',
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  REDIS_PREFIX: 'bench:',
  HOOK_SECRET: randomBytes(24).toString('base64url'),
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  // The publishers are the channel owner: only the moderator rate limit applies. Raised so the
  // benchmark measures fan-out, not the anti-spam rules.
  CHAT_RATE_LIMIT_MOD: '100000',
  CHAT_RATE_WINDOW_S: '1',
  CHAT_FLOOD_FRAMES_PER_S: '10000',
  CHAT_FLOOD_BURST: '100000',
  // Every client of this benchmark connects from 127.0.0.1: the per-address socket cap (a defence
  // measured in bench:edge) would refuse all but 100 of them.
  WS_MAX_PER_IP: '1000000',
}
if (process.env.BENCH_DEBUG) console.error('services up')
const { deps, close: closeDeps } = await buildDeps(loadConfig(env))
const { token } = await benchOwner(deps, OWNER)

// --- child servers ----------------------------------------------------------------------------
type Memory = { rss: number; heapUsed: number; heapTotal: number; external: number }
type Server = {
  proc: ChildProcess
  port: number
  gc(): Promise<Memory>
  cpuMs(): number
  stop(): Promise<void>
}

async function startChild(kind: string): Promise<Server> {
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : []
  const proc = spawn(
    process.execPath,
    ['--expose-gc', ...prof, '--import', 'tsx', 'scripts/bench/chat-fanout-server.ts', kind],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  const waiters: (() => void)[] = []
  proc.stdout!.on('data', (c: Buffer) => {
    debug(`[${kind}] ${c.toString().trim()}`)
    out += c.toString()
    for (const w of waiters.splice(0)) w()
  })
  const waitFor = async (re: RegExp, from: number) => {
    const deadline = Date.now() + 60_000
    while (!re.test(out.slice(from))) {
      if (Date.now() > deadline || proc.exitCode !== null)
        throw new Error(`${kind}: no ${re} (exit ${proc.exitCode})`)
      await new Promise<void>((r) => {
        waiters.push(r)
        setTimeout(r, 200)
      })
    }
  }
  await waitFor(/ready (\d+)/, 0)
  const port = Number(/ready (\d+)/.exec(out)![1])
  const stat = () => readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
  return {
    proc,
    port,
    async gc() {
      const from = out.length
      proc.kill('SIGUSR2')
      await waitFor(/gc \{.*\}\n/, from)
      debug(kind, out.slice(from).trim())
      await sleep(300)
      return JSON.parse(/gc (\{.*\})/.exec(out.slice(from))![1]!) as Memory
    },
    // utime + stime (fields 14 and 15 of /proc/pid/stat; 12 and 13 after the comm split).
    cpuMs: () => ((Number(stat()[11]) + Number(stat()[12])) * 1000) / ticks,
    async stop() {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      const exited = new Promise((r) => proc.once('exit', r))
      if (!(await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]))) {
        proc.kill('SIGKILL')
        await exited
      }
    },
  }
}

const debug = (...a: unknown[]) => process.env.BENCH_DEBUG && console.error(...a)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// --- the protocols, as the clients speak them -------------------------------------------------
type Proto = {
  viewerUrl(port: number): Promise<string> | string
  publisherUrl(port: number): Promise<string> | string
  /** Resolves when the socket is a member of the channel and receiving. */
  ready(ws: WebSocket): Promise<void>
  publish(ws: WebSocket, text: string, i: number): void
}

const frameLike = (text: string, i: number) =>
  JSON.stringify({
    type: 'chat',
    id: randomUUID(),
    seq: i + 1,
    user: { username: OWNER, role: 'owner' },
    text,
    ts: new Date().toISOString(),
  })

/**
 * Frames received before anyone listened: ws can emit a frame that came in the same TCP read as
 * the 101 response before an `await` after 'open' resumes, so every socket records from birth.
 */
const early = new WeakMap<WebSocket, string[]>()

const firstMessage = (ws: WebSocket, pred: (s: string) => boolean) =>
  new Promise<void>((resolve, reject) => {
    const seen = early.get(ws) ?? []
    if (seen.some(pred)) return resolve()
    const on = (d: Buffer) => {
      if (!pred(d.toString())) return
      ws.off('message', on)
      resolve()
    }
    ws.on('message', on)
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`closed with ${code} before it was ready`)))
  })

const PROTOCOLS: Record<string, Proto> = {
  service: {
    viewerUrl: (port) => `ws://127.0.0.1:${port}/ws/channels/${OWNER}`,
    async publisherUrl(port) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/chat/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      const { ticket } = (await res.json()) as { ticket: string }
      return `ws://127.0.0.1:${port}/ws/channels/${OWNER}?ticket=${ticket}`
    },
    ready: (ws) => firstMessage(ws, (s) => s.startsWith('{"type":"welcome"')),
    publish: (ws, text) => ws.send(JSON.stringify({ type: 'chat.send', text })),
  },
  socketio: {
    viewerUrl: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    publisherUrl: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    async ready(ws) {
      // Engine.IO: answer pings for the life of the socket; "40" connects to the default namespace.
      ws.on('message', (d: Buffer) => {
        if (d.length === 1 && d[0] === 0x32) ws.send('3')
      })
      const open = firstMessage(ws, (s) => s.startsWith('0{'))
      await open
      const connected = firstMessage(ws, (s) => s.startsWith('40'))
      ws.send('40')
      await connected
    },
    publish: (ws, text, i) => ws.send(`42["pub",${frameLike(text, i)}]`),
  },
  bare: {
    viewerUrl: (port) => `ws://127.0.0.1:${port}/`,
    publisherUrl: (port) => `ws://127.0.0.1:${port}/`,
    ready: async () => {},
    publish: (ws, text, i) => ws.send(frameLike(text, i)),
  },
}

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const seen: string[] = []
    early.set(ws, seen)
    const record = (d: Buffer) => seen.length < 8 && seen.push(d.toString())
    ws.on('message', record)
    ws.once('open', () => {
      resolve(ws)
      setTimeout(() => ws.off('message', record), 5000).unref()
    })
    ws.once('error', reject)
    ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)))
  })
}

async function connectMany(n: number, url: () => Promise<string> | string, proto: Proto, concurrency = 200) {
  const sockets: WebSocket[] = []
  let next = 0
  let readied = 0
  const progress = setInterval(() => debug('connecting', next, 'ready', readied), 2000)
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++
        const ws = await connect(await url())
        const ready = proto.ready(ws)
        sockets.push(ws)
        await ready
        readied++
      }
    }),
  )
  clearInterval(progress)
  return sockets
}

// --- measurement ------------------------------------------------------------------------------
/** Latency histogram in 0.1 ms buckets up to 30 s. */
class Histogram {
  private buckets = new Uint32Array(300_000)
  count = 0
  add(ms: number) {
    this.buckets[Math.min(this.buckets.length - 1, Math.max(0, Math.round(ms * 10)))]!++
    this.count++
  }
  quantile(q: number): number {
    let seen = 0
    const target = q * this.count
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!
      if (seen >= target) return i / 10
    }
    return Number.NaN
  }
}

/** Counts deliveries of marked messages (`#<index>@<sent ms>#`) on the viewer sockets. */
class Tracker {
  hist = new Histogram()
  delivered = 0
  perMessage: Uint32Array
  complete = 0
  lastAt = 0
  onComplete: () => void = () => {}
  constructor(
    messages: number,
    readonly sockets: number,
  ) {
    this.perMessage = new Uint32Array(messages)
  }
  receive(d: Buffer) {
    const h = d.indexOf(0x23) // '#'
    if (h < 0) return
    const end = d.indexOf(0x23, h + 1)
    const [idx, sent] = d.toString('latin1', h + 1, end).split('@')
    const now = performance.now()
    this.hist.add(now - Number(sent))
    this.delivered++
    this.lastAt = now
    const i = Number(idx)
    if (++this.perMessage[i]! === this.sockets) {
      this.complete++
      this.onComplete()
    }
  }
}

const textFor = (i: number) => {
  const marker = `#${i}@${performance.now().toFixed(3)}#`
  return marker + 'x'.repeat(Math.max(0, SIZE - marker.length))
}

/** The tracker the viewers' deliveries go to right now. */
let current: Tracker | null = null

type Row = {
  system: string
  sockets: number
  deliveriesPerS: number
  p50: number
  p99: number
  loadP99: number
  cpuUsPerDelivery: number
  rssPerSocket: number
  heapPerSocket: number
  lost: number
}

async function runOne(system: string, n: number): Promise<Row> {
  const proto = PROTOCOLS[system]!
  const server = await startChild(system)
  try {
    debug('server up', server.port)
    const publishers = await connectMany(PUBLISHERS, () => proto.publisherUrl(server.port), proto, PUBLISHERS)
    // Warm-up: a few messages through the whole path before anything is measured.
    for (let i = 0; i < 20; i++)
      proto.publish(publishers[i % PUBLISHERS]!, `warm-up ${i} ${'x'.repeat(SIZE)}`, i)
    for (const p of publishers) {
      p.on('message', (d: Buffer) => {
        if (d.includes('"type":"error"')) debug('publisher got', d.toString())
      })
    }
    debug('publishers connected')
    await sleep(500)
    // Memory per idle socket against a warm baseline: N sockets come and go once first, so the
    // one-time costs (JIT code, heap and malloc arenas grown by a connect storm) are already paid
    // when the baseline is read, then N sockets connect again and stay.
    for (const ws of await connectMany(n, () => proto.viewerUrl(server.port), proto)) ws.terminate()
    await sleep(3000)
    const baseline = await server.gc()
    const viewers = await connectMany(n, () => proto.viewerUrl(server.port), proto)
    debug('viewers connected')
    await sleep(2000)
    const full = await server.gc()
    const rssPerSocket = (full.rss - baseline.rss) / n
    const heapPerSocket = (full.heapUsed + full.external - baseline.heapUsed - baseline.external) / n
    for (const v of viewers) v.on('message', (d: Buffer) => current?.receive(d))

    // Paced: a steady trickle, for latency without queueing.
    const rate = Number(args['paced-deliveries']) / n
    const paced = Math.max(5, Math.round(rate * Number(args['paced-seconds'])))
    let tracker = new Tracker(paced, n)
    const attach = (t: Tracker) => {
      current = t
    }
    attach(tracker)
    for (let i = 0; i < paced; i++) {
      proto.publish(publishers[i % PUBLISHERS]!, textFor(i), i)
      await sleep(1000 / rate)
    }
    if (!(await until(() => tracker.complete === paced, 20_000))) {
      throw new Error(`${system}: only ${tracker.delivered} of ${paced * n} paced deliveries arrived`)
    }
    const pacedHist = tracker.hist
    debug('paced done', tracker.complete)

    // Throughput: keep WINDOW messages in flight until every socket has each one.
    const total = Math.max(WINDOW, Math.ceil(Number(args.deliveries) / n))
    tracker = new Tracker(total, n)
    attach(tracker)
    let sent = 0
    const pump = () => {
      while (sent < total && sent - tracker.complete < WINDOW) {
        proto.publish(publishers[sent % PUBLISHERS]!, textFor(sent), sent)
        sent++
      }
    }
    tracker.onComplete = pump
    const cpu0 = server.cpuMs()
    const t0 = performance.now()
    pump()
    const progress = setInterval(
      () => debug('sent', sent, 'complete', tracker.complete, 'delivered', tracker.delivered),
      2000,
    )
    const finished = await until(() => tracker.complete === total, RUN_DEADLINE_MS)
    clearInterval(progress)
    const elapsedS = ((finished ? tracker.lastAt : performance.now()) - t0) / 1000
    const cpuMs = server.cpuMs() - cpu0
    for (const v of viewers) v.terminate()
    for (const p of publishers) p.terminate()
    return {
      system,
      sockets: n,
      deliveriesPerS: tracker.delivered / elapsedS,
      p50: pacedHist.quantile(0.5),
      p99: pacedHist.quantile(0.99),
      loadP99: tracker.hist.quantile(0.99),
      cpuUsPerDelivery: (cpuMs * 1000) / tracker.delivered,
      rssPerSocket,
      heapPerSocket,
      lost: total * n - tracker.delivered,
    }
  } finally {
    await server.stop()
  }
}

/** Waits for `probe`; gives up at the deadline or after 15 s without a new delivery. */
async function until(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let last = current?.delivered ?? 0
  let lastChange = Date.now()
  while (!probe()) {
    const now = Date.now()
    if ((current?.delivered ?? 0) !== last) {
      last = current?.delivered ?? 0
      lastChange = now
    }
    if (now > deadline || now - lastChange > 15_000) return false
    await sleep(20)
  }
  return true
}

// --- run and report ---------------------------------------------------------------------------
const NAMES: Record<string, string> = {
  service: 'this service (via Redis)',
  socketio: 'Socket.IO 4 + redis-adapter',
  bare: 'bare ws broadcast loop',
}
const rows: Row[] = []
try {
  for (const n of socketCounts) {
    for (const system of args.systems.split(',')) {
      process.stdout.write(`${system} × ${n} sockets … `)
      const row = await runOne(system, n)
      rows.push(row)
      console.log(
        `${Math.round(row.deliveriesPerS)} deliveries/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${(row.rssPerSocket / 1024).toFixed(1)} KB/socket`,
      )
      await sleep(1000)
    }
  }
} finally {
  await closeDeps()
  await services.stop()
}

const fmt = (x: number, d = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—'
const ceiling = (n: number) => rows.find((r) => r.system === 'bare' && r.sockets === n)?.deliveriesPerS
const header = [
  `Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}; ${new Date().toISOString().slice(0, 10)}.`,
  `Text ${SIZE} characters (frames ≈ ${SIZE + 150} bytes), ${PUBLISHERS} publishers, ${WINDOW} messages in flight,`,
  `latency (p50/p99) paced at ~${args['paced-deliveries']} deliveries/s, so no system is saturated; servers are child`,
  `processes, all clients share this process. ulimit -n ${nofile}. Memory: N idle sockets against a warm baseline,`,
  'after full GCs (at 1 000 sockets the RSS reading is within allocator noise of a few KB per socket).',
  ...notes,
].join('\n')
const table = [
  '| system | sockets | deliveries/s | vs bare | server CPU µs/delivery | p50 ms | p99 ms | p99 ms saturated | RSS/idle socket | JS heap/idle socket | lost |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const c = ceiling(r.sockets)
    return `| ${NAMES[r.system]} | ${fmt(r.sockets)} | ${fmt(r.deliveriesPerS)} | ${c ? `${fmt((100 * r.deliveriesPerS) / c)} %` : '—'} | ${fmt(r.cpuUsPerDelivery, 2)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.loadP99, 1)} | ${fmt(r.rssPerSocket / 1024, 1)} KB | ${fmt(r.heapPerSocket / 1024, 1)} KB | ${fmt(r.lost)} |`
  }),
].join('\n')
console.log(`\n${header}\n\n${table}\n`)
if (args.write) {
  const doc = readFileSync(args.write, 'utf8')
  const section = `<!-- chat:begin -->\n${header}\n\n${table}\n<!-- chat:end -->`
  if (!doc.includes('<!-- chat:begin -->')) throw new Error(`${args.write} has no <!-- chat:begin --> marker`)
  writeFileSync(args.write, doc.replace(/<!-- chat:begin -->[\s\S]*<!-- chat:end -->/, section))
  console.log(`written to ${args.write}`)
}
process.exit(0)
