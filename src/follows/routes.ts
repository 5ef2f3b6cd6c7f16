/** @module follows/routes — `/api/v1/channels/:name/follow` (Bearer): follow, unfollow, and whether I follow. */
import { Hono } from 'hono'
import { ChannelParam } from '../channels/schemas.js'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { follow, getFollow, unfollow } from './service.js'

export const followRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .get('/:name/follow', requireUser(deps, 'channel:read'), validate('param', ChannelParam), async (c) =>
      c.json(await getFollow(deps, c.var.user.id, c.req.valid('param').name)),
    )
    .post('/:name/follow', requireUser(deps, 'channel:write'), validate('param', ChannelParam), async (c) =>
      c.json(await follow(deps, c.var.user.id, c.req.valid('param').name)),
    )
    .delete(
      '/:name/follow',
      requireUser(deps, 'channel:write'),
      validate('param', ChannelParam),
      async (c) => {
        await unfollow(deps, c.var.user.id, c.req.valid('param').name)
        return c.body(null, 204)
      },
    )
