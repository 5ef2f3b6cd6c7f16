/** @module test/factories — each test makes its own users, channels and keys through the real services. */
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { hashPassword } from '../src/accounts/password.js'
import { createSession } from '../src/accounts/sessions.js'
import { channels, type User, users } from '../src/db/schema/index.js'
import type { Deps } from '../src/deps.js'
import { createStreamKey } from '../src/stream-keys/service.js'

let seq = 0
export const PASSWORD = 'correct horse battery staple'
let passwordHash: Promise<string> | undefined

export function uniqueUsername(prefix = 'u'): string {
  return `${prefix}${randomBytes(4).toString('hex')}${seq++}`.slice(0, 24)
}

export async function createUser(
  deps: Deps,
  opts: { verified?: boolean; role?: 'user' | 'admin'; username?: string } = {},
) {
  passwordHash ??= hashPassword(PASSWORD) // hashing is slow on purpose; share one across tests
  const username = opts.username ?? uniqueUsername()
  const [user] = await deps.db
    .insert(users)
    .values({
      email: `${username}@example.test`,
      username,
      passwordHash: await passwordHash,
      role: opts.role ?? 'user',
      emailVerifiedAt: opts.verified === false ? null : new Date(),
    })
    .returning()
  await deps.db.insert(channels).values({ ownerId: user!.id, name: username })
  return user!
}

/** A user with a live login session: returns the bearer header to use. */
export async function loggedIn(deps: Deps, opts: Parameters<typeof createUser>[1] = {}) {
  const user = await createUser(deps, opts)
  const { session, refreshToken } = await createSession(deps, user.id, { remember: false })
  const { token } = await deps.tokens.signAccess(user, session.id)
  return {
    user,
    sid: session.id,
    refreshToken,
    accessToken: token,
    auth: { authorization: `Bearer ${token}` },
  }
}

export async function streamKeyFor(deps: Deps, user: User, label = 'obs') {
  return createStreamKey(deps, user.id, label)
}

export async function reloadUser(deps: Deps, id: string) {
  const [u] = await deps.db.select().from(users).where(eq(users.id, id))
  return u!
}
