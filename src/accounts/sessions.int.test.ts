import { and, eq, isNull } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs, problemOf, setCookie } from '../../test/auth-client.js'
import { createUser, PASSWORD } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { auditEvents, authSessions, refreshTokens } from '../db/schema/index.js'
import type { UserRevokedEvent } from './user-events.js'

const clock = manualClock()
let t: TestApp
const ORIGIN = 'http://localhost:8080'

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const GRACE_MS = 10_000 // REFRESH_REUSE_GRACE_S's default
const refresh = (refreshToken: string) => call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } })
const me = (token: string) => call(t, 'GET', '/api/v1/me', { token })

async function session(opts: { remember?: boolean } = {}) {
  const user = await createUser(t.deps)
  return { ...(await loginAs(t, user.email, PASSWORD, opts)), user }
}

/** Collects users:revoked events, which the chat hub uses to close sockets. */
async function revokedEvents(run: () => Promise<void>): Promise<UserRevokedEvent[]> {
  const sub = t.deps.redis.duplicate()
  const events: UserRevokedEvent[] = []
  const channel = t.deps.keys.userRevoked()
  sub.on(
    'message',
    (ch: string, msg: string) => ch === channel && events.push(JSON.parse(msg) as UserRevokedEvent),
  )
  await sub.subscribe(channel)
  try {
    await run()
    await t.deps.redis.publish(channel, JSON.stringify({ userId: 'marker', reason: 'marker' }))
    // Pub/sub keeps order on one connection: once the marker is in, every earlier event is too.
    await new Promise<void>((resolve) => {
      const check = () => (events.some((e) => e.userId === 'marker') ? resolve() : setImmediate(check))
      check()
    })
    return events.filter((e) => e.userId !== 'marker')
  } finally {
    sub.disconnect()
  }
}

describe('refresh rotation', () => {
  it('exchanges a refresh token for new tokens, once', async () => {
    const s = await session()
    const res = await refresh(s.refreshToken)
    expect(res.status).toBe(200)
    const next = (await res.json()) as { accessToken: string; refreshToken: string; user: { id: string } }
    expect(next.refreshToken).not.toBe(s.refreshToken)
    expect(next.refreshToken).toMatch(/^[a-z0-9]{16}\.[a-z0-9]{40}$/)
    expect(next.user.id).toBe(s.user.id)
    expect((await me(next.accessToken)).status).toBe(200)
    expect((await refresh(next.refreshToken)).status).toBe(200)
  })

  it('treats a used token as theft: the whole family is revoked, logged and announced', async () => {
    const s = await session()
    const rotated = (await (await refresh(s.refreshToken)).json()) as {
      accessToken: string
      refreshToken: string
    }
    clock.advance(GRACE_MS) // a replay inside the grace would be taken for a retry
    const events = await revokedEvents(async () => {
      const replay = await refresh(s.refreshToken)
      expect(replay.status).toBe(401)
      expect((await problemOf(replay)).code).toBe('UNAUTHORIZED')
    })
    // The legitimate holder's newer tokens die with the family, access token included, at once.
    expect((await refresh(rotated.refreshToken)).status).toBe(401)
    expect((await me(rotated.accessToken)).status).toBe(401)
    expect((await me(s.accessToken)).status).toBe(401)
    const [row] = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, s.user.id), eq(auditEvents.type, 'auth.refresh.reuse')))
    expect(row).toBeDefined()
    expect(events).toEqual([{ userId: s.user.id, reason: 'refresh_token_reuse', sid: expect.any(String) }])
  })

  it('with REFRESH_REUSE_GRACE_S=0, lets only one of two racing refreshes win', async () => {
    const strict = await createTestApp({ now: clock.now, env: { REFRESH_REUSE_GRACE_S: '0' } })
    try {
      const user = await createUser(strict.deps)
      const s = await loginAs(strict, user.email, PASSWORD)
      const again = () =>
        call(strict, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } })
      const results = await Promise.all([again(), again()])
      expect(results.map((r) => r.status).sort()).toEqual([200, 401])
    } finally {
      await strict.close()
    }
  })

  it.each([
    ['garbage', 'nope'],
    ['right shape, unknown', `${'a'.repeat(16)}.${'b'.repeat(40)}`],
  ])('refuses a %s token with 401', async (_l, token) => {
    expect((await refresh(token)).status).toBe(401)
  })

  it('refuses a known id with the wrong secret, without harming the real token', async () => {
    const s = await session()
    const [id] = s.refreshToken.split('.')
    expect((await refresh(`${id}.${'c'.repeat(40)}`)).status).toBe(401)
    expect((await refresh(s.refreshToken)).status).toBe(200)
  })
})

