/**
 * @module supervise — keeps one child process running: when it dies it is restarted with backoff
 * (and said in the log) until stop(). `npm run dev` supervises each service on its own, so the
 * app's death leaves nginx, Postgres and Redis (and the streams nginx carries) untouched.
 */
import type { ExitStatus } from './proc.js'

export interface SupervisedChild {
  pid: number
  ended: Promise<ExitStatus>
  /** Stops the child; after an unexpected exit it still reaps what the child left behind (its group). */
  stop(): Promise<void>
}

export interface SuperviseOptions<C extends SupervisedChild> {
  name: string
  /**
   * Starts the child and resolves once it is ready; rejects (having stopped what it started) if it
   * is not. `signal` aborts when the supervisor is stopped meanwhile, so a slow start is cut short.
   */
  start(signal: AbortSignal): Promise<C>
  log(line: string): void
  /** First restart delay, doubled after each quick death up to maxDelayMs. Default 500 ms. */
  initialDelayMs?: number
  /** Default 10 s. */
  maxDelayMs?: number
  /** A child that stayed up this long is healthy: its next death restarts after initialDelayMs. Default 30 s. */
  resetAfterMs?: number
  /** The clock uptime is measured with (tests pass their own). */
  now?: () => number
  /** Called with every replacement child once it is ready. */
  onRestart?(child: C): void
}

export interface Supervisor<C extends SupervisedChild> {
  /** The running child (or the last one, while a restart is pending). */
  readonly current: C
  readonly restarts: number
  /** Stops supervising, cancels a pending restart, and stops the child. Idempotent. */
  stop(): Promise<void>
}

export const describeExit = (e: ExitStatus) =>
  e.signal ? `signal ${e.signal}` : e.code === null ? 'unknown cause' : `code ${e.code}`

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** Starts the child (a failing first start rejects: the caller decides) and watches it. */
export async function supervise<C extends SupervisedChild>(
  opts: SuperviseOptions<C>,
): Promise<Supervisor<C>> {
  const initial = opts.initialDelayMs ?? 500
  const max = opts.maxDelayMs ?? 10_000
  const resetAfter = opts.resetAfterMs ?? 30_000
  const now = opts.now ?? Date.now
  const abort = new AbortController()
  let child = await opts.start(abort.signal)
  let startedAt = now()
  let delay = 0
  let restarts = 0
  let wake = () => {}
  const stopRequested = new Promise<void>((resolve) =>
    abort.signal.addEventListener('abort', () => resolve()),
  )

  /** Waits `ms` unless stop() comes first; true when it is time to give up. */
  const pause = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (abort.signal.aborted) return resolve(true)
      const timer = setTimeout(() => resolve(abort.signal.aborted), ms)
      wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
    })

  async function watch(): Promise<void> {
    for (;;) {
      const status = await Promise.race([child.ended, stopRequested.then(() => null)])
      if (status === null || abort.signal.aborted) return
      await child.stop().catch(() => {}) // its group may hold ports or shared memory the next one needs
      const upMs = now() - startedAt
      delay = delay === 0 || upMs >= resetAfter ? initial : Math.min(delay * 2, max)
      opts.log(`${opts.name} exited (${describeExit(status)}); restarting in ${secs(delay)}`)
      for (;;) {
        if (await pause(delay)) return
        try {
          child = await opts.start(abort.signal)
        } catch (err) {
          if (abort.signal.aborted) return
          delay = Math.min(delay * 2, max)
          opts.log(`${opts.name} failed to start (${(err as Error).message}); retrying in ${secs(delay)}`)
          continue
        }
        // stop() came while it was starting: stop() stops this new child too (it is `current`).
        if (abort.signal.aborted) return
        startedAt = now()
        restarts++
        opts.log(`${opts.name} restarted (pid ${child.pid})`)
        opts.onRestart?.(child)
        break
      }
    }
  }

  const watching = watch()
  let stopping: Promise<void> | undefined
  return {
    get current() {
      return child
    },
    get restarts() {
      return restarts
    },
    stop: () => {
      stopping ??= (async () => {
        abort.abort()
        wake()
        await watching
        await child.stop()
      })()
      return stopping
    },
  }
}
