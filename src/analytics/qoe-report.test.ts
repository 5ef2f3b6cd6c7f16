import { describe, expect, it } from 'vitest'
import { QoeFrame } from '../chat/protocol.js'
import { MAX_MS } from './qoe-histogram.js'
import { admitReport, MIN_INTERVAL_MS, newQoeState } from './qoe-report.js'

const frame = (f: Record<string, unknown>) => QoeFrame.parse({ type: 'qoe', ...f })
const T0 = 1_000_000

describe('admitReport', () => {
  it('passes an honest report through unchanged', () => {
    const st = newQoeState(T0)
    const r = admitReport(
      st,
      frame({ startupMs: 1800, playedMs: 9000, stalledMs: 400, stalls: 1, latencyMs: 4200 }),
      T0 + 10_000,
      'sess',
    )
    expect(r).toEqual({
      ok: true,
      sample: { startupMs: 1800, latencyMs: 4200, playedMs: 9000, stalledMs: 400, stalls: 1, errors: {} },
    })
  })

  it('scales played + stalled time down to the wall time since the last report (plus slack)', () => {
    const st = newQoeState(T0)
    const r = admitReport(st, frame({ playedMs: 80_000_000, stalledMs: 20_000_000 }), T0 + 10_000, 's')
    if (!r.ok) throw new Error('refused')
    // 10 s × 1.25 + 2 s slack = 14.5 s of budget, split in the claimed 4:1 proportion.
    expect(r.sample.playedMs + r.sample.stalledMs).toBeLessThanOrEqual(14_500)
    expect(r.sample.playedMs).toBe(11_600)
    expect(r.sample.stalledMs).toBe(2_900)
  })

  it('clamps startup and latency to 120 s and counts one startup per socket per broadcast', () => {
    const st = newQoeState(T0)
    const a = admitReport(st, frame({ startupMs: 50_000_000, latencyMs: 86_000_000 }), T0 + 5000, 's1')
    expect(a).toMatchObject({ ok: true, sample: { startupMs: MAX_MS, latencyMs: MAX_MS } })
    const again = admitReport(st, frame({ startupMs: 900 }), T0 + 10_000, 's1')
    expect(again).toMatchObject({ ok: true, sample: { startupMs: null } })
    // The stream went offline and live again: a new broadcast, a new playback, a new startup.
    const next = admitReport(st, frame({ startupMs: 900 }), T0 + 15_000, 's2')
    expect(next).toMatchObject({ ok: true, sample: { startupMs: 900 } })
  })

  it('refuses reports closer together than the minimum interval, with the time to wait', () => {
    const st = newQoeState(T0)
    expect(admitReport(st, frame({}), T0 + 100, 's').ok).toBe(true) // the first is never too soon
    expect(admitReport(st, frame({ playedMs: 500 }), T0 + 600, 's')).toEqual({
      ok: false,
      retryAfterMs: MIN_INTERVAL_MS - 500,
    })
    expect(admitReport(st, frame({}), T0 + 100 + MIN_INTERVAL_MS, 's').ok).toBe(true)
  })

  it('bounds stall and error counts by the elapsed time', () => {
    const st = newQoeState(T0)
    const r = admitReport(
      st,
      frame({
        stalls: 86_400,
        errors: [
          { type: 'networkError', fatal: false, count: 86_400 },
          { type: 'mediaError', fatal: true, count: 5 },
          { type: 'made-up', fatal: true, count: 1 },
        ],
      }),
      T0 + 2000,
      's',
    )
    if (!r.ok) throw new Error('refused')
    // 2 s → 4.5 s of budget → at most 1 + 18 events in this report.
    expect(r.sample.stalls).toBe(19)
    expect(r.sample.errors).toEqual({ 'networkError.nonfatal': 19 })
    const later = admitReport(
      st,
      frame({ errors: [{ type: 'made-up', fatal: true, count: 2 }] }),
      T0 + 12_000,
      's',
    )
    expect(later).toMatchObject({ ok: true, sample: { errors: { 'otherError.fatal': 2 } } })
  })
})
