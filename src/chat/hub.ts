/**
 * @module chat/hub — the sockets of THIS instance, per channel (centrifuge `hub.go`: "Hub tracks
 * Client connections on the current Node"), and the fan-out from the broker to them.
 *
 * - One broker subscription per channel per instance, taken when the first socket joins and
 *   dropped a few seconds after the last one leaves.
 * - A chat frame arrives from Redis already serialized; the same bytes go to every socket.
 * - Joining is gap-free: the socket is added to the room (live frames queue), the subscription
 *   is confirmed, and only then is history read; queued frames the welcome already covers are
 *   dropped by seq.
 * - Shared timers, not per-socket ones: ping/pong liveness, presence refresh, viewer counts, and
 *   the session check that closes sockets whose login session ran out (session-watch.ts).
 */
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { users } from '../db/schema/index.js'
import { type Every, every } from '../lib/every.js'
import { errText } from '../log.js'
import type { Presence } from '../presence/presence.js'
import { pushViewers, refreshPresence } from '../presence/viewers.js'
import type { SocketAdmission } from './admission.js'
import type { ChatBroker, Inbound } from './broker.js'
import { type Conn, textFrame } from './connection.js'
import type { ChatHistory } from './history.js'
import type { ChatDeps } from './index.js'
import { CloseCode, type ServerFrame } from './protocol.js'
import { Room } from './room.js'
import { applyControl, applyStream } from './room-events.js'
import { endedSessions, SESSION_CHECK_INTERVAL_MS } from './session-watch.js'

export const WELCOME_HISTORY = 50
const ROOM_LINGER_MS = 5000

export type HubDeps = ChatDeps & {
  broker: ChatBroker
  history: ChatHistory
  presence: Presence
  admission: SocketAdmission
}

export class ChatHub {
  readonly rooms = new Map<string, Room>()
  readonly byUser = new Map<string, Set<Conn>>()
  /** Resolves when this instance listens for session revocations. */
  readonly ready: Promise<void>
  private readonly instanceId = randomBytes(5).toString('base64url')
  private connSeq = 0
  private timers: Every[] = []
  private subscriberWasReady = false

  constructor(private readonly d: HubDeps) {
    d.broker.onMessage((channel, msg) => {
      // A listener that throws would take the subscriber connection's emitter down with it.
      try {
        this.onBroker(channel, msg)
      } catch (err) {
        d.log.error({ err, channel }, 'chat: broker message failed; skipped')
      }
    })
    const revokedTopic = d.keys.userRevoked()
    d.redisSub.on('message', (topic: string, payload: string) => {
      if (topic === revokedTopic) this.onRevoked(payload)
    })
    // A reconnected subscriber may have missed messages (pub/sub is at-most-once): every socket
    // reconnects and resumes from history rather than silently skipping them, and the cached
    // rules, moderators and live state are read again.
    const resync = () => {
      this.closeAll(CloseCode.RESYNC, 'resync')
      for (const room of this.rooms.values()) this.reload(room)
    }
    d.redisSub.on('ready', () => {
      if (this.subscriberWasReady) resync()
      this.subscriberWasReady = true
    })
    // On a Redis Cluster the sharded topics have a subscriber per master (redis/client.ts): one
    // lost in a failover comes back on the promoted replica, deaf for the time in between.
    let shardLost = false
    d.redisSub.on('-subscriber', () => {
      shardLost = true
    })
    d.redisSub.on('+subscriber', () => {
      if (!shardLost) return
      shardLost = false
      resync()
    })
    this.ready = d.redisSub.subscribe(revokedTopic).then(() => undefined)
    this.ready.catch((err) => d.log.error({ err }, 'chat: could not subscribe to session revocations'))
  }

  nextConnId(): string {
    return `${this.instanceId}.${(++this.connSeq).toString(36)}`
  }

  get size(): number {
    let n = 0
    for (const room of this.rooms.values()) n += room.conns.size
    return n
  }

