/** Tests for supervise.ts with real child processes: a node TCP server that a test SIGKILLs. */
import { createConnection } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, isAlive, spawnLogged, waitUntil } from './proc.js'
import { type SupervisedChild, type Supervisor, supervise } from './supervise.js'

/** A tiny server standing in for the app: answers every connection with its own pid. */
function startServerChild(port: number) {
  // A client that resets must not crash it (an unhandled socket error would).
  const code = `require('node:net').createServer((s) => s.on('error', () => {}).end(String(process.pid))).listen(${port}, '127.0.0.1')`
  return async (): Promise<SupervisedChild> => {
    const proc = spawnLogged(process.execPath, ['-e', code])
    try {
      // Ready when it is this child that answers (not some other process that took the port).
      await waitUntil(
        'child listening',
        async () => (await whoAnswers(port)) === proc.pid,
        10_000,
        proc.exited,
      )
    } catch (err) {
      await proc.stop('SIGKILL')
      throw err
    }
    return { pid: proc.pid, ended: proc.ended, stop: () => proc.stop('SIGTERM', 2000) }
  }
}

/** The pid of whoever answers on the port (null when nobody does). */
function whoAnswers(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let data = ''
    socket.on('data', (c) => {
      data += c.toString()
    })
    socket.on('end', () => resolve(/^\d+$/.test(data) ? Number(data) : null))
    socket.on('error', () => resolve(null))
  })
}

const supervisors: Supervisor<SupervisedChild>[] = []
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()))
})

async function track<C extends SupervisedChild>(s: Promise<Supervisor<C>>): Promise<Supervisor<C>> {
  const sup = await s
  supervisors.push(sup)
  return sup
}

describe('supervise', () => {
  it('restarts a SIGKILLed child on the same port, says so, and stops cleanly', async () => {
    const port = await freePort()
    const lines: string[] = []
    const sup = await track(
      supervise({
        name: 'app',
        start: startServerChild(port),
        log: (l) => lines.push(l),
        initialDelayMs: 100,
      }),
    )
    const first = sup.current.pid
    expect(await whoAnswers(port)).toBe(first)

    process.kill(first, 'SIGKILL')
    await waitUntil('restarted', async () => sup.restarts === 1, 10_000)
    const second = sup.current.pid
    expect(second).not.toBe(first)
    expect(await whoAnswers(port)).toBe(second)
    expect(sup.restarts).toBe(1)
    expect(lines[0]).toBe('app exited (signal SIGKILL); restarting in 0.1 s')
    expect(lines[1]).toBe(`app restarted (pid ${second})`)

    await sup.stop()
    expect(isAlive(second)).toBe(false)
    expect(await whoAnswers(port)).toBeNull()
  })

  it('doubles the delay after quick deaths up to the cap, and starts over after a healthy run', async () => {
    const port = await freePort()
    const lines: string[] = []
    let t = 0
    const sup = await track(
      supervise({
        name: 'redis',
        start: startServerChild(port),
        log: (l) => lines.push(l),
        initialDelayMs: 100,
        maxDelayMs: 400,
        resetAfterMs: 30_000,
        now: () => t,
      }),
    )
    const killAndAwaitRestart = async () => {
      const before = sup.restarts
      process.kill(sup.current.pid, 'SIGKILL')
      await waitUntil('restart', async () => sup.restarts > before, 10_000)
    }
    for (let i = 0; i < 4; i++) await killAndAwaitRestart()
    t += 30_000 // the fourth child stays up long enough to count as healthy
    await killAndAwaitRestart()
    const delays = lines.filter((l) => l.includes('restarting')).map((l) => l.split('restarting in ')[1])
    expect(delays).toEqual(['0.1 s', '0.2 s', '0.4 s', '0.4 s', '0.1 s'])
  })

  it('retries a child that fails to start, with growing delays', async () => {
    const port = await freePort()
    const lines: string[] = []
    const real = startServerChild(port)
    let failuresLeft = 0
    const sup = await track(
      supervise({
        name: 'postgres',
        start: async () => {
          if (failuresLeft-- > 0) throw new Error('not ready')
          return real()
        },
        log: (l) => lines.push(l),
        initialDelayMs: 50,
      }),
    )
    failuresLeft = 2
    process.kill(sup.current.pid, 'SIGKILL')
    await waitUntil('restart after two failed starts', async () => sup.restarts === 1, 10_000)
    expect(lines.slice(0, 3)).toEqual([
      'postgres exited (signal SIGKILL); restarting in 0.1 s',
      'postgres failed to start (not ready); retrying in 0.1 s',
      'postgres failed to start (not ready); retrying in 0.2 s',
    ])
    expect(await whoAnswers(port)).toBe(sup.current.pid)
  })

  it('does not resurrect the child when stopped while a restart is pending', async () => {
    const port = await freePort()
    let starts = 0
    const lines: string[] = []
    const real = startServerChild(port)
    const sup = await supervise({
      name: 'app',
      start: () => {
        starts++
        return real()
      },
      log: (l) => lines.push(l),
      initialDelayMs: 60_000, // the restart would come long after the test ends
    })
    process.kill(sup.current.pid, 'SIGKILL')
    await waitUntil('restart pending', async () => lines.some((l) => l.includes('restarting in')), 5000)
    await sup.stop() // must not wait out the 60 s backoff, nor start anything
    expect(starts).toBe(1)
    expect(await whoAnswers(port)).toBeNull()
  })

  it('stops a child whose start was in flight when stop() came', async () => {
    const port = await freePort()
    const real = startServerChild(port)
    let release = () => {}
    let gate: Promise<void> = Promise.resolve()
    let startedChild: SupervisedChild | undefined
    let starts = 0
    const sup = await supervise({
      name: 'app',
      start: async () => {
        starts++
        await gate
        startedChild = await real()
        return startedChild
      },
      log: () => {},
      initialDelayMs: 10,
    })
    const first = sup.current.pid
    gate = new Promise((r) => {
      release = r
    })
    process.kill(first, 'SIGKILL')
    await waitUntil('restart in flight', async () => starts === 2, 5000)
    const stopped = sup.stop()
    release() // the start completes after stop() was asked for
    await stopped
    expect(startedChild!.pid).not.toBe(first)
    expect(isAlive(startedChild!.pid)).toBe(false)
    expect(await whoAnswers(port)).toBeNull()
  })
})
