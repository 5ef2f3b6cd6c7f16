/**
 * @module visibility/access — who may watch a channel: anyone for `public` and `unlisted`; for
 * `private` only the owner, site admins, the channel's moderators and its members. The one rule
 * the channel API, the chat socket, playback grants and nginx's playback check all ask.
 */
import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { type Channel, channelMembers, channelModerators, channels } from '../db/schema/index.js'

/** A signed-in viewer (its site role matters: admins may watch everything); null is anonymous. */
export type Viewer = { id: string; role: string } | null

export type WatchableChannel = Pick<Channel, 'id' | 'ownerId' | 'visibility'>

/** Listed in the directory: public only (unlisted is "anyone with the link"). */
export const isListed = (ch: Pick<Channel, 'visibility'>) => ch.visibility === 'public'

export async function mayWatch(db: Db, viewer: Viewer, ch: WatchableChannel): Promise<boolean> {
  if (ch.visibility !== 'private') return true
  if (!viewer) return false
  if (viewer.id === ch.ownerId || viewer.role === 'admin') return true
  // One round trip: a moderator or a member row (both keyed by (channel, user)).
  const rows = await db.execute<{ ok: number }>(sql`
    select 1 as ok from ${channelMembers}
      where ${channelMembers.channelId} = ${ch.id} and ${channelMembers.userId} = ${viewer.id}
    union all
    select 1 from ${channelModerators}
      where ${channelModerators.channelId} = ${ch.id} and ${channelModerators.userId} = ${viewer.id}
    limit 1`)
  return rows.length > 0
}

/** The channel if it exists AND the viewer may watch it; null otherwise (callers answer 404 for both). */
export async function watchableChannel(db: Db, viewer: Viewer, name: string): Promise<Channel | null> {
  const [ch] = await db.select().from(channels).where(eq(channels.name, name))
  if (!ch) return null
  return (await mayWatch(db, viewer, ch)) ? ch : null
}
