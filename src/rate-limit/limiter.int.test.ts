import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import type { AppEnv } from '../http/env.js'
import { handleError } from '../http/errors.js'
import { type BackoffPolicy, createRateLimiter, type Limit } from './limiter.js'
import { rateLimit } from './middleware.js'

const clock = manualClock()
let t: TestApp
let n = 0
const limit = (max: number, windowMs: number): Limit => ({ name: `test${n++}`, max, windowMs })

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

describe('sliding window', () => {
  it('admits max events, refuses the next with the time until the oldest leaves, then admits again', async () => {
    const rl = createRateLimiter(t.deps)
    const l = limit(3, 60_000)
    const start = clock.now()
    for (let i = 0; i < 3; i++) {
      expect(await rl.consume(l, 'a')).toMatchObject({ ok: true, remaining: 2 - i })
      clock.advance(10_000)
    }
    // oldest at start, now = start + 30 s → 30 s to wait
    expect(await rl.consume(l, 'a')).toEqual({ ok: false, retryAfterMs: start + 60_000 - clock.now() })
    expect(await rl.peek(l, 'a')).toMatchObject({ ok: false })
    // another id is not affected
    expect(await rl.consume(l, 'b')).toMatchObject({ ok: true })
    clock.advance(29_999)
    expect(await rl.consume(l, 'a')).toEqual({ ok: false, retryAfterMs: 1 })
    clock.advance(1)
    expect(await rl.consume(l, 'a')).toMatchObject({ ok: true, remaining: 0 })
  })

  it('does not count refused events, so hammering does not extend the wait', async () => {
    const rl = createRateLimiter(t.deps)
    const l = limit(1, 60_000)
    expect((await rl.consume(l, 'x')).ok).toBe(true)
    for (let i = 0; i < 20; i++) expect((await rl.consume(l, 'x')).ok).toBe(false)
    expect(await t.deps.redis.zcard(t.deps.keys.rateLimit(l.name, 'x'))).toBe(1)
    clock.advance(60_000)
    expect((await rl.consume(l, 'x')).ok).toBe(true)
  })

  it('peek counts nothing; refund and reset give the room back', async () => {
    const rl = createRateLimiter(t.deps)
    const l = limit(2, 60_000)
    for (let i = 0; i < 5; i++) expect(await rl.peek(l, 'p')).toEqual({ ok: true, remaining: 2 })
    const first = await rl.consume(l, 'p')
    await rl.consume(l, 'p')
    expect((await rl.consume(l, 'p')).ok).toBe(false)
    if (!first.ok) throw new Error('expected admission')
    await first.refund()
    expect((await rl.consume(l, 'p')).ok).toBe(true)
    await rl.reset(l, 'p')
    expect(await rl.peek(l, 'p')).toEqual({ ok: true, remaining: 2 })
  })

  it('never admits more than max under concurrency', async () => {
    const rl = createRateLimiter(t.deps)
    const l = limit(10, 60_000)
    const results = await Promise.all(Array.from({ length: 50 }, () => rl.consume(l, 'c')))
    expect(results.filter((r) => r.ok)).toHaveLength(10)
  })
})

describe('backoff', () => {
  const policy = (): BackoffPolicy => ({
    name: `bo${n++}`,
    freeFailures: 3,
    baseMs: 1000,
    maxMs: 5000,
    forgetAfterMs: 60_000,
  })

  it('locks after the free failures, doubling up to the cap, and releases when the lock passes', async () => {
    const rl = createRateLimiter(t.deps)
    const p = policy()
    for (let i = 1; i <= 3; i++) expect(await rl.fail(p, 'u')).toEqual({ failures: i, lockMs: 0 })
    expect(await rl.lockedFor(p, 'u')).toBe(0)
    const locks = []
    for (let i = 0; i < 5; i++) {
      const { lockMs } = await rl.fail(p, 'u')
      locks.push(lockMs)
      expect(await rl.lockedFor(p, 'u')).toBe(lockMs)
      clock.advance(lockMs)
      expect(await rl.lockedFor(p, 'u')).toBe(0)
    }
    expect(locks).toEqual([1000, 2000, 4000, 5000, 5000])
  })

  it('forgets a run of failures after a quiet spell, and success clears it', async () => {
    const rl = createRateLimiter(t.deps)
    const p = policy()
    for (let i = 0; i < 4; i++) await rl.fail(p, 'q')
    clock.advance(60_000)
    expect(await rl.fail(p, 'q')).toEqual({ failures: 1, lockMs: 0 })
    for (let i = 0; i < 4; i++) await rl.fail(p, 'q')
    expect(await rl.lockedFor(p, 'q')).toBeGreaterThan(0)
    await rl.succeed(p, 'q')
    expect(await rl.lockedFor(p, 'q')).toBe(0)
    expect(await rl.fail(p, 'q')).toEqual({ failures: 1, lockMs: 0 })
  })
})

describe('rateLimit middleware', () => {
  it('answers 429 problem+json with Retry-After past the limit, per caller, and lets it through later', async () => {
    const l = limit(2, 10_000)
    const app = new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set('clientIp', c.req.header('x-test-ip') ?? 'unknown')
        await next()
      })
      .use(rateLimit(t.deps, l))
      .get('/', (c) => c.text('ok'))
    app.onError((err, c) => handleError(err, c, t.deps.log))
    const get = (ip: string) => app.request('/', { headers: { 'x-test-ip': ip } })
    expect((await get('1.1.1.1')).status).toBe(200)
    clock.advance(4000)
    expect((await get('1.1.1.1')).status).toBe(200)
    const refused = await get('1.1.1.1')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(refused.headers.get('retry-after')).toBe('6')
    expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 })
    expect((await get('2.2.2.2')).status).toBe(200)
    clock.advance(6000)
    expect((await get('1.1.1.1')).status).toBe(200)
  })
})
