/**
 * @module videos/service — the verbs on videos: list a channel's, get one, rename or change its
 * visibility, delete it with its files. Reads answer only what the caller may see (access.ts);
 * anything else is "not found", so a private video's existence does not leak.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { and, desc, eq } from 'drizzle-orm'
import { type Channel, channels, type Video, type Visibility, videos } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import { ForbiddenError, NotFoundError } from '../http/errors.js'
import { watchableChannel } from '../visibility/access.js'
import { canListVideo, canWatchVideo, effectiveVisibility, isChannelManager, type Viewer } from './access.js'
import { type MediaPaths, mediaPaths, VOD_FILES, vodUrl } from './paths.js'

export type VideoView = {
  id: string
  sessionId: string
  channel: string
  title: string
  status: Video['status']
  /** Owner and admins only: why processing failed. */
  error?: string | null
  durationS: number | null
  createdAt: string
  recordedAt: string
  /** Its own setting; null = the channel's. */
  visibility: Visibility | null
  effectiveVisibility: Visibility
  thumbnailUrl: string | null
  playbackUrl: string | null
  downloadUrl: string | null
}

type D = Pick<Deps, 'db' | 'config'>

function toView(v: Video, ch: Channel, viewer: Viewer): VideoView {
  const ready = v.status === 'ready'
  return {
    id: v.id,
    sessionId: v.sessionId,
    channel: ch.name,
    title: v.title,
    status: v.status,
    ...(isChannelManager(viewer, ch) ? { error: v.error } : {}),
    durationS: v.durationS === null ? null : Math.round(v.durationS * 10) / 10,
    createdAt: v.createdAt.toISOString(),
    recordedAt: v.recordedAt.toISOString(),
    visibility: v.visibility,
    effectiveVisibility: effectiveVisibility(v, ch),
    thumbnailUrl: ready ? vodUrl(v.id, VOD_FILES.thumb) : null,
    playbackUrl: ready ? vodUrl(v.id, VOD_FILES.playlist) : null,
    downloadUrl: ready ? vodUrl(v.id, VOD_FILES.mp4) : null,
  }
}

/** Others see a video once it plays; the owner also sees it processing or failed. */
const visibleState = (v: Video, ch: Channel, viewer: Viewer) =>
  v.status === 'ready' || isChannelManager(viewer, ch)

export async function listVideos(d: D, name: string, viewer: Viewer, limit: number): Promise<VideoView[]> {
  // A channel the viewer may not watch lists nothing, exactly like a channel that does not exist.
  const ch = await watchableChannel(d.db, viewer, name)
  if (!ch) throw new NotFoundError('channel')
  const rows = await d.db
    .select()
    .from(videos)
    .where(eq(videos.channelId, ch.id))
    .orderBy(desc(videos.recordedAt))
    .limit(limit)
  const shown = await Promise.all(
    rows.map(async (v) => visibleState(v, ch, viewer) && (await canListVideo(d.db, viewer, v, ch))),
  )
  return rows.filter((_, i) => shown[i]).map((v) => toView(v, ch, viewer))
}

async function load(d: D, id: string) {
  const [row] = await d.db
    .select({ video: videos, channel: channels })
    .from(videos)
    .innerJoin(channels, eq(channels.id, videos.channelId))
    .where(eq(videos.id, id))
  return row ?? null
}

export async function getVideo(d: D, id: string, viewer: Viewer): Promise<VideoView> {
  const row = await load(d, id)
  if (
    !row ||
    !visibleState(row.video, row.channel, viewer) ||
    !(await canWatchVideo(d.db, viewer, row.video, row.channel))
  )
    throw new NotFoundError('video')
  return toView(row.video, row.channel, viewer)
}

async function managed(d: D, id: string, viewer: Exclude<Viewer, null>) {
  const row = await load(d, id)
  // Someone who may watch it learns it exists anyway; everyone else gets 404.
  if (!row || !(await canWatchVideo(d.db, viewer, row.video, row.channel))) throw new NotFoundError('video')
  if (!isChannelManager(viewer, row.channel)) throw new ForbiddenError('not your video')
  return row
}

export async function updateVideo(
  d: D,
  id: string,
  viewer: Exclude<Viewer, null>,
  patch: { title?: string; visibility?: Visibility | null },
): Promise<VideoView> {
  const row = await managed(d, id, viewer)
  const [v] = await d.db
    .update(videos)
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.visibility !== undefined ? { visibility: patch.visibility } : {}),
    })
    .where(and(eq(videos.id, id)))
    .returning()
  if (!v) throw new NotFoundError('video')
  return toView(v, row.channel, viewer)
}

export async function deleteVideo(d: D, id: string, viewer: Exclude<Viewer, null>): Promise<void> {
  await managed(d, id, viewer)
  // Row first: once it is gone nothing links to the files, and a remux still running sees it
  // gone and removes what it made (process.ts).
  await d.db.delete(videos).where(eq(videos.id, id))
  await deleteVideoFiles(mediaPaths(d.config.MEDIA_DIR), id)
}

export async function deleteVideoFiles(paths: MediaPaths, id: string): Promise<void> {
  await rm(join(paths.videos, id), { recursive: true, force: true })
}
