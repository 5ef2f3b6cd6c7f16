/**
 * @module videos/access — who may watch a video: the single place that decides (API answers,
 * pages, and the playback grants built on it). A video's own visibility wins; null inherits the
 * channel's (`public` until channels have one).
 */
import type { Visibility } from '../db/schema/index.js'

/** The caller: a signed-in user, or null for anyone. */
export type Viewer = { id: string; role: 'user' | 'admin' } | null

type VideoLike = { visibility: Visibility | null }
type ChannelLike = { ownerId: string; visibility?: Visibility | null }

export function effectiveVisibility(video: VideoLike, channel: ChannelLike): Visibility {
  return video.visibility ?? channel.visibility ?? 'public'
}

/** The owner and admins see and manage everything of the channel. */
export function isChannelManager(viewer: Viewer, channel: ChannelLike): boolean {
  return viewer !== null && (viewer.id === channel.ownerId || viewer.role === 'admin')
}

/** Public and unlisted videos play for anyone with the link; private ones for the owner and admins. */
export function canWatchVideo(viewer: Viewer, video: VideoLike, channel: ChannelLike): boolean {
  if (isChannelManager(viewer, channel)) return true
  return effectiveVisibility(video, channel) !== 'private'
}

/** Listed on the channel: what may be watched, minus unlisted videos (those travel by link only). */
export function canListVideo(viewer: Viewer, video: VideoLike, channel: ChannelLike): boolean {
  if (isChannelManager(viewer, channel)) return true
  return canWatchVideo(viewer, video, channel) && effectiveVisibility(video, channel) === 'public'
}
