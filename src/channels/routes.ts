/** @module channels/routes — `/api/v1/channels`: public listing and views, owner updates and history. */
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { optionalUser, requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { ChannelParam, ListQuery, PatchChannelBody, SessionsQuery } from './schemas.js'
import { getChannel, kickChannel, listChannels, listSessions, updateChannel } from './service.js'

export const channelRoutes = (deps: Deps) =>
  new Hono<AppEnv>()
    .get('/', validate('query', ListQuery), async (c) => {
      const q = c.req.valid('query')
      return c.json(await listChannels(deps, { liveOnly: q.live === 'true', limit: q.limit }))
    })
    // Public, but a private channel is shown only to a caller who may watch it.
    .get('/:name', optionalUser(deps, 'channel:read'), validate('param', ChannelParam), async (c) => {
      return c.json(await getChannel(deps, c.req.valid('param').name, c.var.viewer))
    })
    .patch(
      '/:name',
      requireUser(deps, 'channel:write'),
      validate('param', ChannelParam),
      validate('json', PatchChannelBody),
      async (c) => {
        return c.json(await updateChannel(deps, c.req.valid('param').name, c.var.user, c.req.valid('json')))
      },
    )
    .post('/:name/kick', requireUser(deps, 'channel:write'), validate('param', ChannelParam), async (c) => {
      const kicked = await kickChannel(deps, c.req.valid('param').name, c.var.user, c.var.clientIp)
      return c.json({ kicked })
    })
    .get(
      '/:name/sessions',
      requireUser(deps, 'analytics:read'),
      validate('param', ChannelParam),
      validate('query', SessionsQuery),
      async (c) => {
        return c.json(
          await listSessions(deps, c.req.valid('param').name, c.var.user, c.req.valid('query').limit),
        )
      },
    )
