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
import { ConfigSchema, loadConfig } from '../src/config.js'

type Service = {
  build?: { target: string }
  image?: string
  command?: string[]
  environment?: Record<string, string>
  depends_on?: unknown
  secrets?: string[]
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
    // Every variable the ingest container is given is one scripts/ingest.ts reads.
    const entry = readFileSync('scripts/ingest.ts', 'utf8')
    for (const name of Object.keys(ingest.environment ?? {}))
      expect(entry).toMatch(new RegExp(`['.]${name}\\b`))
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
