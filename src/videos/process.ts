/**
 * @module videos/process — one remux job: a recorded broadcast's flv parts → HLS VOD + MP4 +
 * thumbnail, then the video row `ready`. Idempotent, so a job that runs twice (a worker died
 * mid-way and BullMQ handed it to another) still ends with one video and one set of files: the
 * work happens in a scratch directory that replaces the video's directory in one rename, and the
 * row (unique per session) is only ever updated.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { channels, type Video, videos } from '../db/schema/index.js'
import type { Logger } from '../log.js'
import { emitWebhookEvent } from '../webhooks/emit.js'
import { probeDuration, remux, thumbnail } from './ffmpeg.js'
import { type MediaPaths, VOD_FILES, vodUrl } from './paths.js'
import { discardParts, sessionParts } from './recordings.js'

export type RemuxJob = { videoId: string; channel: string; startedAt: number; endedAt: number }

/** A job that retrying cannot fix (BullMQ's UnrecoverableError is thrown for it by the caller). */
export class NothingRecordedError extends Error {}

export async function processVideo(
  d: { db: Db; paths: MediaPaths; log: Logger },
  job: RemuxJob,
): Promise<'ready' | 'gone' | 'already'> {
  const [video] = await d.db.select().from(videos).where(eq(videos.id, job.videoId))
  if (!video) return 'gone' // deleted while queued
  const parts = await sessionParts(d.paths.recordings, job)
  if (video.status === 'ready') {
    // Done before, but the worker stopped before it told anyone or cleaned up.
    await announce(d.db, video, job.channel)
    await discardParts(parts)
    return 'already'
  }
  if (parts.length === 0) throw new NothingRecordedError('no recording found for this broadcast')

  const final = join(d.paths.videos, video.id)
  // Outside videos/ (which nginx serves): half-made files are never reachable.
  const scratch = join(d.paths.work, `remux-${video.id}-${randomBytes(4).toString('hex')}`)
  await mkdir(scratch, { recursive: true })
  try {
    await remux(parts, scratch)
    await rm(join(scratch, 'parts.txt'), { force: true })
    const durationS = await probeDuration(join(scratch, VOD_FILES.mp4))
    await thumbnail(join(scratch, VOD_FILES.mp4), join(scratch, VOD_FILES.thumb), Math.min(5, durationS / 2))
    const bytes = await dirBytes(scratch)
    await rm(final, { recursive: true, force: true })
    await rename(scratch, final)
    const [done] = await d.db
      .update(videos)
      .set({ status: 'ready', error: null, durationS, bytes })
      .where(eq(videos.id, video.id))
      .returning()
    if (!done) {
      // Deleted while we worked: leave nothing behind.
      await rm(final, { recursive: true, force: true })
      return 'gone'
    }
    await announce(d.db, done, job.channel)
    // The MP4 holds everything the parts did.
    await discardParts(parts)
    d.log.info({ videoId: video.id, durationS, parts: parts.length }, 'video ready')
    return 'ready'
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function dirBytes(dir: string): Promise<number> {
  const names = await readdir(dir)
  const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size))
  return sizes.reduce((a, b) => a + b, 0)
}

/** `video.ready` to the owner's webhooks; recorded once per video (event key), however often called. */
async function announce(db: Db, video: Video, channel: string): Promise<void> {
  const [ch] = await db
    .select({ ownerId: channels.ownerId })
    .from(channels)
    .where(eq(channels.id, video.channelId))
  if (!ch) return
  await emitWebhookEvent(db, {
    type: 'video.ready',
    at: video.updatedAt.getTime(),
    userId: ch.ownerId,
    key: `video.ready:${video.id}`,
    data: {
      id: video.id,
      channel,
      sessionId: video.sessionId,
      title: video.title,
      durationS: video.durationS ?? 0,
      playbackUrl: vodUrl(video.id, VOD_FILES.playlist),
      downloadUrl: vodUrl(video.id, VOD_FILES.mp4),
      thumbnailUrl: vodUrl(video.id, VOD_FILES.thumb),
    },
  })
}
