/**
 * @module accounts/tokens — short-lived access JWTs (EdDSA, pinned) and the public JWKS.
 * Rotation: put the new private key in JWT_PRIVATE_KEY_FILE and the old public key in
 * JWT_PREVIOUS_PUBLIC_KEYS_FILE until the last old token has expired (ACCESS_TOKEN_TTL_S).
 */

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import {
  calculateJwkThumbprint,
  errors,
  exportJWK,
  importPKCS8,
  importSPKI,
  type JWK,
  type JWTHeaderParameters,
  jwtVerify,
  SignJWT,
} from 'jose'
import type { AuthUser } from '../http/env.js'
import { UnauthorizedError } from '../http/errors.js'

const ALG = 'EdDSA'
const TYP = 'at+jwt' // RFC 9068: access tokens are typed so no other JWT can stand in for one
const AUDIENCE = 'live-api'

export interface TokenService {
  signAccess(
    user: { id: string; role: AuthUser['role'] },
    sid: string,
  ): Promise<{ token: string; expiresIn: number }>
  /** Throws UnauthorizedError for any invalid token; never leaks jose's reason to the client. */
  verifyAccess(token: string): Promise<AuthUser>
  jwks(): { keys: JWK[] }
  issuer: string
  /**
   * A signed grant for another audience (e.g. playback): same key and pinned algorithm, its own
   * `aud` and `typ`, so it can never stand in for an access token (nor one for it).
   */
  signGrant(
    claims: Record<string, string>,
    opts: { audience: string; typ: string; subject: string; expiresAtS: number },
  ): Promise<string>
  /** The grant's claims, or null for any invalid, expired or foreign token (no reason leaks). */
  verifyGrant(
    token: string,
    opts: { audience: string; typ: string; requiredClaims: string[] },
  ): Promise<Record<string, unknown> | null>
}

type VerifyKey = { kid: string; key: KeyObject }

async function kidOf(jwk: JWK): Promise<string> {
  return (await calculateJwkThumbprint(jwk)).slice(0, 16)
}

export async function createTokenService(opts: {
  privateKeyPem: string
  previousPublicKeysPem: string[]
  issuer: string
  ttlS: number
  now?: () => number
}): Promise<TokenService> {
  const privateKey = createPrivateKey(opts.privateKeyPem)
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('JWT key must be Ed25519 (EdDSA)')
  const signingKey = await importPKCS8(opts.privateKeyPem, ALG)
  const publicJwk = await exportJWK(createPublicKey(privateKey))
  const currentKid = await kidOf(publicJwk)
  const verifyKeys: VerifyKey[] = [{ kid: currentKid, key: createPublicKey(privateKey) }]
  const jwks: JWK[] = [{ ...publicJwk, kid: currentKid, alg: ALG, use: 'sig' }]
  for (const pem of opts.previousPublicKeysPem) {
    const key = (await importSPKI(pem, ALG, { extractable: true })) as unknown as KeyObject
    const jwk = await exportJWK(key)
    const kid = await kidOf(jwk)
    verifyKeys.push({ kid, key: createPublicKey(pem) })
    jwks.push({ ...jwk, kid, alg: ALG, use: 'sig' })
  }
  const now = opts.now ?? Date.now
  const nowS = () => Math.floor(now() / 1000)
  /** The verification key a token names by `kid` (the current one, or a rotated-out one). */
  const keyFor = (header: JWTHeaderParameters) => {
    const found = verifyKeys.find((k) => k.kid === header.kid)
    if (!found) throw new errors.JWKSNoMatchingKey()
    return found.key
  }

  return {
    issuer: opts.issuer,
    async signAccess(user, sid) {
      const iat = nowS()
      const token = await new SignJWT({ role: user.role, sid })
        .setProtectedHeader({ alg: ALG, typ: TYP, kid: currentKid })
        .setSubject(user.id)
        .setIssuer(opts.issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + opts.ttlS)
        .sign(signingKey)
      return { token, expiresIn: opts.ttlS }
    },
    async verifyAccess(token) {
      try {
        const { payload } = await jwtVerify(token, keyFor, {
          algorithms: [ALG], // pinned: `none`, HS256-with-the-public-key and friends are refused
          issuer: opts.issuer,
          audience: AUDIENCE,
          typ: TYP,
          requiredClaims: ['sub', 'sid', 'exp', 'iat'],
          currentDate: new Date(now()),
        })
        const role = payload.role
        if ((role !== 'user' && role !== 'admin') || typeof payload.sid !== 'string' || !payload.sub) {
          throw new UnauthorizedError('invalid access token')
        }
        return { id: payload.sub, role, sid: payload.sid }
      } catch (err) {
        if (err instanceof UnauthorizedError) throw err
        if (err instanceof errors.JWTExpired) throw new UnauthorizedError('access token expired')
        if (err instanceof errors.JOSEError || err instanceof TypeError)
          throw new UnauthorizedError('invalid access token')
        throw err
      }
    },
    jwks: () => ({ keys: jwks }),
    async signGrant(claims, o) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, typ: o.typ, kid: currentKid })
        .setSubject(o.subject)
        .setIssuer(opts.issuer)
        .setAudience(o.audience)
        .setIssuedAt(nowS())
        .setExpirationTime(o.expiresAtS)
        .sign(signingKey)
    },
    async verifyGrant(token, o) {
      try {
        const { payload } = await jwtVerify(token, keyFor, {
          algorithms: [ALG],
          issuer: opts.issuer,
          audience: o.audience,
          typ: o.typ,
          requiredClaims: ['sub', 'exp', ...o.requiredClaims],
          currentDate: new Date(now()),
        })
        return payload as Record<string, unknown>
      } catch (err) {
        if (err instanceof errors.JOSEError || err instanceof TypeError) return null
        throw err
      }
    },
  }
}
