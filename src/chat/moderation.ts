/**
 * @module chat/moderation — what the channel owner and moderators can do to the chat: delete a
 * message, time out, ban, unban, clear, change the rules, and (owner only) name moderators.
 *
 * Postgres is the record (channel_bans, chat_messages.deleted_at, channels' rule columns, one
 * audit row per action); a control event on the channel's topic then updates every instance's
 * cached state and tells every socket. Moderators cannot act on the owner, site admins or each
 * other; only the owner (or a site admin) can.
 */
import { and, eq, gt, isNull, lte, or } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { channelBans, channelModerators, channels, chatMessages, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { parseStoredFrame } from './history.js'
import { ChatError, type ChatRole, type ChatSettingsPatch } from './protocol.js'

export type ChannelRef = { name: string; id: string; ownerId: string }
export type Actor = { userId: string; username: string; role: ChatRole; ip?: string | null }

const PRIVILEGED: ReadonlySet<ChatRole> = new Set(['owner', 'moderator', 'admin'])
const RANK: Record<ChatRole, number> = { user: 0, moderator: 1, admin: 2, owner: 3 }

export function requireModerator(actor: Actor): void {
  if (!PRIVILEGED.has(actor.role))
    throw new ChatError('FORBIDDEN', 'only the channel owner and moderators can do that')
}

/** The chat role of any user in a channel, from Postgres (HTTP paths and moderation targets). */
export async function roleIn(
  deps: Deps,
  ch: ChannelRef,
  user: { id: string; role: 'user' | 'admin' },
): Promise<ChatRole> {
  if (user.id === ch.ownerId) return 'owner'
  if (user.role === 'admin') return 'admin'
  const [mod] = await deps.db
    .select({ userId: channelModerators.userId })
    .from(channelModerators)
    .where(and(eq(channelModerators.channelId, ch.id), eq(channelModerators.userId, user.id)))
  return mod ? 'moderator' : 'user'
}

async function target(deps: Deps, ch: ChannelRef, actor: Actor, username: string) {
  const [user] = await deps.db
    .select({ id: users.id, username: users.username, role: users.role })
    .from(users)
    .where(eq(users.username, username))
  if (!user) throw new ChatError('NOT_FOUND', `no user named ${username}`)
  if (user.id === actor.userId) throw new ChatError('FORBIDDEN', 'you cannot do that to yourself')
  const role = await roleIn(deps, ch, user)
  // Owners outrank everyone in their channel; moderators cannot act on their peers.
  if (role === 'owner' || (RANK[role] >= RANK[actor.role] && actor.role !== 'owner')) {
    throw new ChatError('FORBIDDEN', `you cannot moderate ${username}`)
  }
  return user
}

export async function deleteMessage(
  deps: Deps,
  ch: ChannelRef,
  actor: Actor,
  messageId: string,
): Promise<void> {
  requireModerator(actor)
  const [stored] = await deps.db
    .select({
      seq: chatMessages.seq,
      userId: chatMessages.userId,
      role: chatMessages.role,
      deletedAt: chatMessages.deletedAt,
    })
    .from(chatMessages)
    .where(and(eq(chatMessages.id, messageId), eq(chatMessages.channelId, ch.id)))
  const msg = stored ?? (await storeFromRecent(deps, ch, messageId))
  if (!msg) throw new ChatError('NOT_FOUND', 'no such message in this channel')
  if (
    msg.userId !== actor.userId &&
    msg.role &&
    RANK[msg.role as ChatRole] >= RANK[actor.role] &&
    actor.role !== 'owner'
  ) {
    throw new ChatError('FORBIDDEN', 'you cannot delete that message')
  }
  if (msg.deletedAt) return
  await deps.db
    .update(chatMessages)
    .set({ deletedAt: new Date(deps.now()) })
    .where(eq(chatMessages.id, messageId))
  await deps.redis.xdel(deps.keys.chatHistory(ch.name), `${msg.seq}-0`)
  await recordAudit(deps.db, {
    type: 'chat.message.deleted',
    actorId: actor.userId,
    userId: msg.userId,
    ip: actor.ip,
    data: { channel: ch.name, messageId, seq: msg.seq },
  })
  await deps.chat.broker.publishControl(ch.name, { k: 'deleted', id: messageId })
}

/**
 * A message delivered moments ago may not be in Postgres yet (chat/store.ts writes it from the
 * `chat:persist` stream): find it in the channel's recent Redis history and store it now, so the
 * deletion below sticks — chat-store's own insert of it is then a no-op (ON CONFLICT DO NOTHING).
 */
async function storeFromRecent(deps: Deps, ch: ChannelRef, messageId: string) {
  const entries = (await deps.redis.xrevrange(deps.keys.chatHistory(ch.name), '+', '-', 'COUNT', 1000)) as [
    string,
    string[],
  ][]
  for (const [, fields] of entries) {
    const i = fields.indexOf('f')
    const frame = i >= 0 ? parseStoredFrame(fields[i + 1]) : null
    if (frame?.id !== messageId) continue
    const [author] = await deps.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.username, frame.user.username))
    if (!author) return null
    const row = { seq: frame.seq, userId: author.id, role: frame.user.role, deletedAt: null }
    await deps.db
      .insert(chatMessages)
      .values({ id: frame.id, channelId: ch.id, ...row, text: frame.text, createdAt: new Date(frame.ts) })
      .onConflictDoNothing()
    return row
  }
  return null
}

