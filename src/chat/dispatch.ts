/**
 * @module chat/dispatch — one inbound frame → the verb it asks for → an `ack`, a reply or an
 * `error` frame. Frames of a socket are handled one at a time, in order. A bad frame is answered,
 * never fatal; only size and flood limits (connection.ts) close the socket.
 */
import { admitReport, newQoeState } from '../analytics/qoe-report.js'
import type { Deps } from '../deps.js'
import { AppError } from '../http/errors.js'
import { storeOf } from '../metrics/store-error.js'
import type { Conn } from './connection.js'
import {
  type Actor,
  clearChat,
  deleteMessage,
  restrictUser,
  unbanUser,
  updateChatSettings,
} from './moderation.js'
import {
  ChatError,
  type ChatErrorCode,
  type ClientFrame,
  errorFrame,
  parseClientFrame,
  type Ref,
} from './protocol.js'
import type { Room } from './room.js'
import { sendMessage } from './send.js'

const RESUME_PAGE = 200

/** Entry point for every frame a socket sends: `text` is null for a binary frame. */
export function receive(deps: Deps, conn: Conn, bytes: number, text: string | null): void {
  if (!conn.admitFrame(bytes, deps.now())) return
  const parsed = parseClientFrame(text ?? new ArrayBuffer(0))
  if (!parsed.ok) {
    conn.sendJson(errorFrame(parsed.error, parsed.ref))
    return
  }
  conn.queue = conn.queue.then(() => handle(deps, conn, parsed.frame))
}

function toChatError(err: unknown): ChatError | null {
  if (err instanceof ChatError) return err
  if (err instanceof AppError) {
    const code: ChatErrorCode =
      (['VALIDATION', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED'] as const).find(
        (c) => c === err.code,
      ) ?? 'INTERNAL'
    return new ChatError(code, err.message, err.retryAfterS ? err.retryAfterS * 1000 : undefined)
  }
  return null
}

/** A frame still unanswered after this gets an UNAVAILABLE error: a client never waits in vain. */
const ANSWER_WITHIN_MS = 5000

async function handle(deps: Deps, conn: Conn, frame: ClientFrame): Promise<void> {
  if (conn.state === 'closed') return
  const ref: Ref = frame.ref
  let answered = false
  const answer = (reply: object) => {
    if (answered) return
    answered = true
    conn.sendJson(reply)
  }
  const work = (async () => {
    try {
      const room = deps.chat.hub.rooms.get(conn.channel)
      if (!room) throw new ChatError('UNAVAILABLE', 'this chat is reconnecting; try again')
      await room.ready
      const reply = await run(deps, conn, room, frame)
      if (reply) answer(reply)
      else if (ref !== undefined) answer({ type: 'ack', ref })
    } catch (err) {
      const chatErr = toChatError(err)
      if (frame.type === 'chat.send') deps.metrics.chatRefused.inc({ reason: chatErr?.code ?? 'UNAVAILABLE' })
      if (!chatErr) {
        deps.metrics.storeError('chat', err)
        deps.log.error({ err, channel: conn.channel, frame: frame.type }, 'chat: frame failed')
      }
      // Redis or Postgres failing is an outage to wait out ("try again"), not our bug.
      const fallback = storeOf(err)
        ? new ChatError('UNAVAILABLE', 'the chat is briefly unavailable; try again')
        : new ChatError('INTERNAL', 'something went wrong; try again')
      answer(errorFrame(chatErr ?? fallback, ref))
    }
  })()
  // Frames of a socket run one at a time: a dependency that hangs (a frozen Redis, a subscription
  // waiting for a Redis that is down) must not leave this frame, and every frame queued behind
  // it, unanswered. Past the deadline the client is told to try again and the queue moves on;
  // a late outcome of the hung work is dropped.
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      answer(errorFrame(new ChatError('UNAVAILABLE', 'the chat is slow to answer right now; try again'), ref))
      resolve()
    }, ANSWER_WITHIN_MS)
  })
  await Promise.race([work, late])
  clearTimeout(timer)
}

function actorOf(conn: Conn): Actor {
  if (!conn.identity) throw new ChatError('UNAUTHORIZED', 'sign in first: connect with a ticket')
  return { userId: conn.identity.userId, username: conn.identity.username, role: conn.role }
}

async function run(deps: Deps, conn: Conn, room: Room, frame: ClientFrame): Promise<object | null> {
  const ch = { name: room.name, id: room.channelId, ownerId: room.ownerId }
  const ref = frame.ref !== undefined ? { ref: frame.ref } : {}
  switch (frame.type) {
    case 'ping':
      return { type: 'pong', ...ref }
    case 'qoe': {
      // Anyone watching reports, signed in or not, allowed to chat or not.
      conn.qoe ??= newQoeState(conn.openedAt)
      const now = deps.now()
      const verdict = admitReport(conn.qoe, frame, now, room.live.sessionId)
      if (!verdict.ok) throw new ChatError('RATE_LIMITED', 'QoE reports too frequent', verdict.retryAfterMs)
      deps.chat.qoe.add(room.channelId, room.live.sessionId, verdict.sample, now)
      return null
    }
    case 'chat.send': {
      const msg = await sendMessage(deps, conn, room, frame.text)
      deps.metrics.chatSent.inc()
      return frame.ref !== undefined ? { type: 'ack', ...ref, id: msg.id, seq: msg.seq } : null
    }
    case 'resume': {
      // Fills the gap below what this socket already has, newest page first, so what the
      // client holds is always one contiguous run: pages, then welcome history, then live.
      const before = conn.floorSeq
      const page = await deps.chat.history.range(
        room.name,
        room.channelId,
        frame.afterSeq,
        before,
        RESUME_PAGE,
      )
      conn.floorSeq = page.more ? (page.messages[0]?.seq ?? before) : Math.min(before, frame.afterSeq + 1)
      return { type: 'history', messages: page.messages, more: page.more, ...ref }
    }
    case 'chat.delete':
      await deleteMessage(deps, ch, actorOf(conn), frame.id)
      return null
    case 'mod.timeout':
      await restrictUser(deps, ch, actorOf(conn), frame.username, frame.seconds, frame.reason)
      return null
    case 'mod.ban':
      await restrictUser(deps, ch, actorOf(conn), frame.username, null, frame.reason)
      return null
    case 'mod.unban':
      await unbanUser(deps, ch, actorOf(conn), frame.username)
      return null
    case 'mod.clear':
      await clearChat(deps, ch, actorOf(conn))
      return null
    case 'mod.settings': {
      const { type: _t, ref: _r, ...patch } = frame
      await updateChatSettings(deps, ch, actorOf(conn), patch)
      return null
    }
  }
}