  /** Adds the socket, then sends its welcome (history, seq, viewers) and switches it live. */
  async open(conn: Conn): Promise<void> {
    const { d } = this
    const room = this.room(conn.channel)
    room.conns.add(conn)
    if (conn.identity) {
      const set = this.byUser.get(conn.identity.userId) ?? new Set<Conn>()
      this.byUser.set(conn.identity.userId, set)
      set.add(conn)
    }
    try {
      await room.ready
      if (conn.closed) return
      if (conn.identity && !(await this.stillSignedIn(conn))) {
        conn.close(CloseCode.SESSION_ENDED, 'session ended')
        return
      }
      await room.loadMember(d.db, conn, d.now())
      await d.presence.add(room.name, conn.id)
      if (conn.closed) {
        await d.presence.remove(room.name, [conn.id])
        return
      }
      const [{ seq, messages }, counts] = await Promise.all([
        d.history.recent(room.name, room.channelId, WELCOME_HISTORY),
        d.presence.counts([room.name]),
      ])
      const welcome: ServerFrame = {
        type: 'welcome',
        channel: room.name,
        live: room.live.status !== 'offline',
        status: room.live.status,
        viewers: counts.get(room.name) ?? 0,
        you: conn.you(),
        history: messages,
        seq,
        settings: room.publicSettings(),
      }
      conn.viewers = welcome.viewers
      conn.sendJson(welcome)
      conn.floorSeq = messages[0]?.seq ?? seq + 1
      conn.goLive(seq)
    } catch (err) {
      d.log.error({ err, channel: conn.channel }, 'chat: socket setup failed')
      conn.close(1011, 'internal error')
    }
  }

