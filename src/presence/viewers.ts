/**
 * @module presence/viewers — the per-instance jobs behind viewer counts: the presence heartbeat
 * (re-add this instance's sockets with a fresh expiry) and the count push (read the shared count,
 * tell this instance's sockets only when it changed, raise the live session's peak and unique
 * viewers). Every instance computes the same count from Redis, so sockets agree everywhere.
 */

import { textFrame } from '../chat/connection.js'
import type { ServerFrame } from '../chat/protocol.js'
import type { Room } from '../chat/room.js'
import type { Db } from '../db/client.js'
import { type Presence, recordSessionViewers } from './presence.js'

type Rooms = { rooms: Map<string, Room> }

export async function refreshPresence(hub: Rooms, presence: Presence): Promise<void> {
  const entries = new Map<string, string[]>()
  for (const room of hub.rooms.values()) {
    const ids: string[] = []
    for (const conn of room.conns) if (!conn.closed) ids.push(conn.id)
    entries.set(room.name, ids)
  }
  if (entries.size) await presence.refresh(entries)
}

export async function pushViewers(hub: Rooms, presence: Presence, db: Db): Promise<void> {
  const rooms = [...hub.rooms.values()].filter((r) => r.conns.size > 0 && r.channelId)
  if (rooms.length === 0) return
  const counts = await presence.counts(rooms.map((r) => r.name))
  for (const room of rooms) {
    const n = counts.get(room.name) ?? 0
    // Sent only to sockets whose last known count differs (the welcome carries one), serialized once.
    let frame: Buffer | undefined
    for (const conn of room.conns) {
      if (conn.state !== 'live' || conn.viewers === n) continue
      frame ??= textFrame(Buffer.from(JSON.stringify({ type: 'viewers', count: n } satisfies ServerFrame)))
      conn.viewers = n
      conn.deliver(frame)
    }
    if (room.live.sessionId) await recordStats(room, n, room.live.sessionId, presence, db)
  }
}

async function recordStats(
  room: Room,
  viewers: number,
  sessionId: string,
  presence: Presence,
  db: Db,
): Promise<void> {
  if (room.statsSession !== sessionId) {
    room.statsSession = sessionId
    room.peakSeen = 0
    room.uniqueSeen = 0
  }
  // Each socket is added to the session's HyperLogLog once; a user in three tabs counts once.
  const fresh: string[] = []
  for (const conn of room.conns) {
    if (conn.countedSession === sessionId || conn.state !== 'live') continue
    conn.countedSession = sessionId
    fresh.push(conn.viewerKey)
  }
  const unique = fresh.length ? await presence.addUnique(sessionId, fresh) : room.uniqueSeen
  if (viewers > room.peakSeen || unique > room.uniqueSeen) {
    room.peakSeen = Math.max(room.peakSeen, viewers)
    room.uniqueSeen = Math.max(room.uniqueSeen, unique)
    await recordSessionViewers(db, sessionId, room.peakSeen, room.uniqueSeen)
  }
}
