/** @module stream-keys/routes — `/api/v1/stream-keys` (Bearer, confirmed email). */
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { requireUser, requireVerified } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { CreateKeyBody, KeyIdParam } from './schemas.js'
import { createStreamKey, listStreamKeys, revokeStreamKey, toPublicKey } from './service.js'

export const streamKeyRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .use(requireUser(deps, 'stream-keys:write'), requireVerified(deps))
    .post('/', validate('json', CreateKeyBody.optional().default({ label: '' })), async (c) => {
      const { row, key } = await createStreamKey(
        deps,
        c.var.user.id,
        c.req.valid('json').label,
        c.var.clientIp,
      )
      c.header('Cache-Control', 'no-store')
      return c.json(
        { ...toPublicKey(row), key, ingest: { server: deps.config.RTMP_PUBLIC_URL, streamKey: key } },
        201,
      )
    })
    .get('/', async (c) => {
      const rows = await listStreamKeys(deps, c.var.user.id)
      return c.json(rows.map(toPublicKey))
    })
    .delete('/:id', validate('param', KeyIdParam), async (c) => {
      await revokeStreamKey(deps, c.var.user.id, c.req.valid('param').id, c.var.clientIp)
      return c.body(null, 204)
    })