  /** Revocations published before this socket was registered would have been missed: re-check. */
  private async stillSignedIn(conn: Conn): Promise<boolean> {
    const id = conn.identity!
    const [revoked, [row]] = await Promise.all([
      this.d.redis.exists(this.d.keys.revokedSid(id.sid)),
      this.d.db.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, id.userId)),
    ])
    return revoked === 0 && !!row && !row.disabledAt
  }

  /** Called when ws reports the socket closed (for whatever reason). Idempotent. */
  leave(conn: Conn): void {
    if (conn.state !== 'closed') {
      conn.state = 'closed'
      conn.pending = null
    }
    const room = this.rooms.get(conn.channel)
    if (conn.identity) {
      const set = this.byUser.get(conn.identity.userId)
      set?.delete(conn)
      if (set?.size === 0) this.byUser.delete(conn.identity.userId)
    }
    if (!room?.conns.delete(conn)) return
    this.d.presence
      .remove(room.name, [conn.id])
      .catch((err) => this.d.log.warn({ err: errText(err) }, 'chat: presence remove failed'))
    if (room.conns.size === 0 && !room.lingerTimer) {
      room.lingerTimer = setTimeout(() => {
        room.lingerTimer = null
        if (room.conns.size > 0 || this.rooms.get(room.name) !== room) return
        this.rooms.delete(room.name)
        this.d.broker.unsubscribe(room.name).catch(() => {})
      }, ROOM_LINGER_MS)
      room.lingerTimer.unref()
    }
  }

  private room(name: string): Room {
    const existing = this.rooms.get(name)
    if (existing) {
      if (existing.lingerTimer) clearTimeout(existing.lingerTimer)
      existing.lingerTimer = null
      return existing
    }
    const room = new Room(name)
    this.rooms.set(name, room)
    room.ready = (async () => {
      await this.d.broker.subscribe(name)
      await room.load(this.d.db, this.d.live, this.d.now())
    })()
    room.ready.catch(() => {
      if (this.rooms.get(name) !== room) return
      this.rooms.delete(name)
      this.d.broker.unsubscribe(name).catch(() => {})
    })
    return room
  }

  /** Reloads a room's cache; sockets joining meanwhile wait for it. A failure keeps the old state. */
  private reload(room: Room): void {
    const previous = room.ready
    room.ready = previous
      .catch(() => {})
      .then(() => room.load(this.d.db, this.d.live, this.d.now()))
      .catch((err) => this.d.log.warn({ err: errText(err), channel: room.name }, 'chat: room reload failed'))
  }

  /** Serializes once, then hands the same bytes to every socket of the room. */
  broadcast(room: Room, frame: ServerFrame, filter?: (c: Conn) => boolean): void {
    const wire = textFrame(Buffer.from(JSON.stringify(frame)))
    for (const conn of room.conns) if (!filter || filter(conn)) conn.deliver(wire)
  }

  private onBroker(channel: string, msg: Inbound): void {
    const room = this.rooms.get(channel)
    if (!room) return
    if (msg.kind === 'message') {
      // Batching: every message of this turn (one Redis read can carry many) goes to each socket
      // in one write at the end of the turn, instead of one syscall per message per socket.
      if (room.outbox.push([msg.seq, textFrame(msg.frame)]) === 1) setImmediate(() => this.flush(room))
      return
    }
    this.flush(room) // keep order: chat already received goes out before what follows it
    if (msg.kind === 'control') {
      applyControl(this, room, msg.event, this.d.now(), this.d.log)
    } else {
      applyStream(this, room, msg.event)
    }
  }

  private flush(room: Room): void {
    if (room.outbox.length === 0) return
    const batch = room.outbox
    room.outbox = []
    for (const conn of room.conns) conn.deliverBatch(batch)
    this.d.metrics.chatDelivered.inc(batch.length * room.conns.size)
  }

  private onRevoked(payload: string): void {
    let event: { userId?: unknown; sid?: unknown }
    try {
      event = JSON.parse(payload)
    } catch {
      return
    }
    if (typeof event.userId !== 'string') return
    for (const conn of [...(this.byUser.get(event.userId) ?? [])]) {
      if (typeof event.sid === 'string' && conn.identity?.sid !== event.sid) continue
      conn.close(CloseCode.SESSION_ENDED, 'session ended')
      this.leave(conn)
    }
  }

  /**
   * Closes (4501) every socket whose login session is over for any reason: idle or absolute
   * expiry, which nobody announces, or a revocation whose pub/sub message was lost. One query
   * per 1,000 distinct sids of this instance (start()'s timer; tests call it directly).
   */
  async checkSessions(): Promise<number> {
    const bySid = new Map<string, Conn[]>()
    for (const conns of this.byUser.values())
      for (const conn of conns) {
        const sid = conn.identity!.sid
        const list = bySid.get(sid)
        if (list) list.push(conn)
        else bySid.set(sid, [conn])
      }
    if (bySid.size === 0) return 0
    const ended = await endedSessions(this.d.db, bySid.keys(), this.d.now())
    let closed = 0
    for (const sid of ended)
      for (const conn of bySid.get(sid) ?? []) {
        conn.close(CloseCode.SESSION_ENDED, 'session ended')
        this.leave(conn)
        closed++
      }
    return closed
  }

  /** This instance's sockets of one user, in any channel. */
  connsOf(userId: string): Conn[] {
    return [...(this.byUser.get(userId) ?? [])]
  }

  get db(): Db {
    return this.d.db
  }

  /**
   * The presence heartbeat (also run by start()'s timer; tests call it directly): viewer entries
   * and the per-address socket counts age out together when an instance dies.
   */
  async refreshPresence(): Promise<void> {
    await Promise.all([refreshPresence(this, this.d.presence), this.d.admission.refresh()])
  }

  /** Pushes changed viewer counts and records session peaks (start()'s timer; tests call it directly). */
  pushViewers(): Promise<void> {
    return pushViewers(this, this.d.presence, this.d.db)
  }

  /** ws-level ping/pong: a socket that did not answer the previous ping is dead. */
  heartbeat(): void {
    for (const room of this.rooms.values()) {
      for (const conn of room.conns) {
        if (!conn.alive) {
          conn.ws.terminate()
          this.leave(conn)
          continue
        }
        conn.alive = false
        conn.ws.ping()
      }
    }
  }

  start(): void {
    const { config, log } = this.d
    const job = (ms: number, fn: () => unknown, what: string) => {
      const t = every(ms, fn, {
        onError: (err) => log.warn({ err: errText(err) }, `chat: ${what} failed`),
      })
      this.timers.push(t)
    }
    job(config.CHAT_PING_INTERVAL_S * 1000, () => this.heartbeat(), 'heartbeat')
    job(
      Math.max(1000, Math.floor((config.PRESENCE_TTL_S * 1000) / 3)),
      () => this.refreshPresence(),
      'presence refresh',
    )
    job(config.VIEWERS_PUSH_INTERVAL_MS, () => this.pushViewers(), 'viewer count')
    job(SESSION_CHECK_INTERVAL_MS, () => this.checkSessions(), 'session check')
  }

  private closeAll(code: number, reason: string): Conn[] {
    const all: Conn[] = []
    for (const room of this.rooms.values()) for (const conn of room.conns) all.push(conn)
    for (const conn of all) conn.close(code, reason)
    return all
  }

  /** Stops the timers and closes every socket with "going away" so clients reconnect elsewhere. */
  async shutdown(graceMs = 1000): Promise<void> {
    for (const t of this.timers) t.stop()
    this.timers = []
    const byRoom = new Map<string, string[]>()
    for (const room of this.rooms.values())
      byRoom.set(
        room.name,
        [...room.conns].map((c) => c.id),
      )
    const all = this.closeAll(CloseCode.GOING_AWAY, 'going away')
    await Promise.allSettled([...byRoom].map(([name, ids]) => this.d.presence.remove(name, ids)))
    // Give clients a moment to answer the close frame, then cut whoever did not.
    const deadline = Date.now() + graceMs
    while (all.some((c) => c.ws.readyState !== c.ws.CLOSED) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    for (const conn of all) if (conn.ws.readyState !== conn.ws.CLOSED) conn.ws.terminate()
    for (const conn of all) this.leave(conn)
  }
}
