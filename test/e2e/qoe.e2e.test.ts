/**
 * Quality of experience from the real player: ffmpeg publishes through nginx-rtmp, an anonymous
 * viewer plays the channel in Chromium through nginx's public origin, and the page's hls.js
 * reports over the chat socket. The figures land in Postgres (qoe_minutes) against the live
 * broadcast, and qoeSummary — the analytics API's `qoe` — shows a startup time and a latency for
 * the channel. Freezing the publisher makes the player stall for real: the rebuffering shows up.
 *
 * The Analytics view then shows it beside the audience figures counted from nginx's HLS log.
 */
import { eq } from 'drizzle-orm'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb } from '../../scripts/build-web.js'
import { qoeSummary } from '../../src/analytics/qoe-summary.js'
import { channels, qoeMinutes } from '../../src/db/schema/index.js'
import { PASSWORD } from '../factories.js'
import { launchBrowser, screenshot, seriousProblems, type TestBrowser } from '../support/browser.js'
import { type PublisherHandle, waitFor } from '../support/ffmpeg.js'
import { liveBroadcast } from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
const browsers: TestBrowser[] = []
const publishers: PublisherHandle[] = []
let live: Awaited<ReturnType<typeof liveBroadcast>>
let channelId: string
let viewer: TestBrowser
const since = new Date(Date.now() - 120_000)

beforeAll(async () => {
  await buildWeb()
  // Flush every second so the test waits for reports, not for the flush timer.
  // analytics: nginx's HLS log reaches the app, so the Analytics view has audience figures too.
  stack = await startStack({ analytics: true, env: { QOE_FLUSH_INTERVAL_S: '1', ANALYTICS_FLUSH_S: '1' } })
  live = await liveBroadcast(stack)
  publishers.push(live.pub)
  const [ch] = await stack.deps.db.select().from(channels).where(eq(channels.name, live.channel))
  channelId = ch!.id
}, 120_000)

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.stop()))
  await Promise.all(browsers.map((b) => b.close()))
  await stack?.stop()
})

async function browser(): Promise<TestBrowser> {
  const b = await launchBrowser()
  browsers.push(b)
  return b
}

function currentTime(page: Page): Promise<number> {
  return page.$eval('#video', (v: HTMLVideoElement) => v.currentTime)
}

const summary = () => qoeSummary(stack.deps.db, channelId, since, new Date(Date.now() + 120_000))

