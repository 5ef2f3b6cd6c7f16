/**
 * @module oidc/routes — sign in with an OpenID Connect provider (authorization code + PKCE, state,
 * nonce): `/api/v1/auth/providers`, `/api/v1/auth/oidc/:provider/{start,callback}`, and the
 * user's linked identities under `/api/v1/me/identities`.
 *
 * The callback ends like a password login: a session, the refresh cookie, a redirect to `next`
 * (checked by the same safeNext the login page uses); the page then gets its access token from
 * /auth/refresh. A failure is problem+json, except for a browser navigation, which is sent back to
 * /login?error=<CODE> rather than shown a JSON page.
 */
import { type Context, Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import * as client from 'openid-client'
import { setRefreshCookie } from '../accounts/cookies.js'
import { startSession } from '../accounts/login.js'
import { SESSION_ONLY } from '../api-tokens/scopes.js'
import { recordAudit } from '../audit/audit.js'
import type { Deps } from '../deps.js'
import type { AppEnv, AuthEnv } from '../http/env.js'
import { AppError, UnauthorizedError } from '../http/errors.js'
import { requireUser } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { errText } from '../log.js'
import { rateLimit } from '../rate-limit/middleware.js'
import { safeNext } from '../web/shared/format.js'
import { createOidcClients } from './clients.js'
import { FLOW_COOKIE_PATH, setFlowCookie, takeFlowCookie } from './flow-cookie.js'
import { CallbackQuery, ProviderParam, StartQuery } from './schemas.js'
import { listIdentities, signInWithIdentity, unlinkIdentity } from './service.js'

/** The same readable, non-secret hint a password login sets (web/client/session.ts). */
const HINT = 'live_user'

function redirectUri(deps: Pick<Deps, 'config'>, provider: string): string {
  return `${deps.config.PUBLIC_URL}${FLOW_COOKIE_PATH}/${provider}/callback`
}

/** openid-client's errors are the provider's or the flow's fault: a refusal, except unreachability. */
function refusal(err: unknown): AppError {
  if (err instanceof AppError) return err
  const cause = (err as { cause?: unknown }).cause
  const code = (err as { code?: string }).code
  if (code === 'OAUTH_TIMEOUT' || (err instanceof client.ClientError && cause instanceof TypeError)) {
    return new AppError('UNAVAILABLE', 'the identity provider cannot be reached right now', { cause: err })
  }
  return new AppError('OIDC_FAILED', 'the identity provider’s answer could not be verified', { cause: err })
}

export const oidcAuthRoutes = (deps: Deps) => {
  const clients = createOidcClients(deps.config.OIDC_PROVIDERS)

  async function finish(c: Context<AppEnv>, provider: string): Promise<Response> {
    const flow = await takeFlowCookie(c, deps)
    if (!flow || flow.provider !== provider) {
      throw new AppError('OIDC_FAILED', 'this sign-in expired or was started in another browser; start again')
    }
    const config = await clients.configuration(provider)
    const current = new URL(redirectUri(deps, provider))
    current.search = new URL(c.req.url).search
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>
    let claims: client.IDToken
    let email: unknown
    let verified: unknown
    let preferred: unknown
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      })
      claims = tokens.claims()!
      ;({ email, email_verified: verified, preferred_username: preferred } = claims)
      // Providers that follow the spec strictly put email only in userinfo for a code flow.
      if (typeof email !== 'string') {
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
        ;({ email, email_verified: verified, preferred_username: preferred } = info)
      }
    } catch (err) {
      deps.log.info({ provider, err: errText(err), ip: c.var.clientIp }, 'oidc callback refused')
      throw refusal(err)
    }
    const ip = c.var.clientIp
    const result = await signInWithIdentity(
      deps,
      {
        provider,
        subject: claims.sub,
        email: typeof email === 'string' ? email.trim().toLowerCase() : undefined,
        // Some providers send the boolean as a string; anything else is "not verified".
        emailVerified: verified === true || verified === 'true',
        preferredUsername: typeof preferred === 'string' ? preferred : undefined,
      },
      ip,
    )
    if (result.user.disabledAt) throw new UnauthorizedError('account disabled')
    const userAgent = c.req.header('user-agent')
    const pair = await startSession(deps, result.user, false, { ip, ...(userAgent ? { userAgent } : {}) })
    await recordAudit(deps.db, {
      type: 'auth.login.ok',
      userId: result.user.id,
      ip,
      data: { sid: pair.session.id, provider, created: result.created, linked: result.linked },
    })
    setRefreshCookie(c, deps, pair.refreshToken, null)
    setCookie(c, HINT, result.user.username, {
      path: '/',
      sameSite: 'Lax',
      secure: deps.config.secureCookies,
      maxAge: 30 * 24 * 3600,
    })
    return c.redirect(flow.next, 302)
  }

  return new Hono<AppEnv>()
    .use(async (c, next) => {
      await next()
      c.header('Cache-Control', 'no-store')
    })
    .get('/providers', (c) => c.json(deps.config.OIDC_PROVIDERS.map((p) => ({ id: p.id, name: p.name }))))
    .get(
      '/oidc/:provider/start',
      rateLimit(deps, { name: 'oidc-start', max: 30, windowMs: 60_000 }),
      validate('param', ProviderParam),
      validate('query', StartQuery),
      async (c) => {
        const id = c.req.valid('param').provider
        const p = clients.provider(id)
        const config = await clients.configuration(id)
        const verifier = client.randomPKCECodeVerifier()
        const flow = {
          provider: id,
          state: client.randomState(),
          nonce: client.randomNonce(),
          verifier,
          next: safeNext(c.req.valid('query').next),
        }
        await setFlowCookie(c, deps, flow)
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri(deps, id),
          scope: p.scopes,
          response_type: 'code',
          state: flow.state,
          nonce: flow.nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        })
        return c.redirect(url.href, 302)
      },
    )
    .get(
      '/oidc/:provider/callback',
      validate('param', ProviderParam),
      validate('query', CallbackQuery),
      async (c) => {
        try {
          return await finish(c, c.req.valid('param').provider)
        } catch (err) {
          if (c.req.header('sec-fetch-mode') !== 'navigate' || !(err instanceof AppError)) throw err
          return c.redirect(`/login?error=${err.code}`, 302)
        }
      },
    )
}

export const identityRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .get('/identities', requireUser(deps, SESSION_ONLY), async (c) => {
      c.header('Cache-Control', 'no-store')
      const { hasPassword, identities } = await listIdentities(deps, c.var.user.id)
      const names = new Map(deps.config.OIDC_PROVIDERS.map((p) => [p.id, p.name]))
      return c.json({
        hasPassword,
        identities: identities.map((i) => ({ ...i, name: names.get(i.provider) ?? i.provider })),
      })
    })
    .delete(
      '/identities/:provider',
      requireUser(deps, SESSION_ONLY),
      validate('param', ProviderParam),
      async (c) => {
        await unlinkIdentity(deps, c.var.user.id, c.req.valid('param').provider, c.var.clientIp)
        return c.body(null, 204)
      },
    )
