/**
 * Personal access tokens through the API: shown once and hashed at rest, listed without the
 * secret, usable as a Bearer within their scopes, refused once revoked or expired, last use
 * recorded at most once a minute with the client's address, and capped per plan.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens } from '../../src/db/schema/index.js'
import { call, problemOf } from '../../test/auth-client.js'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'

const clock = manualClock()
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ now: clock.now, env: { PLAN_LIMITS: '{"free":{"maxApiTokens":3}}' } })
})
afterAll(() => t.close())

type Created = { id: string; token: string; preview: string; scopes: string[]; expiresAt: string }

async function create(session: string, body: unknown, ip = '203.0.113.9') {
  return call(t, 'POST', '/api/v1/tokens', { token: session, body, ip })
}

describe('/api/v1/tokens', () => {
  it('shows the token once (lvp_ prefix), stores only its hash, lists it without the secret', async () => {
    const s = await loggedIn(t.deps)
    const res = await create(s.accessToken, { name: 'ci', scopes: ['channel:read'], expiresInDays: 7 })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Created
    expect(body.token).toMatch(/^lvp_[A-Za-z0-9_-]{43}$/)
    expect(body.preview).toBe(`lvp_…${body.token.slice(-4)}`)
    expect(Date.parse(body.expiresAt) - clock.now()).toBe(7 * 86_400_000)
    const [row] = await t.deps.db.select().from(apiTokens).where(eq(apiTokens.id, body.id))
    expect(JSON.stringify(row)).not.toContain(body.token.slice(4))
    const list = await call(t, 'GET', '/api/v1/tokens', { token: s.accessToken })
    const listed = (await list.json()) as Record<string, unknown>[]
    expect(listed).toHaveLength(1)
    expect(Object.keys(listed[0]!).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'lastUsedIp', 'name', 'preview', 'scopes'].sort(),
    )
    expect(JSON.stringify(listed)).not.toContain(body.token)
  })

  it('authenticates as its user within its scopes; a token never manages tokens or logs out', async () => {
    const s = await loggedIn(t.deps)
    const { token } = (await (
      await create(s.accessToken, { name: 'bot', scopes: ['channel:read', 'channel:write'] })
    ).json()) as Created
    const me = await call(t, 'GET', '/api/v1/me', { token })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { id: string }).id).toBe(s.user.id)
    const keys = await call(t, 'GET', '/api/v1/stream-keys', { token })
    expect(keys.status).toBe(403)
    expect((await problemOf(keys)).code).toBe('INSUFFICIENT_SCOPE')
    for (const [method, path] of [
      ['POST', '/api/v1/tokens'],
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/auth/logout'],
    ] as const) {
      const body = method === 'GET' ? {} : { body: { name: 'x', scopes: ['channel:read'] } }
      const res = await call(t, method, path, { token, ...body })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect((await problemOf(res)).code).toBe('TOKEN_NOT_ALLOWED')
    }
  })

  it('refuses unknown scopes and bad lifetimes with 422', async () => {
    const s = await loggedIn(t.deps)
    for (const body of [
      { name: 'x', scopes: ['admin'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['chat:write'], expiresInDays: 0 },
      { name: '', scopes: ['chat:write'] },
    ]) {
      const res = await create(s.accessToken, body)
      expect(res.status, JSON.stringify(body)).toBe(422)
      expect((await problemOf(res)).code).toBe('VALIDATION')
    }
  })

  it('a revoked token is 401 at once; revoking someone else’s token is 404', async () => {
    const s = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const created = (await (
      await create(s.accessToken, { name: 'r', scopes: ['channel:read'] })
    ).json()) as Created
    expect((await call(t, 'GET', '/api/v1/me', { token: created.token })).status).toBe(200)
    const foreign = await call(t, 'DELETE', `/api/v1/tokens/${created.id}`, { token: other.accessToken })
    expect(foreign.status).toBe(404)
    expect((await call(t, 'DELETE', `/api/v1/tokens/${created.id}`, { token: s.accessToken })).status).toBe(
      204,
    )
    const after = await call(t, 'GET', '/api/v1/me', { token: created.token })
    expect(after.status).toBe(401)
    expect((await problemOf(after)).code).toBe('UNAUTHORIZED')
    const list = (await (
      await call(t, 'GET', '/api/v1/tokens', { token: s.accessToken })
    ).json()) as unknown[]
    expect(list).toHaveLength(0)
  })

  it('expires after expiresInDays', async () => {
    const s = await loggedIn(t.deps)
    const { token } = (await (
      await create(s.accessToken, { name: 'e', scopes: ['channel:read'], expiresInDays: 2 })
    ).json()) as Created
    clock.advance(2 * 86_400_000 - 1000)
    try {
      expect((await call(t, 'GET', '/api/v1/me', { token })).status).toBe(200)
      clock.advance(1000)
      const res = await call(t, 'GET', '/api/v1/me', { token })
      expect(res.status).toBe(401)
      expect((await problemOf(res)).detail).toBe('token expired')
    } finally {
      clock.advance(-2 * 86_400_000)
    }
  })

  it('records lastUsedAt and lastUsedIp at most once a minute', async () => {
    const s = await loggedIn(t.deps)
    const { id, token } = (await (
      await create(s.accessToken, { name: 'l', scopes: ['channel:read'] })
    ).json()) as Created
    const read = async () => (await t.deps.db.select().from(apiTokens).where(eq(apiTokens.id, id)))[0]!
    expect((await read()).lastUsedAt).toBeNull()
    await call(t, 'GET', '/api/v1/me', { token, ip: '198.51.100.1' })
    const first = await read()
    expect(first.lastUsedAt?.getTime()).toBe(clock.now())
    expect(first.lastUsedIp).toBe('198.51.100.1')
    clock.advance(59_000)
    await call(t, 'GET', '/api/v1/me', { token, ip: '198.51.100.2' })
    expect((await read()).lastUsedAt?.getTime()).toBe(first.lastUsedAt?.getTime()) // no write within the minute
    clock.advance(1000)
    await call(t, 'GET', '/api/v1/me', { token, ip: '198.51.100.3' })
    const third = await read()
    expect(third.lastUsedAt?.getTime()).toBe(clock.now())
    expect(third.lastUsedIp).toBe('198.51.100.3')
    const listed = (await (await call(t, 'GET', '/api/v1/tokens', { token: s.accessToken })).json()) as {
      lastUsedIp: string
    }[]
    expect(listed[0]!.lastUsedIp).toBe('198.51.100.3')
  })

  it('caps active tokens per plan (maxApiTokens), and rate-limits creation', async () => {
    const s = await loggedIn(t.deps)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await create(s.accessToken, { name: `t${i}`, scopes: ['channel:read'] })
      expect(res.status).toBe(201)
      ids.push(((await res.json()) as Created).id)
    }
    const over = await create(s.accessToken, { name: 'over', scopes: ['channel:read'] })
    expect(over.status).toBe(403)
    expect((await problemOf(over)).code).toBe('PLAN_LIMIT')
    await call(t, 'DELETE', `/api/v1/tokens/${ids[0]}`, { token: s.accessToken })
    expect((await create(s.accessToken, { name: 'again', scopes: ['channel:read'] })).status).toBe(201)
    // 5 creations so far; the hourly budget is 10, counted whether or not the plan allowed them.
    const statuses: number[] = []
    for (let i = 0; i < 6; i++)
      statuses.push((await create(s.accessToken, { name: 'x', scopes: ['chat:write'] })).status)
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429])
  })
})
