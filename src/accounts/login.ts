/** @module accounts/login — login, token refresh, logout and the user's view of their sessions. */
import { eq, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { type AuthSession, type User, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { NotFoundError, UnauthorizedError } from '../http/errors.js'
import { emailKey, guardLogin } from './limits.js'
import { hashPassword, needsRehash, verifyPassword } from './password.js'
import { rotateRefreshToken } from './refresh-rotation.js'
import { type Meta, toPublicUser } from './service.js'
import { createSession, listOpenSessions, revokeAllSessions, revokeSession } from './sessions.js'
import { publishUserRevoked } from './user-events.js'

export async function issueTokens(deps: Deps, user: User, sessionId: string, refreshToken: string) {
  const { token, expiresIn } = await deps.tokens.signAccess(user, sessionId)
  return {
    accessToken: token,
    tokenType: 'Bearer' as const,
    expiresIn,
    refreshToken,
    user: toPublicUser(user),
  }
}

export type TokenPair = Awaited<ReturnType<typeof issueTokens>>

/** Opens a session for an authenticated user and returns its tokens (login, password change). */
export async function startSession(deps: Deps, user: User, remember: boolean, meta: Meta) {
  const { session, refreshToken } = await createSession(deps, user.id, { remember, ...meta })
  return { ...(await issueTokens(deps, user, session.id, refreshToken)), session }
}

export async function login(
  deps: Deps,
  input: { email: string; password: string; remember: boolean },
  meta: Meta,
) {
  // Limits first: a locked-out attempt costs no argon2 work and looks the same for every address.
  const guard = await guardLogin(deps, input.email, meta.ip)
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${input.email}`)
  // verifyPassword runs a full argon2 verification even for an unknown email (no timing oracle).
  const ok = await verifyPassword(user?.passwordHash ?? null, input.password)
  if (!user || !ok || user.disabledAt) {
    const lockedOut = await guard.failed()
    const reason = !user ? 'unknown_email' : !ok ? 'bad_password' : 'disabled'
    await recordAudit(deps.db, {
      type: 'auth.login.failed',
      userId: user?.id ?? null,
      ip: meta.ip,
      data: { reason },
    })
    if (lockedOut) {
      deps.log.warn({ userId: user?.id, ip: meta.ip }, 'security: login lockout')
      await recordAudit(deps.db, {
        type: 'auth.lockout',
        userId: user?.id ?? null,
        ip: meta.ip,
        data: { account: emailKey(input.email) },
      })
    }
    throw new UnauthorizedError('wrong email or password')
  }
  await guard.succeeded()
  const rehash =
    user.passwordHash && needsRehash(user.passwordHash)
      ? { passwordHash: await hashPassword(input.password) }
      : {}
  await deps.db
    .update(users)
    .set({ lastLoginAt: new Date(deps.now()), ...rehash })
    .where(eq(users.id, user.id))
  const pair = await startSession(deps, user, input.remember, meta)
  await recordAudit(deps.db, {
    type: 'auth.login.ok',
    userId: user.id,
    ip: meta.ip,
    data: { sid: pair.session.id },
  })
  return pair
}

export async function refresh(deps: Deps, presented: string, meta: Meta) {
  const result = await rotateRefreshToken(deps, presented)
  if (!result.ok) {
    if (result.reason === 'reused' && result.userId) {
      deps.log.warn(
        { userId: result.userId, sid: result.sessionId, ip: meta.ip },
        'security: refresh token reuse, family revoked',
      )
      await recordAudit(deps.db, {
        type: 'auth.refresh.reuse',
        userId: result.userId,
        ip: meta.ip,
        data: { sid: result.sessionId },
      })
      await publishUserRevoked(deps.redis, deps.keys, {
        userId: result.userId,
        reason: 'refresh_token_reuse',
        ...(result.sessionId ? { sid: result.sessionId } : {}),
      })
    }
    throw new UnauthorizedError('refresh token is invalid or expired')
  }
  if (result.retried)
    deps.log.info(
      { userId: result.userId, sid: result.sessionId, ip: meta.ip },
      'refresh retried within grace',
    )
  const [user] = await deps.db.select().from(users).where(eq(users.id, result.userId))
  if (!user || user.disabledAt) {
    await revokeSession(deps, result.sessionId, 'account_disabled')
    throw new UnauthorizedError('account disabled')
  }
  return {
    ...(await issueTokens(deps, user, result.sessionId, result.refreshToken)),
    remember: result.remember,
    sessionExpiresAt: result.expiresAt,
  }
}

/** Ends one session (or, `everywhere`, all of the user's) and closes the sockets that used it. */
export async function logout(deps: Deps, userId: string, sid: string, meta: Meta, everywhere = false) {
  if (everywhere) await revokeAllSessions(deps, userId, 'logout_everywhere')
  else await revokeSession(deps, sid, 'logout')
  await publishUserRevoked(deps.redis, deps.keys, {
    userId,
    reason: 'logout',
    ...(everywhere ? {} : { sid }),
  })
  await recordAudit(deps.db, {
    type: everywhere ? 'auth.logout.everywhere' : 'auth.logout',
    userId,
    ip: meta.ip,
    data: { sid },
  })
}

export type PublicSession = {
  id: string
  current: boolean
  remember: boolean
  createdAt: string
  lastUsedAt: string | null
  expiresAt: string
  userAgent: string | null
  ip: string | null
}

export async function listSessions(deps: Deps, userId: string, currentSid: string): Promise<PublicSession[]> {
  const rows = await listOpenSessions(deps, userId)
  return rows.map((s: AuthSession) => ({
    id: s.id,
    current: s.id === currentSid,
    remember: s.remember,
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt?.toISOString() ?? null,
    expiresAt: s.expiresAt.toISOString(),
    userAgent: s.userAgent,
    ip: s.ip,
  }))
}

/** Ends one of the caller's own sessions, e.g. a laptop left logged in somewhere. */
export async function endSession(deps: Deps, userId: string, sessionId: string, meta: Meta) {
  if (!(await revokeSession(deps, sessionId, 'ended_by_user', userId))) throw new NotFoundError('session')
  await publishUserRevoked(deps.redis, deps.keys, { userId, reason: 'logout', sid: sessionId })
  await recordAudit(deps.db, { type: 'auth.session.ended', userId, ip: meta.ip, data: { sid: sessionId } })
}
