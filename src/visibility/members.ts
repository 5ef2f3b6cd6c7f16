/**
 * @module visibility/members — the owner's list of who may watch a private channel. Granting is
 * idempotent (PUT); revoking stops new playback grants at once and existing ones within
 * PLAYBACK_AUTH_CACHE_S (nginx re-asks visibility/playback-auth.ts), and closes the member's chat
 * sockets on a private channel.
 */
import { and, asc, eq } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { type Channel, channelMembers, channels, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ForbiddenError, NotFoundError, ValidationError } from '../http/errors.js'

type Actor = { id: string; role: string }

/** The channel, if the actor owns it or is a site admin. */
export async function ownedChannel(db: Deps['db'], name: string, actor: Actor): Promise<Channel> {
  const [ch] = await db.select().from(channels).where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  if (ch.ownerId !== actor.id && actor.role !== 'admin') throw new ForbiddenError('not your channel')
  return ch
}

export async function listMembers(deps: Pick<Deps, 'db'>, name: string, actor: Actor) {
  const ch = await ownedChannel(deps.db, name, actor)
  const rows = await deps.db
    .select({ username: users.username, since: channelMembers.createdAt })
    .from(channelMembers)
    .innerJoin(users, eq(users.id, channelMembers.userId))
    .where(eq(channelMembers.channelId, ch.id))
    .orderBy(asc(users.username))
  return rows.map((r) => ({ username: r.username, since: r.since.toISOString() }))
}

export async function setMember(
  deps: Pick<Deps, 'db' | 'chat'>,
  name: string,
  actor: Actor & { ip?: string },
  username: string,
  on: boolean,
): Promise<void> {
  const ch = await ownedChannel(deps.db, name, actor)
  const [user] = await deps.db.select({ id: users.id }).from(users).where(eq(users.username, username))
  if (!user) throw new NotFoundError('user')
  if (user.id === ch.ownerId)
    throw new ValidationError([{ field: 'username', message: 'the owner always may watch' }])
  const changed = on
    ? await deps.db
        .insert(channelMembers)
        .values({ channelId: ch.id, userId: user.id, grantedBy: actor.id })
        .onConflictDoNothing()
        .returning()
    : await deps.db
        .delete(channelMembers)
        .where(and(eq(channelMembers.channelId, ch.id), eq(channelMembers.userId, user.id)))
        .returning()
  if (changed.length === 0) return
  await recordAudit(deps.db, {
    type: on ? 'channel.member.added' : 'channel.member.removed',
    actorId: actor.id,
    userId: user.id,
    ip: actor.ip,
    data: { channel: name },
  })
  // Every instance re-checks who may stay in the (private) chat.
  if (!on) await deps.chat.broker.publishControl(name, { k: 'audience' })
}
