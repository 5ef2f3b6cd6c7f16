/**
 * @module chat/send — a chat line from one socket to every socket of the channel, on every
 * instance: who may send, the channel's rules, then one Redis script for the admission check,
 * the ordered publish and the record of the durable copy that chat/store.ts writes to Postgres.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Deps } from '../deps.js'
import type { Conn } from './connection.js'
import { ChatError, type ChatFrame } from './protocol.js'
import type { Room } from './room.js'
import { checkContent, cleanText, normalizeForMatch } from './rules.js'

const REFUSALS = { 2: 'SLOW_MODE', 3: 'DUPLICATE', 4: 'RATE_LIMITED' } as const
const REFUSAL_MESSAGES = {
  2: 'slow mode is on: wait before sending another message',
  3: 'you already sent that message; say something different',
  4: 'you are sending messages too fast',
} as const

/** Who may speak at all, before any rule or limit is looked at. */
function checkStanding(conn: Conn, now: number): void {
  if (!conn.identity)
    throw new ChatError(
      'UNAUTHORIZED',
      'sign in to chat: connect with a ticket from POST /api/v1/chat/tickets',
    )
  if (conn.restrictedUntil === Number.POSITIVE_INFINITY)
    throw new ChatError('BANNED', 'you are banned from this chat')
  if (conn.restrictedUntil > now) {
    throw new ChatError('TIMED_OUT', 'you are timed out in this chat', conn.restrictedUntil - now)
  }
}

function checkFollower(conn: Conn, room: Room, now: number): void {
  const minutes = room.rules.followersOnlyMinutes
  if (minutes === null || conn.privileged) return
  if (conn.followedSince === null)
    throw new ChatError('FOLLOWERS_ONLY', 'this chat is followers-only: follow the channel to chat')
  const waitMs = conn.followedSince + minutes * 60_000 - now
  if (waitMs > 0)
    throw new ChatError('FOLLOWERS_ONLY', `this chat is for followers of at least ${minutes} minutes`, waitMs)
}

export async function sendMessage(deps: Deps, conn: Conn, room: Room, rawText: string): Promise<ChatFrame> {
  const now = deps.now()
  checkStanding(conn, now)
  const text = cleanText(rawText)
  checkContent(text, room.rules, conn.privileged)
  checkFollower(conn, room, now)
  const id = conn.identity!
  const { config } = deps

  const msg = {
    id: randomUUID(),
    user: { username: id.username, role: conn.role },
    text,
    ts: new Date(now).toISOString(),
  }
  const result = await deps.chat.broker.publishMessage(room.name, msg, {
    seedFloor: () => deps.chat.history.maxStoredSeq(room.channelId),
    gate: {
      userId: id.userId,
      now,
      windowMs: config.CHAT_RATE_WINDOW_S * 1000,
      max: conn.privileged ? config.CHAT_RATE_LIMIT_MOD : config.CHAT_RATE_LIMIT,
      // Owner, moderators and admins skip slow mode and duplicate suppression, not the rate limit.
      slowMs: conn.privileged ? 0 : room.rules.slowModeSeconds * 1000,
      duplicateMs: conn.privileged ? 0 : config.CHAT_DUPLICATE_WINDOW_S * 1000,
      textHash: createHash('sha256').update(normalizeForMatch(text)).digest('base64url').slice(0, 22),
      member: `${now}:${randomBytes(6).toString('hex')}`,
    },
    persist: { channelId: room.channelId, userId: id.userId },
  })
  if (!result.ok)
    throw new ChatError(REFUSALS[result.refused], REFUSAL_MESSAGES[result.refused], result.retryAfterMs)
  // Delivered, in the Redis history, and owed to Postgres by the same script (chat/store.ts).
  return { type: 'chat', seq: result.seq, ...msg }
}
