/**
 * The shared suite over every protected route: each must refuse a missing, expired, `alg: none`,
 * tampered, wrong-audience (and otherwise forged) or logged-out access token with 401
 * problem+json — and accept a valid one, so a 401 here is the token's fault and nothing else.
 *
 * Personal access tokens: every protected route is declared in ACCESS with the scope a token
 * needs there, or SESSION_ONLY (account changes: 403 TOKEN_NOT_ALLOWED for any token). A token
 * holding exactly that scope gets through; one holding every other scope gets 403
 * INSUFFICIENT_SCOPE; an expired or revoked one gets 401.
 *
 * The routes are read from the app itself: every `/api/v1` route not on the PUBLIC list below is
 * protected, so a new route is covered the day it is added (and fails here until it is declared
 * public, or its access is declared in ACCESS).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Access, SCOPES, SESSION_ONLY } from '../../src/api-tokens/scopes.js'
import { createApiToken, revokeApiToken } from '../../src/api-tokens/service.js'
import { openApiDocument } from '../../src/http/openapi.js'
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
  'GET /api/v1/channels/:name/videos',
  'GET /api/v1/videos/:id',
  'GET /api/v1/openapi.json',
  'GET /api/v1/auth/providers',
  'GET /api/v1/auth/oidc/:provider/start',
  'GET /api/v1/auth/oidc/:provider/callback',
])

/** What a personal access token needs on each protected route (the routes declare the same). */
const ACCESS: Record<string, Access> = {
  'POST /api/v1/auth/resend-verification': SESSION_ONLY,
  'POST /api/v1/auth/logout': SESSION_ONLY,
  'GET /api/v1/auth/sessions': SESSION_ONLY,
  'DELETE /api/v1/auth/sessions/:id': SESSION_ONLY,
  'POST /api/v1/auth/password/change': SESSION_ONLY,
  'GET /api/v1/me': 'channel:read',
  'GET /api/v1/me/identities': SESSION_ONLY,
  'DELETE /api/v1/me/identities/:provider': SESSION_ONLY,
  'GET /api/v1/admin/analytics': SESSION_ONLY,
  'GET /api/v1/admin/users': SESSION_ONLY,
  'GET /api/v1/admin/users/:id': SESSION_ONLY,
  'POST /api/v1/admin/users/:id/disable': SESSION_ONLY,
  'POST /api/v1/admin/users/:id/enable': SESSION_ONLY,
  'POST /api/v1/admin/users/:id/promote': SESSION_ONLY,
  'DELETE /api/v1/admin/users/:id/sessions': SESSION_ONLY,
  'POST /api/v1/stream-keys': 'stream-keys:write',
  'GET /api/v1/stream-keys': 'stream-keys:write',
  'DELETE /api/v1/stream-keys/:id': 'stream-keys:write',
  'POST /api/v1/tokens': SESSION_ONLY,
  'GET /api/v1/tokens': SESSION_ONLY,
  'DELETE /api/v1/tokens/:id': SESSION_ONLY,
  'PATCH /api/v1/channels/:name': 'channel:write',
  'POST /api/v1/channels/:name/kick': 'channel:write',
  'GET /api/v1/channels/:name/sessions': 'analytics:read',
  'GET /api/v1/channels/:name/analytics': 'analytics:read',
  'GET /api/v1/channels/:name/chat': 'channel:read',
  'PATCH /api/v1/channels/:name/chat': 'chat:write',
  'GET /api/v1/channels/:name/moderators': 'channel:read',
  'PUT /api/v1/channels/:name/moderators/:username': 'chat:write',
  'DELETE /api/v1/channels/:name/moderators/:username': 'chat:write',
  'GET /api/v1/channels/:name/bans': 'channel:read',
  'GET /api/v1/channels/:name/follow': 'channel:read',
  'POST /api/v1/channels/:name/follow': 'channel:write',
  'DELETE /api/v1/channels/:name/follow': 'channel:write',
  'GET /api/v1/channels/:name/members': 'channel:read',
  'PUT /api/v1/channels/:name/members/:username': 'channel:write',
  'DELETE /api/v1/channels/:name/members/:username': 'channel:write',
  'POST /api/v1/channels/:name/playback-tokens': 'channel:read',
  'POST /api/v1/chat/tickets': 'chat:write',
  'POST /api/v1/webhooks': 'webhooks:write',
  'GET /api/v1/webhooks': 'webhooks:write',
  'GET /api/v1/webhooks/:id': 'webhooks:write',
  'PATCH /api/v1/webhooks/:id': 'webhooks:write',
  'DELETE /api/v1/webhooks/:id': 'webhooks:write',
  'PATCH /api/v1/videos/:id': 'channel:write',
  'DELETE /api/v1/videos/:id': 'channel:write',
  'POST /api/v1/videos/:id/playback-tokens': 'channel:read',
  'POST /api/v1/webhooks/:id/rotate-secret': 'webhooks:write',
  'POST /api/v1/webhooks/:id/test': 'webhooks:write',
  'GET /api/v1/webhooks/:id/deliveries': 'webhooks:write',
}

