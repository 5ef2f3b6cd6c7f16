/**
 * @module nginx — renders nginx/nginx.conf.template for one ingest node and
 * runs it as two foreground nginx processes, stopped by PID: the **ingest**
 * (RTMP, HLS packager, control server; one worker, for /control/drop) and the
 * **edge** (the public HTTP/HTTPS origin and the RTMPS proxy; several workers,
 * because the descriptor limit that caps the audience is per process). Owns
 * the validation of every rendered value: each lands unquoted in nginx config
 * or in a hook URL, so anything outside a strict alphabet is refused rather
 * than escaped. Also resolves the template's sections: the two roles, the
 * optional HTTPS server and RTMPS stream proxy, and the public site body the
 * HTTP and HTTPS servers share.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import {
  isPortFree,
  type ProcHandle,
  readPidFile,
  sleep,
  spawnLogged,
  tailFile,
  waitForTcp,
  waitUntil,
} from './proc.js'

export interface NginxOptions {
  runDir: string
  nodeId: string
  hookSecret: string
  rtmpPort: number
  /** default 127.0.0.1 */
  rtmpBind?: string
  internalRtmpPort: number
  httpPort: number
  /** default 127.0.0.1 */
  httpBind?: string
  controlPort: number
  appUpstreams: string[]
  /** default 30 */
  notifyUpdateTimeoutS?: number
  /** default 30: a backstop; the app drops idle publishers first (IDLE_TIMEOUT_S) so it can record why */
  dropIdlePublisherS?: number
  /** Control server (hooks, /stat, /control) bind address; default 127.0.0.1. */
  controlBind?: string
  /** Extra addresses/CIDRs allowed on the control server besides 127.0.0.1 (app containers). */
  controlAllow?: string[]
  /** Also serve the public origin over TLS (HTTPS, WSS) on this port, bound like httpPort. */
  httpsPort?: number
  /** Accept RTMPS on this port (bound like rtmpPort): nginx's stream module ends TLS, relays to rtmpPort. */
  rtmpsPort?: number
  /** PEM certificate chain (leaf first) and key for httpsPort and rtmpsPort; required with either. */
  tlsCertFile?: string
  tlsKeyFile?: string
  /**
   * Proxies in FRONT of this nginx (load balancers) whose X-Forwarded-For the public server
   * believes (realip, right-most untrusted). Default none: nginx is the edge. Never list client
   * networks here.
   */
  trustedProxies?: string[]
  /**
   * `host:port` of the app's analytics listener (ANALYTICS_LOG_PORT): the edge sends it one syslog
   * line per HLS segment served (src/analytics/). Unset: nothing is sent.
   */
  analyticsLog?: string
  /**
   * Each edge worker's connection budget, default 32768: each proxied WebSocket viewer takes two
   * (client + upstream). Descriptors are raised to match, or both are scaled down to the hard
   * `nofile` limit when that cannot be raised (edgeCapacity).
   */
  workerConnections?: number
  /**
   * The edge's worker processes, default one per CPU (at least 2). The descriptor limit is per
   * process, so a node holds about edgeWorkers × workerConnections / 2 viewers.
   */
  edgeWorkers?: number
  /** Per-client-address limits on the public origin (nginx limit_req/limit_conn); see nginx/README.md. */
  limits?: EdgeLimits
  /**
   * Recordings, videos and live thumbnails (the app's MEDIA_DIR: recordings/, videos/, thumbs/),
   * shared with the app; default <runDir>/media.
   */
  mediaDir?: string
}

export interface EdgeLimits {
  /** Sustained requests per second per address (default 50), with a burst (default 200). */
  requestsPerS?: number
  requestBurst?: number
  /** /api/v1/auth/* per address per minute (default 60), with a burst (default 30). */
  authPerMin?: number
  authBurst?: number
  /** Concurrent connections per address outside /ws/ (default 256). */
  connectionsPerAddr?: number
  /** Concurrent /ws/ sockets per address (default 200, above the app's WS_MAX_PER_IP default 100). */
  websocketsPerAddr?: number
}

