/**
 * @module oidc/service — accounts behind OpenID Connect identities: find the user of a verified
 * (provider, subject), link an existing account by email only when the provider asserts
 * `email_verified`, or create a new one (no password). Also the user's own list and unlink.
 */
import { randomInt } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { RESERVED_USERNAMES } from '../accounts/schemas.js'
import { revokeAllSessions } from '../accounts/sessions.js'
import { publishUserRevoked } from '../accounts/user-events.js'
import { recordAudit } from '../audit/audit.js'
import { uniqueViolation } from '../db/errors.js'
import { channels, type Identity, identities, type User, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { AppError, NotFoundError, UnauthorizedError } from '../http/errors.js'

/** What the provider told us, after openid-client verified the ID token (and read userinfo). */
export type Asserted = {
  provider: string
  subject: string
  email: string | undefined
  emailVerified: boolean
  preferredUsername: string | undefined
}

type OidcDeps = Pick<Deps, 'db' | 'redis' | 'keys' | 'now' | 'config'>

/** A username from the provider's hints, fitting `^[a-z0-9_]{3,24}$`; `attempt` > 0 adds digits. */
export function usernameCandidate(hint: string, attempt: number): string {
  let base = hint
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 18)
  if (base.length < 3 || RESERVED_USERNAMES.has(base)) base = `user_${base}`.slice(0, 18)
  return attempt === 0 ? base : `${base}_${randomInt(1000, 100_000)}`
}

export type SignInResult = { user: User; created: boolean; linked: boolean }

/** The user this identity signs in as; throws an AppError the callback reports. */
export async function signInWithIdentity(deps: OidcDeps, a: Asserted, ip: string): Promise<SignInResult> {
  const now = new Date(deps.now())
  const [known] = await deps.db
    .select({ user: users, identityId: identities.id })
    .from(identities)
    .innerJoin(users, eq(users.id, identities.userId))
    .where(and(eq(identities.provider, a.provider), eq(identities.subject, a.subject)))
  if (known) {
    await deps.db
      .update(identities)
      .set({ lastLoginAt: now, ...(a.email ? { email: a.email } : {}) })
      .where(eq(identities.id, known.identityId))
    return { user: known.user, created: false, linked: false }
  }
  if (!a.email) throw new AppError('OIDC_FAILED', 'the provider did not share an email address')
  const [existing] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${a.email}`)
  if (existing) {
    // An unverified email at the provider proves nothing: anyone can type someone else's address.
    if (!a.emailVerified) {
      throw new AppError(
        'IDENTITY_NOT_LINKED',
        'an account with this email exists and the provider has not verified the address; sign in with your password',
      )
    }
    return { user: await link(deps, existing, a, now, ip), created: false, linked: true }
  }
  return { user: await createFromIdentity(deps, a, now, ip), created: true, linked: false }
}

/**
 * Links a verified identity to the account with its email. If that account never confirmed its
 * address, whoever registered it did not prove they own it (a "pre-hijack": register the victim's
 * email first, wait for them to sign in with Google): the provider's proof wins, so the password
 * set by the unproven registrant is removed and their sessions end.
 */
async function link(deps: OidcDeps, user: User, a: Asserted, now: Date, ip: string): Promise<User> {
  const claim = user.emailVerifiedAt === null
  const updated = await deps.db.transaction(async (tx) => {
    await tx
      .insert(identities)
      .values({ userId: user.id, provider: a.provider, subject: a.subject, email: a.email, lastLoginAt: now })
    await recordAudit(tx, {
      type: 'auth.identity.linked',
      userId: user.id,
      ip,
      data: { provider: a.provider, by: 'verified_email', claimedUnverified: claim },
    })
    if (!claim) return user
    const [u] = await tx
      .update(users)
      .set({ passwordHash: null, emailVerifiedAt: now })
      .where(eq(users.id, user.id))
      .returning()
    return u!
  })
  if (claim) {
    await revokeAllSessions(deps, user.id, 'email_claimed_by_identity')
    await publishUserRevoked(deps.redis, deps.keys, { userId: user.id, reason: 'email_claimed_by_identity' })
  }
  return updated
}

async function createFromIdentity(deps: OidcDeps, a: Asserted, now: Date, ip: string): Promise<User> {
  const hint = a.preferredUsername ?? a.email!.split('@')[0]!
  for (let attempt = 0; ; attempt++) {
    const username = usernameCandidate(hint, attempt)
    try {
      return await deps.db.transaction(async (tx) => {
        const [u] = await tx
          .insert(users)
          .values({
            email: a.email!,
            username,
            passwordHash: null,
            emailVerifiedAt: a.emailVerified ? now : null,
            lastLoginAt: now,
          })
          .returning()
        await tx.insert(channels).values({ ownerId: u!.id, name: username })
        await tx.insert(identities).values({
          userId: u!.id,
          provider: a.provider,
          subject: a.subject,
          email: a.email,
          lastLoginAt: now,
        })
        await recordAudit(tx, { type: 'auth.signup', userId: u!.id, ip, data: { provider: a.provider } })
        return u!
      })
    } catch (err) {
      const constraint = uniqueViolation(err)
      const nameTaken = constraint === 'users_username_idx' || constraint === 'channels_name_idx'
      if (nameTaken && attempt < 5) continue
      if (constraint === 'users_email_lower_idx' || constraint === 'identities_provider_subject_idx')
        throw new AppError('CONFLICT', 'this sign-in is already being set up; try again')
      throw err
    }
  }
}

export type PublicIdentity = {
  provider: string
  email: string | null
  createdAt: string
  lastLoginAt: string | null
}

export function toPublicIdentity(i: Identity): PublicIdentity {
  return {
    provider: i.provider,
    email: i.email,
    createdAt: i.createdAt.toISOString(),
    lastLoginAt: i.lastLoginAt?.toISOString() ?? null,
  }
}

export async function listIdentities(deps: Pick<Deps, 'db'>, userId: string) {
  const [user] = await deps.db
    .select({ passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.id, userId))
  if (!user) throw new UnauthorizedError('account not found')
  const rows = await deps.db.select().from(identities).where(eq(identities.userId, userId))
  return { hasPassword: user.passwordHash !== null, identities: rows.map(toPublicIdentity) }
}

/** Unlinks one provider, only while another way in remains (a password or another provider). */
export async function unlinkIdentity(deps: Pick<Deps, 'db'>, userId: string, provider: string, ip: string) {
  await deps.db.transaction(async (tx) => {
    // Row lock on the user: two concurrent unlinks cannot each see "the other one remains".
    const [user] = await tx
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, userId))
      .for('update')
    const rows = await tx.select().from(identities).where(eq(identities.userId, userId))
    const target = rows.find((r) => r.provider === provider)
    if (!user || !target) throw new NotFoundError('linked identity')
    if (user.passwordHash === null && rows.length === 1) {
      throw new AppError(
        'LAST_SIGN_IN_METHOD',
        'this is your only way to sign in: set a password (or link another provider) first',
      )
    }
    await tx.delete(identities).where(eq(identities.id, target.id))
    await recordAudit(tx, { type: 'auth.identity.unlinked', userId, ip, data: { provider } })
  })
}