/** `seconds` null = a ban; otherwise a timeout of 1 s – 14 days. */
export async function restrictUser(
  deps: Deps,
  ch: ChannelRef,
  actor: Actor,
  username: string,
  seconds: number | null,
  reason?: string,
): Promise<{ until: number | null }> {
  requireModerator(actor)
  const user = await target(deps, ch, actor, username)
  const until = seconds === null ? null : deps.now() + seconds * 1000
  const row = {
    channelId: ch.id,
    userId: user.id,
    expiresAt: until === null ? null : new Date(until),
    reason: reason ?? null,
    createdBy: actor.userId,
    createdAt: new Date(deps.now()),
  }
  await deps.db
    .insert(channelBans)
    .values(row)
    .onConflictDoUpdate({
      target: [channelBans.channelId, channelBans.userId],
      set: {
        expiresAt: row.expiresAt,
        reason: row.reason,
        createdBy: row.createdBy,
        createdAt: row.createdAt,
      },
    })
  await recordAudit(deps.db, {
    type: seconds === null ? 'chat.ban' : 'chat.timeout',
    actorId: actor.userId,
    userId: user.id,
    ip: actor.ip,
    data: { channel: ch.name, ...(seconds === null ? {} : { seconds }), ...(reason ? { reason } : {}) },
  })
  await deps.chat.broker.publishControl(ch.name, {
    k: 'restricted',
    userId: user.id,
    username: user.username,
    until,
    ...(seconds === null ? {} : { seconds }),
  })
  return { until }
}

/** Lifts a ban or a timeout. Unbanning someone who is not banned is not an error. */
export async function unbanUser(deps: Deps, ch: ChannelRef, actor: Actor, username: string): Promise<void> {
  requireModerator(actor)
  const user = await target(deps, ch, actor, username)
  await deps.db
    .delete(channelBans)
    .where(and(eq(channelBans.channelId, ch.id), eq(channelBans.userId, user.id)))
  await recordAudit(deps.db, {
    type: 'chat.unban',
    actorId: actor.userId,
    userId: user.id,
    ip: actor.ip,
    data: { channel: ch.name },
  })
  await deps.chat.broker.publishControl(ch.name, { k: 'unbanned', userId: user.id, username: user.username })
}

/** Deletes every message up to now, in both Postgres and the Redis history. */
export async function clearChat(deps: Deps, ch: ChannelRef, actor: Actor): Promise<void> {
  requireModerator(actor)
  const upTo = Number((await deps.redis.hget(deps.keys.chatSeq(ch.name), 'seq')) ?? 0)
  const stored = await deps.chat.history.maxStoredSeq(ch.id)
  const last = Math.max(upTo, stored)
  await deps.db
    .update(chatMessages)
    .set({ deletedAt: new Date(deps.now()) })
    .where(
      and(eq(chatMessages.channelId, ch.id), isNull(chatMessages.deletedAt), lte(chatMessages.seq, last)),
    )
  await deps.redis.xtrim(deps.keys.chatHistory(ch.name), 'MINID', `${last + 1}-0`)
  await recordAudit(deps.db, {
    type: 'chat.clear',
    actorId: actor.userId,
    ip: actor.ip,
    data: { channel: ch.name, upToSeq: last },
  })
  await deps.chat.broker.publishControl(ch.name, { k: 'cleared' })
}

