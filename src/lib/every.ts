/** @module lib/every — a periodic job that never overlaps itself, logs its failures and can be stopped. */

export type Every = {
  stop(): void
  /** Runs the job now; if a run is in progress, once more right after it. */
  now(): Promise<void>
}

/**
 * Runs `fn` every `ms` (and once at once with `immediate`). A run still in progress when the next
 * tick comes is not doubled: slow Redis or Postgres must not pile up concurrent sweeps.
 */
export function every(
  ms: number,
  fn: () => unknown,
  opts: { onError?: (err: unknown) => void; immediate?: boolean } = {},
): Every {
  let running: Promise<void> | null = null
  let again = false
  let stopped = false
  const tick = (): Promise<void> => {
    if (running) return running
    const run = (async () => {
      try {
        await fn()
      } catch (err) {
        opts.onError?.(err)
      }
    })()
    // Cleared in a callback that runs after this assignment, even when fn returned synchronously.
    running = run.finally(() => {
      running = null
      // A wake-up that arrived mid-run may be about work this run did not see.
      if (again && !stopped) {
        again = false
        void tick()
      }
    })
    return running
  }
  const timer = ms > 0 ? setInterval(tick, ms) : undefined
  timer?.unref()
  if (opts.immediate) void tick()
  return {
    stop: () => {
      stopped = true
      clearInterval(timer)
    },
    now: () => {
      if (running) again = true
      return tick()
    },
  }
}
