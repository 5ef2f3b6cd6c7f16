/**
 * @module admin/commands — role changes run by an operator (`npm run admin`), never over HTTP:
 * the first admin must come from someone with shell access to the deployment.
 */
import { eq, sql } from 'drizzle-orm'
import { revokeAllSessions, type SessionDeps } from '../accounts/sessions.js'
import { publishUserRevoked } from '../accounts/user-events.js'
import { recordAudit } from '../audit/audit.js'
import type { Db } from '../db/client.js'
import { type Role, users } from '../db/schema/index.js'

export type RoleChange = { id: string; email: string; username: string; role: Role; changed: boolean }

async function setRole(db: Db, email: string, role: Role): Promise<RoleChange | null> {
  const normalised = email.trim().toLowerCase()
  const [user] = await db.select().from(users).where(sql`lower(${users.email}) = ${normalised}`)
  if (!user) return null
  const base = { id: user.id, email: user.email, username: user.username, role }
  if (user.role === role) return { ...base, changed: false }
  await db.update(users).set({ role }).where(eq(users.id, user.id))
  await recordAudit(db, {
    type: role === 'admin' ? 'admin.user.promoted' : 'admin.user.demoted',
    userId: user.id,
    data: { via: 'cli' },
  })
  return { ...base, changed: true }
}

/** The new role reaches the user's tokens at their next refresh or login (≤ ACCESS_TOKEN_TTL_S). */
export function promoteByEmail(db: Db, email: string) {
  return setRole(db, email, 'admin')
}

/** Ends every session too, so no access token still claiming `admin` outlives the demotion. */
export async function demoteByEmail(deps: SessionDeps, email: string) {
  const result = await setRole(deps.db, email, 'user')
  if (result?.changed) {
    await revokeAllSessions(deps, result.id, 'demoted')
    // Sockets opened as admin (e.g. moderating chat) close too.
    await publishUserRevoked(deps.redis, deps.keys, { userId: result.id, reason: 'demoted' })
  }
  return result
}
