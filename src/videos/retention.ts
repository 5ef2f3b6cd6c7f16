/**
 * @module videos/retention — the storage limits of each plan (PLAN_LIMITS `retentionDays`,
 * `recordingHours`): videos older than the retention, then the oldest beyond the hours a channel
 * may keep, are deleted with their files. Run by the repeatable `retention` job (jobs.ts); also
 * sweeps scratch directories a crashed remux left behind.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { desc, eq } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import { channels, users, videos } from '../db/schema/index.js'
import type { Logger } from '../log.js'
import type { MediaPaths } from './paths.js'
import { deleteVideoFiles } from './service.js'

const DAY_MS = 86_400_000

export async function sweepRetention(d: {
  db: Db
  log: Logger
  paths: MediaPaths
  config: Pick<Config, 'PLAN_LIMITS'>
  now: () => number
}): Promise<{ deleted: number }> {
  const rows = await d.db
    .select({
      id: videos.id,
      channelId: videos.channelId,
      recordedAt: videos.recordedAt,
      durationS: videos.durationS,
      plan: users.plan,
    })
    .from(videos)
    .innerJoin(channels, eq(channels.id, videos.channelId))
    .innerJoin(users, eq(users.id, channels.ownerId))
    .orderBy(desc(videos.recordedAt))
  const expired: string[] = []
  const keptS = new Map<string, number>()
  for (const v of rows) {
    const limits = d.config.PLAN_LIMITS[v.plan]
    const tooOld =
      limits.retentionDays > 0 && d.now() - v.recordedAt.getTime() > limits.retentionDays * DAY_MS
    // Newest first: a channel keeps its latest broadcasts up to its hours.
    const total = (keptS.get(v.channelId) ?? 0) + (v.durationS ?? 0)
    if (tooOld || total > limits.recordingHours * 3600) expired.push(v.id)
    else keptS.set(v.channelId, total)
  }
  for (const id of expired) {
    await d.db.delete(videos).where(eq(videos.id, id))
    await deleteVideoFiles(d.paths, id)
  }
  if (expired.length) d.log.info({ deleted: expired.length }, 'videos: retention deleted expired videos')
  // Scratch left by a remux whose process died (a finished one removes its own).
  const scratch = await readdir(d.paths.work).catch(() => [] as string[])
  for (const n of scratch) {
    const st = await stat(join(d.paths.work, n)).catch(() => null)
    if (st && d.now() - st.mtimeMs > DAY_MS) await rm(join(d.paths.work, n), { recursive: true, force: true })
  }
  return { deleted: expired.length }
}
