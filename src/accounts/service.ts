/** @module accounts/service — sign-up, email confirmation, login, refresh, logout, password reset. */
import { eq, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import type { Deps } from '../deps.js'
import { channels, type User, users } from '../db/schema/index.js'
import { ConflictError, UnauthorizedError } from '../http/errors.js'
import { consumeEmailToken, issueEmailToken } from './email-tokens.js'
import { hashPassword, verifyPassword } from './password.js'
import { publishUserRevoked } from './user-events.js'
import { createSession, revokeAllSessions, revokeSession, rotateRefreshToken } from './sessions.js'

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

type Meta = { ip?: string; userAgent?: string }

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = (err as { cause?: { code?: string; constraint_name?: string } }).cause ?? (err as { code?: string; constraint_name?: string })
  return e?.code === '23505' && e.constraint_name === constraint
}

async function sendVerificationMail(deps: Deps, user: Pick<User, 'id' | 'email' | 'username'>) {
  const token = await issueEmailToken(deps.db, user.id, 'verify_email', deps.now())
  const link = `${deps.config.PUBLIC_URL}/verify-email?token=${token}`
  await deps.mailer.send({
    to: user.email,
    subject: 'Confirm your email address',
    text: `Hi ${user.username},\n\nconfirm your email address to start streaming and chatting:\n\n${link}\n\nThe link works once and expires in 24 hours.\n`,
  })
}

export async function register(deps: Deps, input: { email: string; username: string; password: string }, meta: Meta) {
  const passwordHash = await hashPassword(input.password)
  let user: User
  try {
    user = await deps.db.transaction(async (tx) => {
      const [u] = await tx
        .insert(users)
        .values({ email: input.email, username: input.username, passwordHash })
        .returning()
      await tx.insert(channels).values({ ownerId: u!.id, name: u!.username })
      return u!
    })
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_idx'))
      throw new ConflictError('that email is already registered', [{ field: 'email', message: 'is already registered' }])
    if (isUniqueViolation(err, 'users_username_idx') || isUniqueViolation(err, 'channels_name_idx'))
      throw new ConflictError('that username is taken', [{ field: 'username', message: 'is taken' }])
    throw err
  }
  await recordAudit(deps.db, { type: 'auth.signup', userId: user.id, ip: meta.ip })
  await sendVerificationMail(deps, user)
  return user
}

export async function verifyEmail(deps: Deps, token: string): Promise<User> {
  const userId = await consumeEmailToken(deps.db, token, 'verify_email', deps.now())
  if (!userId) throw new UnauthorizedError('this confirmation link is invalid or has expired')
  const [user] = await deps.db
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())` })
    .where(eq(users.id, userId))
    .returning()
  await recordAudit(deps.db, { type: 'auth.email_verified', userId })
  return user!
}

export async function resendVerification(deps: Deps, userId: string) {
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId))
  if (!user || user.emailVerifiedAt) return
  await sendVerificationMail(deps, user)
}

async function issueTokens(deps: Deps, user: User, sessionId: string, refreshToken: string) {
  const { token, expiresIn } = await deps.tokens.signAccess(user, sessionId)
  return { accessToken: token, tokenType: 'Bearer' as const, expiresIn, refreshToken, user: toPublicUser(user) }
}

export type TokenPair = Awaited<ReturnType<typeof issueTokens>>

export async function login(deps: Deps, input: { email: string; password: string; remember: boolean }, meta: Meta) {
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${input.email}`)
  // verifyPassword runs a full argon2 verification even for an unknown email (no timing oracle).
  const ok = await verifyPassword(user?.passwordHash ?? null, input.password)
  if (!user || !ok || user.disabledAt) {
    await recordAudit(deps.db, {
      type: 'auth.login.failed',
      userId: user?.id ?? null,
      ip: meta.ip,
      data: { reason: !user ? 'unknown_email' : !ok ? 'bad_password' : 'disabled' },
    })
    throw new UnauthorizedError('wrong email or password')
  }
  const { session, refreshToken } = await createSession(deps, user.id, { remember: input.remember, ...meta })
  await deps.db.update(users).set({ lastLoginAt: new Date(deps.now()) }).where(eq(users.id, user.id))
  await recordAudit(deps.db, { type: 'auth.login.ok', userId: user.id, ip: meta.ip, data: { sid: session.id } })
  return { ...(await issueTokens(deps, user, session.id, refreshToken)), session }
}

export async function refresh(deps: Deps, presented: string, meta: Meta) {
  const result = await rotateRefreshToken(deps, presented)
  if (!result.ok) {
    if (result.reason === 'reused') {
      deps.log.warn({ userId: result.userId, sid: result.sessionId, ip: meta.ip }, 'security: refresh token reuse, family revoked')
      await recordAudit(deps.db, { type: 'auth.refresh.reuse', userId: result.userId, ip: meta.ip, data: { sid: result.sessionId } })
    }
    throw new UnauthorizedError('refresh token is invalid or expired')
  }
  const [user] = await deps.db.select().from(users).where(eq(users.id, result.userId))
  if (!user || user.disabledAt) {
    await revokeSession(deps, result.sessionId, 'account_disabled')
    throw new UnauthorizedError('account disabled')
  }
  return {
    ...(await issueTokens(deps, user, result.sessionId, result.refreshToken)),
    remember: result.remember,
    sessionExpiresAt: result.expiresAt,
  }
}

export async function logout(deps: Deps, userId: string, sid: string, meta: Meta, everywhere = false) {
  if (everywhere) await revokeAllSessions(deps, userId, 'logout_everywhere')
  else await revokeSession(deps, sid, 'logout')
  await publishUserRevoked(deps.redis, deps.keys, { userId, reason: 'logout', ...(everywhere ? {} : { sid }) })
  await recordAudit(deps.db, { type: everywhere ? 'auth.logout.everywhere' : 'auth.logout', userId, ip: meta.ip, data: { sid } })
}

export async function forgotPassword(deps: Deps, email: string, meta: Meta) {
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${email}`)
  // Same answer whether or not the address exists: the response must not enumerate accounts.
  if (!user || user.disabledAt) return
  const token = await issueEmailToken(deps.db, user.id, 'reset_password', deps.now())
  await deps.mailer.send({
    to: user.email,
    subject: 'Reset your password',
    text: `Hi ${user.username},\n\nsomeone asked to reset your password. If it was you, open:\n\n${deps.config.PUBLIC_URL}/reset-password?token=${token}\n\nThe link works once and expires in an hour. If it wasn't you, ignore this mail.\n`,
  })
  await recordAudit(deps.db, { type: 'auth.password.reset_requested', userId: user.id, ip: meta.ip })
}

export async function resetPassword(deps: Deps, token: string, password: string, meta: Meta) {
  const userId = await consumeEmailToken(deps.db, token, 'reset_password', deps.now())
  if (!userId) throw new UnauthorizedError('this reset link is invalid or has expired')
  const passwordHash = await hashPassword(password)
  // Receiving the mail proves the address, so a reset also confirms it.
  await deps.db
    .update(users)
    .set({ passwordHash, emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())` })
    .where(eq(users.id, userId))
  const ended = await revokeAllSessions(deps, userId, 'password_reset')
  await publishUserRevoked(deps.redis, deps.keys, { userId, reason: 'password_reset' })
  await recordAudit(deps.db, { type: 'auth.password.reset', userId, ip: meta.ip, data: { sessionsEnded: ended } })
}
