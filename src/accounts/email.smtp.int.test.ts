/**
 * Mail over a real SMTP connection: the app's nodemailer transport delivers to an in-process
 * smtp-server, and the tests follow the links in what arrived. The links point at pages, which
 * POST the token to the API (a GET that consumed the token would be burnt by mail scanners);
 * the tests do what those pages do.
 */
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, loginAs, problemOf, randomIp } from '../../test/auth-client.js'
import { createUser, loggedIn, PASSWORD, uniqueUsername } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { linkIn, type SmtpCapture, startSmtpCapture } from '../../test/smtp.js'
import { auditEvents, emailTokens, users } from '../db/schema/index.js'
import { sha256Hex } from '../lib/secrets.js'

const clock = manualClock()
let t: TestApp
let smtp: SmtpCapture
const NEW_PASSWORD = 'quiet orange lantern 7'

beforeAll(async () => {
  smtp = await startSmtpCapture()
  t = await createTestApp({
    now: clock.now,
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Live <no-reply@live.test>' },
  })
})
afterAll(async () => {
  await t.close()
  await smtp.close()
})

async function signUp() {
  const username = uniqueUsername('mail')
  const email = `${username}@example.test`
  const res = await call(t, 'POST', '/api/v1/auth/register', {
    body: { email, username, password: NEW_PASSWORD },
  })
  expect(res.status).toBe(201)
  return { email, username }
}

/** Mails queued for `to` in the outbox (each one is sent after the request answered). */
async function queuedMails(to: string): Promise<number> {
  const rows = await t.deps.db.execute<{ n: number }>(
    sql`select count(*)::int as n from outbox where topic = 'mail.send' and payload->>'to' = ${to}`,
  )
  return rows[0]!.n
}

const verify = (token: string) => call(t, 'POST', '/api/v1/auth/verify-email', { body: { token } })

describe('email confirmation', () => {
  it('mails a link over SMTP whose token confirms the address, once', async () => {
    const { email } = await signUp()
    const mail = await smtp.next(email)
    expect(mail.from).toBe('no-reply@live.test')
    expect(mail.subject).toBe('Confirm your email address')
    const link = linkIn(mail, `${t.deps.config.PUBLIC_URL}/verify-email?token=`)
    const token = link.searchParams.get('token')!
    expect(token).toMatch(/^[a-z0-9]{40}$/)

    // Stored only as a hash.
    const [user] = await t.deps.db.select().from(users).where(eq(users.email, email))
    const rows = await t.deps.db.select().from(emailTokens).where(eq(emailTokens.userId, user!.id))
    expect(rows).toHaveLength(1)
    expect(rows[0]!.tokenHash).toBe(sha256Hex(token))
    expect(JSON.stringify(rows)).not.toContain(token)

    const res = await verify(token)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { user: { emailVerified: boolean } }).user.emailVerified).toBe(true)
    const { accessToken } = await loginAs(t, email, NEW_PASSWORD)
    const me = await call(t, 'GET', '/api/v1/me', { token: accessToken })
    expect(((await me.json()) as { emailVerified: boolean }).emailVerified).toBe(true)
    const audit = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, user!.id))
    expect(audit.map((a) => a.type)).toEqual(expect.arrayContaining(['auth.signup', 'auth.email_verified']))

    const again = await verify(token)
    expect(again.status).toBe(401)
    expect((await problemOf(again)).code).toBe('UNAUTHORIZED')
  })

  it('expires the link after 24 hours', async () => {
    const a = await signUp()
    const b = await signUp()
    const tokenA = linkIn(await smtp.next(a.email), t.deps.config.PUBLIC_URL).searchParams.get('token')!
    const tokenB = linkIn(await smtp.next(b.email), t.deps.config.PUBLIC_URL).searchParams.get('token')!
    clock.advance(24 * 3600_000 - 1000)
    expect((await verify(tokenA)).status).toBe(200)
    clock.advance(1000)
    expect((await verify(tokenB)).status).toBe(401)
  })

  it('refuses a made-up token', async () => {
    expect((await verify('a'.repeat(40))).status).toBe(401)
  })

  it('resends on request, rate limited; only the newest link works', async () => {
    const { email } = await signUp()
    const first = linkIn(await smtp.next(email), t.deps.config.PUBLIC_URL).searchParams.get('token')!
    const { accessToken } = await loginAs(t, email, NEW_PASSWORD)
    const resend = () => call(t, 'POST', '/api/v1/auth/resend-verification', { token: accessToken })

    expect((await resend()).status).toBe(202)
    const second = linkIn(await smtp.next(email), t.deps.config.PUBLIC_URL).searchParams.get('token')!
    expect(second).not.toBe(first)

    const limited = await resend()
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await queuedMails(email)).toBe(2) // the sign-up's and the first resend's

    clock.advance(60_000)
    expect((await resend()).status).toBe(202)
    const third = linkIn(await smtp.next(email), t.deps.config.PUBLIC_URL).searchParams.get('token')!

    expect((await verify(first)).status).toBe(401)
    expect((await verify(second)).status).toBe(401)
    expect((await verify(third)).status).toBe(200)
    // Confirmed: nothing more to send.
    clock.advance(60_000)
    expect((await resend()).status).toBe(202)
    expect(await queuedMails(email)).toBe(3)
  })

  it('keeps an unconfirmed user from streaming (EMAIL_NOT_VERIFIED) until they confirm', async () => {
    const { email } = await signUp()
    const token = linkIn(await smtp.next(email), t.deps.config.PUBLIC_URL).searchParams.get('token')!
    const { accessToken } = await loginAs(t, email, NEW_PASSWORD)
    const create = () =>
      call(t, 'POST', '/api/v1/stream-keys', { token: accessToken, body: { label: 'obs' } })
    const refused = await create()
    expect(refused.status).toBe(403)
    expect((await problemOf(refused)).code).toBe('EMAIL_NOT_VERIFIED')
    expect((await verify(token)).status).toBe(200)
    expect((await create()).status).toBe(201)
  })
})

