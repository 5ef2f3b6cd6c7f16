/** @module accounts/routes — `/api/v1/auth/*` and `/api/v1/me`. */
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Context } from 'hono'
import type { Deps } from '../deps.js'
import { users } from '../db/schema/index.js'
import { NotFoundError, UnauthorizedError } from '../http/errors.js'
import type { AppEnv, AuthEnv } from '../http/env.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { ForgotBody, LoginBody, RefreshBody, RegisterBody, ResetBody, TokenBody } from './schemas.js'
import * as accounts from './service.js'
import { REMEMBER_TTL_MS } from './sessions.js'

export const REFRESH_COOKIE = 'refresh_token'
const COOKIE_PATH = '/api/v1/auth'

function meta<E extends AppEnv>(c: Context<E>) {
  return { ip: c.var.clientIp, userAgent: c.req.header('user-agent') }
}

/** HttpOnly so page scripts never see it; scoped to the auth path; session cookie unless "remember me". */
function setRefreshCookie(c: Context, deps: Deps, token: string, remember: boolean) {
  setCookie(c, REFRESH_COOKIE, token, {
    httpOnly: true,
    secure: deps.config.secureCookies,
    sameSite: 'Lax',
    path: COOKIE_PATH,
    ...(remember ? { maxAge: Math.floor(REMEMBER_TTL_MS / 1000) } : {}),
  })
}

function tokenResponse(pair: accounts.TokenPair) {
  const { accessToken, tokenType, expiresIn, refreshToken, user } = pair
  return { accessToken, tokenType, expiresIn, refreshToken, user }
}

export const authRoutes = (deps: Deps) =>
  new Hono<AppEnv>()
    .post('/register', validate('json', RegisterBody), async (c) => {
      const user = await accounts.register(deps, c.req.valid('json'), meta(c))
      return c.json({ user: accounts.toPublicUser(user) }, 201)
    })
    .post('/verify-email', validate('json', TokenBody), async (c) => {
      const user = await accounts.verifyEmail(deps, c.req.valid('json').token)
      return c.json({ user: accounts.toPublicUser(user) })
    })
    .post('/resend-verification', requireUser(deps), async (c) => {
      await accounts.resendVerification(deps, c.var.user.id)
      return c.json({ status: 'accepted' }, 202)
    })
    .post('/login', validate('json', LoginBody), async (c) => {
      const body = c.req.valid('json')
      const pair = await accounts.login(deps, body, meta(c))
      setRefreshCookie(c, deps, pair.refreshToken, body.remember)
      return c.json(tokenResponse(pair))
    })
    .post('/refresh', validate('json', RefreshBody.optional().default({})), async (c) => {
      const presented = c.req.valid('json').refreshToken ?? getCookie(c, REFRESH_COOKIE)
      if (!presented) throw new UnauthorizedError('no refresh token')
      try {
        const pair = await accounts.refresh(deps, presented, meta(c))
        setRefreshCookie(c, deps, pair.refreshToken, pair.remember)
        return c.json(tokenResponse(pair))
      } catch (err) {
        deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH })
        throw err
      }
    })
    .post('/logout', requireUser(deps), async (c) => {
      const { user } = c.var
      await accounts.logout(deps, user.id, user.sid, meta(c), c.req.query('everywhere') === 'true')
      deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH })
      return c.body(null, 204)
    })
    .post('/password/forgot', validate('json', ForgotBody), async (c) => {
      await accounts.forgotPassword(deps, c.req.valid('json').email, meta(c))
      return c.json({ status: 'accepted' }, 202)
    })
    .post('/password/reset', validate('json', ResetBody), async (c) => {
      const body = c.req.valid('json')
      await accounts.resetPassword(deps, body.token, body.password, meta(c))
      return c.json({ status: 'ok' })
    })

export const meRoutes = (deps: Deps) =>
  new Hono<AuthEnv>().use(requireUser(deps)).get('/', async (c) => {
    const [user] = await deps.db.select().from(users).where(eq(users.id, c.var.user.id))
    if (!user) throw new NotFoundError('user')
    return c.json(accounts.toPublicUser(user))
  })