export const EDGE_LIMIT_DEFAULTS: Required<EdgeLimits> = {
  requestsPerS: 50,
  requestBurst: 200,
  authPerMin: 60,
  authBurst: 30,
  connectionsPerAddr: 256,
  websocketsPerAddr: 200,
}
export const DEFAULT_WORKER_CONNECTIONS = 32_768
/**
 * The ingest's one worker: publishers, their relays to the packager (two connections each), hook
 * calls and /stat, /control requests; viewers never connect to it.
 */
export const INGEST_WORKER_CONNECTIONS = 4096

/** Which of the two nginx processes of a node a config is for (see the module comment). */
export type NginxRole = 'ingest' | 'edge'
export const NGINX_ROLES: readonly NginxRole[] = ['ingest', 'edge']

/**
 * One per CPU (what `worker_processes auto` would pick), but at least two: on a one-CPU machine a
 * second worker still doubles the descriptors the audience can use.
 */
export const defaultEdgeWorkers = () => Math.max(2, availableParallelism())

export interface NginxHandle {
  /** The ingest master (RTMP, control server): what dies when "the ingest node dies". */
  pid: number
  hlsDir: string
  /** Both processes' logs: ingest-error.log, hook-fallback.log, edge-error.log, edge-access.log. */
  logDir: string
  /** http://127.0.0.1:<controlPort> */
  controlUrl: string
  /** The public HTTP edge's master (HTTP/HTTPS origin, RTMPS proxy). */
  edge: { pid: number; kill(signal?: NodeJS.Signals): void }
  /** Stops both processes. */
  stop(): Promise<void>
  /** Signals the ingest process only (SIGKILL: its workers too); the edge keeps serving. */
  kill(signal?: NodeJS.Signals): void
  /** The master's exit, for a supervisor that restarts a dead nginx. */
  ended: ProcHandle['ended']
}

const RTMP_MODULE_PATH = '/usr/lib/nginx/modules/ngx_rtmp_module.so'
// Debian's libnginx-mod-stream; loaded only when RTMPS is on.
export const STREAM_MODULE_PATH = '/usr/lib/nginx/modules/ngx_stream_module.so'
const TEMPLATE_URL = new URL('../../nginx/nginx.conf.template', import.meta.url)
// Debian keeps nginx in /usr/sbin, which a non-root PATH often lacks.
const NGINX_BIN = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx'
const START_TIMEOUT_MS = 15_000

const NODE_ID = /^[a-z0-9-]{1,32}$/
// URL-unreserved characters only: the secret goes into hook URLs unescaped,
// and none of these characters mean anything to the nginx config parser.
const HOOK_SECRET = /^[A-Za-z0-9._~-]{16,256}$/
const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/

function fail(field: string, why: string): never {
  throw new Error(`nginx config: ${field} ${why}`)
}

function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(field, `must be a TCP port, got ${port}`)
  return port
}

function checkSeconds(field: string, s: number): number {
  if (!Number.isInteger(s) || s < 1 || s > 3600) fail(field, `must be whole seconds in 1..3600, got ${s}`)
  return s
}

/** An IP literal as nginx's `listen` wants it (IPv6 in brackets). */
function listenHost(field: string, host: string): string {
  const family = isIP(host)
  if (family === 4) return host
  if (family === 6) return `[${host}]`
  return fail(field, `must be an IP address, got ${JSON.stringify(host)}`)
}

function checkUpstream(entry: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry)
  const host = m?.[1] ?? ''
  const hostOk = host.startsWith('[')
    ? isIP(host.slice(1, -1)) === 6
    : isIP(host) === 4 || HOSTNAME.test(host)
  if (!m || !hostOk) fail('appUpstreams', `entries must be host:port, got ${JSON.stringify(entry)}`)
  checkPort('appUpstreams', Number(m[2]))
  return entry
}

function checkCidr(entry: string, field = 'controlAllow'): string {
  const [addr = '', bits, extra] = entry.split('/')
  const family = isIP(addr)
  const max = family === 4 ? 32 : 128
  const ok =
    family !== 0 &&
    extra === undefined &&
    (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max))
  if (!ok) fail(field, `entries must be IP addresses or CIDR ranges, got ${JSON.stringify(entry)}`)
  return entry
}

