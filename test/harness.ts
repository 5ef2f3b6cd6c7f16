/**
 * @module test/harness — builds the real app against the run's Postgres and Redis (from
 * global-setup), with a fresh Redis key prefix per call so test files never see each other's keys.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { createApp } from '../src/app.js'
import { type Config, loadConfig } from '../src/config.js'
import type { Deps } from '../src/deps.js'
import { createLogger } from '../src/log.js'
import { buildDeps } from '../src/server.js'

let keyPem: string | undefined
export function testKeyPem(): string {
  keyPem ??= generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return keyPem
}

export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}:`
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: uniquePrefix(),
    HOOK_SECRET: randomBytes(24).toString('base64url'),
    JWT_PRIVATE_KEY: testKeyPem(),
    PUBLIC_URL: 'http://localhost:8080',
    // Never the repository's .run/: the video jobs write thumbnails there.
    MEDIA_DIR: join(tmpdir(), 'live-test-media'),
    ...overrides,
  }
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides))
}

export type TestApp = {
  deps: Deps
  app: ReturnType<typeof createApp>
  close(): Promise<void>
  /** JSON request helper over app.request(). */
  json(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
}

export async function createTestApp(
  opts: { env?: Record<string, string>; now?: () => number } = {},
): Promise<TestApp> {
  const config = testConfig(opts.env)
  const log = createLogger({ level: config.LOG_LEVEL })
  const { deps, close, startWorkers } = await buildDeps(config, log, opts.now)
  // The durable path's consumers (outbox, live effects) run as in production: history and mail
  // follow from recorded events, not from the request.
  const workers = await startWorkers()
  const app = createApp(deps)
  return {
    deps,
    app,
    close: async () => {
      await workers.stop()
      await close()
    },
    json: async (method, path, body, headers = {}) =>
      app.request(path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  }
}

/** A settable clock for time-based rules (rate limits, expiry) without sleeping. */
export function manualClock(start = Date.now()) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) }
}

/**
 * The `env` @hono/node-server hands the app for a request from a real socket (getConnInfo and
 * http/client-address read `incoming.socket`): `app.request(path, init, fromPeer('127.0.0.1'))`.
 */
export function fromPeer(remoteAddress: string, remotePort = 40000) {
  return { incoming: { socket: { remoteAddress, remotePort } } }
}
