/** @module follows/service — following a channel (what followers-only chat checks, with its age). */
import { and, eq } from 'drizzle-orm'
import { channels, follows, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { AppError, NotFoundError } from '../http/errors.js'
import { emitWebhookEvent } from '../webhooks/emit.js'

async function channelOf(deps: Deps, name: string) {
  const [ch] = await deps.db
    .select({ id: channels.id, ownerId: channels.ownerId })
    .from(channels)
    .where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  return ch
}

export type FollowState = { following: boolean; since: string | null }

/** Idempotent: following again keeps the original date (follow age is what followers-only counts). */
export async function follow(deps: Deps, userId: string, name: string): Promise<FollowState> {
  const ch = await channelOf(deps, name)
  if (ch.ownerId === userId) throw new AppError('BAD_REQUEST', 'you cannot follow your own channel')
  await deps.db.transaction(async (tx) => {
    const at = deps.now()
    const [created] = await tx
      .insert(follows)
      .values({ userId, channelId: ch.id, createdAt: new Date(at) })
      .onConflictDoNothing()
      .returning({ createdAt: follows.createdAt })
    if (!created) return
    // The owner's webhooks learn it iff the follow committed (deliveries are written in this transaction).
    const [follower] = await tx.select({ username: users.username }).from(users).where(eq(users.id, userId))
    await emitWebhookEvent(tx, {
      type: 'follow.created',
      at,
      userId: ch.ownerId,
      key: `follow.created:${userId}:${ch.id}:${at}`,
      data: {
        channel: name,
        follower: { id: userId, username: follower?.username ?? '' },
        followedAt: created.createdAt.toISOString(),
      },
    })
  })
  const state = await followState(deps, userId, ch.id)
  // Open chat sockets of this user learn it at once, on every instance.
  await deps.chat.broker.publishControl(name, {
    k: 'follow',
    userId,
    since: state.since ? Date.parse(state.since) : null,
  })
  return state
}

export async function unfollow(deps: Deps, userId: string, name: string): Promise<void> {
  const ch = await channelOf(deps, name)
  await deps.db.delete(follows).where(and(eq(follows.userId, userId), eq(follows.channelId, ch.id)))
  await deps.chat.broker.publishControl(name, { k: 'follow', userId, since: null })
}

export async function getFollow(deps: Deps, userId: string, name: string): Promise<FollowState> {
  const ch = await channelOf(deps, name)
  return followState(deps, userId, ch.id)
}

async function followState(deps: Deps, userId: string, channelId: string): Promise<FollowState> {
  const [row] = await deps.db
    .select({ since: follows.createdAt })
    .from(follows)
    .where(and(eq(follows.userId, userId), eq(follows.channelId, channelId)))
  return { following: !!row, since: row?.since.toISOString() ?? null }
}