describe('password reset', () => {
  const forgot = (email: string) =>
    call(t, 'POST', '/api/v1/auth/password/forgot', { body: { email }, ip: randomIp() })

  it('mails a single-use link; resetting ends every other session and swaps the password', async () => {
    const user = await createUser(t.deps)
    const laptop = await loginAs(t, user.email, PASSWORD, { remember: true })
    const phone = await loginAs(t, user.email, PASSWORD)

    const res = await forgot(user.email.toUpperCase())
    expect(res.status).toBe(202)
    const mail = await smtp.next(user.email)
    expect(mail.subject).toBe('Reset your password')
    const token = linkIn(mail, `${t.deps.config.PUBLIC_URL}/reset-password?token=`).searchParams.get('token')!

    const reset = (password: string) =>
      call(t, 'POST', '/api/v1/auth/password/reset', { body: { token, password } })
    const common = await reset('password123')
    expect(common.status).toBe(422)
    expect((await problemOf(common)).errors![0]!.field).toBe('password')
    expect((await reset(NEW_PASSWORD)).status).toBe(200)

    for (const s of [laptop, phone]) {
      expect((await call(t, 'GET', '/api/v1/me', { token: s.accessToken })).status).toBe(401)
      const r = await call(t, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } })
      expect(r.status).toBe(401)
    }
    const old = await call(t, 'POST', '/api/v1/auth/login', {
      body: { email: user.email, password: PASSWORD },
    })
    expect(old.status).toBe(401)
    await loginAs(t, user.email, NEW_PASSWORD)
    expect((await reset('another fine password 9')).status).toBe(401)
    const audit = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, user.id))
    expect(audit.find((a) => a.type === 'auth.password.reset')?.data).toEqual({ sessionsEnded: 2 })
  })

  it('answers 202 for an unknown address and sends nothing', async () => {
    const email = `${uniqueUsername('nobody')}@example.test`
    const res = await forgot(email)
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ status: 'accepted' })
    expect(await queuedMails(email)).toBe(0)
  })

  it('sends at most 3 reset mails per address per hour, still answering 202', async () => {
    const user = await createUser(t.deps)
    for (let i = 0; i < 5; i++) expect((await forgot(user.email)).status).toBe(202)
    // Mail leaves from the outbox, after the answer: count what was queued, then receive it.
    expect(await queuedMails(user.email)).toBe(3)
    await Promise.all([0, 1, 2].map(() => smtp.next(user.email)))
    clock.advance(3600_000)
    expect((await forgot(user.email)).status).toBe(202)
    expect(await queuedMails(user.email)).toBe(4)
    await smtp.next(user.email)
  })

  it('tells the user by mail when their password is changed', async () => {
    const s = await loggedIn(t.deps)
    const res = await call(t, 'POST', '/api/v1/auth/password/change', {
      token: s.accessToken,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    })
    expect(res.status).toBe(200)
    expect((await smtp.next(s.user.email)).subject).toBe('Your password was changed')
  })
})
