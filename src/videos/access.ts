/**
 * @module videos/access — who may watch a video: the single place that decides (API answers,
 * pages, and playback checks built on it). A video's own visibility wins; null inherits the
 * channel's. `private` means the channel's audience rule (visibility/access.ts): the owner, site
 * admins, the channel's moderators and its members.
 */
import type { Db } from '../db/client.js'
import type { Visibility } from '../db/schema/index.js'
import { mayWatch, type Viewer, type WatchableChannel } from '../visibility/access.js'

export type { Viewer }

type VideoLike = { visibility: Visibility | null }

export function effectiveVisibility(
  video: VideoLike,
  channel: Pick<WatchableChannel, 'visibility'>,
): Visibility {
  return video.visibility ?? channel.visibility
}

/** The owner and admins see and manage everything of the channel. */
export function isChannelManager(viewer: Viewer, channel: Pick<WatchableChannel, 'ownerId'>): boolean {
  return viewer !== null && (viewer.id === channel.ownerId || viewer.role === 'admin')
}

/**
 * Public and unlisted videos play for anyone with the link; private ones for whoever may watch
 * the channel when it is private — even in a public channel (a members-only replay).
 */
export async function canWatchVideo(
  db: Db,
  viewer: Viewer,
  video: VideoLike,
  channel: WatchableChannel,
): Promise<boolean> {
  if (effectiveVisibility(video, channel) !== 'private') return true
  return mayWatch(db, viewer, { ...channel, visibility: 'private' })
}

/** Listed on the channel: what may be watched, minus unlisted videos (those travel by link only). */
export async function canListVideo(
  db: Db,
  viewer: Viewer,
  video: VideoLike,
  channel: WatchableChannel,
): Promise<boolean> {
  if (isChannelManager(viewer, channel)) return true
  return effectiveVisibility(video, channel) !== 'unlisted' && canWatchVideo(db, viewer, video, channel)
}
