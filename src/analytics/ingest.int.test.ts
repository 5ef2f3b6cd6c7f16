/**
 * The ingestion path against the real Redis and Postgres, driven with log lines and a manual
 * clock: the 5-minute view rule, UTC bucket boundaries, salt rotation at UTC midnight, bounded
 * rows, what a crash loses (the unflushed interval only), and the API over the result.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'
import { analyticsBuckets, channels } from '../db/schema/index.js'
import type { Analytics } from '../web/client/analytics-data.js'
import { type AnalyticsIngest, startAnalyticsIngest } from './ingest.js'
import { formatHlsLine } from './log-line.js'

const START = Date.parse('2026-03-28T23:50:00.000Z')
const clock = manualClock(START)
let t: TestApp

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const ingestFor = (overrides: Partial<{ ANALYTICS_FLUSH_S: number }> = {}) =>
  startAnalyticsIngest(
    {
      ...t.deps,
      config: { ...t.deps.config, ANALYTICS_FLUSH_S: 30, ANALYTICS_ACTIVE_S: 10, ...overrides },
    },
    { listen: false },
  )

/** One segment request of `who` (address + UA) at `at`, for the segment starting at `at` rounded to the second. */
function hit(
  a: AnalyticsIngest,
  channel: string,
  who: { addr: string; ua: string; cookie?: string },
  at: number,
) {
  const seg = Math.floor(at / 1000) * 1000
  a.ingest(
    formatHlsLine({
      at,
      addr: who.addr,
      status: 200,
      bytes: 50_000,
      uri: `/hls/${channel}/${seg}.ts`,
      cookie: who.cookie ?? null,
      userAgent: who.ua,
    }),
  )
}

/** `who` watches `seconds` of the channel from `from`, one segment a second, flushing as it goes. */
async function watch(
  a: AnalyticsIngest,
  channel: string,
  who: Parameters<typeof hit>[2],
  from: number,
  seconds: number,
) {
  for (let s = 0; s < seconds; s++) {
    clock.set(from + s * 1000)
    hit(a, channel, who, from + s * 1000)
    if (s % 10 === 9) await a.flush()
  }
  await a.flush()
}

async function rows(channelId: string) {
  return t.deps.db.select().from(analyticsBuckets).where(eq(analyticsBuckets.channelId, channelId))
}

async function analytics(channel: string, auth: Record<string, string>, q: string) {
  const res = await t.app.request(`/api/v1/channels/${channel}/analytics?${q}`, { headers: auth })
  expect(res.status).toBe(200)
  return (await res.json()) as Analytics
}

