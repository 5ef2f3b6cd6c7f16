/**
 * Account mail leaves through the outbox, never from the request: whether the SMTP relay is up,
 * refusing or hanging changes no answer, and forgot-password answers alike for registered and
 * unknown addresses. No timing threshold: the proof is structural — with a relay that refuses or
 * never answers, a registered address still gets its answer, and the mail arrives once the relay
 * heals.
 */
import { sql } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitUntil } from '../../scripts/lib/proc.js'
import { call, loginAs, randomIp } from '../../test/auth-client.js'
import { createUser, PASSWORD, uniqueUsername } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { linkIn, type SmtpCapture, startSmtpCapture } from '../../test/smtp.js'
import { emailTokens } from '../db/schema/index.js'

let t: TestApp
let smtp: SmtpCapture

beforeAll(async () => {
  smtp = await startSmtpCapture()
  t = await createTestApp({ env: { SMTP_URL: smtp.url } })
})
afterEach(() => smtp.setMode('ok'))
afterAll(async () => {
  await t.close()
  await smtp.close()
})

const forgot = (email: string) =>
  call(t, 'POST', '/api/v1/auth/password/forgot', { body: { email }, ip: randomIp() })

/** Outbox rows addressed to `to` (the mail exists iff the token it carries does). */
async function queuedMails(to: string): Promise<number> {
  const rows = await t.deps.db.execute<{ n: number }>(
    sql`select count(*)::int as n from outbox where topic = 'mail.send' and payload->>'to' = ${to}`,
  )
  return rows[0]!.n
}

/** Waits until the broken relay has turned away at least one more transaction than `before`. */
const relayTurnedAway = (before: number) =>
  waitUntil('the relay refused a mail', async () => smtp.refused > before, 20_000)

describe('forgot-password', () => {
  it('answers a registered and an unknown address with the same status and body', async () => {
    const user = await createUser(t.deps)
    const unknown = `${uniqueUsername('nobody')}@example.test`
    const [a, b] = await Promise.all([forgot(user.email), forgot(unknown)])
    expect([a.status, b.status]).toEqual([202, 202])
    expect(await a.text()).toBe(await b.text())
    const headers = (r: Response) =>
      [...r.headers.keys()].filter((k) => !['date', 'x-request-id'].includes(k)).sort()
    expect(headers(a)).toEqual(headers(b))
    // Only the registered one has a token and a queued mail, and it is delivered.
    expect(await queuedMails(user.email)).toBe(1)
    expect(await queuedMails(unknown)).toBe(0)
    expect((await smtp.next(user.email)).subject).toBe('Reset your password')
  })

  it.each(['refuse', 'hang'] as const)(
    'answers 202 for a registered address while the relay is down (%s); the mail follows once it heals',
    async (mode) => {
      const user = await createUser(t.deps)
      smtp.setMode(mode)
      const before = smtp.refused
      const res = await forgot(user.email)
      expect(res.status).toBe(202)
      expect(await res.json()).toEqual({ status: 'accepted' })
      // The relay really was tried (by the outbox worker) and turned the mail away…
      await relayTurnedAway(before)
      expect(smtp.pending(user.email)).toEqual([])
      // …and the mail is delivered when it is healthy again, with a link that works.
      smtp.setMode('ok')
      const mail = await smtp.next(user.email)
      const token = linkIn(mail, `${t.deps.config.PUBLIC_URL}/reset-password?token=`).searchParams.get(
        'token',
      )!
      const reset = await call(t, 'POST', '/api/v1/auth/password/reset', {
        body: { token, password: 'a brand new passphrase 7' },
      })
      expect(reset.status).toBe(200)
    },
  )

  it('stores the token and queues its mail together, in one statement', async () => {
    const user = await createUser(t.deps)
    expect((await forgot(user.email)).status).toBe(202)
    const tokens = await t.deps.db.select().from(emailTokens).where(sql`${emailTokens.userId} = ${user.id}`)
    expect(tokens).toHaveLength(1)
    expect(await queuedMails(user.email)).toBe(1)
    await smtp.next(user.email)
  })
})

describe('sign-up and resend-verification', () => {
  it('sign-up answers 201 while the relay hangs; the confirmation mail follows once it heals', async () => {
    smtp.setMode('hang')
    const before = smtp.refused
    const username = uniqueUsername('relay')
    const email = `${username}@example.test`
    const res = await call(t, 'POST', '/api/v1/auth/register', {
      body: { email, username, password: 'long enough passphrase 3' },
    })
    expect(res.status).toBe(201)
    await relayTurnedAway(before)
    smtp.setMode('ok')
    expect((await smtp.next(email)).subject).toBe('Confirm your email address')
  })

  it('resend-verification answers 202 while the relay refuses; the mail follows once it heals', async () => {
    const user = await createUser(t.deps, { verified: false })
    const { accessToken } = await loginAs(t, user.email, PASSWORD)
    smtp.setMode('refuse')
    const before = smtp.refused
    const res = await call(t, 'POST', '/api/v1/auth/resend-verification', { token: accessToken })
    expect(res.status).toBe(202)
    await relayTurnedAway(before)
    smtp.setMode('ok')
    expect((await smtp.next(user.email)).subject).toBe('Confirm your email address')
  })
})
