/**
 * @module accounts/refresh-rotation — trading a refresh token for its successor. Each token works
 * once; presenting a used one is reuse (RFC 9700 §4.14.2) and revokes the whole family, EXCEPT a
 * retry within REFRESH_REUSE_GRACE_S of the rotation (a lost response, two tabs at page load),
 * which gets the very same successor again and leaves the session alive.
 *
 * Why the same successor and not a fresh sibling (Auth0's "reuse interval" does the same):
 *  - the family stays one chain with one live head: a sibling would either fork it (two valid
 *    tokens) or kill the copy the first caller just received — and with two tabs, whichever
 *    Set-Cookie lands last must be valid, or the next refresh is "reuse" and logs the user out;
 *  - concurrent answers all agree, so there is no ordering of responses that can go wrong;
 *  - a thief replaying a stolen token inside the grace gets only the token the owner holds too:
 *    the first of them to rotate it makes the other's copy a reuse, and the family is revoked.
 *
 * The successor's secret is not stored (only its SHA-256 is), so it is DERIVED: an HMAC of the
 * presented token under a key only the server holds (HKDF of the JWT signing key, which every
 * instance shares). Knowing an old token does not let anyone compute its successor, and a
 * database dump reveals nothing new. After a signing-key rotation a retry of a token rotated
 * just before it derives a different successor and gets a plain 401 (no revocation).
 *
 * Race safety: the presented token's row is locked (SELECT … FOR UPDATE) for the whole exchange,
 * so concurrent presentations are serialised: the first claims it and inserts the successor in
 * the same transaction; each later one sees it used, within the grace, and finds that successor.
 */
import { createHmac, hkdfSync } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Tx } from '../db/client.js'
import { type AuthSession, authSessions, refreshTokens } from '../db/schema/index.js'
import { hashesEqual, idFromBytes, sha256Hex } from '../lib/secrets.js'
import { REFRESH_RE, revokeSession, type SessionDeps, sessionEnded } from './sessions.js'

export type RotateDeps = Omit<SessionDeps, 'config'> & {
  config: Pick<Config, 'ACCESS_TOKEN_TTL_S' | 'REFRESH_REUSE_GRACE_S' | 'jwtPrivateKeyPem'>
}

export type RotateResult =
  | {
      ok: true
      userId: string
      sessionId: string
      remember: boolean
      expiresAt: Date
      refreshToken: string
      /** True when this answered a retry of an already-rotated token (within the grace). */
      retried: boolean
    }
  | {
      ok: false
      reason: 'malformed' | 'unknown' | 'expired' | 'revoked' | 'reused' | 'grace_mismatch'
      userId?: string
      sessionId?: string
    }

const derivationKeys = new Map<string, Buffer>()

function derivationKey(signingKeyPem: string): Buffer {
  let key = derivationKeys.get(signingKeyPem)
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', signingKeyPem, '', 'live/refresh-token-successor/v1', 32))
    derivationKeys.set(signingKeyPem, key)
  }
  return key
}

/** The one successor a token can ever have: `id.secret`, deterministic under the server's key. */
export function successorOf(signingKeyPem: string, presented: string) {
  const bytes = createHmac('sha512', derivationKey(signingKeyPem)).update(presented).digest() // 64 bytes
  const id = idFromBytes(bytes.subarray(0, 16), 16)
  const secret = idFromBytes(bytes.subarray(16, 56), 40)
  return { id, secret, token: `${id}.${secret}` }
}

type Decision =
  | { kind: 'ok'; session: AuthSession; refreshToken: string; retried: boolean }
  | { kind: 'fail'; reason: 'unknown' | 'revoked' | 'grace_mismatch'; session?: AuthSession }
  | { kind: 'revoke'; reason: 'expired' | 'reused'; session: AuthSession }

async function decide(deps: RotateDeps, tx: Tx, id: string, secret: string, presented: string) {
  const now = new Date(deps.now())
  const [row] = await tx
    .select({ token: refreshTokens, session: authSessions })
    .from(refreshTokens)
    .innerJoin(authSessions, eq(authSessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.id, id))
    .for('update', { of: refreshTokens })
  if (!row || !hashesEqual(sha256Hex(secret), row.token.secretHash))
    return { kind: 'fail', reason: 'unknown' } satisfies Decision
  const { session, token } = row
  if (session.revokedAt) return { kind: 'fail', reason: 'revoked', session } satisfies Decision
  if (sessionEnded(session, now.getTime()))
    return { kind: 'revoke', reason: 'expired', session } satisfies Decision
  const next = successorOf(deps.config.jwtPrivateKeyPem, presented)
  const touch = () => tx.update(authSessions).set({ lastUsedAt: now }).where(eq(authSessions.id, session.id))

  if (!token.usedAt) {
    await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, id))
    await tx
      .insert(refreshTokens)
      .values({ id: next.id, sessionId: session.id, secretHash: sha256Hex(next.secret) })
    await touch()
    return { kind: 'ok', session, refreshToken: next.token, retried: false } satisfies Decision
  }

  const graceMs = deps.config.REFRESH_REUSE_GRACE_S * 1000
  if (now.getTime() - token.usedAt.getTime() >= graceMs)
    return { kind: 'revoke', reason: 'reused', session } satisfies Decision
  const [successor] = await tx
    .select()
    .from(refreshTokens)
    .where(and(eq(refreshTokens.id, next.id), eq(refreshTokens.sessionId, session.id)))
  // Within the grace, but the successor was already used: the chain moved on, so this copy of
  // the old token is no retry of a lost answer. That is the reuse the grace must not hide.
  if (successor?.usedAt) return { kind: 'revoke', reason: 'reused', session } satisfies Decision
  if (!successor || !hashesEqual(sha256Hex(next.secret), successor.secretHash))
    return { kind: 'fail', reason: 'grace_mismatch', session } satisfies Decision
  await touch()
  return { kind: 'ok', session, refreshToken: next.token, retried: true } satisfies Decision
}

export async function rotateRefreshToken(deps: RotateDeps, presented: string): Promise<RotateResult> {
  const m = REFRESH_RE.exec(presented)
  if (!m) return { ok: false, reason: 'malformed' }
  const [, id, secret] = m as unknown as [string, string, string]
  const d: Decision = await deps.db.transaction((tx) => decide(deps, tx, id, secret, presented))
  if (d.kind === 'ok')
    return {
      ok: true,
      userId: d.session.userId,
      sessionId: d.session.id,
      remember: d.session.remember,
      expiresAt: d.session.expiresAt,
      refreshToken: d.refreshToken,
      retried: d.retried,
    }
  const who = d.session ? { userId: d.session.userId, sessionId: d.session.id } : {}
  if (d.kind === 'revoke')
    await revokeSession(deps, d.session.id, d.reason === 'reused' ? 'refresh_token_reuse' : 'expired')
  return { ok: false, reason: d.reason, ...who }
}
