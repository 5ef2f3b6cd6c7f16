/** @module admin/service — what admins may do to accounts: find, disable, enable, promote, sign out. */
import { and, count, desc, eq, gt, ilike, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm'
import { revokeAllSessions } from '../accounts/sessions.js'
import { publishUserRevoked } from '../accounts/user-events.js'
import { recordAudit } from '../audit/audit.js'
import { authSessions, type User, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ConflictError, NotFoundError } from '../http/errors.js'
import { enqueue } from '../outbox/outbox.js'
import { encodeCursor } from './schemas.js'

export type AdminUser = {
  id: string
  email: string
  username: string
  role: User['role']
  emailVerified: boolean
  disabledAt: string | null
  createdAt: string
  lastLoginAt: string | null
}

export function toAdminUser(u: User): AdminUser {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    role: u.role,
    emailVerified: u.emailVerifiedAt !== null,
    disabledAt: u.disabledAt?.toISOString() ?? null,
    createdAt: u.createdAt.toISOString(),
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  }
}

/** `%`, `_` and `\` typed by an admin are literal characters, not wildcards. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`)
/** created_at in whole microseconds, exact (numeric), so a cursor never skips or repeats a row. */
const createdUs = sql<string>`(extract(epoch from ${users.createdAt}) * 1000000)::bigint::text`

export async function listUsers(
  deps: Deps,
  q: {
    q?: string
    role?: User['role']
    disabled?: 'true' | 'false'
    limit: number
    cursor?: { us: string; id: string }
  },
) {
  const where: (SQL | undefined)[] = []
  if (q.q) {
    const pattern = `%${likeEscape(q.q.toLowerCase())}%`
    where.push(or(ilike(users.email, pattern), ilike(users.username, pattern)))
  }
  if (q.role) where.push(eq(users.role, q.role))
  if (q.disabled) where.push(q.disabled === 'true' ? isNotNull(users.disabledAt) : isNull(users.disabledAt))
  if (q.cursor)
    where.push(sql`(${createdUs}::bigint, ${users.id}) < (${q.cursor.us}::bigint, ${q.cursor.id}::uuid)`)
  const rows = await deps.db
    .select({ user: users, us: createdUs })
    .from(users)
    .where(and(...where))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(q.limit + 1)
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  return {
    users: page.map((r) => toAdminUser(r.user)),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last.us, last.user.id) : null,
  }
}

async function findUser(deps: Deps, id: string): Promise<User> {
  const [user] = await deps.db.select().from(users).where(eq(users.id, id))
  if (!user) throw new NotFoundError('user')
  return user
}

export async function getUser(deps: Deps, id: string) {
  const user = await findUser(deps, id)
  const [open] = await deps.db
    .select({ n: count() })
    .from(authSessions)
    .where(
      and(
        eq(authSessions.userId, id),
        isNull(authSessions.revokedAt),
        gt(authSessions.expiresAt, new Date(deps.now())),
      ),
    )
  return { ...toAdminUser(user), openSessions: open?.n ?? 0 }
}

type Actor = { id: string; ip: string }

/**
 * Ends the user's sessions, sockets and live stream. Idempotent. The stream and the sockets are
 * owed by an outbox row committed with the flag (applied at once, retried if that fails).
 */
export async function disableUser(deps: Deps, actor: Actor, id: string, reason?: string) {
  // An admin locking themselves out could leave nobody able to undo it.
  if (actor.id === id) throw new ConflictError('you cannot disable your own account')
  const user = await findUser(deps, id)
  if (user.disabledAt) return toAdminUser(user)
  const { updated, outboxId } = await deps.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ disabledAt: new Date(deps.now()) })
      .where(eq(users.id, id))
      .returning()
    return {
      updated: updated!,
      outboxId: await enqueue(tx, 'user.disabled', { userId: id }, { inline: true }),
    }
  })
  const sessionsEnded = await revokeAllSessions(deps, id, 'account_disabled')
  await deps.outbox.applyNow(outboxId)
  await recordAudit(deps.db, {
    type: 'admin.user.disabled',
    userId: id,
    actorId: actor.id,
    ip: actor.ip,
    data: { ...(reason ? { reason } : {}), sessionsEnded },
  })
  return toAdminUser(updated)
}

export async function enableUser(deps: Deps, actor: Actor, id: string) {
  const user = await findUser(deps, id)
  if (!user.disabledAt) return toAdminUser(user)
  const [updated] = await deps.db.update(users).set({ disabledAt: null }).where(eq(users.id, id)).returning()
  await recordAudit(deps.db, { type: 'admin.user.enabled', userId: id, actorId: actor.id, ip: actor.ip })
  return toAdminUser(updated!)
}

/** The new role shows in the user's tokens from their next refresh or login. */
export async function promoteUser(deps: Deps, actor: Actor, id: string) {
  const user = await findUser(deps, id)
  if (user.role === 'admin') return toAdminUser(user)
  const [updated] = await deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, id)).returning()
  await recordAudit(deps.db, { type: 'admin.user.promoted', userId: id, actorId: actor.id, ip: actor.ip })
  return toAdminUser(updated!)
}

/** "Sign this user out everywhere" (ASVS 7.4.5), e.g. after a suspected account takeover. */
export async function endUserSessions(deps: Deps, actor: Actor, id: string) {
  await findUser(deps, id)
  const sessionsEnded = await revokeAllSessions(deps, id, 'ended_by_admin')
  await publishUserRevoked(deps.redis, deps.keys, { userId: id, reason: 'ended_by_admin' })
  await recordAudit(deps.db, {
    type: 'admin.user.sessions_ended',
    userId: id,
    actorId: actor.id,
    ip: actor.ip,
    data: { sessionsEnded },
  })
  return { sessionsEnded }
}
