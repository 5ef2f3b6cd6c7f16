/**
 * @module api-tokens/routes — `/api/v1/tokens`: a signed-in user's personal access tokens.
 * Managing tokens is an account change, so a token can never create, list or revoke tokens.
 */
import { Hono } from 'hono'
import type { Deps } from '../deps.js'
import type { AuthEnv } from '../http/env.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { rateLimit } from '../rate-limit/middleware.js'
import { CreateTokenBody, TokenIdParam } from './schemas.js'
import { SESSION_ONLY } from './scopes.js'
import { createApiToken, listApiTokens, revokeApiToken, toPublicToken } from './service.js'

/** Creation mints credentials: a runaway script (or a stolen session) should not mint many. */
export const TOKEN_CREATE_LIMIT = { name: 'api-token-create', max: 10, windowMs: 3_600_000 }

export const apiTokenRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .use(requireUser(deps, SESSION_ONLY))
    .use(async (c, next) => {
      await next()
      c.header('Cache-Control', 'no-store')
    })
    .post(
      '/',
      rateLimit<AuthEnv>(deps, TOKEN_CREATE_LIMIT, (c) => c.var.user.id),
      validate('json', CreateTokenBody),
      async (c) => {
        const { row, token } = await createApiToken(deps, c.var.user.id, c.req.valid('json'), c.var.clientIp)
        return c.json({ ...toPublicToken(row), token }, 201)
      },
    )
    .get('/', async (c) => c.json((await listApiTokens(deps, c.var.user.id)).map(toPublicToken)))
    .delete('/:id', validate('param', TokenIdParam), async (c) => {
      await revokeApiToken(deps, c.var.user.id, c.req.valid('param').id, c.var.clientIp)
      return c.body(null, 204)
    })
