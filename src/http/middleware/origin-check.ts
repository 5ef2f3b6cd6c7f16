/**
 * @module http/middleware/origin-check — CSRF defence for requests a browser authenticates with a
 * cookie (refresh, logout). Bearer requests need none: a browser never attaches that header on
 * its own.
 *
 * SameSite=Lax already keeps the cookie off cross-site POSTs. This also refuses cross-origin but
 * same-site callers (a sibling subdomain) and browsers that ignore SameSite. Hono's csrf() only
 * inspects form content types, but a cookie-only endpoint with an empty body can be reached with
 * any content type (text/plain, no body at all), so here every cookie-authenticated request must
 * show an Origin we serve, or — if a browser sent none — `Sec-Fetch-Site: same-origin`.
 */
import type { Context } from 'hono'
import { ForbiddenError } from '../errors.js'

export function isTrustedOrigin(
  origin: string | undefined,
  secFetchSite: string | undefined,
  allowed: string[],
) {
  // `Origin: null` (sandboxed frames, some redirects) is never in the list.
  if (origin !== undefined) return allowed.includes(origin)
  return secFetchSite === 'same-origin'
}

export function assertTrustedOrigin(c: Context, allowed: string[]): void {
  if (!isTrustedOrigin(c.req.header('origin'), c.req.header('sec-fetch-site'), allowed)) {
    throw new ForbiddenError('cross-origin request refused: send the refresh token in the body instead')
  }
}
