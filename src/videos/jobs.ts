/**
 * @module videos/jobs — the background work of videos on BullMQ queues in Redis: jobs survive app
 * restarts, retry with backoff, and a job whose worker died (no lock renewal for
 * VIDEO_JOB_LOCK_S) is handed to another instance. Every instance runs the workers; BullMQ gives
 * each job to one of them.
 *
 * - `videos`: `remux` (one per video, job id = video id, so enqueuing twice is one job) and the
 *   repeatable `retention` sweep. Concurrency 1: a remux is disk- and CPU-bound.
 * - `thumbnails`: the repeatable live-thumbnail refresh, on its own queue so it never waits
 *   behind a long remux.
 *
 * The queues share one hash-tagged prefix (redis/keys.ts `bull`), so each queue's keys stay in
 * one cluster slot as BullMQ's Lua scripts need.
 */
import { mkdir } from 'node:fs/promises'
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import { videos } from '../db/schema/index.js'
import { errText, type Logger } from '../log.js'
import { duplicate, type Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import type { MediaPaths } from './paths.js'
import { NothingRecordedError, processVideo, type RemuxJob } from './process.js'

export const VIDEOS_QUEUE = 'videos'
export const THUMBNAILS_QUEUE = 'thumbnails'
const RETENTION_EVERY_MS = 3600_000
/** How long stop() lets a running job finish before it closes the worker anyway. */
const CLOSE_WAIT_MS = 5000

/** 'done' if `p` settles within `ms`, else 'late' (`p` goes on unobserved). */
function within(p: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  return Promise.race([
    p.then(
      () => 'done' as const,
      () => 'done' as const,
    ),
    new Promise<'late'>((r) => setTimeout(() => r('late'), ms).unref()),
  ])
}

export type VideoJobs = {
  /** Queues the remux of a video; a second call for the same video is a no-op. */
  enqueueRemux(job: RemuxJob): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

export function createVideoJobs(d: {
  redis: Redis
  keys: Keys
  db: Db
  log: Logger
  config: Pick<Config, 'VIDEO_JOB_LOCK_S' | 'VIDEO_JOB_ATTEMPTS' | 'THUMBNAIL_INTERVAL_S'>
  paths: MediaPaths
  /** The periodic jobs' bodies (retention.ts, thumbnails.ts). */
  sweepRetention: () => Promise<unknown>
  refreshThumbnails: () => Promise<unknown>
}): VideoJobs {
  // BullMQ blocks on its connection (BZPOPMIN) and must never give up a command: its own
  // connection, no retry cap, no timeout (BullMQ docs, "Going to production").
  const connection = duplicate(d.redis, { maxRetriesPerRequest: null, commandTimeout: undefined })
  connection.on('error', () => {}) // reconnects by itself; failures surface as failed jobs
  const prefix = d.keys.bull()
  const lockDuration = d.config.VIDEO_JOB_LOCK_S * 1000
  const videosQueue = new Queue(VIDEOS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: d.config.VIDEO_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 30 * 86_400 },
    },
  })
  const thumbsQueue = new Queue(THUMBNAILS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  })
  // Connection trouble surfaces as failed or late jobs; without listeners it would print raw.
  for (const q of [videosQueue, thumbsQueue])
    q.on('error', (err) => d.log.warn({ err: errText(err) }, 'video jobs: queue error'))
  let workers: Worker[] = []

  const markFailed = async (videoId: string, err: Error, final: boolean) => {
    await d.db
      .update(videos)
      .set(final ? { status: 'failed', error: errText(err) } : { error: errText(err) })
      .where(eq(videos.id, videoId))
  }

  return {
    async enqueueRemux(job) {
      await videosQueue.add('remux', job, { jobId: `remux-${job.videoId}` })
    },
    async start() {
      // Made by the app, so they belong to it: nginx (which may run as root) only adds files.
      await Promise.all(Object.values(d.paths).map((dir) => mkdir(dir, { recursive: true })))
      const remuxWorker = new Worker(
        VIDEOS_QUEUE,
        async (job: Job) => {
          if (job.name === 'retention') return d.sweepRetention()
          if (job.name !== 'remux') return
          try {
            return await processVideo(d, job.data as RemuxJob)
          } catch (err) {
            // Nothing to remux will not appear on a retry.
            if (err instanceof NothingRecordedError) throw new UnrecoverableError(err.message)
            throw err
          }
        },
        {
          connection,
          prefix,
          concurrency: 1,
          lockDuration,
          stalledInterval: lockDuration,
          maxStalledCount: 3,
        },
      )
      remuxWorker.on('failed', (job, err) => {
        if (job?.name !== 'remux') return
        const { videoId } = job.data as RemuxJob
        const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1)
        d.log.warn({ videoId, attempt: job.attemptsMade, final, err: errText(err) }, 'video: remux failed')
        markFailed(videoId, err, final).catch((e) =>
          d.log.error({ videoId, err: errText(e) }, 'video: could not record the failure'),
        )
      })
      const thumbsWorker = new Worker(THUMBNAILS_QUEUE, async () => d.refreshThumbnails(), {
        connection,
        prefix,
        concurrency: 1,
        lockDuration: 60_000,
      })
      for (const w of [remuxWorker, thumbsWorker])
        w.on('error', (err) => d.log.warn({ err: errText(err) }, 'video jobs: worker error'))
      workers = [remuxWorker, thumbsWorker]
      // Schedulers are upserted by every instance: one schedule each, whoever wrote it last. Not
      // awaited: on a Redis that is down the commands wait (no retry cap) until it is back, and
      // the app must start meanwhile, like every other consumer of the durable path.
      const schedule = async () => {
        await videosQueue.upsertJobScheduler(
          'retention',
          { every: RETENTION_EVERY_MS },
          { name: 'retention' },
        )
        if (d.config.THUMBNAIL_INTERVAL_S > 0)
          await thumbsQueue.upsertJobScheduler(
            'live-thumbnails',
            { every: d.config.THUMBNAIL_INTERVAL_S * 1000 },
            { name: 'refresh' },
          )
        else await thumbsQueue.removeJobScheduler('live-thumbnails')
      }
      schedule().catch((err) => d.log.warn({ err: errText(err) }, 'video jobs: scheduling failed'))
    },
    async stop() {
      // close() waits for the running job. A long remux is not waited for beyond a few seconds:
      // forced closed, its lock expires and another instance (or this one, restarted) redoes it.
      // Every step is bounded: with Redis down, BullMQ's close (even forced) can wait forever,
      // and a shutdown must finish; what is left is disconnected outright.
      // Without Redis there is nothing to finish gracefully: straight to the forced close.
      const wait = connection.status === 'ready' ? CLOSE_WAIT_MS : 0
      await Promise.allSettled(
        workers.map(async (w) => {
          if (wait > 0 && (await within(w.close(), wait)) === 'done') return
          if ((await within(w.close(true), 1000)) === 'done') return
          await within(w.disconnect(), 1000)
        }),
      )
      const queues = Promise.allSettled([videosQueue.close(), thumbsQueue.close()])
      await within(queues, wait || 1000)
      connection.disconnect()
    },
  }
}