type Tokens = { accessToken: string; refreshToken: string }

describe('refresh reuse grace (REFRESH_REUSE_GRACE_S)', () => {
  it('answers a retry of a lost response with the same successor, and the session lives on', async () => {
    const s = await session()
    const lost = await refresh(s.refreshToken)
    expect(lost.status).toBe(200)
    const thrownAway = (await lost.json()) as Tokens
    clock.advance(GRACE_MS - 1000)
    const retry = await refresh(s.refreshToken)
    expect(retry.status).toBe(200)
    const got = (await retry.json()) as Tokens
    // One chain: the retry gets the head the lost answer carried, not a second live token.
    expect(got.refreshToken).toBe(thrownAway.refreshToken)
    expect(setCookie(retry, 'refresh_token')!.pair).toBe(`refresh_token=${got.refreshToken}`)
    expect((await me(got.accessToken)).status).toBe(200)
    expect((await me(s.accessToken)).status).toBe(200)
    const further = await refresh(got.refreshToken)
    expect(further.status).toBe(200)
    expect((await me(((await further.json()) as Tokens).accessToken)).status).toBe(200)
    const reuse = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, s.user.id), eq(auditEvents.type, 'auth.refresh.reuse')))
    expect(reuse).toEqual([])
  })

  it('never logs anyone out when many refreshes race with the same token', async () => {
    const s = await session()
    let token = s.refreshToken
    let bodies: Tokens[] = []
    // A few generations in a row: each is one burst of 8 concurrent refreshes with one token.
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 8 }, () => refresh(token)))
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200))
      bodies = (await Promise.all(results.map((r) => r.json()))) as Tokens[]
      expect(new Set(bodies.map((b) => b.refreshToken)).size).toBe(1)
      for (const b of bodies) expect((await me(b.accessToken)).status).toBe(200)
      token = bodies[0]!.refreshToken
    }
    // Still one chain: the session has exactly one unused token, and it works.
    const { sid } = await t.deps.tokens.verifyAccess(bodies[0]!.accessToken)
    const live = await t.deps.db
      .select()
      .from(refreshTokens)
      .where(and(eq(refreshTokens.sessionId, sid), isNull(refreshTokens.usedAt)))
    expect(live).toHaveLength(1)
    expect((await refresh(token)).status).toBe(200)
  })

  it('revokes the family for a replay after the grace, logged and audited', async () => {
    const s = await session()
    const next = (await (await refresh(s.refreshToken)).json()) as Tokens
    clock.advance(GRACE_MS)
    const events = await revokedEvents(async () => {
      expect((await refresh(s.refreshToken)).status).toBe(401)
    })
    expect((await refresh(next.refreshToken)).status).toBe(401)
    expect((await me(next.accessToken)).status).toBe(401)
    expect(events).toEqual([{ userId: s.user.id, reason: 'refresh_token_reuse', sid: expect.any(String) }])
    const [row] = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, s.user.id), eq(auditEvents.type, 'auth.refresh.reuse')))
    expect(row).toBeDefined()
  })

  it('revokes the family for a replay inside the grace once the chain has moved on', async () => {
    const s = await session()
    const t1 = (await (await refresh(s.refreshToken)).json()) as Tokens
    const t2 = (await (await refresh(t1.refreshToken)).json()) as Tokens
    expect((await refresh(s.refreshToken)).status).toBe(401)
    expect((await me(t2.accessToken)).status).toBe(401)
    expect((await refresh(t2.refreshToken)).status).toBe(401)
  })
})

