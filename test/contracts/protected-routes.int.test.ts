/**
 * The shared suite over every protected route: each must refuse a missing, expired, `alg: none`,
 * tampered, wrong-audience (and otherwise forged) or logged-out access token with 401
 * problem+json — and accept a valid one, so a 401 here is the token's fault and nothing else.
 *
 * The routes are read from the app itself: every `/api/v1` route not on the PUBLIC list below is
 * protected, so a new route is covered the day it is added (or has to be declared public here).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, problemOf } from '../auth-client.js'
import { loggedIn } from '../factories.js'
import { badTokens } from '../forge-tokens.js'
import { createTestApp, manualClock, type TestApp, testKeyPem } from '../harness.js'

const PUBLIC = new Set([
  'POST /api/v1/auth/register',
  'GET /api/v1/auth/availability',
  'POST /api/v1/auth/verify-email',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'GET /api/v1/channels',
  'GET /api/v1/channels/:name',
  'GET /api/v1/openapi.json',
])

const clock = manualClock()
let t: TestApp
const routes: { method: string; path: string }[] = []

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
  const seen = new Set<string>()
  for (const r of t.app.routes) {
    const id = `${r.method} ${r.path}`
    if (r.method === 'ALL' || !r.path.startsWith('/api/v1/') || seen.has(id)) continue
    seen.add(id)
    routes.push({ method: r.method, path: r.path })
  }
})
afterAll(() => t.close())

/** An admin with a confirmed email and a live session: the caller every protected route accepts. */
async function caller() {
  const s = await loggedIn(t.deps, { role: 'admin' })
  const url = (path: string) =>
    path
      .replace(/:name\b/g, s.user.username)
      .replace(/:username\b/g, s.user.username)
      .replace(/:(\w+)/g, () => randomUUID())
  return { ...s, url }
}

function send(method: string, url: string, headers: Record<string, string>) {
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(method)
  return call(t, method, url, {
    headers,
    ...(hasBody ? { raw: '{}', headers: { ...headers, 'content-type': 'application/json' } } : {}),
  })
}

describe('protected routes', () => {
  it('finds the routes, and every PUBLIC entry is a real route', () => {
    const ids = new Set(routes.map((r) => `${r.method} ${r.path}`))
    for (const p of PUBLIC) expect(ids, p).toContain(p)
    expect(routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`)).length).toBeGreaterThanOrEqual(20)
  })

  it('accept a valid token (control: the 401s below are about the token only)', async () => {
    for (const r of routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))) {
      const s = await caller()
      const res = await send(r.method, s.url(r.path), { authorization: `Bearer ${s.accessToken}` })
      expect(res.status, `${r.method} ${r.path}`).not.toBe(401)
      expect(res.status, `${r.method} ${r.path}`).toBeLessThan(500)
    }
  })

  it('refuse every missing, malformed, expired, forged or foreign token with 401 problem+json', async () => {
    const protectedRoutes = routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))
    const s = await caller()
    const ctx = {
      privateKeyPem: testKeyPem(),
      issuer: t.deps.config.PUBLIC_URL,
      now: clock.now,
      ttlS: t.deps.config.ACCESS_TOKEN_TTL_S,
    }
    const forged = await badTokens(ctx, { sub: s.user.id, role: 'admin', sid: s.sid })
    const names = forged.map(([n]) => n)
    for (const must of [
      'expired',
      'alg none',
      'tampered payload (role flipped)',
      'tampered signature',
      'wrong audience',
    ]) {
      expect(names).toContain(must)
    }
    const variants: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['the token without a scheme', { authorization: s.accessToken }],
      ...forged.map(([name, token]): [string, Record<string, string>] => [
        name,
        { authorization: `Bearer ${token}` },
      ]),
    ]
    for (const r of protectedRoutes) {
      for (const [name, headers] of variants) {
        const res = await send(r.method, s.url(r.path), headers)
        const label = `${r.method} ${r.path} with ${name}`
        expect(res.status, label).toBe(401)
        expect((await problemOf(res)).code, label).toBe('UNAUTHORIZED')
      }
    }
  })

  it('refuse a genuine token once its session has logged out, and once it has expired', async () => {
    const protectedRoutes = routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))
    const out = await caller()
    expect((await call(t, 'POST', '/api/v1/auth/logout', { token: out.accessToken })).status).toBe(204)
    const old = await caller()
    clock.advance(t.deps.config.ACCESS_TOKEN_TTL_S * 1000)
    try {
      for (const r of protectedRoutes) {
        for (const [name, s] of [
          ['logged out', out],
          ['expired by the clock', old],
        ] as const) {
          const res = await send(r.method, s.url(r.path), { authorization: `Bearer ${s.accessToken}` })
          expect(res.status, `${r.method} ${r.path} ${name}`).toBe(401)
          await problemOf(res)
        }
      }
    } finally {
      clock.advance(-t.deps.config.ACCESS_TOKEN_TTL_S * 1000)
    }
  })
})
