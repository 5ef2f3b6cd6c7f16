/**
 * @module visibility/routes — members of a channel (owner), playback grants (whoever may watch),
 * and the internal check nginx's auth_request calls (never proxied from the public origin).
 */
import { Hono } from 'hono'
import { ChannelParam } from '../channels/schemas.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { grantChannelPlayback } from './grants.js'
import { listMembers, setMember } from './members.js'
import { checkPlayback } from './playback-auth.js'
import { MemberParam, PlaybackTokenBody } from './schemas.js'

export const channelVisibilityRoutes = (deps: Deps) =>
  new Hono<AppEnv>()
    .get('/:name/members', requireUser(deps, 'channel:read'), validate('param', ChannelParam), async (c) =>
      c.json(await listMembers(deps, c.req.valid('param').name, c.var.user)),
    )
    .put(
      '/:name/members/:username',
      requireUser(deps, 'channel:write'),
      validate('param', MemberParam),
      async (c) => {
        const { name, username } = c.req.valid('param')
        await setMember(deps, name, { ...c.var.user, ip: c.var.clientIp }, username, true)
        return c.body(null, 204)
      },
    )
    .delete(
      '/:name/members/:username',
      requireUser(deps, 'channel:write'),
      validate('param', MemberParam),
      async (c) => {
        const { name, username } = c.req.valid('param')
        await setMember(deps, name, { ...c.var.user, ip: c.var.clientIp }, username, false)
        return c.body(null, 204)
      },
    )
    .post(
      '/:name/playback-tokens',
      requireUser(deps, 'channel:read'),
      validate('param', ChannelParam),
      validate('json', PlaybackTokenBody),
      async (c) => {
        const grant = await grantChannelPlayback(
          deps,
          c.var.user,
          c.req.valid('param').name,
          c.req.valid('json').ttlS,
        )
        // The grant is a bearer credential: no cache anywhere keeps it.
        c.header('Cache-Control', 'no-store')
        return c.json(grant, 201)
      },
    )

/**
 * `GET /internal/playback-auth` with `X-Original-URI` (nginx sets it): an empty 200/401/403 whose
 * Cache-Control nginx's auth cache obeys. The URI carries the grant, so it is never logged.
 */
export const playbackAuthRoutes = (deps: Deps) =>
  new Hono<AppEnv>().get('/playback-auth', async (c) => {
    const verdict = await checkPlayback(deps, c.req.header('x-original-uri') ?? '')
    c.header('Cache-Control', verdict.cacheControl)
    return c.body(null, verdict.status)
  })
