/**
 * @module accounts/sessions — login sessions and their rotating refresh tokens (`id.secret`).
 * Rotation and reuse detection live in refresh-rotation.ts. Revoking a session also marks its `sid`
 * in Redis so its access tokens die at once.
 */
import { and, desc, eq, gt, isNull } from 'drizzle-orm'
import type { Config } from '../config.js'
import { type AuthSession, authSessions, refreshTokens } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { hashesEqual, randomId, sha256Hex } from '../lib/secrets.js'

/** Absolute lifetimes: no refresh extends a session past these (ASVS 7.3.2). */
export const REMEMBER_TTL_MS = 30 * 24 * 3600_000
export const SESSION_TTL_MS = 12 * 3600_000
/** Inactivity timeouts (ASVS 7.3.1): a session not refreshed for this long is over. */
export const REMEMBER_IDLE_MS = 14 * 24 * 3600_000
export const SESSION_IDLE_MS = 2 * 3600_000

/**
 * Whether a session is over at `now`: revoked, past its absolute end, or idle too long. The one
 * definition, used by refresh (no new tokens) and by the chat hub (its sockets close).
 */
export function sessionEnded(
  session: Pick<AuthSession, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'createdAt' | 'remember'>,
  now: number,
): boolean {
  if (session.revokedAt) return true
  const idleMs = session.remember ? REMEMBER_IDLE_MS : SESSION_IDLE_MS
  const lastActive = session.lastUsedAt ?? session.createdAt
  return session.expiresAt.getTime() <= now || lastActive.getTime() + idleMs <= now
}

/** `<16-char id>.<40-char secret>`, both from lib/secrets' alphabet. */
export const REFRESH_RE = /^([a-z0-9]{16})\.([a-z0-9]{40})$/

/** Only the access-token lifetime is read from config, so a CLI can build these deps by hand. */
export type SessionDeps = Pick<Deps, 'db' | 'redis' | 'keys' | 'now'> & {
  config: Pick<Config, 'ACCESS_TOKEN_TTL_S'>
}

async function issueRefreshToken(deps: SessionDeps, sessionId: string): Promise<string> {
  const id = randomId(16)
  const secret = randomId(40)
  await deps.db.insert(refreshTokens).values({ id, sessionId, secretHash: sha256Hex(secret) })
  return `${id}.${secret}`
}

export async function createSession(
  deps: SessionDeps,
  userId: string,
  opts: { remember: boolean; userAgent?: string; ip?: string },
) {
  const now = deps.now()
  const expiresAt = new Date(now + (opts.remember ? REMEMBER_TTL_MS : SESSION_TTL_MS))
  const [session] = await deps.db
    .insert(authSessions)
    .values({
      userId,
      remember: opts.remember,
      expiresAt,
      lastUsedAt: new Date(now),
      userAgent: opts.userAgent?.slice(0, 256),
      ip: opts.ip,
    })
    .returning()
  const refreshToken = await issueRefreshToken(deps, session!.id)
  return { session: session!, refreshToken }
}

async function markSidsRevoked(deps: SessionDeps, sids: string[]) {
  if (sids.length === 0) return
  const ttl = deps.config.ACCESS_TOKEN_TTL_S + 60
  // One SET per sid, sent together (auto-pipelining): on a Cluster each sid is its own slot.
  await Promise.all(sids.map((sid) => deps.redis.set(deps.keys.revokedSid(sid), '1', 'EX', ttl)))
}

/** Ends one session; `userId` restricts it to that user's own. Returns false if there was none open. */
export async function revokeSession(deps: SessionDeps, sessionId: string, reason: string, userId?: string) {
  const rows = await deps.db
    .update(authSessions)
    .set({ revokedAt: new Date(deps.now()), revokeReason: reason })
    .where(
      and(
        eq(authSessions.id, sessionId),
        isNull(authSessions.revokedAt),
        userId ? eq(authSessions.userId, userId) : undefined,
      ),
    )
    .returning({ id: authSessions.id })
  if (rows.length > 0) await markSidsRevoked(deps, [sessionId])
  return rows.length > 0
}

/** The session a refresh token belongs to (used or not), without rotating it: for cookie logout. */
export async function findSessionByRefreshToken(deps: SessionDeps, presented: string) {
  const m = REFRESH_RE.exec(presented)
  if (!m) return null
  const [, id, secret] = m as unknown as [string, string, string]
  const [row] = await deps.db
    .select({ token: refreshTokens, session: authSessions })
    .from(refreshTokens)
    .innerJoin(authSessions, eq(authSessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.id, id))
  if (!row || !hashesEqual(sha256Hex(secret), row.token.secretHash)) return null
  return row.session
}

/** A user's open sessions, most recently used first (ASVS 7.5.2: users can see and end them). */
export async function listOpenSessions(deps: SessionDeps, userId: string) {
  return deps.db
    .select()
    .from(authSessions)
    .where(
      and(
        eq(authSessions.userId, userId),
        isNull(authSessions.revokedAt),
        gt(authSessions.expiresAt, new Date(deps.now())),
      ),
    )
    .orderBy(desc(authSessions.lastUsedAt))
}

/** Ends every open session of a user (password change/reset, "log out everywhere", disable). */
export async function revokeAllSessions(deps: SessionDeps, userId: string, reason: string) {
  const rows = await deps.db
    .update(authSessions)
    .set({ revokedAt: new Date(deps.now()), revokeReason: reason })
    .where(
      and(
        eq(authSessions.userId, userId),
        isNull(authSessions.revokedAt),
        gt(authSessions.expiresAt, new Date(deps.now())),
      ),
    )
    .returning({ id: authSessions.id })
  await markSidsRevoked(
    deps,
    rows.map((r) => r.id),
  )
  return rows.length
}
