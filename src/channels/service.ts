/**
 * @module channels/service — channel views that join Postgres (names, titles) with live state (Redis).
 * Only public channels are listed; a private one is visible only to whoever may watch it
 * (visibility/access.ts).
 */
import { and, desc, eq, inArray } from 'drizzle-orm'
import { qoeBySession } from '../analytics/qoe-summary.js'
import { recordAudit } from '../audit/audit.js'
import { type Channel, type ChannelVisibility, channels, streamSessions } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ForbiddenError, NotFoundError } from '../http/errors.js'
import type { LiveEntry } from '../live/registry.js'
import { countViewers } from '../presence/count.js'
import { mayWatch, type Viewer } from '../visibility/access.js'

export type ChannelView = {
  name: string
  title: string
  /** public (listed), unlisted (by link only) or private (owner, moderators, admins, members). */
  visibility: ChannelVisibility
  status: 'live' | 'reconnecting' | 'offline'
  live: boolean
  startedAt: string | null
  viewers: number
  playback: { hls: string }
  /** Broadcasts become videos (videos/). */
  record: boolean
}

/** The playback path is built from the channel name only: the stream key can never reach it. */
export function playbackPath(name: string) {
  return `/hls/${name}/index.m3u8`
}

function toView(ch: Channel, entry: LiveEntry | null, viewers: number): ChannelView {
  return {
    name: ch.name,
    title: ch.title,
    visibility: ch.visibility,
    status: entry?.state ?? 'offline',
    live: entry !== null,
    startedAt: entry ? new Date(entry.startedAt).toISOString() : null,
    viewers,
    playback: { hls: playbackPath(ch.name) },
    record: ch.record,
  }
}

/** A private channel the viewer may not watch is NOT_FOUND, exactly like one that does not exist. */
export async function getChannel(deps: Deps, name: string, viewer: Viewer = null): Promise<ChannelView> {
  const [ch] = await deps.db.select().from(channels).where(eq(channels.name, name))
  if (!ch || !(await mayWatch(deps.db, viewer, ch))) throw new NotFoundError('channel')
  const now = deps.now()
  const [entry, counts] = await Promise.all([
    deps.live.get(name),
    countViewers(deps.redis, deps.keys, [name], now),
  ])
  return toView(ch, entry && entry.deadline > now ? entry : null, counts.get(name) ?? 0)
}

/** What anyone may know of a private channel: its name. Null when there is no such private channel. */
export async function privateChannelShell(deps: Pick<Deps, 'db'>, name: string): Promise<ChannelView | null> {
  const [ch] = await deps.db
    .select()
    .from(channels)
    .where(and(eq(channels.name, name), eq(channels.visibility, 'private')))
  return ch ? toView({ ...ch, title: '', record: false }, null, 0) : null
}

export async function listChannels(
  deps: Deps,
  opts: { liveOnly: boolean; limit: number },
): Promise<ChannelView[]> {
  const entries = await deps.live.list()
  const byName = new Map(entries.map((e) => [e.channel, e]))
  const rows = opts.liveOnly
    ? entries.length === 0
      ? []
      : await deps.db
          .select()
          .from(channels)
          .where(and(inArray(channels.name, [...byName.keys()]), eq(channels.visibility, 'public')))
    : await deps.db
        .select()
        .from(channels)
        .where(eq(channels.visibility, 'public'))
        .orderBy(channels.name)
        .limit(opts.limit)
  const counts = await countViewers(
    deps.redis,
    deps.keys,
    rows.map((r) => r.name),
    deps.now(),
  )
  const views = rows.map((r) => toView(r, byName.get(r.name) ?? null, counts.get(r.name) ?? 0))
  // Live first, most watched first, then newest.
  views.sort(
    (a, b) =>
      Number(b.live) - Number(a.live) ||
      b.viewers - a.viewers ||
      (b.startedAt ?? '').localeCompare(a.startedAt ?? ''),
  )
  return views.slice(0, opts.limit)
}

async function ownedChannel(deps: Deps, name: string, user: { id: string; role: string }) {
  const [ch] = await deps.db.select().from(channels).where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  if (ch.ownerId !== user.id && user.role !== 'admin') throw new ForbiddenError('not your channel')
  return ch
}

export async function updateChannel(
  deps: Deps,
  name: string,
  user: { id: string; role: string },
  patch: { title?: string; visibility?: ChannelVisibility; record?: boolean },
) {
  const ch = await ownedChannel(deps, name, user)
  await deps.db.update(channels).set(patch).where(eq(channels.id, ch.id))
  // Every instance re-checks who may stay in the chat (a channel that just turned private).
  if (patch.visibility && patch.visibility !== ch.visibility) {
    await recordAudit(deps.db, {
      type: 'channel.visibility.changed',
      userId: ch.ownerId,
      actorId: user.id,
      data: { channel: name, from: ch.visibility, to: patch.visibility },
    })
    await deps.chat.broker.publishControl(name, { k: 'audience' })
  }
  return getChannel(deps, name, user)
}

/** Ends the channel's live session now and drops the publisher; its key is refused for a cool-down. */
export async function kickChannel(deps: Deps, name: string, user: { id: string; role: string }, ip?: string) {
  const ch = await ownedChannel(deps, name, user)
  const kicked = await deps.live.end(name, 'kicked')
  await recordAudit(deps.db, {
    type: 'channel.kicked',
    userId: ch.ownerId,
    actorId: user.id,
    ip,
    data: { channel: name, kicked },
  })
  return kicked
}

export async function listSessions(
  deps: Deps,
  name: string,
  user: { id: string; role: string },
  limit: number,
) {
  const ch = await ownedChannel(deps, name, user)
  const rows = await deps.db
    .select()
    .from(streamSessions)
    .where(and(eq(streamSessions.channelId, ch.id)))
    .orderBy(desc(streamSessions.startedAt))
    .limit(limit)
  // Our player's QoE per broadcast: one grouped read for the whole page of rows.
  const qoe = await qoeBySession(
    deps.db,
    rows.map((s) => s.id),
  )
  return rows.map((s) => ({
    id: s.id,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt?.toISOString() ?? null,
    durationS: Math.round(((s.endedAt?.getTime() ?? deps.now()) - s.startedAt.getTime()) / 1000),
    endReason: s.endReason,
    ingestNode: s.ingestNode,
    reconnects: s.reconnects,
    peakViewers: s.peakViewers,
    uniqueViewers: s.uniqueViewers,
    watchTimeS: Math.round(s.watchTimeMs / 100) / 10,
    qoe: qoe.get(s.id) ?? null,
  }))
}
