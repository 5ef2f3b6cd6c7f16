/**
 * @module videos/routes — `/api/v1/videos/:id` and `/api/v1/channels/:name/videos`. Reads are
 * public and answer what the caller may see: anonymous callers see public videos, a bearer (if
 * sent, it must be valid) may see more. Writes are the owner's or an admin's, scope channel:write.
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { ChannelParam } from '../channels/schemas.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { authenticate, requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { PlaybackTokenBody } from '../visibility/schemas.js'
import type { Viewer } from './access.js'
import { grantVideoPlayback } from './playback.js'
import { PatchVideoBody, VideoParam, VideosQuery } from './schemas.js'
import { deleteVideo, getVideo, listVideos, updateVideo } from './service.js'

/** The caller of a public read: null without an Authorization header; a bad one is still a 401. */
async function viewerOf(deps: Deps, c: Context<AppEnv>): Promise<Viewer> {
  const header = c.req.header('authorization')
  if (!header) return null
  const user = await authenticate(deps, header, c.var.clientIp)
  return { id: user.id, role: user.role }
}

export const channelVideoRoutes = (deps: Deps) =>
  new Hono<AppEnv>().get(
    '/:name/videos',
    validate('param', ChannelParam),
    validate('query', VideosQuery),
    async (c) => {
      c.header('Cache-Control', 'private, no-cache')
      const viewer = await viewerOf(deps, c)
      return c.json(await listVideos(deps, c.req.valid('param').name, viewer, c.req.valid('query').limit))
    },
  )

export const videoRoutes = (deps: Deps) =>
  new Hono<AppEnv>()
    .get('/:id', validate('param', VideoParam), async (c) => {
      c.header('Cache-Control', 'private, no-cache')
      return c.json(await getVideo(deps, c.req.valid('param').id, await viewerOf(deps, c)))
    })
    .post(
      '/:id/playback-tokens',
      requireUser(deps, 'channel:read'),
      validate('param', VideoParam),
      validate('json', PlaybackTokenBody),
      async (c) => {
        const grant = await grantVideoPlayback(
          deps,
          c.var.user,
          c.req.valid('param').id,
          c.req.valid('json').ttlS,
        )
        // The grant is a bearer credential: no cache anywhere keeps it.
        c.header('Cache-Control', 'no-store')
        return c.json(grant, 201)
      },
    )
    .patch(
      '/:id',
      requireUser(deps, 'channel:write'),
      validate('param', VideoParam),
      validate('json', PatchVideoBody),
      async (c) => c.json(await updateVideo(deps, c.req.valid('param').id, c.var.user, c.req.valid('json'))),
    )
    .delete('/:id', requireUser(deps, 'channel:write'), validate('param', VideoParam), async (c) => {
      await deleteVideo(deps, c.req.valid('param').id, c.var.user)
      return c.body(null, 204)
    })
