/** @module health/routes — liveness (`/healthz`) and readiness (`/readyz`: Postgres and Redis answer). */
import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'

async function check(fn: () => Promise<unknown>, timeoutMs = 1000): Promise<'ok' | 'down'> {
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ])
    return 'ok'
  } catch {
    return 'down'
  }
}

export const healthRoutes = (deps: Deps, isShuttingDown: () => boolean) =>
  new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const [postgres, redis] = await Promise.all([
        check(() => deps.db.execute(sql`select 1`)),
        check(() => deps.redis.ping()),
      ])
      // While draining, report not-ready so load balancers stop sending new work here.
      const ready = postgres === 'ok' && redis === 'ok' && !isShuttingDown()
      return c.json(
        { status: ready ? 'ready' : 'unavailable', postgres, redis, draining: isShuttingDown() },
        ready ? 200 : 503,
      )
    })
