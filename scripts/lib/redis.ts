/** @module redis — a private redis-server run as a foreground child on 127.0.0.1, stopped by PID. */
import { mkdirSync } from 'node:fs'
import { createConnection } from 'node:net'
import { dirname } from 'node:path'
import { isPortFree, type ProcHandle, spawnLogged, tailFile, waitUntil } from './proc.js'

export interface RedisOptions {
  dir: string
  port: number
  logFile: string
  /** true (dev): AOF + RDB snapshots in `dir`; false (tests): nothing is ever written to disk. */
  persist: boolean
  /** With persist: `always` makes every acknowledged write survive a SIGKILL (fault tests); default everysec. */
  appendfsync?: 'always' | 'everysec'
  /** More redis-server options (e.g. `--cluster-enabled yes`). */
  extraArgs?: string[]
}

export interface RedisHandle {
  url: string
  pid: number
  exited: Promise<number | null>
  ended: ProcHandle['ended']
  stop(): Promise<void>
}

/** Sends an inline PING; true on +PONG (a server still loading its AOF answers -LOADING instead). */
export function redisPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export async function startRedis(opts: RedisOptions): Promise<RedisHandle> {
  mkdirSync(opts.dir, { recursive: true })
  mkdirSync(dirname(opts.logFile), { recursive: true })
  if (!(await isPortFree(opts.port))) throw new Error(`port ${opts.port} on 127.0.0.1 is already in use`)

  const args = [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--dir',
    opts.dir,
    ...(opts.persist
      ? [
          '--appendonly',
          'yes',
          '--appendfsync',
          opts.appendfsync ?? 'everysec',
          '--save',
          '3600 1 300 100 60 10000',
        ]
      : ['--appendonly', 'no', '--save', '']),
    ...(opts.extraArgs ?? []),
  ]
  const proc = spawnLogged('redis-server', args, { logFile: opts.logFile })
  // SIGTERM makes redis flush the AOF / write a final snapshot before exiting.
  const stop = () => proc.stop('SIGTERM', 10_000)
  try {
    await waitUntil('redis', () => redisPing('127.0.0.1', opts.port), 15_000, proc.exited)
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n--- ${opts.logFile}:\n${tailFile(opts.logFile)}`, {
      cause: err,
    })
  }
  return {
    url: `redis://127.0.0.1:${opts.port}`,
    pid: proc.pid,
    exited: proc.exited,
    ended: proc.ended,
    stop,
  }
}
