/**
 * @module dev — the foreground dev stack: Postgres, Redis, migrations, nginx and the app, each
 * supervised (restarted with backoff when it dies, the others left running); Ctrl-C stops all by PID.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportPKCS8, generateKeyPair } from 'jose'
import { defaultRtmpPublicUrl } from '../src/config.js'
import { watchWeb } from './build-web.js'
import { startNginx } from './lib/nginx.js'
import { startPostgres } from './lib/postgres.js'
import { isPortFree, spawnLogged, waitUntil } from './lib/proc.js'
import { startRedis } from './lib/redis.js'
import { type SupervisedChild, supervise } from './lib/supervise.js'
import { devTlsFiles } from './lib/tls.js'

interface Child {
  name: string
  readonly pid: number
  stop(): Promise<void>
}

const root = fileURLToPath(new URL('..', import.meta.url))
const runDir = join(root, '.run')
const logDir = join(runDir, 'logs')
const env = process.env

function portFromEnv(name: string, fallback: number): number {
  const raw = env[name]
  const port = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a TCP port, got "${raw}"`)
  return port
}

type Ports = ReturnType<typeof readPorts>
const readPorts = () => ({
  http: portFromEnv('HTTP_PORT', 8080),
  rtmp: portFromEnv('RTMP_PORT', 1935),
  app: portFromEnv('APP_PORT', 3000),
  postgres: portFromEnv('DEV_PG_PORT', 54329),
  redis: portFromEnv('DEV_REDIS_PORT', 63799),
  control: portFromEnv('NGINX_CONTROL_PORT', 8081),
  internalRtmp: portFromEnv('NGINX_INTERNAL_RTMP_PORT', 19350),
  // UDP: nginx's edge sends the app one line per HLS segment served (docs/analytics.md).
  analytics: portFromEnv('ANALYTICS_LOG_PORT', 5140),
  // Off unless set (TLS): the fallback is never used.
  https: env.HTTPS_PORT ? portFromEnv('HTTPS_PORT', 0) : undefined,
  rtmps: env.RTMPS_PORT ? portFromEnv('RTMPS_PORT', 0) : undefined,
})

const log = (line: string) => console.log(`▸ ${line}`)
const rel = (path: string) => relative(root, path) || '.'
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`

/** Generated on the first run and reused, so sessions and nginx's hook URLs survive restarts. */
async function loadSecrets(): Promise<{ hookSecret: string; jwtKeyFile: string }> {
  const secretsFile = join(runDir, 'secrets.json')
  const jwtKeyFile = join(runDir, 'jwt-ed25519.pem')
  if (!existsSync(secretsFile)) {
    const secrets = { HOOK_SECRET: randomBytes(32).toString('base64url') }
    writeFileSync(secretsFile, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  }
  if (!existsSync(jwtKeyFile)) {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true })
    writeFileSync(jwtKeyFile, await exportPKCS8(privateKey), { mode: 0o600 })
  }
  const { HOOK_SECRET } = JSON.parse(readFileSync(secretsFile, 'utf8')) as { HOOK_SECRET: string }
  return { hookSecret: env.HOOK_SECRET ?? HOOK_SECRET, jwtKeyFile }
}

/** Fails before starting anything, naming the variable to change, instead of a bind error in some log. */
async function checkPorts(ports: Ports): Promise<void> {
  const wanted: [string, number, string][] = [
    ['HTTP_PORT', ports.http, '0.0.0.0'],
    ['RTMP_PORT', ports.rtmp, '0.0.0.0'],
    ['APP_PORT', ports.app, '127.0.0.1'],
    ['NGINX_CONTROL_PORT', ports.control, '127.0.0.1'],
    ['NGINX_INTERNAL_RTMP_PORT', ports.internalRtmp, '127.0.0.1'],
  ]
  if (ports.https) wanted.push(['HTTPS_PORT', ports.https, '0.0.0.0'])
  if (ports.rtmps) wanted.push(['RTMPS_PORT', ports.rtmps, '0.0.0.0'])
  if (!env.DATABASE_URL) wanted.push(['DEV_PG_PORT', ports.postgres, '127.0.0.1'])
  if (!env.REDIS_URL) wanted.push(['DEV_REDIS_PORT', ports.redis, '127.0.0.1'])
  for (const [name, port, host] of wanted) {
    if (!(await isPortFree(port, host))) throw new Error(`port ${port} is in use; set ${name} to a free port`)
  }
}

// Started children, in start order; they are stopped in reverse (app, nginx, redis, postgres).
const children: Child[] = []
let stopping: Promise<never> | undefined

