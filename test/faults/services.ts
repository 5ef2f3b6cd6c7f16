/**
 * @module test/faults/services — a private Postgres and Redis per fault file, which the cases
 * kill, freeze and lock out (the global-setup ones are shared by every other test and stay untouched).
 */
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { type PostgresHandle, postgresSystemUser, startPostgres } from '../../scripts/lib/postgres.js'
import { freePort, isAlive } from '../../scripts/lib/proc.js'
import { type RedisHandle, type RedisOptions, startRedis } from '../../scripts/lib/redis.js'
import { runMigrations } from '../../src/db/migrate.js'

export type FaultRedis = {
  url: string
  readonly pid: number
  /** SIGKILL: nothing is flushed beyond what appendfsync=always already wrote. */
  kill(): Promise<void>
  /** The same port and the same AOF, as a supervisor or systemd would. */
  restart(): Promise<void>
  /** SIGSTOP: connections stay open, nothing answers (a stuck host, a long fork, a GC-like pause). */
  freeze(): void
  thaw(): void
  stop(): Promise<void>
}

export type FaultPostgres = {
  url: string
  /** ALLOW_CONNECTIONS false and every backend of the app's database terminated. */
  refuse(): Promise<void>
  allow(): Promise<void>
  stop(): Promise<void>
}

async function startFaultRedis(dir: string): Promise<FaultRedis> {
  const opts: RedisOptions = {
    dir: join(dir, 'redis'),
    port: await freePort(),
    logFile: join(dir, 'redis.log'),
    persist: true,
    // Every acknowledged write is on disk before the reply: a SIGKILL loses nothing acknowledged.
    appendfsync: 'always',
  }
  let handle: RedisHandle = await startRedis(opts)
  let frozen = false
  const thaw = () => {
    if (frozen && isAlive(handle.pid)) process.kill(handle.pid, 'SIGCONT')
    frozen = false
  }
  return {
    url: handle.url,
    get pid() {
      return handle.pid
    },
    async kill() {
      thaw()
      process.kill(handle.pid, 'SIGKILL')
      await handle.ended
      await handle.stop()
    },
    async restart() {
      handle = await startRedis(opts)
    },
    freeze() {
      process.kill(handle.pid, 'SIGSTOP')
      frozen = true
    },
    thaw,
    async stop() {
      thaw()
      await handle.stop()
    },
  }
}

async function startFaultPostgres(dir: string): Promise<{ pg: PostgresHandle; control: FaultPostgres }> {
  const pg = await startPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    logFile: join(dir, 'postgres.log'),
    database: 'live_fault',
    ephemeral: true,
  })
  await runMigrations(pg.url)
  const admin = new URL(pg.url)
  const database = decodeURIComponent(admin.pathname.slice(1))
  admin.pathname = '/postgres' // the maintenance DB stays reachable while the app's is locked
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} })
  const ident = `"${database.replaceAll('"', '""')}"`
  const control: FaultPostgres = {
    url: pg.url,
    async refuse() {
      await sql.unsafe(`alter database ${ident} with allow_connections false`)
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                where datname = ${database} and pid <> pg_backend_pid()`
    },
    async allow() {
      await sql.unsafe(`alter database ${ident} with allow_connections true`)
    },
    async stop() {
      await sql.end({ timeout: 1 })
      await pg.stop()
    },
  }
  return { pg, control }
}

export type FaultServices = { redis: FaultRedis; pg: FaultPostgres; stop(): Promise<void> }

export async function startFaultServices(): Promise<FaultServices> {
  const dir = mkdtempSync(join(tmpdir(), 'live-fault-'))
  // As root the server runs as `postgres`, which must be able to enter the 0700 temp dir.
  const user = postgresSystemUser()
  if (user) chownSync(dir, user.uid, user.gid)
  const [redis, pg] = await Promise.allSettled([startFaultRedis(dir), startFaultPostgres(dir)])
  const stop = async () => {
    await Promise.allSettled([
      redis.status === 'fulfilled' ? redis.value.stop() : undefined,
      pg.status === 'fulfilled' ? pg.value.control.stop() : undefined,
    ])
    rmSync(dir, { recursive: true, force: true })
  }
  if (redis.status === 'rejected' || pg.status === 'rejected') {
    await stop()
    throw redis.status === 'rejected' ? redis.reason : (pg as PromiseRejectedResult).reason
  }
  return { redis: redis.value, pg: pg.value.control, stop }
}
