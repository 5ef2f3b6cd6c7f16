/** @module accounts/routes — `/api/v1/auth/*` and `/api/v1/me`. Handlers validate, call a verb, answer. */

import { eq } from 'drizzle-orm'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { SESSION_ONLY } from '../api-tokens/scopes.js'
import { users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AppEnv, AuthEnv } from '../http/env.js'
import { NotFoundError, UnauthorizedError } from '../http/errors.js'
import { assertAccess, authenticate, requireUser } from '../http/middleware/auth.js'
import { assertTrustedOrigin } from '../http/middleware/origin-check.js'
import { validate } from '../http/validate.js'
import { rateLimit } from '../rate-limit/middleware.js'
import { clearRefreshCookie, isBrowserRequest, readRefreshCookie, setRefreshCookie } from './cookies.js'
import { LIMITS } from './limits.js'
import { endSession, listSessions, login, logout, refresh, type TokenPair } from './login.js'
import { changePassword, forgotPassword, resetPassword } from './password-flows.js'
import {
  AvailabilityQuery,
  ChangePasswordBody,
  ForgotBody,
  LoginBody,
  LogoutQuery,
  RefreshBody,
  RegisterBody,
  ResetBody,
  SessionParam,
  TokenBody,
} from './schemas.js'
import {
  type Meta,
  register,
  resendVerification,
  toPublicUser,
  usernameAvailability,
  verifyEmail,
} from './service.js'
import { findSessionByRefreshToken } from './sessions.js'

function meta<E extends AppEnv>(c: Context<E>): Meta {
  const userAgent = c.req.header('user-agent')
  return { ip: c.var.clientIp, ...(userAgent ? { userAgent } : {}) }
}

/** The token pair as JSON; a browser's refresh token stays in its HttpOnly cookie (cookies.ts). */
function tokenResponse(c: Context, pair: TokenPair) {
  const { accessToken, tokenType, expiresIn, refreshToken, user } = pair
  if (isBrowserRequest(c)) return { accessToken, tokenType, expiresIn, user }
  return { accessToken, tokenType, expiresIn, refreshToken, user }
}

/** Responses here carry tokens and personal data: no cache may keep them. */
const noStore = createMiddleware(async (c, next) => {
  await next()
  c.header('Cache-Control', 'no-store')
})

export const authRoutes = (deps: Deps) => {
  const auth = requireUser(deps, SESSION_ONLY)
  return new Hono<AppEnv>()
    .use(noStore)
    .post('/register', validate('json', RegisterBody), async (c) => {
      const user = await register(deps, c.req.valid('json'), meta(c))
      return c.json({ user: toPublicUser(user) }, 201)
    })
    .get(
      '/availability',
      rateLimit(deps, LIMITS.availabilityPerIp),
      validate('query', AvailabilityQuery),
      async (c) => c.json(await usernameAvailability(deps, c.req.valid('query').username)),
    )
    .post('/verify-email', validate('json', TokenBody), async (c) => {
      const user = await verifyEmail(deps, c.req.valid('json').token)
      return c.json({ user: toPublicUser(user) })
    })
    .post('/resend-verification', auth, async (c) => {
      await resendVerification(deps, c.var.user.id)
      return c.json({ status: 'accepted' }, 202)
    })
    .post('/login', validate('json', LoginBody), async (c) => {
      const body = c.req.valid('json')
      const pair = await login(deps, body, meta(c))
      setRefreshCookie(c, deps, pair.refreshToken, body.remember ? pair.session.expiresAt : null)
      return c.json(tokenResponse(c, pair))
    })
    .post('/refresh', validate('json', RefreshBody.optional().default({})), async (c) => {
      const fromBody = c.req.valid('json').refreshToken
      const presented = fromBody ?? readRefreshCookie(c, deps)
      if (!presented) throw new UnauthorizedError('no refresh token')
      // The cookie is sent by the browser on its own, so only our own pages may use it.
      if (!fromBody) assertTrustedOrigin(c, deps.config.ALLOWED_ORIGINS)
      try {
        const pair = await refresh(deps, presented, meta(c))
        setRefreshCookie(c, deps, pair.refreshToken, pair.remember ? pair.sessionExpiresAt : null)
        return c.json(tokenResponse(c, pair))
      } catch (err) {
        clearRefreshCookie(c, deps)
        throw err
      }
    })
    .post('/logout', validate('query', LogoutQuery), async (c) => {
      const everywhere = c.req.valid('query').everywhere === 'true'
      const authorization = c.req.header('authorization')
      const cookie = readRefreshCookie(c, deps)
      if (authorization !== undefined) {
        const user = await authenticate(deps, authorization, c.var.clientIp)
        assertAccess(user, SESSION_ONLY)
        await logout(deps, user.id, user.sid, meta(c), everywhere)
      } else if (cookie) {
        assertTrustedOrigin(c, deps.config.ALLOWED_ORIGINS)
        const session = await findSessionByRefreshToken(deps, cookie)
        if (session && !session.revokedAt) await logout(deps, session.userId, session.id, meta(c), everywhere)
      } else {
        throw new UnauthorizedError('missing bearer token or refresh cookie')
      }
      clearRefreshCookie(c, deps)
      return c.body(null, 204)
    })
    .get('/sessions', auth, async (c) => c.json(await listSessions(deps, c.var.user.id, c.var.user.sid)))
    .delete('/sessions/:id', auth, validate('param', SessionParam), async (c) => {
      await endSession(deps, c.var.user.id, c.req.valid('param').id, meta(c))
      return c.body(null, 204)
    })
    .post('/password/forgot', validate('json', ForgotBody), async (c) => {
      await forgotPassword(deps, c.req.valid('json').email, meta(c))
      return c.json({ status: 'accepted' }, 202)
    })
    .post('/password/reset', validate('json', ResetBody), async (c) => {
      const body = c.req.valid('json')
      await resetPassword(deps, body.token, body.password, meta(c))
      return c.json({ status: 'ok' })
    })
    .post('/password/change', auth, validate('json', ChangePasswordBody), async (c) => {
      const pair = await changePassword(deps, c.var.user, c.req.valid('json'), meta(c))
      setRefreshCookie(c, deps, pair.refreshToken, pair.session.remember ? pair.session.expiresAt : null)
      return c.json(tokenResponse(c, pair))
    })
}

export const meRoutes = (deps: Deps) =>
  // Per route, not .use(): other routers (oidc/routes.ts identities) also mount under /api/v1/me.
  new Hono<AuthEnv>().get('/', requireUser(deps, 'channel:read'), async (c) => {
    const [user] = await deps.db.select().from(users).where(eq(users.id, c.var.user.id))
    if (!user) throw new NotFoundError('user')
    return c.json(toPublicUser(user))
  })
