import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs, problemOf } from '../../test/auth-client.js'
import {
  createUser,
  loggedIn,
  PASSWORD,
  reloadUser,
  streamKeyFor,
  uniqueUsername,
} from '../../test/factories.js'
import { createTestApp, fromPeer, manualClock, type TestApp } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { auditEvents, streamSessions, users } from '../db/schema/index.js'

const clock = manualClock()
let t: TestApp
let admin: Awaited<ReturnType<typeof loggedIn>>

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
  admin = await loggedIn(t.deps, { role: 'admin' })
})
afterAll(() => t.close())

const asAdmin = (method: string, path: string, body?: unknown) =>
  call(t, method, `/api/v1/admin${path}`, {
    token: admin.accessToken,
    ...(body === undefined ? {} : { body }),
  })
const me = (token: string) => call(t, 'GET', '/api/v1/me', { token })
type Page = { users: { id: string; username: string; email: string }[]; nextCursor: string | null }

describe('who may use /admin', () => {
  it('refuses a normal user with 403 on every admin route', async () => {
    const u = await loggedIn(t.deps)
    const victim = await createUser(t.deps)
    for (const [method, path] of [
      ['GET', '/users'],
      ['GET', `/users/${victim.id}`],
      ['POST', `/users/${victim.id}/disable`],
      ['POST', `/users/${victim.id}/enable`],
      ['POST', `/users/${victim.id}/promote`],
      ['DELETE', `/users/${victim.id}/sessions`],
    ] as const) {
      const res = await call(t, method, `/api/v1/admin${path}`, { token: u.accessToken })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect((await problemOf(res)).code).toBe('FORBIDDEN')
    }
    expect((await reloadUser(t.deps, victim.id)).role).toBe('user')
  })

  it('takes the role from the database: a demoted admin is refused at once, token or not', async () => {
    const other = await loggedIn(t.deps, { role: 'admin' })
    expect((await call(t, 'GET', '/api/v1/admin/users', { token: other.accessToken })).status).toBe(200)
    await t.deps.db.update(users).set({ role: 'user' }).where(eq(users.id, other.user.id))
    expect((await call(t, 'GET', '/api/v1/admin/users', { token: other.accessToken })).status).toBe(403)
  })
})

