/**
 * @module accounts/password-flows — forgotten password (mailed single-use link) and password
 * change. Both end every session of the user: whoever knew the old password is out.
 */
import { eq, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { auditEvents, authSessions, emailTokens, outbox, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { NotFoundError, UnauthorizedError, ValidationError } from '../http/errors.js'
import { randomId, sha256Hex } from '../lib/secrets.js'
import { enqueueMail, OUTBOX_CHANNEL } from '../outbox/outbox.js'
import { topicSchemas } from '../outbox/topics.js'
import { consumeEmailToken, EMAIL_TOKEN_TTL_MS, invalidateEmailTokens } from './email-tokens.js'
import { emailKey, guardPasswordCheck, LIMITS, limitOrThrow, withinLimit } from './limits.js'
import { startSession } from './login.js'
import { passwordChangedMail, resetMail } from './mails.js'
import { hashPassword, verifyPassword } from './password.js'
import { passwordProblems } from './password-policy.js'
import type { Meta } from './service.js'
import { revokeAllSessions } from './sessions.js'
import { publishUserRevoked } from './user-events.js'

/**
 * Always 202, and the same work whether or not the address belongs to an account, so neither the
 * answer nor its timing tells which addresses are registered:
 *  - the token and the mail are made up front for every request (the mail names no username);
 *  - ONE statement does the rest in both cases: find the account, burn its older reset links,
 *    store the new token, queue the mail in the outbox and write the audit row — each step a
 *    data-modifying CTE that acts on zero rows when there is no (enabled) account;
 *  - the mail leaves from the outbox worker, never from the request, so a slow or failing SMTP
 *    relay cannot turn into a delay or a 500 that only registered addresses get. The token and
 *    its mail commit together (one statement), so the mail exists iff the token does.
 */
export async function forgotPassword(deps: Deps, email: string, meta: Meta) {
  await limitOrThrow(deps, LIMITS.forgotPerIp, meta.ip)
  // Silently capped per address (it still answers 202): nobody can mail-bomb an inbox.
  if (!(await withinLimit(deps, LIMITS.forgotPerEmail, emailKey(email)))) return
  const now = deps.now()
  const token = randomId(40)
  const mail = topicSchemas['mail.send'].parse(
    resetMail(email, `${deps.config.PUBLIC_URL}/reset-password?token=${token}`),
  )
  const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`
  await deps.db.execute(sql`
    with account as (
      select id from ${users} where lower(email) = ${email} and disabled_at is null
    ), burnt as (
      update ${emailTokens} set used_at = ${at(now)}
      where user_id in (select id from account) and purpose = 'reset_password' and used_at is null
    ), issued as (
      insert into ${emailTokens} (user_id, purpose, token_hash, expires_at)
      select id, 'reset_password', ${sha256Hex(token)}, ${at(now + EMAIL_TOKEN_TTL_MS.reset_password)} from account
      returning user_id
    ), queued as (
      insert into ${outbox} (topic, payload) select 'mail.send', ${JSON.stringify(mail)}::jsonb from issued
    ), audited as (
      insert into ${auditEvents} (type, user_id, ip)
      select 'auth.password.reset_requested', user_id, ${meta.ip} from issued
    )
    select pg_notify(${OUTBOX_CHANNEL}, 'mail.send')`)
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
  await enqueueMail(deps.db, passwordChangedMail(user, deps.config.PUBLIC_URL))
  return startSession(deps, user, current?.remember ?? false, meta)
}
