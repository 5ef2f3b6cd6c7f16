/** @module ephemeral — a throwaway, migrated Postgres and Redis on free ports (tests and benchmarks). */
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runMigrations } from '../../src/db/migrate.js'
import { postgresSystemUser, startPostgres } from './postgres.js'
import { freePort } from './proc.js'
import { startRedis } from './redis.js'

export type EphemeralServices = { databaseUrl: string; redisUrl: string; stop(): Promise<void> }

export async function startEphemeralServices(name = 'live'): Promise<EphemeralServices> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`))
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
  const stop = async () => {
    await Promise.all([pg, redis].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    if (pg.status === 'rejected') throw pg.reason
    if (redis.status === 'rejected') throw redis.reason
    await runMigrations(pg.value.url)
    return { databaseUrl: pg.value.url, redisUrl: redis.value.url, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
