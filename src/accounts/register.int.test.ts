import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, problemOf, randomIp } from '../../test/auth-client.js'
import { createUser, uniqueUsername } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { auditEvents, channels, users } from '../db/schema/index.js'

const clock = manualClock()
let t: TestApp
const GOOD_PASSWORD = 'plum tuesday kettle 42'

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const register = (body: unknown, ip = randomIp()) => call(t, 'POST', '/api/v1/auth/register', { body, ip })

describe('POST /register', () => {
  it('creates the user and their channel, with the email normalised, and writes an audit row', async () => {
    const username = uniqueUsername('reg')
    const res = await register({
      email: `  ${username.toUpperCase()}@Example.TEST `,
      username,
      password: GOOD_PASSWORD,
    })
    expect(res.status).toBe(201)
    const { user } = (await res.json()) as { user: Record<string, unknown> }
    expect(user).toMatchObject({
      email: `${username}@example.test`,
      username,
      emailVerified: false,
      role: 'user',
    })
    expect(user).not.toHaveProperty('passwordHash')
    const [row] = await t.deps.db.select().from(users).where(eq(users.username, username))
    expect(row!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.name, username))
    expect(ch!.ownerId).toBe(row!.id)
    const audit = await t.deps.db.select().from(auditEvents).where(eq(auditEvents.userId, row!.id))
    expect(audit.map((a) => a.type)).toContain('auth.signup')
  })

  it('refuses an email that differs only in case with 409 on the email field', async () => {
    const existing = await createUser(t.deps)
    const res = await register({
      email: existing.email.toUpperCase(),
      username: uniqueUsername(),
      password: GOOD_PASSWORD,
    })
    expect(res.status).toBe(409)
    expect((await problemOf(res)).errors).toEqual([{ field: 'email', message: 'is already registered' }])
  })

  it('refuses a taken username with 409 on the username field', async () => {
    const existing = await createUser(t.deps)
    const res = await register({
      email: `${uniqueUsername()}@example.test`,
      username: existing.username,
      password: GOOD_PASSWORD,
    })
    expect(res.status).toBe(409)
    expect((await problemOf(res)).errors).toEqual([{ field: 'username', message: 'is taken' }])
  })

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(25)],
    ['upper case', 'Alice'],
    ['a dash', 'al-ice'],
    ['a slash', 'al/ice'],
    ['reserved: admin', 'admin'],
    ['reserved: hls', 'hls'],
    ['reserved: live', 'live'],
    ['reserved: ws', 'ws'],
    ['reserved: api', 'api'],
  ])('refuses a username with %s (422 on username)', async (_label, username) => {
    const res = await register({
      email: `${uniqueUsername()}@example.test`,
      username,
      password: GOOD_PASSWORD,
    })
    expect(res.status).toBe(422)
    const p = await problemOf(res)
    expect(p.code).toBe('VALIDATION')
    expect(new Set(p.errors!.map((e) => e.field))).toEqual(new Set(['username']))
  })

  it.each([
    ['7 characters', 'abcdefg', 'at least 8'],
    ['129 characters', 'x'.repeat(129), 'at most 128'],
    ['a common breached password', 'password1', 'too common'],
    ['a breached password in other case', 'IloveYou', 'too common'],
    ['another from the list', 'qwerty123', 'too common'],
  ])('refuses a password of %s', async (_label, password, message) => {
    const res = await register({
      email: `${uniqueUsername()}@example.test`,
      username: uniqueUsername(),
      password,
    })
    expect(res.status).toBe(422)
    const p = await problemOf(res)
    expect(p.errors).toEqual([{ field: 'password', message: expect.stringContaining(message) }])
  })

  it('accepts 8 and 128 characters', async () => {
    for (const password of ['zq8#kLp2', 'y'.repeat(64) + 'z'.repeat(64)]) {
      const res = await register({
        email: `${uniqueUsername()}@example.test`,
        username: uniqueUsername(),
        password,
      })
      expect(res.status).toBe(201)
    }
  })

  it('refuses a password containing the username', async () => {
    const username = uniqueUsername('ctx')
    const res = await register({
      email: `x${username}@example.test`,
      username,
      password: `my ${username} rules!`,
    })
    expect(res.status).toBe(422)
    expect((await problemOf(res)).errors).toEqual([
      { field: 'password', message: expect.stringContaining('username') },
    ])
  })

  it('names every bad field at once', async () => {
    const res = await register({ email: 'not an email', username: 'A', password: 'short' })
    expect(res.status).toBe(422)
    const fields = (await problemOf(res)).errors!.map((e) => e.field).sort()
    expect(fields).toEqual(['email', 'password', 'username'])
  })

  it('limits sign-ups per IP: the 11th in an hour gets 429 with Retry-After, later it works again', async () => {
    const ip = randomIp()
    for (let i = 0; i < 10; i++) {
      const res = await register({ email: 'bad', username: uniqueUsername(), password: GOOD_PASSWORD }, ip)
      expect(res.status).toBe(422) // validation fails before the limit is counted
    }
    const ok = () => ({
      email: `${uniqueUsername()}@example.test`,
      username: uniqueUsername(),
      password: GOOD_PASSWORD,
    })
    for (let i = 0; i < 10; i++) expect((await register(ok(), ip)).status).toBe(201)
    const refused = await register(ok(), ip)
    expect(refused.status).toBe(429)
    expect((await problemOf(refused)).code).toBe('RATE_LIMITED')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await register(ok(), randomIp())).status).toBe(201)
    clock.advance(3600_000)
    expect((await register(ok(), ip)).status).toBe(201)
  })
})

describe('GET /availability', () => {
  const check = (username: string, ip = randomIp()) =>
    call(t, 'GET', `/api/v1/auth/availability?username=${encodeURIComponent(username)}`, { ip })

  it('says whether a username is free, taken, reserved or invalid', async () => {
    const existing = await createUser(t.deps)
    const free = uniqueUsername()
    expect(await (await check(free)).json()).toEqual({ username: free, available: true })
    expect(await (await check(existing.username)).json()).toMatchObject({ available: false, reason: 'taken' })
    expect(await (await check('admin')).json()).toMatchObject({ available: false, reason: 'reserved' })
    expect(await (await check('No Way')).json()).toMatchObject({ available: false, reason: 'invalid' })
  })

  it('wants the username parameter and answers problem+json without it', async () => {
    const res = await call(t, 'GET', '/api/v1/auth/availability')
    expect(res.status).toBe(422)
    expect((await problemOf(res)).errors![0]!.field).toBe('username')
  })

  it('is rate limited per IP', async () => {
    const ip = randomIp()
    for (let i = 0; i < 60; i++) expect((await check('someone', ip)).status).toBe(200)
    expect((await check('someone', ip)).status).toBe(429)
    clock.advance(60_000)
    expect((await check('someone', ip)).status).toBe(200)
  })
})
