/** @module accounts/email-tokens — single-use mailed tokens, stored only as a hash. */
import { and, eq, gt, isNull } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.js'
import { type EmailTokenPurpose, emailTokens } from '../db/schema/index.js'
import { randomId, sha256Hex } from '../lib/secrets.js'

export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3600_000,
  reset_password: 3600_000,
}

/** Issues a new token; earlier unused ones of the same purpose stop working (only the latest mail counts). */
export async function issueEmailToken(db: Db | Tx, userId: string, purpose: EmailTokenPurpose, now: number) {
  const token = randomId(40) // 200 bits
  await invalidateEmailTokens(db, userId, purpose, now)
  await db.insert(emailTokens).values({
    userId,
    purpose,
    tokenHash: sha256Hex(token),
    expiresAt: new Date(now + EMAIL_TOKEN_TTL_MS[purpose]),
  })
  return token
}

/** Marks the token used and returns its user, or null if unknown, used, expired or for another purpose. */
export async function consumeEmailToken(db: Db | Tx, token: string, purpose: EmailTokenPurpose, now: number) {
  // One UPDATE … RETURNING makes "check and mark used" atomic: two racing requests cannot both win.
  const [row] = await db
    .update(emailTokens)
    .set({ usedAt: new Date(now) })
    .where(
      and(
        eq(emailTokens.tokenHash, sha256Hex(token)),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, new Date(now)),
      ),
    )
    .returning({ userId: emailTokens.userId })
  return row?.userId ?? null
}

/** Burns every unused token of a purpose, e.g. outstanding reset links once the password changed. */
export async function invalidateEmailTokens(
  db: Db | Tx,
  userId: string,
  purpose: EmailTokenPurpose,
  now: number,
) {
  await db
    .update(emailTokens)
    .set({ usedAt: new Date(now) })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)))
}
