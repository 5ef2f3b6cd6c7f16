/**
 * @module chat/room — one channel as this instance sees it: its sockets and a cache of the
 * channel's rules, moderators and live state. The cache is loaded once when the first socket
 * joins, kept current by control events on the channel's topic, and reloaded after the
 * subscriber reconnects, so sending a message costs no Postgres read.
 */
import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import {
  type ChannelVisibility,
  channelBans,
  channelModerators,
  channels,
  follows,
} from '../db/schema/index.js'
import type { LiveRegistry } from '../live/registry.js'
import type { Conn, Identity, Pending } from './connection.js'
import type { ChatRole, PublicSettings } from './protocol.js'
import type { ChannelRules } from './rules.js'

export type LiveStatus = {
  status: 'live' | 'reconnecting' | 'offline'
  sessionId: string | null
  startedAt: number | null
}

export class Room {
  readonly conns = new Set<Conn>()
  channelId = ''
  ownerId = ''
  /** Who may watch (and so hold a socket here): visibility/access.ts. */
  visibility: ChannelVisibility = 'public'
  rules: ChannelRules = {
    slowModeSeconds: 0,
    followersOnlyMinutes: null,
    emoteOnly: false,
    maxMessageLength: 500,
    blockedTerms: [],
  }
  moderators = new Set<string>()
  live: LiveStatus = { status: 'offline', sessionId: null, startedAt: null }
  /** The stream session peakSeen/uniqueSeen belong to. */
  statsSession: string | null = null
  peakSeen = 0
  uniqueSeen = 0
  ready: Promise<void> = Promise.resolve()
  /** Chat frames from Redis waiting for the end of this event-loop turn (see ChatHub.onBroker). */
  outbox: Pending[] = []
  lingerTimer: NodeJS.Timeout | null = null

  constructor(readonly name: string) {}

  publicSettings(): PublicSettings {
    const { slowModeSeconds, followersOnlyMinutes, emoteOnly, maxMessageLength } = this.rules
    return { slowModeSeconds, followersOnlyMinutes, emoteOnly, maxMessageLength }
  }

  roleOf(identity: Identity | null): ChatRole {
    if (!identity) return 'user'
    if (identity.userId === this.ownerId) return 'owner'
    if (identity.siteRole === 'admin') return 'admin'
    if (this.moderators.has(identity.userId)) return 'moderator'
    return 'user'
  }

  /** Rules and channel identity. Throws if the channel no longer exists. */
  async loadChannel(db: Db): Promise<void> {
    const [ch] = await db.select().from(channels).where(eq(channels.name, this.name))
    if (!ch) throw new Error(`channel ${this.name} not found`)
    this.channelId = ch.id
    this.ownerId = ch.ownerId
    this.visibility = ch.visibility
    this.rules = {
      slowModeSeconds: ch.slowModeSeconds,
      followersOnlyMinutes: ch.followersOnlyMinutes,
      emoteOnly: ch.emoteOnly,
      maxMessageLength: ch.maxMessageLength,
      blockedTerms: ch.blockedTerms,
    }
  }

  /** Reloads the moderator list; returns the sockets whose role changed. */
  async loadModerators(db: Db): Promise<Conn[]> {
    const rows = await db
      .select({ userId: channelModerators.userId })
      .from(channelModerators)
      .where(eq(channelModerators.channelId, this.channelId))
    this.moderators = new Set(rows.map((r) => r.userId))
    const changed: Conn[] = []
    for (const conn of this.conns) {
      const role = this.roleOf(conn.identity)
      if (role !== conn.role) changed.push(conn)
      conn.role = role
    }
    return changed
  }

  async loadLive(live: LiveRegistry, now: number): Promise<void> {
    const entry = await live.get(this.name)
    this.live =
      entry && entry.deadline > now
        ? { status: entry.state, sessionId: entry.sessionId, startedAt: entry.startedAt }
        : { status: 'offline', sessionId: null, startedAt: null }
  }

  async load(db: Db, live: LiveRegistry, now: number): Promise<void> {
    await this.loadChannel(db)
    await Promise.all([this.loadModerators(db), this.loadLive(live, now)])
  }

  /** A signed-in socket's standing in this channel: role, ban/timeout and follow age. */
  async loadMember(db: Db, conn: Conn, now: number): Promise<void> {
    if (!conn.identity) return
    const userId = conn.identity.userId
    const [[ban], [follow]] = await Promise.all([
      db
        .select({ expiresAt: channelBans.expiresAt })
        .from(channelBans)
        .where(and(eq(channelBans.channelId, this.channelId), eq(channelBans.userId, userId))),
      db
        .select({ createdAt: follows.createdAt })
        .from(follows)
        .where(and(eq(follows.channelId, this.channelId), eq(follows.userId, userId))),
    ])
    conn.role = this.roleOf(conn.identity)
    conn.restrictedUntil = !ban
      ? 0
      : ban.expiresAt === null
        ? Number.POSITIVE_INFINITY
        : ban.expiresAt.getTime() > now
          ? ban.expiresAt.getTime()
          : 0
    conn.followedSince = follow ? follow.createdAt.getTime() : null
  }
}
