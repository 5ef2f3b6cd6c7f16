/** @module global-setup — vitest globalSetup: a throwaway Postgres and Redis for the run, migrated once. */
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { postgresSystemUser, startPostgres } from '../scripts/lib/postgres.js'
import { freePort } from '../scripts/lib/proc.js'
import { startRedis } from '../scripts/lib/redis.js'
import { runMigrations } from '../src/db/migrate.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'live-test-'))
  // As root the server runs as `postgres`, which must be able to enter the 0700 temp dir.
  const user = postgresSystemUser()
  if (user) chownSync(dir, user.uid, user.gid)

  const [pg, redis] = await Promise.allSettled([
    freePort().then((port) =>
      startPostgres({
        dataDir: join(dir, 'pg'),
        port,
        logFile: join(dir, 'postgres.log'),
        database: 'live_test',
        ephemeral: true,
      }),
    ),
    freePort().then((port) =>
      startRedis({ dir: join(dir, 'redis'), port, logFile: join(dir, 'redis.log'), persist: false }),
    ),
  ])
  const teardown = async () => {
    await Promise.all([pg, redis].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    if (pg.status === 'rejected') throw pg.reason
    if (redis.status === 'rejected') throw redis.reason
    await runMigrations(pg.value.url)
    project.provide('databaseUrl', pg.value.url)
    project.provide('redisUrl', redis.value.url)
  } catch (err) {
    await teardown()
    throw err
  }
  return teardown
}
