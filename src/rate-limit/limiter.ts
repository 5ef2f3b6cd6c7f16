/**
 * @module rate-limit/limiter — reusable limits kept in Redis: sliding windows ("at most N per
 * window") and exponential backoff ("slow down after N failures in a row"). Any feature can use
 * them; the policies (names, numbers) live with the feature that owns them.
 *
 * Every instance shares the counters through Redis; time is `deps.now()`, so a test advances an
 * injected clock instead of sleeping.
 */
import { randomBytes } from 'node:crypto'
import type { Deps } from '../deps.js'
import { RateLimitedError } from '../http/errors.js'
import { createScript } from '../redis/script.js'
import { BACKOFF_FAIL, SLIDING_WINDOW } from './scripts.js'

/** At most `max` events per sliding `windowMs`. `name` becomes part of the Redis key. */
export type Limit = { name: string; max: number; windowMs: number }

/** After `freeFailures` in a row, lock for baseMs, 2×baseMs, … up to maxMs; forgotten after forgetAfterMs quiet. */
export type BackoffPolicy = {
  name: string
  freeFailures: number
  baseMs: number
  maxMs: number
  forgetAfterMs: number
}

export type Verdict = { ok: true; remaining: number } | { ok: false; retryAfterMs: number }
/** An admitted event; `refund` takes it back (e.g. the login it counted turned out to succeed). */
export type Admitted = { ok: true; remaining: number; refund(): Promise<void> }

type LimiterDeps = Pick<Deps, 'redis' | 'keys' | 'now'>

export interface RateLimiter {
  /** Counts one event for `id` if the window has room; otherwise counts nothing. */
  consume(limit: Limit, id: string): Promise<Admitted | { ok: false; retryAfterMs: number }>
  /** Would one more event be admitted? Counts nothing. */
  peek(limit: Limit, id: string): Promise<Verdict>
  reset(limit: Limit, id: string): Promise<void>
  /** Milliseconds `id` is still locked out under `policy` (0 when free). */
  lockedFor(policy: BackoffPolicy, id: string): Promise<number>
  /** Records a failure; returns the failures in a row and the lock it started (0 if none). */
  fail(policy: BackoffPolicy, id: string): Promise<{ failures: number; lockMs: number }>
  succeed(policy: BackoffPolicy, id: string): Promise<void>
}

export function createRateLimiter(deps: LimiterDeps): RateLimiter {
  // By SHA (EVALSHA): these run on every login, signup and API write. One key each, any slot.
  const slidingWindow = createScript(deps.redis, SLIDING_WINDOW)
  const backoffFail = createScript(deps.redis, BACKOFF_FAIL)

  async function slide(limit: Limit, id: string, member: string): Promise<Verdict> {
    const [ok, n] = (await slidingWindow(
      [deps.keys.rateLimit(limit.name, id)],
      [deps.now(), limit.windowMs, limit.max, member],
    )) as [number, number]
    return ok === 1 ? { ok: true, remaining: n } : { ok: false, retryAfterMs: n }
  }

  return {
    async consume(limit, id) {
      // The member must be unique even when two events share a millisecond.
      const member = `${deps.now()}:${randomBytes(6).toString('hex')}`
      const v = await slide(limit, id, member)
      if (!v.ok) return v
      return {
        ...v,
        refund: async () => {
          await deps.redis.zrem(deps.keys.rateLimit(limit.name, id), member)
        },
      }
    },
    peek: (limit, id) => slide(limit, id, ''),
    async reset(limit, id) {
      await deps.redis.del(deps.keys.rateLimit(limit.name, id))
    },
    async lockedFor(policy, id) {
      const until = Number(await deps.redis.hget(deps.keys.backoff(policy.name, id), 'until'))
      return Number.isFinite(until) ? Math.max(0, until - deps.now()) : 0
    },
    async fail(policy, id) {
      const { freeFailures, baseMs, maxMs, forgetAfterMs } = policy
      const [failures, lockMs] = (await backoffFail(
        [deps.keys.backoff(policy.name, id)],
        [deps.now(), freeFailures, baseMs, maxMs, forgetAfterMs],
      )) as [number, number]
      return { failures, lockMs }
    },
    async succeed(policy, id) {
      await deps.redis.del(deps.keys.backoff(policy.name, id))
    },
  }
}

/** Counts one event or throws RateLimitedError (429 + Retry-After). */
export async function enforce(limiter: RateLimiter, limit: Limit, id: string): Promise<Admitted> {
  const v = await limiter.consume(limit, id)
  if (!v.ok) throw new RateLimitedError(v.retryAfterMs / 1000)
  return v
}
