/** @module analytics/routes — `GET /api/v1/channels/:name/analytics` (owner or admin; token scope analytics:read). */
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { ChannelParam } from '../channels/schemas.js'
import { channels } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { ForbiddenError, NotFoundError } from '../http/errors.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { qoeSummary } from './qoe-summary.js'
import { channelAnalytics, siteAnalytics } from './query.js'
import { parseRange } from './schemas.js'

export const analyticsRoutes = (deps: Deps) =>
  new Hono<AppEnv>().get(
    '/:name/analytics',
    requireUser(deps, 'analytics:read'),
    validate('param', ChannelParam),
    async (c) => {
      const range = parseRange(c.req.query(), deps.now())
      const [ch] = await deps.db
        .select()
        .from(channels)
        .where(eq(channels.name, c.req.valid('param').name))
      if (!ch) throw new NotFoundError('channel')
      const user = c.var.user
      if (ch.ownerId !== user.id && user.role !== 'admin') throw new ForbiddenError('not your channel')
      const [figures, qoe] = await Promise.all([
        channelAnalytics(deps, { id: ch.id, name: ch.name }, range.from, range.to, range.bucket),
        qoeSummary(deps.db, ch.id, new Date(range.from), new Date(range.to)),
      ])
      c.header('Cache-Control', 'no-store')
      return c.json({
        channel: ch.name,
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        bucket: range.bucket,
        ...figures,
        qoe,
      })
    },
  )

/** Site-wide totals over whole UTC days; mounted inside admin/routes.ts (admins, signed-in session). */
export async function adminAnalytics(deps: Deps, query: Record<string, string | undefined>) {
  const range = parseRange({ ...query, bucket: 'day' }, deps.now())
  return siteAnalytics(deps, range.from, range.to)
}
