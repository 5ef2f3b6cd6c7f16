/**
 * Watch analytics end to end: real nginx edge (HLS segment lines over syslog/UDP to the app), a
 * real ffmpeg publisher and several HLS players from distinct loopback addresses. The API must
 * show the right unique viewers, watch time within 10 % of what the players received, and peak
 * concurrency; an app restart (clean, then a crash) keeps what was flushed and the view rule.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Analytics } from '../../src/web/client/analytics-data.js'
import { waitFor } from '../support/ffmpeg.js'
import { hlsViewer } from '../support/hls-viewer.js'
import { liveBroadcast } from '../support/live-helpers.js'
import { sample } from '../support/prom.js'
import { type Stack, startStack } from '../support/stack.js'

async function analytics(stack: Stack, channel: string, auth: Record<string, string>) {
  const from = new Date(Date.now() - 3_600_000).toISOString()
  const to = new Date(Date.now() + 120_000).toISOString()
  const res = await fetch(
    `${stack.http}/api/v1/channels/${channel}/analytics?from=${from}&to=${to}&bucket=minute`,
    {
      headers: auth,
    },
  )
  if (res.status !== 200) throw new Error(`analytics: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as Analytics
}

const within10 = (got: number, want: number) => Math.abs(got - want) <= want * 0.1

describe('watch analytics through nginx', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ analytics: true, childApps: true, env: { ANALYTICS_FLUSH_S: '10' } })
  }, 60_000)
  afterAll(() => stack?.stop())

  it('counts every player: unique viewers, watch time, peak concurrency, sessions; a restart keeps them', async () => {
    const b = await liveBroadcast(stack)
    try {
      // Five viewers: three addresses, two user agents on one address (a household), one our page.
      const players = [
        hlsViewer(stack.http, b.channel, { addr: '127.0.1.1', userAgent: 'VLC/3.0.20 LibVLC/3.0.20' }),
        hlsViewer(stack.http, b.channel, { addr: '127.0.1.2', userAgent: 'Lavf/59.27.100' }),
        hlsViewer(stack.http, b.channel, { addr: '127.0.1.3', userAgent: 'SmartTV/1.0' }),
        hlsViewer(stack.http, b.channel, { addr: '127.0.1.3', userAgent: 'Kodi/20.2' }),
        hlsViewer(stack.http, b.channel, {
          addr: '127.0.1.5',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126',
          cookie: 'page-viewer-0123456789',
        }),
      ]
      await Promise.all(players.map((p) => p.watch(5)))
      const received = () => players.reduce((s, p) => s + p.receivedS, 0)
      const first = await waitFor(
        async () => {
          const a = await analytics(stack, b.channel, b.auth)
          return a.totals.views === 5 && within10(a.totals.watchTimeS, received()) ? a : null
        },
        { timeoutMs: 30_000, what: 'the first 25 segments in the API' },
      )
      expect(first.totals.uniqueViewers).toBe(5)
      expect(first.sources).toEqual({ page: 1, other: 4 })
      expect(first.totals.peakConcurrent).toBe(5)
      expect(first.series.reduce((s, p) => s + p.views, 0)).toBe(5)
      // The same audience in Prometheus terms, from the instance that receives nginx's log: five
      // viewers while they watch, and every segment counted.
      const watching = Promise.all(players.map((p) => p.watch(4)))
      const scrape = async () => (await fetch(`http://127.0.0.1:${stack.apps[0]!.port}/metrics`)).text()
      await waitFor(async () => sample(await scrape(), 'live_hls_viewers') === 5, {
        what: 'live_hls_viewers 5',
      })
      await watching
      expect(sample(await scrape(), 'live_hls_segments_total')).toBeGreaterThanOrEqual(25)

      // A clean restart: the stop flushes what it counted.
      await Promise.all(players.map((p) => p.watch(2)))
      await stack.apps[0]!.kill('SIGTERM')
      await stack.apps[0]!.start()
      await waitFor(
        async () => within10((await analytics(stack, b.channel, b.auth)).totals.watchTimeS, received()),
        { timeoutMs: 30_000, what: 'everything counted before the clean stop' },
      )
      // A crash: whatever was counted since the last flush may be lost, nothing flushed before.
      await Promise.all(players.map((p) => p.watch(2)))
      const beforeCrash = received()
      await stack.apps[0]!.kill('SIGKILL')
      await stack.apps[0]!.start()
      await Promise.all(players.map((p) => p.watch(3)))

      const after = await waitFor(
        async () => {
          const a = await analytics(stack, b.channel, b.auth)
          // At least: everything up to the crash minus one flush interval's worth (2 s × 5 players).
          return a.totals.watchTimeS >= (beforeCrash - 10) * 0.9 + (received() - beforeCrash) * 0.9 ? a : null
        },
        { timeoutMs: 30_000, what: 'the counts after the restarts' },
      )
      expect(after.totals.watchTimeS).toBeLessThanOrEqual(received() * 1.1)
      // Back within 5 minutes, across both restarts: still the same five views and viewers.
      expect(after.totals.views).toBe(5)
      expect(after.totals.uniqueViewers).toBe(5)

      const sessions = (await (
        await fetch(`${stack.http}/api/v1/channels/${b.channel}/sessions`, { headers: b.auth })
      ).json()) as { uniqueViewers: number; watchTimeS: number }[]
      expect(sessions[0]!.uniqueViewers).toBe(5)
      expect(sessions[0]!.watchTimeS).toBeGreaterThan(0)
      expect(sessions[0]!.watchTimeS).toBeLessThanOrEqual(received() * 1.1)
    } finally {
      await b.pub.stop()
    }
  }, 180_000)

  it('counts members-only playback through signed /hls/t/<grant>/ URLs too', async () => {
    const b = await liveBroadcast(stack)
    try {
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${stack.http}${path}`, {
          ...init,
          headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...b.auth },
        })
      const patch = await api(`/api/v1/channels/${b.channel}`, {
        method: 'PATCH',
        body: JSON.stringify({ visibility: 'private' }),
      })
      expect(patch.status).toBe(200)
      const grant = (await (
        await api(`/api/v1/channels/${b.channel}/playback-tokens`, { method: 'POST' })
      ).json()) as {
        token: string
      }
      const base = `${stack.http}/hls/t/${grant.token}/${b.channel}`
      const players = ['127.0.2.1', '127.0.2.2'].map((addr) =>
        hlsViewer(stack.http, b.channel, { addr, userAgent: 'VLC/3.0.20' }, base),
      )
      await Promise.all(players.map((p) => p.watch(3)))
      const received = players.reduce((s, p) => s + p.receivedS, 0)
      const a = await waitFor(
        async () => {
          const r = await analytics(stack, b.channel, b.auth)
          return r.totals.views === 2 && within10(r.totals.watchTimeS, received) ? r : null
        },
        { timeoutMs: 30_000, what: 'signed playback in the API' },
      )
      expect(a.totals.uniqueViewers).toBe(2)
    } finally {
      await b.pub.stop()
    }
  }, 120_000)
})