describe('session lifetimes', () => {
  /** Keeps the session active (refresh every hour) until `ms` has passed; returns the last token. */
  async function keepAlive(token: string, ms: number) {
    let current = token
    for (let passed = 0; passed + 3600_000 < ms; passed += 3600_000) {
      clock.advance(3600_000)
      const res = await refresh(current)
      expect(res.status).toBe(200)
      current = ((await res.json()) as { refreshToken: string }).refreshToken
    }
    return current
  }

  it('ends a browser session 12 hours after login however active it is', async () => {
    const s = await session()
    const start = clock.now()
    const last = await keepAlive(s.refreshToken, 12 * 3600_000)
    clock.set(start + 12 * 3600_000)
    expect((await refresh(last)).status).toBe(401)
  })

  it('ends a browser session after 2 idle hours', async () => {
    const s = await session()
    clock.advance(2 * 3600_000 - 1000)
    const alive = (await (await refresh(s.refreshToken)).json()) as { refreshToken: string }
    clock.advance(2 * 3600_000)
    expect((await refresh(alive.refreshToken)).status).toBe(401)
  })

  it('keeps a remembered session for 30 days, not longer, with the cookie ageing along', async () => {
    const s = await session({ remember: true })
    const start = clock.now()
    let token = s.refreshToken
    for (let day = 1; day < 30; day++) {
      clock.set(start + day * 24 * 3600_000)
      const res = await refresh(token)
      expect(res.status).toBe(200)
      expect(setCookie(res, 'refresh_token')!.attributes).toContain(`Max-Age=${(30 - day) * 24 * 3600}`)
      token = ((await res.json()) as { refreshToken: string }).refreshToken
    }
    clock.set(start + 30 * 24 * 3600_000)
    expect((await refresh(token)).status).toBe(401)
  })
})

describe('logout', () => {
  it('kills the access token at once and the refresh token, and announces it', async () => {
    const s = await session()
    const other = await loginAs(t, s.user.email, PASSWORD)
    const events = await revokedEvents(async () => {
      const res = await call(t, 'POST', '/api/v1/auth/logout', { token: s.accessToken })
      expect(res.status).toBe(204)
      expect(setCookie(res, 'refresh_token')!.attributes).toMatch(/Max-Age=0/)
    })
    expect((await me(s.accessToken)).status).toBe(401)
    expect((await refresh(s.refreshToken)).status).toBe(401)
    // Another device is untouched.
    expect((await me(other.accessToken)).status).toBe(200)
    expect(events).toEqual([{ userId: s.user.id, reason: 'logout', sid: expect.any(String) }])
    const types = (await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, s.user.id))).map(
      (a) => a.type,
    )
    expect(types).toContain('auth.logout')
  })

  it('?everywhere=true ends every session of the user', async () => {
    const s = await session()
    const other = await loginAs(t, s.user.email, PASSWORD, { remember: true })
    expect(
      (await call(t, 'POST', '/api/v1/auth/logout?everywhere=true', { token: s.accessToken })).status,
    ).toBe(204)
    for (const x of [s, other]) {
      expect((await me(x.accessToken)).status).toBe(401)
      expect((await refresh(x.refreshToken)).status).toBe(401)
    }
  })

  it('wants a credential', async () => {
    const res = await call(t, 'POST', '/api/v1/auth/logout')
    expect(res.status).toBe(401)
    await problemOf(res)
  })
})

