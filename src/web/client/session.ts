/**
 * @module web/client/session — the browser's login session.
 *
 * - The refresh token lives only in the HttpOnly cookie the server sets (scoped to /api/v1/auth);
 *   the access token lives only in this module's memory. Nothing secret is written to
 *   localStorage, sessionStorage or a readable cookie.
 * - A page load gets its access token by POSTing /api/v1/auth/refresh with that cookie. Refresh
 *   tokens work once, and presenting a used one revokes the whole session, so two tabs must never
 *   refresh at the same moment with the same cookie: refreshes are serialized across every tab of
 *   the origin with a Web Lock (the second tab's request leaves after the first one's Set-Cookie
 *   has landed, so it carries the new token). Within the page, `pending` makes concurrent callers
 *   share one request. Should a refresh still race (no Web Locks, a response lost to navigation),
 *   the server's REFRESH_REUSE_GRACE_S answers the retry with the same successor.
 * - `live_user=<username>` is a readable, non-secret hint set at login: it spares anonymous
 *   viewers a refresh request that can only fail, and lets the server draw the top bar right.
 */

export type Me = {
  id: string
  email: string
  username: string
  emailVerified: boolean
  role: 'user' | 'admin'
  createdAt: string
}

export type TokenResponse = { accessToken: string; expiresIn: number; user: Me }

type Session = { token: string; expiresAt: number; user: Me }

const HINT = 'live_user'
const HINT_MAX_AGE_S = 30 * 24 * 3600
/** Refresh this long before the access token expires, so a request never races the expiry. */
const EARLY_MS = 60_000

let session: Session | null = null
let pending: Promise<Session | null> | null = null
/** Set while logging out: the server closes our sockets before the logout response arrives, and
 * their reconnects must not try to refresh a session that is being revoked. */
let endingSession = false

export function hintedUsername(): string | null {
  const m = /(?:^|;\s*)live_user=([a-z0-9_]{3,24})(?:;|$)/.exec(document.cookie)
  return m ? m[1]! : null
}

function setHint(username: string): void {
  const secure = location.protocol === 'https:' ? '; Secure' : ''
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing in Firefox and older Safari
  document.cookie = `${HINT}=${username}; Path=/; Max-Age=${HINT_MAX_AGE_S}; SameSite=Lax${secure}`
}

function clearHint(): void {
  if (!hintedUsername()) return
  // biome-ignore lint/suspicious/noDocumentCookie: as above
  document.cookie = `${HINT}=; Path=/; Max-Age=0; SameSite=Lax`
  window.dispatchEvent(new CustomEvent('live:signed-out'))
}

/**
 * Takes the tokens from a login (or refresh) response. The server never puts the refresh token in
 * a browser's response body (it recognises browsers by Origin / Sec-Fetch-Site): the cookie is
 * the only copy.
 */
export function adopt(res: TokenResponse): Session {
  session = { token: res.accessToken, expiresAt: Date.now() + res.expiresIn * 1000, user: res.user }
  setHint(res.user.username)
  return session
}

async function refresh(): Promise<Session | null> {
  const send = () =>
    fetch('/api/v1/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
  let res: Response
  try {
    res = navigator.locks ? await navigator.locks.request('live-auth-refresh', send) : await send()
  } catch {
    return session // offline: keep what we have, try again on the next call
  }
  if (res.status === 401 || res.status === 403) {
    session = null
    clearHint()
    return null
  }
  if (!res.ok) return session
  return adopt((await res.json()) as TokenResponse)
}

/**
 * The current session, refreshing the access token when it is missing or about to expire; null
 * for a browser that is not signed in. `force` refreshes even a fresh token (after a 401).
 */
export function getSession(force = false): Promise<Session | null> {
  if (!force && session && session.expiresAt - Date.now() > EARLY_MS) return Promise.resolve(session)
  if (endingSession || !hintedUsername()) return Promise.resolve(null)
  pending ??= refresh().finally(() => {
    pending = null
  })
  return pending
}

/** Ends this browser's session on the server (the cookie is cleared by the response), then here. */
export async function logout(): Promise<void> {
  const current = session
  session = null
  endingSession = true
  try {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: current ? { authorization: `Bearer ${current.token}` } : {},
    })
  } finally {
    clearHint()
    endingSession = false
  }
}
