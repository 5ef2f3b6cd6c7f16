/** @module live/sweeper — periodically ends sessions whose deadline passed (reconnect window over, or nginx silent). */
import type { Logger } from '../log.js'
import type { LiveRegistry } from './registry.js'

export function startSweeper(live: LiveRegistry, log: Logger, intervalMs = 1000) {
  let running = false
  const timer = setInterval(async () => {
    if (running) return // never overlap runs on a slow Redis
    running = true
    try {
      await live.sweep()
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'sweep failed')
    } finally {
      running = false
    }
  }, intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
