/**
 * Ingest node entry point for containers (`node dist/scripts/ingest.js`): renders
 * nginx/nginx.conf.template from the environment with the same validating renderer the dev stack
 * and tests use, runs nginx in the foreground, logs to stdout/stderr, and stops it on SIGTERM.
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { startNginx } from './lib/nginx.js'

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
// `docker logs` shows what nginx writes to its log files.
for (const [file, target] of [
  ['access.log', '/dev/stdout'],
  ['hook-fallback.log', '/dev/stdout'],
  ['error.log', '/dev/stderr'],
]) {
  rmSync(join(logDir, file!), { force: true })
  symlinkSync(target!, join(logDir, file!))
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
  ...(env.WORKER_CONNECTIONS ? { workerConnections: int('WORKER_CONNECTIONS', 32_768) } : {}),
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

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void nginx.stop().then(() => process.exit(0))
  })
}