export async function updateChatSettings(deps: Deps, ch: ChannelRef, actor: Actor, patch: ChatSettingsPatch) {
  requireModerator(actor)
  const set = Object.fromEntries(
    Object.entries(patch).filter(([, v]) => v !== undefined),
  ) as ChatSettingsPatch
  if (set.blockedTerms) set.blockedTerms = [...new Set(set.blockedTerms)]
  if (Object.keys(set).length > 0) {
    await deps.db.update(channels).set(set).where(eq(channels.id, ch.id))
    await recordAudit(deps.db, {
      type: 'chat.settings',
      actorId: actor.userId,
      ip: actor.ip,
      data: { channel: ch.name, ...set },
    })
    await deps.chat.broker.publishControl(ch.name, { k: 'settings' })
  }
  return getChatSettings(deps, ch)
}

export async function getChatSettings(deps: Deps, ch: ChannelRef) {
  const [row] = await deps.db.select().from(channels).where(eq(channels.id, ch.id))
  if (!row) throw new ChatError('NOT_FOUND', 'channel not found')
  const { slowModeSeconds, followersOnlyMinutes, emoteOnly, maxMessageLength, blockedTerms } = row
  return { slowModeSeconds, followersOnlyMinutes, emoteOnly, maxMessageLength, blockedTerms }
}

/** Owner (or site admin) only: names or removes a moderator. */
export async function setModerator(
  deps: Deps,
  ch: ChannelRef,
  actor: Actor,
  username: string,
  on: boolean,
): Promise<void> {
  if (actor.role !== 'owner' && actor.role !== 'admin')
    throw new ChatError('FORBIDDEN', 'only the channel owner can name moderators')
  const [user] = await deps.db.select({ id: users.id }).from(users).where(eq(users.username, username))
  if (!user) throw new ChatError('NOT_FOUND', `no user named ${username}`)
  if (user.id === ch.ownerId)
    throw new ChatError('VALIDATION', 'the owner is already in charge of the channel')
  if (on) {
    const added = await deps.db
      .insert(channelModerators)
      .values({ channelId: ch.id, userId: user.id })
      .onConflictDoNothing()
      .returning()
    if (added.length === 0) return
  } else {
    const removed = await deps.db
      .delete(channelModerators)
      .where(and(eq(channelModerators.channelId, ch.id), eq(channelModerators.userId, user.id)))
      .returning()
    if (removed.length === 0) return
  }
  await recordAudit(deps.db, {
    type: on ? 'chat.moderator.added' : 'chat.moderator.removed',
    actorId: actor.userId,
    userId: user.id,
    ip: actor.ip,
    data: { channel: ch.name },
  })
  await deps.chat.broker.publishControl(ch.name, { k: 'moderators' })
}

export async function listModerators(deps: Deps, ch: ChannelRef) {
  const rows = await deps.db
    .select({ username: users.username, since: channelModerators.createdAt })
    .from(channelModerators)
    .innerJoin(users, eq(users.id, channelModerators.userId))
    .where(eq(channelModerators.channelId, ch.id))
    .orderBy(users.username)
  return rows.map((r) => ({ username: r.username, since: r.since.toISOString() }))
}

/** Active bans and timeouts (expired timeouts are not listed). */
export async function listBans(deps: Deps, ch: ChannelRef) {
  const rows = await deps.db
    .select({
      username: users.username,
      expiresAt: channelBans.expiresAt,
      reason: channelBans.reason,
      since: channelBans.createdAt,
    })
    .from(channelBans)
    .innerJoin(users, eq(users.id, channelBans.userId))
    .where(
      and(
        eq(channelBans.channelId, ch.id),
        or(isNull(channelBans.expiresAt), gt(channelBans.expiresAt, new Date(deps.now()))),
      ),
    )
    .orderBy(users.username)
  return rows.map((r) => ({
    username: r.username,
    until: r.expiresAt?.toISOString() ?? null,
    reason: r.reason,
    since: r.since.toISOString(),
  }))
}
