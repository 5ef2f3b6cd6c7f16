/** @module channels/service — channel views that join Postgres (names, titles) with live state (Redis). */
import { and, desc, eq, inArray } from 'drizzle-orm'
import { recordAudit } from '../audit/audit.js'
import { type Channel, channels, streamSessions } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ForbiddenError, NotFoundError } from '../http/errors.js'
import type { LiveEntry } from '../live/registry.js'
import { countViewers } from '../presence/count.js'

export type ChannelView = {
  name: string
  title: string
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
    status: entry?.state ?? 'offline',
    live: entry !== null,
    startedAt: entry ? new Date(entry.startedAt).toISOString() : null,
    viewers,
    playback: { hls: playbackPath(ch.name) },
    record: ch.record,
  }
}

export async function getChannel(deps: Deps, name: string): Promise<ChannelView> {
  const [ch] = await deps.db.select().from(channels).where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  const now = deps.now()
  const [entry, counts] = await Promise.all([
    deps.live.get(name),
    countViewers(deps.redis, deps.keys, [name], now),
  ])
  return toView(ch, entry && entry.deadline > now ? entry : null, counts.get(name) ?? 0)
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
          .where(inArray(channels.name, [...byName.keys()]))
    : await deps.db.select().from(channels).orderBy(channels.name).limit(opts.limit)
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
  patch: { title?: string; record?: boolean },
) {
  const ch = await ownedChannel(deps, name, user)
  const set = {
    ...(patch.title !== undefined && { title: patch.title }),
    ...(patch.record !== undefined && { record: patch.record }),
  }
  await deps.db.update(channels).set(set).where(eq(channels.id, ch.id))
  return getChannel(deps, name)
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
  return rows.map((s) => ({
    id: s.id,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt?.toISOString() ?? null,
    durationS: Math.round(((s.endedAt?.getTime() ?? deps.now()) - s.startedAt.getTime()) / 1000),
    endReason: s.endReason,
    ingestNode: s.ingestNode,
    reconnects: s.reconnects,
    peakViewers: s.peakViewers,
  }))
}
