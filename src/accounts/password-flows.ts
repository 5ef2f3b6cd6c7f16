/**
 * @module accounts/password-flows — forgotten password (mailed single-use link) and password
 * change. Both end every session of the user: whoever knew the old password is out.
 */
import { eq, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { authSessions, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { NotFoundError, UnauthorizedError, ValidationError } from '../http/errors.js'
import { consumeEmailToken, invalidateEmailTokens, issueEmailToken } from './email-tokens.js'
import { emailKey, guardPasswordCheck, LIMITS, limitOrThrow, withinLimit } from './limits.js'
import { startSession } from './login.js'
import { hashPassword, verifyPassword } from './password.js'
import { passwordProblems } from './password-policy.js'
import type { Meta } from './service.js'
import { revokeAllSessions } from './sessions.js'
import { publishUserRevoked } from './user-events.js'

export async function forgotPassword(deps: Deps, email: string, meta: Meta) {
  await limitOrThrow(deps, LIMITS.forgotPerIp, meta.ip)
  // Same answer whether or not the address exists, and whether or not this address is over its
  // own limit: the response must not enumerate accounts, and nobody can mail-bomb an inbox.
  if (!(await withinLimit(deps, LIMITS.forgotPerEmail, emailKey(email)))) return
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${email}`)
  if (!user || user.disabledAt) return
  const token = await issueEmailToken(deps.db, user.id, 'reset_password', deps.now())
  await deps.mailer.send({
    to: user.email,
    subject: 'Reset your password',
    text: `Hi ${user.username},\n\nsomeone asked to reset your password. If it was you, open:\n\n${deps.config.PUBLIC_URL}/reset-password?token=${token}\n\nThe link works once and expires in an hour. If it wasn't you, ignore this mail.\n`,
  })
  await recordAudit(deps.db, { type: 'auth.password.reset_requested', userId: user.id, ip: meta.ip })
}

/** Replaces the hash, burns outstanding reset links, ends every session and closes every socket. */
async function replacePassword(deps: Deps, userId: string, password: string, reason: string) {
  const passwordHash = await hashPassword(password)
  const now = new Date(deps.now())
  await deps.db
    .update(users)
    // Receiving a reset mail proves the address, so a reset also confirms it.
    .set({
      passwordHash,
      ...(reason === 'password_reset'
        ? { emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.toISOString()}::timestamptz)` }
        : {}),
    })
    .where(eq(users.id, userId))
  await invalidateEmailTokens(deps.db, userId, 'reset_password', deps.now())
  const ended = await revokeAllSessions(deps, userId, reason)
  await publishUserRevoked(deps.redis, deps.keys, { userId, reason })
  return ended
}

export async function resetPassword(deps: Deps, token: string, password: string, meta: Meta) {
  const userId = await consumeEmailToken(deps.db, token, 'reset_password', deps.now())
  if (!userId) throw new UnauthorizedError('this reset link is invalid or has expired')
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId))
  if (!user || user.disabledAt) throw new UnauthorizedError('this reset link is invalid or has expired')
  const problems = passwordProblems(password, user)
  if (problems.length) throw new ValidationError(problems)
  const ended = await replacePassword(deps, userId, password, 'password_reset')
  await recordAudit(deps.db, {
    type: 'auth.password.reset',
    userId,
    ip: meta.ip,
    data: { sessionsEnded: ended },
  })
}

/**
 * Needs the current password (ASVS 6.2.3, 7.5.1). Ends every session, the caller's included, then
 * opens a fresh one for the caller so they stay signed in here and nowhere else.
 */
export async function changePassword(
  deps: Deps,
  caller: { id: string; sid: string },
  input: { currentPassword: string; newPassword: string },
  meta: Meta,
) {
  const [user] = await deps.db.select().from(users).where(eq(users.id, caller.id))
  if (!user || user.disabledAt) throw new NotFoundError('user')
  const guard = await guardPasswordCheck(deps, caller.id)
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    await recordAudit(deps.db, { type: 'auth.password.change_failed', userId: user.id, ip: meta.ip })
    throw new ValidationError([{ field: 'currentPassword', message: 'is not your current password' }])
  }
  await guard.succeeded()
  const problems = passwordProblems(input.newPassword, user, 'newPassword')
  if (input.newPassword === input.currentPassword)
    problems.push({ field: 'newPassword', message: 'must differ from the current password' })
  if (problems.length) throw new ValidationError(problems)
  const [current] = await deps.db
    .select({ remember: authSessions.remember })
    .from(authSessions)
    .where(eq(authSessions.id, caller.sid))
  const ended = await replacePassword(deps, user.id, input.newPassword, 'password_changed')
  await recordAudit(deps.db, {
    type: 'auth.password.changed',
    userId: user.id,
    ip: meta.ip,
    data: { sessionsEnded: ended },
  })
  await deps.mailer.send({
    to: user.email,
    subject: 'Your password was changed',
    text: `Hi ${user.username},\n\nyour password was just changed and every other device was signed out. If this wasn't you, reset your password at ${deps.config.PUBLIC_URL}/forgot-password at once.\n`,
  })
  return startSession(deps, user, current?.remember ?? false, meta)
}
