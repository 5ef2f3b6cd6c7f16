/** @module admin/routes — `/api/v1/admin/*`: account administration, for admins only (checked live). */

import { Hono } from 'hono'
import { adminAnalytics } from '../analytics/routes.js'
import { SESSION_ONLY } from '../api-tokens/scopes.js'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { requireAdminNow } from './middleware.js'
import { DisableBody, ListUsersQuery, UserParam } from './schemas.js'
import { disableUser, enableUser, endUserSessions, getUser, listUsers, promoteUser } from './service.js'

export const adminRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .use(requireUser(deps, SESSION_ONLY), requireAdminNow(deps))
    .use(async (c, next) => {
      await next()
      c.header('Cache-Control', 'no-store')
    })
    .get('/analytics', async (c) => c.json(await adminAnalytics(deps, c.req.query())))
    .get('/users', validate('query', ListUsersQuery), async (c) =>
      c.json(await listUsers(deps, c.req.valid('query'))),
    )
    .get('/users/:id', validate('param', UserParam), async (c) =>
      c.json(await getUser(deps, c.req.valid('param').id)),
    )
    .post(
      '/users/:id/disable',
      validate('param', UserParam),
      validate('json', DisableBody.optional().default({})),
      async (c) => {
        const actor = { id: c.var.user.id, ip: c.var.clientIp }
        return c.json(await disableUser(deps, actor, c.req.valid('param').id, c.req.valid('json').reason))
      },
    )
    .post('/users/:id/enable', validate('param', UserParam), async (c) => {
      const actor = { id: c.var.user.id, ip: c.var.clientIp }
      return c.json(await enableUser(deps, actor, c.req.valid('param').id))
    })
    .post('/users/:id/promote', validate('param', UserParam), async (c) => {
      const actor = { id: c.var.user.id, ip: c.var.clientIp }
      return c.json(await promoteUser(deps, actor, c.req.valid('param').id))
    })
    .delete('/users/:id/sessions', validate('param', UserParam), async (c) => {
      const actor = { id: c.var.user.id, ip: c.var.clientIp }
      return c.json(await endUserSessions(deps, actor, c.req.valid('param').id))
    })
