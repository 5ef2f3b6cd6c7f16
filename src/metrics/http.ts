/**
 * @module metrics/http — times every request into `live_http_request_duration_seconds`, labelled
 * with the route pattern Hono matched (`/api/v1/channels/:name`), never the raw path: a raw path
 * would give every channel, key id and typo its own series.
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { matchedRoutes } from 'hono/route'
import type { AppEnv } from '../http/env.js'
import type { Metrics } from './metrics.js'

/**
 * The route pattern of the handler that answered — or, when a middleware answered first (401 from
 * an auth check, 403 from the hook allowlist), of the handler it stood in front of. Middleware
 * (`use`) is registered with method ALL; handlers with their own method.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c)
  const at = Math.min(c.req.routeIndex, routes.length - 1)
  const answered = routes[at]
  if (answered && answered.method !== 'ALL') return answered.path
  const handler = routes.slice(at + 1).find((r) => r.method !== 'ALL')
  if (handler) return handler.path
  // Nothing past the global middleware matched: notFound answered. One label for all of those.
  if (!answered || answered.path === '/*') return 'unmatched'
  return answered.path
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export const httpMetrics = (metrics: Pick<Metrics, 'httpDuration'>) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const end = metrics.httpDuration.startTimer()
    try {
      await next()
    } finally {
      end({
        method: METHODS.has(c.req.method) ? c.req.method : 'OTHER',
        route: routeLabel(c),
        status: String(c.res.status),
      })
    }
  })
