/** @module live/sweeper — periodically ends sessions whose deadline passed (reconnect window over, or nginx silent). */
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'
import type { LiveRegistry } from './registry.js'

export function startSweeper(live: LiveRegistry, log: Logger, intervalMs = 1000) {
  // every(): never overlaps runs on a slow Redis.
  return every(intervalMs, () => live.sweep(), {
    onError: (err) => log.warn({ err: errText(err) }, 'sweep failed'),
  })
}
