/**
 * @module chat/room-events — what a control event (moderation, rules, follows) or a stream
 * lifecycle event does to a room on this instance: update the cached state, then render the
 * client frame once and hand it to every socket.
 */
import type { StreamEvent } from '../live/events.js'
import type { Logger } from '../log.js'
import { mayWatch } from '../visibility/access.js'
import type { ControlEvent } from './broker.js'
import type { Conn } from './connection.js'
import type { ChatHub } from './hub.js'
import { CloseCode } from './protocol.js'
import type { Room } from './room.js'

export function applyControl(hub: ChatHub, room: Room, e: ControlEvent, now: number, log: Logger): void {
  const own = (userId: string): Conn[] => hub.connsOf(userId).filter((c) => c.channel === room.name)
  switch (e.k) {
    case 'deleted':
      hub.broadcast(room, { type: 'chat.deleted', id: e.id })
      return
    case 'cleared':
      hub.broadcast(room, { type: 'chat.cleared' })
      return
    case 'restricted': {
      const mine = own(e.userId)
      for (const conn of mine) conn.restrictedUntil = e.until ?? Number.POSITIVE_INFINITY
      if (e.until === null) hub.broadcast(room, { type: 'user.banned', username: e.username })
      else {
        hub.broadcast(room, {
          type: 'user.timedout',
          username: e.username,
          seconds: e.seconds ?? 0,
          until: new Date(e.until).toISOString(),
        })
      }
      // The person concerned is told in words, not left to guess from silence.
      for (const conn of mine) {
        conn.sendJson(
          e.until === null
            ? { type: 'error', code: 'BANNED', message: 'you have been banned from this chat' }
            : {
                type: 'error',
                code: 'TIMED_OUT',
                message: `you have been timed out for ${e.seconds} s`,
                retryAfterMs: Math.max(1, e.until - now),
              },
        )
        conn.sendYou()
      }
      return
    }
    case 'unbanned':
      for (const conn of own(e.userId)) {
        conn.restrictedUntil = 0
        conn.sendYou()
      }
      hub.broadcast(room, { type: 'user.unbanned', username: e.username })
      return
    case 'follow':
      for (const conn of own(e.userId)) {
        conn.followedSince = e.since
        conn.sendYou()
      }
      return
    case 'moderators':
      room.loadModerators(hub.db).then(
        (changed) => {
          for (const conn of changed) conn.sendYou()
          // A moderator removed from a private channel may not stay unless also a member.
          if (room.visibility === 'private') return evictNonWatchers(hub, room)
        },
        (err) => log.error({ err }, 'chat: reloading moderators failed'),
      )
      return
    case 'audience':
      room.loadChannel(hub.db).then(
        () => evictNonWatchers(hub, room),
        (err) => log.error({ err }, 'chat: re-checking the audience failed'),
      )
      return
    case 'settings':
      room.loadChannel(hub.db).then(
        () => hub.broadcast(room, { type: 'chat.settings', ...room.publicSettings() }),
        (err) => log.error({ err }, 'chat: reloading settings failed'),
      )
      return
  }
}

/** Closes (terminally) every socket in the room whose viewer may no longer watch the channel. */
async function evictNonWatchers(hub: ChatHub, room: Room): Promise<void> {
  if (room.visibility !== 'private') return
  const ch = { id: room.channelId, ownerId: room.ownerId, visibility: room.visibility }
  await Promise.all(
    [...room.conns].map(async (conn) => {
      const viewer = conn.identity ? { id: conn.identity.userId, role: conn.identity.siteRole } : null
      if (!(await mayWatch(hub.db, viewer, ch))) conn.close(CloseCode.NOT_ALLOWED, 'not allowed to watch')
    }),
  )
}

/** live/events.ts events → the contract's stream frames (no session ids leave the server). */
export function applyStream(hub: ChatHub, room: Room, e: StreamEvent): void {
  switch (e.type) {
    case 'stream.online':
    case 'stream.resumed': {
      const startedAt = new Date(e.startedAt).toISOString()
      room.live = { status: 'live', sessionId: e.sessionId, startedAt: e.startedAt }
      hub.broadcast(room, { type: 'stream.online', startedAt, resumed: e.type === 'stream.resumed' })
      return
    }
    case 'stream.reconnecting':
      room.live = { ...room.live, status: 'reconnecting' }
      hub.broadcast(room, { type: 'stream.reconnecting' })
      return
    case 'stream.offline':
      // An offline for a session this room no longer shows (a newer one started) changes nothing.
      if (room.live.sessionId && room.live.sessionId !== e.sessionId) return
      room.live = { status: 'offline', sessionId: null, startedAt: null }
      hub.broadcast(room, { type: 'stream.offline', reason: e.reason })
  }
}