function checkCount(field: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max)
    fail(field, `must be a whole number in ${min}..${max}, got ${n}`)
  return n
}

/**
 * The hard RLIMIT_NOFILE of this process (what nginx, its child, inherits), or undefined where
 * /proc is unavailable. Only CAP_SYS_RESOURCE may raise it (see canRaiseFileLimit).
 */
export function hardFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const hard = line?.trim().split(/\s+/)[4]
    if (hard === 'unlimited') return Number.MAX_SAFE_INTEGER
    return hard === undefined ? undefined : Number(hard)
  } catch {
    return undefined
  }
}

/**
 * Whether nginx's worker may raise its descriptor limit above the inherited hard limit: that
 * takes CAP_SYS_RESOURCE (bit 24 of CapEff), which root in a container often lacks (measured:
 * "setrlimit(RLIMIT_NOFILE, 66560) failed (1: Operation not permitted)" as root here).
 */
export function canRaiseFileLimit(): boolean {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 24n)) !== 0n
  } catch {
    return process.geteuid?.() === 0
  }
}

/**
 * The worker's connections and descriptors: one descriptor per connection (a proxied viewer is
 * two connections) plus headroom for HLS files, logs and listeners. When the limit cannot be
 * raised, connections are scaled down to fit the hard limit: then a full worker refuses new
 * connections ("worker_connections are not enough") instead of failing accept() and HLS file
 * opens with EMFILE for everyone.
 */
export function edgeCapacity(
  wanted: number,
  canRaise: boolean,
  hard = hardFileLimit(),
): { workerConnections: number; rlimitNofile: number } {
  const headroom = 1024
  let rlimitNofile = wanted + headroom
  let workerConnections = wanted
  if (!canRaise && hard !== undefined && rlimitNofile > hard) {
    rlimitNofile = hard
    workerConnections = Math.max(512, hard - headroom)
  }
  return { workerConnections, rlimitNofile }
}

function checkRunDir(runDir: string): string {
  const abs = resolve(runDir)
  if (!SAFE_PATH.test(abs)) fail('runDir', `may only contain [A-Za-z0-9._/+-], got ${JSON.stringify(abs)}`)
  return abs
}

/** Certificate and key paths land unquoted in ssl_certificate(_key): same alphabet as runDir. */
function checkTlsFile(field: string, path: string | undefined): string {
  if (path === undefined || path === '') return fail(field, 'is required with httpsPort or rtmpsPort')
  const abs = resolve(path)
  if (!SAFE_PATH.test(abs)) fail(field, `may only contain [A-Za-z0-9._/+-], got ${JSON.stringify(abs)}`)
  return abs
}

/**
 * Where the RTMPS proxy delivers: the RTMP ingest listener as seen from this host. A wildcard bind
 * is reached over loopback; a specific address is used as is.
 */
function rtmpsUpstream(rtmpBind: string, rtmpPort: number): string {
  return `${listenHost('rtmpBind', probeHost(rtmpBind))}:${rtmpPort}`
}

