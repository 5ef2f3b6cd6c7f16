/** @module api-tokens/service — create (shown once), list, revoke and verify personal access tokens. */

import { and, count, desc, eq, gt, isNull, lte, or } from 'drizzle-orm'
import { publishUserRevoked } from '../accounts/user-events.js'
import { recordAudit } from '../audit/audit.js'
import { type ApiToken, apiTokens, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AuthUser } from '../http/env.js'
import { AppError, NotFoundError, UnauthorizedError } from '../http/errors.js'
import type { Scope } from './scopes.js'
import { generateApiToken, hashApiToken, isWellFormedApiToken } from './token.js'

const DAY_MS = 86_400_000
/** lastUsedAt/lastUsedIp are written at most this often per token: no database write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000

export type PublicApiToken = {
  id: string
  name: string
  scopes: string[]
  preview: string
  createdAt: string
  expiresAt: string
  lastUsedAt: string | null
  lastUsedIp: string | null
}

export function toPublicToken(t: ApiToken): PublicApiToken {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    preview: t.preview,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: t.lastUsedIp,
  }
}

type TokenDeps = Pick<Deps, 'db' | 'config' | 'now'>

export async function createApiToken(
  deps: TokenDeps,
  userId: string,
  input: { name: string; scopes: Scope[]; expiresInDays: number },
  ip?: string,
) {
  const now = new Date(deps.now())
  const [user] = await deps.db.select({ plan: users.plan }).from(users).where(eq(users.id, userId))
  const max = deps.config.PLAN_LIMITS[user?.plan ?? 'free'].maxApiTokens
  const [active] = await deps.db
    .select({ n: count() })
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, now)))
  if ((active?.n ?? 0) >= max) {
    throw new AppError('PLAN_LIMIT', `your plan allows ${max} active API tokens; revoke one first`)
  }
  const g = generateApiToken()
  const [row] = await deps.db
    .insert(apiTokens)
    .values({
      userId,
      name: input.name,
      scopes: input.scopes,
      tokenHash: g.tokenHash,
      preview: g.preview,
      expiresAt: new Date(now.getTime() + input.expiresInDays * DAY_MS),
      createdAt: now,
    })
    .returning()
  await recordAudit(deps.db, {
    type: 'api_token.created',
    userId,
    actorId: userId,
    ip,
    data: { tokenId: row!.id, scopes: input.scopes },
  })
  // The only moment the plaintext token exists on our side.
  return { row: row!, token: g.token }
}

/** Tokens not revoked, expired ones included (so the user sees why a script stopped working). */
export async function listApiTokens(deps: Pick<Deps, 'db'>, userId: string) {
  return deps.db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .orderBy(desc(apiTokens.createdAt))
}

/** The pseudo-sid of a token's principal (and of chat sockets opened with it): `tok_<token id>`. */
export const TOKEN_SID_PREFIX = 'tok_'

export async function revokeApiToken(
  deps: Pick<Deps, 'db' | 'now' | 'redis' | 'keys'>,
  userId: string,
  id: string,
  ip?: string,
) {
  const [row] = await deps.db
    .update(apiTokens)
    .set({ revokedAt: new Date(deps.now()) })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id })
  if (!row) throw new NotFoundError('token')
  // Chat sockets opened with this token close now on every instance (session-watch would within 30 s).
  await publishUserRevoked(deps.redis, deps.keys, {
    userId,
    reason: 'token_revoked',
    sid: `${TOKEN_SID_PREFIX}${id}`,
  })
  await recordAudit(deps.db, {
    type: 'api_token.revoked',
    userId,
    actorId: userId,
    ip,
    data: { tokenId: id },
  })
}

/**
 * The principal behind a presented `lvp_` token, or UnauthorizedError. Looked up by sha256(token):
 * the index lookup reveals nothing usable, since finding a row needs the whole 256-bit secret.
 * The scopes come with the principal; each route checks its own (http/middleware/auth.ts).
 */
export async function verifyApiToken(
  deps: Pick<Deps, 'db' | 'now'>,
  presented: string,
  ip: string,
): Promise<AuthUser> {
  if (!isWellFormedApiToken(presented)) throw new UnauthorizedError('invalid token')
  const [row] = await deps.db
    .select({ token: apiTokens, role: users.role, disabledAt: users.disabledAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, hashApiToken(presented)))
  const now = deps.now()
  if (!row || row.token.revokedAt) throw new UnauthorizedError('invalid or revoked token')
  if (row.token.expiresAt.getTime() <= now) throw new UnauthorizedError('token expired')
  if (row.disabledAt) throw new UnauthorizedError('account disabled')
  const last = row.token.lastUsedAt?.getTime()
  // lastUsedIp is the address of the use that was recorded: at most one write a minute, whatever the traffic.
  if (last === undefined || now - last >= LAST_USED_RESOLUTION_MS) await touch(deps, row.token.id, now, ip)
  return {
    id: row.token.userId,
    role: row.role,
    // Not a login session: a pseudo-sid that no session revocation matches, for code that keys by sid.
    sid: `${TOKEN_SID_PREFIX}${row.token.id}`,
    tokenId: row.token.id,
    scopes: row.token.scopes as Scope[],
  }
}

/** Conditional on the stored value, so concurrent requests on several instances write once. */
async function touch(deps: Pick<Deps, 'db'>, id: string, now: number, ip: string) {
  const cutoff = new Date(now - LAST_USED_RESOLUTION_MS)
  await deps.db
    .update(apiTokens)
    .set({ lastUsedAt: new Date(now), lastUsedIp: ip })
    .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lte(apiTokens.lastUsedAt, cutoff))))
}
