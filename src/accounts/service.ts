/** @module accounts/service — sign-up, username availability and email confirmation. */
import { eq, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import type { Db, Tx } from '../db/client.js'
import { uniqueViolation } from '../db/errors.js'
import { channels, type User, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ConflictError, UnauthorizedError } from '../http/errors.js'
import { enqueueMail } from '../outbox/outbox.js'
import { consumeEmailToken, issueEmailToken } from './email-tokens.js'
import { LIMITS, limitOrThrow } from './limits.js'
import { verificationMail } from './mails.js'
import { hashPassword } from './password.js'
import { RESERVED_USERNAMES, USERNAME_MESSAGE, USERNAME_RE } from './schemas.js'

export type PublicUser = {
  id: string
  email: string
  username: string
  emailVerified: boolean
  role: User['role']
  createdAt: string
}

export function toPublicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    emailVerified: u.emailVerifiedAt !== null,
    role: u.role,
    createdAt: u.createdAt.toISOString(),
  }
}

/** Who made the request, for audit rows and per-IP limits. */
export type Meta = { ip: string; userAgent?: string }

function isUniqueViolation(err: unknown, constraint: string): boolean {
  return uniqueViolation(err) === constraint
}

/**
 * Issues a confirmation token and queues its mail in the caller's transaction: the mail exists iff
 * the token does, and the SMTP relay is never on the request path (outbox/worker.ts sends it).
 */
async function queueVerificationMail(
  deps: Pick<Deps, 'config' | 'now'>,
  tx: Db | Tx,
  user: Pick<User, 'id' | 'email' | 'username'>,
) {
  const token = await issueEmailToken(tx, user.id, 'verify_email', deps.now())
  await enqueueMail(tx, verificationMail(user, `${deps.config.PUBLIC_URL}/verify-email?token=${token}`))
}

export async function register(
  deps: Deps,
  input: { email: string; username: string; password: string },
  meta: Meta,
) {
  await limitOrThrow(deps, LIMITS.registerPerIp, meta.ip)
  const passwordHash = await hashPassword(input.password)
  let user: User
  try {
    user = await deps.db.transaction(async (tx) => {
      const [u] = await tx
        .insert(users)
        .values({ email: input.email, username: input.username, passwordHash })
        .returning()
      await tx.insert(channels).values({ ownerId: u!.id, name: u!.username })
      await recordAudit(tx, { type: 'auth.signup', userId: u!.id, ip: meta.ip })
      await queueVerificationMail(deps, tx, u!)
      return u!
    })
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_idx'))
      throw new ConflictError('that email is already registered', [
        { field: 'email', message: 'is already registered' },
      ])
    if (isUniqueViolation(err, 'users_username_idx') || isUniqueViolation(err, 'channels_name_idx'))
      throw new ConflictError('that username is taken', [{ field: 'username', message: 'is taken' }])
    throw err
  }
  return user
}

export type Availability =
  | { username: string; available: true }
  | { username: string; available: false; reason: 'invalid' | 'reserved' | 'taken'; message: string }

/** For the sign-up form. Channel names are public anyway, so this reveals nothing new. */
export async function usernameAvailability(deps: Deps, username: string): Promise<Availability> {
  if (!USERNAME_RE.test(username))
    return { username, available: false, reason: 'invalid', message: USERNAME_MESSAGE }
  if (RESERVED_USERNAMES.has(username))
    return { username, available: false, reason: 'reserved', message: 'is reserved' }
  const [[user], [channel]] = await Promise.all([
    deps.db.select({ id: users.id }).from(users).where(eq(users.username, username)),
    deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, username)),
  ])
  if (user || channel) return { username, available: false, reason: 'taken', message: 'is taken' }
  return { username, available: true }
}

export async function verifyEmail(deps: Deps, token: string): Promise<User> {
  const userId = await consumeEmailToken(deps.db, token, 'verify_email', deps.now())
  if (!userId) throw new UnauthorizedError('this confirmation link is invalid or has expired')
  const [user] = await deps.db
    .update(users)
    .set({
      emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${new Date(deps.now()).toISOString()}::timestamptz)`,
    })
    .where(eq(users.id, userId))
    .returning()
  await recordAudit(deps.db, { type: 'auth.email_verified', userId })
  return user!
}

/** Rate limited per user (1 a minute, 5 a day): each call sends a mail. */
export async function resendVerification(deps: Deps, userId: string) {
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId))
  if (!user || user.emailVerifiedAt) return
  await limitOrThrow(deps, LIMITS.resendShort, userId)
  await limitOrThrow(deps, LIMITS.resendLong, userId)
  await deps.db.transaction((tx) => queueVerificationMail(deps, tx, user))
}
