/** @module stream-keys/service — create (shown once), list, revoke, and verify stream keys. */
import { and, count, desc, eq, isNull } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { channels, type Plan, type StreamKey, streamKeys, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { AppError, NotFoundError } from '../http/errors.js'
import { hashesEqual, sha256Hex } from '../lib/secrets.js'
import { enqueue } from '../outbox/outbox.js'
import { generateStreamKey, parseStreamKey } from './token.js'

export type PublicStreamKey = {
  id: string
  label: string
  preview: string
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export function toPublicKey(k: StreamKey): PublicStreamKey {
  return {
    id: k.id,
    label: k.label,
    preview: k.preview,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  }
}

export async function createStreamKey(deps: Deps, userId: string, label: string, ip?: string) {
  const [user] = await deps.db.select({ plan: users.plan }).from(users).where(eq(users.id, userId))
  const max = deps.config.PLAN_LIMITS[user?.plan ?? 'free'].maxStreamKeys
  const [active] = await deps.db
    .select({ n: count() })
    .from(streamKeys)
    .where(and(eq(streamKeys.userId, userId), isNull(streamKeys.revokedAt)))
  if ((active?.n ?? 0) >= max) {
    throw new AppError('PLAN_LIMIT', `your plan allows ${max} active stream keys; revoke one first`)
  }
  const g = generateStreamKey()
  const [row] = await deps.db
    .insert(streamKeys)
    .values({ id: g.id, userId, label, secretHash: g.secretHash, preview: g.preview })
    .returning()
  await recordAudit(deps.db, {
    type: 'stream_key.created',
    userId,
    actorId: userId,
    ip,
    data: { keyId: g.id },
  })
  // The only moment the plaintext key exists outside the broadcaster's OBS.
  return { row: row!, key: g.key }
}

export async function listStreamKeys(deps: Deps, userId: string) {
  return deps.db
    .select()
    .from(streamKeys)
    .where(eq(streamKeys.userId, userId))
    .orderBy(desc(streamKeys.createdAt))
}

/**
 * Revokes the key; a live publisher using it is ended and dropped. The revocation and the work it
 * owes (outbox row) commit together, so a crash or a Redis failure right after the commit cannot
 * leave a revoked key streaming: the row is applied here at once and retried by the workers if not.
 */
export async function revokeStreamKey(
  deps: Pick<Deps, 'db' | 'now' | 'outbox'>,
  userId: string,
  keyId: string,
  ip?: string,
) {
  const outboxId = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(streamKeys)
      .set({ revokedAt: new Date(deps.now()) })
      .where(and(eq(streamKeys.id, keyId), eq(streamKeys.userId, userId), isNull(streamKeys.revokedAt)))
      .returning()
    if (!row) {
      const [exists] = await tx
        .select({ id: streamKeys.id })
        .from(streamKeys)
        .where(and(eq(streamKeys.id, keyId), eq(streamKeys.userId, userId)))
      if (!exists) throw new NotFoundError('stream key')
      return null // already revoked: idempotent (the first revocation's row owes the drop)
    }
    await recordAudit(tx, { type: 'stream_key.revoked', userId, actorId: userId, ip, data: { keyId } })
    return enqueue(tx, 'stream_key.revoked', { keyId, userId }, { inline: true })
  })
  if (outboxId) await deps.outbox.applyNow(outboxId)
}

export type VerifyKeyResult =
  | { ok: true; keyId: string; userId: string; channelId: string; channel: string; plan: Plan }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'mismatch' | 'unverified' | 'disabled' }

/** The on_publish decision: format first (no lookup for garbage), then id lookup, then constant-time compare. */
export async function verifyStreamKey(deps: Pick<Deps, 'db'>, presented: string): Promise<VerifyKeyResult> {
  const parsed = parseStreamKey(presented)
  if (!parsed) return { ok: false, reason: 'malformed' }
  const [row] = await deps.db
    .select({
      key: streamKeys,
      verifiedAt: users.emailVerifiedAt,
      disabledAt: users.disabledAt,
      plan: users.plan,
      channelId: channels.id,
      channel: channels.name,
    })
    .from(streamKeys)
    .innerJoin(users, eq(users.id, streamKeys.userId))
    .innerJoin(channels, eq(channels.ownerId, users.id))
    .where(eq(streamKeys.id, parsed.id))
  if (!row) return { ok: false, reason: 'unknown' }
  if (!hashesEqual(sha256Hex(parsed.secret), row.key.secretHash)) return { ok: false, reason: 'mismatch' }
  if (row.key.revokedAt) return { ok: false, reason: 'revoked' }
  if (row.disabledAt) return { ok: false, reason: 'disabled' }
  if (!row.verifiedAt) return { ok: false, reason: 'unverified' }
  return {
    ok: true,
    keyId: row.key.id,
    userId: row.key.userId,
    channelId: row.channelId,
    channel: row.channel,
    plan: row.plan,
  }
}
