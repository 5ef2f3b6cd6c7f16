/**
 * docker-compose.yml cannot be run here (no Docker engine), so this keeps it in step with the
 * code instead: the app's environment must load as a valid config, every variable must be one the
 * app reads, and images, commands and networks must name things that exist.
 */

import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  DEFAULT_WORKER_CONNECTIONS,
  edgeCapacity,
  NGINX_ROLES,
  renderNginxConfig,
} from '../scripts/lib/nginx.js'
import { ConfigSchema, loadConfig } from '../src/config.js'

type Service = {
  build?: { target: string }
  image?: string
  command?: string[]
  environment?: Record<string, string>
  depends_on?: unknown
  secrets?: string[]
  ports?: string[]
  ulimits?: { nofile?: { soft: number; hard: number } }
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>
  networks: { live: { ipam: { config: { subnet: string }[] } } }
  secrets: Record<string, { file: string }>
}
const dockerfile = readFileSync('Dockerfile', 'utf8')

/** Substitutes ${VAR:?msg} / ${VAR:-default} as compose would, with sample values for required ones. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::([?-])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) =>
      env[name] ?? (op === '-' ? (arg ?? '') : `sample-${name.toLowerCase()}-value`),
  )
}

describe('docker-compose.yml', () => {
  const apps = Object.entries(compose.services).filter(([, s]) => s.build?.target === 'app' && !s.command)

  it('runs two app instances whose environment is a valid config', () => {
    expect(apps.map(([name]) => name)).toEqual(['app-1', 'app-2'])
    const dir = mkdtempSync(join(tmpdir(), 'compose-'))
    const keyFile = join(dir, 'jwt.pem')
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }))
    for (const [, svc] of apps) {
      const env = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [
          k,
          interpolate(String(v), {
            HOOK_SECRET: 'a-hook-secret-long-enough',
            SMTP_URL: 'smtp://relay.example:587',
            WEBHOOK_SECRET_KEY: 'a-webhook-secret-key-of-32-characters',
          }),
        ]),
      )
      const config = loadConfig({ ...env, JWT_PRIVATE_KEY_FILE: keyFile })
      expect(config.INGEST_NODES).toEqual({ 'ingest-1': 'http://ingest:8081' })
      // Only variables the app actually reads: a typo would silently fall back to a default.
      const known = new Set(Object.keys((ConfigSchema as unknown as { in: { shape: object } }).in.shape))
      for (const name of Object.keys(svc.environment ?? {})) expect(known, name).toContain(name)
      expect(svc.secrets).toEqual(['jwt_key'])
    }
  })

  it('lets the ingest network call the hooks and reach the control server', () => {
    const subnet = compose.networks.live.ipam.config[0]!.subnet
    for (const [, svc] of apps) expect(svc.environment?.HOOK_ALLOWED_IPS).toBe(subnet)
    const ingest = compose.services.ingest!
    expect(ingest.environment?.CONTROL_ALLOW).toBe(subnet)
    expect(ingest.environment?.APP_UPSTREAMS).toBe(apps.map(([name]) => `${name}:3000`).join(','))
    expect(ingest.environment?.NODE_ID).toBe('ingest-1')
    // Watch analytics: the edge's HLS log goes to a listening app container (UDP, all interfaces).
    const [target, port] = String(ingest.environment?.ANALYTICS_LOG).split(':')
    const receiver = apps.find(([name]) => name === target)?.[1]
    expect(receiver?.environment?.ANALYTICS_LOG_PORT).toBe(port)
    expect(receiver?.environment?.ANALYTICS_LOG_HOST).toBe('0.0.0.0')
    // The app ends a session after 2x nginx's notify_update_timeout without on_update: same value.
    for (const [, svc] of apps)
      expect(svc.environment?.NOTIFY_UPDATE_S).toBe(ingest.environment?.NOTIFY_UPDATE_S)
    // A Prometheus container is not on the app's loopback: it needs the token (empty = unset).
    for (const [, svc] of apps) expect(svc.environment?.METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN:-\}$/)
    // Every variable the ingest container is given is one scripts/ingest.ts reads.
    const entry = readFileSync('scripts/ingest.ts', 'utf8')
    for (const name of Object.keys(ingest.environment ?? {}))
      expect(entry).toMatch(new RegExp(`['.]${name}\\b`))
  })

  it('shows every log file of both nginx processes in the container output', () => {
    const opts = {
      runDir: '/var/lib/live-ingest',
      nodeId: 'ingest-1',
      hookSecret: 'a-hook-secret-long-enough',
      rtmpPort: 1935,
      internalRtmpPort: 19350,
      httpPort: 8080,
      controlPort: 8081,
      appUpstreams: ['app-1:3000'],
    }
    const written = NGINX_ROLES.flatMap((role) =>
      [...renderNginxConfig(opts, role).matchAll(/_log \S+\/logs\/([\w.-]+)/g)].map((m) => m[1]!),
    )
    expect(new Set(written).size).toBeGreaterThanOrEqual(4) // access, hook fallback, an error log per process
    const entry = readFileSync('scripts/ingest.ts', 'utf8')
    for (const file of written)
      expect(entry, file).toMatch(new RegExp(`\\['${file.replace('.', '\\.')}', std(out|err)\\]`))
    // Not /dev/stdout: that is /proc/self/fd/1, nginx's own fd (a socket under `nginx -t`: ENXIO).
    expect(entry).toMatch(/const stdout = `\/proc\/\$\{process\.pid\}\/fd\/1`/)
    expect(entry).toMatch(/const stderr = `\/proc\/\$\{process\.pid\}\/fd\/2`/)
  })

  it('gives every edge worker of the ingest container the descriptors its connections need', () => {
    const ingest = compose.services.ingest!
    const perWorker = Number(ingest.environment?.WORKER_CONNECTIONS ?? DEFAULT_WORKER_CONNECTIONS)
    // The limit is per process, and each worker opens one descriptor per connection plus files.
    expect(ingest.ulimits?.nofile?.hard).toBeGreaterThanOrEqual(edgeCapacity(perWorker, true).rlimitNofile)
    expect(ingest.ulimits?.nofile?.soft).toBe(ingest.ulimits?.nofile?.hard)
  })

  it('builds targets the Dockerfile defines and runs entry points that exist', () => {
    for (const svc of Object.values(compose.services)) {
      if (svc.build) expect(dockerfile).toContain(`AS ${svc.build.target}`)
    }
    expect(compose.services.migrate!.command).toEqual(['node', 'dist/src/db/migrate-cli.js'])
    expect(existsSync('src/db/migrate-cli.ts')).toBe(true)
    expect(dockerfile).toContain('CMD ["node", "dist/src/main.js"]')
    expect(dockerfile).toContain('CMD ["node", "dist/scripts/ingest.js"]')
    expect(existsSync('scripts/ingest.ts')).toBe(true)
    expect(compose.secrets.jwt_key!.file).toBe('./secrets/jwt-ed25519.pem')
  })
})

describe('docker-compose.yml TLS', () => {
  const ingest = compose.services.ingest!
  const env = ingest.environment ?? {}
  const published = (ingest.ports ?? []).map(
    (p) => p.split(' ')[0]!.split(':').map(Number) as [number, number],
  )

  it('mounts the certificate and key as secrets the ingest reads, from files `npm run secrets` writes', () => {
    const secretsScript = readFileSync('scripts/secrets.ts', 'utf8')
    for (const [variable, secret] of [
      ['TLS_CERT_FILE', 'tls_cert'],
      ['TLS_KEY_FILE', 'tls_key'],
    ] as const) {
      expect(env[variable]).toBe(`/run/secrets/${secret}`)
      expect(ingest.secrets).toContain(secret)
      const file = compose.secrets[secret]!.file
      expect(file).toMatch(/^\.\/secrets\/tls\/(cert|key)\.pem$/)
      // ensureSelfSignedCert('secrets/tls') writes cert.pem and key.pem there.
      expect(secretsScript).toContain(`'${file.slice(2)}'`)
    }
    expect(secretsScript).toContain("ensureSelfSignedCert('secrets/tls')")
    expect(dockerfile).toMatch(/apt-get install[^\n]*libnginx-mod-stream/)
  })

  it('publishes every port the ingest listens on, HTTPS on 443 and RTMPS 1:1', () => {
    const listens = {
      RTMP_PORT: Number(env.RTMP_PORT ?? 1935),
      HTTP_PORT: Number(env.HTTP_PORT ?? 8080),
      HTTPS_PORT: Number(env.HTTPS_PORT),
      RTMPS_PORT: Number(env.RTMPS_PORT),
    }
    expect(published.map(([, inside]) => inside).sort()).toEqual(Object.values(listens).sort())
    expect(published).toContainEqual([443, listens.HTTPS_PORT])
    expect(published).toContainEqual([listens.RTMPS_PORT, listens.RTMPS_PORT])
    const exposed = /^EXPOSE (.+)$/m
      .exec(dockerfile.slice(dockerfile.indexOf('AS ingest')))?.[1]
      ?.split(' ')
      .map(Number)
    for (const port of Object.values(listens)) expect(exposed).toContain(port)
  })

  it('makes the app an https site that tells OBS the published rtmps:// server', () => {
    const [, app] = Object.entries(compose.services).find(([name]) => name === 'app-1')!
    expect(app.environment?.RTMPS_PORT).toBe(env.RTMPS_PORT)
    const appEnv = Object.fromEntries(
      Object.entries(app.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(String(v), {
          SMTP_URL: 'smtp://relay.example:587',
          WEBHOOK_SECRET_KEY: 'a-webhook-secret-key-of-32-characters',
        }),
      ]),
    )
    const config = loadConfig({
      ...appEnv,
      HOOK_SECRET: 'a-hook-secret-long-enough',
      JWT_PRIVATE_KEY: keyPem(),
    })
    expect(config.PUBLIC_URL).toBe('https://localhost')
    expect(config.secureCookies).toBe(true)
    expect(config.RTMP_PUBLIC_URL).toBe(`rtmps://localhost:${env.RTMPS_PORT}/live`)
  })
})

function keyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}