describe('analytics ingestion', () => {
  it('counts views by the 5-minute rule, watch time, peaks and uniques, into UTC buckets', async () => {
    const owner = await loggedIn(t.deps)
    const ch = owner.user.username
    const a = await ingestFor()
    const vlc = { addr: '198.51.100.1', ua: 'VLC/3.0' }
    const tv = { addr: '198.51.100.2', ua: 'SmartTV' }
    // 23:50: both watch 20 s together.
    await Promise.all([watch(a, ch, vlc, START, 20), watch(a, ch, tv, START, 20)])
    // vlc comes back 4 min later: the same view; tv after 6 min away: a new view.
    await watch(a, ch, vlc, START + 20_000 + 240_000, 10)
    await watch(a, ch, tv, START + 20_000 + 360_000, 10)
    await a.stop()

    const day = await analytics(
      ch,
      owner.auth,
      'from=2026-03-28T00:00:00Z&to=2026-03-29T00:00:00Z&bucket=day',
    )
    expect(day.totals).toEqual({
      views: 3,
      uniqueViewers: 2,
      watchTimeS: 60,
      avgViewDurationS: 20,
      peakConcurrent: 2,
    })
    expect(day.series).toEqual([
      {
        t: '2026-03-28T00:00:00.000Z',
        views: 3,
        watchTimeS: 60,
        avgConcurrent: expect.any(Number),
        peakConcurrent: 2,
      },
    ])
    expect(day.qoe).toEqual({ startupMsP50: null, rebufferRatio: null, latencyMsP50: null })
    // Minute buckets: views where each view started, watch time where it was delivered.
    const min = await analytics(
      ch,
      owner.auth,
      'from=2026-03-28T23:50:00Z&to=2026-03-28T23:57:00Z&bucket=minute',
    )
    expect(min.series.map((p) => [p.t.slice(11, 16), p.views, p.watchTimeS])).toEqual([
      ['23:50', 2, 40],
      ['23:51', 0, 0],
      ['23:52', 0, 0],
      ['23:53', 0, 0],
      ['23:54', 0, 10],
      ['23:55', 0, 0],
      ['23:56', 1, 10],
    ])
  })

  it('puts a view at 23:59:59.999 and one at 00:00:00.000 UTC on different days, and rotates the salt there', async () => {
    const owner = await loggedIn(t.deps)
    const ch = owner.user.username
    const a = await ingestFor()
    const same = { addr: '198.51.100.9', ua: 'ffplay' }
    const midnight = Date.parse('2026-03-29T00:00:00.000Z')
    clock.set(midnight - 1)
    hit(a, ch, same, midnight - 1)
    await a.flush()
    // The same address and user agent after midnight: a new day's salt, so a new viewer id.
    clock.set(midnight)
    hit(a, ch, same, midnight)
    await a.stop()
    const salts = await Promise.all(
      ['2026-03-28', '2026-03-29'].map((d) => t.deps.redis.get(t.deps.keys.analyticsSalt(d))),
    )
    expect(salts[0]).toBeTruthy()
    expect(salts[0]).not.toBe(salts[1])

    const q = 'from=2026-03-28T00:00:00Z&to=2026-03-30T00:00:00Z&bucket=day'
    const r = await analytics(ch, owner.auth, q)
    expect(r.series.map((p) => [p.t, p.views])).toEqual([
      ['2026-03-28T00:00:00.000Z', 1],
      ['2026-03-29T00:00:00.000Z', 1],
    ])
    // Unlinkable across days by design: one person, two ids.
    expect(r.totals.uniqueViewers).toBe(2)
    const hours = await analytics(
      ch,
      owner.auth,
      'from=2026-03-28T23:00:00Z&to=2026-03-29T01:00:00Z&bucket=hour',
    )
    expect(hours.series.map((p) => p.views)).toEqual([1, 1])
  })

  it('writes rows per channel and bucket, not per viewer or request', async () => {
    const at = Date.parse('2026-03-29T10:00:00Z')
    // Access tokens are checked against the same clock: sign in at the time of the test.
    clock.set(at)
    const owner = await loggedIn(t.deps)
    const ch = owner.user.username
    const a = await ingestFor()
    for (let v = 0; v < 500; v++)
      for (let s = 0; s < 5; s++)
        hit(a, ch, { addr: `10.0.${v >> 8}.${v & 255}`, ua: 'x' }, at + s * 1000 + v)
    await a.stop()
    const [row] = await t.deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, ch))
    const written = await rows(row!.id)
    // minute + hour + day: three rows for 2,500 requests of 500 viewers.
    expect(written).toHaveLength(3)
    expect(written.find((r) => r.granularity === 'minute')).toMatchObject({ views: 500, watchMs: 2_500_000 })
    const r = await analytics(ch, owner.auth, 'from=2026-03-29T10:00:00Z&to=2026-03-29T11:00:00Z&bucket=hour')
    // HyperLogLog: Redis's standard error is 0.81 %.
    expect(Math.abs(r.totals.uniqueViewers - 500)).toBeLessThanOrEqual(10)
    expect(r.totals.peakConcurrent).toBe(500)
  })

  it('loses on a crash only what was counted since the last flush', async () => {
    const at = Date.parse('2026-03-29T12:00:00Z')
    clock.set(at)
    const owner = await loggedIn(t.deps)
    const ch = owner.user.username
    const viewer = { addr: '198.51.100.20', ua: 'VLC' }
    const first = await ingestFor()
    await watch(first, ch, viewer, at, 10) // flushed
    for (let s = 10; s < 15; s++) hit(first, ch, viewer, at + s * 1000) // not flushed
    // A crash: the instance is gone without its final flush (no stop()).
    const second = await ingestFor()
    await watch(second, ch, viewer, at + 20_000, 10)
    await second.stop()
    const r = await analytics(
      ch,
      owner.auth,
      'from=2026-03-29T12:00:00Z&to=2026-03-29T12:01:00Z&bucket=minute',
    )
    // 5 s lost (the unflushed interval), and the returning viewer is still the same view.
    expect(r.totals).toMatchObject({ views: 1, watchTimeS: 20, uniqueViewers: 1 })
  })

  it('serves owners and admins only, and refuses bad ranges with 400', async () => {
    clock.set(Date.parse('2026-03-29T13:00:00Z'))
    const owner = await loggedIn(t.deps)
    const other = await loggedIn(t.deps)
    const admin = await loggedIn(t.deps, { role: 'admin' })
    const path = `/api/v1/channels/${owner.user.username}/analytics`
    expect((await t.app.request(path)).status).toBe(401)
    expect((await t.app.request(path, { headers: other.auth })).status).toBe(403)
    expect((await t.app.request(path, { headers: admin.auth })).status).toBe(200)
    expect(
      (await t.app.request('/api/v1/channels/nobody_here/analytics', { headers: admin.auth })).status,
    ).toBe(404)
    for (const q of [
      'bucket=week',
      'from=yesterday',
      'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z',
      'from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=minute',
    ]) {
      const res = await t.app.request(`${path}?${q}`, { headers: owner.auth })
      expect(res.status, q).toBe(400)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
      expect(((await res.json()) as { code: string }).code).toBe('BAD_REQUEST')
    }
    const site = await t.app.request(
      '/api/v1/admin/analytics?from=2026-03-28T00:00:00Z&to=2026-03-30T00:00:00Z',
      {
        headers: admin.auth,
      },
    )
    expect(site.status).toBe(200)
    const body = (await site.json()) as { totals: { views: number; uniqueViewers: number } }
    expect(body.totals.views).toBeGreaterThanOrEqual(1)
    expect(body.totals.uniqueViewers).toBeGreaterThanOrEqual(1)
    expect((await t.app.request('/api/v1/admin/analytics', { headers: owner.auth })).status).toBe(403)
  })
})