function placeholders(opts: NginxOptions, role: NginxRole): Record<string, string> {
  if (!NODE_ID.test(opts.nodeId)) fail('nodeId', 'must match ^[a-z0-9-]{1,32}$')
  // Never echo the secret itself in the error.
  if (!HOOK_SECRET.test(opts.hookSecret))
    fail('hookSecret', 'must be 16-256 URL-safe characters [A-Za-z0-9._~-]')
  const ports: Record<string, number> = {
    rtmpPort: checkPort('rtmpPort', opts.rtmpPort),
    internalRtmpPort: checkPort('internalRtmpPort', opts.internalRtmpPort),
    httpPort: checkPort('httpPort', opts.httpPort),
    controlPort: checkPort('controlPort', opts.controlPort),
  }
  if (opts.httpsPort !== undefined) ports.httpsPort = checkPort('httpsPort', opts.httpsPort)
  if (opts.rtmpsPort !== undefined) ports.rtmpsPort = checkPort('rtmpsPort', opts.rtmpsPort)
  const count = Object.keys(ports).length
  if (new Set(Object.values(ports)).size !== count)
    fail('ports', `must be ${count} different ports, got ${JSON.stringify(ports)}`)
  const tls = opts.httpsPort !== undefined || opts.rtmpsPort !== undefined
  if (opts.appUpstreams.length === 0) fail('appUpstreams', 'must name at least one host:port')
  const runDir = checkRunDir(opts.runDir)
  // Workers of a root master run as "nobody" by default and could not write
  // HLS files or temp bodies under a root-owned run dir.
  const asRoot = process.geteuid?.() === 0

  // Validated for both roles, so a bad value fails whichever config is rendered first.
  const edgeConnections = checkCount(
    'workerConnections',
    opts.workerConnections ?? DEFAULT_WORKER_CONNECTIONS,
    512,
    1_000_000,
  )
  const edgeWorkers = checkCount('edgeWorkers', opts.edgeWorkers ?? defaultEdgeWorkers(), 1, 256)
  const capacity = edgeCapacity(
    role === 'edge' ? edgeConnections : INGEST_WORKER_CONNECTIONS,
    canRaiseFileLimit(),
  )
  const lim = { ...EDGE_LIMIT_DEFAULTS, ...opts.limits }
  const trusted = (opts.trustedProxies ?? []).map((a) => checkCidr(a, 'trustedProxies'))

  return {
    ROLE: role,
    RTMP_MODULE_PATH,
    ...(role === 'edge' && { WORKER_PROCESSES: String(edgeWorkers) }),
    WORKER_CONNECTIONS: String(capacity.workerConnections),
    WORKER_RLIMIT_NOFILE: String(capacity.rlimitNofile),
    // The kernel caps it at net.core.somaxconn; a thousand viewers can knock at once.
    LISTEN_BACKLOG: '4096',
    REAL_IP: trusted.length
      ? [
          ...trusted.map((a) => `        set_real_ip_from ${a};`),
          '        real_ip_header X-Forwarded-For;',
          '        real_ip_recursive on;',
        ].join('\n')
      : '        # (no TRUSTED_PROXIES in front of nginx: the TCP peer is the client)',
    TRUSTED_PROXY_GEO: trusted.map((a) => `        ${a} 1;`).join('\n'),
    HLS_ANALYTICS_LOG: opts.analyticsLog
      ? `            access_log syslog:server=${checkUpstream(opts.analyticsLog)},nohostname,tag=lvhls,severity=info analytics if=$hls_segment;`
      : '            # (no analytics listener: HLS requests are only in the access log)',
    LIMIT_REQ_PER_S: String(checkCount('limits.requestsPerS', lim.requestsPerS, 1, 100_000)),
    LIMIT_REQ_BURST: String(checkCount('limits.requestBurst', lim.requestBurst, 0, 1_000_000)),
    LIMIT_AUTH_PER_MIN: String(checkCount('limits.authPerMin', lim.authPerMin, 1, 1_000_000)),
    LIMIT_AUTH_BURST: String(checkCount('limits.authBurst', lim.authBurst, 0, 1_000_000)),
    LIMIT_CONN_PER_ADDR: String(
      checkCount('limits.connectionsPerAddr', lim.connectionsPerAddr, 1, 1_000_000),
    ),
    LIMIT_WS_PER_ADDR: String(checkCount('limits.websocketsPerAddr', lim.websocketsPerAddr, 1, 1_000_000)),
    USER_DIRECTIVE: asRoot ? 'user root;' : '',
    RUN_DIR: runDir,
    LOG_DIR: join(runDir, 'logs'),
    // Per role: two masters never share (or clean up) each other's temp files.
    TMP_DIR: join(runDir, 'tmp', role),
    HLS_DIR: join(runDir, 'hls'),
    ...mediaDirs(opts.mediaDir === undefined ? join(runDir, 'media') : checkRunDir(opts.mediaDir)),
    NODE_ID: opts.nodeId,
    HOOK_SECRET: opts.hookSecret,
    RTMP_BIND: listenHost('rtmpBind', opts.rtmpBind ?? '127.0.0.1'),
    RTMP_PORT: String(ports.rtmpPort),
    INTERNAL_RTMP_PORT: String(ports.internalRtmpPort),
    HTTP_BIND: listenHost('httpBind', opts.httpBind ?? '127.0.0.1'),
    HTTP_PORT: String(ports.httpPort),
    CONTROL_PORT: String(ports.controlPort),
    CONTROL_BIND: listenHost('controlBind', opts.controlBind ?? '127.0.0.1'),
    CONTROL_ALLOW: (opts.controlAllow ?? []).map((a) => `        allow ${checkCidr(a)};`).join('\n'),
    APP_UPSTREAMS: opts.appUpstreams.map((u) => `        server ${checkUpstream(u)} max_fails=0;`).join('\n'),
    NOTIFY_UPDATE_S: String(checkSeconds('notifyUpdateTimeoutS', opts.notifyUpdateTimeoutS ?? 30)),
    DROP_IDLE_S: String(checkSeconds('dropIdlePublisherS', opts.dropIdlePublisherS ?? 30)),
    // Only present when their section is rendered, so a template that used them elsewhere would
    // fail to render instead of printing an empty value.
    ...(tls && {
      TLS_CERT_FILE: checkTlsFile('tlsCertFile', opts.tlsCertFile),
      TLS_KEY_FILE: checkTlsFile('tlsKeyFile', opts.tlsKeyFile),
    }),
    ...(opts.httpsPort !== undefined && { HTTPS_PORT: String(opts.httpsPort) }),
    ...(opts.rtmpsPort !== undefined && {
      STREAM_MODULE_PATH,
      RTMPS_PORT: String(opts.rtmpsPort),
      RTMPS_UPSTREAM: rtmpsUpstream(opts.rtmpBind ?? '127.0.0.1', opts.rtmpPort),
    }),
  }
}

