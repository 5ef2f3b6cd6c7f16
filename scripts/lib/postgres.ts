/** @module postgres — a private Postgres server run as a foreground child: initdb once, start, stop by PID. */
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import {
  isAlive,
  isPortFree,
  type ProcHandle,
  readPidFile,
  spawnLogged,
  tailFile,
  waitUntil,
} from './proc.js'

export interface PostgresOptions {
  dataDir: string
  port: number
  logFile: string
  /** Created if missing; the returned url points at it. */
  database?: string
  /** Trades crash safety for speed: only for throwaway test clusters. */
  ephemeral?: boolean
}

export interface PostgresHandle {
  url: string
  pid: number
  exited: Promise<number | null>
  ended: ProcHandle['ended']
  stop(): Promise<void>
}

/** The newest installed major version's bin dir (Debian installs each major side by side). */
function findBinDir(): string {
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    : []
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error(`no Postgres server under ${root}/*/bin; run scripts/ensure-deps.sh`)
  return join(root, newest, 'bin')
}

/** Postgres refuses to run as root, so as root the server runs as the `postgres` system user. */
export function postgresSystemUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  const [, , uid, gid] = line?.split(':') ?? []
  if (uid === undefined || gid === undefined)
    throw new Error('running as root needs a `postgres` system user')
  return { uid: Number(uid), gid: Number(gid) }
}

function prepareDataDir(dataDir: string, user: { uid: number; gid: number } | undefined): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  if (!user) return
  chownSync(dataDir, user.uid, user.gid)
  chmodSync(dataDir, 0o700)
  // initdb's own error for an unreachable parent is vague; name the real cause.
  if (spawnSync('test', ['-w', dataDir], { uid: user.uid, gid: user.gid }).status !== 0) {
    throw new Error(
      `the postgres user cannot write ${dataDir}: every parent directory must be searchable (o+x)`,
    )
  }
}

/**
 * A postmaster.pid left by a killed run must not block the start. The pid may since have been
 * reused by an unrelated process, so "alive" is not enough: postgres chdirs into its data dir.
 */
function clearStalePidFile(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid')
  const pid = readPidFile(pidFile)
  if (pid === undefined) return
  if (isAlive(pid)) {
    let cwd: string | undefined
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`)
    } catch {}
    if (cwd === realpathSync(dataDir)) {
      throw new Error(
        `postgres (pid ${pid}) is already running on ${dataDir}; stop it with: kill -INT ${pid}`,
      )
    }
  }
  rmSync(pidFile, { force: true })
}

async function initdb(
  binDir: string,
  opts: PostgresOptions,
  user: ReturnType<typeof postgresSystemUser>,
): Promise<void> {
  const args = [
    '-D',
    opts.dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--encoding=UTF8',
    '--locale=C',
    '--no-instructions',
  ]
  if (opts.ephemeral) args.push('--no-sync')
  const proc = spawnLogged(join(binDir, 'initdb'), args, { logFile: opts.logFile, ...user })
  const code = await proc.exited
  if (code !== 0) throw new Error(`initdb failed (exit ${code}):\n${tailFile(opts.logFile)}`)
}

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } finally {
    await sql.end({ timeout: 0 })
  }
}

/** Creates the url's database unless it exists; safe to race with another caller. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!name || name === 'postgres') return
  target.pathname = '/postgres'
  const sql = postgres(target.toString(), { max: 1, onnotice: () => {} })
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`
    if (rows.length > 0) return
    await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err // 42P04: created meanwhile by someone else
    })
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export async function startPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  const binDir = findBinDir()
  const user = postgresSystemUser()
  mkdirSync(dirname(opts.logFile), { recursive: true })
  prepareDataDir(opts.dataDir, user)
  if (!existsSync(join(opts.dataDir, 'PG_VERSION'))) {
    if (readdirSync(opts.dataDir).length > 0)
      throw new Error(`${opts.dataDir} is neither empty nor a Postgres data dir`)
    await initdb(binDir, opts, user)
  }
  clearStalePidFile(opts.dataDir)
  if (!(await isPortFree(opts.port))) throw new Error(`port ${opts.port} on 127.0.0.1 is already in use`)

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No unix socket: clients use TCP, and deep temp paths would overflow the 107-byte socket path limit.
    unix_socket_directories: '',
    ...(opts.ephemeral && { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  }
  const args = ['-D', opts.dataDir, '-p', String(opts.port)]
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`)
  const proc = spawnLogged(join(binDir, 'postgres'), args, { logFile: opts.logFile, ...user })
  // SIGTERM is postgres's "smart" shutdown, which waits for every client to leave; SIGINT is "fast".
  const stop = () => proc.stop('SIGINT', 15_000)

  const base = `postgres://postgres@127.0.0.1:${opts.port}`
  const url = `${base}/${encodeURIComponent(opts.database ?? 'postgres')}`
  try {
    await waitUntil('postgres', () => canConnect(`${base}/postgres`), 30_000, proc.exited)
    await ensureDatabase(url)
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n--- ${opts.logFile}:\n${tailFile(opts.logFile)}`, {
      cause: err,
    })
  }
  return { url, pid: proc.pid, exited: proc.exited, ended: proc.ended, stop }
}
