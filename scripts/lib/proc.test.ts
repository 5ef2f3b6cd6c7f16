/** Unit tests for proc.ts: ports, waits and PID-based process control, using only local processes. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  freePort,
  isAlive,
  isPortFree,
  readPidFile,
  spawnLogged,
  stopPidFile,
  waitForPidExit,
  waitForTcp,
} from './proc.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proc-test-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const listen = (port: number) =>
  new Promise<Server>((resolve) => {
    const server = createServer((s) => s.destroy())
    server.listen(port, '127.0.0.1', () => resolve(server))
  })

/** A pid that certainly belongs to no process any more. */
async function deadPid(): Promise<number> {
  const proc = spawnLogged('true', [])
  await proc.exited
  return proc.pid
}

describe('ports', () => {
  it('freePort hands out a bindable port and isPortFree sees it taken', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    expect(await isPortFree(port)).toBe(true)
    const server = await listen(port)
    try {
      expect(await isPortFree(port)).toBe(false)
    } finally {
      server.close()
    }
  })

  it('waitForTcp resolves once a listener appears', async () => {
    const port = await freePort()
    let server: Server | undefined
    setTimeout(async () => {
      server = await listen(port)
    }, 200)
    await waitForTcp('127.0.0.1', port, 3000)
    server?.close()
  })

  it('waitForTcp rejects after its timeout when nothing listens', async () => {
    const port = await freePort()
    const started = Date.now()
    await expect(waitForTcp('127.0.0.1', port, 300)).rejects.toThrow(/did not accept connections/)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})

describe('spawnLogged', () => {
  it('appends output to the log file and reports the exit code', async () => {
    const logFile = join(dir, 'out.log')
    writeFileSync(logFile, 'earlier run\n')
    const proc = spawnLogged('sh', ['-c', 'echo out; echo err >&2; exit 3'], { logFile })
    expect(await proc.exited).toBe(3)
    expect(readFileSync(logFile, 'utf8')).toBe('earlier run\nout\nerr\n')
  })

  it('passes cwd and env', async () => {
    const logFile = join(dir, 'out.log')
    const proc = spawnLogged('sh', ['-c', 'echo "$FOO $(pwd)"'], {
      cwd: dir,
      env: { FOO: 'bar', PATH: process.env.PATH },
      logFile,
    })
    await proc.exited
    expect(readFileSync(logFile, 'utf8').trim()).toBe(`bar ${dir}`)
  })

  it('stop() ends a process with the given signal', async () => {
    const proc = spawnLogged('sleep', ['30'])
    expect(isAlive(proc.pid)).toBe(true)
    await proc.stop('SIGINT', 5000)
    expect(await proc.exited).toBeNull()
    expect(isAlive(proc.pid)).toBe(false)
  })

  it('stop() escalates to SIGKILL and takes the whole process group down', async () => {
    // The shell ignores SIGTERM and has a grandchild: both must be gone after stop().
    const pidFile = join(dir, 'grandchild.pid')
    const proc = spawnLogged('sh', ['-c', `trap "" TERM; sleep 30 & echo $! > ${pidFile}; wait`])
    await expect.poll(() => readPidFile(pidFile)).toBeDefined()
    const grandchild = readPidFile(pidFile)!
    const started = Date.now()
    await proc.stop('SIGTERM', 300)
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(isAlive(proc.pid)).toBe(false)
    expect(await waitForPidExit(grandchild, 1000)).toBe(true)
  })

  it('stop() does not throw when the process is already gone, and can be called twice', async () => {
    const proc = spawnLogged('true', [])
    await proc.exited
    await proc.stop()
    await proc.stop('SIGKILL', 0)
  })
})

describe('pid files', () => {
  it('readPidFile takes the first line and rejects garbage', () => {
    const file = join(dir, 'x.pid')
    writeFileSync(file, '1234\n/var/lib/data\n')
    expect(readPidFile(file)).toBe(1234)
    writeFileSync(file, 'nope\n')
    expect(readPidFile(file)).toBeUndefined()
    expect(readPidFile(join(dir, 'missing.pid'))).toBeUndefined()
  })

  it('stopPidFile stops a live process by PID and removes the file', async () => {
    const proc = spawnLogged('sleep', ['30'])
    const file = join(dir, 'sleep.pid')
    writeFileSync(file, `${proc.pid}\n`)
    expect(await stopPidFile(file)).toBe(true)
    expect(await waitForPidExit(proc.pid, 2000)).toBe(true)
    expect(() => readFileSync(file)).toThrow()
  })

  it('stopPidFile only removes a file whose process is dead or missing', async () => {
    const file = join(dir, 'stale.pid')
    writeFileSync(file, `${await deadPid()}\n`)
    expect(await stopPidFile(file)).toBe(false)
    expect(() => readFileSync(file)).toThrow()
    expect(await stopPidFile(join(dir, 'missing.pid'))).toBe(false)
  })
})