describe('cookie-authenticated requests (CSRF)', () => {
  const cookieOf = (s: { refreshToken: string }) => `refresh_token=${s.refreshToken}`

  it('refreshes from the cookie when the request comes from our origin', async () => {
    const s = await session()
    const res = await call(t, 'POST', '/api/v1/auth/refresh', {
      cookie: cookieOf(s),
      headers: { origin: ORIGIN },
    })
    expect(res.status).toBe(200)
    const set = setCookie(res, 'refresh_token')!
    expect(set.pair).toMatch(/^refresh_token=[a-z0-9]{16}\.[a-z0-9]{40}$/)
    expect(set.pair).not.toBe(cookieOf(s))
    const again = await call(t, 'POST', '/api/v1/auth/refresh', {
      cookie: set.pair,
      headers: { origin: ORIGIN },
    })
    expect(again.status).toBe(200)
  })

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['a sibling subdomain', { origin: 'http://chat.localhost:8080' }],
    ['Origin: null', { origin: 'null' }],
    ['no Origin, cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
    ['no Origin, same-site fetch', { 'sec-fetch-site': 'same-site' }],
    ['no Origin at all', {}],
  ])('refuses a cookie refresh from %s with 403 and leaves the token usable', async (_l, headers) => {
    const s = await session()
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
      const res = await call(t, 'POST', '/api/v1/auth/refresh', {
        cookie: cookieOf(s),
        headers: { ...headers, 'content-type': contentType },
        raw: contentType === 'application/json' ? '{}' : '',
      })
      expect(res.status).toBe(403)
      expect((await problemOf(res)).code).toBe('FORBIDDEN')
    }
    expect((await refresh(s.refreshToken)).status).toBe(200)
  })

  it('accepts Sec-Fetch-Site: same-origin when a browser sends no Origin', async () => {
    const s = await session()
    const res = await call(t, 'POST', '/api/v1/auth/refresh', {
      cookie: cookieOf(s),
      headers: { 'sec-fetch-site': 'same-origin' },
    })
    expect(res.status).toBe(200)
  })

  it('logs out with the cookie alone from our origin, and not from another', async () => {
    const s = await session()
    const evil = await call(t, 'POST', '/api/v1/auth/logout', {
      cookie: cookieOf(s),
      headers: { origin: 'https://evil.example' },
    })
    expect(evil.status).toBe(403)
    expect((await me(s.accessToken)).status).toBe(200)
    const ok = await call(t, 'POST', '/api/v1/auth/logout', {
      cookie: cookieOf(s),
      headers: { origin: ORIGIN },
    })
    expect(ok.status).toBe(204)
    expect((await me(s.accessToken)).status).toBe(401)
    expect((await refresh(s.refreshToken)).status).toBe(401)
  })

  it('needs no Origin for a refresh token sent in the body (not a browser credential)', async () => {
    const s = await session()
    const res = await call(t, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: s.refreshToken },
      headers: { origin: 'https://evil.example' },
    })
    expect(res.status).toBe(200)
  })
})

