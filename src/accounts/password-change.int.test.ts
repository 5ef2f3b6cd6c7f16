import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs, problemOf, setCookie } from '../../test/auth-client.js'
import { createUser, PASSWORD } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { auditEvents } from '../db/schema/index.js'
import { issueEmailToken } from './email-tokens.js'

const clock = manualClock()
let t: TestApp
const NEW_PASSWORD = 'velvet harbour compass 88'

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const change = (token: string, currentPassword: string, newPassword: string) =>
  call(t, 'POST', '/api/v1/auth/password/change', { token, body: { currentPassword, newPassword } })
const me = (token: string) => call(t, 'GET', '/api/v1/me', { token })

describe('POST /password/change', () => {
  it('ends every session, opens a fresh one for the caller, and swaps the password', async () => {
    const user = await createUser(t.deps)
    const here = await loginAs(t, user.email, PASSWORD, { remember: true })
    const elsewhere = await loginAs(t, user.email, PASSWORD)
    const resetToken = await issueEmailToken(t.deps.db, user.id, 'reset_password', clock.now())

    const res = await change(here.accessToken, PASSWORD, NEW_PASSWORD)
    expect(res.status).toBe(200)
    const fresh = (await res.json()) as { accessToken: string; refreshToken: string }
    // "remember me" carries over to the new session's cookie.
    expect(setCookie(res, 'refresh_token')!.attributes).toContain('Max-Age=')

    for (const old of [here, elsewhere]) {
      expect((await me(old.accessToken)).status).toBe(401)
      expect(
        (await call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: old.refreshToken } })).status,
      ).toBe(401)
    }
    expect((await me(fresh.accessToken)).status).toBe(200)
    expect(
      (await call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status,
    ).toBe(200)
    expect(
      (await call(t, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } }))
        .status,
    ).toBe(401)
    await loginAs(t, user.email, NEW_PASSWORD)
    // A reset link mailed before the change no longer works.
    const reset = await call(t, 'POST', '/api/v1/auth/password/reset', {
      body: { token: resetToken, password: 'x'.repeat(20) },
    })
    expect(reset.status).toBe(401)
    const [audit] = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, user.id), eq(auditEvents.type, 'auth.password.changed')))
    expect(audit!.data).toEqual({ sessionsEnded: 2 })
  })

  it('wants the current password (422 on currentPassword) and audits the miss', async () => {
    const user = await createUser(t.deps)
    const s = await loginAs(t, user.email, PASSWORD)
    const res = await change(s.accessToken, 'not my password', NEW_PASSWORD)
    expect(res.status).toBe(422)
    expect((await problemOf(res)).errors).toEqual([
      { field: 'currentPassword', message: 'is not your current password' },
    ])
    expect((await me(s.accessToken)).status).toBe(200)
    const rows = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.userId, user.id), eq(auditEvents.type, 'auth.password.change_failed')))
    expect(rows).toHaveLength(1)
  })

  it.each([
    ['a breached password', 'iloveyou1', 'too common'],
    ['the current password', PASSWORD, 'must differ'],
    ['too short', 'abc', 'at least 8'],
  ])('refuses %s as the new one', async (_l, newPassword, message) => {
    const user = await createUser(t.deps)
    const s = await loginAs(t, user.email, PASSWORD)
    const res = await change(s.accessToken, PASSWORD, newPassword)
    expect(res.status).toBe(422)
    expect((await problemOf(res)).errors).toEqual([
      { field: 'newPassword', message: expect.stringContaining(message) },
    ])
    expect((await me(s.accessToken)).status).toBe(200)
  })

  it('refuses a new password containing the username', async () => {
    const user = await createUser(t.deps)
    const s = await loginAs(t, user.email, PASSWORD)
    const res = await change(s.accessToken, PASSWORD, `${user.username} forever`)
    expect(res.status).toBe(422)
    expect((await problemOf(res)).errors![0]!.message).toContain('username')
  })

  it('allows 10 wrong current passwords an hour, then 429 until the hour has passed', async () => {
    const user = await createUser(t.deps)
    const s = await loginAs(t, user.email, PASSWORD)
    for (let i = 0; i < 10; i++)
      expect((await change(s.accessToken, `guess ${i}`, NEW_PASSWORD)).status).toBe(422)
    const limited = await change(s.accessToken, PASSWORD, NEW_PASSWORD)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('3600')
    clock.advance(3600_000)
    const later = await loginAs(t, user.email, PASSWORD) // the old access token has expired by now
    expect((await change(later.accessToken, PASSWORD, NEW_PASSWORD)).status).toBe(200)
  })

  it('needs a bearer token', async () => {
    const res = await call(t, 'POST', '/api/v1/auth/password/change', {
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    })
    expect(res.status).toBe(401)
  })
})
