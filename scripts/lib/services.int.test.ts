/** Integration tests: real Postgres and Redis servers started on free ports, used, stopped by PID. */
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresSystemUser, startPostgres } from './postgres.js'
import { freePort, isAlive, isGroupAlive, sleep, spawnLogged } from './proc.js'
import { redisPing, startRedis } from './redis.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'services-int-'))
  // As root, postgres runs as the `postgres` user and must be able to enter the temp dir.
  const user = postgresSystemUser()
  if (user) chownSync(dir, user.uid, user.gid)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return await sql.unsafe(text)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

describe('startPostgres', () => {
  it('initdbs, serves the named database, and stops by PID', { timeout: 60_000 }, async () => {
    const dataDir = join(dir, 'pg')
    const pg = await startPostgres({
      dataDir,
      port: await freePort(),
      logFile: join(dir, 'pg.log'),
      database: 'svc_test',
      ephemeral: true,
    })
    try {
      expect(pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/svc_test$/)
      const [row] = await query(
        pg.url,
        'select current_database() as db, current_setting($$fsync$$) as fsync',
      )
      expect(row).toEqual({ db: 'svc_test', fsync: 'off' })
    } finally {
      await pg.stop()
    }
    expect(isAlive(pg.pid)).toBe(false)
    expect(isGroupAlive(pg.pid)).toBe(false)
  })

  it('reuses the data dir after a hard kill left a stale postmaster.pid', { timeout: 60_000 }, async () => {
    const dataDir = join(dir, 'pg')
    const logFile = join(dir, 'pg.log')
    // Durable settings: with ephemeral's synchronous_commit=off the kill may (rightly) lose the insert.
    const first = await startPostgres({ dataDir, port: await freePort(), logFile, database: 'svc_test' })
    await query(first.url, 'create table survivor (id int); insert into survivor values (42)')
    process.kill(first.pid, 'SIGKILL')
    await first.exited
    // Backends notice the postmaster's death on their own; wait so the old shared memory is released.
    for (let i = 0; i < 100 && isGroupAlive(first.pid); i++) await sleep(50)
    expect(statSync(join(dataDir, 'postmaster.pid')).isFile()).toBe(true)

    const second = await startPostgres({ dataDir, port: await freePort(), logFile, database: 'svc_test' })
    try {
      expect(await query(second.url, 'select id from survivor')).toEqual([{ id: 42 }])
    } finally {
      await second.stop()
    }
    expect(isAlive(second.pid)).toBe(false)
  })

  it('ignores a postmaster.pid whose pid now belongs to an unrelated process', {
    timeout: 60_000,
  }, async () => {
    const dataDir = join(dir, 'pg')
    // Same user as the server: postgres itself ignores a pid it may not signal, but not this one.
    const unrelated = spawnLogged('sleep', ['30'], { ...postgresSystemUser() })
    try {
      writeFileSync(join(dataDir, 'postmaster.pid'), `${unrelated.pid}\n${dataDir}\n`)
      const pg = await startPostgres({
        dataDir,
        port: await freePort(),
        logFile: join(dir, 'pg.log'),
        ephemeral: true,
      })
      await pg.stop()
      expect(isAlive(unrelated.pid)).toBe(true)
    } finally {
      await unrelated.stop()
    }
  })

  it('refuses a data dir that a running server still owns', { timeout: 60_000 }, async () => {
    const dataDir = join(dir, 'pg')
    const pg = await startPostgres({
      dataDir,
      port: await freePort(),
      logFile: join(dir, 'pg.log'),
      ephemeral: true,
    })
    try {
      await expect(
        startPostgres({ dataDir, port: await freePort(), logFile: join(dir, 'pg.log') }),
      ).rejects.toThrow(new RegExp(`pid ${pg.pid}\\) is already running`))
      expect(isAlive(pg.pid)).toBe(true)
    } finally {
      await pg.stop()
    }
  })

  it('refuses a port another server already listens on', { timeout: 60_000 }, async () => {
    const redis = await startRedis({
      dir: join(dir, 'redis-squatter'),
      port: await freePort(),
      logFile: join(dir, 'squat.log'),
      persist: false,
    })
    try {
      const port = Number(new URL(redis.url).port)
      await expect(
        startPostgres({ dataDir: join(dir, 'pg'), port, logFile: join(dir, 'pg.log') }),
      ).rejects.toThrow(/in use/)
    } finally {
      await redis.stop()
    }
  })
})

describe('startRedis', () => {
  it('answers PING on 127.0.0.1 and stops by PID', { timeout: 30_000 }, async () => {
    const port = await freePort()
    const redis = await startRedis({
      dir: join(dir, 'redis'),
      port,
      logFile: join(dir, 'redis.log'),
      persist: false,
    })
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${port}`)
      expect(await redisPing('127.0.0.1', port)).toBe(true)
    } finally {
      await redis.stop()
    }
    expect(isAlive(redis.pid)).toBe(false)
    expect(await redisPing('127.0.0.1', port)).toBe(false)
  })

  it('keeps data across restarts only when persisting', { timeout: 30_000 }, async () => {
    const roundTrip = async (persist: boolean) => {
      const opts = {
        dir: join(dir, `redis-${persist}`),
        port: await freePort(),
        logFile: join(dir, 'redis.log'),
        persist,
      }
      const first = await startRedis(opts)
      const a = new Redis(first.url)
      await a.set('k', 'v')
      await a.quit()
      await first.stop()
      const second = await startRedis({ ...opts, port: await freePort() })
      const b = new Redis(second.url)
      try {
        return await b.get('k')
      } finally {
        b.disconnect()
        await second.stop()
      }
    }
    expect(await roundTrip(true)).toBe('v')
    expect(await roundTrip(false)).toBeNull()
  })
})