describe('refresh token delivery: the cookie only, for browsers', () => {
  const bodyOf = async (res: Response) => (await res.json()) as Record<string, unknown>
  const login = (user: { email: string }, headers: Record<string, string>) =>
    call(t, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD }, headers })

  it.each([
    ['Origin', { origin: ORIGIN }],
    ['Sec-Fetch-Site', { 'sec-fetch-site': 'same-origin' }],
  ])(
    'a browser login (%s) gets the refresh token in the HttpOnly cookie and nowhere else',
    async (_l, headers) => {
      const user = await createUser(t.deps)
      const res = await login(user, headers)
      expect(res.status).toBe(200)
      const body = await bodyOf(res)
      expect(body).not.toHaveProperty('refreshToken')
      expect(body).toMatchObject({
        tokenType: 'Bearer',
        accessToken: expect.any(String),
        user: { id: user.id },
      })
      const cookie = setCookie(res, 'refresh_token')!
      expect(cookie.attributes).toContain('HttpOnly')
      const token = cookie.pair.slice('refresh_token='.length)
      expect(JSON.stringify(body)).not.toContain(token)
      // …and the cookie refresh answers the same way.
      const next = await call(t, 'POST', '/api/v1/auth/refresh', {
        cookie: cookie.pair,
        headers: { origin: ORIGIN },
      })
      expect(next.status).toBe(200)
      const nextBody = await bodyOf(next)
      expect(nextBody).not.toHaveProperty('refreshToken')
      expect(JSON.stringify(nextBody)).not.toContain(setCookie(next, 'refresh_token')!.pair.split('=')[1])
      expect((await me(nextBody.accessToken as string)).status).toBe(200)
    },
  )

  it('a browser that posts a refresh token in the body still gets the successor in the cookie only', async () => {
    const s = await session()
    const res = await call(t, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: s.refreshToken },
      headers: { origin: ORIGIN },
    })
    expect(res.status).toBe(200)
    expect(await bodyOf(res)).not.toHaveProperty('refreshToken')
    expect(setCookie(res, 'refresh_token')).toBeDefined()
  })

  it('a browser password change gets its new session in the cookie only', async () => {
    const s = await session()
    const res = await call(t, 'POST', '/api/v1/auth/password/change', {
      token: s.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'another long passphrase 42' },
      headers: { origin: ORIGIN },
    })
    expect(res.status).toBe(200)
    expect(await bodyOf(res)).not.toHaveProperty('refreshToken')
  })

  it('API clients (no Origin, no Sec-Fetch-Site) keep getting it in the body, as API.md promises', async () => {
    const user = await createUser(t.deps)
    // Node's fetch sends Sec-Fetch-Mode on its own: that alone does not make a browser.
    const res = await login(user, { 'sec-fetch-mode': 'cors' })
    const body = await bodyOf(res)
    expect(Object.keys(body).sort()).toEqual([
      'accessToken',
      'expiresIn',
      'refreshToken',
      'tokenType',
      'user',
    ])
    const next = await refresh(body.refreshToken as string)
    expect(await bodyOf(next)).toHaveProperty('refreshToken', expect.stringMatching(/^[a-z0-9]{16}\./))
  })
})

describe('secure cookies behind https', () => {
  it('names the cookie __Secure-refresh_token and marks it Secure', async () => {
    const https = await createTestApp({ now: clock.now, env: { PUBLIC_URL: 'https://live.example' } })
    try {
      const user = await createUser(https.deps)
      const { res, refreshToken } = await loginAs(https, user.email, PASSWORD)
      const c = setCookie(res, '__Secure-refresh_token')!
      expect(c.attributes).toContain('Secure')
      expect(c.attributes).toContain('HttpOnly')
      const again = await call(https, 'POST', '/api/v1/auth/refresh', {
        cookie: `__Secure-refresh_token=${refreshToken}`,
        headers: { origin: 'https://live.example' },
      })
      expect(again.status).toBe(200)
    } finally {
      await https.close()
    }
  })
})

describe('GET and DELETE /sessions', () => {
  it('lists the open sessions and ends one of them', async () => {
    const s = await session()
    const other = await loginAs(t, s.user.email, PASSWORD, { remember: true })
    const list = await call(t, 'GET', '/api/v1/auth/sessions', { token: s.accessToken })
    expect(list.status).toBe(200)
    const sessions = (await list.json()) as { id: string; current: boolean; remember: boolean }[]
    expect(sessions).toHaveLength(2)
    expect(sessions.filter((x) => x.current)).toHaveLength(1)
    const target = sessions.find((x) => !x.current)!
    expect(target.remember).toBe(true)
    expect(
      (await call(t, 'DELETE', `/api/v1/auth/sessions/${target.id}`, { token: s.accessToken })).status,
    ).toBe(204)
    expect((await me(other.accessToken)).status).toBe(401)
    expect((await refresh(other.refreshToken)).status).toBe(401)
    expect((await me(s.accessToken)).status).toBe(200)
    const [row] = await t.deps.db.select().from(authSessions).where(eq(authSessions.id, target.id))
    expect(row!.revokeReason).toBe('ended_by_user')
  })

  it("cannot end another user's session", async () => {
    const a = await session()
    const b = await session()
    const [bSession] = (await (
      await call(t, 'GET', '/api/v1/auth/sessions', { token: b.accessToken })
    ).json()) as { id: string }[]
    const res = await call(t, 'DELETE', `/api/v1/auth/sessions/${bSession!.id}`, { token: a.accessToken })
    expect(res.status).toBe(404)
    expect((await me(b.accessToken)).status).toBe(200)
  })
})
