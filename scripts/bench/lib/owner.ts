/** @module bench/lib/owner — the benchmarks' channel owner: a verified user, its channel and a signed-in access token. */
import { createSession } from '../../../src/accounts/sessions.js'
import { channels, users } from '../../../src/db/schema/index.js'
import type { Deps } from '../../../src/deps.js'

export async function benchOwner(deps: Deps, username: string) {
  const [owner] = await deps.db
    .insert(users)
    // Never logs in with a password: the hash is a placeholder no password matches.
    .values({ username, email: `${username}@bench.test`, passwordHash: 'x', emailVerifiedAt: new Date() })
    .returning()
  await deps.db.insert(channels).values({ ownerId: owner!.id, name: username })
  const { session } = await createSession(deps, owner!.id, { remember: false })
  const { token } = await deps.tokens.signAccess(owner!, session.id)
  return { owner: owner!, token }
}
