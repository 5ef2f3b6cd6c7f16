/**
 * @module videos/recorder — the `videos` consumer group of the lifecycle `events` stream: when a
 * broadcast ends (`stream.offline`, written once the reconnect window has passed, so a blip never
 * cuts a recording in two) its recording becomes a video — a `processing` row, unique per session,
 * and a remux job — or, for a channel that does not record, its parts are deleted. Idempotent: an
 * event handled twice finds the row and the job already there.
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { channels, videos } from '../db/schema/index.js'
import type { StreamEvent } from '../live/events.js'
import type { Logger } from '../log.js'
import type { VideoJobs } from './jobs.js'
import type { MediaPaths } from './paths.js'
import { discardParts, sessionParts } from './recordings.js'

export const VIDEOS_GROUP = 'videos'

export function createRecorder(d: {
  db: Db
  log: Logger
  paths: MediaPaths
  jobs: Pick<VideoJobs, 'enqueueRemux'>
}) {
  return async function handle(event: StreamEvent): Promise<void> {
    if (event.type !== 'stream.offline') return
    const session = { channel: event.channel, startedAt: event.startedAt, endedAt: event.endedAt }
    const [ch] = await d.db
      .select({ record: channels.record, title: channels.title })
      .from(channels)
      .where(eq(channels.id, event.channelId))
    if (!ch?.record) {
      // Everything is recorded (nginx cannot choose per stream): what nobody asked to keep goes.
      await discardParts(await sessionParts(d.paths.recordings, session))
      return
    }
    await d.db
      .insert(videos)
      .values({
        channelId: event.channelId,
        sessionId: event.sessionId,
        title:
          ch.title ||
          `Broadcast of ${new Date(event.startedAt).toISOString().slice(0, 16).replace('T', ' ')}`,
        recordedAt: new Date(event.startedAt),
      })
      .onConflictDoNothing({ target: videos.sessionId })
    const [video] = await d.db
      .select({ id: videos.id })
      .from(videos)
      .where(eq(videos.sessionId, event.sessionId))
    if (!video) return // deleted in between
    await d.jobs.enqueueRemux({ videoId: video.id, ...session })
    d.log.info({ videoId: video.id, sessionId: event.sessionId }, 'video: remux queued')
  }
}
