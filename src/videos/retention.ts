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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

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
  // Leftovers no row or job will ever claim, once they are surely not in use: scratch of a remux
  // whose process died, parts of a broadcast whose video failed or whose event never came, video
  // directories of deleted channels (the rows went with the channel).
  const known = new Set(rows.map((v) => v.id))
  const stale = async (dir: string, isOrphan: (name: string) => boolean, olderThanMs: number) => {
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (!isOrphan(n)) continue
      const st = await stat(join(dir, n)).catch(() => null)
      if (st && d.now() - st.mtimeMs > olderThanMs) await rm(join(dir, n), { recursive: true, force: true })
    }
  }
  await stale(d.paths.work, () => true, DAY_MS)
  // A part is written until its broadcast ends (48 h at most on any plan) and claimed minutes later.
  await stale(d.paths.recordings, (n) => n.endsWith('.flv'), 3 * DAY_MS)
  await stale(d.paths.videos, (n) => UUID.test(n) && !known.has(n), DAY_MS)
  return { deleted: expired.length }
}