describe('QoE from the watch page', () => {
  it('an anonymous viewer in Chromium reports startup time and latency for the live broadcast', async () => {
    viewer = await browser()
    const page = viewer.page
    await page.goto(`${stack.http}/c/${live.channel}`)
    await page.waitForSelector('#watch[data-state="live"]')
    await page.waitForFunction(
      () => (document.querySelector('#video') as HTMLVideoElement).currentTime > 1,
      null,
      {
        timeout: 30_000,
      },
    )
    const q = await waitFor(
      async () => {
        const s = await summary()
        // The first report goes at the first frame; played time follows with the next ones.
        return s.startupMsP50 !== null && s.latencyMsP50 !== null && s.rebufferRatio !== null ? s : null
      },
      { timeoutMs: 45_000, intervalMs: 500, what: 'startup, latency and rebuffering in qoeSummary' },
    )
    // Page open → first frame, and distance to the live edge, as the real player measured them.
    expect(q.startupMsP50).toBeGreaterThan(0)
    expect(q.startupMsP50).toBeLessThan(60_000)
    // nginx-rtmp writes 1 s fragments; hls.js starts 2 fragments behind the edge.
    expect(q.latencyMsP50).toBeGreaterThan(500)
    expect(q.latencyMsP50).toBeLessThan(30_000)
    expect(q.rebufferRatio).toBeGreaterThanOrEqual(0)

    // Attributed to the broadcast that is live, and one row per minute, not one per report.
    const entry = await stack.deps.live.get(live.channel)
    const rows = await stack.deps.db.select().from(qoeMinutes).where(eq(qoeMinutes.channelId, channelId))
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.every((r) => r.sessionId === entry!.sessionId)).toBe(true)
    expect(rows.length).toBeLessThanOrEqual(new Set(rows.map((r) => r.minute.getTime())).size)

    // The owner's sessions list carries the same figures per broadcast.
    const res = await fetch(`${stack.http}/api/v1/channels/${live.channel}/sessions`, { headers: live.auth })
    expect(res.status).toBe(200)
    const [row] = (await res.json()) as { id: string; qoe: { startupMsP50: number | null } | null }[]
    expect(row!.id).toBe(entry!.sessionId)
    expect(row!.qoe?.startupMsP50).toBeGreaterThan(0)
    expect(seriousProblems(viewer.problems)).toEqual([])
  })

  it('a publisher that freezes makes the player stall, and the rebuffering is reported', async () => {
    const page = viewer.page
    const sum = async () =>
      (await stack.deps.db.select().from(qoeMinutes).where(eq(qoeMinutes.channelId, channelId))).reduce(
        (n, r) => n + r.stalledMs,
        0,
      )
    const before = await sum()
    // SIGSTOP: the TCP connection stays open but no media comes; the playlist stops growing and
    // the player runs out of buffer (a real rebuffer, not a pause).
    live.pub.kill('SIGSTOP')
    try {
      await page.waitForFunction(
        () => (document.querySelector('#video') as HTMLVideoElement).readyState < 3,
        null,
        { timeout: 20_000 },
      )
    } finally {
      live.pub.kill('SIGCONT')
    }
    const t = await currentTime(page)
    await page.waitForFunction(
      (t0) => (document.querySelector('#video') as HTMLVideoElement).currentTime > t0 + 1,
      t,
      { timeout: 30_000 },
    )
    const after = await waitFor(async () => ((await sum()) > before ? await sum() : null), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'stalled time reported after the freeze',
    })
    expect(after).toBeGreaterThan(before)
    const rows = await stack.deps.db.select().from(qoeMinutes).where(eq(qoeMinutes.channelId, channelId))
    expect(rows.reduce((n, r) => n + r.stalls, 0)).toBeGreaterThan(0)
    const q = await summary()
    expect(q.rebufferRatio).toBeGreaterThan(0)
    expect(q.rebufferRatio).toBeLessThan(1)
  })

  it('the broadcaster sees the Analytics view: charts, QoE figures and the tables behind them', async () => {
    // Our page identifies its viewer with the lv_vid cookie, so nginx's log counts it as `page`.
    await waitFor(
      async () => {
        const res = await fetch(`${stack.http}/api/v1/channels/${live.channel}/analytics?bucket=minute`, {
          headers: live.auth,
        })
        const body = (await res.json()) as { sources?: { page: number } }
        return res.status === 200 && (body.sources?.page ?? 0) >= 1
      },
      { timeoutMs: 30_000, what: 'the Chromium viewer counted as our page' },
    )
    const studio = await browser()
    const page = studio.page
    await page.goto(`${stack.http}/login?next=%2Fdashboard%2Fanalytics`)
    await page.fill('#f-email', `${live.channel}@example.test`)
    await page.fill('#f-password', PASSWORD)
    await page.click('#login-form button[type="submit"]')
    await page.waitForURL(`${stack.http}/dashboard/analytics`)
    await page.waitForSelector('#analytics[data-ready="true"]')
    expect(await page.isVisible('#an-notice')).toBe(false)
    // Both charts drew (uPlot renders into a canvas) and say what they show.
    expect(await page.locator('#concurrent-chart canvas').count()).toBe(1)
    expect(await page.locator('#watchtime-chart canvas').count()).toBe(1)
    expect(await page.getAttribute('#concurrent-chart', 'aria-label')).toMatch(/peak [1-9]/)
    // The viewer from the tests above: a startup time and a latency, from our player.
    expect(await page.textContent('#q-startup')).toMatch(/\d/)
    expect(await page.textContent('#q-latency')).toMatch(/\d/)
    expect(Number(await page.textContent('#t-views'))).toBeGreaterThan(0)
    // Where they watched: the Chromium viewer was on our page.
    expect(await page.textContent('#t-page')).toMatch(/^[1-9][\d.]* %$/)
    // The accessible fallback: the same numbers as tables.
    await page.click('#concurrent summary')
    expect(await page.locator('#concurrent-table tbody tr').count()).toBeGreaterThan(0)
    expect(await page.locator('#watchtime-table tbody tr').count()).toBeGreaterThan(0)
    expect(await page.locator('#broadcasts-table tbody tr').count()).toBeGreaterThan(0)
    // Tall enough for the whole view (fullPage would paint the sticky top bar mid-page).
    await page.setViewportSize({ width: 1280, height: 1800 })
    await page.evaluate(() => window.scrollTo(0, 0))
    await screenshot(page, 'analytics')
    expect(seriousProblems(studio.problems)).toEqual([])
  })
})