describe('GET /admin/users', () => {
  it('searches email and username case-insensitively, literal wildcards included', async () => {
    const tag = uniqueUsername('srch')
    const a = await createUser(t.deps, { username: `${tag}_a` })
    await createUser(t.deps, { username: `${tag}xb` })
    const res = await asAdmin('GET', `/users?q=${tag.toUpperCase()}_`)
    expect(res.status).toBe(200)
    const page = (await res.json()) as Page
    // "_" is not a wildcard: only the username with a literal underscore after the tag matches.
    expect(page.users.map((u) => u.username)).toEqual([a.username])
    expect(page.users[0]).toMatchObject({ email: a.email, role: 'user', disabledAt: null })
    expect(page.users[0]).not.toHaveProperty('passwordHash')
  })

  it('pages through results with a cursor, newest first, without repeats or gaps', async () => {
    const tag = uniqueUsername('page')
    const made = []
    for (let i = 0; i < 5; i++) made.push(await createUser(t.deps, { username: `${tag}${i}` }))
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: Page = (await (
        await asAdmin('GET', `/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as Page
      expect(page.users.length).toBeLessThanOrEqual(2)
      seen.push(...page.users.map((u) => u.username))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(made.map((u) => u.username).reverse())
  })

  it('filters by role and disabled state', async () => {
    const page = (await (await asAdmin('GET', '/users?role=admin&limit=100')).json()) as Page
    expect(page.users.map((u) => u.id)).toContain(admin.user.id)
    const rows = await t.deps.db.select().from(users).where(eq(users.role, 'user'))
    expect(page.users.some((u) => rows.some((r) => r.id === u.id))).toBe(false)
  })

  it('answers bad queries with 422 problem+json', async () => {
    for (const q of ['limit=0', 'limit=1000', 'role=root', 'cursor=nonsense']) {
      const res = await asAdmin('GET', `/users?${q}`)
      expect(res.status, q).toBe(422)
      await problemOf(res)
    }
  })
})

describe('disable and enable', () => {
  it('ends the sessions and the live stream of a disabled user, who cannot log back in until enabled', async () => {
    const target = await loggedIn(t.deps)
    const { key } = await streamKeyFor(t.deps, target.user)
    // Go live the way nginx does it.
    const q = new URLSearchParams({ node: 'n1', secret: t.deps.config.HOOK_SECRET })
    const publish = await t.app.request(
      `/hooks/rtmp/publish?${q}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `app=live&flashver=FMLE%2F3.0&addr=127.0.0.1&clientid=77&call=publish&name=${key}&type=live`,
      },
      fromPeer('127.0.0.1'),
    )
    expect(publish.status).toBe(302)
    const live = (await t.deps.live.get(target.user.username))!

    const res = await asAdmin('POST', `/users/${target.user.id}/disable`, { reason: 'spam' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { disabledAt: string | null }).disabledAt).not.toBeNull()

    expect((await me(target.accessToken)).status).toBe(401)
    expect(
      (await call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: target.refreshToken } })).status,
    ).toBe(401)
    expect(await t.deps.live.get(target.user.username)).toBeNull()
    // History follows from the offline event (live/effects.ts), a moment later.
    await waitFor(
      async () => {
        const [session] = await t.deps.db
          .select()
          .from(streamSessions)
          .where(eq(streamSessions.id, live.sessionId))
        return session?.endReason === 'account_disabled' || null
      },
      { what: 'the session closed as account_disabled' },
    )
    const login = await call(t, 'POST', '/api/v1/auth/login', {
      body: { email: target.user.email, password: PASSWORD },
    })
    expect(login.status).toBe(401)
    const [audit] = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, target.user.id), eq(auditEvents.type, 'admin.user.disabled')))
    expect(audit).toMatchObject({
      actorId: admin.user.id,
      data: { reason: 'spam', sessionsEnded: 1 },
    })

    expect((await asAdmin('POST', `/users/${target.user.id}/enable`)).status).toBe(200)
    await loginAs(t, target.user.email, PASSWORD)
  })

  it('will not let an admin disable themselves', async () => {
    const res = await asAdmin('POST', `/users/${admin.user.id}/disable`)
    expect(res.status).toBe(409)
    expect((await me(admin.accessToken)).status).toBe(200)
  })

  it('answers 404 for an unknown user and 422 for a malformed id', async () => {
    expect((await asAdmin('POST', '/users/00000000-0000-4000-8000-000000000000/disable')).status).toBe(404)
    expect((await asAdmin('POST', '/users/not-a-uuid/disable')).status).toBe(422)
  })
})

describe('promote and sign out', () => {
  it('makes a user admin; their next token carries the role', async () => {
    const u = await createUser(t.deps)
    const res = await asAdmin('POST', `/users/${u.id}/promote`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { role: string }).role).toBe('admin')
    const s = await loginAs(t, u.email, PASSWORD)
    expect(s.user.role).toBe('admin')
    expect((await call(t, 'GET', '/api/v1/admin/users', { token: s.accessToken })).status).toBe(200)
    const [audit] = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, u.id), eq(auditEvents.type, 'admin.user.promoted')))
    expect(audit!.actorId).toBe(admin.user.id)
  })

  it('signs a user out everywhere', async () => {
    const target = await loggedIn(t.deps)
    const res = await asAdmin('DELETE', `/users/${target.user.id}/sessions`)
    expect(await res.json()).toEqual({ sessionsEnded: 1 })
    expect((await me(target.accessToken)).status).toBe(401)
    const detail = (await (await asAdmin('GET', `/users/${target.user.id}`)).json()) as {
      openSessions: number
    }
    expect(detail.openSessions).toBe(0)
  })
})
