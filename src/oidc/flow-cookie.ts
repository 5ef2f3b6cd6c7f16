/**
 * @module oidc/flow-cookie — what the callback must check (state, nonce, PKCE verifier) and where
 * to go next, carried from /start to /callback in an encrypted, HttpOnly, 10-minute cookie.
 *
 * Encrypted (not just signed) because the PKCE verifier is a secret until the code is redeemed.
 * The key is derived from the JWT signing key, so every instance shares it with no extra setting
 * and no server-side state. SameSite=Lax: the provider's redirect back is a top-level GET, which
 * Lax cookies accompany; a cross-site subrequest never gets it.
 */
import { hkdfSync } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { EncryptJWT, jwtDecrypt } from 'jose'
import type { Deps } from '../deps.js'

export const FLOW_COOKIE_PATH = '/api/v1/auth/oidc'
export const FLOW_TTL_S = 600

export type Flow = { provider: string; state: string; nonce: string; verifier: string; next: string }

const keys = new WeakMap<object, Uint8Array>()
function keyOf(config: Deps['config']): Uint8Array {
  let key = keys.get(config)
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', config.jwtPrivateKeyPem, 'live-oidc', 'oidc flow cookie v1', 32))
    keys.set(config, key)
  }
  return key
}

export function flowCookieName(deps: Pick<Deps, 'config'>): string {
  return deps.config.secureCookies ? '__Secure-oidc_flow' : 'oidc_flow'
}

/** The cookie value for `flow` (exported for tests that must forge a mismatching one). */
export async function sealFlow(deps: Pick<Deps, 'config' | 'now'>, flow: Flow): Promise<string> {
  const iat = Math.floor(deps.now() / 1000)
  return new EncryptJWT({ ...flow })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + FLOW_TTL_S)
    .encrypt(keyOf(deps.config))
}

export async function setFlowCookie(c: Context, deps: Pick<Deps, 'config' | 'now'>, flow: Flow) {
  setCookie(c, flowCookieName(deps), await sealFlow(deps, flow), {
    httpOnly: true,
    secure: deps.config.secureCookies,
    sameSite: 'Lax',
    path: FLOW_COOKIE_PATH,
    maxAge: FLOW_TTL_S,
  })
}

/** The flow this browser started, or null (missing, expired, tampered or from another key). */
export async function takeFlowCookie(c: Context, deps: Pick<Deps, 'config' | 'now'>): Promise<Flow | null> {
  const raw = getCookie(c, flowCookieName(deps))
  // Single use: whatever happens next, this flow is over.
  deleteCookie(c, flowCookieName(deps), { path: FLOW_COOKIE_PATH, secure: deps.config.secureCookies })
  if (!raw) return null
  try {
    const { payload } = await jwtDecrypt(raw, keyOf(deps.config), {
      currentDate: new Date(deps.now()),
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const { provider, state, nonce, verifier, next } = payload
    if ([provider, state, nonce, verifier, next].some((v) => typeof v !== 'string')) return null
    return { provider, state, nonce, verifier, next } as Flow
  } catch {
    return null
  }
}