/** Idempotent: a failing start and the child death that caused it both land here. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const child of [...children].reverse()) {
      await child.stop().catch((err: Error) => console.error(`✗ stopping ${child.name}: ${err.message}`))
    }
    process.exit(code)
  })()
  return stopping
}

/**
 * Starts `name` under a supervisor: a crashed service is restarted on its own (same port, same
 * data dir) while everything else keeps running, so a crash never drops the streams nginx carries.
 */
async function supervised<C extends SupervisedChild>(
  name: string,
  logHint: string,
  start: (signal: AbortSignal) => Promise<C>,
): Promise<C> {
  const sup = await supervise({
    name,
    start,
    // "<name> exited (signal SIGKILL); restarting in 0.5 s" is an error; "<name> restarted" is news.
    log: (line) =>
      line.includes(' restarted ')
        ? log(line)
        : console.error(`✗ ${line}${line.includes('restarting') ? ` (see ${logHint})` : ''}`),
  })
  const child: Child = {
    name,
    get pid() {
      return sup.current.pid
    },
    stop: () => sup.stop(),
  }
  // Postgres first in line, so stopped last; the others in start order.
  if (name === 'postgres') children.unshift(child)
  else children.push(child)
  return sup.current
}

let firstSignalAt = 0
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (!stopping) {
      firstSignalAt = Date.now()
      log('stopping…')
      void shutdown(0)
      return
    }
    // npm and tsx forward the terminal's Ctrl-C, so one press arrives several times in quick succession.
    if (Date.now() - firstSignalAt < 1500) return
    // A real second Ctrl-C while stopping: do not make the user wait for graceful shutdowns.
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    process.exit(1)
  })
}

async function main(): Promise<void> {
  const ports = readPorts()
  mkdirSync(logDir, { recursive: true })
  await checkPorts(ports)
  const { hookSecret, jwtKeyFile } = await loadSecrets()

  let t = Date.now()
  const [databaseUrl, redisUrl] = await Promise.all([
    env.DATABASE_URL ??
      supervised('postgres', rel(join(logDir, 'postgres.log')), () =>
        startPostgres({
          dataDir: join(runDir, 'pg'),
          port: ports.postgres,
          logFile: join(logDir, 'postgres.log'),
          database: 'live',
        }),
      ).then((pg) => {
        log(`postgres ready on 127.0.0.1:${ports.postgres} (${seconds(t)})`)
        return pg.url
      }),
    env.REDIS_URL ??
      supervised('redis', rel(join(logDir, 'redis.log')), () =>
        startRedis({
          dir: join(runDir, 'redis'),
          port: ports.redis,
          logFile: join(logDir, 'redis.log'),
          persist: true,
        }),
      ).then((redis) => {
        log(`redis ready on 127.0.0.1:${ports.redis} (${seconds(t)})`)
        return redis.url
      }),
  ])

  t = Date.now()
  const migrate = spawnLogged(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
    cwd: root,
    env: { ...env, DATABASE_URL: databaseUrl },
  })
  const migrateChild = { name: 'migrations', ...migrate }
  children.push(migrateChild)
  const migrateCode = await migrate.exited
  children.splice(children.indexOf(migrateChild), 1)
  if (migrateCode !== 0) throw new Error(`migrations failed (exit ${migrateCode})`)
  log(`migrations applied (${seconds(t)})`)

  // HTTPS_PORT/RTMPS_PORT without TLS_CERT_FILE/TLS_KEY_FILE: a self-signed pair, kept until it expires.
  const tls = devTlsFiles(env, join(runDir, 'tls'))
  if (tls?.generated) log(`self-signed TLS certificate written to ${rel(tls.certFile)}`)

  t = Date.now()
  // A restarted nginx has lost its RTMP connections anyway (encoders reconnect to the new one).
  const nginx = await supervised('nginx', rel(join(runDir, 'nginx', 'logs')), () =>
    startNginx({
      runDir: join(runDir, 'nginx'),
      nodeId: 'local',
      hookSecret,
      // 0.0.0.0: OBS and viewers may be on another machine on the LAN.
      rtmpPort: ports.rtmp,
      rtmpBind: '0.0.0.0',
      httpPort: ports.http,
      httpBind: '0.0.0.0',
      internalRtmpPort: ports.internalRtmp,
      controlPort: ports.control,
      appUpstreams: [`127.0.0.1:${ports.app}`],
      analyticsLog: `127.0.0.1:${ports.analytics}`,
      ...(tls && {
        httpsPort: ports.https,
        rtmpsPort: ports.rtmps,
        tlsCertFile: tls.certFile,
        tlsKeyFile: tls.keyFile,
      }),
    }),
  )
  const tlsReady = `${ports.https ? `, https ${ports.https}` : ''}${ports.rtmps ? `, rtmps ${ports.rtmps}` : ''}`
  log(`nginx ready: http ${ports.http}, rtmp ${ports.rtmp}${tlsReady} (${seconds(t)})`)

  // The pages' browser bundle, rebuilt on every change under src/web/client (reload to see it).
  // In-process (esbuild's service dies with us), so it is not a child to stop.
  t = Date.now()
  await watchWeb({
    onRebuild: (errors) => errors > 0 && console.error('✗ web bundle has errors (see above)'),
  })
  log(`web bundle built, watching src/web/client (${seconds(t)})`)

  t = Date.now()
  // With HTTPS the site is https (Secure cookies, HSTS, wss:) and OBS is shown rtmps:// when RTMPS is on.
  const publicUrl = ports.https ? `https://localhost:${ports.https}` : `http://localhost:${ports.http}`
  const appEnv: NodeJS.ProcessEnv = {
    APP_PORT: String(ports.app),
    APP_HOST: '127.0.0.1',
    HTTP_PORT: String(ports.http),
    RTMP_PORT: String(ports.rtmp),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PUBLIC_URL: publicUrl,
    HOOK_SECRET: hookSecret,
    JWT_PRIVATE_KEY_FILE: jwtKeyFile,
    INGEST_NODES: `local=${nginx.controlUrl}`,
    ANALYTICS_LOG_PORT: String(ports.analytics),
    RTMP_PUBLIC_URL: defaultRtmpPublicUrl(new URL(env.PUBLIC_URL ?? publicUrl), ports.rtmp, ports.rtmps),
    NODE_ENV: 'development',
    ...env, // the user's own exports win
  }
  const readyUrl = `http://127.0.0.1:${ports.app}/readyz`
  await supervised('app', 'the output above', async (signal) => {
    const app = spawnLogged(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: appEnv })
    const aborted = new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    try {
      await waitUntil(
        'app',
        async () => {
          const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) })
          await res.body?.cancel()
          return res.status === 200
        },
        60_000,
        Promise.race([app.exited, aborted]),
      )
    } catch (err) {
      await app.stop('SIGTERM', 5000)
      throw err
    }
    return { ...app, stop: () => app.stop('SIGTERM', 12_000) }
  })
  log(`app ready on 127.0.0.1:${ports.app} (${seconds(t)})`)
  printBanner(appEnv, nginx.logDir, ports, tls?.selfSigned ? tls.certFile : undefined)
}