const clock = manualClock()
let t: TestApp
const routes: { method: string; path: string }[] = []

beforeAll(async () => {
  // Each route below gets fresh tokens for a fresh caller; the plan limit is not under test here.
  t = await createTestApp({ now: clock.now, env: { PLAN_LIMITS: '{"free":{"maxApiTokens":1000}}' } })
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
      ['a malformed personal access token', { authorization: 'Bearer lvp_short' }],
      ['an unknown personal access token', { authorization: `Bearer lvp_${'A'.repeat(43)}` }],
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

  it('every protected route declares its token access, and every route is in the OpenAPI document', () => {
    const protectedIds = routes
      .filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))
      .map((r) => `${r.method} ${r.path}`)
    for (const id of protectedIds) expect(ACCESS, `declare ${id} in ACCESS`).toHaveProperty([id])
    for (const id of Object.keys(ACCESS)) expect(protectedIds, `ACCESS lists ${id}`).toContain(id)
    const doc = openApiDocument('http://localhost') as { paths: Record<string, Record<string, unknown>> }
    for (const r of routes.filter((r) => r.path !== '/api/v1/openapi.json')) {
      const path = r.path.replace(/:(\w+)/g, '{$1}')
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} in openapi.json`).toBeDefined()
    }
  })

  it('personal access tokens: the declared scope gets through, every other scope is 403 INSUFFICIENT_SCOPE, account changes 403 TOKEN_NOT_ALLOWED', async () => {
    for (const r of routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))) {
      const id = `${r.method} ${r.path}`
      const access = ACCESS[id]!
      const s = await caller()
      const mint = async (scopes: (typeof SCOPES)[number][]) =>
        (await createApiToken(t.deps, s.user.id, { name: 'contract', scopes, expiresInDays: 1 })).token
      if (access === SESSION_ONLY) {
        const res = await send(r.method, s.url(r.path), {
          authorization: `Bearer ${await mint([...SCOPES])}`,
        })
        expect(res.status, id).toBe(403)
        expect((await problemOf(res)).code, id).toBe('TOKEN_NOT_ALLOWED')
        continue
      }
      const others = SCOPES.filter((x) => x !== access)
      const refused = await send(r.method, s.url(r.path), { authorization: `Bearer ${await mint(others)}` })
      expect(refused.status, `${id} without ${access}`).toBe(403)
      expect((await problemOf(refused)).code, `${id} without ${access}`).toBe('INSUFFICIENT_SCOPE')
      const ok = await send(r.method, s.url(r.path), { authorization: `Bearer ${await mint([access])}` })
      expect(ok.status, `${id} with only ${access}`).not.toBe(401)
      expect(ok.status, `${id} with only ${access}`).toBeLessThan(500)
      if (ok.status === 403) {
        expect(['INSUFFICIENT_SCOPE', 'TOKEN_NOT_ALLOWED'], id).not.toContain((await problemOf(ok)).code)
      }
    }
  })

  it('refuse a revoked or expired personal access token with 401 on every protected route', async () => {
    const s = await caller()
    const all = { name: 'contract', scopes: [...SCOPES], expiresInDays: 1 }
    const revoked = await createApiToken(t.deps, s.user.id, all)
    await revokeApiToken(t.deps, s.user.id, revoked.row.id)
    const expiring = await createApiToken(t.deps, s.user.id, all)
    clock.advance(86_400_000)
    try {
      for (const r of routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`))) {
        for (const [name, token] of [
          ['revoked', revoked.token],
          ['expired', expiring.token],
        ] as const) {
          const res = await send(r.method, s.url(r.path), { authorization: `Bearer ${token}` })
          expect(res.status, `${r.method} ${r.path} ${name}`).toBe(401)
          expect((await problemOf(res)).code).toBe('UNAUTHORIZED')
        }
      }
    } finally {
      clock.advance(-86_400_000)
    }
  })
})