/** The media subdirectories (videos/ in the app names the same ones, config MEDIA_DIR). */
export function mediaDirs(mediaDir: string) {
  return {
    RECORD_DIR: join(mediaDir, 'recordings'),
    VIDEOS_DIR: join(mediaDir, 'videos'),
    THUMBS_DIR: join(mediaDir, 'thumbs'),
  }
}

/** Which template sections are rendered in place; every section can also be copied with {{>name}}. */
function sections(opts: NginxOptions, role: NginxRole): Record<string, boolean> {
  const edge = role === 'edge'
  return {
    ingest: role === 'ingest',
    edge,
    public_site: edge,
    // Public listeners, and RTMPS is one: TLS ends in the edge, which relays to the ingest's RTMP port.
    https: edge && opts.httpsPort !== undefined,
    rtmps: edge && opts.rtmpsPort !== undefined,
    tls_params: false,
  }
}

const SECTION = /^\{\{#([a-z_]+)\}\}\n([\s\S]*?)^\{\{\/\1\}\}\n/gm
const PARTIAL = /^\{\{>([a-z_]+)\}\}\n/gm

/**
 * Resolves {{#name}}…{{/name}} sections and {{>name}} copies (see the template's header). A
 * section may sit inside another of a different name (public_site inside edge): each pass
 * resolves the outermost ones, and what a dropped section contained is gone with it.
 */
export function expandSections(template: string, on: Record<string, boolean>): string {
  const bodies = new Map<string, string[]>()
  let kept = template
  for (let found = true; found; ) {
    found = false
    kept = kept.replace(SECTION, (_, name: string, body: string) => {
      if (!(name in on)) throw new Error(`nginx config: template section {{#${name}}} is unknown`)
      found = true
      bodies.set(name, [...(bodies.get(name) ?? []), body])
      return on[name] ? body : ''
    })
  }
  const out = kept.replace(PARTIAL, (_, name: string) => {
    const found = bodies.get(name) ?? []
    if (found.length !== 1)
      throw new Error(`nginx config: {{>${name}}} needs exactly one {{#${name}}} section`)
    return found[0]!
  })
  const stray = /^\{\{[#/>].*$/m.exec(out)
  if (stray) throw new Error(`nginx config: unmatched section marker ${stray[0]}`)
  return out
}

/** The config of one of the node's two nginx processes. */
export function renderNginxConfig(opts: NginxOptions, role: NginxRole): string {
  const values = placeholders(opts, role)
  const template = expandSections(readFileSync(TEMPLATE_URL, 'utf8'), sections(opts, role))
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name: string) => {
    const value = values[name]
    // Template and renderer must stay in step; a silent empty value could
    // e.g. drop a listen address.
    if (value === undefined) throw new Error(`nginx config: template placeholder {{${name}}} has no value`)
    return value
  })
}

/** Where each role's config, pid file and early output live under runDir (logs: see the template). */
export function nginxFiles(runDir: string, role: NginxRole) {
  const dir = resolve(runDir)
  return {
    // The ingest's keeps its old name: it holds the hook secret (mode 0600), and tests skip it by name.
    config: join(dir, role === 'ingest' ? 'nginx.conf' : 'nginx-edge.conf'),
    pid: join(dir, `${role}.pid`),
    // Output from before error_log is open (e.g. a module that fails to load).
    out: join(dir, 'logs', `${role}.out.log`),
    errorLog: join(dir, 'logs', `${role}-error.log`),
  }
}

/** The addresses a role listens on, probed once its pid file proves the binds are its own. */
function listeners(opts: NginxOptions, role: NginxRole): [string, number][] {
  const rtmpBind = opts.rtmpBind ?? '127.0.0.1'
  const httpBind = opts.httpBind ?? '127.0.0.1'
  if (role === 'ingest')
    return [
      [rtmpBind, opts.rtmpPort],
      ['127.0.0.1', opts.internalRtmpPort],
      [opts.controlBind ?? '127.0.0.1', opts.controlPort],
    ]
  return [
    [httpBind, opts.httpPort],
    ...(opts.httpsPort === undefined ? [] : [[httpBind, opts.httpsPort] as [string, number]]),
    ...(opts.rtmpsPort === undefined ? [] : [[rtmpBind, opts.rtmpsPort] as [string, number]]),
  ]
}

interface RoleProcess {
  pid: number
  kill(signal?: NodeJS.Signals): void
  stop(): Promise<void>
  /** Resolves once this process is serving; on failure stops it and rejects with its log tails. */
  ready: Promise<void>
  ended: ProcHandle['ended']
}

const nginxArgs = (runDir: string, role: NginxRole) => [
  '-p',
  `${runDir}/`,
  '-c',
  nginxFiles(runDir, role).config,
]

/** `nginx -t` on a written config: a mistake is reported before anything starts. */
function testConfig(runDir: string, role: NginxRole): void {
  const test = spawnSync(NGINX_BIN, ['-t', '-q', ...nginxArgs(runDir, role)], { encoding: 'utf8' })
  if (test.error) throw new Error(`nginx -t could not run: ${test.error.message}`)
  if (test.status !== 0)
    throw new Error(`nginx -t rejected ${nginxFiles(runDir, role).config}:\n${test.stderr.trim()}`)
}

/** Runs one role's (tested) config in the foreground. */
function runRole(opts: NginxOptions, role: NginxRole): RoleProcess {
  const runDir = resolve(opts.runDir)
  const files = nginxFiles(runDir, role)
  rmSync(files.pid, { force: true })

  const proc = spawnLogged(NGINX_BIN, nginxArgs(runDir, role), { logFile: files.out })
  let running = true
  void proc.exited.then(() => {
    running = false
  })
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!running) return
    // The master relays other signals to its workers; a SIGKILLed master
    // cannot, and orphaned workers would keep serving our ports.
    const target = signal === 'SIGKILL' ? -proc.pid : proc.pid
    try {
      process.kill(target, signal)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }
  const stop = async () => {
    // A master that died (SIGKILL from outside) may leave workers holding the ports: reap its group.
    if (!running) return proc.stop()
    // QUIT lets HTTP requests finish but waits forever for RTMP sessions (and
    // the edge's WebSockets) to end; TERM closes them; proc.stop SIGKILLs the
    // group after that.
    kill('SIGQUIT')
    const quit = await Promise.race([proc.exited.then(() => true), sleep(2000).then(() => false)])
    if (!quit) await proc.stop('SIGTERM', 3000)
  }

  const ready = (async () => {
    try {
      const deadline = Date.now() + START_TIMEOUT_MS
      // nginx writes its pid file only after binding every listen socket, so
      // our pid in it proves the ports are ours, not a leftover process's.
      await waitUntil(
        `nginx (${role})`,
        async () => readPidFile(files.pid) === proc.pid,
        START_TIMEOUT_MS,
        proc.exited,
      )
      for (const [host, port] of listeners(opts, role)) {
        await waitForTcp(probeHost(host), port, Math.max(deadline - Date.now(), 1))
      }
    } catch (err) {
      await stop()
      const logs = `--- ${files.out}:\n${tailFile(files.out)}\n--- ${files.errorLog}:\n${tailFile(files.errorLog)}`
      throw new Error(`${(err as Error).message}\n${logs}`, { cause: err })
    }
  })()
  return { pid: proc.pid, kill, stop, ready, ended: proc.ended }
}

/**
 * Starts the node's two nginx processes (both configs pass `nginx -t` before either starts) and
 * resolves when both serve every port; if either fails, both are stopped.
 */
export async function startNginx(opts: NginxOptions): Promise<NginxHandle> {
  const configs = NGINX_ROLES.map((role) => [role, renderNginxConfig(opts, role)] as const)
  const runDir = resolve(opts.runDir)
  const hlsDir = join(runDir, 'hls')
  const logDir = join(runDir, 'logs')
  const media = Object.values(
    mediaDirs(opts.mediaDir === undefined ? join(runDir, 'media') : resolve(opts.mediaDir)),
  )
  const dirs = [hlsDir, logDir, ...media, ...NGINX_ROLES.map((role) => join(runDir, 'tmp', role))]
  for (const dir of dirs) mkdirSync(dir, { recursive: true })
  for (const [role, config] of configs) {
    const path = nginxFiles(runDir, role).config
    // The ingest config holds the hook secret; the mode only applies to a new file.
    rmSync(path, { force: true })
    writeFileSync(path, config, { mode: 0o600 })
  }

  for (const role of NGINX_ROLES) testConfig(runDir, role)
  // The edge's HTTP(S) listeners use reuseport, and the kernel lets a second reuseport socket
  // (a leftover edge of an earlier run, say) bind the same port and take a share of its
  // connections: nginx's own bind no longer proves the port is ours, so check it is free first.
  const shared = [[opts.httpBind ?? '127.0.0.1', opts.httpPort] as const]
  if (opts.httpsPort !== undefined) shared.push([opts.httpBind ?? '127.0.0.1', opts.httpsPort])
  for (const [host, port] of shared) {
    if (!(await isPortFree(port, host))) throw new Error(`nginx (edge): ${host}:${port} is already in use`)
  }

  const started = NGINX_ROLES.map((role) => runRole(opts, role))
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()))
  }
  // Both settle before a failure is reported, so neither start is left running or unobserved.
  const failed = (await Promise.allSettled(started.map((p) => p.ready))).find((r) => r.status === 'rejected')
  if (failed) {
    await stop()
    throw failed.reason
  }
  const [ingest, edge] = started as [RoleProcess, RoleProcess]
  return {
    pid: ingest.pid,
    hlsDir,
    logDir,
    controlUrl: `http://127.0.0.1:${opts.controlPort}`,
    edge: { pid: edge.pid, kill: edge.kill },
    stop,
    kill: ingest.kill,
    // The node is whole only while both run: the first master to exit ends it (the supervisor
    // then stops the other and restarts the pair).
    ended: Promise.race([ingest.ended, edge.ended]),
  }
}

/** A wildcard bind is reachable through loopback. */
function probeHost(bind: string): string {
  if (bind === '0.0.0.0') return '127.0.0.1'
  if (bind === '::') return '::1'
  return bind
}
