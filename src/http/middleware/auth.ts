/** @module http/middleware/auth — Bearer access tokens: who is calling, and may they. */

import { eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { users } from '../../db/schema/index.js'
import type { Deps } from '../../deps.js'
import type { AuthEnv, AuthUser } from '../env.js'
import { EmailNotVerifiedError, ForbiddenError, UnauthorizedError } from '../errors.js'

function bearer(header: string | undefined): string | null {
  if (!header) return null
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)
  return m ? m[1]! : null
}

/** Verifies the access JWT and that its session (`sid`) has not been logged out since it was issued. */
export async function authenticate(deps: Deps, authorization: string | undefined): Promise<AuthUser> {
  const token = bearer(authorization)
  if (!token) throw new UnauthorizedError('missing bearer token')
  const user = await deps.tokens.verifyAccess(token)
  if (await deps.redis.exists(deps.keys.revokedSid(user.sid))) throw new UnauthorizedError('session ended')
  return user
}

export const requireUser = (deps: Deps) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    c.set('user', await authenticate(deps, c.req.header('authorization')))
    await next()
  })

/** Streaming and chatting need a confirmed email and an enabled account (checked live, not from the token). */
export const requireVerified = (deps: Deps) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const [row] = await deps.db
      .select({ verified: users.emailVerifiedAt, disabled: users.disabledAt })
      .from(users)
      .where(eq(users.id, c.var.user.id))
    if (!row || row.disabled) throw new UnauthorizedError('account disabled')
    if (!row.verified) throw new EmailNotVerifiedError()
    await next()
  })

export const requireAdmin = () =>
  createMiddleware<AuthEnv>(async (c, next) => {
    if (c.var.user.role !== 'admin') throw new ForbiddenError('admins only')
    await next()
  })
