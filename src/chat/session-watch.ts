/**
 * @module chat/session-watch — which of this instance's login sessions are over. A socket opened
 * with a ticket belongs to a session (`sid`); logout and friends close it at once through
 * `users:revoked`, but a session can also just run out (idle or absolute lifetime) with nobody
 * announcing it, and pub/sub may drop a revocation. The hub asks this every
 * SESSION_CHECK_INTERVAL_MS for all its distinct sids at once and closes the sockets of the ended ones.
 * A socket opened with a personal access token carries `tok_<token id>`: it lasts as long as the
 * token (revoked or expired ends it).
 */
import { inArray } from 'drizzle-orm'
import { sessionEnded } from '../accounts/sessions.js'
import { TOKEN_SID_PREFIX } from '../api-tokens/service.js'
import type { Db } from '../db/client.js'
import { apiTokens, authSessions } from '../db/schema/index.js'

export const SESSION_CHECK_INTERVAL_MS = 30_000
/** Sids per query: bounded so 10,000 signed-in sockets never make one giant parameter list. */
const BATCH = 1000
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The sids among `sids` whose session is revoked, expired, idle too long or gone. */
export async function endedSessions(db: Db, sids: Iterable<string>, now: number): Promise<Set<string>> {
  const ended = new Set<string>()
  const valid: string[] = []
  const tokens: string[] = []
  for (const sid of sids) {
    if (UUID_RE.test(sid)) valid.push(sid)
    else if (sid.startsWith(TOKEN_SID_PREFIX) && UUID_RE.test(sid.slice(TOKEN_SID_PREFIX.length)))
      tokens.push(sid.slice(TOKEN_SID_PREFIX.length))
    else ended.add(sid) // not a session id at all (Postgres would refuse the whole batch)
  }
  for (let i = 0; i < tokens.length; i += BATCH) {
    const batch = tokens.slice(i, i + BATCH)
    const rows = await db
      .select({ id: apiTokens.id, revokedAt: apiTokens.revokedAt, expiresAt: apiTokens.expiresAt })
      .from(apiTokens)
      .where(inArray(apiTokens.id, batch))
    const open = new Set(rows.filter((r) => !r.revokedAt && r.expiresAt.getTime() > now).map((r) => r.id))
    for (const id of batch) if (!open.has(id)) ended.add(`${TOKEN_SID_PREFIX}${id}`)
  }
  for (let i = 0; i < valid.length; i += BATCH) {
    const batch = valid.slice(i, i + BATCH)
    const rows = await db
      .select({
        id: authSessions.id,
        revokedAt: authSessions.revokedAt,
        expiresAt: authSessions.expiresAt,
        lastUsedAt: authSessions.lastUsedAt,
        createdAt: authSessions.createdAt,
        remember: authSessions.remember,
      })
      .from(authSessions)
      .where(inArray(authSessions.id, batch))
    const open = new Set(rows.filter((r) => !sessionEnded(r, now)).map((r) => r.id))
    for (const sid of batch) if (!open.has(sid)) ended.add(sid)
  }
  return ended
}
