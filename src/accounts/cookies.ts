/**
 * @module accounts/cookies — the refresh-token cookie for browsers: HttpOnly (page scripts never
 * see it), SameSite=Lax, scoped to the auth path, Secure and `__Secure-`-prefixed when PUBLIC_URL
 * is https. Without "remember me" it is a browser-session cookie; the server caps it at 12 h.
 *
 * For a browser that cookie is the ONLY copy: token responses to browsers leave `refreshToken` out
 * of the JSON body, so a script injected into a page (XSS) can at worst borrow an access token for
 * minutes, never walk away with the session. API clients (no cookie jar) keep getting it in the body.
 */
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Deps } from '../deps.js'

export const COOKIE_PATH = '/api/v1/auth'

export function refreshCookieName(deps: Pick<Deps, 'config'>): string {
  return deps.config.secureCookies ? '__Secure-refresh_token' : 'refresh_token'
}

/** `expiresAt` is the session's absolute end: a remembered cookie never outlives its session. */
export function setRefreshCookie(
  c: Context,
  deps: Pick<Deps, 'config' | 'now'>,
  token: string,
  expiresAt: Date | null,
) {
  const maxAge = expiresAt ? Math.max(0, Math.floor((expiresAt.getTime() - deps.now()) / 1000)) : undefined
  setCookie(c, refreshCookieName(deps), token, {
    httpOnly: true,
    secure: deps.config.secureCookies,
    sameSite: 'Lax',
    path: COOKIE_PATH,
    ...(maxAge !== undefined ? { maxAge } : {}),
  })
}

export function readRefreshCookie(c: Context, deps: Pick<Deps, 'config'>): string | undefined {
  return getCookie(c, refreshCookieName(deps))
}

export function clearRefreshCookie(c: Context, deps: Pick<Deps, 'config'>) {
  deleteCookie(c, refreshCookieName(deps), { path: COOKIE_PATH, secure: deps.config.secureCookies })
}

/**
 * Whether the request comes from a browser, which then gets the refresh token in the cookie only.
 * Browsers put `Origin` on every POST (same-origin fetches and forms included) and `Sec-Fetch-Site`
 * on every request; both are forbidden header names, so no page script can remove them. API
 * clients (curl, apps, Node scripts) send neither. Not `Sec-Fetch-Mode`: Node's fetch sends it.
 */
export function isBrowserRequest(c: Context): boolean {
  return c.req.header('origin') !== undefined || c.req.header('sec-fetch-site') !== undefined
}
