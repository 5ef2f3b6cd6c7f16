/**
 * QoE reports over the real chat socket, summed in memory and flushed to the real Postgres:
 * refusals are error frames on a socket that stays open, and two instances' sums for the same
 * channel and minute merge into one row that qoeSummary reads back.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { createUser } from '../../test/factories.js'
import { manualClock } from '../../test/harness.js'
import { channels, qoeMinutes } from '../db/schema/index.js'
import { MAX_MS, total } from './qoe-histogram.js'
import { MIN_INTERVAL_MS } from './qoe-report.js'
import { qoeSummary } from './qoe-summary.js'

// Mid-minute, so the reports below all land in one minute bucket.
const clock = manualClock(Math.floor(Date.now() / 60_000) * 60_000 + 5_000)
let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance
let b: Instance

beforeAll(async () => {
  // Flushes are driven by the test (flush()); the timer is set far out of the way.
  env = await startInstances(2, { now: clock.now, env: { QOE_FLUSH_INTERVAL_S: '60' } })
  a = env.instances[0]!
  b = env.instances[1]!
})
afterAll(() => env.close())

async function channel() {
  const owner = await createUser(a.deps)
  const [ch] = await a.deps.db.select().from(channels).where(eq(channels.name, owner.username))
  return ch!
}

describe('qoe frames on the chat socket', () => {
  it('answers malformed, oversized and too frequent reports with error frames and keeps the socket', async () => {
    const ch = await channel()
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(ch.name))) // anonymous: viewers report too
      const bad = [
        { type: 'qoe', playedMs: -1 },
        { type: 'qoe', startupMs: 'soon' },
        { type: 'qoe', errors: Array.from({ length: 50 }, () => ({ type: 'x', fatal: true, count: 1 })) },
        { type: 'qoe', playedMs: 1000, pad: 'x'.repeat(4000) },
      ]
      for (const f of bad) expect(await s.request(f)).toMatchObject({ type: 'error', code: 'VALIDATION' })
      expect(await s.request({ type: 'qoe', playedMs: 1000 })).toMatchObject({ type: 'ack' })
      const tooSoon = await s.request({ type: 'qoe', playedMs: 1000 })
      expect(tooSoon).toMatchObject({ type: 'error', code: 'RATE_LIMITED' })
      expect(tooSoon.retryAfterMs).toBeGreaterThan(0)
      expect(tooSoon.retryAfterMs).toBeLessThanOrEqual(MIN_INTERVAL_MS)
      expect(await s.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    })
  })

  it('sums reports from two instances into one row per channel and minute; qoeSummary reads it back', async () => {
    const ch = await channel()
    const before = a.deps.chat.qoe.pending
    await withSockets(async (track) => {
      const s1 = track(await TestSocket.join(a.url(ch.name)))
      const s2 = track(await TestSocket.join(b.url(ch.name)))
      clock.advance(10_000)
      const r1 = { type: 'qoe', startupMs: 1500, playedMs: 8000, stalledMs: 500, stalls: 1, latencyMs: 4000 }
      const r2 = {
        type: 'qoe',
        startupMs: 86_000_000, // absurd: clamped to 120 s, one sample among three
        playedMs: 86_000_000, // absurd: scaled down to the time the socket has been open
        latencyMs: 6000,
        errors: [{ type: 'networkError', fatal: false, count: 2 }],
      }
      expect(await s1.request(r1)).toMatchObject({ type: 'ack' })
      expect(await s2.request(r2)).toMatchObject({ type: 'ack' })
      clock.advance(10_000)
      // A second startup from the same socket is not a second playback: ignored.
      const r3 = {
        type: 'qoe',
        startupMs: 99_000,
        playedMs: 9000,
        stalledMs: 1000,
        stalls: 2,
        latencyMs: 5000,
      }
      expect(await s1.request(r3)).toMatchObject({ type: 'ack' })
      expect(await b.deps.chat.qoe.flush()).toBe(1)
      expect(a.deps.chat.qoe.pending).toBe(before + 1)
      expect(await a.deps.chat.qoe.flush()).toBeGreaterThanOrEqual(1)
    })
    const rows = await a.deps.db.select().from(qoeMinutes).where(eq(qoeMinutes.channelId, ch.id))
    expect(rows).toHaveLength(1) // the second instance's flush merged into the first's row
    const row = rows[0]!
    expect(row.sessionId).toBeNull() // nothing live on this channel
    expect(row.reports).toBe(3)
    expect(total(row.startupHist)).toBe(2)
    expect(total(row.latencyHist)).toBe(3)
    expect(row.stalls).toBe(3)
    expect(row.stalledMs).toBe(1500)
    // 8 s + 9 s honestly, plus at most the 10 s s2 had been open (×1.25 + 2 s slack).
    expect(row.playedMs).toBeGreaterThan(17_000)
    expect(row.playedMs).toBeLessThanOrEqual(17_000 + 14_500)
    expect(row.errors).toEqual({ 'networkError.nonfatal': 2 })

    const from = new Date(clock.now() - 3600_000)
    const to = new Date(clock.now() + 60_000)
    const q = await qoeSummary(a.deps.db, ch.id, from, to)
    // Median of {1500, 120000} (nearest rank, lower) is 1500; of {4000, 5000, 6000} it is 5000.
    expect(q.startupMsP50! / 1500).toBeGreaterThan(0.956)
    expect(q.startupMsP50! / 1500).toBeLessThan(1.045)
    expect(q.latencyMsP50! / 5000).toBeGreaterThan(0.956)
    expect(q.latencyMsP50! / 5000).toBeLessThan(1.045)
    expect(q.rebufferRatio).toBeCloseTo(1500 / (row.playedMs + 1500), 4)
    expect(q.startupMsP50).toBeLessThan(MAX_MS)
    // Nothing outside the range, nothing for another channel.
    expect(await qoeSummary(a.deps.db, ch.id, to, new Date(to.getTime() + 60_000))).toEqual({
      startupMsP50: null,
      rebufferRatio: null,
      latencyMsP50: null,
    })
  })
})
