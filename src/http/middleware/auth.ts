/**
 * @module http/middleware/auth — who is calling (an access JWT of a session, or a personal access
 * token `lvp_…`), and may they. Every protected route declares its Access: the scope a token needs,
 * or SESSION_ONLY for account changes, which tokens never reach.
 */

import { eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { type Access, SESSION_ONLY } from '../../api-tokens/scopes.js'
import { verifyApiToken } from '../../api-tokens/service.js'
import { looksLikeApiToken } from '../../api-tokens/token.js'
import { users } from '../../db/schema/index.js'
import type { Deps } from '../../deps.js'
import type { AppEnv, AuthEnv, AuthUser } from '../env.js'
import {
  EmailNotVerifiedError,
  ForbiddenError,
  InsufficientScopeError,
  TokenNotAllowedError,
  UnauthorizedError,
} from '../errors.js'

function bearer(header: string | undefined): string | null {
  if (!header) return null
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)
  return m ? m[1]! : null
}

/**
 * Verifies the bearer: a personal access token (by its hash, expiry and revocation), or an access
 * JWT whose session (`sid`) has not been logged out since it was issued. `ip` is the real client
 * address (http/client-address.ts), recorded as a token's lastUsedIp.
 */
export async function authenticate(
  deps: Deps,
  authorization: string | undefined,
  ip: string,
): Promise<AuthUser> {
  const token = bearer(authorization)
  if (!token) throw new UnauthorizedError('missing bearer token')
  if (looksLikeApiToken(token)) return verifyApiToken(deps, token, ip)
  const user = await deps.tokens.verifyAccess(token)
  if (await deps.redis.exists(deps.keys.revokedSid(user.sid))) throw new UnauthorizedError('session ended')
  return user
}

/** Throws unless `user` may use a route declared with `access`. Sessions may use every route. */
export function assertAccess(user: AuthUser, access: Access): void {
  if (!user.scopes) return
  if (access === SESSION_ONLY) throw new TokenNotAllowedError()
  if (!user.scopes.includes(access)) throw new InsufficientScopeError(access)
}

/** Authenticates, then checks the route's declared Access: 401 for who, 403 for what. */
export const requireUser = (deps: Deps, access: Access) =>
  createMiddleware<AuthEnv>(async (c, next) => {
    const user = await authenticate(deps, c.req.header('authorization'), c.var.clientIp)
    assertAccess(user, access)
    c.set('user', user)
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

/**
 * For public routes that show more to some callers (a private channel to those who may watch):
 * no Authorization header is an anonymous viewer; a header that fails is 401 (so a client
 * refreshes its token rather than silently seeing less), and a token needs `access`.
 */
export const optionalUser = (deps: Deps, access: Access) =>
  createMiddleware<AppEnv & { Variables: { viewer: AuthUser | null } }>(async (c, next) => {
    const header = c.req.header('authorization')
    let viewer: AuthUser | null = null
    if (header !== undefined) {
      viewer = await authenticate(deps, header, c.var.clientIp)
      assertAccess(viewer, access)
    }
    c.set('viewer', viewer)
    await next()
  })
