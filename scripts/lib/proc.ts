/** @module proc — ports, readiness waits and child processes that are started and stopped by PID only. */
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'

export interface SpawnLoggedOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Appends stdout and stderr here; omit to share this process's stdout/stderr. */
  logFile?: string
  uid?: number
  gid?: number
}

export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ProcHandle {
  pid: number
  /** Exit code, or null when a signal ended the process. Never rejects. */
  exited: Promise<number | null>
  /** The same exit with the signal that caused it (for "exited (signal SIGKILL)" in logs). */
  ended: Promise<ExitStatus>
  /** Sends `signal`, then SIGKILLs the process group after `graceMs`. Safe to call when already gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A port the OS just handed out on 127.0.0.1; free again when this resolves (racy by nature, so bind soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** True when nothing listens on host:port, checked by binding it briefly. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs. */
export async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await tryConnect(host, port))) {
    if (Date.now() > deadline)
      throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`)
    await sleep(50)
  }
}

/** Retries `probe` until it returns true; `bail` is raced so a dead child fails the wait at once. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  bail?: Promise<unknown>,
): Promise<void> {
  let bailed: Error | undefined
  bail?.then(() => {
    bailed = new Error(`${what}: process exited before it was ready`)
  })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (bailed) throw bailed
    if (await probe().catch(() => false)) return
    if (bailed) throw bailed
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`)
    await sleep(50)
  }
}

/** Alive means signalable and not a zombie (a zombie only waits for its parent to reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return !existsSync('/proc/self') // no procfs: trust kill(0); a vanished /proc entry means it is gone
  }
}

/** True while any member of process group `pgid` exists (children that outlived their leader included). */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Polls until `pid` is gone; returns false if it is still alive after timeoutMs. */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

// setpriv makes the kernel send SIGTERM to the child if this process dies without cleaning up
// (SIGKILL, crash), so a killed `npm run dev` or vitest never leaves postgres holding its data dir.
let setpriv: string | null | undefined
function findSetpriv(): string | null {
  setpriv ??=
    ['/usr/bin/setpriv', '/bin/setpriv'].find(
      (p) => spawnSync(p, ['--pdeathsig', 'TERM', 'true']).status === 0,
    ) ?? null
  return setpriv
}

/**
 * Spawns `cmd` in its own process group, so a terminal Ctrl-C reaches only the orchestrator, which
 * then stops children in a chosen order; the group also lets stop() SIGKILL whatever the child forked.
 */
export function spawnLogged(cmd: string, args: string[], opts: SpawnLoggedOptions = {}): ProcHandle {
  const fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined
  const wrapper = findSetpriv()
  const [file, argv] = wrapper ? [wrapper, ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args]
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
    detached: true,
    uid: opts.uid,
    gid: opts.gid,
  })
  if (fd !== undefined) closeSync(fd) // the child holds its own copy
  const ended = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
  const exited = ended.then((e) => e.code)
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`)
  const pid = child.pid
  let gone = false
  void exited.then(() => {
    gone = true
  })

  async function stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!gone) signal(pid, sig)
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
    // Whatever the child forked (nginx workers, postgres backends) must not outlive it.
    if (isGroupAlive(pid)) signal(-pid, 'SIGKILL')
  }

  return { pid, exited, ended, stop }
}

/** Reads the first line of a PID file as a pid; undefined when missing or malformed. */
export function readPidFile(path: string): number | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  const pid = Number.parseInt(text.split('\n', 1)[0] ?? '', 10)
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

/**
 * Stops the process named by a PID file (for processes this code started in an earlier run) and
 * removes the file. Returns whether a live process was signalled.
 */
export async function stopPidFile(
  path: string,
  sig: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<boolean> {
  const pid = readPidFile(path)
  const alive = pid !== undefined && pid !== process.pid && isAlive(pid)
  if (alive) {
    signal(pid, sig)
    if (!(await waitForPidExit(pid, graceMs))) {
      signal(pid, 'SIGKILL')
      await waitForPidExit(pid, 2000)
    }
  }
  rmSync(path, { force: true })
  return alive
}

/** The last `lines` lines of a log file, for error messages; empty when unreadable. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}
