/** @module rate-limit/middleware — a Hono middleware that applies a Limit per caller (IP by default). */
import type { Context, Env } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { createRateLimiter, enforce, type Limit } from './limiter.js'

/**
 * Counts every request that reaches it; over the limit → 429 with Retry-After. `keyOf` picks who
 * is counted (return null to skip, e.g. for a caller another rule covers).
 */
export const rateLimit = <E extends Env = AppEnv>(
  deps: Pick<Deps, 'redis' | 'keys' | 'now'>,
  limit: Limit,
  keyOf: (c: Context<E>) => string | null = (c) => (c as unknown as Context<AppEnv>).var.clientIp,
) => {
  const limiter = createRateLimiter(deps)
  return createMiddleware<E>(async (c, next) => {
    const id = keyOf(c)
    if (id !== null) await enforce(limiter, limit, id)
    await next()
  })
}
