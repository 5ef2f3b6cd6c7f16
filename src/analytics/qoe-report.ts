/**
 * @module analytics/qoe-report — one `qoe` frame from one socket → a sample fit to aggregate, or
 * a refusal. Nothing a browser says is believed as is (any page's script can open our socket):
 *
 * - at most one report per MIN_INTERVAL_MS per socket (faster ones are refused, RATE_LIMITED);
 * - played + stalled time cannot exceed the wall time since this socket's previous accepted
 *   report (or its opening), plus slack for timer jitter: larger claims are scaled down to it;
 * - stall and error counts are bounded by that same budget;
 * - one startup time per socket per broadcast; startup and latency clamped to [0, 120 s].
 *
 * So one socket adds at most real time to watch figures and one sample per report to the
 * latency histogram, whatever it sends.
 */
import type { QoeErrorType, QoeFrame } from '../chat/protocol.js'
import { clampMs } from './qoe-histogram.js'

export const MIN_INTERVAL_MS = 2000
/** Timer jitter, a report sent on pagehide right after another, clocks that tick unevenly. */
const SLACK_MS = 2000
const SLACK_FACTOR = 1.25
const MAX_COUNT_PER_REPORT = 1000

export type QoeSocketState = {
  /** When the last report was accepted (the socket's opening before the first). */
  lastAt: number
  /** Whether any report was accepted yet (the first is never "too soon"). */
  reported: boolean
  /** The broadcast this socket's startup time was counted for (null: none yet; '': no broadcast known). */
  startupFor: string | null
}

export function newQoeState(openedAt: number): QoeSocketState {
  return { lastAt: openedAt, reported: false, startupFor: null }
}

export type QoeSample = {
  startupMs: number | null
  latencyMs: number | null
  playedMs: number
  stalledMs: number
  stalls: number
  /** `<type>.fatal` / `<type>.nonfatal` → count */
  errors: Partial<Record<`${QoeErrorType}.${'fatal' | 'nonfatal'}`, number>>
}

export type Admitted = { ok: true; sample: QoeSample } | { ok: false; retryAfterMs: number }

/**
 * Admits a report from the socket whose state is `st` (mutated on acceptance), received at `now`
 * while the channel's broadcast is `session` (null when none is known).
 */
export function admitReport(st: QoeSocketState, f: QoeFrame, now: number, session: string | null): Admitted {
  const since = now - st.lastAt
  if (st.reported && since < MIN_INTERVAL_MS) return { ok: false, retryAfterMs: MIN_INTERVAL_MS - since }
  const budget = Math.max(0, since) * SLACK_FACTOR + SLACK_MS
  let played = f.playedMs
  let stalled = f.stalledMs
  const claimed = played + stalled
  if (claimed > budget) {
    const scale = budget / claimed
    played *= scale
    stalled *= scale
  }
  const maxCount = Math.min(MAX_COUNT_PER_REPORT, 1 + Math.floor(budget / 250))
  const errors: QoeSample['errors'] = {}
  let errorsLeft = maxCount
  for (const e of f.errors ?? []) {
    const n = Math.min(e.count, errorsLeft)
    if (n <= 0) break
    errorsLeft -= n
    const key = `${e.type}.${e.fatal ? 'fatal' : 'nonfatal'}` as const
    errors[key] = (errors[key] ?? 0) + n
  }
  const sessionKey = session ?? ''
  const startup = f.startupMs !== undefined && st.startupFor !== sessionKey ? clampMs(f.startupMs) : null
  if (startup !== null) st.startupFor = sessionKey
  st.lastAt = now
  st.reported = true
  return {
    ok: true,
    sample: {
      startupMs: startup,
      latencyMs: f.latencyMs === undefined ? null : clampMs(f.latencyMs),
      playedMs: Math.round(played),
      stalledMs: Math.round(stalled),
      stalls: Math.min(f.stalls, maxCount),
      errors,
    },
  }
}
