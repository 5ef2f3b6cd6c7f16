import { hash } from '@node-rs/argon2'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs, problemOf, randomIp, setCookie } from '../../test/auth-client.js'
import { createUser, PASSWORD, reloadUser, uniqueUsername } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { auditEvents, users } from '../db/schema/index.js'

const clock = manualClock()
let t: TestApp

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const attempt = (email: string, password: string, ip: string) =>
  call(t, 'POST', '/api/v1/auth/login', { body: { email, password }, ip })

async function auditTypes(userId: string) {
  const rows = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, userId))
  return rows.map((r) => r.type)
}

describe('POST /login', () => {
  it('returns a short-lived bearer token, a refresh token and the user; records the login', async () => {
    const user = await createUser(t.deps)
    const res = await attempt(` ${user.email.toUpperCase()} `, PASSWORD, randomIp())
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      tokenType: 'Bearer',
      user: { id: user.id, username: user.username, role: 'user' },
    })
    expect(body.expiresIn).toBeLessThanOrEqual(900)
    expect(body.refreshToken).toMatch(/^[a-z0-9]{16}\.[a-z0-9]{40}$/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect((await reloadUser(t.deps, user.id)).lastLoginAt?.getTime()).toBe(clock.now())
    expect(await auditTypes(user.id)).toContain('auth.login.ok')
    const me = await call(t, 'GET', '/api/v1/me', { token: body.accessToken as string })
    expect(me.status).toBe(200)
  })

  it('answers an unknown email exactly like a wrong password, and audits both', async () => {
    const user = await createUser(t.deps)
    const wrong = await attempt(user.email, 'not the password', randomIp())
    const unknown = await attempt(`${uniqueUsername('ghost')}@example.test`, 'not the password', randomIp())
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    const strip = async (r: Response) => ({ ...(await problemOf(r)), requestId: undefined })
    expect(await strip(wrong)).toEqual(await strip(unknown))
    const failed = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.type, 'auth.login.failed'), eq(auditEvents.userId, user.id)))
    expect(failed[0]!.data).toEqual({ reason: 'bad_password' })
  })

  it('refuses a disabled account with the same answer', async () => {
    const user = await createUser(t.deps)
    await t.deps.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, user.id))
    const res = await attempt(user.email, PASSWORD, randomIp())
    expect(res.status).toBe(401)
    expect((await problemOf(res)).detail).toBe('wrong email or password')
  })

  it('upgrades a hash made with weaker argon2 parameters at the next login', async () => {
    const user = await createUser(t.deps)
    const weak = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
    await t.deps.db.update(users).set({ passwordHash: weak }).where(eq(users.id, user.id))
    await loginAs(t, user.email, PASSWORD)
    expect((await reloadUser(t.deps, user.id)).passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    await loginAs(t, user.email, PASSWORD)
  })
})

describe('login limits', () => {
  it('backs off after 5 failures from one IP: 429 + Retry-After, released when the clock passes it', async () => {
    const user = await createUser(t.deps)
    const ip = randomIp()
    for (let i = 0; i < 6; i++) expect((await attempt(user.email, 'wrong password', ip)).status).toBe(401)
    // The 6th failure started a 15 s lock: even the right password waits.
    const locked = await attempt(user.email, PASSWORD, ip)
    expect(locked.status).toBe(429)
    expect((await problemOf(locked)).code).toBe('RATE_LIMITED')
    expect(locked.headers.get('retry-after')).toBe('15')
    expect(await auditTypes(user.id)).toContain('auth.lockout')
    // The owner elsewhere is not locked out by this attacker.
    expect((await attempt(user.email, PASSWORD, randomIp())).status).toBe(200)

    clock.advance(14_000)
    expect((await attempt(user.email, PASSWORD, ip)).status).toBe(429)
    clock.advance(1000)
    expect((await attempt(user.email, 'wrong again', ip)).status).toBe(401)
    // The next lock doubles.
    expect((await attempt(user.email, PASSWORD, ip)).headers.get('retry-after')).toBe('30')
    clock.advance(30_000)
    expect((await attempt(user.email, PASSWORD, ip)).status).toBe(200)
    // Success clears the run of failures.
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password', ip)).status).toBe(401)
    expect((await attempt(user.email, PASSWORD, ip)).status).toBe(200)
  })

  it('treats an unknown email the same way, so a lockout reveals nothing', async () => {
    const email = `${uniqueUsername('ghost')}@example.test`
    const ip = randomIp()
    for (let i = 0; i < 6; i++) expect((await attempt(email, 'whatever it is', ip)).status).toBe(401)
    const locked = await attempt(email, 'whatever it is', ip)
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe('15')
  })

  it('allows at most 100 failures per account per hour across all IPs, then releases', async () => {
    const user = await createUser(t.deps)
    const start = clock.now()
    for (let i = 0; i < 100; i++) {
      expect((await attempt(user.email, `guess ${i}`, randomIp())).status).toBe(401)
      if (i % 10 === 9) clock.advance(60_000)
    }
    const capped = await attempt(user.email, PASSWORD, randomIp())
    expect(capped.status).toBe(429)
    // The first failures leave the window an hour after they were made.
    expect(Number(capped.headers.get('retry-after'))).toBe((start + 3600_000 - clock.now()) / 1000)
    clock.set(start + 3600_000)
    expect((await attempt(user.email, PASSWORD, randomIp())).status).toBe(200)
    const lockouts = (await auditTypes(user.id)).filter((x) => x === 'auth.lockout')
    expect(lockouts.length).toBeGreaterThanOrEqual(1)
  })

  it('allows at most 30 failures per IP per 10 minutes across accounts (password spraying)', async () => {
    const ip = randomIp()
    for (let i = 0; i < 30; i++) {
      expect((await attempt(`${uniqueUsername('spray')}@example.test`, 'Summer2024!', ip)).status).toBe(401)
    }
    const user = await createUser(t.deps)
    const sprayed = await attempt(user.email, PASSWORD, ip)
    expect(sprayed.status).toBe(429)
    expect((await attempt(user.email, PASSWORD, randomIp())).status).toBe(200)
    clock.advance(10 * 60_000)
    expect((await attempt(user.email, PASSWORD, ip)).status).toBe(200)
  })

  it('does not count successful logins against any limit', async () => {
    const user = await createUser(t.deps)
    const ip = randomIp()
    for (let i = 0; i < 35; i++) expect((await attempt(user.email, PASSWORD, ip)).status).toBe(200)
  })
})

describe('refresh cookie on login', () => {
  it('is HttpOnly, SameSite=Lax, on the auth path; a session cookie without "remember me"', async () => {
    const user = await createUser(t.deps)
    const { res } = await loginAs(t, user.email, PASSWORD)
    const c = setCookie(res, 'refresh_token')!
    expect(c.attributes).toContain('HttpOnly')
    expect(c.attributes).toContain('SameSite=Lax')
    expect(c.attributes).toContain('Path=/api/v1/auth')
    expect(c.attributes).not.toMatch(/Max-Age|Expires/)
    expect(c.attributes).not.toContain('Secure') // PUBLIC_URL is http here
  })

  it('lasts 30 days with "remember me"', async () => {
    const user = await createUser(t.deps)
    const { res } = await loginAs(t, user.email, PASSWORD, { remember: true })
    expect(setCookie(res, 'refresh_token')!.attributes).toContain(`Max-Age=${30 * 24 * 3600}`)
  })
})
