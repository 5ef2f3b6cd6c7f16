/**
 * Ingest node entry point for containers (`node dist/scripts/ingest.js`): renders
 * nginx/nginx.conf.template from the environment with the same validating renderer the dev stack
 * and tests use, runs the node's two nginx processes (RTMP ingest, HTTP edge) in the foreground,
 * logs to stdout/stderr, stops both on SIGTERM, and exits when either dies (so the container's
 * restart policy brings back a whole node, never half of one).
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { startNginx } from './lib/nginx.js'
import { isAlive } from './lib/proc.js'

const env = process.env
const int = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback)
const optionalInt = (name: string) => (env[name] ? Number(env[name]) : undefined)
const list = (name: string) =>
  (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

const runDir = env.RUN_DIR ?? '/var/lib/live-ingest'
const logDir = join(runDir, 'logs')
mkdirSync(logDir, { recursive: true })
// `docker logs` shows what both nginx processes write to their log files. The links name THIS
// process's stdout/stderr: `/dev/stdout` is `/proc/self/fd/1`, which nginx would resolve to its
// own fd 1 (a socket under `nginx -t`, where opening it fails with ENXIO; its `.out.log` file
// when running), never to the container's output.
const stdout = `/proc/${process.pid}/fd/1`
const stderr = `/proc/${process.pid}/fd/2`
const LOG_TARGETS = [
  ['edge-access.log', stdout],
  ['hook-fallback.log', stdout],
  ['ingest-error.log', stderr],
  ['edge-error.log', stderr],
] as const
for (const [file, target] of LOG_TARGETS) {
  rmSync(join(logDir, file), { force: true })
  symlinkSync(target, join(logDir, file))
}

const hookSecret = env.HOOK_SECRET
if (!hookSecret) {
  console.error('HOOK_SECRET is required')
  process.exit(78)
}

const nginx = await startNginx({
  runDir,
  nodeId: env.NODE_ID ?? 'ingest-1',
  hookSecret,
  rtmpPort: int('RTMP_PORT', 1935),
  rtmpBind: env.RTMP_BIND ?? '0.0.0.0',
  httpPort: int('HTTP_PORT', 8080),
  httpBind: env.HTTP_BIND ?? '0.0.0.0',
  controlPort: int('CONTROL_PORT', 8081),
  controlBind: env.CONTROL_BIND ?? '0.0.0.0',
  controlAllow: list('CONTROL_ALLOW'),
  internalRtmpPort: int('INTERNAL_RTMP_PORT', 19350),
  appUpstreams: list('APP_UPSTREAMS').length ? list('APP_UPSTREAMS') : ['app:3000'],
  notifyUpdateTimeoutS: int('NOTIFY_UPDATE_S', 30),
  dropIdlePublisherS: int('DROP_IDLE_S', 30),
  // TLS (the renderer refuses a port without both files): mount the certificate, e.g. as a secret.
  httpsPort: optionalInt('HTTPS_PORT'),
  rtmpsPort: optionalInt('RTMPS_PORT'),
  tlsCertFile: env.TLS_CERT_FILE || undefined,
  tlsKeyFile: env.TLS_KEY_FILE || undefined,
  // Load balancers in front of this node whose X-Forwarded-For is believed; none by default.
  trustedProxies: list('TRUSTED_PROXIES'),
  // Watch analytics: `host:port` of an app's ANALYTICS_LOG_PORT listener (UDP); unset = off.
  ...(env.ANALYTICS_LOG ? { analyticsLog: env.ANALYTICS_LOG } : {}),
  ...(env.WORKER_CONNECTIONS ? { workerConnections: int('WORKER_CONNECTIONS', 32_768) } : {}),
  // The edge's worker processes (default one per CPU, at least 2): viewers ≈ workers × connections / 2.
  ...(env.EDGE_WORKERS ? { edgeWorkers: int('EDGE_WORKERS', 2) } : {}),
}).catch((err: Error) => {
  console.error(err.message)
  process.exit(1)
})
const tlsPorts = [
  ['https', optionalInt('HTTPS_PORT')],
  ['rtmps', optionalInt('RTMPS_PORT')],
].flatMap(([name, port]) => (port ? [`, ${name} :${port}`] : []))
console.log(
  `ingest node ready: rtmp :${int('RTMP_PORT', 1935)}, http :${int('HTTP_PORT', 8080)}${tlsPorts.join('')}`,
)

let stopping = false
const stopAndExit = (code: number) => {
  if (stopping) return
  stopping = true
  void nginx.stop().then(() => process.exit(code))
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stopAndExit(0))
setInterval(() => {
  for (const [role, pid] of [
    ['ingest', nginx.pid],
    ['edge', nginx.edge.pid],
  ] as const) {
    if (isAlive(pid)) continue
    console.error(`nginx ${role} process ${pid} died; stopping the node`)
    stopAndExit(1)
  }
}, 1000)