function printBanner(
  appEnv: NodeJS.ProcessEnv,
  nginxLogDir: string,
  ports: Ports,
  selfSignedCert?: string,
): void {
  const publicUrl = (appEnv.PUBLIC_URL ?? '').replace(/\/+$/, '')
  console.log(`
  ┌─ Live control plane is running ──────────────────────────────
  │ OBS  Settings → Stream → Service: Custom
  │      Server:      ${appEnv.RTMP_PUBLIC_URL}
  │      Stream key:  create one in the dashboard (${publicUrl}/dashboard)
  │                   or with the API (POST /api/v1/stream-keys)
  │      Output:      x264, CBR, keyframe interval 1 s
  │ Watch   ${publicUrl}/c/<your-username>
  │ API     ${publicUrl}/api/v1
  │ HLS     ${publicUrl}/hls/<username>/index.m3u8
  │ Logs    app: this terminal · services: ${rel(logDir)}/ · nginx: ${rel(nginxLogDir)}/${tlsBanner(ports, selfSignedCert)}
  └─ Ctrl-C stops everything ────────────────────────────────────
`)
}

function tlsBanner(ports: Ports, selfSignedCert?: string): string {
  const lines = [
    ports.https && `HTTPS   https://localhost:${ports.https} (also http://localhost:${ports.http})`,
    ports.rtmps && `RTMPS   rtmps://localhost:${ports.rtmps}/live (also rtmp://localhost:${ports.rtmp}/live)`,
    selfSignedCert &&
      `TLS     self-signed ${rel(selfSignedCert)}: browsers warn, OBS refuses rtmps:// unless trusted`,
  ].filter(Boolean)
  return lines.map((line) => `\n  │ ${line}`).join('')
}

main().catch((err: Error) => {
  console.error(`✗ ${err.message}`)
  void shutdown(1)
})
